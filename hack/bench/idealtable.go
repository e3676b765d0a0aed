package main

import (
	"fmt"
	"slices"
	"strings"
)

// The report of the ideal controller and of bosun's figures compared with it: a few more
// columns in the summary and a few lines per N. Files from before it show none of it, so
// their summary reads as it always did.

// hasIdeal tells whether any run has the ideal controller's or the settled converge's figures.
func hasIdeal(res *Results) bool {
	return slices.ContainsFunc(res.Runs, func(r Run) bool {
		cold := r.phase(phaseCold)
		return (r.Raw != nil && r.Raw.IdealSeconds > 0) || (cold != nil && cold.ReadySeconds > 0)
	})
}

// idealSummaryColumns adds to the summary: the ideal controller's time and CPU per owner
// after the raw columns; cold's settled converge, its ratio to the ideal, bosun's CPU per
// owner and the last-child-to-Ready quantiles after the cold columns; the ideal deletion and
// the delete's ratio to it after the delete columns.
func idealSummaryColumns(t *table, res *Results) {
	if !hasIdeal(res) {
		return
	}
	var ideal, idealCPU, ready, vsIdeal, bosunCPU, p50, p99, idealDel, vsDel []string
	for _, r := range res.Runs {
		raw := r.Raw
		if raw == nil {
			raw = &RawResult{}
		}
		ideal, idealCPU = append(ideal, secs(raw.IdealSeconds)), append(idealCPU, msOrDash(raw.IdealCPUMsPerOwner))
		idealDel = append(idealDel, secs(raw.IdealDeleteSeconds))
		cells := []string{"-", "-", "-", "-", "-"}
		if cold := r.phase(phaseCold); cold != nil && cold.Failed == "" {
			cells = []string{secs(cold.ReadySeconds), times(cold.VsIdeal), msOrDash(cold.CPUMsPerOwner), "-", "-"}
			if c := cold.LastChildToReady; c != nil && c.Count > 0 {
				cells[3], cells[4] = fmt.Sprintf("%.0f", c.P50Ms), fmt.Sprintf("%.0f", c.P99Ms)
			}
		}
		ready, vsIdeal, bosunCPU = append(ready, cells[0]), append(vsIdeal, cells[1]), append(bosunCPU, cells[2])
		p50, p99 = append(p50, cells[3]), append(p99, cells[4])
		vs := "-"
		if del := r.phase(phaseDelete); del != nil && del.Failed == "" {
			vs = times(del.VsIdealDelete)
		}
		vsDel = append(vsDel, vs)
	}
	t.insertColumn("raw→Current s", "ideal s", ideal)
	t.insertColumn("ideal s", "ideal CPU ms/owner", idealCPU)
	t.insertColumn("cold/Current", "cold Ready s", ready)
	t.insertColumn("cold Ready s", "Ready/ideal", vsIdeal)
	t.insertColumn("Ready/ideal", "bosun CPU ms/owner", bosunCPU)
	t.insertColumn("bosun CPU ms/owner", "child→Ready p50 ms", p50)
	t.insertColumn("child→Ready p50 ms", "child→Ready p99 ms", p99)
	t.insertColumn("delete/raw", "ideal delete s", idealDel)
	t.insertColumn("ideal delete s", "delete/ideal", vsDel)
}

// msOrDash shows milliseconds with two decimals, or "-" when there is no figure.
func msOrDash(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

// times shows a stored ratio: "1.35x".
func times(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}

// idealLines sum up, for one N, the ideal controller and bosun's figures next to it.
func idealLines(r Run) []string {
	var lines []string
	if raw := r.Raw; raw != nil && raw.IdealSeconds > 0 {
		l := fmt.Sprintf("Ideal controller (%d owners in flight, %d writes, no reads): every status written %.1f s after the first write; CPU %.2f s, %.2f ms per owner",
			raw.IdealConcurrency, raw.IdealWrites, raw.IdealSeconds, raw.IdealCPUSeconds, raw.IdealCPUMsPerOwner)
		if raw.IdealCurrentSeconds > 0 {
			l += fmt.Sprintf("; every Deployment Current after %.1f s", raw.IdealCurrentSeconds)
		}
		if raw.IdealDeleteSeconds > 0 {
			l += fmt.Sprintf("; deletion (the harness's owner DELETEs, %d in flight; the controller's child DELETEs and finalizer removal): every owner and child gone after %.1f s",
				setupConcurrency, raw.IdealDeleteSeconds)
		}
		lines = append(lines, l)
	}
	if cold := r.phase(phaseCold); cold != nil && cold.Failed == "" && cold.ReadySeconds > 0 {
		l := fmt.Sprintf("Cold: every owner Ready %.1f s after bosun's start", cold.ReadySeconds)
		if cold.VsIdeal > 0 {
			l += fmt.Sprintf(" (%s the ideal controller)", times(cold.VsIdeal))
		}
		l += fmt.Sprintf("; bosun's CPU %.2f ms per owner", cold.CPUMsPerOwner)
		if r.Raw != nil && r.Raw.IdealCPUMsPerOwner > 0 {
			l += fmt.Sprintf(" (the ideal's %.2f)", r.Raw.IdealCPUMsPerOwner)
		}
		if c := cold.LastChildToReady; c != nil && c.Count > 0 {
			l += fmt.Sprintf("; last child write to Ready: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms over %d owners",
				c.P50Ms, c.P90Ms, c.P99Ms, c.MaxMs, c.Count)
			if c.ReadyFirst > 0 {
				l += fmt.Sprintf(" (%d Ready first, counted as 0)", c.ReadyFirst)
			}
		}
		lines = append(lines, l)
	}
	if del := r.phase(phaseDelete); del != nil && del.VsIdealDelete > 0 {
		lines = append(lines, fmt.Sprintf("Delete: every owner and child gone %.1f s after the first DELETE, %s the ideal deletion", del.Seconds, times(del.VsIdealDelete)))
	}
	return lines
}

// workloadText names the workload and its children: "light (ConfigMap, Service)".
func (s Settings) workloadText() string {
	w := s.Workload
	if w == "" {
		w = workloadSite
	}
	if s.Children == "" {
		return w
	}
	return w + " (" + strings.ReplaceAll(s.Children, ",", ", ") + ")"
}

// perOwner is the children of each owner: 3 in files from before -workload (the site workload).
func (s Settings) perOwner() int {
	if s.Children == "" {
		return 3
	}
	return len(strings.Split(s.Children, ","))
}

// deployments tells whether the owners had a Deployment (files from before -workload did).
func (s Settings) deployments() bool {
	return s.Children == "" || slices.Contains(strings.Split(s.Children, ","), "Deployment")
}
