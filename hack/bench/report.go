package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Results is one invocation of the harness: what ran where, and the figures per N.
type Results struct {
	Out      string    `json:"-"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Command  string    `json:"command"`
	Note     string    `json:"note,omitempty"`
	Machine  Machine   `json:"machine"`
	Fsync    bool      `json:"fsync"`
	Proxy    bool      `json:"proxy"`
	Bosun    BuildInfo `json:"bosun"`
	Settings Settings  `json:"settings"`
	Runs     []Run     `json:"runs"`
}

// Machine is where the run happened.
type Machine struct {
	CPUs      int     `json:"cpus"`
	MemoryGiB float64 `json:"memoryGiB"`
	CPUModel  string  `json:"cpuModel"`
	Kernel    string  `json:"kernel"`
	Go        string  `json:"go"`
}

// BuildInfo says which bosun was measured and how it was run.
type BuildInfo struct {
	Commit      string `json:"commit"`
	Dirty       bool   `json:"dirty"`
	Config      string `json:"config"`
	Args        string `json:"args"`
	MetricsFlag string `json:"metricsFlag,omitempty"`
}

// Settings are the harness options that shape the figures.
type Settings struct {
	Namespaces      int     `json:"namespaces"`
	Phases          string  `json:"phases"`
	LatencyOwners   int     `json:"latencyOwners"`
	LatencyRate     float64 `json:"latencyRate"`
	LatencySeconds  float64 `json:"latencySeconds"`
	IdleSeconds     float64 `json:"idleSeconds"`
	RestartSeconds  float64 `json:"restartSeconds"`
	HarnessRequests int     `json:"harnessConcurrency"`
	// Order is the phases as they ran (allPhases' order). Files without it are from before
	// create moved after delete: their create ran with the N Sites of cold still there.
	Order string `json:"order,omitempty"`
	// Replicas is -replicas when more than one bosun ran (with --sharding, in ShardGroup);
	// files without it ran one.
	Replicas   int    `json:"replicas,omitempty"`
	ShardGroup string `json:"shardGroup,omitempty"` // namespace/id of the sharding Leases
	// LeaseSeconds is the sharding lease duration, the clock of a takeover.
	LeaseSeconds float64 `json:"leaseSeconds,omitempty"`
	// Workload is -workload (site or light) and Children the kinds a sample owner renders
	// ("ConfigMap,Deployment,Service"); files without them ran the site workload.
	Workload string `json:"workload,omitempty"`
	Children string `json:"children,omitempty"`
	// ReplicaCPUs is -replica-cpus: every bosun process's GOMAXPROCS, when set.
	ReplicaCPUs int `json:"replicaCPUs,omitempty"`
	// RunsPerN is -runs when more than 1: every N was measured that many times, each from
	// scratch, and Runs has an entry per time; files without it measured every N once.
	RunsPerN int `json:"runsPerN,omitempty"`
	// Profile: -profile, bosun ran with --profiling and its phases list their profiles.
	Profile bool `json:"profile,omitempty"`
	// Clusters is -clusters when more than 1: the children went to that many workload
	// clusters (workload-1, ...), registered in the hub's ClustersNamespace, the owners
	// spread over them round-robin; files without it kept the children in the hub.
	Clusters          int    `json:"clusters,omitempty"`
	ClustersNamespace string `json:"clustersNamespace,omitempty"`
}

// clusters is how many clusters the children went to: 1 (the hub) in files without it.
func (s Settings) clusters() int { return max(s.Clusters, 1) }

// replicas is how many bosun processes ran: 1 in files from before -replicas.
func (s Settings) replicas() int { return max(s.Replicas, 1) }

// Run is one N.
type Run struct {
	N          int            `json:"n"`
	Namespaces int            `json:"namespaces"`
	Started    time.Time      `json:"started"`
	Seconds    float64        `json:"seconds"`
	Raw        *RawResult     `json:"raw,omitempty"`
	Phases     []*PhaseResult `json:"phases,omitempty"`
	Bosun      *BosunTotals   `json:"bosun,omitempty"`
	Problems   []string       `json:"problems,omitempty"`
}

func (r *Run) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

func (r *Run) phase(name string) *PhaseResult {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// PhaseResult is one phase of bosun's run.
type PhaseResult struct {
	Name   string `json:"name"`
	Owners int    `json:"owners"` // owners the phase is about (edits, for latency)
	// Seconds until done: every owner Ready for its generation with its children (cold,
	// create, update), everything gone (delete), or the window (idle, restart).
	Seconds float64 `json:"seconds"`
	// ChildrenSeconds until every child existed (cold, create), every ConfigMap showed the
	// new message (update), or every child was gone (delete).
	ChildrenSeconds float64 `json:"childrenSeconds,omitempty"`
	// ReadySeconds (cold, create) is when, from the phase's start (cold: bosun's start), the
	// tracker received the last owner's Ready for its generation: bosun's settled converge.
	// LastChildToReady is, per owner, the time from the receipt of its last child write to
	// the receipt of its Ready (see ownerTimes). CPUMsPerOwner (cold) is CPUSeconds per owner.
	// VsIdeal (cold) is ReadySeconds over the raw phase's idealSeconds; VsIdealDelete
	// (delete) is Seconds over its idealDeleteSeconds.
	ReadySeconds     float64       `json:"readySeconds,omitempty"`
	LastChildToReady *ChildToReady `json:"lastChildToReady,omitempty"`
	CPUMsPerOwner    float64       `json:"cpuMsPerOwner,omitempty"`
	VsIdeal          float64       `json:"vsIdeal,omitempty"`
	VsIdealDelete    float64       `json:"vsIdealDelete,omitempty"`
	// ActionSeconds is how long the harness's own creates, edits or deletes took.
	ActionSeconds      float64 `json:"actionSeconds,omitempty"`
	StopSeconds        float64 `json:"stopSeconds,omitempty"`        // restart: SIGTERM to exit
	InitialSyncSeconds float64 `json:"initialSyncSeconds,omitempty"` // restart: start to "initial sync done"
	Failed             string  `json:"failed,omitempty"`
	FailedOwners       int     `json:"failedOwners,omitempty"` // owners bosun reported failed at the end
	Progress           string  `json:"progress,omitempty"`     // the state when it failed
	CPUSeconds         float64 `json:"cpuSeconds"`
	PeakRSSMiB         float64 `json:"peakRSSMiB"`
	RSSStartMiB        float64 `json:"rssStartMiB"`
	RSSEndMiB          float64 `json:"rssEndMiB"`
	// PeakAnonMiB is the highest anonymous RSS (heap, stacks) sampled once a second;
	// FileRSSMiB the resident pages of mapped files (the binary) at the end of the phase.
	PeakAnonMiB      float64            `json:"peakAnonMiB,omitempty"`
	FileRSSMiB       float64            `json:"fileRSSMiB,omitempty"`
	Requests         Requests           `json:"requests"`
	RequestsPerOwner float64            `json:"requestsPerOwner"` // reads + writes
	Changes          map[string]int64   `json:"objectEvents,omitempty"`
	ErrorLogs        int                `json:"errorLogs"`
	Metrics          map[string]float64 `json:"metrics,omitempty"` // bosun's counters that moved
	Latency          *LatencyResult     `json:"latency,omitempty"`
	Notes            []string           `json:"notes,omitempty"`
	// With -replicas > 1, CPUSeconds above is the sum over the replicas and the memory figures
	// (PeakRSSMiB, RSSStartMiB, RSSEndMiB, PeakAnonMiB, FileRSSMiB) are the largest replica's;
	// CPUMaxSeconds is the largest replica's CPU, PeakRSSSumMiB the sum of their peaks, and
	// Replicas has each one's figures.
	CPUMaxSeconds float64         `json:"cpuMaxSeconds,omitempty"`
	PeakRSSSumMiB float64         `json:"peakRSSSumMiB,omitempty"`
	Replicas      []*ReplicaPhase `json:"replicas,omitempty"`
	// BalancedSeconds (cold, restart; with -replicas > 1) is when, from the phase's start,
	// every replica saw all of them live, the slots were split evenly and their caches held
	// every owner. Shard is what takeover and handoff measured.
	BalancedSeconds float64      `json:"balancedSeconds,omitempty"`
	Shard           *ShardResult `json:"shard,omitempty"`
	// Profiles (-profile) are the names of the phase's pprof files in the directory of the
	// results file: CPU over the phase (.cpu.pb.gz), the heap at its end (-heap.pb.gz) and
	// at its highest RSS sample (-peakheap.pb.gz), those that could be fetched.
	Profiles []string `json:"profiles,omitempty"`
	// Workloads (-clusters > 1) are bosun's requests to each workload cluster, counted by a
	// proxy in front of each; Requests (and RequestsPerOwner) above are the hub's alone.
	Workloads []*ClusterRequests `json:"workloads,omitempty"`
}

// BosunTotals is what bosun cost over the whole session, from the kernel's accounting of
// every bosun process.
type BosunTotals struct {
	CPUSeconds      float64        `json:"cpuSeconds"`
	PeakRSSMiB      float64        `json:"peakRSSMiB"`
	ShutdownSeconds float64        `json:"shutdownSeconds"`
	ExitError       string         `json:"exitError,omitempty"`
	LogLevels       map[string]int `json:"logLevels"`
	Messages        []MessageCount `json:"messages,omitempty"` // warnings and errors, names folded
	NotJSON         []string       `json:"notJSON,omitempty"`  // output that was not a log line
	RSS             []rssPoint     `json:"rss,omitempty"`      // every 5 s
	// With -replicas > 1, CPUSeconds is the sum over every process, PeakRSSMiB the largest
	// process's peak, PeakRSSSumMiB the sum of the replicas' peaks, and Replicas each one's
	// (RSS is then per replica).
	PeakRSSSumMiB float64          `json:"peakRSSSumMiB,omitempty"`
	Replicas      []*ReplicaTotals `json:"replicas,omitempty"`
}

// MessageCount is one folded log message and how often it came.
type MessageCount struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

func newResults(o options, root string, bin *bosunBin, configPath string, sh shape) *Results {
	rel, _ := filepath.Rel(root, configPath)
	r := &Results{
		Started: time.Now(),
		Command: commandLine(os.Args[1:]),
		Note:    o.note,
		Machine: readMachine(),
		Fsync:   o.fsync,
		Proxy:   o.proxy,
		Bosun: BuildInfo{
			Commit: gitCommit(root), Dirty: gitDirty(root), Config: rel, MetricsFlag: bin.metricsFlag,
			Args: "run --config " + rel + " --kubeconfig KUBECONFIG --log-format json",
		},
		Settings: Settings{
			Namespaces: o.namespaces, Phases: strings.Join(o.phases, ","), Order: strings.Join(o.order(), ","),
			LatencyOwners: o.latencyOwners, LatencyRate: o.latencyRate, LatencySeconds: o.latencyDuration.Seconds(),
			IdleSeconds: o.idleWindow.Seconds(), RestartSeconds: o.restartWindow.Seconds(), HarnessRequests: setupConcurrency,
			Workload: o.workload, Children: strings.Join(sh.kinds, ","), ReplicaCPUs: o.replicaCPUs,
		},
	}

	if o.runs > 1 {
		r.Settings.RunsPerN = o.runs
	}
	if bin.profiling {
		r.Settings.Profile = true
		r.Bosun.Args += " --profiling"
	}
	if o.clusters > 1 {
		r.Bosun.Args = strings.Replace(r.Bosun.Args, " "+rel+" ", " "+rel+" (+ "+clusterConfigSection+") ", 1) + " " + strings.Join(clusterArgs(), " ")
		r.Settings.Clusters, r.Settings.ClustersNamespace = o.clusters, clustersNamespace
	}
	if o.replicas > 1 {
		r.Bosun.Args += " " + strings.Join(shardArgs(), " ")
		r.Settings.Replicas, r.Settings.ShardGroup, r.Settings.LeaseSeconds = o.replicas, shardNamespace+"/"+shardGroup, shardLease.Seconds()
	}
	return r
}

// commandLine is how the harness was run, quoting arguments with spaces.
func commandLine(args []string) string {
	parts := []string{"go run ./hack/bench"}
	for _, a := range args {
		if strings.ContainsAny(a, " \t'\"") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func readMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kib, _ := strconv.ParseFloat(f[1], 64)
				m.MemoryGiB = round(kib/1024/1024, 1)
			}
		}
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

func gitCommit(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// gitDirty reports uncommitted changes; --no-optional-locks keeps git status from touching
// the index.
func gitDirty(root string) bool {
	out, err := exec.Command("git", "--no-optional-locks", "-C", root, "status", "--porcelain", "--untracked-files=no").Output()
	return err == nil && len(strings.TrimSpace(string(out))) > 0
}

// resultsPath is -out, or hack/bench/results/<date>-<cores>c-<mem>g.json without overwriting
// an earlier run of the same day.
func resultsPath(out, root string, m Machine) (string, error) {
	if out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return "", err
		}
		return out, nil
	}
	dir := filepath.Join(root, "hack", "bench", "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base := fmt.Sprintf("%s-%dc-%.0fg", time.Now().Format("2006-01-02"), m.CPUs, m.MemoryGiB)
	path := filepath.Join(dir, base+".json")
	for i := 2; ; i++ {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return path, nil
		}
		path = filepath.Join(dir, fmt.Sprintf("%s-%d.json", base, i))
	}
}

func (r *Results) write() error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(r.Out, append(data, '\n'), 0o644)
}

func readResults(path string) (*Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &Results{}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.Out = path
	r.upgrade()
	return r, nil
}

// upgrade reads a results file from before the two latency variants in today's terms: its
// "latency" phase edited spec.message and timed the ConfigMap, which is latency-rollout now.
func (r *Results) upgrade() {
	for i := range r.Runs {
		run := &r.Runs[i]
		p := run.phase(phaseLatency)
		if p == nil || p.Latency == nil || p.Latency.Edit != "" || run.phase(phaseLatencyRollout) != nil {
			continue
		}
		p.Name = phaseLatencyRollout
		p.Latency.Edit, p.Latency.Child = "spec.message", "ConfigMap"
	}
}

// createAtTwoN tells whether create ran while the N Sites of cold still existed, as it did
// before the phase order put it after delete.
func (r *Results) createAtTwoN() bool {
	return r.Settings.Order == "" && slices.Contains(strings.Split(r.Settings.Phases, ","), phaseCreate)
}
