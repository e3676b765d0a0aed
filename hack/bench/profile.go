package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// With -profile, bosun runs with --profiling (net/http/pprof on its metrics address) and every
// one of bosun's phases records, beside the -out file:
//
//	<out without .json>-n<N>-<phase>.cpu.pb.gz       CPU over the whole phase
//	<out without .json>-n<N>-<phase>-heap.pb.gz      the heap at the end of the phase
//	<out without .json>-n<N>-<phase>-peakheap.pb.gz  the heap at the phase's highest RSS sample
//
// (-n<N>-run<R>- with -runs > 1). The CPU profile is fetched in consecutive chunks of
// cpuChunk, merged; the last chunk runs past the phase's end by up to cpuChunk (the
// harness waits for it after measuring the phase, so that the next phase's profile starts
// afresh: the runtime has one CPU profile at a time). The profiles of every replica are
// merged into one (for the peak heap: the replica whose RSS was highest). A profile that
// cannot be fetched is logged and left out; the phase goes on.

// Suffixes of a phase's profile files, after profilePrefix.
const (
	cpuSuffix      = ".cpu.pb.gz"
	heapSuffix     = "-heap.pb.gz"
	peakHeapSuffix = "-peakheap.pb.gz"
)

// cpuChunk is how long each CPU profile fetched runs (pprof's seconds=, whole seconds): the
// most the last one overruns the phase.
const cpuChunk = 5 * time.Second

// peakStep is how far above the RSS of the last heap profile taken for the peak a sample must
// be for another: 5 MiB, or 5% of it once that is more, which keeps to a few dozen the heap
// profiles of a cold start that grows bosun from 30 to 500 MiB.
func peakStep(lastKiB int64) int64 { return max(5*1024, lastKiB/20) }

// profilePrefix is the path of a phase's profiles without their suffix: the -out file without
// .json, -n and the run's sizeName ("1000", "1000-run2"), and the phase.
func profilePrefix(out, size, phase string) string {
	return strings.TrimSuffix(out, ".json") + "-n" + size + "-" + phase
}

// profTarget is one replica's process as the profiler sees it.
type profTarget struct {
	url     string // its /debug/pprof base; "" while none runs (or it serves no profiles)
	started time.Time
	rssKiB  int64 // the sampler's last RSS reading
}

// profTarget is the process running here for the profiler.
func (r *replica) profTarget() profTarget {
	r.mu.Lock()
	p, smp := r.proc, r.smp
	r.mu.Unlock()
	if p == nil || p.pprofURL == "" || p.exited() {
		return profTarget{}
	}
	return profTarget{url: p.pprofURL, started: p.started, rssKiB: smp.current().RSSKiB}
}

// phaseProfiler records the profiles of one phase.
type phaseProfiler struct {
	prefix  string
	phase   string              // for the log
	targets func() []profTarget // one per replica, always as many
	logf    func(format string, args ...any)
	chunk   time.Duration
	every   time.Duration // how often peakLoop looks at the RSS samples
	start   time.Time
	ctx     context.Context
	stop    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	cpu      *profile.Profile // the chunks so far, merged
	chunks   int
	peak     *profile.Profile
	peakKiB  int64
	peakAt   time.Duration // since start
	failures map[string]int
}

// startProfile starts recording the current phase's profiles, when -profile is on and bosun
// serves them.
func (s *session) startProfile() {
	if !s.b.bin.profiling || s.prof != nil {
		return
	}
	s.prof = startProfiler(s.ctx, profilePrefix(s.b.results.Out, s.name, s.phase), s.phase, len(s.reps), func() []profTarget {
		out := make([]profTarget, len(s.reps))
		for i, r := range s.reps {
			out[i] = r.profTarget()
		}
		return out
	}, s.b.logf, cpuChunk)
}

// finishProfile ends the phase's recording, if one runs, and lists the files it wrote.
func (s *session) finishProfile() []string {
	if s.prof == nil {
		return nil
	}
	files := s.prof.finish()
	s.prof = nil
	return files
}

func startProfiler(ctx context.Context, prefix, phase string, replicas int, targets func() []profTarget, logf func(string, ...any), chunk time.Duration) *phaseProfiler {
	pp := newProfiler(ctx, prefix, phase, targets, logf, chunk)
	pp.run(replicas)
	return pp
}

func newProfiler(ctx context.Context, prefix, phase string, targets func() []profTarget, logf func(string, ...any), chunk time.Duration) *phaseProfiler {
	return &phaseProfiler{prefix: prefix, phase: phase, targets: targets, logf: logf, chunk: chunk, every: time.Second, start: time.Now(), ctx: ctx,
		stop: make(chan struct{}), failures: map[string]int{}}
}

// run starts the CPU loop of every replica and the peak heap loop.
func (pp *phaseProfiler) run(replicas int) {
	pp.start = time.Now()
	for i := range replicas {
		pp.wg.Add(1)
		go pp.cpuLoop(i)
	}
	pp.wg.Add(1)
	go pp.peakLoop()
}

func (pp *phaseProfiler) stopped() bool {
	select {
	case <-pp.stop:
		return true
	default:
		return false
	}
}

// pause waits d, or less when the phase ends; it tells whether the phase goes on.
func (pp *phaseProfiler) pause(d time.Duration) bool {
	select {
	case <-pp.stop:
		return false
	case <-pp.ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// cpuLoop fetches replica i's CPU profile chunk after chunk until the phase ends, and merges
// them. A process that is starting (not listening yet) is waited for; one that went away
// mid-chunk (restart, takeover) loses the chunk without a word.
func (pp *phaseProfiler) cpuLoop(i int) {
	defer pp.wg.Done()
	for !pp.stopped() && pp.ctx.Err() == nil {
		t := pp.targets()[i]
		if t.url == "" {
			pp.pause(100 * time.Millisecond)
			continue
		}
		p, err := fetchProfile(pp.ctx, fmt.Sprintf("%s/profile?seconds=%d", t.url, int(pp.chunk.Seconds())), pp.chunk+30*time.Second)
		if err == nil {
			err = pp.addCPU(p)
		}
		if err == nil {
			continue
		}
		if pp.targets()[i].url != t.url || time.Since(t.started) < 10*time.Second || pp.ctx.Err() != nil {
			pp.pause(100 * time.Millisecond) // gone, or not listening yet
			continue
		}
		pp.fail("cpu", err)
		pp.pause(time.Second)
	}
}

func (pp *phaseProfiler) addCPU(p *profile.Profile) error {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	merged, err := mergeProfiles(pp.cpu, p)
	if err != nil {
		return err
	}
	pp.cpu = merged
	pp.chunks++
	return nil
}

// peakLoop takes a heap profile whenever a replica's RSS sample is peakStep above the one of
// the last such profile, keeping the last one taken.
func (pp *phaseProfiler) peakLoop() {
	defer pp.wg.Done()
	for pp.pause(pp.every) {
		for _, t := range pp.targets() {
			pp.mu.Lock()
			want := t.url != "" && t.rssKiB > 0 && t.rssKiB >= pp.peakKiB+peakStep(pp.peakKiB)
			pp.mu.Unlock()
			if !want {
				continue
			}
			p, err := fetchProfile(pp.ctx, t.url+"/heap", 30*time.Second)
			if err != nil {
				if time.Since(t.started) >= 10*time.Second && pp.ctx.Err() == nil {
					pp.fail("peak heap", err)
				}
				continue
			}
			pp.mu.Lock()
			pp.peak, pp.peakKiB, pp.peakAt = p, t.rssKiB, time.Since(pp.start)
			pp.mu.Unlock()
		}
	}
}

// fail logs the first failure of each kind of profile in the phase and counts the others.
func (pp *phaseProfiler) fail(kind string, err error) {
	pp.mu.Lock()
	pp.failures[kind]++
	first := pp.failures[kind] == 1
	pp.mu.Unlock()
	if first {
		pp.logf("%s: %s profile not fetched (further failures counted at the end): %v", pp.phase, kind, err)
	}
}

// finish takes the heap profiles of the running processes, waits for the CPU chunks in
// flight, writes the files and returns their names (without directory), in the order cpu,
// heap, peak heap.
func (pp *phaseProfiler) finish() []string {
	var heaps *profile.Profile
	fetched := 0
	for _, t := range pp.targets() {
		if t.url == "" {
			continue
		}
		p, err := fetchProfile(pp.ctx, t.url+"/heap", 30*time.Second)
		if err == nil {
			heaps, err = mergeProfiles(heaps, p)
		}
		if err != nil {
			pp.fail("heap", err)
			continue
		}
		fetched++
	}
	if fetched == 0 && pp.failures["heap"] == 0 {
		pp.fail("heap", fmt.Errorf("no bosun process runs at the end of the phase"))
	}
	close(pp.stop)
	pp.wg.Wait()

	phase, base := pp.phase, filepath.Base(pp.prefix)
	var files []string
	write := func(suffix string, p *profile.Profile, comment string) {
		if p == nil {
			return
		}
		p.Comments = append(p.Comments, comment)
		if err := writeProfile(pp.prefix+suffix, p); err != nil {
			pp.logf("%s: %v", phase, err)
			return
		}
		files = append(files, filepath.Base(pp.prefix+suffix))
	}
	pp.mu.Lock()
	defer pp.mu.Unlock()
	write(cpuSuffix, pp.cpu, fmt.Sprintf("bench %s: CPU, %d chunks of %s merged", base, pp.chunks, pp.chunk))
	write(heapSuffix, heaps, fmt.Sprintf("bench %s: heap at the end of the phase, %d processes merged", base, fetched))
	write(peakHeapSuffix, pp.peak, fmt.Sprintf("bench %s: heap at RSS %.1f MiB, %.0fs into the phase", base, mib(pp.peakKiB), pp.peakAt.Seconds()))
	for kind, n := range pp.failures {
		if n > 1 {
			pp.logf("%s: %d %s profiles not fetched", phase, n, kind)
		}
	}
	if len(files) > 0 {
		pp.logf("%s: profiles %s (CPU in %d chunks; peak heap at RSS %.0f MiB)", phase, strings.Join(files, ", "), pp.chunks, mib(pp.peakKiB))
	}
	return files
}

// fetchProfile gets one profile from bosun's pprof handlers and parses it.
func fetchProfile(ctx context.Context, url string, timeout time.Duration) (*profile.Profile, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(data)))
	}
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return p, nil
}

// mergeProfiles adds p to merged (nil: none yet).
func mergeProfiles(merged, p *profile.Profile) (*profile.Profile, error) {
	if merged == nil {
		return p, nil
	}
	return profile.Merge([]*profile.Profile{merged, p})
}

// writeProfile writes p gzipped, as pprof reads it.
func writeProfile(path string, p *profile.Profile) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
