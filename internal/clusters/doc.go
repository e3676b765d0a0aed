// Package clusters is the registry of workload clusters: the clusters, other than the hub bosun
// runs in, that owners' children may be applied to. It watches two kinds of hub objects and
// gives the rest of bosun, per cluster name, a rest.Config, the labels to select it by and a
// Revision that changes when its credentials do, calling Options.Changed when a cluster
// appears, changes or goes, so callers rebuild their clients without a restart.
//
// Sources:
//   - Secrets in Options.SecretNamespace that hold a kubeconfig under data key "value" or
//     "value.yaml" (Flux's spec.kubeConfig.secretRef shape, also what Cluster API writes), or
//     that are labelled bosun.dev/secret-type=cluster (then a missing or broken kubeconfig is
//     reported in Cluster.Err rather than the Secret ignored); "value" wins when both keys are
//     set. Its current-context is used.
//   - ClusterProfiles (multicluster.x-k8s.io/v1alpha1, KEP-4322), only when Options.ProviderFile
//     is set and discovery shows the API is served, asked once when Run starts. The provider
//     file (KEP-5339) maps the access provider names a profile offers in
//     status.accessProviders to exec credential plugins; the first provider of the file that
//     the profile offers is used, with the server and CA of the profile's entry.
//
// Rules:
//   - A Secret wins a name over a ClusterProfile; between profiles of one name (all
//     namespaces are read when ProfileNamespace is "") the older wins. The loser is reported
//     by Problems, never silently merged.
//   - "local" means the hub itself: a source named local is reported by Problems and never
//     becomes a cluster, so no Secret can redirect what templates send to the hub.
//   - A kubeconfig from a Secret may not name files: a relative path cannot resolve, and an
//     absolute one would read bosun's own files (its service account token) and send them to
//     the Secret's server. Exec plugins and auth-providers are refused unless
//     Options.AllowExec. The provider file's plugins are bosun's own configuration and run.
//   - Nothing runs and nothing is dialled while a source is read: exec plugins run when a
//     client built from Config makes its first request. So reading a source is cheap enough to
//     do in the informer callback, and a source is turned into a Cluster only there.
//   - An unusable source is a Cluster with Err set and no Config, not a missing one, so a
//     caller can tell "no such cluster" from "cluster misconfigured". Err names the source and
//     what to do, wraps one of the Err* sentinels, and never carries credential material:
//     decoder errors are redacted and summarised instead of wrapped (see redact).
//   - The package does not log; Problems is what a caller reports.
//
// cluster-inventory-api: v0.1.0 of sigs.k8s.io/cluster-inventory-api, the only version the
// module proxy here serves (v0.4.0, v0.3.0 and v0.2.0 are refused); it builds beside
// client-go v0.37.2 without moving any k8s.io module. Its apis/v1alpha1 types decode the
// profiles (read through the dynamic client, so no generated clientset is needed), and its
// pkg/access loads the provider file (JSON only in this version) and builds the rest.Config
// (access.BuildConfigFromCP). Three gaps of that version are covered here rather than by
// copying it: BuildConfigFromCP appends profile-sourced exec arguments to a provider config it
// shares between calls (each call gets a copy), it logs a klog warning for the deprecated
// status.credentialProviders (merged into accessProviders first, so it never sees them), and it
// drops tls-server-name (set afterwards). Revision covers only the access data and the
// provider file, not the status conditions that the cluster manager rewrites on every
// heartbeat. A changed provider file is read at the next start.
package clusters
