package applier

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
		action, err := m.applyOne(ctx, o, live)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs = append(cs, Change{Ref: o.Ref, Action: action})
	}
	return cs, errors.Join(errs...)
}

func (m *Manager) applyOne(ctx context.Context, o Object, live map[Ref]Child) (Action, error) {
	prev, existed := live[o.Ref]
	if existed && m.upToDate(o, prev) {
		return Skipped, nil
	}
	got, err := m.resource(o.Resource, o.Namespace).Apply(ctx, o.Name, o.Object, metav1.ApplyOptions{
		FieldManager: m.opts.FieldManager,
		Force:        true,
	})
	if err != nil {
		return "", fmt.Errorf("%s: apply: %w", o.Ref, err)
	}
	m.remember(got.GetUID(), o.Hash, got.GetResourceVersion())
	switch {
	case !existed || prev.UID != got.GetUID():
		return Created, nil
	case prev.ResourceVersion == got.GetResourceVersion():
		return Unchanged, nil
	default:
		return Configured, nil
	}
}

func (m *Manager) resource(gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	r := m.dyn.Resource(gvr)
	if namespace == "" {
		return r
	}
	return r.Namespace(namespace)
}
