package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/config"
)

func TestSitesGoToTheWorkloadClustersRoundRobin(t *testing.T) {
	var got []string
	for i := range 7 {
		got = append(got, siteCluster(i, 3))
	}
	want := []string{"workload-1", "workload-2", "workload-3", "workload-1", "workload-2", "workload-3", "workload-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("siteCluster(0..6, 3) (-want +got):\n%s", diff)
	}
}

func TestClusterConfigAddsTheClustersSectionAndAbsolutePaths(t *testing.T) {
	in := `name: sites
watch: {group: example.bosun.dev, version: v1, kind: Site}
templates: ../../templates/site-light
examples: [../site/site.yaml, /abs/owners.yaml]
charts: {web: ./charts/web}
values: {camelCase: {Key: 1}}
resync: 10m
`
	out, err := clusterConfig([]byte(in), "/repo/examples/site-light")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := yaml.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name":      "sites",
		"watch":     map[string]any{"group": "example.bosun.dev", "version": "v1", "kind": "Site"},
		"templates": "/repo/templates/site-light",
		"examples":  []any{"/repo/examples/site/site.yaml", "/abs/owners.yaml"},
		"charts":    map[string]any{"web": "/repo/examples/site-light/charts/web"},
		"values":    map[string]any{"camelCase": map[string]any{"Key": float64(1)}},
		"resync":    "10m",
		"clusters":  map[string]any{"allowed": []any{"*"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("clusterConfig (-want +got):\n%s", diff)
	}
}

func TestClusterConfigRejects(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a config with a clusters policy of its own", "watch: {kind: Site}\nclusters: {default: eu-1}\n",
			`has a clusters section; -clusters adds clusters: {allowed: ["*"]} itself`},
		{"templates that are not paths", "templates: {a: b}\n", "templates: want a path or a list of paths, got map[a:b]"},
		{"an example that is not a path", "examples: [a.yaml, 3]\n", "examples[1]: want a path, got 3"},
		{"an empty file", "", "empty config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := clusterConfig([]byte(tt.in), "/d")
			if err == nil || err.Error() != tt.want {
				t.Errorf("clusterConfig = %v, want %q", err, tt.want)
			}
		})
	}
}

// The derived config of the light workload, written elsewhere, loads as bosun loads it and
// lets owners name any workload cluster.
func TestDerivedLightConfigLoads(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{configPath: filepath.Join(root, workloadConfigs[workloadLight]), work: t.TempDir()}
	path, err := b.writeClusterConfig()
	if err != nil {
		t.Fatal(err)
	}
	w, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Clusters.Permits("workload-2", nil) {
		t.Errorf("the derived config does not let an owner name workload-2: %+v", w.Clusters)
	}
	orig, err := config.LoadFile(b.configPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(orig.Templates, w.Templates); diff != "" {
		t.Errorf("the derived config renders other templates (-original +derived):\n%s", diff)
	}
}

func TestParseFlagsWithClusters(t *testing.T) {
	o, err := parseFlags([]string{"-clusters", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"cold", "idle", "restart", "update", "delete", "create"}, o.order()); diff != "" {
		t.Errorf("default phases with -clusters 3 (-want +got):\n%s", diff)
	}
	o, err = parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.clusters != 1 || !slices.Contains(o.phases, phaseRaw) {
		t.Errorf("without -clusters: clusters %d, phases %v; want 1 and raw among them", o.clusters, o.phases)
	}
	rejects := []struct {
		name string
		args []string
		want string
	}{
		{"no cluster", []string{"-clusters", "0"}, "-clusters: 0 is less than 1"},
		{"the raw ceiling", []string{"-clusters", "2", "-phases", "raw,cold"},
			"-phases: raw does not run with -clusters > 1 (only cold,idle,restart,update,delete,create do)"},
		{"the latency phase", []string{"-clusters", "2", "-phases", "latency"},
			"-phases: latency does not run with -clusters > 1 (only cold,idle,restart,update,delete,create do)"},
		{"several replicas", []string{"-clusters", "2", "-replicas", "2"}, "-clusters: workload clusters are measured with one replica, not -replicas 2"},
		{"the soak", []string{"-clusters", "2", "-soak", "1m"}, "-soak: the fault soak runs on one cluster, not with -clusters 2"},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)
			if err == nil || err.Error() != tt.want {
				t.Errorf("parseFlags(%q) = %v, want %q", tt.args, err, tt.want)
			}
		})
	}
}

// multiRun is a run of N owners whose idle and restart phases sent the writes given, to the
// hub and to each workload cluster.
func multiRun(n int, started time.Time, idleHub, restartHub int, idleWorkloads ...int) Run {
	var wl []*ClusterRequests
	for i, w := range idleWorkloads {
		req := Requests{Writes: w}
		if w > 0 {
			req.ByVerb = map[string]int{"APPLY configmaps": w}
		}
		wl = append(wl, &ClusterRequests{Name: workloadName(i + 1), Requests: req})
	}
	return Run{N: n, Started: started, Bosun: &BosunTotals{PeakRSSMiB: 80},
		Phases: []*PhaseResult{
			{Name: phaseCold, Owners: n, Seconds: 20, ReadySeconds: 19.5, CPUSeconds: 6, CPUMsPerOwner: 6},
			{Name: phaseIdle, Owners: n, Requests: Requests{Writes: idleHub}, Workloads: wl},
			{Name: phaseRestart, Owners: n, Requests: Requests{Writes: restartHub}, Workloads: wl},
		}}
}

func TestClusterPairsTakeTheClosestOneClusterRunOfTheSameN(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	light := Settings{Workload: workloadLight}
	multi := &Results{Out: "/r/multi.json", Fsync: true, Settings: Settings{Workload: workloadLight, Clusters: 3},
		Runs: []Run{multiRun(3000, t0, 0, 0, 0, 1, 0), multiRun(1000, t0, 0, 0, 0, 0, 0)}}
	near := &Results{Out: "/r/near.json", Fsync: true, Settings: light, Runs: []Run{multiRun(3000, t0.Add(-time.Hour), 0, 2)}}
	far := &Results{Out: "/r/far.json", Fsync: true, Settings: light, Runs: []Run{multiRun(3000, t0.Add(-48*time.Hour), 0, 0)}}
	noFsync := &Results{Out: "/r/nofsync.json", Settings: light, Runs: []Run{multiRun(3000, t0, 0, 0), multiRun(1000, t0, 0, 0)}}
	site := &Results{Out: "/r/site.json", Fsync: true, Settings: Settings{Workload: workloadSite}, Runs: []Run{multiRun(1000, t0, 0, 0)}}
	pairs := clusterPairs([]*Results{far, multi, noFsync, near, site})
	if len(pairs) != 1 {
		t.Fatalf("%d pairs, want 1 (N=1000 has no one-cluster run of the same workload and fsync)", len(pairs))
	}
	if p := pairs[0]; p.oneRes != near || p.multiRes != multi || p.multi.N != 3000 {
		t.Errorf("paired %s (N=%d) with %s; want multi.json (N=3000) with near.json", filepath.Base(p.multiRes.Out), p.multi.N, filepath.Base(p.oneRes.Out))
	}
	tab := clusterComparison(pairs)
	want := [][]string{
		{"3000", "1 (hub)", "near.json", "19.5", "20.0", "6.0", "6.00", "80", "0", "-", "2", "-", "-", "0"},
		{"3000", "3", "multi.json", "19.5", "20.0", "6.0", "6.00", "80", "0", "0/1/0", "0", "0/1/0", "-", "0"},
	}
	if diff := cmp.Diff(want, tab.rows); diff != "" {
		t.Errorf("comparison rows (-want +got):\n%s", diff)
	}
}

func TestMultiClusterReport(t *testing.T) {
	res := &Results{Out: "/r/multi.json", Settings: Settings{Workload: workloadLight, Clusters: 3, ClustersNamespace: clustersNamespace},
		Runs: []Run{multiRun(300, time.Now(), 0, 0, 0, 4, 0)}}
	review(&res.Runs[0])
	wantProblems := []string{
		"idle: bosun sent 4 writes to workload-2 with nothing to change (APPLY configmaps: 4)",
		"restart: bosun sent 4 writes to workload-2 with nothing to change (APPLY configmaps: 4)",
	}
	if diff := cmp.Diff(wantProblems, res.Runs[0].Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	sum := summaryTable(res)
	for header, want := range map[string]string{"clusters": "3", "idle workload writes": "0/4/0", "restart workload writes": "0/4/0", "idle writes": "0"} {
		i := slices.Index(sum.headers, header)
		if i < 0 {
			t.Errorf("summary has no column %q: %q", header, sum.headers)
			continue
		}
		if got := sum.rows[0][i]; got != want {
			t.Errorf("summary %s = %q, want %q", header, got, want)
		}
	}
	phases := phaseTable(res.Runs[0])
	if i := slices.Index(phases.headers, "workload writes"); i < 0 || phases.rows[1][i] != "0/4/0" {
		t.Errorf("phase table lacks the idle phase's workload writes 0/4/0: %q %q", phases.headers, phases.rows)
	}
	var sb strings.Builder
	writeRun(&sb, res)
	if !strings.Contains(sb.String(), "**3 workload clusters**") {
		t.Errorf("summary does not say the children went to 3 workload clusters:\n%s", sb.String())
	}

	one := &Results{Out: "/r/one.json", Settings: Settings{Workload: workloadLight}, Runs: []Run{multiRun(300, time.Now(), 0, 0)}}
	for _, h := range summaryTable(one).headers {
		if strings.Contains(h, "cluster") || strings.Contains(h, "workload") {
			t.Errorf("a one-cluster summary has the column %q", h)
		}
	}
	if got := clusterSection([]*Results{one}); got != "" {
		t.Errorf("a README without multi-cluster runs has a comparison:\n%s", got)
	}
}
