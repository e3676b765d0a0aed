package main

import (
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/applier"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name, method, target, contentType string
		wantVerb, wantResource            string
	}{
		{"a namespaced get is a GET", "GET", "/api/v1/namespaces/a/configmaps/x", "", "GET", "configmaps"},
		{"a get without a name is a LIST", "GET", "/apis/apps/v1/deployments?labelSelector=a%3Db", "", "LIST", "deployments"},
		{"watch=true is a WATCH", "GET", "/apis/example.bosun.dev/v1/sites?watch=true", "", "WATCH", "sites"},
		{"an apply patch is an APPLY", "PATCH", "/apis/example.bosun.dev/v1/namespaces/a/sites/s/status", "application/apply-patch+yaml", "APPLY", "sites/status"},
		{"a merge patch is a PATCH", "PATCH", "/apis/example.bosun.dev/v1/namespaces/a/sites/s", "application/merge-patch+json", "PATCH", "sites"},
		{"a post is a CREATE", "POST", "/apis/events.k8s.io/v1/namespaces/a/events", "", "CREATE", "events"},
		{"a namespace itself is the namespaces resource", "GET", "/api/v1/namespaces/a", "", "GET", "namespaces"},
		{"a delete with a name is a DELETE", "DELETE", "/api/v1/namespaces/a/services/x", "", "DELETE", "services"},
		{"group discovery is DISCOVERY", "GET", "/apis/apps/v1", "", "DISCOVERY", ""},
		{"the root is DISCOVERY", "GET", "/api", "", "DISCOVERY", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			verb, res := classify(r)
			if diff := cmp.Diff([]string{tt.wantVerb, tt.wantResource}, []string{verb, res}); diff != "" {
				t.Errorf("classify(%s %s) (-want +got):\n%s", tt.method, tt.target, diff)
			}
		})
	}
}

func TestDiffRequests(t *testing.T) {
	before := map[reqKey]int{{"APPLY", "configmaps", 0}: 2}
	after := map[reqKey]int{
		{"APPLY", "configmaps", 0}: 5,
		{"GET", "configmaps", 0}:   4,
		{"GET", "configmaps", 404}: 3,
		{"WATCH", "sites", 0}:      1,
		{"CREATE", "events", 0}:    2,
		{"CREATE", "events", 409}:  1,
	}
	want := Requests{
		Total: 10, Writes: 5, Reads: 4, Watches: 1,
		ByVerb:   map[string]int{"APPLY configmaps": 3, "GET configmaps": 4, "WATCH sites": 1, "CREATE events": 2},
		Failed:   map[string]int{"409 CREATE events": 1},
		NotFound: map[string]int{"GET configmaps": 3},
	}
	if diff := cmp.Diff(want, diffRequests(before, after)); diff != "" {
		t.Errorf("diffRequests (-want +got):\n%s", diff)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(101-i)*time.Millisecond)
	}
	want := Latencies{Count: 100, P50Ms: 50, P90Ms: 90, P99Ms: 99, MaxMs: 100, MeanMs: 50.5}
	if diff := cmp.Diff(want, summarize(ds)); diff != "" {
		t.Errorf("summarize (-want +got):\n%s", diff)
	}
}

func TestParseCountersKeepsOnlyTotals(t *testing.T) {
	text := `# HELP rest_client_requests_total Requests.
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",method="GET"} 12
workqueue_depth{name="sites"} 3
bosun_reconciles_total{result="success",watch="sites"} 7
`
	want := map[string]float64{
		`rest_client_requests_total{code="200",method="GET"}`:    12,
		`bosun_reconciles_total{result="success",watch="sites"}`: 7,
	}
	if diff := cmp.Diff(want, parseCounters(strings.NewReader(text))); diff != "" {
		t.Errorf("parseCounters (-want +got):\n%s", diff)
	}
}

func TestLogStatsFoldsNamesAndNumbers(t *testing.T) {
	l := newLogStats()
	for _, line := range []string{
		`{"level":"error","msg":"reconcile failed; will retry","error":"Site/bench-a-3/site-00012: apply: timeout after 30s"}`,
		`{"level":"error","msg":"reconcile failed; will retry","error":"Site/bench-b-7/site-00999: apply: timeout after 31s"}`,
		`{"level":"info","msg":"initial sync done"}`,
		`panic: boom`,
	} {
		l.observe([]byte(line))
	}
	levels, messages, notJSON := l.summary()
	want := []MessageCount{{Message: "error: reconcile failed; will retry: Site/<name>/<name>: apply: timeout after N", Count: 2}}
	if diff := cmp.Diff(want, messages); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"error": 2, "info": 1}, levels); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"panic: boom"}, notJSON); diff != "" {
		t.Errorf("not JSON (-want +got):\n%s", diff)
	}
	if l.initialSyncDone().IsZero() {
		t.Errorf("initial sync done was logged but not seen")
	}
}

func TestPhaseOrder(t *testing.T) {
	tests := []struct {
		phases   string
		replicas string
		want     []string
	}{
		{"", "1", []string{"raw", "cold", "idle", "restart", "update", "latency", "latency-rollout", "delete", "create"}},
		{"", "3", allPhases},
		{"raw,cold,delete", "1", []string{"raw", "cold", "delete"}},
		{"latency", "1", []string{"cold", "latency"}},
		{"create,delete,update", "1", []string{"cold", "update", "delete", "create"}},
		{"latency-rollout,latency", "1", []string{"cold", "latency", "latency-rollout"}},
		{"raw", "1", []string{"raw"}},
		{"handoff,idle,takeover", "2", []string{"cold", "idle", "takeover", "handoff"}},
	}
	for _, tt := range tests {
		args := []string{"-replicas", tt.replicas}
		if tt.phases != "" {
			args = append(args, "-phases", tt.phases)
		}
		o, err := parseFlags(args, io.Discard)
		if err != nil {
			t.Fatalf("parseFlags(%q): %v", args, err)
		}
		if diff := cmp.Diff(tt.want, o.order()); diff != "" {
			t.Errorf("order of -phases %q with -replicas %s (-want +got):\n%s", tt.phases, tt.replicas, diff)
		}
	}
	// create comes last: no phase runs with more than N owners.
	if allPhases[len(allPhases)-1] != phaseCreate {
		t.Errorf("create is not the last phase: %v", allPhases)
	}
}

func TestNextPortAlwaysChanges(t *testing.T) {
	for i := range 3000 {
		for _, cur := range []int64{defaultPort, 8000 + int64(i%1000), 8000 + int64((i+1)%1000)} {
			p := nextPort(i, cur)
			if p == cur || p < 8000 || p > 8999 {
				t.Fatalf("nextPort(%d, %d) = %d", i, cur, p)
			}
		}
	}
}

func TestOldResultsReadAsLatencyRollout(t *testing.T) {
	old := `{"settings": {"phases": "raw,cold,idle,restart,create,update,latency,delete"},
		"runs": [{"n": 10, "phases": [{"name": "cold"}, {"name": "create"},
		{"name": "latency", "owners": 600, "latency": {"edits": 600, "landed": 600, "latency": {"count": 600, "p50Ms": 4990}}}]}]}`
	path := filepath.Join(t.TempDir(), "old.json")
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := readResults(path)
	if err != nil {
		t.Fatal(err)
	}
	run := r.Runs[0]
	if run.phase(phaseLatency) != nil {
		t.Errorf("the old message latency is still read as the port latency")
	}
	p := run.phase(phaseLatencyRollout)
	if p == nil || p.Latency == nil || p.Latency.P50Ms != 4990 || p.Latency.what() != "spec.message → ConfigMap" {
		t.Fatalf("latency-rollout = %+v", p)
	}
	if !r.createAtTwoN() {
		t.Errorf("an old file with create is not marked as creating at 2N")
	}
	var sb strings.Builder
	writeRun(&sb, r)
	for _, want := range []string{"Latency with rollout (spec.message → ConfigMap", "old phase order"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sb.String())
		}
	}
	tab := summaryTable(r)
	p50, p99 := slices.Index(tab.headers, "latency p50 ms"), slices.Index(tab.headers, "latency p99 ms")
	if p50 < 0 || p99 < 0 {
		t.Fatalf("no latency columns in %q", tab.headers)
	}
	if row := tab.rows[0]; row[p50] != "-" || row[p99] != "-" {
		t.Errorf("latency columns of an old file = %q, %q; want -", row[p50], row[p99])
	}
}

func TestParseFlagsRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a sharding phase with one replica", []string{"-phases", "cold,takeover"}, "-phases: takeover stops one of several replicas: it needs -replicas > 1"},
		{"no replica", []string{"-replicas", "0"}, "-replicas: 0 is less than 1"},
		{"more replicas than slots", []string{"-replicas", "33"}, "-replicas: 33 is more than the 32 slots the owners are split into"},
		{"no run", []string{"-runs", "0"}, "-runs: 0 is less than 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)
			if err == nil || err.Error() != tt.want {
				t.Errorf("parseFlags(%q) = %v, want %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestLeaseWritesAreCountedApart(t *testing.T) {
	after := map[reqKey]int{
		{"UPDATE", "leases", 0}:      30,
		{"UPDATE", "leases", 409}:    2,
		{"GET", "leases", 0}:         1,
		{"APPLY", "services", 0}:     4,
		{"APPLY", "sites/status", 0}: 4,
		{"PATCH", "sites", 0}:        1,
		{"CREATE", "events", 0}:      1,
	}
	got := diffRequests(nil, after)
	if got.Writes != 10 || got.LeaseWrites != 30 || got.Reads != 1 || got.Total != 41 {
		t.Errorf("writes %d, Lease writes %d, reads %d, total %d; want 10, 30, 1, 41", got.Writes, got.LeaseWrites, got.Reads, got.Total)
	}
	if diff := cmp.Diff(map[string]int{"409 UPDATE leases": 2}, got.LeaseFailed); diff != "" {
		t.Errorf("Lease failures (-want +got):\n%s", diff)
	}
	if len(got.Failed) != 0 {
		t.Errorf("a lost compare-and-swap of a Lease counts as a failed request: %v", got.Failed)
	}
	if n := got.childWrites(); n != 4 {
		t.Errorf("childWrites = %d, want the 4 Service applies", n)
	}
}

func TestParseSlots(t *testing.T) {
	for text, want := range map[string][]int{"": nil, "0-3,9": {0, 1, 2, 3, 9}, "31": {31}, "10-12,20-21": {10, 11, 12, 20, 21}} {
		if diff := cmp.Diff(want, parseSlots(text)); diff != "" {
			t.Errorf("parseSlots(%q) (-want +got):\n%s", text, diff)
		}
	}
}

func TestSamplesAndSums(t *testing.T) {
	text := `# TYPE bosun_owners gauge
bosun_owners{watch="a"} 60
bosun_owners{watch="b"} 7
bosun_shard_slots 11
bosun_reconciles_total{result="success",trigger="owner",watch="a"} 5
`
	samples := parseSamples(strings.NewReader(text))
	if got := sumOf(samples, "bosun_owners"); got != 67 {
		t.Errorf("bosun_owners summed = %v, want 67", got)
	}
	if got := sumOf(samples, "bosun_shard_slots"); got != 11 {
		t.Errorf("bosun_shard_slots = %v, want 11", got)
	}
	if diff := cmp.Diff(map[string]float64{`bosun_reconciles_total{result="success",trigger="owner",watch="a"}`: 5}, counters(samples)); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
}

func TestGroupSettled(t *testing.T) {
	tests := []struct {
		name string
		g    groupView
		want bool
	}{
		{"three replicas split 11/11/10 with every owner", groupView{running: 3, members: []int{3, 3, 3}, slots: []int{11, 11, 10}, owners: []int{70, 60, 70}}, true},
		{"one still sees two members", groupView{running: 3, members: []int{3, 2, 3}, slots: []int{11, 11, 10}, owners: []int{70, 60, 70}}, false},
		{"one holds most slots", groupView{running: 3, members: []int{3, 3, 3}, slots: []int{20, 6, 6}, owners: []int{70, 60, 70}}, false},
		{"owners missing from the caches", groupView{running: 3, members: []int{3, 3, 3}, slots: []int{11, 11, 10}, owners: []int{70, 60, 69}}, false},
		{"work queued", groupView{running: 3, members: []int{3, 3, 3}, slots: []int{11, 11, 10}, owners: []int{70, 60, 70}, queued: 1}, false},
		{"one not running", groupView{running: 2, members: []int{3, 3, -1}, slots: []int{16, 16, -1}, owners: []int{100, 100, -1}}, false},
	}
	for _, tt := range tests {
		if got := tt.g.settled(3, 200); got != tt.want {
			t.Errorf("%s: settled = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// oneReplicaHeaders are the summary's columns before -replicas: a file of one replica keeps them.
var oneReplicaHeaders = []string{"N", "T_raw s", "T_children s", "conc", "raw→Current s",
	"cold s", "cold/raw", "cold/Current", "cold children s", "children/T_children",
	"create s", "create/raw", "update s", "update/raw",
	"delete s", "raw delete s", "delete/raw", "idle writes", "restart writes",
	"latency p50 ms", "latency p99 ms", "peak RSS MiB", "CPU s", "req/owner cold"}

func TestSummaryOfReplicas(t *testing.T) {
	one := &Results{Runs: []Run{{N: 10, Phases: []*PhaseResult{{Name: phaseCold}}, Bosun: &BosunTotals{}}}}
	if diff := cmp.Diff(oneReplicaHeaders, summaryTable(one).headers); diff != "" {
		t.Errorf("summary columns of one replica (-want +got):\n%s", diff)
	}
	if h := phaseTable(one.Runs[0]).headers; slices.Contains(h, "Lease writes") {
		t.Errorf("the phase table of one replica has a Lease writes column: %q", h)
	}

	reps := func(cpu ...float64) []*ReplicaPhase {
		var out []*ReplicaPhase
		for i, c := range cpu {
			out = append(out, &ReplicaPhase{Name: fmt.Sprintf("r%d", i), CPUSeconds: c, PeakRSSMiB: 40 + c, Running: true, Owners: 10 * i, Slots: 11 - i/2})
		}
		return out
	}
	three := &Results{Settings: Settings{Replicas: 3}, Runs: []Run{{N: 30,
		Phases: []*PhaseResult{
			{Name: phaseCold, Seconds: 9, Replicas: reps(1, 2, 3), BalancedSeconds: 12},
			{Name: phaseRestart, Requests: Requests{LeaseWrites: 42}, Replicas: reps(1, 1, 1)},
			{Name: phaseTakeover, Seconds: 17, Replicas: reps(0, 0, 0), Shard: &ShardResult{Victim: "r2", Signal: "SIGKILL", VictimSlots: "21-31", Edits: 5, ChildWrites: 5, ChildWritesPerEdit: 1, LandedSeconds: 17.2, TargetSeconds: 20, RejoinSeconds: 3}},
			{Name: phaseHandoff, Seconds: 25, Replicas: reps(0, 0, 0), Shard: &ShardResult{Victim: "r2", Signal: "SIGTERM", Edits: 30, ChildWrites: 33, ChildWritesPerEdit: 1.1}},
		},
		Bosun: &BosunTotals{PeakRSSSumMiB: 150, Replicas: []*ReplicaTotals{{Name: "r0", CPUSeconds: 3}, {Name: "r1", CPUSeconds: 4}, {Name: "r2", CPUSeconds: 5}}},
	}}}
	tab := summaryTable(three)
	cell := func(header string) string {
		i := slices.Index(tab.headers, header)
		if i < 0 {
			t.Fatalf("no column %q in %q", header, tab.headers)
		}
		return tab.rows[0][i]
	}
	for header, want := range map[string]string{"replicas": "3", "restart writes": "0", "restart Lease writes": "42", "takeover s": "17.2",
		"handoff child writes/edit": "1.100", "RSS sum MiB": "150"} {
		if got := cell(header); got != want {
			t.Errorf("column %q = %q, want %q", header, got, want)
		}
	}
	run := three.Runs[0]
	if h := phaseTable(run).headers; !slices.Contains(h, "Lease writes") {
		t.Errorf("the phase table of three replicas has no Lease writes column: %q", h)
	}
	rt := replicaTable(run)
	if diff := cmp.Diff([]string{"cold", "1.0 / 2.0 / 3.0", "3.0", "6.0", "41 / 42 / 43", "43", "126", "0 / 10 / 20", "11 / 11 / 10", "12.0"}, rt.rows[0]); diff != "" {
		t.Errorf("replica row of cold (-want +got):\n%s", diff)
	}
	if last := rt.rows[len(rt.rows)-1]; last[0] != "whole run" || last[3] != "12.0" {
		t.Errorf("last replica row = %q, want the whole run with 12.0 CPU s summed", last)
	}
	lines := strings.Join(shardLines(run), "\n")
	for _, want := range []string{"Takeover (SIGKILL r2, which held slots 21-31", "reconciled 17.2 s after the kill (target at most 20 s", "Handoff (SIGTERM r2", "33 child writes for 30 edits, 1.100 per edit (target at most 1.05)"} {
		if !strings.Contains(lines, want) {
			t.Errorf("sharding lines lack %q:\n%s", want, lines)
		}
	}
	review(&run)
	if !slices.ContainsFunc(run.Problems, func(p string) bool { return strings.HasPrefix(p, "handoff: 1.100 child writes per edit") }) {
		t.Errorf("a handoff over its target is no problem: %q", run.Problems)
	}
	if slices.ContainsFunc(run.Problems, func(p string) bool { return strings.HasPrefix(p, "takeover") }) {
		t.Errorf("a takeover within its target is a problem: %q", run.Problems)
	}
}

func TestWorkloadPicksTheConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want options
	}{
		{"site by default", nil, options{workload: "site", config: "examples/site/watch.yaml"}},
		{"light picks site-light", []string{"-workload", "light"}, options{workload: "light", config: "examples/site-light/watch.yaml"}},
		{"an explicit -config wins", []string{"-workload", "light", "-config", "examples/site-chart/watch.yaml"}, options{workload: "light", config: "examples/site-chart/watch.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tt.want.workload, tt.want.config}, []string{o.workload, o.config}); diff != "" {
				t.Errorf("workload and config (-want +got):\n%s", diff)
			}
		})
	}
	_, err := parseFlags([]string{"-workload", "heavy"}, io.Discard)
	if want := `-workload: unknown workload "heavy" (want site or light)`; err == nil || err.Error() != want {
		t.Errorf("parseFlags(-workload heavy) = %v, want %q", err, want)
	}
}

func TestWorkloadConfigsExist(t *testing.T) {
	for w, cfg := range workloadConfigs {
		if _, err := os.Stat(filepath.Join("..", "..", cfg)); err != nil {
			t.Errorf("workload %s: %v", w, err)
		}
	}
}

func TestChildToReady(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	times := []ownerTimes{
		{lastChild: at(100), ready: at(110), readyGen: 1},
		{lastChild: at(200), ready: at(230), readyGen: 1},
		{lastChild: at(300), ready: at(298), readyGen: 1}, // Ready came first on its watch
		{lastChild: at(400)},                              // not Ready yet
		{ready: at(500), readyGen: 1},                     // no child write seen
	}
	want := ChildToReady{Latencies: Latencies{Count: 3, P50Ms: 10, P90Ms: 30, P99Ms: 30, MaxMs: 30, MeanMs: 13.3}, ReadyFirst: 1}
	if diff := cmp.Diff(want, childToReady(times)); diff != "" {
		t.Errorf("childToReady (-want +got):\n%s", diff)
	}
	if got := lastReady(times, 4); !got.Equal(at(500)) {
		t.Errorf("lastReady of 4 owners = %v, want the 500 ms one", got)
	}
	if got := lastReady(times, 5); !got.IsZero() {
		t.Errorf("lastReady of 5 owners, 4 Ready = %v, want zero", got)
	}
}

func TestChildWrite(t *testing.T) {
	dep := func(gen int64, rv string) *deploymentInfo {
		return &deploymentInfo{ObjectMeta: slim("ns", "site-1", "u", rv, gen)}
	}
	tests := []struct {
		name      string
		old, obj  any
		wantOwner string
		wantWrite bool
	}{
		{"a ConfigMap names its owner without -content", nil, &configMapInfo{ObjectMeta: slim("ns", "site-1-content", "u", "1", 0)}, "ns/site-1", true},
		{"any change of a Service is a write", &serviceInfo{}, &serviceInfo{ObjectMeta: slim("ns", "site-1", "u", "2", 0)}, "ns/site-1", true},
		{"a new Deployment is a write", nil, dep(1, "1"), "ns/site-1", true},
		{"a Deployment's status update is not", dep(1, "1"), dep(1, "2"), "ns/site-1", false},
		{"a Deployment's new generation is", dep(1, "2"), dep(2, "3"), "ns/site-1", true},
		{"a Site is no child", nil, &siteInfo{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner, write := childWrite(tt.old, tt.obj)
			if owner != tt.wantOwner || write != tt.wantWrite {
				t.Errorf("childWrite = %q, %v; want %q, %v", owner, write, tt.wantOwner, tt.wantWrite)
			}
		})
	}
}

func TestCompareIdeal(t *testing.T) {
	r := Run{N: 200, Raw: &RawResult{Ideal: Ideal{IdealSeconds: 4, IdealDeleteSeconds: 5}}, Phases: []*PhaseResult{
		{Name: phaseCold, Seconds: 11, ReadySeconds: 10},
		{Name: phaseDelete, Seconds: 7.5},
	}}
	compareIdeal(&r)
	if got := r.phase(phaseCold).VsIdeal; got != 2.5 {
		t.Errorf("cold vsIdeal = %v, want readySeconds over idealSeconds, 2.5", got)
	}
	if got := r.phase(phaseDelete).VsIdealDelete; got != 1.5 {
		t.Errorf("delete vsIdealDelete = %v, want 1.5", got)
	}
	failed := Run{Raw: &RawResult{Ideal: Ideal{IdealSeconds: 4}}, Phases: []*PhaseResult{{Name: phaseCold, ReadySeconds: 10, Failed: "timed out"}}}
	compareIdeal(&failed)
	if got := failed.phase(phaseCold).VsIdeal; got != 0 {
		t.Errorf("a failed cold has vsIdeal %v", got)
	}
}

func TestReleasePatchRemovesOnlyBosunsFinalizer(t *testing.T) {
	owner := &unstructured.Unstructured{}
	owner.SetUID("u-1")
	owner.SetFinalizers([]string{"other.dev/keep"})
	uid := `{"op":"test","path":"/metadata/uid","value":"u-1"},`
	fin := `{"op":"test","path":"/metadata/finalizers/1","value":"` + applier.Finalizer + `"},`
	remove := `{"op":"remove","path":"/metadata/finalizers/1"}`
	for _, tc := range []struct {
		name, instance, want string
	}{
		{"without an installation it tests the UID and the finalizer", "", "[" + uid + fin + remove + "]"},
		{"with one it also tests that the owner is still the installation's", "default/bosun@0a1b2c3d",
			"[" + uid + fin + `{"op":"test","path":"/metadata/annotations/bosun.dev~1instance","value":"default/bosun@0a1b2c3d"},` + remove + "]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := releasePatch(owner, tc.instance)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("release patch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIdealColumnsAndLines(t *testing.T) {
	res := &Results{Settings: Settings{Workload: "light", Children: "ConfigMap,Service"}, Runs: []Run{{N: 200,
		Raw: &RawResult{Seconds: 3, Ideal: Ideal{IdealConcurrency: 32, IdealWrites: 800, IdealSeconds: 4, IdealCPUSeconds: 0.5, IdealCPUMsPerOwner: 2.5, IdealDeleteSeconds: 5}},
		Phases: []*PhaseResult{
			{Name: phaseCold, Seconds: 11, ReadySeconds: 10, VsIdeal: 2.5, CPUMsPerOwner: 12.34,
				LastChildToReady: &ChildToReady{Latencies: Latencies{Count: 200, P50Ms: 4, P90Ms: 9, P99Ms: 21, MaxMs: 40}}},
			{Name: phaseDelete, Seconds: 7.5, VsIdealDelete: 1.5},
		}}}}
	tab := summaryTable(res)
	for header, want := range map[string]string{"ideal s": "4.0", "ideal CPU ms/owner": "2.50", "cold Ready s": "10.0", "Ready/ideal": "2.50x",
		"bosun CPU ms/owner": "12.34", "child→Ready p50 ms": "4", "child→Ready p99 ms": "21", "ideal delete s": "5.0", "delete/ideal": "1.50x"} {
		i := slices.Index(tab.headers, header)
		if i < 0 {
			t.Errorf("no column %q in %q", header, tab.headers)
			continue
		}
		if got := tab.rows[0][i]; got != want {
			t.Errorf("column %q = %q, want %q", header, got, want)
		}
	}
	if i, j := slices.Index(tab.headers, "raw→Current s"), slices.Index(tab.headers, "ideal s"); j != i+1 {
		t.Errorf("ideal s is column %d, want %d right after raw→Current s", j, i+1)
	}
	lines := strings.Join(idealLines(res.Runs[0]), "\n")
	for _, want := range []string{"every status written 4.0 s after the first write; CPU 0.50 s, 2.50 ms per owner",
		"every owner Ready 10.0 s after bosun's start (2.50x the ideal controller); bosun's CPU 12.34 ms per owner (the ideal's 2.50)",
		"p50 4 ms, p90 9 ms, p99 21 ms, max 40 ms over 200 owners", "2.50x", "1.50x the ideal deletion"} {
		if !strings.Contains(lines, want) {
			t.Errorf("ideal lines lack %q:\n%s", want, lines)
		}
	}
	var sb strings.Builder
	writeRun(&sb, res)
	for _, want := range []string{"- workload: **light (ConfigMap, Service)** per owner", "failed; 400 child deletes"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sb.String())
		}
	}
	if strings.Contains(sb.String(), "Deployment Current") {
		t.Errorf("a workload without Deployments reports them Current:\n%s", sb.String())
	}
}

func TestSpread(t *testing.T) {
	tests := []struct {
		name           string
		vs             []float64
		runs           int
		format, suffix string
		want           string
	}{
		{"the middle of three, whatever their order", []float64{1.10, 0.98, 1.03}, 3, "%.2f", "x", "1.03x (0.98–1.10)"},
		{"the mean of the middle two of four", []float64{40, 10, 30, 20}, 4, "%.1f", "", "25.0 (10.0–40.0)"},
		{"a figure some runs lack says how many had it", []float64{1.0, 1.2}, 3, "%.2f", "x", "1.10x (1.00–1.20, 2 of 3 runs)"},
		{"one run of three has no range", []float64{1.5}, 3, "%.2f", "x", "1.50x (1 of 3 runs)"},
		{"no run has it", nil, 3, "%.0f", "", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spread(tt.vs, tt.runs, tt.format, tt.suffix); got != tt.want {
				t.Errorf("spread(%v, %d) = %q, want %q", tt.vs, tt.runs, got, tt.want)
			}
		})
	}
}

func TestMediansOfRepeatedRuns(t *testing.T) {
	run := func(n int, ready, vsIdeal, rss, del float64) Run {
		return Run{N: n, Raw: &RawResult{Ideal: Ideal{IdealSeconds: ready / vsIdeal, IdealCPUMsPerOwner: 2}},
			Phases: []*PhaseResult{
				{Name: phaseCold, ReadySeconds: ready, VsIdeal: vsIdeal, CPUMsPerOwner: 5, LastChildToReady: &ChildToReady{Latencies: Latencies{Count: n, P99Ms: ready}}},
				{Name: phaseDelete, Seconds: del, VsIdealDelete: del / 10},
			},
			Bosun: &BosunTotals{PeakRSSMiB: rss}}
	}
	res := &Results{Settings: Settings{RunsPerN: 3}, Runs: []Run{
		run(100, 10, 1.0, 50, 12), run(100, 12, 1.2, 70, 11), run(100, 11, 0.9, 60, 15), run(200, 30, 1.5, 90, 20),
	}}
	res.Runs[2].phase(phaseDelete).Failed = "timed out"
	if got := len(summaryTable(res).rows); got != 4 {
		t.Errorf("the summary has %d rows, want one per run, 4", got)
	}
	tab := medianTable(res)
	want := table{
		headers: []string{"N", "runs", "ideal s", "ideal CPU ms/owner", "cold Ready s", "Ready/ideal", "bosun CPU ms/owner",
			"child→Ready p99 ms", "peak RSS MiB", "delete s", "delete/ideal"},
		rows: [][]string{{"100", "3", "10.0 (10.0–12.2)", "2.00 (2.00–2.00)", "11.0 (10.0–12.0)", "1.00x (0.90–1.20)", "5.00 (5.00–5.00)",
			"11 (10–12)", "60 (50–70)", "11.5 (11.0–12.0, 2 of 3 runs)", "1.15x (1.10–1.20, 2 of 3 runs)"}},
	}
	if diff := cmp.Diff(want, tab, cmp.AllowUnexported(table{})); diff != "" {
		t.Errorf("medians (-want +got):\n%s", diff)
	}
	var sb strings.Builder
	writeRun(&sb, res)
	for _, want := range []string{"Medians over the runs of each N", "### N=100 (run 2 of 3)\n", "### N=200\n"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sb.String())
		}
	}

	once := &Results{Runs: []Run{run(100, 10, 1.0, 50, 12), run(200, 30, 1.5, 90, 20)}}
	sb.Reset()
	writeRun(&sb, once)
	if strings.Contains(sb.String(), "Medians") || strings.Contains(sb.String(), "run 1 of") {
		t.Errorf("a file of one run per N has medians or run numbers:\n%s", sb.String())
	}
}
