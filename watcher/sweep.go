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
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/applier"
)

// The orphan sweep deletes children whose owner is gone without bosun's cleanup — typically
// because its finalizer was removed by hand while bosun was down. A child is an orphan only
// when its owner kind is one of this bosun's watches, that watch's cache does not have the
// owner UID, and a read of the owner confirms it no longer exists: another bosun with other
// watches, or an owner this one does not see, keeps its children.

// sweepStartDelay lets the first reconciles of a start run before the first sweep.
const sweepStartDelay = 5 * time.Second

// sweepLoop sweeps once after start — over every resource type the API server lists, since
// the kinds of orphans are not known from any owner any more — and then every period over
// the child caches. A sharded replica sweeps every kind of a slot when it acquires it
// (Acquire) instead of at start.
func (m *Manager) sweepLoop(ctx context.Context, kids *children, period time.Duration) {
	if kids.sharded {
		m.sweepEvery(ctx, kids, period)
		return
	}
	if m.opts.Elected != nil {
		select {
		case <-m.opts.Elected:
		case <-ctx.Done():
			return
		}
	}
	for _, c := range m.controllers {
		select {
		case <-c.synced:
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
			// A watch whose kind is not served yet cannot vouch for its owners; its
			// children are skipped by the sweep.
		}
	}
	select {
	case <-time.After(sweepStartDelay):
	case <-ctx.Done():
		return
	}
	// The first sweep needs discovery; while the API server is away, try again.
	m.sweepRemote(ctx, nil)
	for {
		err := m.sweepAll(ctx, m.targets.local, nil)
		if err == nil {
			break
		}
		m.opts.Log.Warn("orphan sweep: discovery failed; retrying", zap.Error(err))
		select {
		case <-time.After(sweepStartDelay):
		case <-ctx.Done():
			return
		}
	}
	m.sweepEvery(ctx, kids, period)
}

// sweepEvery sweeps the child caches every period (none when period is 0).
func (m *Manager) sweepEvery(ctx context.Context, kids *children, period time.Duration) {
	if period <= 0 {
		<-ctx.Done()
		return
	}
	every(ctx, period, func() {
		m.targets.each(func(t *target) { m.sweep(ctx, t, t.kids.all()) })
	})
}

// sweepAll sweeps bosun's children of every resource type discovery offers that can be listed
// and deleted, one type at a time so that only one type's list is held at once; the types
// bosun already caches are read from the cache. Types bosun may not list (RBAC) are skipped
// quietly.
//
// A sharded replica sweeps the children of the slots given (those it just acquired), by
// their bosun.dev/shard label; with no slot there is nothing to sweep.
func (m *Manager) sweepAll(ctx context.Context, t *target, slots []int) error {
	kids := t.kids
	if kids.sharded && len(slots) == 0 {
		return nil
	}
	_, lists, err := t.disc.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		return err
	}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerbs(r, "list", "delete") {
				continue
			}
			gvr := gv.WithResource(r.Name)
			gk := schema.GroupKind{Group: gv.Group, Kind: r.Kind}
			if cached, ok := kids.cached(gk, gvr, slots); ok {
				m.sweep(ctx, t, cached)
				continue
			}
			ns := metav1.NamespaceAll
			if r.Namespaced {
				ns = m.childNamespace()
			}
			items, err := t.md.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{
				LabelSelector:   kids.selector(slots),
				ResourceVersion: "0", // from the API server's cache: a sweep needs no quorum read
			})
			if err != nil {
				continue
			}
			found := make([]applier.Child, 0, len(items.Items))
			for i := range items.Items {
				items.Items[i].ManagedFields = nil // a sweep needs no field shapes
				found = append(found, childOf(gk, gvr, &items.Items[i]))
			}
			m.sweep(ctx, t, found)
		}
	}
	return nil
}

func hasVerbs(r metav1.APIResource, verbs ...string) bool {
	for _, v := range verbs {
		found := false
		for _, have := range r.Verbs {
			found = found || have == v
		}
		if !found {
			return false
		}
	}
	return true
}

// sweep deletes the orphans among children, within each watch's delete budget.
func (m *Manager) sweep(ctx context.Context, t *target, children []applier.Child) {
	orphans := map[*controller][]applier.Child{}
	for _, ch := range children {
		if c := m.orphanedBy(ch); c != nil {
			orphans[c] = append(orphans[c], ch)
		}
	}
	for c, kids := range orphans {
		var confirmed []applier.Child
		for _, ch := range kids {
			gone, err := c.ownerGone(ctx, ch)
			if err != nil {
				c.log.Warn("orphan sweep: cannot check owner", zap.String("child", ch.Ref.String()), zap.Error(err))
				continue
			}
			if gone {
				confirmed = append(confirmed, ch)
			}
		}
		if err := c.budget.take(len(confirmed), nil, c.safety(), c.childCount, c.ownersWithKind); err != nil {
			c.log.Error("orphan sweep refused", zap.Int("orphans", len(confirmed)), zap.Error(err))
			continue
		}
		changes, err := t.applier.DeleteAll(ctx, confirmed)
		for _, ch := range changes {
			c.log.Info("orphan swept", zap.String("cluster", t.name), zap.String("child", ch.Ref.String()), zap.String("action", string(ch.Action)))
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			c.log.Error("orphan sweep", zap.Error(err))
		}
	}
}

// orphanedBy returns the synced controller whose kind the child's owner has, when that
// controller does not know the owner's UID; nil otherwise.
func (m *Manager) orphanedBy(ch applier.Child) *controller {
	uid := types.UID(ch.Labels[applier.LabelOwnerUID])
	gvk, _, _, ok := applier.ParseOwnerAnnotation(ch.Annotations[applier.AnnotationOwner])
	if uid == "" || !ok || ch.Deleting || !m.kids.holds(uid) {
		return nil // another replica's owner, when sharded: its sweep sees to it
	}
	var match *controller
	for _, c := range m.controllers {
		if !c.isSynced() {
			continue
		}
		if c.hasUID(uid) {
			return nil
		}
		if c.watch.GVK.GroupKind() == gvk.GroupKind() {
			match = c
		}
	}
	return match
}

// ownerGone confirms with the API server that the child's owner no longer exists.
func (c *controller) ownerGone(ctx context.Context, ch applier.Child) (bool, error) {
	_, ns, name, _ := applier.ParseOwnerAnnotation(ch.Annotations[applier.AnnotationOwner])
	got, err := c.opts.Metadata.Resource(c.gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("%s/%s/%s: get: %w", c.watch.GVK.Kind, ns, name, err)
	}
	return string(got.UID) != ch.Labels[applier.LabelOwnerUID], nil
}

// hasUID reports whether this watch's cache has an owner with the UID.
func (c *controller) hasUID(uid types.UID) bool {
	_, ok := c.byUID(uid)
	return ok
}

func (c *controller) isSynced() bool {
	select {
	case <-c.synced:
		return true
	default:
		return false
	}
}

// cached returns the children of one resource in the slots from the caches, when bosun caches
// it for every one of them and the caches have synced.
func (c *children) cached(gk schema.GroupKind, gvr schema.GroupVersionResource, slots []int) ([]applier.Child, bool) {
	if !c.sharded {
		slots = []int{allSlots}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []applier.Child
	for _, s := range slots {
		inf, ok := c.informers[childKey{slot: s, gvr: gvr}]
		if !ok || !inf.HasSynced() {
			return nil, false
		}
		out = append(out, childrenIn(gk, gvr, inf)...)
	}
	return out, true
}

// all returns every child the caches hold.
func (c *children) all() []applier.Child {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []applier.Child
	for k, inf := range c.informers {
		out = append(out, childrenIn(c.kindOf(k.gvr), k.gvr, inf)...)
	}
	return out
}

// childrenIn lists the children one informer's cache holds.
func childrenIn(gk schema.GroupKind, gvr schema.GroupVersionResource, inf cache.SharedIndexInformer) []applier.Child {
	var out []applier.Child
	for _, o := range inf.GetStore().List() {
		if m, ok := o.(*metav1.PartialObjectMetadata); ok {
			out = append(out, childOf(gk, gvr, m))
		}
	}
	return out
}

// kindOf is the group-kind of a cached child. Metadata-only objects do not carry their own
// kind (they are all PartialObjectMetadata), so it comes from the mapper.
func (c *children) kindOf(gvr schema.GroupVersionResource) schema.GroupKind {
	if gvk, err := c.mapper.KindFor(gvr); err == nil {
		return gvk.GroupKind()
	}
	return schema.GroupKind{Group: gvr.Group, Kind: gvr.Resource}
}

// sweepClusters sweeps every cluster of newly acquired slots: the local one and the
// workload clusters.
func (m *Manager) sweepClusters(ctx context.Context, slots []int) {
	if err := m.sweepAll(ctx, m.targets.local, slots); err != nil && ctx.Err() == nil {
		m.opts.Log.Warn("orphan sweep of acquired slots failed; the periodic sweep covers the cached kinds", zap.Error(err))
	}
	m.sweepRemote(ctx, slots)
}

// sweepRemote sweeps, once, every workload cluster configured when a watch may send children
// to one: their children have no ownerReference, so only bosun deletes what an owner left
// there (its finalizer removed by hand while bosun was down). A cluster that does not answer
// is left to the periodic sweep of the cached kinds.
func (m *Manager) sweepRemote(ctx context.Context, slots []int) {
	if m.targets.clusters == nil || !slices.ContainsFunc(m.controllers, func(c *controller) bool { return c.watch.Clusters.Remote() }) {
		return
	}
	for _, name := range m.targets.clusters.Names() {
		t, err := m.targets.get(ctx, name)
		if err == nil {
			err = m.sweepAll(ctx, t, slots)
		}
		if err != nil && ctx.Err() == nil {
			m.opts.Log.Warn("orphan sweep of a workload cluster failed; the periodic sweep covers its cached kinds", zap.String("cluster", name), zap.Error(err))
		}
	}
}
