package applier

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Difference is what applying a plan would do to one child. Live and Merged are normalized
// (see Diff) so that they differ only where applying would change something.
type Difference struct {
	Ref Ref
	// Action is Created, Configured or Unchanged for a planned child; Recreated for one whose
	// immutable fields changed under children.recreateOnImmutable (Merged is then the planned
	// object as bosun would create it); Pruned for a live child the plan no longer renders.
	Action Action
	// Live is the child as it is; nil when it does not exist yet.
	Live *unstructured.Unstructured
	// Merged is the API server's answer to a dry-run apply of the planned child: the live
	// object with bosun's configuration applied, defaulted and admitted. nil when pruned.
	Merged *unstructured.Unstructured
}

// Diff tells what Apply and Prune of the plan would change, without changing anything. Every
// planned child is server-side applied with dry-run, with bosun's field manager and force as
// Apply does, so defaulting, validation, admission and fields owned by other managers are
// the API server's to judge; the result is compared with the live child. The owner's children
// among kinds (its recorded inventory and the plan's) that the plan does not render are
// returned as Pruned. Both sides are compared without status and the metadata the server
// maintains (managedFields, resourceVersion, generation, uid, creationTimestamp).
//
// A child that cannot be compared — bosun would refuse to adopt it, the API server rejects it,
// an immutable field changed — is left out and its error joined to the returned error; the
// other children are still compared.
func (m *Manager) Diff(ctx context.Context, p *Plan, kinds []schema.GroupKind) ([]Difference, error) {
	var (
		diffs []Difference
		errs  []error
	)
	for _, o := range p.Objects {
		d, err := m.diffOne(ctx, p, o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		diffs = append(diffs, d)
	}
	live, err := m.Children(ctx, p.Owner.GetUID(), kinds)
	if err != nil {
		return diffs, errors.Join(append(errs, err)...)
	}
	stale := Stale(p, live)
	sort.Slice(stale, func(a, b int) bool { return stale[a].String() < stale[b].String() })
	for _, c := range stale {
		obj, err := m.resource(c.Resource, c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue // gone meanwhile: nothing left to prune
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: get: %w", c.Ref, err))
			continue
		}
		diffs = append(diffs, Difference{Ref: c.Ref, Action: Pruned, Live: normalized(obj)})
	}
	return diffs, errors.Join(errs...)
}

func (m *Manager) diffOne(ctx context.Context, p *Plan, o Object) (Difference, error) {
	d := Difference{Ref: o.Ref, Action: Created}
	live, err := m.resource(o.Resource, o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return d, fmt.Errorf("%s: get: %w", o.Ref, err)
	default:
		if err := checkOwnership(p, o.Ref, live.GetLabels()); err != nil {
			return d, err
		}
		d.Live = normalized(live)
	}
	merged, err := m.resource(o.Resource, o.Namespace).Apply(ctx, o.Name, o.Object, metav1.ApplyOptions{
		DryRun:       []string{metav1.DryRunAll},
		FieldManager: m.opts.FieldManager,
		Force:        true,
	})
	switch {
	case isImmutable(err) && d.Live != nil && p.Policy.RecreateOnImmutable:
		// Apply would delete the child and create it anew: the diff is that of a creation.
		d.Merged, d.Action = normalized(o.Object), Recreated
		return d, nil
	case isImmutable(err):
		return d, &ImmutableError{Ref: o.Ref, Err: err}
	case err != nil:
		return d, fmt.Errorf("%s: dry-run apply: %w", o.Ref, err)
	}
	d.Merged = normalized(merged)
	if d.Live != nil {
		d.Action = Configured
		if reflect.DeepEqual(d.Live.Object, d.Merged.Object) {
			d.Action = Unchanged
		}
	}
	return d, nil
}

// Children lists the children of the owner with this UID among kinds, in every namespace,
// straight from the API server. Kinds the API server does not serve have no children.
func (m *Manager) Children(ctx context.Context, owner types.UID, kinds []schema.GroupKind) ([]Child, error) {
	var out []Child
	for _, gk := range kinds {
		mapping, err := m.mapper.RESTMapping(gk)
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", gk, err)
		}
		list, err := m.meta.Resource(mapping.Resource).List(ctx, metav1.ListOptions{
			LabelSelector: LabelOwnerUID + "=" + string(owner),
		})
		if err != nil {
			return nil, fmt.Errorf("%s: list children: %w", mapping.Resource, err)
		}
		for _, item := range list.Items {
			out = append(out, Child{
				Ref:             Ref{Group: gk.Group, Kind: gk.Kind, Namespace: item.Namespace, Name: item.Name},
				Resource:        mapping.Resource,
				UID:             item.UID,
				ResourceVersion: item.ResourceVersion,
				Generation:      item.Generation,
				Labels:          item.Labels,
				Annotations:     item.Annotations,
				Deleting:        item.DeletionTimestamp != nil,
			})
		}
	}
	return out, nil
}

// normalized is a copy of obj without what the server maintains and what bosun never sets, so
// that two versions of an object compare equal unless an apply would change them.
func normalized(obj *unstructured.Unstructured) *unstructured.Unstructured {
	out := obj.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"} {
		unstructured.RemoveNestedField(out.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(out.Object, "status")
	return out
}
