// Package config loads and validates bosun's watch configs: one YAML file per
// watched resource type, describing which objects to watch and which templates
// render their children.
//
// Rules:
//   - This is the only package besides main that touches viper, and it uses a
//     fresh viper instance per file, never the global one.
//   - Decoding is strict: unknown keys (also nested ones) and wrongly typed
//     values are errors. A file reports all of its problems at once, one per
//     line, each prefixed with the file path, so a user fixes a file in one
//     round trip.
//   - viper lower-cases keys, so the case-sensitive .Values map is kept out of
//     viper's key space and decoded from the raw bytes with sigs.k8s.io/yaml.
//   - Keys outside values are case-insensitive, as viper makes them; unknown
//     keys are reported lower-cased.
//   - Template and example paths are resolved against the config file's
//     directory and must exist at load time; parsing them is the renderer's
//     business, rendering the examples `bosun check`'s.
//   - No cluster I/O: whether the kind exists is only known once bosun talks to
//     the API server.
//   - Settings are spelled as below in messages even though viper lower-cases
//     them, except unknown keys, which only exist lower-cased.
//
// A config file, with the defaults of its optional settings:
//
//	name: sites                   # default: the file name without extension
//	watch: {group: example.bosun.dev, version: v1, kind: Site}  # group "" for core kinds
//	namespaces: []                # namespaces watched; default all
//	selector: ""                  # label selector of the owners watched
//	templates: [site/]            # files and directories, relative to this file
//	chart: charts/site            # or: a Helm chart (directory or .tgz); exactly one of the two
//	charts: {next: site-2.tgz}    # charts an owner may pick with the bosun.dev/chart annotation
//	valuesFrom: spec              # spec: .Values = the owner's spec | resource: .Values.resource
//	overrideValues: {}            # charts: forced over the owner's values, keys case-sensitive
//	crds: install                 # charts: install (crds/ applied once at start) | skip
//	examples: []                  # files of sample owners for `bosun check`, relative to this file
//	values: {}                    # .Values of the templates, keys case-sensitive
//	workers: 32                   # 1..256
//	resync: 10m                   # 0 (off) or at least 30s
//	children:                     # what an owner may ask bosun to create
//	  namespaces: []              # besides the owner's own; ["*"] alone = any
//	  clusterScoped: false        # allow cluster-scoped children
//	  kinds: []                   # Kind.group, or Kind for core kinds; empty = any
//	  adopt: false                # take over objects without bosun's labels
//	  adoptHelmReleases: false    # take over the objects of the owner's Helm release
//	  recreateOnImmutable: false  # delete and re-create on immutable-field errors
//	  ignore:                     # fields left to other managers, one rule per kind
//	    - kind: Deployment.apps   # required
//	      paths: [spec.replicas]  # map keys separated by dots, at least one
//	  max: 2000                   # objects one owner may render, hooks included; 1..50000
//	status:
//	  enabled: auto               # auto (if the kind has a status subresource) | true | false
//	  ready: healthy              # healthy (applied and healthy by kstatus rules) | applied
//	safety:                       # limits of one prune or orphan sweep
//	  maxDeletes: 100             # children deleted; 0 = no limit
//	  maxDeletePercent: 50        # percent of the watch's children, 1..100; 100 = no limit
//	  maxKindRemovalPercent: 10   # percent of the owners having a kind that may lose it; 100 = no limit
//	rollout:                      # pacing of a new template version
//	  maxInFlight: 100            # owners on a new template version not yet Ready; 0 = 100
//	  maxFailures: 5              # failed owners before the rollout pauses; >= 1
//	renderTimeout: 10s            # 100ms..5m
//	lookup:                       # a chart's lookup outside the owner's namespace
//	  kinds: []                   # only these kinds (as children.kinds); empty = all but Secret
//	clusters:                     # where the children go (default: the cluster bosun runs against)
//	  default: local              # the cluster of owners naming none: local, or a workload cluster
//	  selector: ""                # or: every workload cluster with these labels (fan-out)
//	  field: ""                   # owner field naming its cluster(s), e.g. spec.cluster
//	  allowed: []                 # name patterns owners may name, e.g. ["eu-*"] (with field and none: any)
//	  allowedSelector: ""         # or: clusters by label owners may name
//	  unreachableTimeout: 10m     # deleting/moving: wait for a cluster that does not answer
//
// The children settings are a tenant boundary: whoever may create an owner
// gets bosun's privileges for whatever the templates render from it, so by
// default children stay in the owner's namespace, are namespaced, and never
// replace objects bosun did not create. Kinds are validated as written, not
// against the cluster: a "Kind.version.group" or a lower-case kind is an error
// because it would never match. Ignore paths address map keys only (list
// items have no stable path), cannot hold keys with dots, and may not cover
// apiVersion, kind, metadata.name, metadata.namespace, metadata.labels or
// metadata.ownerReferences, which bosun needs to identify and own a child.
package config
