package main

import (
	"fmt"
	"slices"
	"strings"
)

// The report of a run with -runs R > 1, every N measured R times from scratch: the summary
// keeps a row per run, and a table of medians per N follows it, since one run's figures vary
// with the machine (fsync latency, a neighbour's load) more than the changes they compare.
// Files with one run per N show none of it, so their summary reads as it always did.

// sizeGroup is the runs of one N, in the order they ran.
type sizeGroup struct {
	n    int
	runs []Run
}

// sizeGroups groups the runs by N, in the order each N first ran.
func sizeGroups(runs []Run) []sizeGroup {
	var out []sizeGroup
	for _, r := range runs {
		i := slices.IndexFunc(out, func(g sizeGroup) bool { return g.n == r.N })
		if i < 0 {
			out = append(out, sizeGroup{n: r.N})
			i = len(out) - 1
		}
		out[i].runs = append(out[i].runs, r)
	}
	return out
}

// repeated tells whether some N ran more than once: only then is there a median to show.
func repeated(res *Results) bool {
	return slices.ContainsFunc(sizeGroups(res.Runs), func(g sizeGroup) bool { return len(g.runs) > 1 })
}

// runLabels name each run among the runs of its N, for the headings of the details:
// "" when its N ran once, "run 2 of 3" otherwise.
func runLabels(runs []Run) []string {
	total, seen := map[int]int{}, map[int]int{}
	for _, r := range runs {
		total[r.N]++
	}
	out := make([]string, len(runs))
	for i, r := range runs {
		seen[r.N]++
		if total[r.N] > 1 {
			out[i] = fmt.Sprintf("run %d of %d", seen[r.N], total[r.N])
		}
	}
	return out
}

// figure is one column of the medians: how a value is shown ("%.2f" and the suffix "x"), and
// the value of one run, ok false when the run has none (a phase that failed or did not run,
// a file from before the figure).
type figure struct {
	header string
	format string
	suffix string
	value  func(Run) (float64, bool)
}

// medianFigures are the figures that compare bosun across commits: its settled converge and
// the ideal controller's, their CPU, memory, the deletion and the edit latency.
var medianFigures = []figure{
	{"ideal s", "%.1f", "", ofRaw(func(raw *RawResult) float64 { return raw.IdealSeconds })},
	{"ideal CPU ms/owner", "%.2f", "", ofRaw(func(raw *RawResult) float64 { return raw.IdealCPUMsPerOwner })},
	{"cold Ready s", "%.1f", "", ofPhase(phaseCold, func(p *PhaseResult) float64 { return p.ReadySeconds })},
	{"Ready/ideal", "%.2f", "x", ofPhase(phaseCold, func(p *PhaseResult) float64 { return p.VsIdeal })},
	{"bosun CPU ms/owner", "%.2f", "", ofPhase(phaseCold, func(p *PhaseResult) float64 { return p.CPUMsPerOwner })},
	{"child→Ready p99 ms", "%.0f", "", ofPhase(phaseCold, func(p *PhaseResult) float64 {
		if c := p.LastChildToReady; c != nil && c.Count > 0 {
			return c.P99Ms
		}
		return 0
	})},
	{"peak RSS MiB", "%.0f", "", func(r Run) (float64, bool) {
		if r.Bosun == nil {
			return 0, false
		}
		return positive(r.Bosun.PeakRSSMiB)
	}},
	{"delete s", "%.1f", "", ofPhase(phaseDelete, func(p *PhaseResult) float64 { return p.Seconds })},
	{"delete/ideal", "%.2f", "x", ofPhase(phaseDelete, func(p *PhaseResult) float64 { return p.VsIdealDelete })},
	{"latency p50 ms", "%.0f", "", ofLatency(func(l *LatencyResult) float64 { return l.P50Ms })},
	{"latency p99 ms", "%.0f", "", ofLatency(func(l *LatencyResult) float64 { return l.P99Ms })},
}

// values are the figure of the runs that have it.
func (f figure) values(runs []Run) []float64 {
	var vs []float64
	for _, r := range runs {
		if v, ok := f.value(r); ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// positive is a stored figure, 0 being none (omitempty, or a file from before it).
func positive(v float64) (float64, bool) { return v, v > 0 }

// ofRaw reads a figure of the raw phase.
func ofRaw(f func(*RawResult) float64) func(Run) (float64, bool) {
	return func(r Run) (float64, bool) {
		if r.Raw == nil {
			return 0, false
		}
		return positive(f(r.Raw))
	}
}

// ofPhase reads a figure of one of bosun's phases, if it finished.
func ofPhase(name string, f func(*PhaseResult) float64) func(Run) (float64, bool) {
	return func(r Run) (float64, bool) {
		p := r.phase(name)
		if p == nil || p.Failed != "" {
			return 0, false
		}
		return positive(f(p))
	}
}

// ofLatency reads a quantile of the latency phase (spec.port), as the summary's columns do.
func ofLatency(f func(*LatencyResult) float64) func(Run) (float64, bool) {
	return func(r Run) (float64, bool) {
		p := r.phase(phaseLatency)
		if p == nil || p.Latency == nil || p.Latency.Count == 0 {
			return 0, false
		}
		return f(p.Latency), true
	}
}

// medianTable has a row per N that ran more than once: how many times, and each figure's
// median over the runs that have it, taken on its own (a ratio's is the median of the runs'
// ratios), with their range. A figure no such N has is left out.
func medianTable(res *Results) table {
	t := table{headers: []string{"N", "runs"}}
	var groups []sizeGroup
	for _, g := range sizeGroups(res.Runs) {
		if len(g.runs) > 1 {
			groups = append(groups, g)
			t.rows = append(t.rows, []string{fmt.Sprint(g.n), fmt.Sprint(len(g.runs))})
		}
	}
	for _, f := range medianFigures {
		cells, seen := make([]string, len(groups)), false
		for i, g := range groups {
			vs := f.values(g.runs)
			cells[i], seen = spread(vs, len(g.runs), f.format, f.suffix), seen || len(vs) > 0
		}
		if seen {
			t.insertColumn("", f.header, cells) // no column is headed "": at the end
		}
	}
	return t
}

// spread shows the median of one figure over the runs of an N and its range, "1.03x
// (0.98–1.10)", saying how many runs had it when some had not: "1.03x (0.98–1.10, 2 of 3
// runs)", "1.03x (1 of 3 runs)"; "-" when none had it.
func spread(vs []float64, runs int, format, suffix string) string {
	if len(vs) == 0 {
		return "-"
	}
	var notes []string
	if len(vs) > 1 {
		notes = append(notes, fmt.Sprintf(format+"–"+format, slices.Min(vs), slices.Max(vs)))
	}
	if len(vs) < runs {
		notes = append(notes, fmt.Sprintf("%d of %d runs", len(vs), runs))
	}
	m := fmt.Sprintf(format, median(vs)) + suffix
	if len(notes) == 0 {
		return m
	}
	return m + " (" + strings.Join(notes, ", ") + ")"
}

// median is the middle value, or the mean of the two middle ones; vs is not empty.
func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
