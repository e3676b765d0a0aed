package watcher

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/applier"
)

// The owner cache: informers over the watched kind that keep owners as metadata plus JSON,
// what counts as an owner change, and the questions asked of the cache.

// startInformers starts one dynamic informer per namespace of the watch, each filtered by the
// watch's label selector, with managedFields dropped and an index by UID for child events.
func (c *controller) startInformers(ctx context.Context, gvr schema.GroupVersionResource) map[string]cache.SharedIndexInformer {
	informers := map[string]cache.SharedIndexInformer{}
	for _, ns := range c.namespaces {
		factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(c.opts.Dynamic, 0, ns, func(o *metav1.ListOptions) {
			o.LabelSelector = c.watch.SelectorText
		})
		inf := factory.ForResource(gvr).Informer()
		_ = inf.SetTransform(compactOwner)
		_ = inf.AddIndexers(cache.Indexers{uidIndex: func(obj any) ([]string, error) {
			m, err := meta.Accessor(obj)
			if err != nil {
				return nil, err
			}
			return []string{string(m.GetUID())}, nil
		}})
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: c.enqueue,
			UpdateFunc: func(old, obj any) {
				if ownerChanged(old, obj) {
					c.enqueue(obj)
				}
			},
			DeleteFunc: c.enqueue,
		})
		factory.Start(ctx.Done())
		informers[ns] = inf
	}
	return informers
}

func (c *controller) ownerCount() int {
	n := 0
	for _, inf := range c.informers {
		n += len(inf.GetIndexer().ListKeys())
	}
	return n
}

// owner reads the owner from the informer cache; ok is false when it no longer exists.
func (c *controller) owner(key cache.ObjectName) (*unstructured.Unstructured, bool, error) {
	c.mu.RLock()
	inf := c.informers[key.Namespace]
	if inf == nil {
		inf = c.informers[""]
	}
	c.mu.RUnlock()
	if inf == nil {
		return nil, false, nil
	}
	obj, exists, err := inf.GetIndexer().GetByKey(key.String())
	if err != nil || !exists {
		return nil, false, nil
	}
	co, ok := obj.(*cachedOwner)
	if !ok {
		return nil, false, nil
	}
	u, err := co.decode()
	return u, err == nil, err
}

// recordedPrunes reads the last prune recorded on each owner in the cache.
func (c *controller) recordedPrunes() []pruneRecord {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []pruneRecord
	for _, inf := range c.informers {
		for _, o := range inf.GetIndexer().List() {
			if m, err := meta.Accessor(o); err == nil {
				if r, ok := parsePruneRecord(m.GetAnnotations()[AnnotationPruned]); ok {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// ownersWithKind is how many of this watch's owners record children of kind gk.
func (c *controller) ownersWithKind(gk schema.GroupKind) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, inf := range c.informers {
		for _, o := range inf.GetIndexer().List() {
			m, err := meta.Accessor(o)
			if err == nil && slices.Contains(applier.SplitList(m.GetAnnotations()[applier.AnnotationContainsGroupKinds]), gk.String()) {
				n++
			}
		}
	}
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
}

// DeepCopyObject makes cachedOwner a runtime.Object; raw is never modified, so it is shared.
func (o *cachedOwner) DeepCopyObject() runtime.Object {
	return &cachedOwner{TypeMeta: o.TypeMeta, ObjectMeta: *o.ObjectMeta.DeepCopy(), raw: o.raw}
}

// decode returns the owner as the API server sent it (without managedFields).
func (o *cachedOwner) decode() (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(o.raw); err != nil {
		return nil, fmt.Errorf("%s/%s: decode cached owner: %w", o.Namespace, o.Name, err)
	}
	return u, nil
}

// compactOwner turns an owner into its cachedOwner before it enters the cache.
func compactOwner(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	raw, err := u.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%s/%s: encode owner for the cache: %w", u.GetNamespace(), u.GetName(), err)
	}
	return &cachedOwner{
		TypeMeta: metav1.TypeMeta{APIVersion: u.GetAPIVersion(), Kind: u.GetKind()},
		ObjectMeta: metav1.ObjectMeta{
			Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(),
			ResourceVersion: u.GetResourceVersion(), Generation: u.GetGeneration(),
			DeletionTimestamp: u.GetDeletionTimestamp(), Labels: u.GetLabels(),
			Annotations: u.GetAnnotations(), Finalizers: u.GetFinalizers(),
		},
		raw: raw,
	}, nil
}

// ownerChanged reports an owner update that can change what its templates render or how bosun
// treats it. bosun's own writes — its finalizer, inventory annotations and label, and the
// status — are not such changes: reacting to them would reconcile every owner again after
// each of its own writes. Kinds that count spec changes in metadata.generation are compared
// by generation, labels, annotations, finalizers and deletion; others by resourceVersion.
// (A template that reads .Status therefore sees status changes at the next resync.)
func ownerChanged(old, obj any) bool {
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
	return !equalExcept(o.GetLabels(), n.GetLabels(), applier.LabelApplySetID) ||
		!equalExcept(o.GetAnnotations(), n.GetAnnotations(), applier.AnnotationApplySetTooling, applier.AnnotationContainsGroupKinds,
			applier.AnnotationAdditionalNamespaces, applier.AnnotationTemplateHash, AnnotationHooks, AnnotationPruned) ||
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
