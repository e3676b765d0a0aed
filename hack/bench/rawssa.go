package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// -vs-rawssa DIR times bosun against rawssa (the ideal controller of the workplace's tool
// library, ../shared/tools/rawssa) exactly as its README says to: on one fresh control plane
// per round (etcd fsync as -fsync), rawssa's light owners (kind Light, a ConfigMap and a
// Service each) converged and deleted by rawssa, then the same owners created again and
// converged and deleted by bosun, started cold with a watch that renders rawssa's children
// (testdata/rawssa). Both write straight to the API server. Ratios count only against the
// rawssa run on the same API server in the same round.

// rawssaNamespaces and rawssaPrefix are rawssa's defaults (-namespaces, -prefix bench): its
// owner i is Light p<i> in namespace bench-<i mod 10>.
const (
	rawssaNamespaces = 10
	rawssaPrefix     = "bench"
	rawssaWorkers    = 32
	rawssaMessage    = "hello"
)

// The shapes of rawssa's children (-rawssa-shape). light: ConfigMap p<i>-cm and Service
// p<i>-svc. site: the Site example's ConfigMap, Deployment and Service, all site-<i>; rawssa's
// deletion knows only the light shape, so a site round times only bosun's deletion (the bench
// cleans rawssa's owners up untimed), and its converge counts every owner Applied (children
// applied, as rawssa's converge) with the time to Ready (Deployments Available) beside it.
const (
	shapeLight = "light"
	shapeSite  = "site"
)

var lightGVR = schema.GroupVersionResource{Group: "ideal.example.com", Version: "v1", Resource: "lights"}

// RawssaResults is what -vs-rawssa writes.
type RawssaResults struct {
	Out      string        `json:"-"`
	Machine  Machine       `json:"machine"`
	Build    BuildInfo     `json:"bosun"`
	Command  string        `json:"command"`
	Started  time.Time     `json:"started"`
	Finished time.Time     `json:"finished"`
	Fsync    bool          `json:"fsync"`
	Shape    string        `json:"shape,omitempty"` // rawssa's -shape: light (empty in older files) or site
	Note     string        `json:"note,omitempty"`
	Rounds   []RawssaRound `json:"rounds"`
	Medians  []RawssaRound `json:"medians"` // per N, each figure's median over the rounds
}

// RawssaRound is one round: rawssa then bosun on one fresh control plane.
type RawssaRound struct {
	N     int `json:"n"`
	Round int `json:"round,omitempty"`
	// RawssaSeconds and RawssaDeleteSeconds are what rawssa prints (seconds=), its converge
	// (finalizer, children, status) and its deletion (owner DELETE, child DELETEs, finalizer
	// removal); RawssaCPUSeconds and RawssaDeleteCPUSeconds its process's CPU for each.
	RawssaSeconds          float64 `json:"rawssaSeconds"`
	RawssaDeleteSeconds    float64 `json:"rawssaDeleteSeconds"`
	RawssaCPUSeconds       float64 `json:"rawssaCPUSeconds"`
	RawssaDeleteCPUSeconds float64 `json:"rawssaDeleteCPUSeconds"`
	// BosunSeconds runs from bosun's start, with the owners already there, until every owner
	// is Ready for its generation (site shape: Applied; BosunReadySeconds until Ready);
	// BosunDeleteSeconds from the first owner DELETE (sent by the harness, 32 in flight, as
	// rawssa sends them) until every owner is gone.
	BosunSeconds       float64 `json:"bosunSeconds"`
	BosunReadySeconds  float64 `json:"bosunReadySeconds,omitempty"`
	BosunDeleteSeconds float64 `json:"bosunDeleteSeconds"`
	ConvergeRatio      float64 `json:"convergeRatio"`
	DeleteRatio        float64 `json:"deleteRatio"`
	// BosunCPUSeconds is bosun's CPU for the converge (from its start), and per owner;
	// CPURatio that against rawssa's CPU for its converge.
	BosunCPUSeconds       float64 `json:"bosunCPUSeconds"`
	BosunCPUMsPerOwner    float64 `json:"bosunCPUMsPerOwner"`
	CPURatio              float64 `json:"cpuRatio"`
	BosunDeleteCPUSeconds float64 `json:"bosunDeleteCPUSeconds"`
	// Memory: the peaks while converging and the resident set once settled, total (VmRSS)
	// and anonymous (RssAnon: heap and stacks, without the binary's mapped pages).
	PeakRSSMiB     float64 `json:"peakRSSMiB"`
	PeakAnonMiB    float64 `json:"peakAnonMiB"`
	SettledRSSMiB  float64 `json:"settledRSSMiB"`
	SettledAnonMiB float64 `json:"settledAnonMiB"`
	// APIServerCPU* are kube-apiserver's CPU seconds during each timed step.
	APIServerCPURawssa       float64 `json:"apiServerCPURawssa"`
	APIServerCPUBosun        float64 `json:"apiServerCPUBosun"`
	APIServerCPURawssaDelete float64 `json:"apiServerCPURawssaDelete"`
	APIServerCPUBosunDelete  float64 `json:"apiServerCPUBosunDelete"`
	// ComponentsCPU* are the CPU seconds of every control-plane process during each converge.
	ComponentsCPURawssa map[string]float64 `json:"componentsCPURawssa,omitempty"`
	ComponentsCPUBosun  map[string]float64 `json:"componentsCPUBosun,omitempty"`
	// ReconcilesPerOwner is bosun's reconciles by trigger (bosun_reconciles_total), per owner,
	// once it converged (site shape: once every owner is Ready): what a child's events cost.
	ReconcilesPerOwner map[string]float64 `json:"reconcilesPerOwner,omitempty"`
	Error              string             `json:"error,omitempty"`
}

// vsRawssa runs every -n, -runs rounds each, and writes the results after every round.
func (b *bench) vsRawssa(ctx context.Context, stdout io.Writer) error {
	dir, err := filepath.Abs(b.o.vsRawssa)
	if err != nil {
		return err
	}
	bin := filepath.Join(b.work, "rawssa")
	b.logf("building rawssa from %s ...", dir)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("rawssa: go build in %s: %v\n%s", dir, err, out)
	}
	res := &RawssaResults{Out: b.results.Out, Machine: b.results.Machine, Build: b.results.Bosun, Command: b.results.Command, Started: time.Now(), Fsync: b.o.fsync, Shape: b.o.rawssaShape, Note: b.o.note}
	for _, n := range b.o.sizes {
		for r := range b.o.runs {
			round := b.rawssaRound(ctx, bin, n, r+1)
			if round.Error != "" {
				b.logf("rawssa n=%d round %d: %s", n, r+1, round.Error)
			}
			res.Rounds = append(res.Rounds, round)
			res.Finished = time.Now()
			res.Medians = rawssaMedians(res.Rounds)
			if err := writeJSON(res.Out, res); err != nil {
				return err
			}
			if err := writeRawssaREADME(filepath.Dir(res.Out)); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	fmt.Fprint(stdout, rawssaTable(res))
	fmt.Fprintf(stdout, "\nresults: %s\n", res.Out)
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func (b *bench) rawssaRound(ctx context.Context, bin string, n, round int) RawssaRound {
	r := RawssaRound{N: n, Round: round}
	if err := b.rawssaRoundErr(ctx, bin, &r); err != nil {
		r.Error = err.Error()
	}
	return r
}

func (b *bench) rawssaRoundErr(ctx context.Context, bin string, r *RawssaRound) error {
	n := r.N
	e, err := b.startEnv(ctx, fmt.Sprintf("rawssa-n%d-r%d", n, r.Round))
	if err != nil {
		return err
	}
	defer e.close()
	kubeconfig := e.cluster.KubeconfigPath() // no proxy: rawssa and bosun both go straight
	if err := e.installCRDFor(ctx, filepath.Join(b.root, "hack", "bench", "testdata", "rawssa", "crd.yaml"), lightGVR); err != nil {
		return err
	}
	apiserver := e.cluster.PIDs()["kube-apiserver"]
	apiCPU := func() float64 { s, _ := readProc(apiserver); return s.CPUSeconds }
	// components is the CPU seconds of every process of the control plane so far.
	components := func() map[string]float64 {
		out := map[string]float64{}
		for name, pid := range e.cluster.PIDs() {
			if s, err := readProc(pid); err == nil {
				out[name] = s.CPUSeconds
			}
		}
		return out
	}
	since := func(before map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for name, v := range components() {
			out[name] = round(v-before[name], 2)
		}
		return out
	}

	cpu0, comp0 := apiCPU(), components()
	shape := b.o.rawssaShape
	out, usage, err := runRawssa(ctx, bin, kubeconfig, n, shape, "-owners")
	if err != nil {
		return err
	}
	r.RawssaSeconds = out
	r.RawssaCPUSeconds = usage
	r.APIServerCPURawssa = round(apiCPU()-cpu0, 2)
	r.ComponentsCPURawssa = since(comp0)
	time.Sleep(3 * time.Second)
	if shape == shapeSite {
		if err := e.cleanUpRawssaSites(ctx, n); err != nil {
			return err
		}
	} else {
		cpu0 = apiCPU()
		out, usage, err = runRawssa(ctx, bin, kubeconfig, n, shape, "-delete", "ideal")
		if err != nil {
			return err
		}
		r.RawssaDeleteSeconds, r.RawssaDeleteCPUSeconds = out, round(usage, 2)
		r.APIServerCPURawssaDelete = round(apiCPU()-cpu0, 2)
	}
	b.logf("rawssa: converge %.2fs, deletion %.2fs, cpu %.2fs", r.RawssaSeconds, r.RawssaDeleteSeconds, r.RawssaCPUSeconds)
	if err := poll(ctx, 200*time.Millisecond, func() (bool, error) { return e.lightsLeft(ctx) == 0, nil }); err != nil {
		return fmt.Errorf("rawssa's owners not gone: %w", err)
	}
	time.Sleep(5 * time.Second)

	b.logf("bosun: creating %d Lights ...", n)
	if _, err := forEach(ctx, n, rawssaWorkers, func(ctx context.Context, i int) error {
		return retry(ctx, func() error {
			_, err := e.dyn.Resource(lightGVR).Namespace(rawssaNamespace(i)).Create(ctx, newLight(i), metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		})
	}); err != nil {
		return fmt.Errorf("create Lights: %w", err)
	}
	w, err := watchLights(ctx, e)
	if err != nil {
		return err
	}
	defer w.stop()
	time.Sleep(3 * time.Second)

	cpu0, comp0 = apiCPU(), components()
	logs := newLogStats()
	config := filepath.Join(b.root, "hack", "bench", "testdata", "rawssa", "watch.yaml")
	converged := isReady
	if shape == shapeSite {
		config = filepath.Join(b.root, "hack", "bench", "testdata", "rawssa-site", "watch.yaml")
		converged = isApplied
	}
	p, err := b.bin.start(kubeconfig, config,
		filepath.Join(e.dir, "bosun.log"), nil, logs)
	if err != nil {
		return err
	}
	defer func() { _, _ = p.stop(30 * time.Second) }()
	s := &sampler{}
	go s.run(p, p.started)
	profile := func(phase string) func() {
		if !b.bin.profiling {
			return func() {}
		}
		pp := startProfiler(ctx, profilePrefix(b.results.Out, fmt.Sprintf("%d-r%d", n, r.Round), phase), phase, 1, func() []profTarget {
			if p.exited() {
				return []profTarget{{}}
			}
			return []profTarget{{url: p.pprofURL, started: p.started, rssKiB: s.current().RSSKiB}}
		}, b.logf, cpuChunk)
		return func() { pp.finish() }
	}
	timeout := b.phaseTimeout(n)
	done := profile("converge")
	if err := w.wait(ctx, timeout, converged, func(ready, total int) bool { return ready == n }); err != nil {
		return fmt.Errorf("bosun converge: %w", err)
	}
	convergedAt := time.Now()
	conv, _ := readProc(p.pid)
	done()
	r.BosunSeconds = round(convergedAt.Sub(p.started).Seconds(), 2)
	r.BosunCPUSeconds = round(conv.CPUSeconds, 2)
	r.BosunCPUMsPerOwner = round(conv.CPUSeconds*1000/float64(n), 2)
	r.PeakRSSMiB = mib(max(s.maxRSS, conv.RSSKiB))
	r.PeakAnonMiB = mib(s.takeMaxAnon(conv))
	r.APIServerCPUBosun = round(apiCPU()-cpu0, 2)
	r.ComponentsCPUBosun = since(comp0)
	r.ConvergeRatio = round(r.BosunSeconds/r.RawssaSeconds, 2)
	r.CPURatio = round(r.BosunCPUSeconds/r.RawssaCPUSeconds, 2)
	b.logf("bosun: converged %.2fs (%.2f× rawssa), cpu %.2fs (%.2f ms per owner), peak RSS %.0f MiB (anon %.0f)",
		r.BosunSeconds, r.ConvergeRatio, r.BosunCPUSeconds, r.BosunCPUMsPerOwner, r.PeakRSSMiB, r.PeakAnonMiB)
	if shape == shapeSite {
		if err := w.wait(ctx, timeout, isReady, func(ready, total int) bool { return ready == n }); err != nil {
			return fmt.Errorf("bosun: Sites Ready: %w", err)
		}
		r.BosunReadySeconds = round(time.Since(p.started).Seconds(), 2)
		b.logf("bosun: every owner Ready after %.2fs", r.BosunReadySeconds)
	}
	r.ReconcilesPerOwner = reconcilesPerOwner(p.scrape(), n)
	b.logf("bosun: reconciles per owner by trigger %v", r.ReconcilesPerOwner)
	time.Sleep(10 * time.Second)
	settled, _ := readProc(p.pid)
	r.SettledRSSMiB, r.SettledAnonMiB = mib(settled.RSSKiB), mib(settled.AnonKiB)

	done = profile("delete")
	cpu0 = apiCPU()
	start := time.Now()
	cpuDel := settled.CPUSeconds
	if _, err := forEach(ctx, n, rawssaWorkers, func(ctx context.Context, i int) error {
		err := e.dyn.Resource(lightGVR).Namespace(rawssaNamespace(i)).Delete(ctx, lightName(i), metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}); err != nil {
		return fmt.Errorf("delete Lights: %w", err)
	}
	if err := w.wait(ctx, timeout, isReady, func(ready, total int) bool { return total == 0 }); err != nil {
		return fmt.Errorf("bosun deletion: %w", err)
	}
	r.BosunDeleteSeconds = round(time.Since(start).Seconds(), 2)
	del, _ := readProc(p.pid)
	done()
	r.BosunDeleteCPUSeconds = round(del.CPUSeconds-cpuDel, 2)
	if r.RawssaDeleteSeconds > 0 {
		r.DeleteRatio = round(r.BosunDeleteSeconds/r.RawssaDeleteSeconds, 2)
	}
	r.APIServerCPUBosunDelete = round(apiCPU()-cpu0, 2)
	b.logf("bosun: deleted %.2fs (%.2f× rawssa)", r.BosunDeleteSeconds, r.DeleteRatio)
	if left, err := e.rawssaChildrenLeft(ctx); err != nil || left > 0 {
		return fmt.Errorf("deletion: every owner is gone but %d children are left (%v)", left, err)
	}
	return nil
}

var secondsRe = regexp.MustCompile(`seconds=([0-9.]+)`)
var errorsRe = regexp.MustCompile(`errors=([0-9]+)`)

// runRawssa runs rawssa as its README says and returns what it printed as seconds= and its
// process's CPU.
func runRawssa(ctx context.Context, bin, kubeconfig string, n int, shape string, args ...string) (float64, float64, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"-n", strconv.Itoa(n), "-shape", shape,
		"-prefix", rawssaPrefix, "-workers", strconv.Itoa(rawssaWorkers)}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("rawssa %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	secs, err := parseRawssa(out)
	if err != nil {
		return 0, 0, fmt.Errorf("rawssa %s: %w", strings.Join(args, " "), err)
	}
	return secs, usageOf(cmd.ProcessState).CPUSeconds, nil
}

// parseRawssa reads the seconds= of rawssa's last line, refusing a run that counted errors.
func parseRawssa(out []byte) (float64, error) {
	m := secondsRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no seconds= in\n%s", out)
	}
	if e := errorsRe.FindSubmatch(out); e != nil && string(e[1]) != "0" {
		return 0, fmt.Errorf("%s errors\n%s", e[1], out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func rawssaNamespace(i int) string { return fmt.Sprintf("%s-%d", rawssaPrefix, i%rawssaNamespaces) }
func lightName(i int) string       { return fmt.Sprintf("p%d", i) }

func newLight(i int) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "ideal.example.com/v1", "kind": "Light",
		"metadata": map[string]any{"name": lightName(i), "namespace": rawssaNamespace(i)},
		"spec":     map[string]any{"message": rawssaMessage},
	}}
}

func (e *env) lightsLeft(ctx context.Context) int {
	list, err := e.dyn.Resource(lightGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return -1
	}
	return len(list.Items)
}

// rawssaChildrenLeft counts rawssa's children of either shape (p<i>-cm, p<i>-svc; site-<i>)
// in its namespaces.
func (e *env) rawssaChildrenLeft(ctx context.Context) (int, error) {
	ours := func(name string) bool {
		return strings.HasSuffix(name, "-cm") || strings.HasSuffix(name, "-svc") || strings.HasPrefix(name, "site-")
	}
	left := 0
	for i := range rawssaNamespaces {
		for _, gvr := range []schema.GroupVersionResource{
			{Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "services"},
			{Group: "apps", Version: "v1", Resource: "deployments"},
		} {
			list, err := e.dyn.Resource(gvr).Namespace(rawssaNamespace(i)).List(ctx, metav1.ListOptions{})
			if err != nil {
				return 0, err
			}
			for _, o := range list.Items {
				if ours(o.GetName()) {
					left++
				}
			}
		}
	}
	return left, nil
}

// cleanUpRawssaSites undoes rawssa's site converge, untimed (its -delete knows only the light
// shape): each owner's finalizer and the owner, its three children, and then waits until the
// garbage collector has taken the Deployments' ReplicaSets and Pods, so that bosun's round
// starts on a cluster as quiet as rawssa's did.
func (e *env) cleanUpRawssaSites(ctx context.Context, n int) error {
	gone := func(err error) error {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	if _, err := forEach(ctx, n, rawssaWorkers, func(ctx context.Context, i int) error {
		ns, name, child := rawssaNamespace(i), lightName(i), fmt.Sprintf("site-%d", i)
		if _, err := e.dyn.Resource(lightGVR).Namespace(ns).Patch(ctx, name, types.MergePatchType,
			[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); gone(err) != nil {
			return err
		}
		if err := gone(e.dyn.Resource(lightGVR).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{})); err != nil {
			return err
		}
		if err := gone(e.cs.AppsV1().Deployments(ns).Delete(ctx, child, metav1.DeleteOptions{})); err != nil {
			return err
		}
		if err := gone(e.cs.CoreV1().ConfigMaps(ns).Delete(ctx, child, metav1.DeleteOptions{})); err != nil {
			return err
		}
		return gone(e.cs.CoreV1().Services(ns).Delete(ctx, child, metav1.DeleteOptions{}))
	}); err != nil {
		return fmt.Errorf("clean up rawssa's Sites: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	err := poll(ctx, time.Second, func() (bool, error) {
		for i := range rawssaNamespaces {
			pods, err := e.cs.CoreV1().Pods(rawssaNamespace(i)).List(ctx, metav1.ListOptions{Limit: 1})
			if err != nil || len(pods.Items) > 0 {
				return false, nil
			}
			rss, err := e.cs.AppsV1().ReplicaSets(rawssaNamespace(i)).List(ctx, metav1.ListOptions{Limit: 1})
			if err != nil || len(rss.Items) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("rawssa's Sites: ReplicaSets and Pods not collected: %w", err)
	}
	return nil
}

// installCRDFor creates the CRD at path and waits until gvr is served.
func (e *env) installCRDFor(ctx context.Context, path string, gvr schema.GroupVersionResource) error {
	if err := e.createCRD(ctx, path); err != nil {
		return err
	}
	return e.waitServed(ctx, gvr)
}

// lightWatch follows the Lights: which exist, and which are Applied and Ready for their
// generation.
type lightWatch struct {
	mu     sync.Mutex
	states map[string]lightState
	stopCh chan struct{}
}

func watchLights(ctx context.Context, e *env) (*lightWatch, error) {
	w := &lightWatch{states: map[string]lightState{}, stopCh: make(chan struct{})}
	f := dynamicinformer.NewDynamicSharedInformerFactory(e.dyn, 0)
	inf := f.ForResource(lightGVR).Informer()
	set := func(obj any) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		w.mu.Lock()
		w.states[u.GetNamespace()+"/"+u.GetName()] = lightState{applied: lightApplied(u), ready: lightReady(u)}
		w.mu.Unlock()
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, obj any) { set(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if u, ok := obj.(*unstructured.Unstructured); ok {
				w.mu.Lock()
				delete(w.states, u.GetNamespace()+"/"+u.GetName())
				w.mu.Unlock()
			}
		},
	}); err != nil {
		return nil, err
	}
	f.Start(w.stopCh)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		close(w.stopCh)
		return nil, fmt.Errorf("Lights: watch not synced")
	}
	return w, nil
}

func (w *lightWatch) stop() { close(w.stopCh) }

// lightState is what the harness waits for of one owner, decided when its event arrives.
type lightState struct{ applied, ready bool }

func isApplied(s lightState) bool { return s.applied }
func isReady(s lightState) bool   { return s.ready }

// wait polls until done(count, total) holds, count being the owners for which is holds.
func (w *lightWatch) wait(ctx context.Context, timeout time.Duration, is func(lightState) bool, done func(count, total int) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		w.mu.Lock()
		ready := 0
		for _, st := range w.states {
			if is(st) {
				ready++
			}
		}
		total := len(w.states)
		w.mu.Unlock()
		if done(ready, total) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d Lights as awaited when it gave up: %w", ready, total, ctx.Err())
		case <-t.C:
		}
	}
}

// lightReady is bosun's Ready=True for the owner's current generation.
func lightReady(u *unstructured.Unstructured) bool { return lightCondition(u, "Ready") }

// lightApplied is bosun's Applied=True (every child applied) for the current generation.
func lightApplied(u *unstructured.Unstructured) bool { return lightCondition(u, "Applied") }

func lightCondition(u *unstructured.Unstructured, typ string) bool {
	status, _ := u.Object["status"].(map[string]any)
	if toInt64(status["observedGeneration"]) != u.GetGeneration() {
		return false
	}
	conds, _ := status["conditions"].([]any)
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m["status"] == "True"
		}
	}
	return false
}

// rawssaMedians is each N's median of every figure over its rounds without an error.
func rawssaMedians(rounds []RawssaRound) []RawssaRound {
	byN := map[int][]RawssaRound{}
	var ns []int
	for _, r := range rounds {
		if r.Error != "" {
			continue
		}
		if _, ok := byN[r.N]; !ok {
			ns = append(ns, r.N)
		}
		byN[r.N] = append(byN[r.N], r)
	}
	slices.Sort(ns)
	var out []RawssaRound
	for _, n := range ns {
		rs := byN[n]
		med := func(f func(RawssaRound) float64) float64 {
			vs := make([]float64, len(rs))
			for i, r := range rs {
				vs[i] = f(r)
			}
			slices.Sort(vs)
			if len(vs)%2 == 1 {
				return vs[len(vs)/2]
			}
			return round((vs[len(vs)/2-1]+vs[len(vs)/2])/2, 2)
		}
		out = append(out, RawssaRound{
			N:                        n,
			RawssaSeconds:            med(func(r RawssaRound) float64 { return r.RawssaSeconds }),
			RawssaDeleteSeconds:      med(func(r RawssaRound) float64 { return r.RawssaDeleteSeconds }),
			RawssaCPUSeconds:         med(func(r RawssaRound) float64 { return r.RawssaCPUSeconds }),
			BosunSeconds:             med(func(r RawssaRound) float64 { return r.BosunSeconds }),
			BosunDeleteSeconds:       med(func(r RawssaRound) float64 { return r.BosunDeleteSeconds }),
			BosunReadySeconds:        med(func(r RawssaRound) float64 { return r.BosunReadySeconds }),
			ConvergeRatio:            med(func(r RawssaRound) float64 { return r.ConvergeRatio }),
			DeleteRatio:              med(func(r RawssaRound) float64 { return r.DeleteRatio }),
			BosunCPUSeconds:          med(func(r RawssaRound) float64 { return r.BosunCPUSeconds }),
			RawssaDeleteCPUSeconds:   med(func(r RawssaRound) float64 { return r.RawssaDeleteCPUSeconds }),
			CPURatio:                 med(func(r RawssaRound) float64 { return r.CPURatio }),
			BosunCPUMsPerOwner:       med(func(r RawssaRound) float64 { return r.BosunCPUMsPerOwner }),
			BosunDeleteCPUSeconds:    med(func(r RawssaRound) float64 { return r.BosunDeleteCPUSeconds }),
			PeakRSSMiB:               med(func(r RawssaRound) float64 { return r.PeakRSSMiB }),
			PeakAnonMiB:              med(func(r RawssaRound) float64 { return r.PeakAnonMiB }),
			SettledRSSMiB:            med(func(r RawssaRound) float64 { return r.SettledRSSMiB }),
			SettledAnonMiB:           med(func(r RawssaRound) float64 { return r.SettledAnonMiB }),
			APIServerCPURawssa:       med(func(r RawssaRound) float64 { return r.APIServerCPURawssa }),
			APIServerCPUBosun:        med(func(r RawssaRound) float64 { return r.APIServerCPUBosun }),
			APIServerCPURawssaDelete: med(func(r RawssaRound) float64 { return r.APIServerCPURawssaDelete }),
			APIServerCPUBosunDelete:  med(func(r RawssaRound) float64 { return r.APIServerCPUBosunDelete }),
		})
	}
	return out
}

// writeRawssaREADME summarizes every -vs-rawssa results file of dir in its README.md.
func writeRawssaREADME(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	slices.Sort(files)
	var sb strings.Builder
	sb.WriteString("# bosun against rawssa\n\nWritten by `go run ./hack/bench -vs-rawssa ../shared/tools/rawssa` (hack/bench/rawssa.go) from the\n" +
		"JSON files here: per round, rawssa then bosun on one fresh control plane; ratios are bosun's time over\n" +
		"rawssa's on the same API server in the same round; medians over the rounds of each N.\n")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var res RawssaResults
		if err := json.Unmarshal(data, &res); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Fprintf(&sb, "\n## %s\n\n%s, %d cores, %.0f GiB, etcd fsync %s, bosun %s", filepath.Base(f), res.Started.Format("2006-01-02"),
			res.Machine.CPUs, res.Machine.MemoryGiB, onOff(res.Fsync), res.Build.Commit)
		if res.Note != "" {
			fmt.Fprintf(&sb, "; %s", res.Note)
		}
		if res.Shape == shapeSite {
			sb.WriteString("; site shape (ConfigMap, Deployment, Service per owner): bosun's converge is every owner Applied," +
				" as rawssa's; bosunRdy until every owner is Ready (Deployments Available); rawssa's deletion is not timed")
		}
		fmt.Fprintf(&sb, "\n\n```\n%s```\n", rawssaTable(&res))
	}
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(sb.String()), 0o644)
}

// rawssaTable prints every round and the medians.
func rawssaTable(res *RawssaResults) string {
	var sb strings.Builder
	site := res.Shape == shapeSite
	fmt.Fprintf(&sb, "%-8s %6s | %8s %8s | %8s %8s", "N", "round", "rawssa", "rawDel", "bosun", "bosunDel")
	if site {
		fmt.Fprintf(&sb, " %8s", "bosunRdy")
	}
	fmt.Fprintf(&sb, " | %6s %6s | %9s %9s %5s | %8s %8s\n", "conv×", "del×", "cpu ms/o", "rawcpu/o", "cpu×", "peakRSS", "peakAnon")
	line := func(r RawssaRound, label string) {
		rawPerOwner := r.RawssaCPUSeconds * 1000 / float64(max(r.N, 1))
		fmt.Fprintf(&sb, "%-8d %6s | %7.2fs %7.2fs | %7.2fs %7.2fs", r.N, label, r.RawssaSeconds, r.RawssaDeleteSeconds, r.BosunSeconds, r.BosunDeleteSeconds)
		if site {
			fmt.Fprintf(&sb, " %7.2fs", r.BosunReadySeconds)
		}
		fmt.Fprintf(&sb, " | %6.2f %6.2f | %9.2f %9.2f %5.2f | %7.0fM %7.0fM\n",
			r.ConvergeRatio, r.DeleteRatio, r.BosunCPUMsPerOwner, rawPerOwner, r.CPURatio, r.PeakRSSMiB, r.PeakAnonMiB)
	}
	for _, r := range res.Rounds {
		if r.Error != "" {
			fmt.Fprintf(&sb, "%-8d %6d | error: %s\n", r.N, r.Round, r.Error)
			continue
		}
		line(r, strconv.Itoa(r.Round))
	}
	for _, m := range res.Medians {
		line(m, "median")
	}
	return sb.String()
}

var triggerRe = regexp.MustCompile(`trigger="([^"]*)"`)

// reconcilesPerOwner sums bosun_reconciles_total by its trigger label, per owner.
func reconcilesPerOwner(samples map[string]float64, n int) map[string]float64 {
	if samples == nil || n == 0 {
		return nil
	}
	out := map[string]float64{}
	for series, v := range samples {
		if metricName(series) != "bosun_reconciles_total" {
			continue
		}
		tr := "unknown"
		if m := triggerRe.FindStringSubmatch(series); m != nil {
			tr = m[1]
		}
		out[tr] += v
	}
	for tr, v := range out {
		out[tr] = round(v/float64(n), 2)
	}
	return out
}
