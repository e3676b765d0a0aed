// Package localcluster runs a local Kubernetes control plane from plain binaries: etcd and
// kube-apiserver, optionally kube-controller-manager, kube-scheduler and kwok with one fake
// Node, so Deployments get (fake) running pods without a container runtime. Tests use it
// through internal/testenv; humans through hack/local-cluster.
//
// Several clusters can run side by side, each in its own dir: a hub holding owners and
// workload clusters holding their children. WorkloadOptions is the light preset for the
// latter (etcd, kube-apiserver and a kube-controller-manager with only the namespace and
// garbage-collector controllers); a hub addresses a workload cluster through a cluster Secret
// (clustersecret.go) holding Cluster.Kubeconfig.
//
// Rules:
//   - The binaries are built by hack/build-tools.sh into a versioned cache directory. A missing
//     binary is an error that names it and the directory; nothing is downloaded and nothing is
//     silently skipped.
//   - Everything listens on 127.0.0.1 on ports picked free at start, so several clusters (one
//     per test package) can run side by side. kube-apiserver serves TLS only; clients use an
//     admin client certificate (O=system:masters) from a CA generated into Options.Dir.
//   - etcd runs with --unsafe-no-fsync unless Options.Fsync is set: the data is disposable and
//     fsync dominates etcd latency on laptops and CI disks. A crash of the machine can lose
//     recent writes; a crash of etcd alone does not.
//   - Every child runs in its own process group with its output in <Dir>/<name>.log, and is
//     killed by the kernel when the process that started it dies (Linux), so a killed test
//     leaves no servers behind. Stop sends SIGTERM, then SIGKILL after a grace period, because
//     kube-apiserver can hang in shutdown.
//   - Kubeconfigs carry their certificates inline, never file references, so the same bytes
//     work as a file and as a Secret's value; ApplyClusterSecret refuses ones that refer to
//     files.
//   - kube-apiserver keeps its port across StopAPIServer and StartAPIServer, so clients built
//     before a restart reconnect after it; it closes its watches on SIGTERM so a stop takes
//     about a second, not the SIGKILL grace period.
//   - The package does not log; progress lines go to Options.Log.
package localcluster
