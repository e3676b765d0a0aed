package main

import (
	"fmt"
	"slices"
	"strings"
)

// The report of a run with -replicas > 1: a few more columns in the summary and phase
// tables, a table of the replicas, and a line each for takeover and handoff. Files of one
// replica show none of it, so their summary reads as it always did.

// insertColumn puts a column after the one headed after (at the end if there is none).
func (t *table) insertColumn(after, header string, cells []string) {
	i := slices.Index(t.headers, after) + 1
	if i == 0 {
		i = len(t.headers)
	}
	t.headers = slices.Insert(t.headers, i, header)
	for r := range t.rows {
		t.rows[r] = slices.Insert(t.rows[r], i, cells[r])
	}
}

// shardSummaryColumns adds to the summary: the replicas, the Lease writes of idle and
// restart (apart from their writes, which stay about owners and children), the sum of the
// replicas' peak RSS (the peak RSS column is the largest replica's, CPU their sum), and the
// takeover time and the handoff's child writes per edit.
func shardSummaryColumns(t *table, res *Results) {
	if res.Settings.replicas() == 1 {
		return
	}
	var replicas, idleLease, restartLease, rssSum, takeover, handoff []string
	for _, r := range res.Runs {
		replicas = append(replicas, fmt.Sprint(res.Settings.replicas()))
		idleLease = append(idleLease, leaseWrites(r.phase(phaseIdle)))
		restartLease = append(restartLease, leaseWrites(r.phase(phaseRestart)))
		if r.Bosun != nil && r.Bosun.PeakRSSSumMiB > 0 {
			rssSum = append(rssSum, fmt.Sprintf("%.0f", r.Bosun.PeakRSSSumMiB))
		} else {
			rssSum = append(rssSum, "-")
		}
		takeover, handoff = append(takeover, "-"), append(handoff, "-")
		if p := r.phase(phaseTakeover); p != nil && p.Failed == "" && p.Shard != nil {
			takeover[len(takeover)-1] = secs(p.Shard.LandedSeconds)
		}
		if p := r.phase(phaseHandoff); p != nil && p.Failed == "" && p.Shard != nil {
			handoff[len(handoff)-1] = fmt.Sprintf("%.3f", p.Shard.ChildWritesPerEdit)
		}
	}
	t.insertColumn("N", "replicas", replicas)
	t.insertColumn("idle writes", "idle Lease writes", idleLease)
	t.insertColumn("restart writes", "restart Lease writes", restartLease)
	t.insertColumn("restart Lease writes", "takeover s", takeover)
	t.insertColumn("takeover s", "handoff child writes/edit", handoff)
	t.insertColumn("peak RSS MiB", "RSS sum MiB", rssSum)
}

func leaseWrites(p *PhaseResult) string {
	if p == nil || p.Failed != "" {
		return "-"
	}
	return fmt.Sprint(p.Requests.LeaseWrites)
}

// shardPhaseColumns adds the Lease writes to a phase table of several replicas.
func shardPhaseColumns(t *table, r Run) {
	if !shardedRun(r) {
		return
	}
	var cells []string
	for _, p := range r.Phases {
		cells = append(cells, fmt.Sprint(p.Requests.LeaseWrites))
	}
	t.insertColumn("writes", "Lease writes", cells)
}

// shardedRun tells whether several replicas ran.
func shardedRun(r Run) bool { return r.Bosun != nil && len(r.Bosun.Replicas) > 1 }

// replicaTable has each replica's figures per phase, "r0 / r1 / r2", with their largest and
// their sum, and a last row for the whole run.
func replicaTable(r Run) table {
	t := table{headers: []string{"phase", "CPU s per replica", "CPU s max", "CPU s sum", "peak RSS MiB per replica", "RSS max", "RSS sum",
		"owners per replica", "slots per replica", "settled s"}}
	for _, p := range r.Phases {
		if len(p.Replicas) == 0 {
			continue
		}
		cpu, rss := floats(p.Replicas, func(rp *ReplicaPhase) float64 { return rp.CPUSeconds }), floats(p.Replicas, func(rp *ReplicaPhase) float64 { return rp.PeakRSSMiB })
		t.rows = append(t.rows, []string{p.Name,
			join(cpu, "%.1f"), fmt.Sprintf("%.1f", slices.Max(cpu)), fmt.Sprintf("%.1f", sum(cpu)),
			join(rss, "%.0f"), fmt.Sprintf("%.0f", slices.Max(rss)), fmt.Sprintf("%.0f", sum(rss)),
			shares(p.Replicas, func(rp *ReplicaPhase) int { return rp.Owners }), shares(p.Replicas, func(rp *ReplicaPhase) int { return rp.Slots }),
			settled(p)})
	}
	all := r.Bosun.Replicas
	cpu, rss := floats(all, func(rt *ReplicaTotals) float64 { return rt.CPUSeconds }), floats(all, func(rt *ReplicaTotals) float64 { return rt.PeakRSSMiB })
	t.rows = append(t.rows, []string{"whole run",
		join(cpu, "%.1f"), fmt.Sprintf("%.1f", slices.Max(cpu)), fmt.Sprintf("%.1f", sum(cpu)),
		join(rss, "%.0f"), fmt.Sprintf("%.0f", slices.Max(rss)), fmt.Sprintf("%.0f", sum(rss)),
		join(floats(all, func(rt *ReplicaTotals) float64 { return float64(rt.Owners) }), "%.0f"),
		join(floats(all, func(rt *ReplicaTotals) float64 { return float64(rt.Slots) }), "%.0f"), "-"})
	return t
}

// settled is when the group settled in the phase: balanced (cold, restart) or, after a
// replica was replaced, rejoined.
func settled(p *PhaseResult) string {
	switch {
	case p.BalancedSeconds > 0:
		return secs(p.BalancedSeconds)
	case p.Shard != nil && p.Shard.RejoinSeconds > 0:
		return "rejoin " + secs(p.Shard.RejoinSeconds)
	}
	return "-"
}

// shares lists a figure of the replicas running at the end of the phase, "-" for the others.
func shares(reps []*ReplicaPhase, f func(*ReplicaPhase) int) string {
	parts := make([]string, len(reps))
	for i, rp := range reps {
		parts[i] = "-"
		if rp.Running {
			parts[i] = fmt.Sprint(f(rp))
		}
	}
	return strings.Join(parts, " / ")
}

func floats[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func join(vs []float64, format string) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf(format, v)
	}
	return strings.Join(parts, " / ")
}

func sum(vs []float64) float64 {
	total := 0.0
	for _, v := range vs {
		total += v
	}
	return total
}

// shardLines say what takeover and handoff measured, one sentence each.
func shardLines(r Run) []string {
	var out []string
	if p := r.phase(phaseTakeover); p != nil && p.Shard != nil && p.Failed == "" {
		sr := p.Shard
		out = append(out, fmt.Sprintf("Takeover (%s %s, which held slots %s with %d owners): the others held every slot %.1f s after the kill; "+
			"the %d owners of its slots edited (spec.port) right after it were reconciled %.1f s after the kill (target at most %.0f s: the lease duration + %.0f s); "+
			"%d child writes for %d edits; %s",
			sr.Signal, sr.Victim, sr.VictimSlots, sr.VictimOwners, sr.SlotsBackSeconds, sr.Edits, sr.LandedSeconds, sr.TargetSeconds,
			takeoverMargin.Seconds(), sr.ChildWrites, sr.Edits, sr.rejoinText()))
	}
	if p := r.phase(phaseHandoff); p != nil && p.Shard != nil && p.Failed == "" {
		sr := p.Shard
		out = append(out, fmt.Sprintf("Handoff (%s %s, which held slots %s with %d owners, %.1f s into %d spec.port edits spread over at least %.0f s; it exited in %.2f s): "+
			"every edit landed after %.1f s; %d child writes for %d edits, %.3f per edit (target at most %.2f); %s",
			sr.Signal, sr.Victim, sr.VictimSlots, sr.VictimOwners, sr.StopAtSeconds, sr.Edits, handoffSpan.Seconds(), sr.StopSeconds,
			p.Seconds, sr.ChildWrites, sr.Edits, sr.ChildWritesPerEdit, handoffTarget, sr.rejoinText()))
	}
	return out
}

func (sr *ShardResult) rejoinText() string {
	return fmt.Sprintf("a new %s joined, and the group settled %.1f s after its start, with %d child writes", sr.Victim, sr.RejoinSeconds, sr.RejoinChildWrites)
}

// reviewShard turns missed sharding targets into problems.
func reviewShard(r *Run) {
	for _, p := range r.Phases {
		sr := p.Shard
		if sr == nil || p.Failed != "" {
			continue
		}
		if p.Name == phaseTakeover && sr.LandedSeconds > sr.TargetSeconds {
			r.problem("takeover: the edits landed %.1f s after the SIGKILL, more than the target %.0f s", sr.LandedSeconds, sr.TargetSeconds)
		}
		if p.Name == phaseHandoff && sr.ChildWritesPerEdit > handoffTarget {
			r.problem("handoff: %.3f child writes per edit, more than the target %.2f", sr.ChildWritesPerEdit, handoffTarget)
		}
		if sr.ChildWrites < sr.Edits {
			r.problem("%s: %d child writes for %d edits: some edits were not applied", p.Name, sr.ChildWrites, sr.Edits)
		}
		if sr.RejoinChildWrites > 0 {
			r.problem("%s: %d child writes while the new %s joined, with nothing to change", p.Name, sr.RejoinChildWrites, sr.Victim)
		}
	}
}
