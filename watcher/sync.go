package watcher

import (
	"context"
	"fmt"
	"slices"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/applier"
)

// sync brings the children of one owner to the state its templates render, reading the owner
// from the cache (never from the event that queued it). An owner that left the cache was
// either deleted — success: its finalizer saw to its children — or stopped matching the
// watch's selector, and is then let go like a deleted one.
func (c *controller) sync(ctx context.Context, key cache.ObjectName) error {
	owner, ok := c.owner(key)
	if !ok {
		return c.release(ctx, key)
	}
	if owner.GetDeletionTimestamp() != nil {
		return c.finalize(ctx, owner)
	}
	ref := applier.OwnerRef(owner)
	log := c.log.With(zap.String("owner", key.String()), zap.Int64("generation", owner.GetGeneration()))

	rendered, err := c.watch.Renderer.Render(ctx, owner)
	if err != nil {
		return fmt.Errorf("%s: render: %w", ref, err)
	}
	plan, err := c.opts.Applier.Plan(owner, rendered)
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	// The children to compare against are those of every kind the owner may have: the kinds
	// rendered now and the kinds recorded before (which may have left the templates).
	recorded := applier.InventoryOf(owner)
	all := recorded.Union(plan.Inventory)
	live, err := c.kids.list(ctx, owner.GetUID(), all.Kinds)
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	// Finalizer and inventory go on the owner before any child is applied, so neither a
	// deletion nor a new kind can slip past a crash between the two.
	owner, err = c.opts.Applier.EnsureOwner(ctx, owner, c.gvr, all)
	if err != nil {
		return err
	}
	changes, err := c.opts.Applier.Apply(ctx, plan, byRef(live))
	logChanges(log, changes)
	if err != nil {
		return err
	}
	changes, err = c.opts.Applier.Prune(ctx, plan, live)
	logChanges(log, changes)
	if err != nil {
		return err
	}
	if !all.Equal(plan.Inventory) {
		if _, err := c.opts.Applier.EnsureOwner(ctx, owner, c.gvr, plan.Inventory); err != nil {
			return err
		}
	}
	return nil
}

// release handles an owner that is not in the cache. Deleted owners leave the cache only after
// bosun's finalizer is gone, so one that still exists with the finalizer no longer matches the
// watch (its labels changed): its children are deleted and the finalizer dropped, as bosun
// will not see it again.
func (c *controller) release(ctx context.Context, key cache.ObjectName) error {
	owner, err := c.opts.Dynamic.Resource(c.gvr).Namespace(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s/%s: get: %w", c.watch.GVK.Kind, key, err)
	}
	if c.watch.Selector.Matches(labels.Set(owner.GetLabels())) {
		return nil // the cache has not seen it yet; its own event will queue it again
	}
	return c.finalize(ctx, owner)
}

// finalize deletes every child of an owner that is being deleted, then drops bosun's
// finalizer so the deletion can complete. The children are listed from the API server, not
// the cache: a child created a moment ago must not be left behind.
func (c *controller) finalize(ctx context.Context, owner *unstructured.Unstructured) error {
	if !slices.Contains(owner.GetFinalizers(), applier.Finalizer) {
		return nil
	}
	ref := applier.OwnerRef(owner)
	log := c.log.With(zap.String("owner", cache.MetaObjectToName(owner).String()))
	live, err := c.kids.listLive(ctx, owner.GetUID(), applier.InventoryOf(owner).Kinds)
	if err != nil {
		return fmt.Errorf("%s: cleanup: %w", ref, err)
	}
	changes, err := c.opts.Applier.DeleteAll(ctx, live)
	logChanges(log, changes)
	if err != nil {
		return fmt.Errorf("%s: cleanup: %w", ref, err)
	}
	if err := c.opts.Applier.ReleaseOwner(ctx, owner, c.gvr); err != nil {
		return err
	}
	log.Info("owner released; children deleted", zap.Int("children", len(live)))
	return nil
}

// logChanges logs one line per child that changed, and no-ops at debug level.
func logChanges(log *zap.Logger, changes applier.ChangeSet) {
	for _, ch := range changes {
		fields := []zap.Field{zap.String("child", ch.Ref.String()), zap.String("action", string(ch.Action))}
		switch ch.Action {
		case applier.Unchanged, applier.Skipped:
			log.Debug("child "+string(ch.Action), fields...)
		default:
			log.Info("child "+string(ch.Action), fields...)
		}
	}
}

func byRef(children []applier.Child) map[applier.Ref]applier.Child {
	m := make(map[applier.Ref]applier.Child, len(children))
	for _, c := range children {
		m[c.Ref] = c
	}
	return m
}
