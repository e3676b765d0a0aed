package applier

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Object is one rendered child, ready to apply.
type Object struct {
	Ref
	Resource   schema.GroupVersionResource
	Namespaced bool
	Object     *unstructured.Unstructured
	// Hash identifies the applied configuration, so an unchanged child need not be sent again.
	Hash string
	// AwaitCRD names the CRD of the same render that defines the object's kind, when the API
	// server did not serve the kind yet: the object is applied once the CRD is established.
	AwaitCRD string
}

// Plan is the desired state of one owner's children.
type Plan struct {
	Owner  *unstructured.Unstructured
	Policy Policy
	// Objects in apply order.
	Objects []Object
	// Inventory is exactly what the objects need recorded on the owner.
	Inventory Inventory
}

// Has reports whether the plan renders the child ref.
func (p *Plan) Has(ref Ref) bool {
	for _, o := range p.Objects {
		if o.Ref == ref {
			return true
		}
	}
	return false
}

// Plan resolves every rendered object through the RESTMapper, puts namespaced children without
// a namespace into the owner's namespace, checks them against the watch's child policy, drops
// the fields the policy leaves to others, adds bosun's labels and the ownerReference, and sorts
// the objects into apply order. The rendered objects are not modified.
func (m *Manager) Plan(owner *unstructured.Unstructured, rendered []*unstructured.Unstructured, policy Policy) (*Plan, error) {
	p := &Plan{Owner: owner, Policy: policy}
	seen := map[Ref]bool{}
	var errs []error
	crds := crdsIn(rendered)
	for _, r := range rendered {
		o, err := m.planOne(owner, r, policy, crds)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[o.Ref] {
			errs = append(errs, fmt.Errorf("%s: rendered more than once", o.Ref))
			continue
		}
		seen[o.Ref] = true
		p.Objects = append(p.Objects, o)
		p.Inventory.Kinds = append(p.Inventory.Kinds, o.GroupKind())
		if o.Namespace != "" && o.Namespace != owner.GetNamespace() {
			p.Inventory.Namespaces = append(p.Inventory.Namespaces, o.Namespace)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	p.Inventory = p.Inventory.normalized()
	sort.SliceStable(p.Objects, func(a, b int) bool {
		return rank(p.Objects[a].GroupKind()) < rank(p.Objects[b].GroupKind())
	})
	return p, nil
}

func (m *Manager) planOne(owner, rendered *unstructured.Unstructured, policy Policy, crds map[schema.GroupKind]renderedCRD) (Object, error) {
	gvk := rendered.GroupVersionKind()
	ref := Ref{Group: gvk.Group, Kind: gvk.Kind, Namespace: rendered.GetNamespace(), Name: rendered.GetName()}
	var resource schema.GroupVersionResource
	var namespaced bool
	var awaitCRD string
	mapping, err := m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	switch {
	case err == nil:
		resource, namespaced = mapping.Resource, mapping.Scope.Name() == meta.RESTScopeNameNamespace
	case meta.IsNoMatchError(err):
		var ok bool
		if resource, namespaced, awaitCRD, ok = mappingFromRender(crds, gvk); !ok {
			return Object{}, fmt.Errorf("%s: %w", ref, &UnknownKindError{GVK: gvk, Err: err})
		}
	default:
		return Object{}, fmt.Errorf("%s: %w", ref, &UnknownKindError{GVK: gvk, Err: err})
	}
	obj := rendered.DeepCopy()
	switch {
	case !namespaced:
		obj.SetNamespace("")
	case obj.GetNamespace() == "":
		if owner.GetNamespace() == "" {
			return Object{}, fmt.Errorf("%s: a namespaced child of a cluster-scoped owner needs metadata.namespace", ref)
		}
		obj.SetNamespace(owner.GetNamespace())
	}
	ref.Namespace = obj.GetNamespace()
	if err := checkPolicy(policy, owner, ref, namespaced); err != nil {
		return Object{}, err
	}
	for _, path := range policy.Ignored[ref.GroupKind()] {
		unstructured.RemoveNestedField(obj.Object, path...)
	}

	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelManagedBy] = ManagedByValue
	labels[LabelOwnerUID] = string(owner.GetUID())
	for key, value := range m.opts.OwnerLabels {
		labels[key] = value(owner.GetUID())
	}
	labels[LabelApplySetPartOf] = ApplySetID(owner)
	obj.SetLabels(labels)
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[AnnotationOwner] = OwnerAnnotation(owner)
	obj.SetAnnotations(annotations)

	// Kubernetes garbage collection follows an ownerReference only from the owner's own
	// namespace, or from anywhere to a cluster-scoped owner; elsewhere the finalizer alone
	// cleans up.
	if !m.opts.Remote && (owner.GetNamespace() == "" || owner.GetNamespace() == obj.GetNamespace()) {
		refs := obj.GetOwnerReferences()
		refs = append(refs, metav1.OwnerReference{
			APIVersion:         owner.GetAPIVersion(),
			Kind:               owner.GetKind(),
			Name:               owner.GetName(),
			UID:                owner.GetUID(),
			Controller:         new(true),
			BlockOwnerDeletion: new(true),
		})
		obj.SetOwnerReferences(refs)
	}

	raw, err := json.Marshal(obj.Object)
	if err != nil {
		return Object{}, fmt.Errorf("%s: encode: %w", ref, err)
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:16])
	annotations = obj.GetAnnotations()
	annotations[AnnotationConfigHash] = hash
	obj.SetAnnotations(annotations)
	return Object{
		Ref:        ref,
		Resource:   resource,
		Namespaced: namespaced,
		Object:     obj,
		Hash:       hash,
		AwaitCRD:   awaitCRD,
	}, nil
}

// UnknownKindError says the API server does not serve a rendered kind (yet): its CRD may not be
// installed or established. It clears by itself once the kind is served.
type UnknownKindError struct {
	GVK schema.GroupVersionKind
	Err error
}

func (e *UnknownKindError) Error() string {
	return fmt.Sprintf("kind %s is not served by the API server: %v", e.GVK, e.Err)
}

func (e *UnknownKindError) Unwrap() error { return e.Err }
