package watcher

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/renderer"
)

// deleteHookTimeout bounds how long an owner's deletion waits for its pre-delete or
// post-delete hooks: past it the children are deleted (and the owner released) anyway, with
// an Event, so that a stuck hook never leaves an owner hanging in Terminating.
const deleteHookTimeout = 5 * time.Minute

// runDeleteHooks runs the owner's hooks for event ("pre-delete" or "post-delete") once, as
// rendered from the owner being deleted, weight by weight like install hooks. It returns a
// message while it waits; "" once they ran, or when there are none, or when they cannot run
// (render failed, a hook failed, the deadline passed: then an Event says so and the deletion
// goes on).
func (c *controller) runDeleteHooks(ctx context.Context, t *target, log *zap.Logger, owner *unstructured.Unstructured, event string) (*unstructured.Unstructured, string) {
	if r, ok := c.watch.Renderer.(interface{ MayRenderDeleteHooks() bool }); c.watch.Renderer == nil || ok && !r.MayRenderDeleteHooks() {
		return owner, "" // no render on the delete path of watches that cannot have delete hooks
	}
	rctx, cancel := context.WithTimeout(ctx, c.watch.RenderTimeout)
	rendered, err := c.watch.Renderer.Render(renderer.WithCluster(rctx, t.renderFor(c.watch.Watch)), owner)
	cancel()
	if err != nil {
		c.event(owner, ReasonHookFailed, "Delete", fmt.Sprintf("%s hooks not run: render: %v", event, err))
		return owner, ""
	}
	var hooks []hook
	var objs []*unstructured.Unstructured
	record := hookView(c.hookRecord(owner), t)
	for _, obj := range rendered {
		if !slices.Contains(applier.SplitList(obj.GetAnnotations()[annotationHook]), event) {
			continue
		}
		h := newHook(obj)
		if slices.Contains(applier.SplitList(record), h.token(event)) {
			continue
		}
		hooks = append(hooks, h)
		objs = append(objs, obj)
	}
	if len(hooks) == 0 {
		return owner, ""
	}
	if since := time.Since(owner.GetDeletionTimestamp().Time); since > deleteHookTimeout {
		c.event(owner, ReasonHookFailed, "Delete", fmt.Sprintf("%s hooks did not complete within %s: deleting the children anyway", event, deleteHookTimeout))
		return owner, ""
	}
	plan, err := t.applier.Plan(owner, objs, c.policy)
	if err == nil {
		plan.Inventory.Clusters = []string{t.name}
		hp := hookPlan{pre: hooks}
		resolveHooks(plan, &hp)
		hooks = hp.pre
		// The hooks' kinds are recorded first, so that the finalizer finds and deletes them.
		owner, err = c.opts.Applier.EnsureOwner(ctx, owner, c.gvr, applier.InventoryOf(owner).Union(plan.Inventory), "")
	}
	var ran []hook
	var waiting string
	if err == nil {
		sortByWeight(hooks)
		ran, waiting, err = c.runHooks(ctx, t, log, plan, hooks, event)
	}
	switch {
	case err != nil && (ctx.Err() != nil || transient(err)):
		return owner, fmt.Sprintf("%s hooks: %v", event, err) // retried
	case err != nil:
		c.event(owner, ReasonHookFailed, "Delete", fmt.Sprintf("%v: deleting the children anyway", err))
		return owner, ""
	}
	if waiting != "" {
		return owner, waiting
	}
	want := hookMerge(c.hookRecord(owner), t, hookPlan{done: applier.SplitList(record)}.record(tokens(ran, event), false))
	if got, err := c.opts.Applier.AnnotateOwner(ctx, owner, c.gvr, AnnotationHooks, want); err == nil {
		owner = got
	}
	c.hooks.set(owner.GetUID(), want)
	return owner, ""
}

// hookRecord is the owner's record of hook runs: this process's last write, else the owner's.
func (c *controller) hookRecord(owner *unstructured.Unstructured) string {
	if record, ok := c.hooks.get(owner.GetUID()); ok {
		return record
	}
	return owner.GetAnnotations()[AnnotationHooks]
}

// pendingPostDelete tells the post-delete hooks apart from the children the finalizer deletes
// first.
func pendingPostDelete(c applier.Child) bool {
	return slices.Contains(applier.SplitList(c.Annotations[annotationHook]), "post-delete")
}
