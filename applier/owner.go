package applier

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// OwnerRef is the prefix of errors about an owner: Kind/namespace/name.
func OwnerRef(owner *unstructured.Unstructured) string {
	return Ref{Kind: owner.GetKind(), Namespace: owner.GetNamespace(), Name: owner.GetName()}.String()
}

// EnsureOwner makes sure the owner carries bosun's finalizer, its ApplySet id label, an
// inventory that is exactly inv, the hash of the templates that render it (empty: keep) and
// the installation that reconciles it. It writes only when something is missing or different, with
// the owner's resourceVersion as a precondition (a conflict means the cache was stale: retry).
// It returns the owner as it is now, so a second call in the same sync sees the first's write.
func (m *Manager) EnsureOwner(ctx context.Context, owner *unstructured.Unstructured, gvr schema.GroupVersionResource, inv Inventory, templateHash string) (*unstructured.Unstructured, error) {
	meta := map[string]any{}
	if !slices.Contains(owner.GetFinalizers(), Finalizer) {
		meta["finalizers"] = append(owner.GetFinalizers(), Finalizer)
	}
	if id := ApplySetID(owner); owner.GetLabels()[LabelApplySetID] != id {
		meta["labels"] = map[string]any{LabelApplySetID: id}
	}
	ann := map[string]any{}
	have := owner.GetAnnotations()
	setAnnotation(ann, have, AnnotationApplySetTooling, ToolingValue)
	setAnnotation(ann, have, AnnotationContainsGroupKinds, inv.kindsText())
	setAnnotation(ann, have, AnnotationAdditionalNamespaces, strings.Join(inv.Namespaces, ","))
	setAnnotation(ann, have, AnnotationClusters, inv.clustersText())
	if templateHash != "" {
		setAnnotation(ann, have, AnnotationTemplateHash, templateHash)
	}
	if m.opts.Instance != "" {
		setAnnotation(ann, have, AnnotationInstance, m.opts.Instance)
	}
	if len(ann) > 0 {
		meta["annotations"] = ann
	}
	if len(meta) == 0 {
		return owner, nil
	}
	return m.patchOwner(ctx, owner, gvr, meta, "update inventory")
}

// AnnotateOwner sets (or, with an empty value, removes) one annotation of bosun's on the owner,
// with the owner's resourceVersion as a precondition.
func (m *Manager) AnnotateOwner(ctx context.Context, owner *unstructured.Unstructured, gvr schema.GroupVersionResource, key, value string) (*unstructured.Unstructured, error) {
	ann := map[string]any{}
	setAnnotation(ann, owner.GetAnnotations(), key, value)
	if len(ann) == 0 {
		return owner, nil
	}
	return m.patchOwner(ctx, owner, gvr, map[string]any{"annotations": ann}, "annotate "+key)
}

// patchOwner merge-patches the owner's metadata, failing with a conflict if the owner changed
// since it was read. The patch goes through the metadata client, whose answer is the owner's
// metadata as protobuf rather than the whole owner as JSON: with the resourceVersion as a
// precondition nothing but the patched metadata can have changed, so the owner as it is now is
// the one read with the answer's metadata.
func (m *Manager) patchOwner(ctx context.Context, owner *unstructured.Unstructured, gvr schema.GroupVersionResource, meta map[string]any, what string) (*unstructured.Unstructured, error) {
	meta["resourceVersion"] = owner.GetResourceVersion()
	patch, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", OwnerRef(owner), what, err)
	}
	answer, err := m.metaResource(gvr, owner.GetNamespace()).Patch(ctx, owner.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: m.opts.FieldManager})
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", OwnerRef(owner), what, err)
	}
	now, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&answer.ObjectMeta)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", OwnerRef(owner), what, err)
	}
	got := &unstructured.Unstructured{Object: make(map[string]any, len(owner.Object))}
	for k, v := range owner.Object {
		if k != "metadata" {
			got.Object[k] = runtime.DeepCopyJSONValue(v)
		}
	}
	got.Object["metadata"] = now
	return got, nil
}

// setAnnotation puts key into the merge patch ann when have does not already say want; an
// empty want removes the key.
func setAnnotation(ann map[string]any, have map[string]string, key, want string) {
	cur, ok := have[key]
	switch {
	case want == "" && ok:
		ann[key] = nil
	case want != "" && cur != want:
		ann[key] = want
	}
}

// ReleaseOwner removes bosun's finalizer from the owner. The JSON patch tests that the
// finalizer is still where it was seen, so a concurrent change of the list fails instead of
// removing someone else's finalizer. An owner that is already gone is success.
func (m *Manager) ReleaseOwner(ctx context.Context, owner *unstructured.Unstructured, gvr schema.GroupVersionResource) error {
	i := slices.Index(owner.GetFinalizers(), Finalizer)
	if i < 0 {
		return nil
	}
	path := fmt.Sprintf("/metadata/finalizers/%d", i)
	ops := []map[string]any{
		{"op": "test", "path": "/metadata/uid", "value": string(owner.GetUID())},
		{"op": "test", "path": path, "value": Finalizer},
	}
	if inst, ok := owner.GetAnnotations()[AnnotationInstance]; ok {
		// Another installation that took the owner over meanwhile keeps its finalizer.
		ops = append(ops, map[string]any{"op": "test", "path": "/metadata/annotations/" + strings.ReplaceAll(AnnotationInstance, "/", "~1"), "value": inst})
	}
	patch, err := json.Marshal(append(ops, map[string]any{"op": "remove", "path": path}))
	if err != nil {
		return fmt.Errorf("%s: remove finalizer: %w", OwnerRef(owner), err)
	}
	_, err = m.resource(gvr, owner.GetNamespace()).Patch(ctx, owner.GetName(), types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: m.opts.FieldManager})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: remove finalizer: %w", OwnerRef(owner), err)
	}
	return nil
}

// OwnerFromMetadata is an owner known by its metadata only, which is all that releasing it
// (deleting its children, removing the finalizer) and recording Events on it need.
func OwnerFromMetadata(gvk schema.GroupVersionKind, m *metav1.PartialObjectMetadata) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(m.Namespace)
	u.SetName(m.Name)
	u.SetUID(m.UID)
	u.SetResourceVersion(m.ResourceVersion)
	u.SetLabels(m.Labels)
	u.SetAnnotations(m.Annotations)
	u.SetFinalizers(m.Finalizers)
	return u
}
