package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/applier"
)

// The fault soak (-soak D): N owners under every fault bosun promises to survive, for D, then
// a comparison of the whole cluster with what the owners say it should be.
//
// Two bosun replicas run with --leader-elect behind the counting proxy. Throughout D, one
// goroutine injects an infrastructure fault every soakFaultEvery — a kube-apiserver restart
// (down 5–15 s), an etcd restart (down 5 s), a SIGKILL of a random replica (back after
// 1–3 s), a graceful stop of a random replica (its Lease handed over) — while another acts as
// the tenants and their operators, soakActsPerSecond times a second: a child deleted, a child
// edited by hand (a field bosun renders, with another field manager), an owner edited, an
// owner deleted, an owner created. The harness does not track what it expects: its writes may
// fail or land during an outage, so at the end the owners themselves say what must be true.
//
// After D everything is brought back and the check runs until it passes or soakSettleTimeout
// ends: every owner not being deleted has Ready=True and each child its templates render, with
// bosun's owner label and every rendered field as rendered; no owner is Terminating; no child
// of bosun's belongs to an owner that is gone. Then bosun's writes are counted (through the
// proxy, Leases aside) for the idle window: there must be none.
const (
	soakFaultEvery    = 20 * time.Second
	soakActsPerSecond = 4
	soakSettleTimeout = 10 * time.Minute
	soakBatchSize     = 10 // children or owners one tenant action touches
)

// SoakResult is what -soak writes (hack/bench/results/soak/<date>-n<N>.json).
type SoakResult struct {
	Owners        int            `json:"owners"`
	Duration      string         `json:"duration"`
	Replicas      int            `json:"replicas"`
	Faults        map[string]int `json:"faults"`
	Operations    map[string]int `json:"operations"`
	FailedOps     int            `json:"failedOperations"` // harness writes refused during outages
	SettleSeconds float64        `json:"settleSeconds"`    // from the end of the faults to a clean check
	Checked       soakCheck      `json:"checked"`
	IdleWrites    map[string]int `json:"idleWrites"`
	Divergences   []string       `json:"divergences,omitempty"`
	Passed        bool           `json:"passed"`
}

// soakCheck counts what the final check looked at.
type soakCheck struct {
	Owners      int `json:"owners"`
	Children    int `json:"children"`
	Fields      int `json:"fields"`
	Terminating int `json:"terminating"`
	Orphans     int `json:"orphans"`
	NotReady    int `json:"notReady"`
	Missing     int `json:"missing"`
	Wrong       int `json:"wrong"`
}

func (c soakCheck) clean() bool {
	return c.Terminating == 0 && c.Orphans == 0 && c.NotReady == 0 && c.Missing == 0 && c.Wrong == 0
}

// soakRun is one soak's state.
type soakRun struct {
	b    *bench
	e    *env
	n    int
	reps []*bosunProcSlot
	rng  *rand.Rand

	mu     sync.Mutex
	faults map[string]int
	ops    map[string]int
	failed int
	next   int // the next new owner's number
}

// bosunProcSlot is one replica: its process, restarted by the soak.
type bosunProcSlot struct {
	name, log string
	logs      *logStats
	mu        sync.Mutex
	proc      *bosunProc
}

func (s *soakRun) count(m map[string]int, what string) {
	s.mu.Lock()
	m[what]++
	s.mu.Unlock()
}

// runSoak runs the soak with the first -n and writes its result.
func (b *bench) runSoak(ctx context.Context) (*SoakResult, error) {
	n := b.o.sizes[0]
	e, err := b.startEnv(ctx, "soak")
	if err != nil {
		return nil, err
	}
	defer e.close()
	s := &soakRun{b: b, e: e, n: n, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)),
		faults: map[string]int{}, ops: map[string]int{}, next: n}
	b.logf("soak: creating %d Sites", n)
	if _, err := e.createSites(ctx, batchA, "", n, b.o.namespaces); err != nil {
		return nil, err
	}
	for i := range 2 {
		r := &bosunProcSlot{name: fmt.Sprintf("r%d", i), log: filepath.Join(b.work, fmt.Sprintf("bosun-soak-r%d.log", i)), logs: newLogStats()}
		s.reps = append(s.reps, r)
		if err := s.start(r); err != nil {
			return nil, err
		}
		b.logf("soak: replica %s logs to %s", r.name, r.log)
	}
	defer func() {
		for _, r := range s.reps {
			if p := r.running(); p != nil {
				_, _ = p.stop(time.Minute)
			}
		}
	}()
	b.logf("soak: waiting for the %d owners to converge", n)
	if _, err := s.settle(ctx, soakSettleTimeout); err != nil {
		return nil, fmt.Errorf("before the faults: %w", err)
	}

	res := &SoakResult{Owners: n, Duration: b.o.soak.String(), Replicas: len(s.reps)}
	b.logf("soak: faults and tenants for %s", b.o.soak)
	fctx, stop := context.WithTimeout(ctx, b.o.soak)
	var wg sync.WaitGroup
	wg.Go(func() { s.injectFaults(fctx) })
	wg.Go(func() { s.actAsTenants(fctx) })
	wg.Wait()
	stop()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err := s.restoreAll(ctx); err != nil {
		return nil, err
	}
	begin := time.Now()
	b.logf("soak: faults over; checking the cluster until it matches the owners (up to %s)", soakSettleTimeout)
	check, err := s.settle(ctx, soakSettleTimeout)
	res.SettleSeconds = time.Since(begin).Seconds()
	res.Checked = check.soakCheck
	res.Divergences = check.divergences
	s.mu.Lock()
	res.Faults, res.Operations, res.FailedOps = s.faults, s.ops, s.failed
	s.mu.Unlock()
	if err == nil {
		b.logf("soak: clean after %.1f s; counting bosun's writes for %s", res.SettleSeconds, b.o.idleWindow)
		res.IdleWrites, err = s.idleWrites(ctx)
	}
	res.Passed = err == nil && check.clean() && len(res.IdleWrites) == 0
	return res, errors.Join(err, s.write(res))
}

func (r *bosunProcSlot) running() *bosunProc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc
}

func (s *soakRun) start(r *bosunProcSlot) error {
	extra := []string{"--leader-elect", "--leader-election-namespace", "default", "--leader-election-id", "bosun-soak",
		"--leader-election-lease-duration", "8s", "--leader-election-renew-deadline", "5s", "--leader-election-retry-period", "1s"}
	p, err := s.b.bin.start(s.e.bosunKubeconfig(), s.b.configPath, r.log, extra, r.logs)
	if err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	r.mu.Lock()
	r.proc = p
	r.mu.Unlock()
	return nil
}

// injectFaults runs one infrastructure fault every soakFaultEvery until ctx ends.
func (s *soakRun) injectFaults(ctx context.Context) {
	faults := []struct {
		name string
		run  func(context.Context) error
	}{
		{"kube-apiserver restart", func(ctx context.Context) error {
			if err := s.e.cluster.StopAPIServer(); err != nil {
				return err
			}
			_ = sleep(context.Background(), time.Duration(5+s.intn(11))*time.Second)
			return s.e.cluster.StartAPIServer(context.Background())
		}},
		{"etcd restart", func(ctx context.Context) error {
			if err := s.e.cluster.StopEtcd(); err != nil {
				return err
			}
			_ = sleep(context.Background(), 5*time.Second)
			return s.e.cluster.StartEtcd(context.Background())
		}},
		{"bosun SIGKILL", func(ctx context.Context) error { return s.bounce(syscall.SIGKILL) }},
		{"bosun stopped (Lease handed over)", func(ctx context.Context) error { return s.bounce(syscall.SIGTERM) }},
	}
	for i := 0; ; i++ {
		if sleep(ctx, soakFaultEvery) != nil {
			return
		}
		f := faults[i%len(faults)] // each in turn: every kind gets its share in a short soak
		s.b.logf("soak: fault: %s", f.name)
		if err := f.run(ctx); err != nil {
			s.b.logf("soak: fault %s: %v", f.name, err)
		}
		s.count(s.faults, f.name)
	}
}

// bounce stops a random replica with sig and starts it again 1–3 s later.
func (s *soakRun) bounce(sig syscall.Signal) error {
	r := s.reps[s.intn(len(s.reps))]
	if p := r.running(); p != nil && !p.exited() {
		if sig == syscall.SIGKILL {
			_, _ = p.kill()
		} else {
			_, _ = p.stop(time.Minute)
		}
	}
	_ = sleep(context.Background(), time.Duration(1+s.intn(3))*time.Second)
	return s.start(r)
}

func (s *soakRun) intn(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.IntN(n)
}

// actAsTenants changes owners and children soakActsPerSecond times a second until ctx ends.
func (s *soakRun) actAsTenants(ctx context.Context) {
	acts := []struct {
		name string
		run  func(context.Context, []unstructured.Unstructured) error
	}{
		{"child deleted", s.deleteChildren},
		{"child edited by hand", s.editChildren},
		{"owner edited", s.editOwners},
		{"owner deleted", s.deleteOwners},
		{"owner created", s.createOwners},
	}
	t := time.NewTicker(time.Second / soakActsPerSecond)
	defer t.Stop()
	var (
		owners []unstructured.Unstructured
		listed time.Time
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(listed) > 5*time.Second {
			// The owners as they are now and then: an action on one deleted meanwhile
			// fails like any tenant's would.
			if list, err := s.e.dyn.Resource(siteGVR).List(ctx, metav1.ListOptions{ResourceVersion: "0"}); err == nil {
				owners, listed = list.Items, time.Now()
			}
		}
		if len(owners) == 0 {
			continue
		}
		a := acts[s.intn(len(acts))]
		if err := a.run(ctx, owners); err != nil {
			s.mu.Lock()
			s.failed++
			s.mu.Unlock()
			continue
		}
		s.count(s.ops, a.name)
	}
}

func (s *soakRun) pick(items []unstructured.Unstructured) []unstructured.Unstructured {
	var out []unstructured.Unstructured
	for range soakBatchSize {
		out = append(out, items[s.intn(len(items))])
	}
	return out
}

// children renders owner's children, to know their names and fields.
func (s *soakRun) children(ctx context.Context, owner *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	return s.b.render.Render(ctx, owner)
}

func (s *soakRun) childResource(gvk schema.GroupVersionKind) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: strings.ToLower(gvk.Kind) + "s"}
}

func (s *soakRun) deleteChildren(ctx context.Context, owners []unstructured.Unstructured) error {
	for _, o := range s.pick(owners) {
		kids, err := s.children(ctx, &o)
		if err != nil || len(kids) == 0 {
			return err
		}
		k := kids[s.intn(len(kids))]
		if err := s.e.dyn.Resource(s.childResource(k.GroupVersionKind())).Namespace(o.GetNamespace()).Delete(ctx, k.GetName(), metav1.DeleteOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// editChildren changes a ConfigMap's rendered data by hand, as kubectl edit would.
func (s *soakRun) editChildren(ctx context.Context, owners []unstructured.Unstructured) error {
	for _, o := range s.pick(owners) {
		kids, err := s.children(ctx, &o)
		if err != nil {
			return err
		}
		for _, k := range kids {
			data, _, _ := unstructured.NestedStringMap(k.Object, "data")
			for key := range data {
				patch := fmt.Sprintf(`{"data":{%q:"edited by hand"}}`, key)
				if _, err := s.e.dyn.Resource(s.childResource(k.GroupVersionKind())).Namespace(o.GetNamespace()).Patch(ctx, k.GetName(), types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

func (s *soakRun) editOwners(ctx context.Context, owners []unstructured.Unstructured) error {
	for _, o := range s.pick(owners) {
		patch := fmt.Sprintf(`{"spec":{"message":"edited %d"}}`, s.intn(1_000_000))
		if _, err := s.e.dyn.Resource(siteGVR).Namespace(o.GetNamespace()).Patch(ctx, o.GetName(), types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func (s *soakRun) deleteOwners(ctx context.Context, owners []unstructured.Unstructured) error {
	for _, o := range s.pick(owners)[:soakBatchSize/2] {
		if err := s.e.dyn.Resource(siteGVR).Namespace(o.GetNamespace()).Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func (s *soakRun) createOwners(ctx context.Context, _ []unstructured.Unstructured) error {
	for range soakBatchSize / 2 {
		s.mu.Lock()
		i := s.next
		s.next++
		s.mu.Unlock()
		ns, name := namespaceOf(batchA, i%s.b.o.namespaces), siteName("soak-", i)
		site := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": siteGVR.GroupVersion().String(), "kind": "Site",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec":     map[string]any{"message": "hello from " + name},
		}}
		if _, err := s.e.dyn.Resource(siteGVR).Namespace(ns).Create(ctx, site, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// restoreAll brings the control plane and both replicas back after the faults.
func (s *soakRun) restoreAll(ctx context.Context) error {
	// Every control-plane fault restarts what it stopped before it returns.
	for _, r := range s.reps {
		if p := r.running(); p == nil || p.exited() {
			if err := s.start(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// checked is one run of the final check.
type checked struct {
	soakCheck
	divergences []string
}

// settle checks the cluster every 5 s until it matches the owners, or timeout.
func (s *soakRun) settle(ctx context.Context, timeout time.Duration) (checked, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last checked
	for {
		c, err := s.check(ctx)
		if err == nil {
			last = c
			if c.clean() {
				return c, nil
			}
		}
		if sleep(ctx, 5*time.Second) != nil {
			if err != nil {
				return last, err
			}
			return last, fmt.Errorf("the cluster did not match the owners within %s: %+v; first: %s", timeout, last.soakCheck, strings.Join(first(last.divergences, 10), "; "))
		}
	}
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// check compares the cluster with what its owners say.
func (s *soakRun) check(ctx context.Context) (checked, error) {
	var c checked
	owners, err := s.e.dyn.Resource(siteGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return c, err
	}
	live := map[schema.GroupVersionKind]map[string]unstructured.Unstructured{}
	for _, gvk := range s.kinds() {
		list, err := s.e.dyn.Resource(s.childResource(gvk)).List(ctx, metav1.ListOptions{LabelSelector: applier.LabelManagedBy + "=" + applier.ManagedByValue})
		if err != nil {
			return c, err
		}
		m := map[string]unstructured.Unstructured{}
		for _, o := range list.Items {
			m[o.GetNamespace()+"/"+o.GetName()] = o
		}
		live[gvk] = m
	}
	diverge := func(format string, args ...any) { c.divergences = append(c.divergences, fmt.Sprintf(format, args...)) }
	uids := map[types.UID]bool{}
	for i := range owners.Items {
		o := &owners.Items[i]
		ref := o.GetNamespace() + "/" + o.GetName()
		if o.GetDeletionTimestamp() != nil {
			c.Terminating++
			diverge("Site %s is Terminating", ref)
			continue
		}
		c.Owners++
		uids[o.GetUID()] = true
		if !readyTrue(o) {
			c.NotReady++
			diverge("Site %s is not Ready", ref)
		}
		want, err := s.children(ctx, o)
		if err != nil {
			return c, fmt.Errorf("Site %s: render: %w", ref, err)
		}
		for _, w := range want {
			key := o.GetNamespace() + "/" + w.GetName()
			got, ok := live[w.GroupVersionKind()][key]
			c.Children++
			switch {
			case !ok:
				c.Missing++
				diverge("%s %s of Site %s is missing", w.GetKind(), key, ref)
			case got.GetLabels()[applier.LabelOwnerUID] != string(o.GetUID()):
				c.Wrong++
				diverge("%s %s is not labelled as Site %s's", w.GetKind(), key, ref)
			default:
				n, diff := contains(got.Object, withoutMetadata(w.Object), "")
				c.Fields += n
				if diff != "" {
					c.Wrong++
					diverge("%s %s of Site %s: %s", w.GetKind(), key, ref, diff)
				}
			}
		}
	}
	for _, m := range live {
		for key, o := range m {
			if !uids[types.UID(o.GetLabels()[applier.LabelOwnerUID])] {
				c.Orphans++
				diverge("%s %s has no owner", o.GetKind(), key)
			}
		}
	}
	sort.Strings(c.divergences)
	return c, nil
}

// kinds are the kinds of the children every owner has.
func (s *soakRun) kinds() []schema.GroupVersionKind {
	owner := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": siteGVR.GroupVersion().String(), "kind": "Site",
		"metadata": map[string]any{"name": "x", "namespace": "x", "uid": "x"}, "spec": map[string]any{"message": "x"},
	}}
	kids, _ := s.children(context.Background(), owner)
	var out []schema.GroupVersionKind
	for _, k := range kids {
		if !slices.Contains(out, k.GroupVersionKind()) {
			out = append(out, k.GroupVersionKind())
		}
	}
	return out
}

func readyTrue(o *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Ready" {
			return m["status"] == "True"
		}
	}
	return false
}

func withoutMetadata(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "metadata" {
			out[k] = v
		}
	}
	return out
}

// contains reports how many leaf fields of want it compared with got and the first that
// differs (empty when none): maps by key, lists item by item and of the same length.
func contains(got, want any, path string) (int, string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return 0, fmt.Sprintf("%s: not a map", path)
		}
		n := 0
		for _, k := range slices.Sorted(mapsKeys(w)) {
			m, diff := contains(g[k], w[k], path+"."+k)
			n += m
			if diff != "" {
				return n, diff
			}
		}
		return n, ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return 0, fmt.Sprintf("%s: want %d items, got %v", path, len(w), got)
		}
		n := 0
		for i := range w {
			m, diff := contains(g[i], w[i], fmt.Sprintf("%s[%d]", path, i))
			n += m
			if diff != "" {
				return n, diff
			}
		}
		return n, ""
	}
	if fmt.Sprint(got) != fmt.Sprint(want) && !reflect.DeepEqual(got, want) {
		return 1, fmt.Sprintf("%s: want %v, got %v", path, want, got)
	}
	return 1, ""
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// idleWrites counts bosun's writes through the proxy over the idle window, Leases aside.
func (s *soakRun) idleWrites(ctx context.Context) (map[string]int, error) {
	if s.e.proxy == nil {
		return nil, errors.New("idle writes: the soak needs -proxy")
	}
	if err := sleep(ctx, idleSettle); err != nil {
		return nil, err
	}
	before := s.e.proxy.snapshot()
	if err := sleep(ctx, s.b.o.idleWindow); err != nil {
		return nil, err
	}
	after := s.e.proxy.snapshot()
	out := map[string]int{}
	for k, v := range after {
		if k.Code != 0 || !isWrite(k.Verb) || k.Resource == "leases" {
			continue
		}
		if d := v - before[k]; d > 0 {
			out[k.Verb+" "+k.Resource] = d
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// write stores the result as JSON under hack/bench/results/soak/ and prints its summary.
func (s *soakRun) write(res *SoakResult) error {
	dir := filepath.Join(s.b.root, "hack", "bench", "results", "soak")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-n%d.json", time.Now().Format("2006-01-02-1504"), res.Owners))
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return err
	}
	s.b.logf("soak: %s", soakSummary(res))
	s.b.logf("soak: result in %s", path)
	return nil
}

func soakSummary(r *SoakResult) string {
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s: %d owners for %s with %d replicas; faults %v; operations %v (%d refused during outages); clean %.1f s after the faults ended; checked %d owners, %d children, %d fields: %d terminating, %d orphans, %d not ready, %d missing, %d wrong; idle writes %v",
		verdict, r.Owners, r.Duration, r.Replicas, r.Faults, r.Operations, r.FailedOps, r.SettleSeconds,
		r.Checked.Owners, r.Checked.Children, r.Checked.Fields, r.Checked.Terminating, r.Checked.Orphans, r.Checked.NotReady, r.Checked.Missing, r.Checked.Wrong, r.IdleWrites)
}
