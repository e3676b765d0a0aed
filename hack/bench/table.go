package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

type table struct {
	headers []string
	rows    [][]string
}

// summaryTable has one row per N: the ceiling, bosun's times and their ratios, idle and restart
// writes, latency (the spec.port variant) and cost.
func summaryTable(res *Results) table {
	t := table{headers: []string{"N", "T_raw s", "T_children s", "conc", "raw→Current s",
		"cold s", "cold/raw", "cold/Current", "cold children s", "children/T_children",
		"create s", "create/raw", "update s", "update/raw",
		"delete s", "raw delete s", "delete/raw", "idle writes", "restart writes",
		"latency p50 ms", "latency p99 ms", "peak RSS MiB", "CPU s", "req/owner cold"}}
	for _, r := range res.Runs {
		raw := r.Raw
		if raw == nil {
			raw = &RawResult{}
		}
		ok := func(p *PhaseResult) bool { return p != nil && p.Failed == "" }
		cold, create, update, del := r.phase(phaseCold), r.phase(phaseCreate), r.phase(phaseUpdate), r.phase(phaseDelete)
		row := []string{fmt.Sprint(r.N), secs(raw.Seconds), secs(raw.ChildrenSeconds), count(raw.Concurrency), secs(raw.ReadySeconds)}
		row = append(row, phaseSecs(cold), ratioIf(ok(cold), cold, raw.Seconds), ratioIf(ok(cold), cold, raw.ReadySeconds))
		if ok(cold) {
			row = append(row, secs(cold.ChildrenSeconds), ratio(cold.ChildrenSeconds, raw.ChildrenSeconds))
		} else {
			row = append(row, "-", "-")
		}
		row = append(row, phaseSecs(create), ratioIf(ok(create), create, raw.Seconds))
		row = append(row, phaseSecs(update), ratioIf(ok(update), update, raw.Seconds))
		row = append(row, phaseSecs(del), secs(raw.DeleteSeconds), ratioIf(ok(del), del, raw.DeleteSeconds))
		for _, p := range []*PhaseResult{r.phase(phaseIdle), r.phase(phaseRestart)} {
			if ok(p) {
				row = append(row, fmt.Sprint(p.Requests.Writes))
			} else {
				row = append(row, "-")
			}
		}
		if p := r.phase(phaseLatency); p != nil && p.Latency != nil && p.Latency.Count > 0 {
			row = append(row, fmt.Sprintf("%.0f", p.Latency.P50Ms), fmt.Sprintf("%.0f", p.Latency.P99Ms))
		} else {
			row = append(row, "-", "-")
		}
		if r.Bosun != nil {
			row = append(row, fmt.Sprintf("%.0f", r.Bosun.PeakRSSMiB), fmt.Sprintf("%.1f", r.Bosun.CPUSeconds))
		} else {
			row = append(row, "-", "-")
		}
		if cold != nil {
			row = append(row, fmt.Sprintf("%.2f", cold.RequestsPerOwner))
		} else {
			row = append(row, "-")
		}
		t.rows = append(t.rows, row)
	}
	idealSummaryColumns(&t, res)
	shardSummaryColumns(&t, res)
	clusterSummaryColumns(&t, res)
	return t
}

// phaseTable details the cost of every phase of one N.
func phaseTable(r Run) table {
	t := table{headers: []string{"phase", "owners", "s", "children s", "harness s", "CPU s", "peak RSS MiB",
		"peak anon MiB", "file MiB", "writes", "reads", "watches", "failed", "409", "req/owner", "error logs", "result"}}
	for _, p := range r.Phases {
		failed := 0
		for _, v := range p.Requests.Failed {
			failed += v
		}
		result := "ok"
		switch {
		case p.Failed != "":
			result = "FAILED: " + p.Failed
		case p.FailedOwners > 0:
			result = fmt.Sprintf("%d owners failed", p.FailedOwners)
		}
		t.rows = append(t.rows, []string{p.Name, fmt.Sprint(p.Owners), secs(p.Seconds), secs(p.ChildrenSeconds), secs(p.ActionSeconds),
			fmt.Sprintf("%.1f", p.CPUSeconds), fmt.Sprintf("%.0f", p.PeakRSSMiB), mibOrDash(p.PeakAnonMiB), mibOrDash(p.FileRSSMiB),
			fmt.Sprint(p.Requests.Writes), fmt.Sprint(p.Requests.Reads), fmt.Sprint(p.Requests.Watches),
			fmt.Sprint(failed), fmt.Sprint(p.Requests.conflicts()), fmt.Sprintf("%.2f", p.RequestsPerOwner),
			fmt.Sprint(p.ErrorLogs), result})
	}
	shardPhaseColumns(&t, r)
	clusterPhaseColumns(&t, r)
	return t
}

// mibOrDash shows a figure older results do not have as "-".
func mibOrDash(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

func secs(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func phaseSecs(p *PhaseResult) string {
	switch {
	case p == nil:
		return "-"
	case p.Failed != "":
		return "FAILED"
	}
	return secs(p.Seconds)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// ratioIf is the phase's time over b, for a phase that finished.
func ratioIf(ok bool, p *PhaseResult, b float64) string {
	if !ok {
		return "-"
	}
	return ratio(p.Seconds, b)
}

func count(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// text pads the cells by characters, not bytes: headers have →, medians' ranges –.
func (t table) text(w io.Writer) {
	widths := make([]int, len(t.headers))
	for i, h := range t.headers {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, row := range t.rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) {
		for i, c := range cells {
			fmt.Fprintf(w, "%s%s  ", c, strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
		}
		fmt.Fprintln(w)
	}
	line(t.headers)
	for _, row := range t.rows {
		line(row)
	}
}

func (t table) markdown(w io.Writer) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(t.headers, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat(" --- |", len(t.headers)))
	for _, row := range t.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

// review turns what the figures show into plain problems: failed requests, errors logged,
// writes while idle or after a restart, memory that grew while idle, a bosun that exited.
func review(r *Run) {
	for _, p := range r.Phases {
		if n := len(p.Requests.Failed); n > 0 {
			r.problem("%s: bosun's requests that failed: %s", p.Name, topCounts(p.Requests.Failed, 5))
		}
		if p.FailedOwners > 0 {
			r.problem("%s: %s", p.Name, strings.Join(p.Notes, "; "))
		}
		if p.ErrorLogs > 0 {
			r.problem("%s: bosun logged %d errors", p.Name, p.ErrorLogs)
		}
		if (p.Name == phaseIdle || p.Name == phaseRestart) && p.Requests.Writes > 0 {
			r.problem("%s: bosun sent %d writes with nothing to change (%s); objects changed: %v",
				p.Name, p.Requests.Writes, topCounts(writesOnly(p.Requests.ByVerb), 6), p.Changes)
		}
		if p.Name == phaseIdle && p.RSSStartMiB > 0 && p.RSSEndMiB > 1.1*p.RSSStartMiB {
			r.problem("idle: bosun's RSS grew from %.0f to %.0f MiB in %.0fs", p.RSSStartMiB, p.RSSEndMiB, p.Seconds)
		}
	}
	reviewShard(r)
	reviewClusters(r)
	if r.Bosun != nil {
		if r.Bosun.ExitError != "" {
			r.problem("bosun exit: %s", r.Bosun.ExitError)
		}
		if len(r.Bosun.NotJSON) > 0 {
			r.problem("bosun printed %d lines that are not log lines, first: %s", len(r.Bosun.NotJSON), r.Bosun.NotJSON[0])
		}
	}
}

func writesOnly(byVerb map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range byVerb {
		if verb, _, _ := strings.Cut(k, " "); isWrite(verb) {
			out[k] = v
		}
	}
	return out
}

// topCounts formats the largest counts: "409 PATCH sites: 12, 500 APPLY configmaps: 1".
func topCounts(m map[string]int, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if m[keys[a]] != m[keys[b]] {
			return m[keys[a]] > m[keys[b]]
		}
		return keys[a] < keys[b]
	})
	var parts []string
	for i, k := range keys {
		if i == n {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func printTable(w io.Writer, res *Results) {
	clusters := ""
	if n := res.Settings.clusters(); n > 1 {
		clusters = fmt.Sprintf("; children in %d workload clusters", n)
	}
	fmt.Fprintf(w, "\nbosun %s%s on %d cores, %.0f GiB (%s); etcd fsync %s; requests counted by proxy: %v; workload %s%s\n\n",
		res.Bosun.Commit, dirtyMark(res.Bosun.Dirty), res.Machine.CPUs, res.Machine.MemoryGiB, res.Machine.CPUModel, onOff(res.Fsync), res.Proxy,
		res.Settings.workloadText(), clusters)
	summaryTable(res).text(w)
	if repeated(res) {
		fmt.Fprintf(w, "\nmedians over the runs of each N (min–max):\n")
		medianTable(res).text(w)
	}
	labels := runLabels(res.Runs)
	for i, r := range res.Runs {
		fmt.Fprintf(w, "\n%s phases:\n", sizeHeading(r.N, labels[i]))
		phaseTable(r).text(w)
		if r.Raw != nil {
			fmt.Fprintf(w, "raw: %d writes in %.1fs (%.0f/s; owner patches %.1fs, children %.1fs, status %.1fs), %d failed%s\n",
				r.Raw.Writes, r.Raw.Seconds, r.Raw.WritesPerSecond, r.Raw.OwnerSeconds, r.Raw.ChildrenSeconds, r.Raw.StatusSeconds, r.Raw.Failed,
				currentText(res.Settings, r.Raw))
		}
		for _, line := range idealLines(r) {
			fmt.Fprintln(w, line)
		}
		for _, name := range []string{phaseLatency, phaseLatencyRollout} {
			if p := r.phase(name); p != nil && p.Latency != nil {
				fmt.Fprintf(w, "%s (%s): %s\n", name, p.Latency.what(), p.Latency.text())
			}
		}
		if shardedRun(r) {
			fmt.Fprintf(w, "\n%s replicas (CPU in the phase; peak RSS; owners and slots at its end):\n", sizeHeading(r.N, labels[i]))
			replicaTable(r).text(w)
			for _, line := range shardLines(r) {
				fmt.Fprintln(w, line)
			}
		}
		for _, pr := range r.Problems {
			fmt.Fprintf(w, "problem: %s\n", pr)
		}
	}
}

// profilesText lists the profiles of every phase that has some: "cold: `a.cpu.pb.gz`,
// `a-heap.pb.gz`; delete: ..."; "" when none has.
func profilesText(r Run) string {
	var parts []string
	for _, p := range r.Phases {
		if len(p.Profiles) > 0 {
			parts = append(parts, p.Name+": `"+strings.Join(p.Profiles, "`, `")+"`")
		}
	}
	return strings.Join(parts, "; ")
}

// what is the edit and the child a latency phase timed: "spec.port → Service".
func (l *LatencyResult) what() string { return l.Edit + " → " + l.Child }

// text sums up a latency phase: edits, how many landed, quantiles and the windows' p50s.
func (l *LatencyResult) text() string {
	t := fmt.Sprintf("%d edits at %.1f/s over %d owners, %d landed: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms",
		l.Edits, l.Rate, l.Owners, l.Landed, l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs)
	if l.Failed > 0 {
		t += fmt.Sprintf(", %d edits failed", l.Failed)
	}
	if len(l.Windows) > 0 {
		t += fmt.Sprintf("; p50 per %s of edits: %s", latencyWindow, l.windowText())
	}
	if l.EditRequest != nil {
		t += "; the edits' own requests to the API server: " + l.EditRequest.quantiles()
	}
	return t
}

// currentText is "; every Deployment Current after 12.3s", for a workload with Deployments.
func currentText(s Settings, raw *RawResult) string {
	if !s.deployments() {
		return ""
	}
	return fmt.Sprintf("; every Deployment Current after %.1fs", raw.ReadySeconds)
}

// sizeHeading names one run of an N in the details: "N=1000", or "N=1000 (run 2 of 3)".
func sizeHeading(n int, label string) string {
	if label == "" {
		return fmt.Sprintf("N=%d", n)
	}
	return fmt.Sprintf("N=%d (%s)", n, label)
}

func dirtyMark(d bool) string {
	if d {
		return " (uncommitted changes)"
	}
	return ""
}

// writeREADME regenerates the summary from every results file in dir, newest first.
func writeREADME(dir string) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	var all []*Results
	for _, p := range paths {
		r, err := readResults(p)
		if err != nil {
			return err
		}
		all = append(all, r)
	}
	sort.Slice(all, func(a, b int) bool { return all[a].Started.After(all[b].Started) })
	var sb strings.Builder
	sb.WriteString(readmeHeader)
	sb.WriteString(clusterSection(all))
	for _, r := range all {
		writeRun(&sb, r)
	}
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(sb.String()), 0o644)
}

var readmeHeader = `# bosun benchmark results

Generated by ` + "`go run ./hack/bench`" + ` from the JSON files in this directory, newest first;
hack/bench/doc.go says what every phase does. A quick run: ` + "`go run ./hack/bench -n 200`" + `
(a few minutes); N = 1,000 takes about ten minutes on two cores; the default is N = 1,000,
5,000 and 10,000. ` + "`go run ./hack/bench -summarize`" + ` rewrites this file from the JSON files.

How to read the figures:

- Times are wall-clock seconds. T_raw is the ceiling: the writes per owner bosun's design
  needs (owner patch, an apply per child — three in the site workload —, status apply), with
  no reads, in three passes at the best of the tried concurrencies; T_children is its child
  applies alone. Ratios are bosun's time over T_raw (delete: over the raw child deletes).
- Ready waits for the Deployments to be Available, which kube-controller-manager and kwok
  do; raw→Current is how long after the first raw write every Deployment was Current, so
  cold/Current compares bosun's cold start with what the cluster itself needs, and "cold
  children" (every child exists) against T_children is bosun's own apply throughput. Before
  localcluster raised kube-controller-manager's client limits (commit a05aada) it made only
  about five Deployments per second Available and paced every Ready figure.
- bosun's requests are counted by a TLS proxy in front of the API server (the raw generator
  goes through it too), by verb and resource; 404s of reads (an owner read once it is gone;
  before commit 1124fe9 also the ownership check before a child's first apply) are expected and
  not counted as failures.
- Phases run in the order raw, cold, idle, restart, takeover, handoff (these two with several
  replicas only), update, latency, latency-rollout, delete, create, so bosun never has more
  than N owners and peak RSS at N is at N owners: create
  bulk-creates N Sites while bosun runs with none left. Runs marked "old phase order" ran
  create right after restart, with the N Sites of cold still there (2N owners).
- The latency columns are the ` + "`latency`" + ` phase: from the response to an edit of spec.port
  until the harness's watch delivers the Service with that port. A port edit changes only the
  Service, so it times bosun. The "Latency with rollout" line is ` + "`latency-rollout`" + `: an
  edit of spec.message until the ConfigMap shows it; the Deployment's pod template carries a
  hash of the message, so every edit also rolls a Deployment out (some 20 writes by
  kube-controller-manager and kwok), and at 20 edits/s the cluster itself saturates. Runs
  before the port variant had only the message edit (stored as "latency"); it is shown as
  latency-rollout, and their latency columns are empty.
- Peak RSS is VmHWM from /proc (reset per phase), CPU is utime+stime of the bosun process.
  RSS splits into anonymous memory (heap, stacks: what grows with N; "peak anon" is sampled
  once a second) and the resident pages of the binary ("file", at the end of the phase:
  shared, clean and reclaimable, about 28 MiB whatever N is). bosun is built as the image
  builds it: CGO_ENABLED=0, -trimpath, -ldflags "-s -w".
- Runs with ` + "`-replicas R`" + ` (R > 1) ran R bosun processes with ` + "`--sharding`" + ` (the bosun
  line has the flags), all through the proxy; their tables have a replicas column. CPU is
  summed over the replicas, peak RSS is the largest replica's ("RSS sum" adds up their
  peaks), and a table per N has each replica's figures and owner share. Writes leave Lease
  writes out (membership renewals and the shard map, counted apart), so idle and restart
  writes stay about owners and children. A restart stops every replica and starts R again.
  ` + "`takeover`" + ` SIGKILLs one replica and edits spec.port of up to ` + fmt.Sprint(takeoverOwners) + ` owners in its slots:
  the time from the kill until they are reconciled (target: the lease duration + 5 s).
  ` + "`handoff`" + ` edits spec.port of every Site, spread over at least ` + fmt.Sprint(handoffSpan.Seconds()) + ` s, and SIGTERMs one
  replica after half of them: child writes per edit (a port edit changes one child; target at
  most 1.05). Both then start a new replica in its place and wait until the group settled.
- The workload (` + "`-workload`" + `) is what each owner's children are: site (ConfigMap,
  Deployment, Service; Ready waits for the Deployment's rollout, which kube-controller-manager
  and kwok do) or light (ConfigMap and Service, ready once applied: Ready times bosun
  alone). Files without a workload line ran Sites with a ConfigMap, a Deployment and a
  Service. Without Deployments raw→Current is T_raw.
- The ideal controller (in the runs with an "ideal s" column) is timed on the raw phase's cluster,
  on N new owners: 32 owners in flight, per owner the owner patch, each child apply, the
  Ready status apply, one after the other, no read; it runs as a process of its own through
  the proxy, and its CPU is that process's (getrusage) from its first write to its last
  status write. "cold Ready" is bosun's settled converge: from bosun's start until the
  harness's watch delivered the last owner's Ready, against the ideal in Ready/ideal, with
  bosun's CPU per owner in cold next to the ideal's. child→Ready is, per owner, from the
  watch event of its last child write (ConfigMap or Service: any change; Deployment: its
  creation or a new generation) to the watch event of its Ready. The ideal deletion: the
  harness deletes the owners (32 in flight) and the controller, as each DELETE is answered,
  deletes the children and removes the finalizer, until every owner and child is gone;
  delete/ideal is bosun's delete phase (the same harness DELETEs) over it.
- Runs with ` + "`-clusters K`" + ` (K > 1) kept the owners in the hub and sent their children to K
  workload clusters (etcd, kube-apiserver and a kube-controller-manager with the namespace
  and garbage-collector controllers; no pods), registered as cluster Secrets, the owners
  spread over them round-robin with the bosun.dev/cluster annotation. A counting proxy stands
  in front of each workload cluster too: "workload writes" are bosun's writes to each
  (workload-1/workload-2/...), "writes" stay the hub's. raw, the ideal controller, takeover,
  handoff and the latency phases do not run then; the section above sets each such run beside
  the one-cluster run of the same N.
- The machine may be shared, and its disk's fsync latency varies: T_raw in particular varies
  from run to run (41 to 68 s for N = 1,000 on 2026-11-27), and ratios with it by ±0.2.

`

func writeRun(sb *strings.Builder, r *Results) {
	m := r.Machine
	fmt.Fprintf(sb, "## %s\n\n", filepath.Base(r.Out))
	fmt.Fprintf(sb, "- machine: %d cores (%s), %.1f GiB, Linux %s, %s\n", m.CPUs, m.CPUModel, m.MemoryGiB, m.Kernel, m.Go)
	fmt.Fprintf(sb, "- etcd fsync: **%s**; requests counted by proxy: %v\n", onOff(r.Fsync), r.Proxy)
	if r.Settings.Workload != "" {
		fmt.Fprintf(sb, "- workload: **%s** per owner\n", r.Settings.workloadText())
	}
	if n := r.Settings.clusters(); n > 1 {
		fmt.Fprintf(sb, "- clusters: the children went to **%d workload clusters** (cluster Secrets in the hub's namespace %s), the owners spread over them round-robin\n",
			n, r.Settings.ClustersNamespace)
	}
	env := ""
	if r.Settings.ReplicaCPUs > 0 {
		env = fmt.Sprintf("GOMAXPROCS=%d ", r.Settings.ReplicaCPUs)
	}
	fmt.Fprintf(sb, "- bosun %s%s: `%sbosun %s`\n", r.Bosun.Commit, dirtyMark(r.Bosun.Dirty), env, r.Bosun.Args)
	fmt.Fprintf(sb, "- command: `%s`, started %s, took %s\n", r.Command, r.Started.Format("2006-01-02 15:04"), r.Finished.Sub(r.Started).Round(1e9))
	if r.Note != "" {
		fmt.Fprintf(sb, "- note: %s\n", r.Note)
	}
	if r.createAtTwoN() {
		sb.WriteString("- old phase order: create ran while the N Sites of cold still existed, so create and peak RSS are at 2N owners\n")
	}
	sb.WriteString("\n")
	summaryTable(r).markdown(sb)
	if repeated(r) {
		sb.WriteString("\nMedians over the runs of each N, with their range (min–max); each figure's median is taken on its own, a ratio's over the runs' ratios:\n\n")
		medianTable(r).markdown(sb)
	}
	labels := runLabels(r.Runs)
	for i, run := range r.Runs {
		fmt.Fprintf(sb, "\n### %s\n\n", sizeHeading(run.N, labels[i]))
		phaseTable(run).markdown(sb)
		if shardedRun(run) {
			sb.WriteString("\nPer replica (CPU in the phase; peak RSS; owners and slots at its end, from each one's metrics):\n\n")
			replicaTable(run).markdown(sb)
			for _, line := range shardLines(run) {
				fmt.Fprintf(sb, "\n%s.\n", line)
			}
		}
		if run.Raw != nil {
			fmt.Fprintf(sb, "\nRaw: %d writes in %.1fs at concurrency %d (%.0f/s: owner patches %.1fs, children %.1fs, status %.1fs), %d failed%s; %d child deletes in %.1fs at concurrency %d.\n",
				run.Raw.Writes, run.Raw.Seconds, run.Raw.Concurrency, run.Raw.WritesPerSecond, run.Raw.OwnerSeconds, run.Raw.ChildrenSeconds,
				run.Raw.StatusSeconds, run.Raw.Failed, currentText(r.Settings, run.Raw), r.Settings.perOwner()*run.N, run.Raw.DeleteSeconds, run.Raw.DeleteConcurrency)
		}
		for _, line := range idealLines(run) {
			fmt.Fprintf(sb, "\n%s.\n", line)
		}
		if p := run.phase(phaseLatency); p != nil && p.Latency != nil {
			fmt.Fprintf(sb, "\nLatency (%s, no rollout): %s.\n", p.Latency.what(), p.Latency.text())
		}
		if p := run.phase(phaseLatencyRollout); p != nil && p.Latency != nil {
			fmt.Fprintf(sb, "\nLatency with rollout (%s, and the Deployment rolls out): %s.\n", p.Latency.what(), p.Latency.text())
		}
		if text := profilesText(run); text != "" {
			fmt.Fprintf(sb, "\nProfiles (-profile; `go tool pprof FILE`, beside the JSON file): %s.\n", text)
		}
		if len(run.Problems) > 0 {
			sb.WriteString("\nProblems seen:\n\n")
			for _, p := range run.Problems {
				fmt.Fprintf(sb, "- %s\n", p)
			}
		}
		if run.Bosun != nil && len(run.Bosun.Messages) > 0 {
			sb.WriteString("\nbosun's warnings and errors (names and numbers folded):\n\n")
			for _, m := range run.Bosun.Messages {
				fmt.Fprintf(sb, "- %d× `%s`\n", m.Count, strings.ReplaceAll(strings.ReplaceAll(m.Message, "`", "'"), "\n", " / "))
			}
		}
	}
	sb.WriteString("\n")
}
