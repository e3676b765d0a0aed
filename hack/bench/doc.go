// Command bench measures bosun against the ceiling of the API server it runs on (issue 5).
//
//	go run ./hack/bench [-n 1000,5000,10000] [-runs 1] [-namespaces 10] [-fsync=true] [-replicas 1]
//	                    [-replica-cpus 0] [-clusters 1] [-workload site|light] [-config examples/site/watch.yaml] [-profile]
//	                    [-out hack/bench/results/<date>-<cores>c-<mem>g.json]
//	                    [-phases raw,cold,idle,restart,takeover,handoff,update,latency,latency-rollout,delete,create]
//	go run ./hack/bench -n 3000 -workload light -clusters 3   (children in workload clusters: below)
//	go run ./hack/bench -soak 10m -n 5000 -workload light    (the fault soak: soak.go)
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
// Workloads (-workload): site (the default, examples/site/watch.yaml) gives every Site a
// ConfigMap, a Deployment and a Service, so bosun's Ready waits for kube-controller-manager and
// kwok to roll the Deployment out; light (examples/site-light/watch.yaml) gives it a ConfigMap
// and a Service, which are ready once applied, so Ready times bosun alone. -workload picks the
// default -config; an explicit -config wins. The children every owner has come from rendering
// a sample Site, and every wait follows them: without a Deployment nothing waits for one
// (raw→Current is then T_raw), nor for ReplicaSets and pods.
//
// Results: a table on stdout, a JSON file, and hack/bench/results/README.md regenerated from
// every JSON file in the results directory.
//
// -runs R measures every N R times in a row, each exactly as a single run: two fresh control
// planes, a new bosun (logs and -keep state per run: raw-1000-run2, bosun-1000-run2.log). The
// JSON's runs then hold R entries per N (settings.runsPerN is R), and the summary keeps a row
// per run and adds a table with, per N, the median of each key figure over its runs and their
// range, "1.03x (0.98–1.10)": the ideal controller's time and CPU per owner, cold's
// readySeconds, vsIdeal, CPU per owner and lastChildToReady p99, peak RSS, delete and its
// vsIdealDelete, and the latency phase's p50 and p99. Each figure's median is taken on its own
// over the runs that have it ("2 of 3 runs" when a phase failed in one), a ratio's over the
// runs' ratios, so a row's medians may come from different runs. One run is noisy on a shared
// machine (T_raw varied from 41 to 68 s at N = 1,000); three show how much.
//
// -profile runs bosun with --profiling (net/http/pprof on its metrics address) and records,
// for each of bosun's phases, pprof files beside the JSON file (-n<N>-run<R>- with -runs > 1):
//
//	<out without .json>-n<N>-<phase>.cpu.pb.gz       CPU over the phase: 5 s chunks of
//	                                                 /debug/pprof/profile, merged
//	<out without .json>-n<N>-<phase>-heap.pb.gz      /debug/pprof/heap at the phase's end
//	<out without .json>-n<N>-<phase>-peakheap.pb.gz  the heap at the phase's highest RSS sample
//
// e.g. results/2026-07-01-4c-8g-n1000-cold.cpu.pb.gz, read with `go tool pprof FILE`. A phase
// lists its files in the JSON (phases[].profiles) and the summary names them. The recording
// runs from the phase's start (its mark: cold's and restart's include bosun's start, once its
// metrics server listens) to its end; the last CPU chunk runs on past the end by up to 5 s, which
// the harness waits out after measuring the phase, before the next starts. The peak heap is
// taken whenever an RSS sample (once a second) is 5 MiB or 5% above the last one taken, and the
// last one kept. With -replicas > 1 every replica's CPU and end heap are merged into one file;
// the peak heap is the largest replica's. A profile that cannot be fetched is logged and left
// out; the phase goes on. The profiler runs at Go's default 100 Hz, so the cost to bosun's
// figures is small, but CPU and memory with -profile are not quite those without.
//
// Phases (-phases, comma-separated) always run in the order below, whatever the order given;
// bosun's phases always start with cold convergence. No phase runs with more than N owners, so
// a peak RSS at N is bosun's at N owners:
//
//	raw              the ceiling T_raw and T_children, the raw child deletes, raw→Current, then
//	                 the ideal controller and the ideal deletion (below)
//	cold             N Sites exist, bosun starts: until every Site is Ready for its generation;
//	                 readySeconds, lastChildToReady and CPU per owner (below)
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
//	delete           the harness deletes every Site, 32 DELETEs in flight: until their children
//	                 and the Sites are gone; vsIdealDelete (below)
//	create           N new Sites while bosun runs with no owners left: until all are Ready. If
//	                 Sites are left (delete not selected) they are deleted first, unmeasured;
//	                 it starts once the garbage collector removed the deleted Deployments'
//	                 ReplicaSets and pods (the ceiling was measured on a quiet cluster too).
//
// The ideal controller (raw, JSON raw.ideal*) is what a finalizer controller that knew
// everything without reading would take: on the raw phase's cluster, once the phased writes are
// done and the garbage collector is quiet, N new Sites; per owner, 32 owners in flight (bosun's
// default workers), the owner patch (finalizer and inventory, the raw phase's body), each child
// apply, then the Ready status apply, one after the other (bosun sends the site workload's
// Service and Deployment at once, one wave). It runs as a process of its own (the bench binary
// started again), through the proxy as bosun does; idealSeconds runs from its first write until
// every owner's status is written, idealCPUSeconds is that process's getrusage over the same
// interval (idealCPUMsPerOwner per owner), and with Deployments idealCurrentSeconds is when
// every Deployment was Current. Then the ideal deletion: the harness sends the owner DELETEs,
// 32 in flight, straight to the API server as in the delete phase, and as each is answered the
// controller (32 owners at once) deletes the owner's children (UID precondition, background
// propagation, all of them at once as bosun does) and then removes the finalizer with
// applier.ReleaseOwner's JSON patch; idealDeleteSeconds runs from the first DELETE until the
// tracker saw every owner and child gone, as the delete phase is timed.
//
// Compared with it: cold's readySeconds, bosun's settled converge, runs from bosun's start
// until the tracker's watch delivered the last Site's Ready for its generation (the phase's
// seconds also wait for the children's contents, and its poll, so they end a little later);
// vsIdeal is readySeconds over idealSeconds — with Deployments over idealCurrentSeconds when
// that is later, since no owner is truthfully Ready before its Deployment — and cpuMsPerOwner is bosun's CPU in cold per
// owner, next to idealCPUMsPerOwner. Both include what each needs to start (bosun's cache sync;
// the ideal's TLS handshake). lastChildToReady (cold, create) is, per owner, from the watch
// event of its last child write to the watch event of its Ready: a ConfigMap or Service changes
// only when bosun applies it, so any of their events is a write; a Deployment's counts on
// creation or a new generation, not kube-controller-manager's status updates. Both times are
// stamped on receipt by the tracker, on different watches, so an owner whose Ready arrived
// first counts as 0 (readyFirst). With the site workload it includes the Deployment's rollout;
// with light it is bosun's own delay. vsIdealDelete is the delete phase's seconds over
// idealDeleteSeconds.
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
//
// -replica-cpus C runs every bosun process with GOMAXPROCS=C, as a pod's CPU limit of C cores
// sets it. With a watch whose reconciles are CPU-bound — hack/bench/testdata/cpu-chart renders
// a chart that costs ~45 ms of CPU per owner — and -replica-cpus 1, -replicas 1, 2 and 3 show
// the cold converge time falling as replicas are added.
//
// -clusters K > 1 measures bosun applying the children into workload clusters (clusters.go):
// the hub runs as above and holds the Sites; K workload clusters (localcluster.WorkloadOptions:
// etcd with -fsync's setting, kube-apiserver, kube-controller-manager with the namespace and
// garbage-collector controllers, no pods) start beside it, each with the bench's namespaces,
// and are registered in the hub as cluster Secrets workload-1 ... workload-K in namespace
// bosun-clusters (label bosun.dev/secret-type: cluster, the kubeconfig under value). Site i of
// a batch names workload-<i mod K + 1> with the bosun.dev/cluster annotation, so every child
// goes to its owner's namespace name in one workload cluster. bosun runs with the watch config
// plus `clusters: {allowed: ["*"]}` (a derived file in the work dir, its paths made absolute;
// a config with a clusters section of its own is refused) and --clusters-namespace
// bosun-clusters. A counting proxy stands in front of each workload cluster too (the
// kubeconfig in its Secret points at the proxy), so every phase has bosun's requests to each
// (phases[].workloads) beside the hub's (requests), and idle and restart want 0 writes to
// each as to the hub. The tracker watches the children in every workload cluster and looks a
// Site's children up in the cluster it names: cold ends when every Site is Ready and its
// children exist there, delete when the Sites and their children in every cluster are gone.
// The workload needs children that are ready once applied (-workload light; a Deployment
// would never become Available without pods). raw and the ideal controller (the ceiling of
// one cluster), takeover and handoff (-replicas > 1 is refused with -clusters) and the latency
// phases do not run, and asking for them is an error; the default -phases is cold, idle,
// restart, update, delete, create. -clusters 1, the default, is the mode above, unchanged.
// The summary's first section sets every multi-cluster run beside the one-cluster run of the
// same N, workload and fsync closest in time: cold Ready and its seconds, bosun's CPU in cold
// and per owner, peak RSS, idle and restart writes to the hub and to each workload cluster,
// and delete.
package main
