package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/restmap"
	"github.com/bosun-dev/bosun/internal/shard"
	"github.com/bosun-dev/bosun/watcher"
)

// RawResult is the ceiling: the writes bosun's design needs for N owners, sent as fast as the
// API server takes them, without a single read.
type RawResult struct {
	Concurrency int        `json:"concurrency"`
	Calibration []CalPoint `json:"calibration,omitempty"`
	// Seconds is T_raw: owner patches, then child applies, then status applies. Each owner
	// has 3 children in the site workload (3·N child applies and deletes), 2 in light.
	Seconds         float64 `json:"seconds"`
	OwnerSeconds    float64 `json:"ownerPatchSeconds"`
	ChildrenSeconds float64 `json:"childrenSeconds"` // T_children: the child applies alone
	StatusSeconds   float64 `json:"statusSeconds"`
	Writes          int     `json:"writes"`
	WritesPerSecond float64 `json:"writesPerSecond"`
	Failed          int     `json:"failed"`
	FirstError      string  `json:"firstError,omitempty"`
	// ReadySeconds runs from the first write until every Deployment is Current (kstatus), the
	// other half of what bosun's Ready waits for. A workload without Deployments has children
	// that are ready once applied: there it is Seconds.
	ReadySeconds      float64  `json:"readySeconds"`
	DeleteConcurrency int      `json:"deleteConcurrency"`
	DeleteSeconds     float64  `json:"deleteSeconds"` // the child deletes
	DeleteFailed      int      `json:"deleteFailed"`
	Requests          Requests `json:"requests"`
	Ideal
}

// CalPoint is one try of a concurrency on the calibration sample.
type CalPoint struct {
	Op          string  `json:"op"` // write (every write of each owner) or delete
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"perSecond"`
}

// generator sends bosun's writes with bosun's own bodies: the children come from bosun's
// renderer and applier.Plan, the owner patch and status from the same rules as
// applier.EnsureOwner and the watcher's status apply.
type generator struct {
	b       *bench
	w       writer
	planner *applier.Manager
}

// rawItem is one owner's writes.
type rawItem struct {
	namespace, name string
	patch           []byte
	children        []applier.Object
	uids            []types.UID // of the applied children, for the deletes' preconditions
	status          *unstructured.Unstructured
}

// raw measures the ceiling for n owners on a fresh cluster; name is sizeName's. The ideal
// controller goes first, while the cluster is as fresh as the one bosun's cold convergence
// starts on: kube-apiserver gets slower with every write it has taken (its watch caches and
// heap grow; back to back, the same 12,000 writes took a fifth to a third longer each time
// on a two-core machine), so after the calibration and T_raw it would no longer be the
// ceiling of bosun's cluster.
func (b *bench) raw(ctx context.Context, n int, name string) (*RawResult, error) {
	e, err := b.startEnv(ctx, "raw-"+name)
	if err != nil {
		return nil, err
	}
	defer e.close()
	g, err := newGenerator(b, e)
	if err != nil {
		return nil, err
	}
	res := &RawResult{Concurrency: b.o.concurrency[0], DeleteConcurrency: b.o.concurrency[0]}
	if err := g.ideal(ctx, e, n, res); err != nil {
		return res, fmt.Errorf("ideal controller: %w", err)
	}
	if err := g.quiesce(ctx, e); err != nil {
		return res, err
	}
	tr, err := startTracker(ctx, e, b.shape, nil)
	if err != nil {
		return res, err
	}
	defer tr.close()
	if len(b.o.concurrency) > 1 {
		if err := g.calibrate(ctx, e, tr, n, res); err != nil {
			return res, err
		}
	}
	owners, err := e.createSites(ctx, batchA, "", n, b.o.namespaces)
	if err != nil {
		return res, err
	}
	items, err := g.prepare(ctx, owners)
	if err != nil {
		return res, err
	}
	writes := (2 + b.shape.perOwner()) * n
	b.logf("raw: %d owners, %d writes at concurrency %d", n, writes, res.Concurrency)
	before := e.proxy.snapshot()
	start := time.Now()
	owner, children, status, failed, first := g.send(ctx, items, res.Concurrency)
	res.Seconds = since(start)
	res.OwnerSeconds, res.ChildrenSeconds, res.StatusSeconds = owner.Seconds(), children.Seconds(), status.Seconds()
	res.Writes, res.Failed = writes, failed
	res.WritesPerSecond = round(float64(res.Writes)/res.Seconds, 1)
	if first != nil {
		res.FirstError = first.Error()
	}
	res.Requests = diffRequests(before, e.proxy.snapshot())
	b.logf("raw: T_raw %.1fs (owner patches %.1fs, children %.1fs, status %.1fs), %.0f writes/s, %d failed",
		res.Seconds, res.OwnerSeconds, res.ChildrenSeconds, res.StatusSeconds, res.WritesPerSecond, failed)

	if err := g.waitCurrent(ctx, tr, batchA, n); err != nil {
		return res, err
	}
	res.ReadySeconds = since(start)
	if b.shape.deployment {
		b.logf("raw: every Deployment Current %.1fs after the first write", res.ReadySeconds)
	}

	start = time.Now()
	res.DeleteFailed, err = g.deleteChildren(ctx, items, res.DeleteConcurrency)
	res.DeleteSeconds = since(start)
	b.logf("raw: %d child deletes in %.1fs at concurrency %d", b.shape.perOwner()*n, res.DeleteSeconds, res.DeleteConcurrency)
	if err != nil {
		return res, fmt.Errorf("delete children: %d failed, first: %w", res.DeleteFailed, err)
	}
	return res, nil
}

// quiesce waits until the garbage collector removed the ReplicaSets and pods of deleted
// Deployments, so that a measurement starts on a quiet cluster.
func (g *generator) quiesce(ctx context.Context, e *env) error {
	waited, err := e.quiesce(ctx)
	if err != nil {
		return fmt.Errorf("cluster not quiet after %.0fs: %w", waited.Seconds(), err)
	}
	if waited > time.Second {
		g.b.logf("raw: waited %.0fs for the garbage collector to finish the deleted Deployments' pods", waited.Seconds())
	}
	return nil
}

// waitCurrent waits until the n Deployments of the batch are Current; without Deployments
// there is nothing to wait for.
func (g *generator) waitCurrent(ctx context.Context, tr *tracker, batch string, n int) error {
	if !g.b.shape.deployment {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, g.b.phaseTimeout(n))
	defer cancel()
	err := poll(ctx, 250*time.Millisecond, func() (bool, error) {
		return tr.state(batch, "").DeploymentsCurrent == n, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d Deployments to become Current: %w (%s)", n, err, tr.state(batch, ""))
	}
	return nil
}

// newGenerator writes straight to the API server, as the ideal controller does: the counting
// proxy is bosun's path, not the ceiling's (doc.go).
func newGenerator(b *bench, e *env) (*generator, error) {
	w, err := newWriter(rest.CopyConfig(e.cfg))
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(e.cfg)
	if err != nil {
		return nil, err
	}
	return &generator{b: b, w: w, planner: applier.New(w.dyn, nil, restmap.New(dc, 0), applier.Options{OwnerLabels: shard.ChildLabels()})}, nil
}

// calibrate tries every concurrency on its own sample of owners, then deletes each sample's
// children with the same concurrency, and keeps the fastest of each. Every try starts once
// the cluster has caught up with the one before (kube-controller-manager works on the
// sample's Deployments, or the garbage collector on their pods, for a while after the writes),
// so the tries compete with the same background; the real run starts from a quiet cluster.
func (g *generator) calibrate(ctx context.Context, e *env, tr *tracker, n int, res *RawResult) error {
	sample := min(max(n/10, 50), 200)
	samples := map[int][]*rawItem{}
	bestWrite, bestDelete := 0.0, 0.0
	for i, c := range g.b.o.concurrency {
		owners, err := e.createSites(ctx, batchCal, fmt.Sprintf("cal-c%d-", c), sample, g.b.o.namespaces)
		if err != nil {
			return err
		}
		items, err := g.prepare(ctx, owners)
		if err != nil {
			return err
		}
		if err := quiet(ctx, func() bool { return g.currentAtLeast(tr, i*sample) }); err != nil {
			return fmt.Errorf("calibration: waiting for the earlier samples' Deployments: %w", err)
		}
		start := time.Now()
		writes := (2 + g.b.shape.perOwner()) * sample
		_, _, _, failed, first := g.send(ctx, items, c)
		if first != nil {
			return fmt.Errorf("calibration at concurrency %d: %d of %d writes failed, first: %w", c, failed, writes, first)
		}
		p := calPoint("write", c, writes, since(start))
		res.Calibration = append(res.Calibration, p)
		g.b.logf("raw: calibration: %d writes at concurrency %d: %.0f/s", p.Requests, c, p.PerSecond)
		if p.PerSecond > bestWrite {
			bestWrite, res.Concurrency = p.PerSecond, c
		}
		samples[c] = items
	}
	all := len(g.b.o.concurrency) * sample
	if err := quiet(ctx, func() bool { return g.currentAtLeast(tr, all) }); err != nil {
		return fmt.Errorf("calibration: waiting for the samples' Deployments: %w", err)
	}
	for i, c := range g.b.o.concurrency {
		start := time.Now()
		if failed, err := g.deleteChildren(ctx, samples[c], c); err != nil {
			return fmt.Errorf("calibration at concurrency %d: %d deletes failed, first: %w", c, failed, err)
		}
		p := calPoint("delete", c, g.b.shape.perOwner()*sample, since(start))
		res.Calibration = append(res.Calibration, p)
		g.b.logf("raw: calibration: %d deletes at concurrency %d: %.0f/s", p.Requests, c, p.PerSecond)
		if p.PerSecond > bestDelete {
			bestDelete, res.DeleteConcurrency = p.PerSecond, c
		}
		left := all - (i+1)*sample
		if err := quiet(ctx, func() bool { return e.podsIn(ctx, batchCal) <= left }); err != nil {
			return fmt.Errorf("calibration: waiting for the deleted samples' pods to go: %w", err)
		}
	}
	g.b.logf("raw: best concurrency %d for writes, %d for deletes", res.Concurrency, res.DeleteConcurrency)
	return nil
}

// currentAtLeast tells whether at least k of the calibration samples' Deployments are
// Current; always, for a workload without Deployments.
func (g *generator) currentAtLeast(tr *tracker, k int) bool {
	return !g.b.shape.deployment || tr.state(batchCal, "").DeploymentsCurrent >= k
}

// quiet waits up to five minutes for the cluster to catch up.
func quiet(ctx context.Context, done func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return poll(ctx, time.Second, func() (bool, error) { return done(), nil })
}

// podsIn counts the pods in a batch's namespaces; math.MaxInt when a list fails.
func (e *env) podsIn(ctx context.Context, batch string) int {
	n := 0
	for i := range e.namespaces {
		pods, err := e.cs.CoreV1().Pods(namespaceOf(batch, i)).List(ctx, metav1.ListOptions{})
		if err != nil {
			return math.MaxInt
		}
		n += len(pods.Items)
	}
	return n
}

func calPoint(op string, c, requests int, seconds float64) CalPoint {
	return CalPoint{Op: op, Concurrency: c, Requests: requests, Seconds: round(seconds, 2), PerSecond: round(float64(requests)/seconds, 1)}
}

// prepare renders and plans every owner before the clock starts: the generator's own CPU
// must not count.
func (g *generator) prepare(ctx context.Context, owners []*unstructured.Unstructured) ([]*rawItem, error) {
	items := make([]*rawItem, len(owners))
	hash := g.b.render.Hash()
	for i, owner := range owners {
		rendered, err := g.b.render.Render(ctx, owner)
		if err != nil {
			return nil, fmt.Errorf("%s: render: %w", applier.OwnerRef(owner), err)
		}
		plan, err := g.planner.Plan(owner, rendered, watcher.ApplierPolicy(g.b.watch.Children))
		if err != nil {
			return nil, fmt.Errorf("%s: plan: %w", applier.OwnerRef(owner), err)
		}
		patch, err := ownerPatch(owner, plan, hash, g.b.instance)
		if err != nil {
			return nil, err
		}
		for j := range plan.Objects {
			plan.Objects[j].Object = asNew(plan.Objects[j].Object)
		}
		items[i] = &rawItem{
			namespace: owner.GetNamespace(), name: owner.GetName(), patch: patch,
			children: plan.Objects, uids: make([]types.UID, len(plan.Objects)),
			status: readyStatus(owner, plan),
		}
	}
	return items, nil
}

// ownerPatch is the merge patch applier.EnsureOwner sends to a new owner: finalizer, ApplySet
// id label, tooling, inventory, template hash and bosun's installation, with the
// resourceVersion as precondition.
func ownerPatch(owner *unstructured.Unstructured, plan *applier.Plan, templateHash, instance string) ([]byte, error) {
	kinds := make([]string, len(plan.Inventory.Kinds))
	for i, gk := range plan.Inventory.Kinds {
		kinds[i] = gk.String()
	}
	ann := map[string]any{
		applier.AnnotationApplySetTooling:    applier.ToolingValue,
		applier.AnnotationContainsGroupKinds: strings.Join(kinds, ","),
		applier.AnnotationTemplateHash:       templateHash,
	}
	if len(plan.Inventory.Namespaces) > 0 {
		ann[applier.AnnotationAdditionalNamespaces] = strings.Join(plan.Inventory.Namespaces, ",")
	}
	if instance != "" {
		ann[applier.AnnotationInstance] = instance
	}
	return json.Marshal(map[string]any{"metadata": map[string]any{
		"finalizers":      append(owner.GetFinalizers(), applier.Finalizer),
		"labels":          map[string]any{applier.LabelApplySetID: applier.ApplySetID(owner)},
		"annotations":     ann,
		"resourceVersion": owner.GetResourceVersion(),
	}})
}

// readyStatus is the status bosun applies to an owner whose children are all applied and
// ready.
func readyStatus(owner *unstructured.Unstructured, plan *applier.Plan) *unstructured.Unstructured {
	now := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	cond := func(typ, reason, msg string) map[string]any {
		return map[string]any{"type": typ, "status": "True", "reason": reason, "message": msg,
			"observedGeneration": owner.GetGeneration(), "lastTransitionTime": now}
	}
	kids := make([]any, 0, len(plan.Objects))
	for _, o := range plan.Objects {
		kid := map[string]any{"kind": o.Kind, "name": o.Name}
		if o.Group != "" {
			kid["group"] = o.Group
		}
		if o.Namespace != "" {
			kid["namespace"] = o.Namespace
		}
		kids = append(kids, kid)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": owner.GetAPIVersion(),
		"kind":       owner.GetKind(),
		"metadata":   map[string]any{"name": owner.GetName(), "namespace": owner.GetNamespace()},
		"status": map[string]any{
			"observedGeneration": owner.GetGeneration(),
			"conditions": []any{
				cond(watcher.ConditionApplied, watcher.ReasonApplied, fmt.Sprintf("%d children applied", len(plan.Objects))),
				cond(watcher.ConditionReady, watcher.ReasonReady, "all children are ready"),
			},
			"children": kids,
		},
	}}
}

// send runs the three passes: every owner patch, every child apply, every status apply, each
// with conc requests in flight. Per owner the order is bosun's; across owners it does not
// matter to the API server.
func (g *generator) send(ctx context.Context, items []*rawItem, conc int) (owner, children, status time.Duration, failed int, first error) {
	note := func(n int, err error) {
		failed += n
		if first == nil {
			first = err
		}
	}
	start := time.Now()
	n, err := forEach(ctx, len(items), conc, func(ctx context.Context, i int) error {
		return g.w.patchOwner(ctx, items[i].namespace, items[i].name, items[i].patch)
	})
	note(n, err)
	owner = time.Since(start)

	start = time.Now()
	per := len(items[0].children)
	n, err = forEach(ctx, per*len(items), conc, func(ctx context.Context, i int) error {
		it := items[i/per]
		o := it.children[i%per]
		uid, err := g.w.applyChild(ctx, o.Resource, o.Object)
		it.uids[i%per] = uid
		return err
	})
	note(n, err)
	children = time.Since(start)

	start = time.Now()
	n, err = forEach(ctx, len(items), conc, func(ctx context.Context, i int) error {
		return g.w.applyStatus(ctx, items[i].status)
	})
	note(n, err)
	status = time.Since(start)
	return owner, children, status, failed, first
}

// deleteChildren deletes every applied child as bosun does: background propagation and a
// UID precondition.
func (g *generator) deleteChildren(ctx context.Context, items []*rawItem, conc int) (int, error) {
	per := len(items[0].children)
	return forEach(ctx, per*len(items), conc, func(ctx context.Context, i int) error {
		it := items[i/per]
		o := it.children[i%per]
		return g.w.deleteChild(ctx, o.Resource, o.Namespace, o.Name, it.uids[i%per])
	})
}
