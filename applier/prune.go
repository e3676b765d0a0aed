package applier

import (
	"context"
	"encoding/json"
	"fmt"
	"k8s.io/apimachinery/pkg/types"
	"slices"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Prune deletes the stale children (Stale of the plan: what it no longer renders), which the
// caller computed once to check its delete limits against. Call it only after Apply of the
// same plan succeeded in full: after a partial failure the plan may not be the whole truth.
func (m *Manager) Prune(ctx context.Context, stale []Child) (ChangeSet, error) {
	return m.deleteAll(ctx, stale, Pruned)
}

// Stale returns the live children that the plan no longer renders: what Prune would delete.
func Stale(p *Plan, live []Child) []Child {
	var stale []Child
	for _, c := range live {
		if !p.Has(c.Ref) && !c.Deleting {
			stale = append(stale, c)
		}
	}
	return stale
}

// DeleteAll deletes every given child: webhooks first, Namespaces and CRDs last, and all others
// at once in between (see deleteWave).
func (m *Manager) DeleteAll(ctx context.Context, live []Child) (ChangeSet, error) {
	return m.deleteAll(ctx, live, Deleted)
}

func (m *Manager) deleteAll(ctx context.Context, children []Child, action Action) (ChangeSet, error) {
	children = append([]Child(nil), children...)
	waveOf := func(c Child) int { return deleteWave(c.GroupKind()) }
	sort.SliceStable(children, func(a, b int) bool { return waveOf(children[a]) < waveOf(children[b]) })
	// Already on its way out: a second delete would change nothing.
	children = slices.DeleteFunc(children, func(c Child) bool { return c.Deleting })
	errs := make([]error, len(children))
	inWaves(children, waveOf, func(i int) {
		if keep(children[i]) {
			errs[i] = m.letGo(ctx, children[i])
			return
		}
		errs[i] = m.deleteOne(ctx, children[i])
	})
	var cs ChangeSet
	for i, c := range children {
		switch {
		case errs[i] != nil:
		case keep(c):
			cs = append(cs, Change{Ref: c.Ref, Action: Kept})
		default:
			cs = append(cs, Change{Ref: c.Ref, Action: action})
		}
	}
	return cs, joinUnique(errs)
}

// AnnotationResourcePolicy "keep" on a child (Helm's) means it is never deleted: a prune or
// the owner's deletion lets it go instead.
const AnnotationResourcePolicy = "helm.sh/resource-policy"

func keep(c Child) bool { return c.Annotations[AnnotationResourcePolicy] == "keep" }

// LetGoAll lets every given child go instead of deleting it, as a child with
// helm.sh/resource-policy: keep is let go (see letGo): each stays as it is, owned by nobody.
// `bosun uninstall --keep-children` uses it.
func (m *Manager) LetGoAll(ctx context.Context, children []Child) (ChangeSet, error) {
	errs := make([]error, len(children))
	inWaves(children, func(Child) int { return 0 }, func(i int) { errs[i] = m.letGo(ctx, children[i]) })
	var cs ChangeSet
	for i, c := range children {
		if errs[i] == nil {
			cs = append(cs, Change{Ref: c.Ref, Action: Kept})
		}
	}
	return cs, joinUnique(errs)
}

// letGo removes what makes a child bosun's — its labels (managed-by, owner, ApplySet, OwnerLabels) and
// ownerReferences, so that neither bosun nor the garbage collector deletes it — and leaves the
// rest of it as it is. The uid in the patch makes it fail on another object of the same name.
func (m *Manager) letGo(ctx context.Context, c Child) error {
	remove := map[string]any{LabelManagedBy: nil, LabelOwnerUID: nil, LabelApplySetPartOf: nil}
	for key := range m.opts.OwnerLabels {
		remove[key] = nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid":             string(c.UID),
		"ownerReferences": nil,
		"labels":          remove,
	}})
	if err != nil {
		return err
	}
	_, err = m.resource(c.Resource, c.Namespace).Patch(ctx, c.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	m.forget(c.UID)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: let go: %w", c.Ref, err)
	}
	return nil
}

func (m *Manager) deleteOne(ctx context.Context, c Child) error {
	uid := c.UID
	policy := metav1.DeletePropagationBackground
	err := m.resource(c.Resource, c.Namespace).Delete(ctx, c.Name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: &policy,
	})
	m.forget(c.UID)
	switch {
	case err == nil, apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		// The UID precondition failed: the child we saw is gone and another object took its
		// name. That object is not the one we meant to delete; the next sync judges it anew.
		return nil
	default:
		return fmt.Errorf("%s: delete: %w", c.Ref, err)
	}
}
