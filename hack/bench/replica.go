package main

import (
	"fmt"
	"maps"
	"sync"
	"syscall"
	"time"
)

// replica is one place of bosun in a session: the process running there now, and what the
// processes that ran there before cost. With -replicas 1 there is one, and its figures are
// the one bosun process's as before; with more, each runs with --sharding.
type replica struct {
	name    string // r0, r1, ...
	logPath string
	logs    *logStats

	mu   sync.Mutex
	proc *bosunProc // nil while none runs
	smp  *sampler
	// leaving is set while the harness stops or kills the process: its exit is no failure.
	leaving bool
	procs   int     // processes started here
	pastCPU float64 // CPU of the processes that exited
	// pastCounters are the counters of the processes that exited, as scraped right before
	// they were stopped, so that a phase in which one is replaced still adds up.
	pastCounters map[string]float64
	// peakKiB is the highest RSS seen: the phases' VmHWM, the samples, and VmHWM right before
	// each stop. The kernel's ru_maxrss cannot serve: for a child started with vfork it
	// includes the parent's RSS at exec time.
	peakKiB int64
	// phasePeakKiB is the VmHWM of the processes that exited in the current phase.
	phasePeakKiB int64
	rss          []rssPoint
}

func newReplica(name, logPath string) *replica {
	return &replica{name: name, logPath: logPath, logs: newLogStats(), pastCounters: map[string]float64{}}
}

// start runs a new bosun process here.
func (r *replica) start(s *session) error {
	var extra []string
	if len(s.reps) > 1 {
		extra = shardArgs()
	}
	if len(s.wls) > 0 {
		extra = append(extra, clusterArgs()...)
	}
	p, err := s.b.bin.start(s.e.bosunKubeconfig(), s.b.bosunConfig, r.logPath, extra, r.logs)
	if err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	smp := &sampler{}
	go smp.run(p, s.begin)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.proc, r.smp = p, smp
	r.procs++
	return nil
}

// running is the process running here, if any.
func (r *replica) running() *bosunProc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc
}

// stop ends the running process, with SIGTERM (waiting up to a minute, then killing) or with
// SIGKILL, and keeps its usage. It returns how long the exit took.
func (r *replica) stop(sig syscall.Signal) (time.Duration, error) {
	r.mu.Lock()
	p := r.proc
	if p == nil {
		r.mu.Unlock()
		return 0, nil
	}
	r.leaving = true
	if cur, err := readProc(p.pid); err == nil {
		r.peakKiB = max(r.peakKiB, cur.HWMKiB)
		r.phasePeakKiB = max(r.phasePeakKiB, cur.HWMKiB)
	}
	r.mu.Unlock()
	last := counters(p.scrape())
	var d time.Duration
	var err error
	if sig == syscall.SIGKILL {
		d, err = p.kill()
	} else {
		d, err = p.stop(time.Minute)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pastCPU += p.usage.CPUSeconds
	for k, v := range last {
		r.pastCounters[k] += v
	}
	r.smp.mu.Lock()
	r.peakKiB = max(r.peakKiB, r.smp.maxRSS)
	r.phasePeakKiB = max(r.phasePeakKiB, r.smp.maxRSS)
	r.rss = append(r.rss, r.smp.samples...)
	r.smp.mu.Unlock()
	r.proc, r.smp, r.leaving = nil, nil, false
	return d, err
}

// exitedOnItsOwn is the process here that exited without the harness stopping it.
func (r *replica) exitedOnItsOwn() *bosunProc {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil && !r.leaving && r.proc.exited() {
		return r.proc
	}
	return nil
}

// replicaMark is a replica's state at the start of a phase.
type replicaMark struct {
	proc     procSample // of the process running then; zero if none
	cpu      float64    // CPU of every process here so far
	counters map[string]float64
}

// mark resets the running process's peak RSS, so the phase reports its own.
func (r *replica) mark() replicaMark {
	r.mu.Lock()
	r.phasePeakKiB = 0
	p, smp := r.proc, r.smp
	m := replicaMark{cpu: r.pastCPU, counters: maps.Clone(r.pastCounters)}
	r.mu.Unlock()
	if p != nil {
		_ = resetPeak(p.pid)
		m.proc, _ = readProc(p.pid)
		m.cpu += m.proc.CPUSeconds
		smp.takeMaxAnon(m.proc)
		for k, v := range counters(p.scrape()) {
			m.counters[k] += v
		}
	}
	return m
}

// measure is what the replica did since m: its figures for the phase, and the counters of
// its metrics that moved (nil when no process runs here, or it serves no metrics).
func (r *replica) measure(m replicaMark) (*ReplicaPhase, map[string]float64) {
	rp := &ReplicaPhase{Name: r.name}
	r.mu.Lock()
	p, smp, cpu, peak := r.proc, r.smp, r.pastCPU, r.phasePeakKiB
	past := maps.Clone(r.pastCounters)
	r.mu.Unlock()
	var moved map[string]float64
	if p != nil && !p.exited() {
		cur, _ := readProc(p.pid)
		cpu += cur.CPUSeconds
		peak = max(peak, cur.HWMKiB)
		rp.RSSStartMiB, rp.RSSEndMiB = mib(m.proc.RSSKiB), mib(cur.RSSKiB)
		rp.FileRSSMiB = mib(cur.FileKiB)
		rp.PeakAnonMiB = mib(smp.takeMaxAnon(cur))
		rp.Running = true
		if samples := p.scrape(); samples != nil {
			after := past
			for k, v := range counters(samples) {
				after[k] += v
			}
			moved = diffCounters(m.counters, after)
			rp.Owners = int(sumOf(samples, "bosun_owners"))
			rp.Slots = int(sumOf(samples, "bosun_shard_slots"))
			rp.Members = int(sumOf(samples, "bosun_shard_members"))
		}
		r.mu.Lock()
		r.peakKiB = max(r.peakKiB, cur.HWMKiB)
		r.mu.Unlock()
	}
	rp.CPUSeconds = round(cpu-m.cpu, 2)
	rp.PeakRSSMiB = mib(peak)
	rp.Holds, _ = r.logs.slots()
	return rp, moved
}

// ReplicaPhase is one replica's part in a phase, with -replicas > 1.
type ReplicaPhase struct {
	Name        string  `json:"name"`
	CPUSeconds  float64 `json:"cpuSeconds"`
	PeakRSSMiB  float64 `json:"peakRSSMiB"`
	RSSStartMiB float64 `json:"rssStartMiB,omitempty"`
	RSSEndMiB   float64 `json:"rssEndMiB,omitempty"`
	PeakAnonMiB float64 `json:"peakAnonMiB,omitempty"`
	FileRSSMiB  float64 `json:"fileRSSMiB,omitempty"`
	// Running: a process ran here at the end of the phase. Its share then: Owners in its
	// caches (bosun_owners over the watches), Slots it worked on (bosun_shard_slots) and
	// Members it saw live (bosun_shard_members), from its metrics; Holds from its log.
	Running bool   `json:"running"`
	Owners  int    `json:"owners"`
	Slots   int    `json:"slots"`
	Members int    `json:"members,omitempty"`
	Holds   string `json:"holds,omitempty"`
}

// ReplicaTotals is what one replica cost over the whole session, with -replicas > 1.
type ReplicaTotals struct {
	Name       string  `json:"name"`
	Processes  int     `json:"processes"` // started here: restarts and replacements add one each
	CPUSeconds float64 `json:"cpuSeconds"`
	PeakRSSMiB float64 `json:"peakRSSMiB"`
	// Owners, Slots and Holds are its share at the end, before the harness stopped it.
	Owners    int        `json:"owners"`
	Slots     int        `json:"slots"`
	Holds     string     `json:"holds,omitempty"`
	SlotMoves int        `json:"slotMoves"` // "slots acquired" and "slots released" lines
	ExitError string     `json:"exitError,omitempty"`
	RSS       []rssPoint `json:"rss,omitempty"` // every 5 s
}

// kill sends SIGKILL and waits for the exit.
func (p *bosunProc) kill() (time.Duration, error) {
	begin := time.Now()
	if p.exited() {
		return 0, fmt.Errorf("bosun had already exited: %v", p.err)
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return time.Since(begin), nil
}
