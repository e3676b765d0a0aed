package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

func TestProfileNames(t *testing.T) {
	out := filepath.Join("hack", "bench", "results", "2026-07-01-4c-8g.json")
	for _, c := range []struct {
		runs, run int
		want      string
	}{
		{1, 0, "2026-07-01-4c-8g-n1000-cold"},
		{3, 0, "2026-07-01-4c-8g-n1000-run1-cold"},
		{3, 1, "2026-07-01-4c-8g-n1000-run2-cold"},
	} {
		b := &bench{o: options{runs: c.runs}}
		got := profilePrefix(out, b.sizeName(1000, c.run), phaseCold)
		if want := filepath.Join("hack", "bench", "results", c.want); got != want {
			t.Errorf("runs %d, run %d: prefix %q, want %q", c.runs, c.run, got, want)
		}
	}
	if got := profilePrefix("x/a.json", "5000", phaseDelete) + cpuSuffix; got != "x/a-n5000-delete.cpu.pb.gz" {
		t.Errorf("cpu file %q", got)
	}
	if got := profilePrefix("x/a.json", "5000", phaseLatency) + heapSuffix; got != "x/a-n5000-latency-heap.pb.gz" {
		t.Errorf("heap file %q", got)
	}
	if got := profilePrefix("x/a.json", "5000", phaseLatency) + peakHeapSuffix; got != "x/a-n5000-latency-peakheap.pb.gz" {
		t.Errorf("peak heap file %q", got)
	}
}

func TestPeakStep(t *testing.T) {
	for _, c := range []struct{ last, want int64 }{{0, 5120}, {50 * 1024, 5120}, {200 * 1024, 10240}} {
		if got := peakStep(c.last); got != c.want {
			t.Errorf("peakStep(%d) = %d, want %d", c.last, got, c.want)
		}
	}
}

// cpuProfile is a small CPU profile as the runtime writes one: samples of two stacks over
// one mapping, cpu nanoseconds every 10 ms.
func cpuProfile(start time.Time, reconcile, apply int64) *profile.Profile {
	m := &profile.Mapping{ID: 1, Start: 0x400000, Limit: 0x800000, File: "bosun", HasFunctions: true}
	fReconcile := &profile.Function{ID: 1, Name: "reconcile", SystemName: "reconcile", Filename: "r.go"}
	fApply := &profile.Function{ID: 2, Name: "apply", SystemName: "apply", Filename: "a.go"}
	lReconcile := &profile.Location{ID: 1, Mapping: m, Address: 0x401000, Line: []profile.Line{{Function: fReconcile, Line: 10}}}
	lApply := &profile.Location{ID: 2, Mapping: m, Address: 0x402000, Line: []profile.Line{{Function: fApply, Line: 20}}}
	return &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		TimeNanos:     start.UnixNano(),
		DurationNanos: int64(10 * time.Second),
		Mapping:       []*profile.Mapping{m},
		Function:      []*profile.Function{fReconcile, fApply},
		Location:      []*profile.Location{lReconcile, lApply},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{lReconcile}, Value: []int64{reconcile, reconcile * 10_000_000}},
			{Location: []*profile.Location{lApply, lReconcile}, Value: []int64{apply, apply * 10_000_000}},
		},
	}
}

// roundTrip writes p and parses it back, as the harness gets chunks from bosun.
func roundTrip(t *testing.T, p *profile.Profile) *profile.Profile {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	out, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// totals is the samples' values summed per leaf function.
func totals(p *profile.Profile) map[string]int64 {
	out := map[string]int64{}
	for _, s := range p.Sample {
		out[s.Location[0].Line[0].Function.Name] += s.Value[0]
	}
	return out
}

func TestMergeProfiles(t *testing.T) {
	start := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	var merged *profile.Profile
	for i, chunk := range []*profile.Profile{cpuProfile(start, 3, 1), cpuProfile(start.Add(10*time.Second), 4, 5)} {
		var err error
		if merged, err = mergeProfiles(merged, roundTrip(t, chunk)); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	merged = roundTrip(t, merged)
	if got, want := totals(merged), map[string]int64{"reconcile": 7, "apply": 6}; !maps.Equal(got, want) {
		t.Errorf("samples per leaf %v, want %v", got, want)
	}
	if merged.DurationNanos != int64(20*time.Second) || merged.TimeNanos != start.UnixNano() {
		t.Errorf("duration %s from %s, want 20s from %s", time.Duration(merged.DurationNanos), time.Unix(0, merged.TimeNanos).UTC(), start)
	}
	if len(merged.Mapping) != 1 {
		t.Errorf("%d mappings, want the one both chunks share", len(merged.Mapping))
	}
}

// TestPhaseProfiler records a phase of this test process through net/http/pprof, as bosun's
// --profiling serves it: CPU chunks merged, the heap at the end and at the peak.
func TestPhaseProfiler(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	var cpuRequests sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/pprof/profile" {
			cpuRequests.Store(r.URL.RawQuery, true)
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	dir := t.TempDir()
	var logMu sync.Mutex
	var logs []string
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		logs = append(logs, fmt.Sprintf(format, args...))
	}
	var rss sync.Map // the RSS the fake sampler reports
	rss.Store("kib", int64(40*1024))
	targets := func() []profTarget {
		v, _ := rss.Load("kib")
		return []profTarget{{url: srv.URL + "/debug/pprof", started: time.Now().Add(-time.Minute), rssKiB: v.(int64)}, {}}
	}
	prefix := profilePrefix(filepath.Join(dir, "res.json"), "1000", phaseCold)
	pp := newProfiler(context.Background(), prefix, phaseCold, targets, logf, time.Second)
	pp.every = 20 * time.Millisecond
	pp.run(2) // the second replica runs no process: its loop waits

	begin := time.Now()
	for n := 0; time.Since(begin) < 1500*time.Millisecond; n++ {
		if n%1000 == 0 && time.Since(begin) > 300*time.Millisecond {
			rss.Store("kib", int64(80*1024)) // a new peak: another heap profile
		}
		_ = strings.Repeat("x", n%1000)
	}
	files := pp.finish()

	want := []string{"res-n1000-cold.cpu.pb.gz", "res-n1000-cold-heap.pb.gz", "res-n1000-cold-peakheap.pb.gz"}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v; log %v", files, want, logs)
	}
	if _, ok := cpuRequests.Load("seconds=1"); !ok {
		t.Errorf("no CPU profile asked for seconds=1")
	}
	read := func(name string) *profile.Profile {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		p, err := profile.Parse(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return p
	}
	cpu := read(files[0])
	if cpu.PeriodType == nil || cpu.PeriodType.Type != "cpu" {
		t.Errorf("cpu profile's period type %v", cpu.PeriodType)
	}
	// Each chunk's duration is the runtime's, from its profile writer's start (a goroutine that
	// may start some milliseconds after the handler's 1 s sleep began, on a busy machine) to
	// the stop: a little under 1 s is still a whole chunk.
	if pp.chunks < 2 || time.Duration(cpu.DurationNanos) < time.Duration(pp.chunks)*900*time.Millisecond {
		t.Errorf("%d chunks over %s, want at least 2 of 1s", pp.chunks, time.Duration(cpu.DurationNanos))
	}
	for _, name := range files[1:] {
		if p := read(name); len(p.SampleType) == 0 || p.SampleType[len(p.SampleType)-1].Type != "inuse_space" {
			t.Errorf("%s: sample types %v, want a heap profile's", name, p.SampleType)
		}
	}
	peak := read(files[2])
	if !slices.ContainsFunc(peak.Comments, func(c string) bool { return strings.Contains(c, "RSS 80.0 MiB") }) {
		t.Errorf("peak heap's comments %q, want the 80 MiB sample's", peak.Comments)
	}
}

// TestPhaseProfilerWithoutBosun: nothing to fetch fails nothing; it is logged and no file is
// written.
func TestPhaseProfilerWithoutBosun(t *testing.T) {
	dir := t.TempDir()
	var logs []string
	pp := newProfiler(context.Background(), filepath.Join(dir, "res-n1-delete"), phaseDelete,
		func() []profTarget { return []profTarget{{}} }, func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }, time.Second)
	pp.run(1)
	time.Sleep(50 * time.Millisecond)
	if files := pp.finish(); len(files) != 0 {
		t.Errorf("files %v, want none", files)
	}
	if len(logs) != 1 || !strings.Contains(logs[0], "delete: heap profile not fetched") {
		t.Errorf("log %q, want the missing heap", logs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files written", len(entries))
	}
}

func TestProfilesInResults(t *testing.T) {
	r := Run{Phases: []*PhaseResult{
		{Name: phaseCold, Profiles: []string{"a-n1-cold.cpu.pb.gz", "a-n1-cold-heap.pb.gz"}},
		{Name: phaseIdle},
		{Name: phaseDelete, Profiles: []string{"a-n1-delete.cpu.pb.gz"}},
	}}
	want := "cold: `a-n1-cold.cpu.pb.gz`, `a-n1-cold-heap.pb.gz`; delete: `a-n1-delete.cpu.pb.gz`"
	if got := profilesText(r); got != want {
		t.Errorf("profilesText = %s, want %s", got, want)
	}
	if got := profilesText(Run{Phases: []*PhaseResult{{Name: phaseCold}}}); got != "" {
		t.Errorf("profilesText without profiles = %q", got)
	}
	data, err := json.Marshal(r.Phases[1])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("profiles")) {
		t.Errorf("a phase without profiles writes them: %s", data)
	}
}
