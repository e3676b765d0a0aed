package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// session is bosun running against one cluster through the phases of one N: one process,
// or -replicas processes with --sharding.
type session struct {
	b     *bench
	ctx   context.Context // the session's, for the profiler
	n     int
	name  string         // sizeName's: 1000, 1000-run2
	phase string         // the phase running
	prof  *phaseProfiler // -profile: the phase's, from its mark to its end
	e     *env
	wls   []*workload // -clusters > 1: the workload clusters the children go to
	tr    *tracker
	reps  []*replica
	begin time.Time
	// the last groupView and when it was scraped
	lastGroup groupView
	groupAt   time.Time
}

// bosunPhases runs bosun's phases on a fresh cluster, in the order of allPhases; name
// (sizeName's) names the cluster's directory and bosun's logs. Cold convergence always runs:
// the other phases need converged owners.
func (b *bench) bosunPhases(ctx context.Context, n int, name string, r *Run) {
	e, err := b.startEnv(ctx, "bosun-"+name)
	if err != nil {
		r.problem("bosun: %v", err)
		return
	}
	defer e.close()
	var wls []*workload
	if b.o.clusters > 1 {
		if wls, err = b.startWorkloads(ctx, e, "bosun-"+name); err != nil {
			r.problem("bosun: %v", err)
			return
		}
		defer closeWorkloads(wls)
		e.siteCluster = func(i int) string { return siteCluster(i, len(wls)) }
		b.logf("bosun: %d workload clusters registered in %s; Site i goes to workload-<i mod %d + 1>", len(wls), clustersNamespace, len(wls))
	}
	tr, err := startTracker(ctx, e, b.shape, workloadClients(wls))
	if err != nil {
		r.problem("bosun: %v", err)
		return
	}
	defer tr.close()
	b.logf("bosun: creating %d Sites before bosun starts", n)
	if _, err := e.createSites(ctx, batchA, "", n, b.o.namespaces); err != nil {
		r.problem("bosun: %v", err)
		return
	}
	s := &session{b: b, ctx: ctx, n: n, name: name, e: e, wls: wls, tr: tr, begin: time.Now()}
	for i := range b.o.replicas {
		rname, log := fmt.Sprintf("r%d", i), fmt.Sprintf("bosun-%s-r%d.log", name, i)
		if b.o.replicas == 1 {
			rname, log = "bosun", "bosun-"+name+".log"
		}
		rep := newReplica(rname, filepath.Join(b.work, log))
		s.reps = append(s.reps, rep)
		b.logf("bosun: log in %s", rep.logPath)
	}
	phases := map[string]func(context.Context) *PhaseResult{
		phaseCold: s.cold, phaseIdle: s.idle, phaseRestart: s.restart, phaseTakeover: s.takeover, phaseHandoff: s.handoff,
		phaseUpdate: s.update, phaseLatency: s.latency, phaseLatencyRollout: s.latencyRollout, phaseDelete: s.delete, phaseCreate: s.create,
	}
	for _, name := range b.o.order() {
		run, ok := phases[name]
		if !ok {
			continue // raw ran on its own cluster
		}
		s.phase = name
		p := run(ctx)
		p.Profiles = s.finishProfile()
		r.Phases = append(r.Phases, p)
		if p.Failed != "" {
			r.problem("%s: %s", p.Name, p.Failed)
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	r.Bosun = s.finish()
}

// sharded tells whether the session runs several replicas with --sharding.
func (s *session) sharded() bool { return len(s.reps) > 1 }

// startBosun starts every replica.
func (s *session) startBosun() error {
	for _, r := range s.reps {
		if err := r.start(s); err != nil {
			return err
		}
	}
	return nil
}

// stopBosun stops every replica with SIGTERM, all at once, and keeps their usage. It returns
// how long the slowest took.
func (s *session) stopBosun() (time.Duration, error) {
	ds := make([]time.Duration, len(s.reps))
	errs := make([]error, len(s.reps))
	var wg sync.WaitGroup
	for i, r := range s.reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds[i], errs[i] = r.stop(syscall.SIGTERM)
			if errs[i] != nil && s.sharded() {
				errs[i] = fmt.Errorf("%s: %w", r.name, errs[i])
			}
		}()
	}
	wg.Wait()
	return slices.Max(ds), errors.Join(errs...)
}

// finish stops bosun and sums up what it cost over the whole session.
func (s *session) finish() *BosunTotals {
	t := &BosunTotals{}
	if s.sharded() {
		for _, r := range s.reps {
			rt := &ReplicaTotals{Name: r.name}
			if samples := r.running().scrape(); samples != nil {
				rt.Owners, rt.Slots = int(sumOf(samples, "bosun_owners")), int(sumOf(samples, "bosun_shard_slots"))
			}
			rt.Holds, _ = r.logs.slots()
			t.Replicas = append(t.Replicas, rt)
		}
	}
	var exitErrs []string
	for i, r := range s.reps {
		p := r.running()
		if p == nil {
			continue
		}
		exitedBefore := p.exited()
		d, err := r.stop(syscall.SIGTERM)
		t.ShutdownSeconds = max(t.ShutdownSeconds, round(d.Seconds(), 2))
		if err == nil {
			continue
		}
		msg := err.Error()
		if exitedBefore {
			msg = "exited on its own: " + msg
		}
		if s.sharded() {
			t.Replicas[i].ExitError = msg
			msg = r.name + ": " + msg
		}
		exitErrs = append(exitErrs, msg)
	}
	t.ExitError = strings.Join(exitErrs, "; ")
	var logs []*logStats
	var peakSum int64
	for i, r := range s.reps {
		t.CPUSeconds += r.pastCPU
		t.PeakRSSMiB = max(t.PeakRSSMiB, mib(r.peakKiB))
		peakSum += r.peakKiB
		logs = append(logs, r.logs)
		if !s.sharded() {
			t.RSS = r.rss
			continue
		}
		rt := t.Replicas[i]
		rt.Processes, rt.CPUSeconds, rt.PeakRSSMiB, rt.RSS = r.procs, round(r.pastCPU, 2), mib(r.peakKiB), r.rss
		_, rt.SlotMoves = r.logs.slots()
	}
	t.CPUSeconds = round(t.CPUSeconds, 2)
	if s.sharded() {
		t.PeakRSSSumMiB = mib(peakSum)
	}
	t.LogLevels, t.Messages, t.NotJSON = summaryOf(logs)
	return t
}

// mark is the state at the start of a phase.
type mark struct {
	reps    []replicaMark
	req     map[reqKey]int
	wreq    []map[reqKey]int // per workload cluster
	changes [4]int64
	errs    int
}

// mark resets bosun's peak RSS, so the phase reports its own, and with -profile starts
// recording the phase's profiles (finishProfile ends it, after the phase).
func (s *session) mark() mark {
	s.startProfile()
	m := mark{req: s.e.proxy.snapshot(), wreq: workloadSnapshots(s.wls), changes: s.tr.changeCounts(), errs: s.errorLogs()}
	for _, r := range s.reps {
		m.reps = append(m.reps, r.mark())
	}
	return m
}

// errorLogs counts the error lines every replica logged.
func (s *session) errorLogs() int {
	n := 0
	for _, r := range s.reps {
		n += r.logs.count("error")
	}
	return n
}

// measure fills in what bosun did since m. With several replicas, CPU is their sum and memory
// the largest one's; each one's figures go to p.Replicas.
func (s *session) measure(p *PhaseResult, m mark) {
	var reps []*ReplicaPhase
	var moved []map[string]float64
	for i, r := range s.reps {
		rp, c := r.measure(m.reps[i])
		reps, moved = append(reps, rp), append(moved, c)
	}
	var cpu, cpuMax, peakSum float64
	for _, rp := range reps {
		cpu += rp.CPUSeconds
		cpuMax = max(cpuMax, rp.CPUSeconds)
		peakSum += rp.PeakRSSMiB
		p.PeakRSSMiB = max(p.PeakRSSMiB, rp.PeakRSSMiB)
		p.RSSStartMiB = max(p.RSSStartMiB, rp.RSSStartMiB)
		p.RSSEndMiB = max(p.RSSEndMiB, rp.RSSEndMiB)
		p.PeakAnonMiB = max(p.PeakAnonMiB, rp.PeakAnonMiB)
		p.FileRSSMiB = max(p.FileRSSMiB, rp.FileRSSMiB)
	}
	p.CPUSeconds = round(cpu, 2)
	p.Metrics = sumCounters(moved)
	if s.sharded() {
		p.Replicas, p.CPUMaxSeconds, p.PeakRSSSumMiB = reps, round(cpuMax, 2), round(peakSum, 1)
	}
	p.Requests = diffRequests(m.req, s.e.proxy.snapshot())
	p.Workloads = workloadRequests(s.wls, m.wreq)
	if p.Owners > 0 {
		p.RequestsPerOwner = round(float64(p.Requests.Reads+p.Requests.Writes)/float64(p.Owners), 2)
	}
	now := s.tr.changeCounts()
	p.Changes = map[string]int64{}
	for i, name := range kindNames {
		if d := now[i] - m.changes[i]; d != 0 {
			p.Changes[name] = d
		}
	}
	p.ErrorLogs = s.errorLogs() - m.errs
	which := ""
	if s.sharded() {
		which = fmt.Sprintf(" (%d replicas: cpu summed, rss of the largest; owners %s)", len(reps), joinInts(reps, func(rp *ReplicaPhase) int { return rp.Owners }))
	}
	s.b.logf("%s: done in %.1fs; bosun cpu %.1fs, peak rss %.0f MiB%s, %s%s", p.Name, p.Seconds, p.CPUSeconds, p.PeakRSSMiB, which, p.Requests, workloadText(p.Workloads))
}

// sumCounters adds up the replicas' counters that moved; nil when none had any.
func sumCounters(all []map[string]float64) map[string]float64 {
	if len(all) == 1 {
		return all[0]
	}
	var out map[string]float64
	for _, c := range all {
		for k, v := range c {
			if out == nil {
				out = map[string]float64{}
			}
			out[k] += v
		}
	}
	return out
}

// joinInts lists a figure of every replica: "67/70/63".
func joinInts[T any](xs []T, f func(T) int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(f(x))
	}
	return strings.Join(parts, "/")
}

// errStalled ends a wait whose state has not moved for stallLimit.
var errStalled = errors.New("no progress")

const stallLimit = 5 * time.Minute

// wait polls cond until it is done, printing progress every 10 seconds, and sets p.Seconds
// to the time since start. It fails the phase on the phase timeout, when bosun exits, or when
// nothing moved for stallLimit.
func (s *session) wait(ctx context.Context, p *PhaseResult, start time.Time, cond func() (bool, string)) bool {
	if !s.waitFor(ctx, p, start, cond) {
		return false
	}
	p.Seconds = round(since(start), 2)
	return true
}

// waitFor is wait without setting p.Seconds when cond is done.
func (s *session) waitFor(ctx context.Context, p *PhaseResult, start time.Time, cond func() (bool, string)) bool {
	ctx, cancel := context.WithTimeout(ctx, s.b.phaseTimeout(s.n))
	defer cancel()
	lastLog, lastProgress, lastChange := time.Now(), "", time.Now()
	for {
		done, progress := cond()
		if done {
			return true
		}
		if progress != lastProgress {
			lastProgress, lastChange = progress, time.Now()
		}
		fail := func(msg string) bool {
			p.Seconds, p.Progress, p.Failed = round(since(start), 2), progress, msg
			s.b.logf("%s: FAILED after %.0fs: %s; %s", p.Name, p.Seconds, msg, progress)
			return false
		}
		gone, who := s.exitedOnItsOwn()
		switch {
		case gone != nil:
			return fail(fmt.Sprintf("bosun%s exited: %v", who, gone.err))
		case time.Since(lastChange) > stallLimit:
			return fail(fmt.Sprintf("%v for %s", errStalled, stallLimit))
		}
		if time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			s.b.logf("%s %3.0fs: %s | %s", p.Name, since(start), progress, s.bosunLine())
		}
		select {
		case <-ctx.Done():
			return fail(fmt.Sprintf("timed out: %v", ctx.Err()))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// exitedOnItsOwn is a bosun process that exited without the harness stopping it, and " rN"
// naming its replica when there are several.
func (s *session) exitedOnItsOwn() (*bosunProc, string) {
	for _, r := range s.reps {
		if p := r.exitedOnItsOwn(); p != nil {
			if s.sharded() {
				return p, " " + r.name
			}
			return p, ""
		}
	}
	return nil, ""
}

// bosunLine is bosun's current cost for progress lines; with several replicas, RSS and CPU
// are summed and the slots each holds (from its log) follow.
func (s *session) bosunLine() string {
	var rss int64
	var cpu float64
	var slots []string
	running := 0
	for _, r := range s.reps {
		r.mu.Lock()
		if r.proc != nil {
			cur := r.smp.current()
			rss, cpu = rss+cur.RSSKiB, cpu+cur.CPUSeconds
			running++
		}
		r.mu.Unlock()
		holds, _ := r.logs.slots()
		slots = append(slots, fmt.Sprint(len(parseSlots(holds))))
	}
	if running == 0 {
		return "bosun not running"
	}
	req := diffRequests(nil, s.e.proxy.snapshot())
	if !s.sharded() {
		return fmt.Sprintf("bosun rss %.0f MiB, cpu %.1fs, %d error logs, total %s%s", mib(rss), cpu, s.errorLogs(), req,
			workloadText(workloadRequests(s.wls, make([]map[reqKey]int, len(s.wls)))))
	}
	return fmt.Sprintf("bosun %d of %d running: rss %.0f MiB, cpu %.1fs summed, slots %s, %d error logs, total %s",
		running, len(s.reps), mib(rss), cpu, strings.Join(slots, "/"), s.errorLogs(), req)
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
