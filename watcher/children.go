package watcher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"go.uber.org/zap"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/shard"
)

const ownerIndex = "bosun.dev/owner-uid"

// children tracks, per child resource type in use, an informer over the objects bosun manages.
// Informers start on first use, so bosun only watches the kinds its templates produce. The
// caches hold metadata only: kinds whose health is read from their status are watched in full,
// and their health is computed as each version arrives before the rest is dropped, so a health
// check never reads from the API server.
type children struct {
	client    metadata.Interface
	dyn       dynamic.Interface
	mapper    meta.RESTMapper
	namespace string
	// changed is called with the owner UID of a child that was added, changed or deleted, and
	// what happened to which child.
	changed func(owner types.UID, child string)
	// gone is called with the UID of a child that was deleted; may be nil.
	gone func(child types.UID)
	// own reports whether this version of a child is the one bosun last applied, and writing
	// whether bosun is writing the child now; may be nil.
	own     func(child types.UID, resourceVersion string) bool
	writing func(child types.UID) bool
	// completedGone is called with a child of health that left the cache while Current
	// (hookgone.go); may be nil.
	completedGone func(owner types.UID, ref applier.Ref, hash string)
	// protobuf, when set, lists and watches the built-in kinds that have a health as protobuf
	// (protobuf.go), through protobufClients, one per group version, sharing protobufHTTP.
	protobuf        *rest.Config
	protobufHTTP    *http.Client
	protobufClients map[schema.GroupVersion]rest.Interface
	// stop ends the informers; the tracker lives as long as the manager.
	stop <-chan struct{}
	// health tracks the informers' lists and watches (watchhealth.go); relisted is called
	// when one of them relisted after its first sync, with when the relist began; may be nil.
	health   *watchHealth
	relisted func(gk schema.GroupKind, began time.Time)

	// sharded: children are cached per slot of their owners, only for the slots held.
	sharded bool
	// remote: the children are in a workload cluster, where no ownerReference leads the
	// garbage collector to them; down, when set, fails a wait for a cache to sync at once when
	// that cluster is known not to answer.
	remote bool
	down   func() error

	mu        sync.Mutex
	informers map[childKey]*childInformer
	held      map[int]bool

	// interned holds one copy of the strings many cached children share (field shapes and
	// health messages).
	internMu sync.Mutex
	interned map[string]string
}

// childKey names one child informer: a resource, in one slot of the owners (allSlots
// unless the replica shards).
type childKey struct {
	slot int
	gvr  schema.GroupVersionResource
}

// childInformer is one informer and what stops it alone (its slot is let go).
type childInformer struct {
	cache.SharedIndexInformer
	stop   chan struct{}
	health *watchState
}

func newChildren(client metadata.Interface, dyn dynamic.Interface, protobuf *rest.Config, mapper meta.RESTMapper, namespace string, sharded bool, stop <-chan struct{}, changed func(types.UID, string)) *children {
	return &children{
		client:          client,
		dyn:             dyn,
		protobuf:        protobuf,
		protobufClients: map[schema.GroupVersion]rest.Interface{},
		mapper:          mapper,
		namespace:       namespace,
		sharded:         sharded,
		changed:         changed,
		stop:            stop,
		informers:       map[childKey]*childInformer{},
		held:            map[int]bool{allSlots: !sharded},
		interned:        map[string]string{},
		health:          newWatchHealth(zap.NewNop()),
	}
}

// slotOf is the slot of the children of an owner UID.
func (c *children) slotOf(owner types.UID) int {
	if !c.sharded {
		return allSlots
	}
	return shard.SlotOf(owner)
}

// hold lets children of the slots be cached.
func (c *children) hold(slots []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range slots {
		c.held[s] = true
	}
}

// drop stops the child informers of the slots, and has the applier forget what it applied
// to their children: by the time the slot comes back, another replica may have written them,
// and a stale memory would make this one send again what is already there (a restarted
// replica's check of the child alone gets that right).
func (c *children) drop(slots []int) {
	c.mu.Lock()
	var gone []types.UID
	for _, s := range slots {
		delete(c.held, s)
	}
	for k, inf := range c.informers {
		if !c.held[k.slot] {
			close(inf.stop)
			inf.health.stop()
			delete(c.informers, k)
			for _, o := range inf.GetStore().List() {
				if m, err := meta.Accessor(o); err == nil {
					gone = append(gone, m.GetUID())
				}
			}
		}
	}
	c.mu.Unlock()
	if c.gone != nil {
		for _, uid := range gone {
			c.gone(uid)
		}
	}
}

// holdLike holds the slots o holds: a workload cluster's caches serve the same owners as the
// local ones.
func (c *children) holdLike(o *children) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.Copy(c.held, o.held)
}

// holds reports whether the children of the owner UID may be cached here.
func (c *children) holds(owner types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[c.slotOf(owner)]
}

// stillHeld are those of the slots still held.
func (c *children) stillHeld(slots []int) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []int{}
	for _, s := range slots {
		if c.held[s] {
			out = append(out, s)
		}
	}
	return out
}

// selector selects bosun's children, of the slots' owners when the replica shards.
func (c *children) selector(slots []int) string {
	sel := applier.LabelManagedBy + "=" + applier.ManagedByValue
	if !c.sharded {
		return sel
	}
	var buckets []string
	for _, s := range slots {
		buckets = append(buckets, shard.BucketLabels(s)...)
	}
	return sel + "," + shard.Label + " in (" + strings.Join(buckets, ",") + ")"
}

// childSyncTimeout bounds the wait for a new child informer to sync, so that a kind that
// cannot be listed fails the reconcile instead of holding a worker.
const childSyncTimeout = 30 * time.Second

// informer returns the synced informer for a child resource in a slot, starting it on first
// use. Cluster-scoped resources are always watched cluster-wide.
func (c *children) informer(ctx context.Context, slot int, gk schema.GroupKind, gvr schema.GroupVersionResource, namespaced bool) (cache.SharedIndexInformer, error) {
	c.mu.Lock()
	key := childKey{slot: slot, gvr: gvr}
	ci, ok := c.informers[key]
	if !ok {
		if !c.held[slot] {
			c.mu.Unlock()
			return nil, fmt.Errorf("%s: slot %d of the owners is not held by this replica any more", gvr, slot)
		}
		ns := c.namespace
		if !namespaced {
			ns = metav1.NamespaceAll
		}
		indexers := cache.Indexers{ownerIndex: indexByOwner}
		sel := c.selector([]int{slot})
		ours := func(o *metav1.ListOptions) {
			o.LabelSelector = sel
			freshList(o, slot)
		}
		where := ""
		if slot != allSlots {
			where = fmt.Sprintf("slot %d", slot)
		}
		health := c.health.track(roleChild, gvr.String(), where, func(began time.Time) {
			if c.relisted != nil {
				c.relisted(gk, began)
			}
		})
		var inf cache.SharedIndexInformer
		if hasHealth(gk) {
			typed, ok, err := c.protobufInformer(gk, gvr, ns, indexers, ours, health.wrap)
			switch {
			case err != nil:
				c.mu.Unlock()
				health.stop()
				return nil, err
			case ok:
				inf = typed
			default:
				ri := c.dyn.Resource(gvr).Namespace(ns)
				lw := health.wrap(&cache.ListWatch{
					ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
						ours(&o)
						return ri.List(ctx, o)
					},
					WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
						ours(&o)
						return ri.Watch(ctx, o)
					},
				})
				inf = cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(lw, c.dyn), &unstructured.Unstructured{}, 0, indexers)
				_ = inf.SetTransform(c.keepHealth)
			}
		} else {
			ri := c.client.Resource(gvr).Namespace(ns)
			lw := health.wrap(&cache.ListWatch{
				ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
					ours(&o)
					return ri.List(ctx, o)
				},
				WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
					ours(&o)
					return ri.Watch(ctx, o)
				},
			})
			inf = cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(lw, c.client), &metav1.PartialObjectMetadata{}, 0, indexers)
			// Of the managedFields only the shape of bosun's own entry matters; keeping
			// them all would multiply the cache's memory.
			_ = inf.SetTransform(c.keepShape)
		}
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.notifyAdded(gk, obj) },
			UpdateFunc: func(old, obj any) { c.notifyUpdate(gk, old, obj) },
			DeleteFunc: func(obj any) { c.notifyDelete(gk, obj) },
		})
		ci = &childInformer{SharedIndexInformer: inf, stop: make(chan struct{}), health: health}
		c.informers[key] = ci
		go inf.Run(mergeStop(c.stop, ci.stop))
	}
	c.mu.Unlock()
	var inf cache.SharedIndexInformer = ci
	if inf.HasSynced() {
		return inf, nil
	}
	ctx, cancel := context.WithTimeout(ctx, childSyncTimeout)
	defer cancel()
	tick := time.NewTicker(syncPoll)
	defer tick.Stop()
	for !inf.HasSynced() {
		if err := ci.health.refusal(); err != nil {
			return nil, &listRefusedError{kind: gk, resource: gvr, err: err}
		}
		if c.down != nil {
			if err := c.down(); err != nil {
				return nil, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: the cache of children did not sync (can bosun list and watch it?): %w", gvr, context.Cause(ctx))
		case <-tick.C:
		}
	}
	return inf, nil
}

// syncPoll is how often a reconcile waiting for a new child informer looks whether it has
// synced or been refused.
const syncPoll = 20 * time.Millisecond

// listRefusedError: the API server refused to list a kind of children for good (not served
// any more, or not allowed), so the owner's children of that kind cannot be known.
type listRefusedError struct {
	kind     schema.GroupKind
	resource schema.GroupVersionResource
	err      error
}

func (e *listRefusedError) Error() string {
	if apierrors.IsNotFound(e.err) {
		return fmt.Sprintf("%s: the API server does not serve %s any more: %v", kindString(e.kind), e.resource.Resource, e.err)
	}
	return fmt.Sprintf("%s: bosun may not list %s, so the owner's children of that kind cannot be found (grant bosun's service account list and watch on %s): %v",
		kindString(e.kind), e.resource.Resource, resourceString(e.resource), e.err)
}

func (e *listRefusedError) Unwrap() error { return e.err }

func kindString(gk schema.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

func resourceString(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Resource
	}
	return gvr.Resource + "." + gvr.Group
}

// list returns the children of owner among the given kinds, as the caches know them.
func (c *children) list(ctx context.Context, owner types.UID, kinds []schema.GroupKind) ([]applier.Child, error) {
	var out []applier.Child
	slot := c.slotOf(owner)
	err := c.eachResource(kinds, func(gk schema.GroupKind, gvr schema.GroupVersionResource, namespaced bool) error {
		inf, err := c.informer(ctx, slot, gk, gvr, namespaced)
		if refused, ok := errors.AsType[*listRefusedError](err); ok && apierrors.IsNotFound(refused.err) {
			// A kind whose resource is gone (its CRD was removed, the mapper had not
			// noticed yet) has no children left: the API server deleted them with it.
			return nil
		}
		if err != nil {
			return err
		}
		objs, err := inf.GetIndexer().ByIndex(ownerIndex, string(owner))
		if err != nil {
			return fmt.Errorf("%s: %w", gvr, err)
		}
		for _, o := range objs {
			out = append(out, childOf(gk, gvr, o.(*metav1.PartialObjectMetadata)))
		}
		return nil
	})
	return out, err
}

// listBeyondCollector reads from the API server, with label-selected requests, the children of
// owner that the garbage collector will not delete with it — cluster-scoped ones, and those in
// the namespaces of the inventory other than the owner's — so that deleting an owner does not
// depend on caches that may have missed them (a child watch down when bosun created them).
// Owners with all their children in their own namespace cost no request; in a workload cluster,
// where no ownerReference leads the garbage collector, one per kind and namespace of the
// inventory.
func (c *children) listBeyondCollector(ctx context.Context, owner *unstructured.Unstructured, inv applier.Inventory) ([]applier.Child, error) {
	var out []applier.Child
	sel := metav1.ListOptions{LabelSelector: applier.LabelOwnerUID + "=" + string(owner.GetUID())}
	err := c.eachResource(inv.Kinds, func(gk schema.GroupKind, gvr schema.GroupVersionResource, namespaced bool) error {
		namespaces := []string{metav1.NamespaceAll}
		switch {
		case namespaced && c.remote:
			// No garbage collector follows the children in another cluster: the owner's
			// namespace too, but only the namespaces the inventory names — a request per
			// namespace rather than one over every namespace per owner.
			namespaces = append([]string{owner.GetNamespace()}, slices.DeleteFunc(slices.Clone(inv.Namespaces), func(ns string) bool { return ns == owner.GetNamespace() })...)
		case namespaced:
			// Also with --namespace, whose caches never see the children bosun put elsewhere.
			namespaces = slices.DeleteFunc(slices.Clone(inv.Namespaces), func(ns string) bool { return ns == owner.GetNamespace() })
		}
		for _, ns := range namespaces {
			list, err := c.client.Resource(gvr).Namespace(ns).List(ctx, sel)
			switch {
			case apierrors.IsNotFound(err):
				return nil // the kind is gone, and its objects with it
			case err != nil:
				return fmt.Errorf("%s: list the owner's children: %w", gvr, err)
			}
			for i := range list.Items {
				out = append(out, childOf(gk, gvr, &list.Items[i]))
			}
		}
		return nil
	})
	return out, err
}

// eachResource calls fn with the resource of every kind the API server serves; kinds it does
// not serve (a CRD that was removed) have no children and are skipped.
func (c *children) eachResource(kinds []schema.GroupKind, fn func(schema.GroupKind, schema.GroupVersionResource, bool) error) error {
	for _, gk := range kinds {
		gvr, namespaced, ok, err := c.resource(gk)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := fn(gk, gvr, namespaced); err != nil {
			return err
		}
	}
	return nil
}

// resource maps gk to its preferred resource and scope; ok is false when the kind is not
// served.
func (c *children) resource(gk schema.GroupKind) (gvr schema.GroupVersionResource, namespaced, ok bool, err error) {
	m, err := c.mapper.RESTMapping(gk)
	if meta.IsNoMatchError(err) {
		return schema.GroupVersionResource{}, false, false, nil
	}
	if err != nil {
		return schema.GroupVersionResource{}, false, false, fmt.Errorf("%s: %w", gk, err)
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace, true, nil
}

// notify requeues the owner of a child that changed; what says how, for the reconcile's
// trigger ("ConfigMap/ns/name changed").
func (c *children) notify(gk schema.GroupKind, obj any, what string) {
	if m, err := meta.Accessor(unwrapTombstone(obj)); err == nil {
		if uid := m.GetLabels()[applier.LabelOwnerUID]; uid != "" {
			ref := applier.Ref{Group: gk.Group, Kind: gk.Kind, Namespace: m.GetNamespace(), Name: m.GetName()}
			c.changed(types.UID(uid), ref.String()+" "+what)
		}
	}
}

// noteCompletedGone tells completedGone of a child that goes while Current: deleted outright,
// or — deleted with foreground propagation, as the TTL controller deletes a finished Job —
// marked for deletion after it was Current (its health then says Terminating), or a Job gone
// whose last version says it completed.
func (c *children) noteCompletedGone(gk schema.GroupKind, was any) {
	m, ok := was.(*metav1.PartialObjectMetadata)
	current := ok && (m.Annotations[healthKey] == string(status.CurrentStatus) || m.Annotations[completedKey] == "true")
	if !current || c.completedGone == nil || m.Labels[applier.LabelOwnerUID] == "" {
		return
	}
	ref := applier.Ref{Group: gk.Group, Kind: gk.Kind, Namespace: m.Namespace, Name: m.Name}
	c.completedGone(types.UID(m.Labels[applier.LabelOwnerUID]), ref, m.Annotations[applier.AnnotationConfigHash])
}

func (c *children) notifyDelete(gk schema.GroupKind, obj any) {
	last := unwrapTombstone(obj)
	c.noteCompletedGone(gk, last)
	c.notify(gk, obj, "deleted")
	if m, err := meta.Accessor(last); err == nil && c.gone != nil {
		c.gone(m.GetUID())
	}
}

// echo reports the event of a child carrying the very version bosun applied: the reconcile
// that applied it judged that version by the API server's answer (checkHealth), so the owner
// has nothing to look at again. A child's later versions (its controller's status) are not
// echoes and requeue the owner.
func (c *children) echo(obj any) bool {
	if c.own == nil {
		return false
	}
	m, err := meta.Accessor(obj)
	return err == nil && c.own(m.GetUID(), m.GetResourceVersion())
}

// echoGrace is how long a child event that may be the echo of bosun's own write waits before
// it requeues the owner: the watch often delivers a write before the applier has read the API
// server's answer to it. Requeueing then would reconcile the owner again for nothing — and
// after a create, while its other new children are still on their way to the cache, create
// those again (a conflict and a read). A new child waits unless known as bosun's at once; a
// changed one only while bosun is writing it, so that others' changes (a Job's completion,
// which ttlSecondsAfterFinished: 0 deletes moments later) requeue at once.
const echoGrace = 100 * time.Millisecond

// notifyUnlessEcho requeues the owner of a child event that is no echo of bosun's own write;
// unsure says it may be one whose answer is still on its way, so it waits echoGrace first.
func (c *children) notifyUnlessEcho(gk schema.GroupKind, obj any, what string, unsure func() bool) {
	if c.echo(obj) {
		return
	}
	if c.own == nil || !unsure() {
		c.notify(gk, obj, what)
		return
	}
	time.AfterFunc(echoGrace, func() {
		if !c.echo(obj) {
			c.notify(gk, obj, what)
		}
	})
}

// notifyAdded requeues the owner of a new child unless bosun created it.
func (c *children) notifyAdded(gk schema.GroupKind, obj any) {
	c.notifyUnlessEcho(gk, obj, "appeared", func() bool { return true })
}

func (c *children) notifyUpdate(gk schema.GroupKind, old, obj any) {
	if n, ok := obj.(*metav1.PartialObjectMetadata); ok && n.DeletionTimestamp != nil {
		if o, ok := old.(*metav1.PartialObjectMetadata); ok && o.DeletionTimestamp == nil {
			c.noteCompletedGone(gk, old)
		}
	}
	if sameVersion(old, obj) || statusOnly(old, obj) {
		return
	}
	c.notifyUnlessEcho(gk, obj, "changed", func() bool {
		m, err := meta.Accessor(obj)
		return err == nil && c.writing != nil && c.writing(m.GetUID())
	})
}

// statusOnly reports an update of a child that changed neither its spec (a kind that counts
// spec changes in metadata.generation kept it), nor its labels, nor anything bosun decides on
// in its annotations, nor its health: a controller reporting progress, or noting its own
// annotation on a kind whose generation counts only its spec (a StatefulSet, a custom resource;
// a Deployment counts annotation changes too), changes nothing bosun acts on. A kind without a
// generation (ConfigMap) has every change reported, since its content is its spec.
func statusOnly(old, obj any) bool {
	o, ok1 := old.(*metav1.PartialObjectMetadata)
	n, ok2 := obj.(*metav1.PartialObjectMetadata)
	return ok1 && ok2 && n.Generation > 0 && o.Generation == n.Generation &&
		(o.DeletionTimestamp == nil) == (n.DeletionTimestamp == nil) &&
		maps.Equal(o.Labels, n.Labels) && sameDecidingAnnotations(o.Annotations, n.Annotations)
}

// sameDecidingAnnotations compares the annotations bosun acts on: its own (its marks, and the
// health and field shape the cache notes under its prefix) and Helm's (resource policy, hooks,
// release). Others' annotations that bosun does not render are nobody's drift; a hand edit of
// one it does render takes the field from bosun's managedFields entry, which changes the
// shape the cache notes under bosun's prefix (shapeKey).
func sameDecidingAnnotations(a, b map[string]string) bool {
	return decidingIn(a, b) && decidingIn(b, a)
}

// decidingIn reports whether every annotation of a that bosun acts on is in b, with the same
// value; it runs for every status update of a child, so it compares in place.
func decidingIn(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; decidingAnnotation(k) && (!ok || w != v) {
			return false
		}
	}
	return true
}

func decidingAnnotation(k string) bool {
	return strings.HasPrefix(k, "bosun.dev/") || strings.HasPrefix(k, "helm.sh/") || strings.HasPrefix(k, "meta.helm.sh/")
}

// shapeKey holds, in a cached child's annotations only (it is never sent anywhere), the
// applier.ManagedShape of bosun's managedFields entry; healthKey and healthMessageKey hold
// the kstatus status and message of a child whose kind has health (see hasHealth).
const (
	shapeKey         = "bosun.dev/.shape"
	healthKey        = "bosun.dev/.health"
	healthMessageKey = "bosun.dev/.health-message"
	// completedKey marks a Job whose conditions say it completed, also once it is
	// Terminating (jobCompleted).
	completedKey = "bosun.dev/.completed"
)

// keepShape reduces a child to what bosun reads of it before it enters the cache: its name,
// versions, deletion, labels and annotations, and of its managedFields only the shape of
// bosun's entry. Children rendered by one template share their shape and their label and
// annotation keys, so those strings are interned: a thousand Deployments hold one copy.
func (c *children) keepShape(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return stripManagedFields(obj)
	}
	slim := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Name: m.Name, Namespace: c.intern(m.Namespace), UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, DeletionTimestamp: m.DeletionTimestamp,
		Labels: c.internKeys(m.Labels, 0), Annotations: c.internKeys(m.Annotations, 1),
	}}
	if shape := applier.ManagedShape(m.ManagedFields, applier.FieldManager); shape != "" {
		slim.Annotations[shapeKey] = c.intern(shape)
	}
	return slim, nil
}

// internKeys copies m with interned keys, leaving room for extra entries.
func (c *children) internKeys(m map[string]string, extra int) map[string]string {
	out := make(map[string]string, len(m)+extra)
	for k, v := range m {
		out[c.intern(k)] = v
	}
	return out
}

// maxInterned bounds the interned strings: health messages of custom kinds may be free text,
// and a table that only grows would leak. Starting over costs only some sharing.
const maxInterned = 16384

// intern returns the one stored copy of s.
func (c *children) intern(s string) string {
	c.internMu.Lock()
	defer c.internMu.Unlock()
	if v, ok := c.interned[s]; ok {
		return v
	}
	if len(c.interned) >= maxInterned {
		clear(c.interned)
	}
	c.interned[s] = s
	return s
}

func childOf(gk schema.GroupKind, gvr schema.GroupVersionResource, m *metav1.PartialObjectMetadata) applier.Child {
	if m.ManagedFields != nil {
		// Read straight from the API server, not through the cache's transform.
		m.Annotations = copyWith(m.Annotations, shapeKey, applier.ManagedShape(m.ManagedFields, applier.FieldManager))
	}
	return applier.Child{
		Shape:           m.Annotations[shapeKey],
		Ref:             applier.Ref{Group: gk.Group, Kind: gk.Kind, Namespace: m.Namespace, Name: m.Name},
		Resource:        gvr,
		UID:             m.UID,
		ResourceVersion: m.ResourceVersion,
		Generation:      m.Generation,
		Labels:          m.Labels,
		Annotations:     m.Annotations,
		Deleting:        m.DeletionTimestamp != nil,
	}
}

func indexByOwner(obj any) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if uid := m.GetLabels()[applier.LabelOwnerUID]; uid != "" {
		return []string{uid}, nil
	}
	return nil, nil
}

// count returns how many children the caches hold for the given owners.
func (c *children) count(owners []types.UID) int {
	c.mu.Lock()
	informers := make([]cache.SharedIndexInformer, 0, len(c.informers))
	for _, inf := range c.informers {
		informers = append(informers, inf.SharedIndexInformer)
	}
	c.mu.Unlock()
	n := 0
	for _, inf := range informers {
		for _, uid := range owners {
			keys, _ := inf.GetIndexer().IndexKeys(ownerIndex, string(uid))
			n += len(keys)
		}
	}
	return n
}

// mergeStop is closed when either channel is.
func mergeStop(a, b <-chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		defer close(out)
		select {
		case <-a:
		case <-b:
		}
	}()
	return out
}

func copyWith(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}
