package watcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/renderer"
)

// pass is one reconcile of one owner. Its steps run in order over the one value, each reading
// what the steps before it found and leaving what the next needs; the owner in it is always as
// bosun last wrote it, so no step works on a stale copy.
type pass struct {
	c   *controller
	t   *target // the cluster the children go to
	log *zap.Logger
	ref string
	tr  trigger

	owner    *unstructured.Unstructured
	rendered []*unstructured.Unstructured
	plan     *applier.Plan // everything rendered, hooks included
	main     *applier.Plan // what is applied: the plan without this pass's hooks
	hooks    hookPlan
	// all are the kinds the owner may have children of: rendered now or recorded before.
	all applier.Inventory
	// live are the owner's children as the caches hold them, over all.
	live     []applier.Child
	answered map[applier.Ref]childHealth
	applying time.Time
	// pruned: the pass got past prune, so the plan's inventory is all the owner needs here.
	pruned bool

	out outcome
}

// step is one stage of a pass; it returns false to end the pass early without an error (the
// outcome says why).
type step func(context.Context) (bool, error)

// reasoned gives a failure a condition reason of its own, where its error's type does not.
type reasoned struct {
	reason string
	err    error
}

func (r *reasoned) Error() string { return r.err.Error() }
func (r *reasoned) Unwrap() error { return r.err }

// runPass runs one pass of the owner's children in one cluster: render → plan → claim → pre-hooks →
// apply → prune → health → post-hooks. Its outcome says how far it got; its owner is as it is
// after bosun's own writes to it.
func (c *controller) runPass(ctx context.Context, owner *unstructured.Unstructured, tr trigger, t *target) *pass {
	log := c.log.With(zap.String("owner", cache.MetaObjectToName(owner).String()), zap.Int64("generation", owner.GetGeneration()),
		zap.String("trigger", tr.kind))
	if t.remote {
		log = log.With(zap.String("cluster", t.name))
	}
	p := &pass{c: c, t: t, tr: tr, owner: owner, ref: applier.OwnerRef(owner), log: log,
		out: outcome{templateHash: c.rollout.hash}}
	for _, s := range []step{p.render, p.planned, p.claim, p.preHooks, p.apply, p.prune, p.health, p.postHooks} {
		more, err := s(ctx)
		if err != nil {
			p.out.err, p.out.reason = err, reasonOf(err)
			if r := (*reasoned)(nil); errors.As(err, &r) {
				p.out.reason = r.reason
			}
		}
		if err != nil || !more {
			break
		}
	}
	if !p.applying.IsZero() {
		c.metrics.ApplyDuration.WithLabelValues(c.watch.Name).Observe(time.Since(p.applying).Seconds())
	}
	return p
}

// render runs the templates or chart, bounded by renderTimeout.
func (p *pass) render(ctx context.Context) (bool, error) {
	c := p.c
	rctx, cancel := context.WithTimeout(ctx, c.watch.RenderTimeout)
	defer cancel()
	start := time.Now()
	rendered, err := c.watch.Renderer.Render(renderer.WithCluster(rctx, p.t.renderFor(c.watch.Watch)), p.owner)
	c.metrics.RenderDuration.WithLabelValues(c.watch.Name).Observe(time.Since(start).Seconds())
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		return false, &reasoned{ReasonRenderFailed, fmt.Errorf("%s: render: took longer than renderTimeout (%s)", p.ref, c.watch.RenderTimeout)}
	case err != nil:
		return false, fmt.Errorf("%s: render: %w", p.ref, err)
	}
	p.rendered = rendered
	return true, nil
}

// planned resolves what was rendered into children (kinds, namespaces, bosun's marks, the
// child policy) and sorts the Helm hooks out of it.
func (p *pass) planned(context.Context) (bool, error) {
	c := p.c
	p.hooks = planHooks(hookView(c.hookRecord(p.owner), p.t), p.rendered)
	plan, err := p.t.applier.Plan(p.owner, p.hooks.objects(), c.policy)
	if err != nil {
		return false, fmt.Errorf("%s: %w", p.ref, err)
	}
	plan.Inventory.Clusters = []string{p.t.name}
	resolveHooks(plan, &p.hooks)
	p.plan = plan
	p.main = without(plan, append(slices.Clone(p.hooks.pre), p.hooks.post...))
	p.out.children = []placed{}
	for _, o := range plan.Objects {
		p.out.children = append(p.out.children, placed{Ref: o.Ref, cluster: p.t.name})
	}
	return true, nil
}

// claim reads the live children of every kind the owner may have, and puts the finalizer and
// the inventory on the owner before any child is applied, so that neither a deletion nor a new
// kind can slip past a crash between the two.
func (p *pass) claim(ctx context.Context) (bool, error) {
	c := p.c
	p.all = applier.InventoryOf(p.owner).Union(p.plan.Inventory)
	if err := p.relist(ctx, p.all); err != nil {
		return false, err
	}
	got, err := c.opts.Applier.EnsureOwner(ctx, p.owner, c.gvr, p.all, p.out.templateHash)
	if err != nil {
		return false, err
	}
	p.owner, p.applying = got, time.Now()
	return true, nil
}

// preHooks runs the pre-install/pre-upgrade hooks; the pass waits while one is running.
func (p *pass) preHooks(ctx context.Context) (bool, error) {
	if len(p.hooks.pre) == 0 {
		return true, nil
	}
	ran, waiting, err := p.c.runHooks(ctx, p.t, p.log, p.plan, p.hooks.pre, "pre")
	if err := p.recordHooks(ctx, tokens(ran, "pre"), false, err); err != nil {
		return false, fmt.Errorf("%s: %w", p.ref, err)
	}
	if waiting != "" {
		p.out.waiting = waiting
		return false, nil
	}
	// The hooks may have changed what exists.
	return true, p.relist(ctx, p.all)
}

// apply server-side applies every child that is not up to date.
func (p *pass) apply(ctx context.Context) (bool, error) {
	c := p.c
	changes, err := p.t.applier.Apply(ctx, p.main, byRef(p.live))
	c.logChanges(p.log, p.t, p.owner, changes)
	c.reportDrift(p.owner, p.t, p.tr, changes)
	p.answered = answeredHealth(changes)
	return err == nil, err
}

// prune deletes the children no longer rendered, within the safety limits, recording the
// prune on the owner first so that a restart still counts it. The inventory shrinks to what is
// rendered once every cluster of the owner got this far (clusters.go).
func (p *pass) prune(ctx context.Context) (bool, error) {
	c := p.c
	stale := applier.Stale(p.plan, p.live)
	removed := removedKinds(p.plan, stale)
	if err := c.budget.take(len(stale), removed, c.safety(), c.childCount, c.ownersWithKind); err != nil {
		return false, &reasoned{ReasonPruneRefused, fmt.Errorf("%s: prune: %w", p.ref, err)}
	}
	if len(stale) > 0 {
		got, err := c.opts.Applier.AnnotateOwner(ctx, p.owner, c.gvr, AnnotationPruned, pruneRecord{at: c.budget.now(), n: len(stale), kinds: removed}.String())
		if err != nil {
			return false, err
		}
		p.owner = got
	}
	changes, err := p.t.applier.Prune(ctx, stale)
	c.logChanges(p.log, p.t, p.owner, changes)
	if err != nil {
		return false, err
	}
	p.pruned = true
	return true, nil
}

// health decides Ready: applied, or (status.ready: healthy) applied and healthy by kstatus.
func (p *pass) health(ctx context.Context) (bool, error) {
	p.out.ready = true
	if p.c.watch.Status.Ready != config.ReadyHealthy {
		return true, nil
	}
	// Read the cache again: it may have seen the children just created.
	if err := p.relist(ctx, p.plan.Inventory); err != nil {
		return false, err
	}
	p.out.ready, p.out.waiting = checkHealth(p.main, byRef(p.live), p.answered)
	return true, nil
}

// postHooks runs the post-install/post-upgrade hooks once the other children are ready, and
// records that the install completed.
func (p *pass) postHooks(ctx context.Context) (bool, error) {
	if !p.out.ready || !p.hooks.hasHooks {
		return true, nil
	}
	ran, waiting, err := p.c.runHooks(ctx, p.t, p.log, p.plan, p.hooks.post, "post")
	runs := append(tokens(p.hooks.pre, "pre"), tokens(ran, "post")...)
	if err := p.recordHooks(ctx, runs, waiting == "" && err == nil, err); err != nil {
		return false, fmt.Errorf("%s: %w", p.ref, err)
	}
	p.out.ready, p.out.waiting = waiting == "", waiting
	return true, nil
}

// relist reads the owner's children of these kinds from the caches.
func (p *pass) relist(ctx context.Context, inv applier.Inventory) error {
	live, err := p.t.kids.list(ctx, p.owner.GetUID(), inv.Kinds)
	if err != nil {
		return fmt.Errorf("%s: %w", p.ref, err)
	}
	p.live = live
	return nil
}

// recordHooks records on the owner the hooks that ran, and that its install completed; runErr
// is passed through (what ran before a failure is still recorded).
func (p *pass) recordHooks(ctx context.Context, runs []string, completed bool, runErr error) error {
	want := hookMerge(p.c.hookRecord(p.owner), p.t, p.hooks.record(runs, p.hooks.installed || completed))
	if want == p.owner.GetAnnotations()[AnnotationHooks] {
		return runErr
	}
	got, err := p.c.opts.Applier.AnnotateOwner(ctx, p.owner, p.c.gvr, AnnotationHooks, want)
	if err != nil {
		return errors.Join(runErr, err)
	}
	p.c.hooks.set(p.owner.GetUID(), want)
	p.owner = got
	return runErr
}
