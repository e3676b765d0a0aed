package main

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/kinds"
	"github.com/bosun-dev/bosun/watcher"
)

// writer sends bosun's writes as bosun sends them: the same verb, body and client for each.
// Where bosun reads no more of the answer than the object's identity it writes through the
// metadata client, whose answer is the metadata alone, as protobuf, instead of the whole
// object as JSON — the owner patch (applier.EnsureOwner), the apply of a child whose existence
// is its health (a ConfigMap: applier's send) and the status apply (the watcher's
// writeStatus). The other children's applies, the child deletes and the finalizer removal go
// through the dynamic client, as JSON, as bosun's do. The raw generator and the ideal
// controller both write with it, so the ceiling costs the API server what bosun's own writes
// cost it.
type writer struct {
	dyn  dynamic.Interface
	meta metadata.Interface
}

func newWriter(cfg *rest.Config) (writer, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return writer{}, err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return writer{}, err
	}
	return writer{dyn: dyn, meta: meta}, nil
}

// createOnly is the resourceVersion precondition of applier's create: bosun applies a child
// its cache does not know with it, which creates the object and fails if one has the name.
const createOnly = "1"

// asNew returns the child's apply body as bosun sends it for a child it creates: with the
// createOnly precondition. It copies obj; call it before the clock starts.
func asNew(obj *unstructured.Unstructured) *unstructured.Unstructured {
	obj = obj.DeepCopy()
	obj.SetResourceVersion(createOnly)
	return obj
}

// patchOwner sends the owner patch (ownerPatch's body) as applier.EnsureOwner does.
func (w writer) patchOwner(ctx context.Context, namespace, name string, patch []byte) error {
	_, err := w.meta.Resource(siteGVR).Namespace(namespace).Patch(ctx, name, types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: applier.FieldManager})
	return err
}

// applyChild server-side applies a child as applier's send does and returns its UID.
func (w writer) applyChild(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (types.UID, error) {
	ns, name := obj.GetNamespace(), obj.GetName()
	if k, ok := kinds.Lookup(obj.GroupVersionKind().GroupKind()); !ok || !k.ExistenceIsHealth {
		got, err := w.dyn.Resource(gvr).Namespace(ns).Apply(ctx, name, obj, metav1.ApplyOptions{FieldManager: applier.FieldManager, Force: true})
		if err != nil {
			return "", err
		}
		return got.GetUID(), nil
	}
	body, err := obj.MarshalJSON()
	if err != nil {
		return "", err
	}
	force := true
	got, err := w.meta.Resource(gvr).Namespace(ns).Patch(ctx, name, types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: applier.FieldManager, Force: &force})
	if err != nil {
		return "", err
	}
	return got.UID, nil
}

// applyStatus server-side applies the owner's status (readyStatus) as the watcher does.
func (w writer) applyStatus(ctx context.Context, status *unstructured.Unstructured) error {
	body, err := status.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	_, err = w.meta.Resource(siteGVR).Namespace(status.GetNamespace()).Patch(ctx, status.GetName(), types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: watcher.StatusFieldManager, Force: &force}, "status")
	return err
}

// deleteChild deletes a child as applier's deleteOne does: background propagation and a UID
// precondition.
func (w writer) deleteChild(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, uid types.UID) error {
	policy := metav1.DeletePropagationBackground
	return w.dyn.Resource(gvr).Namespace(namespace).Delete(ctx, name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &policy,
	})
}

// release removes bosun's finalizer with releasePatch's JSON patch, as applier.ReleaseOwner does.
func (w writer) release(ctx context.Context, namespace, name string, patch []byte) error {
	_, err := w.dyn.Resource(siteGVR).Namespace(namespace).Patch(ctx, name, types.JSONPatchType, patch,
		metav1.PatchOptions{FieldManager: applier.FieldManager})
	return err
}
