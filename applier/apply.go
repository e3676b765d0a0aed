package applier

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Apply server-side applies every object of the plan in order. live holds the children as
// last seen (by Ref); it decides created versus configured and lets unchanged children be
// skipped without a request. All objects are attempted; the errors of those that failed are
// joined, each prefixed with its child.
func (m *Manager) Apply(ctx context.Context, p *Plan, live map[Ref]Child) (ChangeSet, error) {
	var cs ChangeSet
	var errs []error
	for _, o := range p.Objects {
		if err := ctx.Err(); err != nil {
			return cs, errors.Join(append(errs, err)...)
		}
		action, err := m.applyOne(ctx, p, o, live)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs = append(cs, Change{Ref: o.Ref, Action: action})
	}
	return cs, errors.Join(errs...)
}

func (m *Manager) applyOne(ctx context.Context, p *Plan, o Object, live map[Ref]Child) (Action, error) {
	prev, existed := live[o.Ref]
	if existed && m.upToDate(o, prev) {
		return Skipped, nil
	}
	if !existed {
		if err := m.checkAdoption(ctx, p, o); err != nil {
			return "", err
		}
	}
	got, err := m.apply(ctx, o)
	if isImmutable(err) {
		if !p.Policy.RecreateOnImmutable || !existed {
			return "", &ImmutableError{Ref: o.Ref, Err: err}
		}
		// The only way to the rendered state is a new object. Deleting with the UID seen
		// makes sure it is the object we know; the re-create follows once it is gone (the
		// apply of a terminating object fails and is retried).
		if err := m.deleteOne(ctx, prev); err != nil {
			return "", err
		}
		if got, err = m.apply(ctx, o); err != nil {
			return "", fmt.Errorf("%s: re-create after an immutable field changed: %w", o.Ref, err)
		}
		m.remember(got.GetUID(), appliedState{hash: o.Hash, resourceVersion: got.GetResourceVersion(), generation: got.GetGeneration()})
		return Recreated, nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: apply: %w", o.Ref, err)
	}
	m.mu.Lock()
	before, known := m.applied[got.GetUID()]
	m.mu.Unlock()
	m.remember(got.GetUID(), appliedState{hash: o.Hash, resourceVersion: got.GetResourceVersion(), generation: got.GetGeneration()})
	switch {
	case known && before.resourceVersion == got.GetResourceVersion(),
		existed && prev.UID == got.GetUID() && prev.ResourceVersion == got.GetResourceVersion():
		return Unchanged, nil
	case !known && (!existed || prev.UID != got.GetUID()):
		return Created, nil
	default:
		return Configured, nil
	}
}

func (m *Manager) apply(ctx context.Context, o Object) (*unstructured.Unstructured, error) {
	return m.resource(o.Resource, o.Namespace).Apply(ctx, o.Name, o.Object, metav1.ApplyOptions{
		FieldManager: m.opts.FieldManager,
		Force:        true,
	})
}

func (m *Manager) resource(gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	r := m.dyn.Resource(gvr)
	if namespace == "" {
		return r
	}
	return r.Namespace(namespace)
}
