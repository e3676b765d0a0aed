// Command bench measures bosun against the ceiling of the API server it runs on (issue 5).
//
//	go run ./hack/bench [-n 1000,5000,10000] [-namespaces 10] [-fsync=true]
//	                    [-out hack/bench/results/<date>-<cores>c-<mem>g.json]
//	                    [-phases raw,cold,idle,restart,create,latency,update,delete]
//
// For every N it starts two fresh local control planes (internal/localcluster: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok, so Deployments become
// Available), installs the Site CRD and spreads N Sites over the namespaces. On the first it
// runs a raw load generator that sends exactly the writes bosun's design needs for the same end
// state, with no reads (the ceiling T_raw); on the second it runs the bosun binary, built from
// this tree with -trimpath, as a subprocess and times cold convergence, bulk create, update
// and delete, counts the requests it sends while idle and after a restart, and measures the
// latency from an edit to its child. bosun's peak RSS and CPU come from /proc, its requests
// from a counting TLS proxy between it and the API server. A quick run: -n 200.
//
// Results: a table on stdout, a JSON file, and hack/bench/results/README.md regenerated from
// every JSON file in the results directory.
//
// Phases (-phases, comma-separated; bosun's phases always start with cold convergence):
//
//	raw      the ceiling T_raw and T_children, the raw 3·N child deletes, and raw→Current
//	cold     N Sites exist, bosun starts: until every Site is Ready for its generation
//	idle     converged owners, nothing changes: bosun's requests in -idle-window (want 0 writes)
//	restart  SIGTERM and start again: requests until the initial sync is done (want 0 writes)
//	create   N more Sites in other namespaces while bosun runs: until all are Ready
//	latency  -latency-rate edits/s for -latency-duration: edit response to ConfigMap on a watch
//	update   a new spec.message on the first N: until every ConfigMap shows it and all are Ready
//	delete   delete the first N: until their children and the Sites are gone
package main
