package watcher

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/shard"
)

// Owners that left a watch while bosun was down ("strays").
//
// While bosun runs, an owner whose labels stop matching its watch's selector leaves the owner
// cache and release lets it go: its children are deleted and bosun's finalizer is removed. While
// bosun is down nobody sees an owner leave — its labels change, or its namespace is dropped from
// the watch's namespaces: — and the next bosun never has it in a cache: it would keep its
// children, and deleting it would hang on bosun's finalizer for ever. So once per start, when
// the watch's caches have synced (and this replica leads), bosun lists each watched kind —
// metadata only, without the selector, in every namespace it may see (all, or --namespace) —
// and queues every owner that carries bosun's finalizer but that no watch of that kind covers.
// Its sync finds it outside the cache and release lets it go, retried like any other sync.
//
// Releasing deletes children on an inference, like the orphan sweep: the children of all the
// strays found count at once against the watch's delete budget (safety.maxDeletes and
// safety.maxDeletePercent). A config mistake — a selector that no longer matches any owner —
// is refused there, with a PruneRefused Event on each owner, and nothing is released until
// bosun starts again with the config fixed or the limits raised.
//
// A bosun lets go only owners that carry its own installation's name (bosun.dev/instance, from
// --instance, which the applier writes with the finalizer): two installations may split one
// kind between them by selector or namespaces, and each sees the other's owners here, with
// bosun's finalizer and covered by none of its own watches. An owner marked by another
// installation is that bosun's to cover or let go. An owner with the finalizer but no mark was
// reconciled by a bosun from before installations had names; whose it is cannot be told, so it
// is not released, and a Warn names it (bosun uninstall lets it go). Owners still covered get
// the mark on their next reconcile, which is how existing owners migrate: nothing is released.
//
// Owners of a watch removed from the config are not looked for. Their kind could be read
// from their children's bosun.dev/owner annotation, but a child naming a kind that no watch of
// this bosun covers is as likely another bosun's (one per team, each with its own watches) as
// one of a watch this bosun used to have, and releasing it would delete another bosun's
// children at every start. `bosun uninstall --config OLD.yaml` releases those owners instead.

// strayListPage is how many owners one list request of the pass returns.
const strayListPage = 500

// releaseStrays finds, once per start, the owners of c's kind that carry bosun's finalizer but
// that no watch covers, and queues them on c to be let go. Only the first watch of a kind
// looks: the others would find the same owners.
//
// A sharded replica looks for them among the owners of each slot it acquires, when it acquires
// it (Acquire), instead.
func (m *Manager) releaseStrays(ctx context.Context, c *controller) {
	if m.firstOfKind(c) != c || m.opts.Sharded {
		return
	}
	select {
	case <-c.synced:
	case <-ctx.Done():
		return
	}
	if m.opts.Elected != nil {
		select {
		case <-m.opts.Elected:
		case <-ctx.Done():
			return
		}
	}
	m.releaseStraysIn(ctx, c, nil)
}

// releaseStraysIn looks for the strays of c's kind among the owners of the slots (all owners
// when slots is nil) and queues them on c to be let go.
func (m *Manager) releaseStraysIn(ctx context.Context, c *controller, slots []int) {
	if m.firstOfKind(c) != c {
		return
	}
	var (
		strays   []stray
		children int
	)
	for {
		if slots != nil {
			if slots = m.kids.stillHeld(slots); len(slots) == 0 {
				return // handed over meanwhile: the next holder looks
			}
		}
		var err error
		if strays, children, err = m.findStrays(ctx, c, slots); err == nil {
			break
		}
		c.log.Warn("owners that left the watch while bosun was down: cannot look for them; retrying", zap.Error(err))
		select {
		case <-time.After(sweepStartDelay):
		case <-ctx.Done():
			return
		}
	}
	c.log.Info("looked for owners that left the watch while bosun was down", zap.Int("found", len(strays)), zap.Int("children", children))
	if len(strays) == 0 {
		return
	}
	if err := c.budget.take(children, nil, c.safety(), c.childCount, c.ownersWithKind); err != nil {
		c.log.Error("owners that left the watch while bosun was down: release refused", zap.Int("owners", len(strays)),
			zap.Int("children", children), zap.Error(err))
		note := fmt.Sprintf("this owner left the watch while bosun was down, but letting it go was refused: %d owners did, with %d children: %v", len(strays), children, err)
		for _, s := range strays {
			c.event(s.owner, ReasonPruneRefused, "Release", note)
		}
		return
	}
	for _, s := range strays {
		c.log.Info("owner left the watch while bosun was down; releasing it", zap.String("owner", s.key.String()), zap.String("reason", s.why))
		c.triggers.note(s.key, trigger{kind: triggerOwner})
		c.queue.Add(s.key)
	}
}

// stray is an owner that carries bosun's finalizer but that no watch covers.
type stray struct {
	key   cache.ObjectName
	owner *unstructured.Unstructured // metadata only
	why   string
}

// findStrays lists the owners of c's kind that no watch covers and counts their children.
func (m *Manager) findStrays(ctx context.Context, c *controller, slots []int) ([]stray, int, error) {
	mapping, err := c.opts.Mapper.RESTMapping(c.watch.GVK.GroupKind(), c.watch.GVK.Version)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", c.watch.GVK.Kind, err)
	}
	ns := metav1.NamespaceAll
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns = m.opts.Namespace
	}
	var (
		strays   []stray
		unmarked []string
		others   = map[string]int{}
	)
	opts := metav1.ListOptions{Limit: strayListPage}
	for {
		list, err := c.opts.Metadata.Resource(mapping.Resource).Namespace(ns).List(ctx, opts)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: list: %w", mapping.Resource, err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			if !slices.Contains(o.Finalizers, applier.Finalizer) || slots != nil && !slices.Contains(slots, shard.SlotOf(o.UID)) {
				continue
			}
			why := m.uncovered(c, o.Namespace, o.Labels)
			switch inst := o.Annotations[applier.AnnotationInstance]; {
			case why == "":
			case inst == m.opts.Instance:
				strays = append(strays, stray{key: cache.ObjectName{Namespace: o.Namespace, Name: o.Name}, owner: applier.OwnerFromMetadata(c.watch.GVK, o), why: why})
			case inst == "":
				unmarked = append(unmarked, o.Namespace+"/"+o.Name)
			default:
				// Another installation's: its bosun covers it, or lets it go itself.
				others[inst]++
			}
		}
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	if len(unmarked) > 0 {
		c.log.Warn("owners that no watch covers carry bosun's finalizer but no bosun.dev/instance (marked by a bosun before installations had names): not released, they may be another installation's; let them go with bosun uninstall, or mark them",
			zap.Int("owners", len(unmarked)), zap.Strings("first", unmarked[:min(len(unmarked), 10)]), zap.String("instance", m.opts.Instance))
	}
	if len(others) > 0 {
		// Named by another installation — or by this one under an earlier name (--instance,
		// or the config's path out of a cluster): say which, as they are not let go here.
		c.log.Info("owners that no watch covers belong to other bosun installations; left to them", zap.Any("installations", others), zap.String("instance", m.opts.Instance))
	}
	children := 0
	for _, s := range strays {
		kids, err := c.kids.list(ctx, s.owner.GetUID(), applier.InventoryOf(s.owner).Kinds)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", applier.OwnerRef(s.owner), err)
		}
		children += len(kids)
	}
	return strays, children, nil
}

// marksMine reports whether an owner's annotations name this installation, or none (an owner
// bosun has not reconciled since it had a name, or a watcher without one).
func (c *controller) marksMine(ann map[string]string) bool {
	inst := ann[applier.AnnotationInstance]
	return inst == "" || inst == c.opts.Instance
}

// uncovered says why no watch of c's kind covers an owner in namespace ns with these labels
// — the selector of a watch of its namespace, else the namespaces of the first watch — or ""
// when one does.
func (m *Manager) uncovered(c *controller, ns string, l map[string]string) string {
	why, bySelector := "", false
	for _, other := range m.controllers {
		if other.watch.GVK.GroupKind() != c.watch.GVK.GroupKind() {
			continue
		}
		switch {
		case !other.coversNamespace(ns):
			if why == "" {
				why = fmt.Sprintf("namespace %s is not among the watch's namespaces %v", ns, other.watch.Namespaces)
			}
		case !other.watch.Selector.Matches(labels.Set(l)):
			if !bySelector {
				why, bySelector = fmt.Sprintf("labels no longer match the selector %q", other.watch.SelectorText), true
			}
		default:
			return ""
		}
	}
	return why
}

// covers reports whether this watch reconciles an owner in namespace ns with these labels.
func (c *controller) covers(ns string, l labels.Set) bool {
	return c.coversNamespace(ns) && c.watch.Selector.Matches(l)
}

// coversNamespace reports whether the watch's informers cover namespace ns ("" for a
// cluster-scoped owner, which every watch of its kind covers).
func (c *controller) coversNamespace(ns string) bool {
	return ns == "" || slices.Contains(c.namespaces, metav1.NamespaceAll) || slices.Contains(c.namespaces, ns)
}

// firstOfKind is the first watch of c's kind.
func (m *Manager) firstOfKind(c *controller) *controller {
	for _, other := range m.controllers {
		if other.watch.GVK.GroupKind() == c.watch.GVK.GroupKind() {
			return other
		}
	}
	return c
}
