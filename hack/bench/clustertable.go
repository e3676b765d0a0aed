package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// The report of a run with -clusters > 1: the summary and the phase tables get the writes
// to each workload cluster, the problems cover them as the hub's, and the README opens with
// a table that sets every multi-cluster run beside the one-cluster run of the same N.
// Files of one cluster show none of it in their own section.

// clusterSummaryColumns adds the clusters and the idle and restart writes to each workload
// cluster to the summary.
func clusterSummaryColumns(t *table, res *Results) {
	if res.Settings.clusters() == 1 {
		return
	}
	var clusters, idle, restart []string
	for _, r := range res.Runs {
		clusters = append(clusters, fmt.Sprint(res.Settings.clusters()))
		idle = append(idle, workloadWrites(r.phase(phaseIdle)))
		restart = append(restart, workloadWrites(r.phase(phaseRestart)))
	}
	t.insertColumn("N", "clusters", clusters)
	t.insertColumn("idle writes", "idle workload writes", idle)
	t.insertColumn("restart writes", "restart workload writes", restart)
}

// clusterPhaseColumns adds the writes and reads to each workload cluster to a phase table.
func clusterPhaseColumns(t *table, r Run) {
	if !slices.ContainsFunc(r.Phases, func(p *PhaseResult) bool { return len(p.Workloads) > 0 }) {
		return
	}
	var writes, reads []string
	for _, p := range r.Phases {
		writes = append(writes, joinInts(p.Workloads, func(c *ClusterRequests) int { return c.Requests.Writes }))
		reads = append(reads, joinInts(p.Workloads, func(c *ClusterRequests) int { return c.Requests.Reads }))
	}
	t.insertColumn("writes", "workload writes", writes)
	t.insertColumn("reads", "workload reads", reads)
}

// reviewClusters adds the workload clusters' problems: requests there that failed, writes
// there while idle or after a restart.
func reviewClusters(r *Run) {
	for _, p := range r.Phases {
		for _, c := range p.Workloads {
			if len(c.Requests.Failed) > 0 {
				r.problem("%s: bosun's requests to %s that failed: %s", p.Name, c.Name, topCounts(c.Requests.Failed, 5))
			}
			if (p.Name == phaseIdle || p.Name == phaseRestart) && c.Requests.Writes > 0 {
				r.problem("%s: bosun sent %d writes to %s with nothing to change (%s)",
					p.Name, c.Requests.Writes, c.Name, topCounts(writesOnly(c.Requests.ByVerb), 6))
			}
		}
	}
}

// clusterPair is a run with workload clusters and the run of one cluster it is compared
// with: same N, workload and fsync, the closest in time.
type clusterPair struct {
	one, multi       Run
	oneRes, multiRes *Results
}

// clusterPairs pairs every multi-cluster run whose cold phase finished with the one-cluster
// run closest in time of the same N, workload and etcd fsync whose cold phase finished too;
// a multi-cluster run without one is left out. all is in any order; the pairs follow the
// order of the multi-cluster files in all.
func clusterPairs(all []*Results) []clusterPair {
	var out []clusterPair
	for _, mr := range all {
		if mr.Settings.clusters() == 1 {
			continue
		}
		for _, m := range mr.Runs {
			if !coldFinished(m) {
				continue
			}
			best, bestRes, gap := Run{}, (*Results)(nil), math.Inf(1)
			for _, or := range all {
				if or.Settings.clusters() != 1 || or.Settings.replicas() != 1 || or.Fsync != mr.Fsync ||
					or.Settings.Workload != mr.Settings.Workload {
					continue
				}
				for _, o := range or.Runs {
					if o.N != m.N || !coldFinished(o) {
						continue
					}
					if d := math.Abs(o.Started.Sub(m.Started).Seconds()); d < gap {
						best, bestRes, gap = o, or, d
					}
				}
			}
			if bestRes != nil {
				out = append(out, clusterPair{one: best, multi: m, oneRes: bestRes, multiRes: mr})
			}
		}
	}
	return out
}

func coldFinished(r Run) bool {
	p := r.phase(phaseCold)
	return p != nil && p.Failed == ""
}

// clusterComparison is the table of the pairs: a row for the one-cluster run, then one for
// the multi-cluster run, with the figures they share.
func clusterComparison(pairs []clusterPair) table {
	t := table{headers: []string{"N", "clusters", "file", "cold Ready s", "cold s", "cold CPU s", "CPU ms/owner", "peak RSS MiB",
		"idle writes hub", "idle writes workload", "restart writes hub", "restart writes workload", "delete s", "problems"}}
	row := func(r Run, res *Results) []string {
		cold := r.phase(phaseCold)
		clusters := "1 (hub)"
		if n := res.Settings.clusters(); n > 1 {
			clusters = fmt.Sprint(n)
		}
		rss := "-"
		if r.Bosun != nil {
			rss = fmt.Sprintf("%.0f", r.Bosun.PeakRSSMiB)
		}
		return []string{fmt.Sprint(r.N), clusters, filepath.Base(res.Out), secs(cold.ReadySeconds), secs(cold.Seconds),
			fmt.Sprintf("%.1f", cold.CPUSeconds), fmt.Sprintf("%.2f", cold.CPUMsPerOwner), rss,
			hubWrites(r.phase(phaseIdle)), workloadWrites(r.phase(phaseIdle)),
			hubWrites(r.phase(phaseRestart)), workloadWrites(r.phase(phaseRestart)),
			phaseSecs(r.phase(phaseDelete)), fmt.Sprint(len(r.Problems))}
	}
	for _, p := range pairs {
		t.rows = append(t.rows, row(p.one, p.oneRes), row(p.multi, p.multiRes))
	}
	return t
}

func hubWrites(p *PhaseResult) string {
	if p == nil || p.Failed != "" {
		return "-"
	}
	return fmt.Sprint(p.Requests.Writes)
}

// clusterSection is the README's comparison of the multi-cluster runs with one cluster; ""
// when there is no pair.
func clusterSection(all []*Results) string {
	pairs := clusterPairs(all)
	if len(pairs) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("## One cluster and workload clusters side by side\n\n")
	sb.WriteString("Every run with `-clusters K` (K > 1: the children go to K workload clusters, the owners\n" +
		"spread over them round-robin) beside the one-cluster run of the same N, workload and etcd fsync\n" +
		"closest in time. Hub writes are bosun's writes to the hub (owners, their status, Events),\n" +
		"workload writes its writes to each workload cluster (workload-1/workload-2/...); CPU and peak\n" +
		"RSS are bosun's, whatever cluster it talks to. The workload clusters are control planes of\n" +
		"their own on the same machine (K more etcds and kube-apiservers), which the times include.\n\n")
	clusterComparison(pairs).markdown(&sb)
	sb.WriteString("\n")
	return sb.String()
}
