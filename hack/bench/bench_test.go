package main

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
		phases string
		want   []string
	}{
		{"", allPhases},
		{"raw,cold,delete", []string{"raw", "cold", "delete"}},
		{"latency", []string{"cold", "latency"}},
		{"create,delete,update", []string{"cold", "update", "delete", "create"}},
		{"latency-rollout,latency", []string{"cold", "latency", "latency-rollout"}},
		{"raw", []string{"raw"}},
	}
	for _, tt := range tests {
		var args []string
		if tt.phases != "" {
			args = []string{"-phases", tt.phases}
		}
		o, err := parseFlags(args, io.Discard)
		if err != nil {
			t.Fatalf("parseFlags(%q): %v", args, err)
		}
		if diff := cmp.Diff(tt.want, o.order()); diff != "" {
			t.Errorf("order of -phases %q (-want +got):\n%s", tt.phases, diff)
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
