package watcher

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"go.uber.org/zap"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/shard"
)

// The owner cache: informers over the watched kind that keep owners as metadata plus JSON,
// per slot of the owners the replica works on (one slot, allSlots, unless it shards), what
// counts as an owner change, and the questions asked of the cache.

// allSlots is the one slot of a replica that does not shard: it holds every owner.
const allSlots = -1

// ownerSlot is the owner cache of one slot (see slots.go): one informer per namespace of the
// watch, and the reconciles running on its owners, so that a slot handed to another replica
// is let go only once none runs.
type ownerSlot struct {
	informers map[string]cache.SharedIndexInformer // by namespace; "" = all
	// ctx ends the slot's informers, and the reconciles still running when it is let go.
	ctx     context.Context
	cancel  context.CancelFunc
	leaving bool // no new reconcile starts; the slot is being let go
	busy    int  // reconciles running on its owners
}

// startSlot starts the informers of one slot, one per namespace of the watch, each filtered
// by the watch's label selector and, in a sharded replica, to the slot's owners; managedFields
// are dropped and an index by UID serves child events. The slot is in c.slots before its
// informers deliver the first owner, so that a worker finds every owner it is given; startSlot
// returns once they synced, false when ctx ended first (the slot is then gone again).
func (c *controller) startSlot(ctx context.Context, gvr schema.GroupVersionResource, slot int) bool {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &ownerSlot{informers: map[string]cache.SharedIndexInformer{}, ctx: sctx, cancel: cancel}
	for _, ns := range c.namespaces {
		where := ns
		if slot != allSlots {
			where = strings.TrimSpace(fmt.Sprintf("%s slot %d", ns, slot))
		}
		health := c.health.track(roleOwner, gvr.String(), where, nil)
		context.AfterFunc(sctx, health.stop)
		inf := cache.NewSharedIndexInformer(health.wrap(c.ownerListWatch(gvr, ns, slot)), &unstructured.Unstructured{}, 0, cache.Indexers{uidIndex: func(obj any) ([]string, error) {
			m, err := meta.Accessor(obj)
			if err != nil {
				return nil, err
			}
			return []string{string(m.GetUID())}, nil
		}})
		_ = inf.SetTransform(compactOwner)
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
			AddFunc: func(obj any, initial bool) {
				if slot != allSlots && initial && c.settledOwner(obj) {
					c.enqueueSettled(obj)
					return
				}
				c.enqueue(obj)
			},
			UpdateFunc: func(old, obj any) {
				if ownerChanged(old, obj, c.opts.Instance) {
					c.enqueue(obj)
				}
			},
			DeleteFunc: c.enqueue,
		})
		s.informers[ns] = inf
	}
	c.mu.Lock()
	c.slots[slot] = s
	c.mu.Unlock()
	for _, inf := range s.informers {
		go inf.RunWithContext(sctx)
	}
	for ns, inf := range s.informers {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			c.log.Info("stopped before the cache synced", zap.String("namespace", ns))
			c.mu.Lock()
			delete(c.slots, slot)
			c.mu.Unlock()
			cancel()
			return false
		}
	}
	return true
}

// settledDelay holds back the owners of a slot acquired from another replica whose status
// says they are settled, so that the owners that are not — edited while their slot changed
// hands, or while their replica was dead — are reconciled first instead of behind thousands
// of re-checks that find nothing to do.
const settledDelay = 3 * time.Second

// settledOwner reports a cached owner settled on the current templates.
func (c *controller) settledOwner(obj any) bool {
	o, ok := obj.(*cachedOwner)
	return ok && o.settled && o.DeletionTimestamp == nil && o.Annotations[applier.AnnotationTemplateHash] == c.rollout.hash
}

// enqueueSettled queues a settled owner of a newly acquired slot after settledDelay.
func (c *controller) enqueueSettled(obj any) {
	if m, err := meta.Accessor(obj); err == nil {
		key := cache.ObjectName{Namespace: m.GetNamespace(), Name: m.GetName()}
		c.triggers.note(key, trigger{kind: triggerResync})
		c.queue.AddAfter(key, settledDelay)
	}
}

// ownerListWatch lists and watches the watch's owners in one namespace; in a sharded replica
// only those of one slot. It always asks for the slot with a shardSelector and always keeps
// only the slot's owners itself: an API server without the ShardedListAndWatch feature gate
// ignores the selector (each slot's informer then reads every owner and keeps its own), and
// which kind of server it is is only told in the log (shardsServed).
func (c *controller) ownerListWatch(gvr schema.GroupVersionResource, ns string, slot int) *cache.ListWatch {
	ri := c.opts.Dynamic.Resource(gvr).Namespace(ns)
	var selector string
	keep := func(runtime.Object) bool { return true }
	if slot != allSlots {
		selector = shard.Selector(slot).String()
		keep = func(obj runtime.Object) bool {
			m, err := meta.Accessor(obj)
			return err != nil || shard.SlotOf(m.GetUID()) == slot
		}
	}
	tweak := func(o *metav1.ListOptions) {
		o.LabelSelector = c.watch.SelectorText
		o.ShardSelector = selector
		freshList(o, slot)
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			list, err := ri.List(ctx, o)
			if err != nil || selector == "" {
				return list, err
			}
			n := len(list.Items)
			list.Items = slices.DeleteFunc(list.Items, func(u unstructured.Unstructured) bool { return !keep(&u) })
			c.shardsServed(gvr, list, n-len(list.Items))
			return list, nil
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			tweak(&o)
			w, err := ri.Watch(ctx, o)
			if err != nil || selector == "" {
				return w, err
			}
			return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
				switch e.Type {
				case watch.Added, watch.Modified, watch.Deleted:
					return e, keep(e.Object)
				}
				return e, true // bookmarks and errors
			}), nil
		},
	}
}

// probeShards tells at start whether the API server filters owners by shardSelector, when the
// watch has owners: it asks for the owners in a hash range of width one, which a server that
// filters answers with none (or with the selector echoed in metadata.shardInfo), and one that
// ignores the selector with an owner. Without owners it cannot tell; the slots' lists tell
// later (shardsServed).
func (c *controller) probeShards(ctx context.Context, gvr schema.GroupVersionResource) {
	ri := c.opts.Dynamic.Resource(gvr).Namespace(c.namespaces[0])
	probe, err := ri.List(ctx, metav1.ListOptions{LabelSelector: c.watch.SelectorText, ShardSelector: shard.Sliver(), Limit: 1})
	if err != nil {
		return
	}
	if len(probe.Items) > 0 {
		c.shardsServed(gvr, probe, 1)
		return
	}
	if _, echoed, _ := unstructured.NestedMap(probe.Object, "metadata", "shardInfo"); echoed {
		c.shardsServed(gvr, probe, 0)
		return
	}
	some, err := ri.List(ctx, metav1.ListOptions{LabelSelector: c.watch.SelectorText, Limit: 1})
	if err == nil && len(some.Items) > 0 {
		c.reportShards(gvr, true) // there are owners, and the sliver held none of them
	}
}

// freshList makes the first list of a sharded slot's informer a consistent read. A slot
// acquired from another replica is listed right after that replica's last writes; a list at
// resourceVersion 0 may come from a watch cache a moment behind them, and the new holder would
// then send again what is already there.
func freshList(o *metav1.ListOptions, slot int) {
	if slot != allSlots && o.ResourceVersion == "0" {
		o.ResourceVersion = ""
	}
}

// shardsServed tells once, from a list of one slot's owners, whether the API server filters
// by shardSelector: it echoes the selector in metadata.shardInfo (built-in kinds), or sends
// owners of other slots (it ignores the selector), or — custom resources, whose lists carry no
// shardInfo — sends enough owners, all of the slot, that chance is ruled out.
func (c *controller) shardsServed(gvr schema.GroupVersionResource, list *unstructured.UnstructuredList, others int) {
	const enough = 8 // an ignored selector passes 8 owners all of one slot once in 32^8
	_, echoed, _ := unstructured.NestedMap(list.Object, "metadata", "shardInfo")
	switch {
	case others > 0:
		c.reportShards(gvr, false)
	case echoed || len(list.Items) >= enough:
		c.reportShards(gvr, true)
	}
}

// reportShards logs, once, whether the API server filters owners by shardSelector.
func (c *controller) reportShards(gvr schema.GroupVersionResource, served bool) {
	c.shardReport.Do(func() {
		if served {
			c.log.Info("sharded: the API server filters each slot's owners (shardSelector)", zap.String("resource", gvr.String()))
			return
		}
		c.log.Warn("sharded: the API server does not filter by shardSelector (feature gate ShardedListAndWatch is off); each slot's informer lists and watches every owner and keeps its own",
			zap.String("resource", gvr.String()))
	})
}

// eachOwnerStore calls fn with the cache of every namespace of every slot the replica works
// on; c.mu is held (read).
func (c *controller) eachOwnerStore(fn func(cache.Indexer)) {
	for _, s := range c.slots {
		if s.leaving {
			continue
		}
		for _, inf := range s.informers {
			fn(inf.GetIndexer())
		}
	}
}

func (c *controller) ownerCount() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	c.eachOwnerStore(func(idx cache.Indexer) { n += len(idx.ListKeys()) })
	return n
}

// checkout reads the owner from the cache of the slot that holds it and counts a reconcile
// running on that slot until checkin; ok is false when no slot the replica works on has it.
// ctx ends if the slot is let go while the reconcile still runs.
func (c *controller) checkout(key cache.ObjectName) (u *unstructured.Unstructured, slot int, ctx context.Context, ok bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, s := range c.slots {
		if s.leaving {
			continue
		}
		inf := s.informers[key.Namespace]
		if inf == nil {
			inf = s.informers[""]
		}
		if inf == nil {
			continue
		}
		obj, exists, _ := inf.GetIndexer().GetByKey(key.String())
		co, isOwner := obj.(*cachedOwner)
		if !exists || !isOwner {
			continue
		}
		u, err = co.decode()
		if err != nil {
			return nil, 0, nil, false, err
		}
		s.busy++
		return u, id, s.ctx, true, nil
	}
	return nil, 0, nil, false, nil
}

// checkoutUID counts a reconcile running on the slot of an owner that is not in the cache
// (it is being let go); ok is false when the replica does not work on its slot.
func (c *controller) checkoutUID(uid types.UID) (slot int, ctx context.Context, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	slot = c.slotOf(uid)
	s := c.slots[slot]
	if s == nil || s.leaving {
		return 0, nil, false
	}
	s.busy++
	return slot, s.ctx, true
}

// checkin ends what checkout counted.
func (c *controller) checkin(slot int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.slots[slot]; s != nil {
		s.busy--
		c.idle.Broadcast()
	}
}

// slotOf is the slot of an owner UID: allSlots unless the replica shards.
func (c *controller) slotOf(uid types.UID) int {
	if !c.opts.Sharded {
		return allSlots
	}
	return shard.SlotOf(uid)
}

// recordedPrunes reads the last prune recorded on each owner in the cache.
func (c *controller) recordedPrunes() []pruneRecord {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []pruneRecord
	c.eachOwnerStore(func(idx cache.Indexer) {
		for _, o := range idx.List() {
			if m, err := meta.Accessor(o); err == nil {
				if r, ok := parsePruneRecord(m.GetAnnotations()[AnnotationPruned]); ok {
					out = append(out, r)
				}
			}
		}
	})
	return out
}

// requeueAll queues every owner of the watch again, saying why.
func (c *controller) requeueAll(why, note string) {
	var keys []cache.ObjectName
	c.mu.RLock()
	c.eachOwnerStore(func(idx cache.Indexer) {
		for _, o := range idx.List() {
			if m, err := meta.Accessor(o); err == nil {
				keys = append(keys, cache.ObjectName{Namespace: m.GetNamespace(), Name: m.GetName()})
			}
		}
	})
	c.mu.RUnlock()
	for _, key := range keys {
		c.triggers.note(key, trigger{kind: why, child: note})
		c.queue.Add(key)
	}
}

// requeueWithKind queues every owner of this watch that records children of kind gk, for the
// reason given; it returns how many.
func (c *controller) requeueWithKind(gk schema.GroupKind, why, child string) int {
	var keys []cache.ObjectName
	c.mu.RLock()
	c.eachOwnerStore(func(idx cache.Indexer) {
		for _, o := range idx.List() {
			m, err := meta.Accessor(o)
			if err == nil && slices.Contains(applier.SplitList(m.GetAnnotations()[applier.AnnotationContainsGroupKinds]), gk.String()) {
				keys = append(keys, cache.ObjectName{Namespace: m.GetNamespace(), Name: m.GetName()})
			}
		}
	})
	c.mu.RUnlock()
	for _, key := range keys {
		c.triggers.note(key, trigger{kind: why, child: child})
		c.queue.Add(key)
	}
	return len(keys)
}

// ownersWithKind is how many of this watch's owners record children of kind gk.
func (c *controller) ownersWithKind(gk schema.GroupKind) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	c.eachOwnerStore(func(idx cache.Indexer) {
		for _, o := range idx.List() {
			m, err := meta.Accessor(o)
			if err == nil && slices.Contains(applier.SplitList(m.GetAnnotations()[applier.AnnotationContainsGroupKinds]), gk.String()) {
				n++
			}
		}
	})
	return n
}

// cachedOwner is what the owner caches hold: the metadata bosun decides on without reading
// the object (keys, UID index, what changed), and the object itself as JSON, decoded only
// when the owner is reconciled. A decoded object — maps of maps — takes several times the
// memory of its JSON, and most owners sit unchanged in the cache between reconciles; a fresh
// decode also means no reconcile can alter the cached copy.
type cachedOwner struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	raw []byte
	// settled: its status says bosun made its current generation Ready.
	settled bool
}

// DeepCopyObject makes cachedOwner a runtime.Object; raw is never modified, so it is shared.
func (o *cachedOwner) DeepCopyObject() runtime.Object {
	return &cachedOwner{TypeMeta: o.TypeMeta, ObjectMeta: *o.ObjectMeta.DeepCopy(), raw: o.raw, settled: o.settled}
}

// decode returns the owner as the API server sent it (without managedFields).
func (o *cachedOwner) decode() (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(o.raw); err != nil {
		return nil, fmt.Errorf("%s/%s: decode cached owner: %w", o.Namespace, o.Name, err)
	}
	if len(o.Labels) > 0 {
		u.SetLabels(o.Labels)
	}
	if len(o.Annotations) > 0 {
		u.SetAnnotations(o.Annotations)
	}
	return u, nil
}

// compactOwner turns an owner into its cachedOwner before it enters the cache.
func compactOwner(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	o := &cachedOwner{
		TypeMeta: metav1.TypeMeta{APIVersion: u.GetAPIVersion(), Kind: u.GetKind()},
		ObjectMeta: metav1.ObjectMeta{
			Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(),
			ResourceVersion: u.GetResourceVersion(), Generation: u.GetGeneration(),
			DeletionTimestamp: u.GetDeletionTimestamp(), Labels: u.GetLabels(),
			Annotations: u.GetAnnotations(), Finalizers: u.GetFinalizers(),
		},
		settled: settled(u),
	}
	// Labels and annotations (bosun's inventory, kubectl's last-applied configuration) are
	// kept once, in ObjectMeta: decode puts them back.
	u.SetManagedFields(nil)
	unstructured.RemoveNestedField(u.Object, "metadata", "labels")
	unstructured.RemoveNestedField(u.Object, "metadata", "annotations")
	raw, err := u.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%s/%s: encode owner for the cache: %w", u.GetNamespace(), u.GetName(), err)
	}
	// The encoder's buffer has room to spare; thousands of owners keep only what they use.
	o.raw = bytes.Clone(raw)
	return o, nil
}

// settled reports an owner whose status says bosun made its current generation Ready: the
// status bosun writes, observedGeneration equal to the generation and the Ready condition
// True. An owner without a status (status.enabled: false) is never settled.
func settled(u *unstructured.Unstructured) bool {
	observed, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if !found || observed != u.GetGeneration() {
		return false
	}
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == ConditionReady {
			return m["status"] == "True"
		}
	}
	return false
}

// ownerChanged reports an owner update that can change what its templates render or how bosun
// treats it. bosun's own writes — its finalizer, inventory annotations and label, and the
// status — are not such changes: reacting to them would reconcile every owner again after
// each of its own writes. Kinds that count spec changes in metadata.generation are compared
// by generation, labels, annotations, finalizers and deletion; others by resourceVersion.
// (A template that reads .Status therefore sees status changes at the next resync.) The
// installation annotation is bosun's own write when it names this installation (instance);
// another installation's name there is a change: that bosun took the owner over.
func ownerChanged(old, obj any, instance string) bool {
	o, err1 := meta.Accessor(old)
	n, err2 := meta.Accessor(obj)
	switch {
	case err1 != nil || err2 != nil:
		return true
	case o.GetResourceVersion() == n.GetResourceVersion():
		return false
	case n.GetGeneration() == 0 || o.GetGeneration() != n.GetGeneration():
		return true
	case (o.GetDeletionTimestamp() == nil) != (n.GetDeletionTimestamp() == nil):
		return true
	}
	ignored := []string{applier.AnnotationApplySetTooling, applier.AnnotationContainsGroupKinds,
		applier.AnnotationAdditionalNamespaces, applier.AnnotationTemplateHash, applier.AnnotationClusters, AnnotationHooks, AnnotationPruned}
	if inst, ok := n.GetAnnotations()[applier.AnnotationInstance]; ok && inst == instance {
		ignored = append(ignored, applier.AnnotationInstance)
	}
	return !equalExcept(o.GetLabels(), n.GetLabels(), applier.LabelApplySetID) ||
		!equalExcept(o.GetAnnotations(), n.GetAnnotations(), ignored...) ||
		!slices.Equal(withoutFinalizer(o.GetFinalizers()), withoutFinalizer(n.GetFinalizers()))
}

// equalExcept compares two maps, ignoring the given keys.
func equalExcept(a, b map[string]string, ignore ...string) bool {
	count := func(m map[string]string) int {
		n := len(m)
		for _, k := range ignore {
			if _, ok := m[k]; ok {
				n--
			}
		}
		return n
	}
	if count(a) != count(b) {
		return false
	}
	for k, v := range a {
		if slices.Contains(ignore, k) {
			continue
		}
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func withoutFinalizer(fs []string) []string {
	return slices.DeleteFunc(slices.Clone(fs), func(f string) bool { return f == applier.Finalizer })
}
