package applier

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"

	"github.com/bosun-dev/bosun/internal/kinds"
)

// Apply server-side applies every object of the plan in install order, the objects of one
// wave at once (see wave). live holds the children as last seen (by Ref); it decides created
// versus configured and lets unchanged children be skipped without a request. All objects
// are attempted; the errors of those that failed are joined, each prefixed with its child.
func (m *Manager) Apply(ctx context.Context, p *Plan, live map[Ref]Child) (ChangeSet, error) {
	actions := make([]Action, len(p.Objects))
	answers := make([]*unstructured.Unstructured, len(p.Objects))
	errs := make([]error, len(p.Objects))
	crds := &establishedCRDs{m: m}
	inWaves(p.Objects, func(o Object) int { return wave(o.GroupKind()) }, func(i int) {
		if errs[i] = ctx.Err(); errs[i] != nil {
			return
		}
		if o := p.Objects[i]; o.AwaitCRD != "" {
			if errs[i] = crds.wait(ctx, o.AwaitCRD); errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", o.Ref, errs[i])
				return
			}
		}
		actions[i], answers[i], errs[i] = m.applyOne(ctx, p, p.Objects[i], live)
	})
	var cs ChangeSet
	for i, o := range p.Objects {
		if errs[i] == nil {
			cs = append(cs, Change{Ref: o.Ref, Action: actions[i], Answer: answers[i]})
		}
	}
	return cs, joinUnique(errs)
}

// joinUnique joins the errors, each once: a cancelled context would otherwise be reported by
// every object it stopped.
func joinUnique(errs []error) error {
	var out []error
	for _, err := range errs {
		if err != nil && !slices.ContainsFunc(out, func(e error) bool { return e == err }) {
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}

// applyOne applies one object; it returns what it did and the API server's answer (nil when
// nothing was sent).
func (m *Manager) applyOne(ctx context.Context, p *Plan, o Object, live map[Ref]Child) (Action, *unstructured.Unstructured, error) {
	prev, existed := live[o.Ref]
	if existed && m.upToDate(o, prev) {
		return Skipped, nil, nil
	}
	if existed {
		// Until its answer is remembered, the watch's event of this write cannot be told
		// from someone else's (Writing).
		m.writing(prev.UID, 1)
		defer m.writing(prev.UID, -1)
	}
	var got *unstructured.Unstructured
	var err error
	if !existed {
		if m.createdRecently(o.Ref, o.Hash) {
			return Skipped, nil, nil // created moments ago, not in the cache yet
		}
		// A child the cache does not know is most likely new: try to create it without
		// touching an object that may hold the name. Only when one does is its ownership
		// read (usually a child of ours the cache has not seen yet).
		got, err = m.create(ctx, o)
		switch {
		case err == nil:
			m.remember(got.GetUID(), appliedState{hash: o.Hash, resourceVersion: got.GetResourceVersion(), generation: got.GetGeneration()})
			m.noteCreated(o.Ref, got.GetUID(), o.Hash)
			return Created, got, nil
		case !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err): // the latter: created meanwhile
			return "", nil, fmt.Errorf("%s: apply: %w", o.Ref, err)
		}
		helm, err := m.checkAdoption(ctx, p, o)
		if err != nil {
			return "", nil, err
		}
		if helm != nil {
			if err := m.takeOverFromHelm(ctx, o, helm); err != nil {
				return "", nil, err
			}
		}
	}
	got, err = m.apply(ctx, o)
	if isImmutable(err) {
		if !p.Policy.RecreateOnImmutable || !existed {
			return "", nil, &ImmutableError{Ref: o.Ref, Err: err}
		}
		// The only way to the rendered state is a new object. Deleting with the UID seen
		// makes sure it is the object we know; the re-create follows once it is gone (the
		// apply of a terminating object fails and is retried).
		if err := m.deleteOne(ctx, prev); err != nil {
			return "", nil, err
		}
		if got, err = m.apply(ctx, o); err != nil {
			return "", nil, fmt.Errorf("%s: re-create after an immutable field changed: %w", o.Ref, err)
		}
		m.remember(got.GetUID(), appliedState{hash: o.Hash, resourceVersion: got.GetResourceVersion(), generation: got.GetGeneration()})
		return Recreated, got, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("%s: apply: %w", o.Ref, err)
	}
	m.mu.Lock()
	before, known := m.applied[got.GetUID()]
	m.mu.Unlock()
	s := appliedState{hash: o.Hash, resourceVersion: got.GetResourceVersion(), generation: got.GetGeneration()}
	if existed && prev.UID == got.GetUID() {
		s.replaced = prev.ResourceVersion
	}
	m.remember(got.GetUID(), s)
	switch {
	case known && before.resourceVersion == got.GetResourceVersion(),
		existed && prev.UID == got.GetUID() && prev.ResourceVersion == got.GetResourceVersion():
		return Unchanged, got, nil
	case !known && (!existed || prev.UID != got.GetUID()):
		return Created, got, nil
	default:
		return Configured, got, nil
	}
}

// createOnly is a resourceVersion no object has (etcd counts revisions from 1 and writes
// start at 2): an apply that carries it as a precondition creates the object when it does not
// exist and fails with a conflict when it does, so creating a child needs no read first. The
// server drops it on create; it is never part of the applied configuration.
const createOnly = "1"

// create server-side applies o only if no object has its name; a conflict means one has.
func (m *Manager) create(ctx context.Context, o Object) (*unstructured.Unstructured, error) {
	obj := o.Object.DeepCopy()
	obj.SetResourceVersion(createOnly)
	return m.send(ctx, o, obj)
}

func (m *Manager) apply(ctx context.Context, o Object) (*unstructured.Unstructured, error) {
	return m.send(ctx, o, o.Object)
}

// send server-side applies obj. A child whose existence is its health (a ConfigMap, a Secret)
// goes through the metadata client: the API server answers with its metadata only, as
// protobuf, and reading that costs a fraction of reading the whole object as JSON — its
// identity and version are all bosun reads of the answer. The answer is then an object with
// apiVersion, kind and those metadata alone.
func (m *Manager) send(ctx context.Context, o Object, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if k, ok := kinds.Lookup(o.GroupKind()); !ok || !k.ExistenceIsHealth {
		return m.resource(o.Resource, o.Namespace).Apply(ctx, o.Name, obj, metav1.ApplyOptions{
			FieldManager: m.opts.FieldManager,
			Force:        true,
		})
	}
	body, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	force := true
	got, err := m.metaResource(o.Resource, o.Namespace).Patch(ctx, o.Name, types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: m.opts.FieldManager, Force: &force})
	if err != nil {
		return nil, err
	}
	answer := &unstructured.Unstructured{Object: map[string]any{"apiVersion": obj.GetAPIVersion(), "kind": obj.GetKind(),
		"metadata": map[string]any{"name": got.Name}}}
	answer.SetNamespace(got.Namespace)
	answer.SetUID(got.UID)
	answer.SetResourceVersion(got.ResourceVersion)
	answer.SetGeneration(got.Generation)
	return answer, nil
}

// metaResource is resource for the metadata client.
func (m *Manager) metaResource(gvr schema.GroupVersionResource, namespace string) metadata.ResourceInterface {
	r := m.meta.Resource(gvr)
	if namespace == "" {
		return r
	}
	return r.Namespace(namespace)
}

func (m *Manager) resource(gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	r := m.dyn.Resource(gvr)
	if namespace == "" {
		return r
	}
	return r.Namespace(namespace)
}
