package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/renderer"
)

// bench holds what every size shares: the options, the bosun binary built once, and the watch
// config and renderer the raw generator uses to produce bosun's exact request bodies.
type bench struct {
	o          options
	root       string
	work       string // temp dir: the binary, bosun's logs, the clusters' state
	configPath string
	// bosunConfig is the config bosun runs with: configPath, or with -clusters > 1 the
	// derived one with a clusters section (clusterConfig).
	bosunConfig string
	// instance is the installation bosun names in the owners it reconciles (instanceOf): the
	// raw generator and the ideal controller write it too.
	instance string
	log      io.Writer
	bin      *bosunBin
	watch    *config.Watch
	render   source
	shape    shape
	results  *Results
}

// shape is what every owner's children are, from rendering a sample owner: their kinds, in
// the order rendered, and whether a Deployment is among them (then Ready waits for its
// rollout, and kube-controller-manager and kwok make ReplicaSets and pods of it).
type shape struct {
	kinds      []string
	deployment bool
}

// perOwner is how many children every owner has.
func (s shape) perOwner() int { return len(s.kinds) }

// shapeOf renders a sample Site as createSites makes them.
func shapeOf(ctx context.Context, src source) (shape, error) {
	owner := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": siteGVR.GroupVersion().String(),
		"kind":       "Site",
		"metadata":   map[string]any{"name": siteName("", 0), "namespace": namespaceOf(batchA, 0), "uid": "00000000-0000-0000-0000-000000000000"},
		"spec":       map[string]any{"message": "hello from " + siteName("", 0)},
	}}
	objs, err := src.Render(ctx, owner)
	if err != nil {
		return shape{}, fmt.Errorf("render a sample Site: %w", err)
	}
	var s shape
	for _, o := range objs {
		s.kinds = append(s.kinds, o.GetKind())
		s.deployment = s.deployment || o.GetKind() == "Deployment"
	}
	if len(s.kinds) == 0 {
		return s, fmt.Errorf("a sample Site renders no children")
	}
	return s, nil
}

func newBench(ctx context.Context, o options, root string, log io.Writer) (*bench, error) {
	work, err := os.MkdirTemp("", "bosun-bench-")
	if err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	b := &bench{o: o, root: root, work: work, log: log, configPath: o.config}
	if !filepath.IsAbs(b.configPath) {
		b.configPath = filepath.Join(root, b.configPath)
	}
	if b.watch, err = config.LoadFile(b.configPath); err != nil {
		return nil, err
	}
	if b.render, err = newSource(b.watch); err != nil {
		return nil, fmt.Errorf("%s: %w", b.configPath, err)
	}
	if b.shape, err = shapeOf(ctx, b.render); err != nil {
		return nil, fmt.Errorf("%s: %w", b.configPath, err)
	}
	b.bosunConfig = b.configPath
	if o.clusters > 1 {
		if b.shape.deployment {
			return nil, fmt.Errorf("%s: -clusters: the workload clusters run no pods, so a Deployment never becomes Available: use a workload without one (-workload %s)", b.configPath, workloadLight)
		}
		if b.bosunConfig, err = b.writeClusterConfig(); err != nil {
			return nil, fmt.Errorf("-clusters: %w", err)
		}
	}
	b.instance = instanceOf(b.bosunConfig, o.replicas)
	b.logf("building bosun (go build -trimpath) ...")
	if b.bin, err = buildBosun(ctx, root, work); err != nil {
		return nil, err
	}
	b.bin.gomaxprocs = o.replicaCPUs
	if o.profile {
		b.bin.profiling = b.bin.hasProfiling
		if !b.bin.profiling {
			b.logf("-profile: this bosun has no --profiling (or no metrics address to serve it on): no profiles")
		}
	}
	b.results = newResults(o, root, b.bin, b.configPath, b.shape)
	return b, nil
}

// source renders owners as bosun does: a watch's templates or its chart.
type source interface {
	Render(ctx context.Context, owner *unstructured.Unstructured) ([]*unstructured.Unstructured, error)
	Hash() string
}

// newSource loads the watch's templates or chart. A chart renders here as `bosun run` renders
// it for a new owner (an install, lookup finding nothing); the bench's charts use neither.
func newSource(w *config.Watch) (source, error) {
	if w.Chart == "" {
		return renderer.New(w.Templates, renderer.Options{Values: w.Values})
	}
	c, err := renderer.LoadChart(w.Chart, renderer.ChartOptions{Values: w.Values, Override: w.OverrideValues, ValuesFrom: w.ValuesFrom})
	if err != nil {
		return nil, err
	}
	return renderer.NewChartSet(c, nil, config.AnnotationChart), nil
}

// close removes the binary; the work dir keeps bosun's logs (and, with -keep, the clusters).
func (b *bench) close() {
	_ = os.Remove(b.bin.path)
	b.logf("logs kept in %s", b.work)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// runSize measures one N, the run-th time of -runs: the raw ceiling on one fresh cluster,
// bosun's phases on another. A failure ends that part of the run and is recorded; the next
// run and size still run.
func (b *bench) runSize(ctx context.Context, n, run int) Run {
	start := time.Now()
	r := Run{N: n, Namespaces: b.o.namespaces, Started: start}
	name := b.sizeName(n, run)
	if b.o.runs > 1 {
		b.logf("==== N=%d, run %d of %d ====", n, run+1, b.o.runs)
	} else {
		b.logf("==== N=%d ====", n)
	}
	if b.o.has(phaseRaw) {
		raw, err := b.raw(ctx, n, name)
		r.Raw = raw
		if err != nil {
			r.problem("raw: %v", err)
		}
	}
	if b.o.bosunSelected() && ctx.Err() == nil {
		b.bosunPhases(ctx, n, name, &r)
	}
	compareIdeal(&r)
	review(&r)
	r.Seconds = since(start)
	return r
}

// sizeName names the clusters' directories and bosun's logs of one run of N in the work dir:
// "1000", or "1000-run2" with -runs > 1, so that a run neither overwrites another's state
// (kept with -keep) nor appends to its logs.
func (b *bench) sizeName(n, run int) string {
	if b.o.runs == 1 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%d-run%d", n, run+1)
}

// phaseTimeout is -phase-timeout, or by default generous for a two-core machine: phases that
// wait for Ready also wait for kube-controller-manager and kwok to roll out every Deployment.
func (b *bench) phaseTimeout(n int) time.Duration {
	if b.o.phaseTimeout > 0 {
		return b.o.phaseTimeout
	}
	return 10*time.Minute + time.Duration(n)*600*time.Millisecond
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }

// prefixWriter prefixes every line written to w, for the control plane's progress lines.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			fmt.Fprintf(p.w, "%s %s%s", time.Now().Format("15:04:05"), p.prefix, line)
		}
	}
	return len(b), nil
}

// instanceOf is the installation bosun runs as outside a cluster (internal/cli's
// resolveInstance): the Lease's namespace and name, and a hash of the config's path; with
// -replicas > 1 the name is the sharding group's.
func instanceOf(config string, replicas int) string {
	name := "bosun"
	if replicas > 1 {
		name = shardGroup
	}
	sum := sha256.Sum256([]byte(config))
	return shardNamespace + "/" + name + "@" + hex.EncodeToString(sum[:4])
}
