// Package cli is bosun's command line: it parses flags, loads the watch configs and templates
// (failing before it touches the cluster when any of them is bad), builds the clients and the
// logger, and runs the watcher until a stop signal.
//
// Besides run it holds the operator's tools: render and check (offline: templates and example
// owners), diff (server-side dry-run against a cluster), rbac (the least-privilege RBAC of a set
// of watches), uninstall (lets every owner of a set of watches go, so that bosun can leave a
// cluster), get and explain (the owners' state as bosun left it in the cluster: get.go,
// explain.go), import (helm-operator and Lostromos configs to watch files: import*.go) and
// version. Workload clusters come from the hub's Secrets and ClusterProfiles through
// internal/clusters (clusters.go builds their clients; clusters_flags.go, the flags). They reuse what run uses — config.Load, renderer.New, applier.Plan,
// applier.Diff, and for uninstall applier.DeleteAll, LetGoAll and ReleaseOwner — so that what
// they show and do is what bosun does; offline, applier.Plan gets a RESTMapper built from the
// kinds it is asked about (offline.go).
//
// Execute is the entry point of main: it maps errors to exit codes (1, or 2 for diff as for
// kubectl diff, whose 1 means "differences") and adds a usage hint to mistakes in flags and
// arguments. Commands write to the command's streams, never to os.Stdout, so tests run them
// in-process.
package cli
