// Command bench measures bosun against the ceiling of the API server it runs on (issue 5).
//
//	go run ./hack/bench [-n 1000,5000,10000] [-namespaces 10] [-fsync=true] [-replicas 1]
//	                    [-out hack/bench/results/<date>-<cores>c-<mem>g.json]
//	                    [-phases raw,cold,idle,restart,takeover,handoff,update,latency,latency-rollout,delete,create]
//
// For every N it starts two fresh local control planes (internal/localcluster: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok, so Deployments become
// Available), installs the Site CRD and spreads N Sites over the namespaces. On the first it
// runs a raw load generator that sends exactly the writes bosun's design needs for the same end
// state, with no reads (the ceiling T_raw); on the second it runs the bosun binary, built from
// this tree as the image builds it (CGO_ENABLED=0, -trimpath, -ldflags "-s -w"), as a
// subprocess and times cold convergence, update, delete and bulk
// create, counts the requests it sends while idle and after a restart, and measures the
// latency from an edit to its child. bosun's peak RSS and CPU come from /proc, its requests
// from a counting TLS proxy between it and the API server. A quick run: -n 200.
//
// Results: a table on stdout, a JSON file, and hack/bench/results/README.md regenerated from
// every JSON file in the results directory.
//
// Phases (-phases, comma-separated) always run in the order below, whatever the order given;
// bosun's phases always start with cold convergence. No phase runs with more than N owners, so
// a peak RSS at N is bosun's at N owners:
//
//	raw              the ceiling T_raw and T_children, the raw 3·N child deletes, and raw→Current
//	cold             N Sites exist, bosun starts: until every Site is Ready for its generation
//	idle             converged owners, nothing changes: bosun's requests in -idle-window (want 0 writes)
//	restart          SIGTERM and start again: requests until the initial sync is done (want 0 writes)
//	takeover         (-replicas > 1) SIGKILL the last replica, edit spec.port of up to 50 owners in
//	                 its slots: until the others took its slots over and reconciled them (want at
//	                 most the lease duration + 5 s); then a new replica joins
//	handoff          (-replicas > 1) edit spec.port of every Site, spread over at least 20 s, and
//	                 SIGTERM the last replica after half of them: child writes per edit until every
//	                 edit landed (want at most 1.05); then a new replica joins
//	update           a new spec.message on every Site: until every ConfigMap shows it and all are Ready
//	                 (which waits for the Deployments' rollout)
//	latency          -latency-rate edits/s of spec.port for -latency-duration: edit response to the
//	                 Service showing the port on a watch. A port edit changes only the Service, no
//	                 rollout, so this times bosun; it is the headline latency.
//	latency-rollout  the same with spec.message, timed to the ConfigMap; every edit also rolls a
//	                 Deployment out (kube-controller-manager and kwok write ~20 times per rollout),
//	                 so at 20 edits/s the cluster itself saturates
//	delete           delete every Site: until their children and the Sites are gone
//	create           N new Sites while bosun runs with no owners left: until all are Ready. If
//	                 Sites are left (delete not selected) they are deleted first, unmeasured;
//	                 it starts once the garbage collector removed the deleted Deployments'
//	                 ReplicaSets and pods (the ceiling was measured on a quiet cluster too).
//
// update, the latency phases and delete act on the Sites that exist (the N of cold); the
// latency phases edit the first -latency-owners of them and, like update, wait for every Site
// to settle (Ready again) before the next phase.
//
// With -replicas R > 1 every phase runs R bosun processes with --sharding (Leases
// default/bosun-bench, bosun's default durations), each through the proxy. CPU is their sum,
// memory the largest one's, and each one's figures and owner share (bosun_owners from its
// metrics) are kept per phase. Lease writes (membership renewals, the shard map) are counted
// apart from the other writes, so "0 writes" on idle and restart stays about owners and
// children. restart stops all R and starts R again; since bosun's "initial sync done" does not
// cover slots acquired later, it waits until the group settled instead: every replica sees R
// members, the slots are split evenly, the caches hold every owner, the reconciles add up to
// the owners and nothing is queued. cold, too, waits for that once the owners converged
// (balancedSeconds, outside the phase's time). The default -phases adds takeover and handoff.
package main
