package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// session is bosun running against one cluster through the phases of one N.
type session struct {
	b       *bench
	n       int
	e       *env
	tr      *tracker
	logs    *logStats
	logPath string

	proc *bosunProc
	smp  *sampler
	// CPU of bosun processes that already exited (before a restart).
	pastCPU float64
	// peakKiB is the highest RSS seen: the phases' VmHWM, the samples, and VmHWM right before
	// each stop. The kernel's ru_maxrss cannot serve: for a child started with vfork it
	// includes the parent's RSS at exec time.
	peakKiB int64
	rss     []rssPoint
	begin   time.Time
}

// bosunPhases runs bosun's phases on a fresh cluster, in the order of allPhases. Cold
// convergence always runs: the other phases need converged owners.
func (b *bench) bosunPhases(ctx context.Context, n int, r *Run) {
	e, err := b.startEnv(ctx, fmt.Sprintf("bosun-%d", n))
	if err != nil {
		r.problem("bosun: %v", err)
		return
	}
	defer e.close()
	tr, err := startTracker(ctx, e)
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
	s := &session{b: b, n: n, e: e, tr: tr, logs: newLogStats(), logPath: filepath.Join(b.work, fmt.Sprintf("bosun-%d.log", n)), begin: time.Now()}
	b.logf("bosun: log in %s", s.logPath)
	phases := map[string]func(context.Context) *PhaseResult{
		phaseCold: s.cold, phaseIdle: s.idle, phaseRestart: s.restart, phaseUpdate: s.update,
		phaseLatency: s.latency, phaseLatencyRollout: s.latencyRollout, phaseDelete: s.delete, phaseCreate: s.create,
	}
	for _, name := range b.o.order() {
		run, ok := phases[name]
		if !ok {
			continue // raw ran on its own cluster
		}
		p := run(ctx)
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

func (s *session) startBosun() error {
	p, err := s.b.bin.start(s.e.bosunKubeconfig(), s.b.configPath, s.logPath, s.logs)
	if err != nil {
		return err
	}
	s.proc, s.smp = p, &sampler{}
	go s.smp.run(p, s.begin)
	return nil
}

// stopBosun stops the running bosun and keeps its usage.
func (s *session) stopBosun() (time.Duration, error) {
	if s.proc == nil {
		return 0, nil
	}
	if cur, err := readProc(s.proc.pid); err == nil {
		s.peakKiB = max(s.peakKiB, cur.HWMKiB)
	}
	d, err := s.proc.stop(time.Minute)
	s.pastCPU += s.proc.usage.CPUSeconds
	s.smp.mu.Lock()
	s.peakKiB = max(s.peakKiB, s.smp.maxRSS)
	s.rss = append(s.rss, s.smp.samples...)
	s.smp.mu.Unlock()
	s.proc = nil
	return d, err
}

// finish stops bosun and sums up what it cost over the whole session.
func (s *session) finish() *BosunTotals {
	t := &BosunTotals{}
	if s.proc != nil {
		exitedBefore := s.proc.exited()
		d, err := s.stopBosun()
		t.ShutdownSeconds = round(d.Seconds(), 2)
		if err != nil {
			t.ExitError = err.Error()
			if exitedBefore {
				t.ExitError = "exited on its own: " + t.ExitError
			}
		}
	}
	t.CPUSeconds = round(s.pastCPU, 2)
	t.PeakRSSMiB = mib(s.peakKiB)
	t.RSS = s.rss
	t.LogLevels, t.Messages, t.NotJSON = s.logs.summary()
	return t
}

// mark is the state at the start of a phase.
type mark struct {
	proc    procSample
	req     map[reqKey]int
	metrics map[string]float64
	changes [4]int64
	errs    int
}

// mark resets bosun's peak RSS, so the phase reports its own.
func (s *session) mark() mark {
	m := mark{req: s.e.proxy.snapshot(), changes: s.tr.changeCounts(), errs: s.logs.count("error")}
	if s.proc != nil {
		_ = resetPeak(s.proc.pid)
		m.proc, _ = readProc(s.proc.pid)
		if s.smp != nil {
			s.smp.takeMaxAnon(m.proc)
		}
		m.metrics = s.proc.scrape()
	}
	return m
}

// measure fills in what bosun did since m.
func (s *session) measure(p *PhaseResult, m mark) {
	if s.proc != nil && !s.proc.exited() {
		cur, _ := readProc(s.proc.pid)
		p.CPUSeconds = round(cur.CPUSeconds-m.proc.CPUSeconds, 2)
		p.PeakRSSMiB = mib(cur.HWMKiB)
		s.peakKiB = max(s.peakKiB, cur.HWMKiB)
		p.RSSStartMiB, p.RSSEndMiB = mib(m.proc.RSSKiB), mib(cur.RSSKiB)
		p.FileRSSMiB = mib(cur.FileKiB)
		if s.smp != nil {
			p.PeakAnonMiB = mib(s.smp.takeMaxAnon(cur))
		}
		p.Metrics = diffCounters(m.metrics, s.proc.scrape())
	}
	p.Requests = diffRequests(m.req, s.e.proxy.snapshot())
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
	p.ErrorLogs = s.logs.count("error") - m.errs
	s.b.logf("%s: done in %.1fs; bosun cpu %.1fs, peak rss %.0f MiB, %s", p.Name, p.Seconds, p.CPUSeconds, p.PeakRSSMiB, p.Requests)
}

// errStalled ends a wait whose state has not moved for stallLimit.
var errStalled = errors.New("no progress")

const stallLimit = 5 * time.Minute

// wait polls cond until it is done, printing progress every 10 seconds. It fails the phase on
// the phase timeout, when bosun exits, or when nothing moved for stallLimit.
func (s *session) wait(ctx context.Context, p *PhaseResult, start time.Time, cond func() (bool, string)) bool {
	ctx, cancel := context.WithTimeout(ctx, s.b.phaseTimeout(s.n))
	defer cancel()
	lastLog, lastProgress, lastChange := time.Now(), "", time.Now()
	for {
		done, progress := cond()
		if done {
			p.Seconds = round(since(start), 2)
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
		switch {
		case s.proc != nil && s.proc.exited():
			return fail(fmt.Sprintf("bosun exited: %v", s.proc.err))
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

// bosunLine is bosun's current cost for progress lines.
func (s *session) bosunLine() string {
	if s.proc == nil {
		return "bosun not running"
	}
	cur := s.smp.current()
	req := diffRequests(nil, s.e.proxy.snapshot())
	return fmt.Sprintf("bosun rss %.0f MiB, cpu %.1fs, %d error logs, total %s", mib(cur.RSSKiB), cur.CPUSeconds, s.logs.count("error"), req)
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
