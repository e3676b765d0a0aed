package applier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/util/csaupgrade"
)

// AnyNamespace in Policy.Namespaces allows children in every namespace.
const AnyNamespace = "*"

// Policy limits what an owner may ask bosun to create: an owner is usually written by a
// tenant, the templates by the platform team. The watcher builds it from the watch's
// children settings; the zero Policy allows only children of any kind in the owner's own
// namespace, created by bosun.
type Policy struct {
	// Namespaces are the namespaces besides the owner's own that namespaced children may be
	// put in; AnyNamespace alone means any.
	Namespaces []string
	// ClusterScoped allows cluster-scoped children such as Namespaces, ClusterRoles or CRDs,
	// which escape every tenant boundary.
	ClusterScoped bool
	// Kinds are the kinds children may have; nil allows any kind.
	Kinds []schema.GroupKind
	// Adopt lets bosun take over existing objects without bosun's labels; otherwise applying
	// over such an object is refused, so that an owner cannot overwrite objects it did not
	// create.
	Adopt bool
	// AdoptHelmReleases lets bosun take over the objects of a Helm release named after the
	// owner, in its namespace — Helm 3's, and Tiller's (Helm 2) told by the labels its charts
	// set — moving the fields Helm owned to bosun so that what leaves the chart is removed.
	AdoptHelmReleases bool
	// RecreateOnImmutable deletes and re-creates a child whose apply failed because an
	// immutable field changed; re-creating loses the object's state, e.g. a Job's pods.
	RecreateOnImmutable bool
	// Ignored are, by kind, field paths bosun never sets (each segment a map key), so that
	// other managers (an HPA, a human) own them.
	Ignored map[schema.GroupKind][][]string
}

// AllowsNamespace reports whether namespaced children may be put in ns, a namespace other
// than the owner's own, which is always allowed. The empty namespace is never allowed:
// cluster-scoped children are ClusterScoped's business.
func (p Policy) AllowsNamespace(ns string) bool {
	if ns == "" {
		return false
	}
	return slices.Contains(p.Namespaces, AnyNamespace) || slices.Contains(p.Namespaces, ns)
}

// AllowsKind reports whether children of kind gk may be created.
func (p Policy) AllowsKind(gk schema.GroupKind) bool {
	return len(p.Kinds) == 0 || slices.Contains(p.Kinds, gk)
}

// PolicyError says a rendered child is not allowed by the watch's child policy: whoever may
// create an owner must not gain bosun's privileges through it. It clears only when the owner,
// the templates or the policy change.
type PolicyError struct {
	Ref    Ref
	Reason string
}

func (e *PolicyError) Error() string { return fmt.Sprintf("%s: refused: %s", e.Ref, e.Reason) }

// checkPolicy refuses what the owner's templates may not create: other kinds than those
// allowed, cluster-scoped objects, and objects outside the owner's namespace, each unless the
// watch opts in.
func checkPolicy(policy Policy, owner *unstructured.Unstructured, ref Ref, namespaced bool) error {
	switch {
	case !policy.AllowsKind(ref.GroupKind()):
		return &PolicyError{Ref: ref, Reason: fmt.Sprintf("kind %s is not among the watch's children.kinds", ref.GroupKind())}
	case !namespaced && !policy.ClusterScoped:
		return &PolicyError{Ref: ref, Reason: "cluster-scoped children are not allowed (children.clusterScoped)"}
	case namespaced && ref.Namespace != owner.GetNamespace() && !policy.AllowsNamespace(ref.Namespace):
		return &PolicyError{Ref: ref, Reason: fmt.Sprintf("namespace %s is not the owner's and not in the watch's children.namespaces", ref.Namespace)}
	}
	return nil
}

// checkAdoption refuses to apply over an existing object that bosun does not manage for this
// owner, unless the watch allows adoption. It runs only after a create-only apply found the
// name taken by an object the child cache does not know (see create): rare, so it reads from
// etcd rather than from a watch cache that may not have the object yet. An object of the
// owner's Helm release that the watch may adopt is returned, to have its fields upgraded.
func (m *Manager) checkAdoption(ctx context.Context, p *Plan, o Object) (*metav1.PartialObjectMetadata, error) {
	got, err := m.metaResource(o.Resource, o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: check ownership: %w", o.Ref, err)
	}
	if p.Policy.AdoptHelmReleases && (inHelmRelease(p.Owner, got) || inTillerRelease(p.Owner, got)) {
		return got, nil
	}
	return nil, checkOwnership(p, o.Ref, got.Labels)
}

// checkOwnership refuses an existing object with these labels unless bosun manages it for the
// plan's owner or the watch allows adoption.
// An object bosun manages for another owner is never taken, not even with children.adopt:
// two owners rendering the same child would otherwise take it from each other forever.
func checkOwnership(p *Plan, ref Ref, labels map[string]string) error {
	uid := labels[LabelOwnerUID]
	switch {
	case uid == string(p.Owner.GetUID()):
		return nil
	case uid != "" && labels[LabelManagedBy] == ManagedByValue:
		return &PolicyError{Ref: ref, Reason: fmt.Sprintf("the object belongs to another owner (UID %s)", uid)}
	case p.Policy.Adopt:
		return nil
	case labels[LabelManagedBy] == helmManagedBy && !p.Policy.AdoptHelmReleases:
		return &PolicyError{Ref: ref, Reason: "an object of that name exists, managed by Helm (set children.adoptHelmReleases: true to take over the owner's release)"}
	case tillerRelease(labels) != "" && !p.Policy.AdoptHelmReleases:
		return &PolicyError{Ref: ref, Reason: fmt.Sprintf("an object of that name exists, of the Tiller (Helm 2) release %s (set children.adoptHelmReleases: true to take over the owner's release)", tillerRelease(labels))}
	default:
		return &PolicyError{Ref: ref, Reason: "an object of that name exists and is not managed by bosun (set children.adopt: true to take it over)"}
	}
}

// Helm's marks of a release's objects.
const (
	helmManagedBy        = "Helm"
	helmReleaseName      = "meta.helm.sh/release-name"
	helmReleaseNamespace = "meta.helm.sh/release-namespace"
)

// helmManagers are the field managers of Helm's client-side writes: Helm 3's helm CLI and
// helm-operator, and Helm 2's Tiller, each named after its binary.
var helmManagers = sets.New("helm", "helm-operator", "tiller")

// inHelmRelease tells whether obj belongs to the Helm release named after owner, in its
// namespace, and to no bosun owner.
func inHelmRelease(owner *unstructured.Unstructured, obj *metav1.PartialObjectMetadata) bool {
	return obj.Labels[LabelManagedBy] == helmManagedBy && obj.Labels[LabelOwnerUID] == "" &&
		obj.Annotations[helmReleaseName] == owner.GetName() &&
		obj.Annotations[helmReleaseNamespace] == owner.GetNamespace()
}

// Tiller (Helm 2) left no marks of its own on a release's objects: charts labelled them with
// .Release.Service, "Tiller" under Helm 2, and .Release.Name, either as heritage and release (the
// charts of that time) or as app.kubernetes.io/managed-by and app.kubernetes.io/instance (the
// recommended labels).
const (
	tillerService = "Tiller"
	labelInstance = "app.kubernetes.io/instance"
)

// tillerRelease returns the name of the Tiller release whose labels these are, or "".
func tillerRelease(labels map[string]string) string {
	switch {
	case labels["heritage"] == tillerService && labels["release"] != "":
		return labels["release"]
	case labels[LabelManagedBy] == tillerService && labels[labelInstance] != "":
		return labels[labelInstance]
	}
	return ""
}

// inTillerRelease tells whether obj belongs to the Tiller release named after owner, and to no
// bosun owner. The objects carry no release namespace: a namespaced one must be in the owner's
// namespace; a cluster-scoped one is told by the release name alone, which Tiller kept unique
// in the cluster.
func inTillerRelease(owner *unstructured.Unstructured, obj *metav1.PartialObjectMetadata) bool {
	return obj.Labels[LabelOwnerUID] == "" && tillerRelease(obj.Labels) == owner.GetName() &&
		(obj.Namespace == "" || obj.Namespace == owner.GetNamespace())
}

// takeOverFromHelm moves the fields Helm's client-side writes own to bosun's apply manager
// (client-go's csaupgrade), so that a field later removed from the chart is removed from the
// object instead of staying owned by Helm. Nothing else of the object changes.
func (m *Manager) takeOverFromHelm(ctx context.Context, o Object, got *metav1.PartialObjectMetadata) error {
	// Helm 4 applies server-side under the same manager names: csaupgrade merges only Update
	// entries, so Helm's Apply entries are presented to it as such; the patch replaces the
	// whole list either way.
	got = got.DeepCopy()
	for i, mf := range got.ManagedFields {
		if helmManagers.Has(mf.Manager) && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" {
			got.ManagedFields[i].Operation = metav1.ManagedFieldsOperationUpdate
		}
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(got, helmManagers, m.opts.FieldManager)
	if err != nil || patch == nil {
		return err
	}
	_, err = m.resource(o.Resource, o.Namespace).Patch(ctx, o.Name, types.JSONPatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("%s: take over from Helm: %w", o.Ref, err)
	}
	return nil
}

// ImmutableError says the API server refused a change to a field that cannot change after
// creation. The watch can opt in to delete and re-create such children.
type ImmutableError struct {
	Ref Ref
	Err error
}

func (e *ImmutableError) Error() string {
	return fmt.Sprintf("%s: apply: a field that cannot change after creation was changed (set children.recreateOnImmutable: true to re-create it): %v", e.Ref, e.Err)
}

func (e *ImmutableError) Unwrap() error { return e.Err }

// isImmutable recognises the API server's refusals of changes to fields that cannot change
// after creation from the causes of its Invalid status, not its wording: "field is immutable"
// (most kinds), and Forbidden field causes (a StatefulSet's, a PVC's or a Pod's spec).
func isImmutable(err error) bool {
	var st apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &st) || st.Status().Details == nil {
		return false
	}
	for _, c := range st.Status().Details.Causes {
		if c.Type == metav1.CauseType(field.ErrorTypeForbidden) || strings.Contains(c.Message, "immutable") {
			return true
		}
	}
	return false
}
