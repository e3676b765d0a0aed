package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/localcluster"
)

// The multi-cluster mode (-clusters K, K > 1): the hub holds the Sites as in the one-cluster
// mode, and their children go to K workload clusters. Each is a localcluster.WorkloadOptions
// control plane (etcd, kube-apiserver, kube-controller-manager with the namespace and
// garbage-collector controllers; no scheduler, no kwok, so no pods), registered in the hub as
// a cluster Secret named workload-<i> in clustersNamespace, with the bench's namespaces
// created in it. Site i of a batch names workload-<i mod K + 1> with the bosun.dev/cluster
// annotation, and bosun runs with the watch config plus `clusters: {allowed: ["*"]}` (a
// derived file in the work dir) and --clusters-namespace. A counting proxy stands in front of
// each workload cluster as in front of the hub: the kubeconfig in its Secret points at the
// proxy, so bosun's requests there are counted per cluster (PhaseResult.Workloads).

// clustersNamespace is the hub namespace of the cluster Secrets (bosun's --clusters-namespace).
const clustersNamespace = "bosun-clusters"

// workloadName names the i-th workload cluster, from 1.
func workloadName(i int) string { return fmt.Sprintf("workload-%d", i) }

// siteCluster is the workload cluster of the i-th Site of a batch: round-robin over k.
func siteCluster(i, k int) string { return workloadName(i%k + 1) }

// oneClusterPhases are the phases that do not run with -clusters > 1: raw and the ideal
// controller measure the ceiling of one cluster, which the workload clusters' writes are not
// held against; takeover and handoff need -replicas > 1, which the multi-cluster mode does not
// run; the latency phases' edits are timed on one cluster's watch and were not ported.
var oneClusterPhases = []string{phaseRaw, phaseTakeover, phaseHandoff, phaseLatency, phaseLatencyRollout}

// multiClusterPhases is -phases when not given with -clusters > 1.
func multiClusterPhases() []string {
	var out []string
	for _, p := range allPhases {
		if !slices.Contains(oneClusterPhases, p) {
			out = append(out, p)
		}
	}
	return out
}

// workload is one workload cluster of a session: its control plane, a client straight to it
// for the harness, and the proxy bosun reaches it through.
type workload struct {
	name    string
	dir     string
	cluster *localcluster.Cluster
	cs      kubernetes.Interface
	proxy   *countingProxy // nil without -proxy
	keep    bool
}

// startWorkloads starts the -clusters workload clusters of a session, one after the other
// (each takes a few seconds), creates the bench's namespaces in each and registers them in
// the hub. prefix names their directories in the work dir: <prefix>-workload-<i>.
func (b *bench) startWorkloads(ctx context.Context, hub *env, prefix string) ([]*workload, error) {
	var ws []*workload
	for i := 1; i <= b.o.clusters; i++ {
		w, err := b.startWorkload(ctx, workloadName(i), filepath.Join(b.work, prefix+"-"+workloadName(i)))
		if err != nil {
			closeWorkloads(ws)
			return nil, err
		}
		ws = append(ws, w)
	}
	if err := registerWorkloads(ctx, hub, ws); err != nil {
		closeWorkloads(ws)
		return nil, err
	}
	return ws, nil
}

func (b *bench) startWorkload(ctx context.Context, name, dir string) (*workload, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	b.logf("%s: starting workload cluster (etcd fsync %s) in %s", name, onOff(b.o.fsync), dir)
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	opts := localcluster.WorkloadOptions(dir)
	opts.Fsync, opts.Log = b.o.fsync, prefixWriter{b.log, name + ": "}
	c, err := localcluster.Start(sctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	w := &workload{name: name, dir: dir, cluster: c, keep: b.o.keep}
	if err := w.setup(sctx, b.o.proxy, b.o.namespaces); err != nil {
		w.close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return w, nil
}

// setup creates the namespaces of the batches bosun's phases use (children go to their
// owner's namespace name) and the proxy.
func (w *workload) setup(ctx context.Context, proxy bool, namespaces int) error {
	cfg := unlimited(w.cluster.RESTConfig())
	var err error
	if w.cs, err = kubernetes.NewForConfig(protobuf(cfg)); err != nil {
		return err
	}
	for _, batch := range []string{batchA, batchB} {
		for i := range namespaces {
			if err := createNamespace(ctx, w.cs, namespaceOf(batch, i)); err != nil {
				return err
			}
		}
	}
	if proxy {
		if w.proxy, err = startProxy(cfg, filepath.Join(w.dir, "bosun.kubeconfig")); err != nil {
			return err
		}
	}
	return nil
}

func createNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("Namespace/%s: create: %w", name, err)
	}
	return nil
}

// registerWorkloads writes a cluster Secret per workload cluster into the hub's
// clustersNamespace: the kubeconfig bosun uses there, through its proxy if there is one.
func registerWorkloads(ctx context.Context, hub *env, ws []*workload) error {
	if err := createNamespace(ctx, hub.cs, clustersNamespace); err != nil {
		return err
	}
	for _, w := range ws {
		kubeconfig, err := w.bosunKubeconfig()
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		labels := map[string]string{localcluster.ClusterNameLabel: w.name}
		if err := localcluster.ApplyClusterSecret(ctx, hub.cs, clustersNamespace, w.name, kubeconfig, labels); err != nil {
			return err
		}
	}
	return nil
}

// bosunKubeconfig is the kubeconfig of the cluster Secret: the proxy's, else the cluster's.
func (w *workload) bosunKubeconfig() ([]byte, error) {
	if w.proxy != nil {
		return w.proxy.kubeconfigData()
	}
	return w.cluster.Kubeconfig()
}

func (w *workload) close() {
	if w.proxy != nil {
		w.proxy.close()
	}
	_ = w.cluster.Stop()
	if !w.keep {
		_ = os.RemoveAll(w.dir)
	}
}

func closeWorkloads(ws []*workload) {
	for _, w := range ws {
		w.close()
	}
}

// workloadClients are the harness's clients of the workload clusters, by name, for the
// tracker.
func workloadClients(ws []*workload) map[string]kubernetes.Interface {
	out := map[string]kubernetes.Interface{}
	for _, w := range ws {
		out[w.name] = w.cs
	}
	return out
}

// clusterArgs are the flags bosun runs with in the multi-cluster mode.
func clusterArgs() []string { return []string{"--clusters-namespace", clustersNamespace} }

// clusterConfigSection is what clusterConfig adds to the watch config.
const clusterConfigSection = `clusters: {allowed: ["*"]}`

// clusterConfig derives the watch config of the multi-cluster mode from the config file's
// data: the same watch, with clusterConfigSection, so that owners may name any registered
// cluster. The derived file lives elsewhere, so the paths it names (templates, chart, charts,
// examples) are made absolute against dir, the original's directory. A config with a clusters
// section of its own is refused: its policy would not be the one measured.
func clusterConfig(data []byte, dir string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errors.New("empty config")
	}
	if _, ok := doc["clusters"]; ok {
		return nil, fmt.Errorf("has a clusters section; -clusters adds %s itself", clusterConfigSection)
	}
	abs := func(field string, v any) (any, error) {
		switch v := v.(type) {
		case string:
			return absPath(dir, v), nil
		case []any:
			out := make([]any, len(v))
			for i, item := range v {
				s, ok := item.(string)
				if !ok {
					return nil, fmt.Errorf("%s[%d]: want a path, got %v", field, i, item)
				}
				out[i] = absPath(dir, s)
			}
			return out, nil
		}
		return nil, fmt.Errorf("%s: want a path or a list of paths, got %v", field, v)
	}
	for _, field := range []string{"templates", "chart", "examples"} {
		v, ok := doc[field]
		if !ok {
			continue
		}
		p, err := abs(field, v)
		if err != nil {
			return nil, err
		}
		doc[field] = p
	}
	if charts, ok := doc["charts"].(map[string]any); ok {
		for name, v := range charts {
			p, err := abs("charts."+name, v)
			if err != nil {
				return nil, err
			}
			charts[name] = p
		}
	}
	doc["clusters"] = map[string]any{"allowed": []any{"*"}}
	return yaml.Marshal(doc)
}

// absPath is p against dir unless p is absolute or empty (which the config's own check
// reports).
func absPath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// writeClusterConfig writes the derived watch config into the work dir and checks that bosun's
// config package loads it; it returns its path.
func (b *bench) writeClusterConfig() (string, error) {
	data, err := os.ReadFile(b.configPath)
	if err != nil {
		return "", err
	}
	derived, err := clusterConfig(data, filepath.Dir(b.configPath))
	if err != nil {
		return "", fmt.Errorf("%s: %w", b.configPath, err)
	}
	path := filepath.Join(b.work, strings.TrimSuffix(filepath.Base(b.configPath), filepath.Ext(b.configPath))+"-clusters.yaml")
	if err := os.WriteFile(path, derived, 0o644); err != nil {
		return "", err
	}
	w, err := config.LoadFile(path)
	if err != nil {
		return "", fmt.Errorf("the derived config %s: %w", path, err)
	}
	if !w.Clusters.Remote() {
		return "", fmt.Errorf("the derived config %s sends no children to workload clusters", path)
	}
	return path, nil
}

// ClusterRequests are bosun's requests to one workload cluster in a phase, as the proxy in
// front of it counted them.
type ClusterRequests struct {
	Name     string   `json:"name"`
	Requests Requests `json:"requests"`
}

// workloadRequests are the requests to every workload cluster since the snapshots before.
func workloadRequests(ws []*workload, before []map[reqKey]int) []*ClusterRequests {
	var out []*ClusterRequests
	for i, w := range ws {
		if w.proxy == nil {
			continue
		}
		out = append(out, &ClusterRequests{Name: w.name, Requests: diffRequests(before[i], w.proxy.snapshot())})
	}
	return out
}

// workloadSnapshots are the counts of every workload cluster's proxy so far.
func workloadSnapshots(ws []*workload) []map[reqKey]int {
	out := make([]map[reqKey]int, len(ws))
	for i, w := range ws {
		out[i] = w.proxy.snapshot()
	}
	return out
}

// workloadText sums up the requests to the workload clusters for the log: "; workload-1: 12
// writes, 3 reads, 4 watches; workload-2: ...", "" without workload clusters.
func workloadText(reqs []*ClusterRequests) string {
	var sb strings.Builder
	for _, c := range reqs {
		fmt.Fprintf(&sb, "; %s: %s", c.Name, c.Requests)
	}
	return sb.String()
}

// workloadWrites are the writes to each workload cluster, "0/0/0"; "-" when the phase did not
// finish or counted none (one cluster, or no proxy).
func workloadWrites(p *PhaseResult) string {
	if p == nil || p.Failed != "" || len(p.Workloads) == 0 {
		return "-"
	}
	return joinInts(p.Workloads, func(c *ClusterRequests) int { return c.Requests.Writes })
}
