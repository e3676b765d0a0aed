package watcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/applier"
)

// sync brings the children of one owner to the state its templates render, reading the owner
// from the cache (never from the event that queued it), and reports the outcome on the owner:
// status conditions (when the kind has a status subresource) and Events. An owner that left
// the cache was either deleted — success: its finalizer saw to its children — or stopped
// matching the watch's selector, and is then let go like a deleted one.
func (c *controller) sync(ctx context.Context, key cache.ObjectName, tr trigger) error {
	owner, slot, slotCtx, ok, err := c.checkout(key)
	if err != nil {
		return err
	}
	if !ok {
		return c.release(ctx, key)
	}
	defer c.checkin(slot)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The slot may be handed to another replica meanwhile: its reconciles end then.
	defer context.AfterFunc(slotCtx, cancel)()
	released := c.released.is(owner) // also forgets a deleted owner of the same name
	if owner.GetDeletionTimestamp() != nil {
		if released {
			return nil // done before; the cache has not seen the finalizer go yet
		}
		return c.finalizeDeleted(ctx, owner)
	}
	c.paused.set(key, isPaused(owner))
	if isPaused(owner) {
		return c.pause(ctx, owner)
	}
	switch a, announce := c.rollout.admit(key, owner.GetAnnotations()[applier.AnnotationTemplateHash]); a {
	case held:
		return &requeueAfter{delay: rolloutHoldDelay, reason: "rollout: waiting for upgraded owners to become ready"}
	case paused:
		msg := fmt.Sprintf("rollout of template version %s paused: %d owners failed with it (%s); fix them or the templates",
			c.rollout.hash, len(c.rollout.failures()), strings.Join(c.rollout.failures(), ", "))
		if announce {
			c.log.Error("rollout paused", zap.String("templateHash", c.rollout.hash), zap.Strings("failed", c.rollout.failures()))
		}
		if _, changed := c.reported(owner, ReasonRolloutPaused, msg); changed {
			c.event(owner, ReasonRolloutPaused, "Rollout", msg)
		}
		return nil
	}
	if recorded := owner.GetAnnotations()[applier.AnnotationTemplateHash]; recorded != "" && recorded != c.rollout.hash && tr.kind != triggerChild {
		tr = trigger{kind: triggerRollout}
	}
	out, owner := c.reconcile(ctx, owner, tr)
	c.rollout.done(key, out)
	if slotCtx.Err() != nil {
		return errHandedOver // report nothing half-known: the next holder reconciles it
	}
	if ctx.Err() != nil {
		return errors.Join(out.err, ctx.Err()) // stopping: report nothing half-known
	}
	return errors.Join(out.err, c.report(ctx, owner, out))
}

// errHandedOver ends a reconcile whose owner's slot was handed to another replica meanwhile.
var errHandedOver = errors.New("the owner's slot was handed to another replica")

// hookPollDelay is how often a deletion waiting for its delete hooks looks again (their
// children's events also wake it).
const hookPollDelay = 2 * time.Second

// rolloutHoldDelay is how long an owner held back by the rollout waits before it asks again.
const rolloutHoldDelay = 2 * time.Second

// report writes the outcome to the owner's status (when enabled) and records an Event when
// the owner's state changed — a failure with a new message, or becoming ready — so a failing
// owner retried with backoff does not flood the API server with Events.
func (c *controller) report(ctx context.Context, owner *unstructured.Unstructured, out outcome) error {
	state, note := ReasonReady, "all children are applied and ready"
	switch {
	case out.err != nil:
		state, note = out.reason, out.err.Error()
	case !out.ready:
		state, note = ReasonProgressing, out.waiting
	}
	// Failures get an Event each time their message changes; becoming Ready gets one only
	// after a failure (a recovery), not on every owner's first success.
	if settled, changed := c.reported(owner, state, note); changed && state != ReasonProgressing &&
		(state != ReasonReady || (settled != "" && settled != ReasonReady)) {
		c.event(owner, state, "Reconcile", note)
	}
	if !c.statusOn {
		return nil
	}
	if wait := c.settle.wait(owner, state == ReasonProgressing); wait > 0 {
		// Children just applied usually become ready within moments: waiting a little
		// before reporting Progressing saves a status write per owner.
		return &requeueAfter{delay: wait, reason: "waiting for children to become ready before writing status", recheck: true}
	}
	err := c.writeStatus(ctx, owner, out)
	if apierrors.IsNotFound(err) {
		return nil // deleted meanwhile
	}
	return err
}

// release handles an owner that is not in the cache. Deleted owners leave the cache only after
// bosun's finalizer is gone, so one that still exists with the finalizer is no longer covered by
// the watch — its labels changed, or (queued at start, see strays.go) its namespace left the
// watch: its children are deleted and the finalizer dropped, as bosun will not see it again.
func (c *controller) release(ctx context.Context, key cache.ObjectName) error {
	if c.released.take(key) {
		// bosun removed its finalizer from this owner while it was being deleted: it left the
		// cache because it is gone (a deletion cannot be undone), no read needed to tell.
		c.forgetOwner(key)
		c.rollout.forget(key)
		return nil
	}
	owner, err := c.opts.Dynamic.Resource(c.gvr).Namespace(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		c.forgetOwner(key)
		c.rollout.forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s/%s: get: %w", c.watch.GVK.Kind, key, err)
	}
	slot, slotCtx, mine := c.checkoutUID(owner.GetUID())
	if !mine {
		// Another replica's owner (sharded): this one had it queued, or let its slot go.
		c.forgetOwner(key)
		c.rollout.forget(key)
		return nil
	}
	defer c.checkin(slot)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(slotCtx, cancel)()
	if c.covers(owner.GetNamespace(), labels.Set(owner.GetLabels())) {
		return nil // the cache has not seen it yet; its own event will queue it again
	}
	if !c.marksMine(owner.GetAnnotations()) {
		// It left this watch for another installation's, which has reconciled it already:
		// its children and the finalizer are that bosun's now.
		c.log.Info("owner left the watch for another bosun installation's; not releasing it",
			zap.String("owner", key.String()), zap.String("instance", owner.GetAnnotations()[applier.AnnotationInstance]))
		c.forgetOwner(key)
		c.rollout.forget(key)
		return nil
	}
	return c.finalize(ctx, owner)
}

// finalizeDeleted finalizes an owner being deleted; a deletion that cannot finish says why on
// the owner, as a failed reconcile does (condition and Event), and is retried with backoff.
func (c *controller) finalizeDeleted(ctx context.Context, owner *unstructured.Unstructured) error {
	err := c.finalize(ctx, owner)
	if rq := (*requeueAfter)(nil); err == nil || errors.As(err, &rq) || ctx.Err() != nil {
		return err
	}
	return errors.Join(err, c.report(ctx, owner, outcome{err: err, reason: reasonOf(err)}))
}

// finalize deletes every child of an owner that is being deleted, then drops bosun's
// finalizer so the deletion can complete. The children come from the child caches: a child
// created a moment ago that the cache has not seen yet is still caught — in the owner's
// namespace by the garbage collector (it has an ownerReference), elsewhere by the orphan sweep.
func (c *controller) finalize(ctx context.Context, owner *unstructured.Unstructured) error {
	if !slices.Contains(owner.GetFinalizers(), applier.Finalizer) {
		return nil
	}
	ref := applier.OwnerRef(owner)
	log := c.log.With(zap.String("owner", cache.MetaObjectToName(owner).String()))
	deleting := owner.GetDeletionTimestamp() != nil
	if deleting {
		var waiting string
		if owner, waiting = c.runDeleteHooksEverywhere(ctx, log, owner, "pre-delete"); waiting != "" {
			return &requeueAfter{delay: hookPollDelay, reason: waiting}
		}
	}
	inv := applier.InventoryOf(owner)
	var deleted applier.ChangeSet
	var left []string
	for _, name := range inv.Clusters {
		changes, err := c.deleteIn(ctx, log, owner, inv, name)
		deleted = append(deleted, changes...)
		if gone, ok := errors.AsType[*clusterGoneError](err); ok {
			left = append(left, gone.Error())
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: cleanup: %w", ref, err)
		}
	}
	if len(deleted) > 0 {
		// One Event for all of them: the owner is on its way out, and an Event per child
		// would multiply the writes of deleting many owners.
		c.event(owner, ReasonDeleted, "Delete", fmt.Sprintf("deleted %d children with the owner: %s", len(deleted), changeList(deleted)))
	}
	if len(left) > 0 {
		msg := "deleted without the children in clusters that did not answer: " + strings.Join(left, "; ")
		c.event(owner, ReasonClusterUnreachable, "Delete", msg)
		log.Warn("owner released; children left behind in clusters that did not answer", zap.Strings("left", left))
	}
	if deleting {
		var waiting string
		if owner, waiting = c.runDeleteHooksEverywhere(ctx, log, owner, "post-delete"); waiting != "" {
			return &requeueAfter{delay: hookPollDelay, reason: waiting}
		}
	}
	if err := c.opts.Applier.ReleaseOwner(ctx, owner, c.gvr); err != nil {
		return err
	}
	if owner.GetDeletionTimestamp() != nil {
		c.released.add(owner)
	}
	c.settle.wait(owner, false)
	c.hooks.forget(owner.GetUID())
	c.completedGone.forget(owner.GetUID())
	log.Info("owner released; children deleted", zap.Int("children", len(deleted)))
	return nil
}

// logChanges logs one line per child that changed, and no-ops at debug level; prunes,
// deletes and re-creates also get an Event on the owner.
func (c *controller) logChanges(log *zap.Logger, t *target, owner *unstructured.Unstructured, changes applier.ChangeSet) {
	for _, ch := range changes {
		c.metrics.ChildActions.WithLabelValues(c.watch.Name, t.name, ch.Ref.GroupKind().String(), string(ch.Action)).Inc()
		fields := []zap.Field{zap.String("child", ch.Ref.String()), zap.String("action", string(ch.Action))}
		child := t.childRef(ch.Ref.String())
		switch ch.Action {
		case applier.Unchanged, applier.Skipped:
			log.Debug("child "+string(ch.Action), fields...)
			continue
		case applier.Kept:
			c.event(owner, ReasonKept, "Keep", child+" has helm.sh/resource-policy: keep: let go, not deleted")
		case applier.Pruned:
			c.event(owner, ReasonPruned, "Prune", child+" is no longer rendered: deleted")
		case applier.Deleted:
			// finalize records one Event for all of them.
		case applier.Recreated:
			c.event(owner, ReasonRecreated, "Recreate", child+" re-created: an immutable field changed")
		}
		log.Info("child "+string(ch.Action), fields...)
	}
}

// reportDrift records an Event when a reconcile that a child's change triggered had to
// restore that child: someone changed or deleted what bosun renders.
func (c *controller) reportDrift(owner *unstructured.Unstructured, t *target, tr trigger, changes applier.ChangeSet) {
	if tr.kind != triggerChild {
		return
	}
	for _, ch := range changes {
		if ch.Action != applier.Configured && ch.Action != applier.Created && ch.Action != applier.Recreated {
			continue
		}
		if child, what, _ := strings.Cut(tr.child, " "); child == t.childRef(ch.Ref.String()) {
			// Events are folded into a series by reason and action, not by note: restoring
			// and re-creating get actions of their own so that neither hides the other.
			action, done := "Restore", "restored"
			if ch.Action != applier.Configured {
				action, done = "Recreate", "re-created"
			}
			c.event(owner, ReasonDriftRepaired, action, fmt.Sprintf("%s was %s outside bosun; %s it as rendered", child, what, done))
		}
	}
}

// removedKinds are the kinds of the stale children that the plan no longer renders at all:
// the owner loses them entirely.
func removedKinds(plan *applier.Plan, stale []applier.Child) []schema.GroupKind {
	var out []schema.GroupKind
	for _, ch := range stale {
		gk := ch.GroupKind()
		if slices.Contains(out, gk) || slices.Contains(plan.Inventory.Kinds, gk) {
			continue
		}
		out = append(out, gk)
	}
	return out
}

func byRef(children []applier.Child) map[applier.Ref]applier.Child {
	m := make(map[applier.Ref]applier.Child, len(children))
	for _, c := range children {
		m[c.Ref] = c
	}
	return m
}

// changeList names the children of a change set, for an Event's note.
func changeList(changes applier.ChangeSet) string {
	names := make([]string, len(changes))
	for i, ch := range changes {
		names[i] = ch.Ref.String()
	}
	return strings.Join(names, ", ")
}
