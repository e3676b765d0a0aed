package watcher

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
)

// StatusFieldManager owns the status bosun writes, apart from the manager of the children so
// that neither apply can take the other's fields away.
const StatusFieldManager = "bosun-status"

// Condition types on the owner.
const (
	ConditionApplied = "Applied" // every rendered child applied, stale ones pruned
	ConditionReady   = "Ready"   // Applied, and every child healthy (or only Applied, per watch)
)

// outcome is what one reconcile found, for the owner's status and Events.
type outcome struct {
	// children rendered for the owner; nil when rendering failed (the last known list stays).
	children []placed
	// err is the reconcile failure, if any, and reason its classification (of first, the
	// first failure, when there are several: one per cluster).
	err    error
	first  error
	reason string
	// ready and waiting: Ready, or what it is waiting for.
	ready   bool
	waiting string
	// templateHash identifies the templates that rendered the owner (recorded in an
	// annotation on it).
	templateHash string
	// paused: the owner is paused (AnnotationPaused); waiting says so.
	paused bool
}

// conditions turns an outcome into the owner's Applied and Ready conditions.
func (o outcome) conditions(generation int64) []metav1.Condition {
	applied := metav1.Condition{Type: ConditionApplied, Status: metav1.ConditionTrue, Reason: ReasonApplied,
		Message: fmt.Sprintf("%d children applied", len(o.children)), ObservedGeneration: generation}
	ready := metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonReady,
		Message: "all children are ready", ObservedGeneration: generation}
	switch {
	case o.paused:
		applied.Status, applied.Reason, applied.Message = metav1.ConditionUnknown, ReasonPaused, o.waiting
		ready.Status, ready.Reason, ready.Message = metav1.ConditionUnknown, ReasonPaused, o.waiting
	case o.err != nil:
		applied.Status, applied.Reason, applied.Message = metav1.ConditionFalse, o.reason, o.err.Error()
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, o.reason, o.err.Error()
	case !o.ready:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, ReasonProgressing, o.waiting
	}
	return []metav1.Condition{applied, ready}
}

// desiredStatus is the part of the owner's status bosun owns. Condition transition times are
// kept from the current status while a condition's status stays the same, so an unchanged
// reconcile renders an identical status and writes nothing.
func desiredStatus(owner *unstructured.Unstructured, o outcome, now time.Time) map[string]any {
	current := map[string]metav1.Condition{}
	if raw, ok, _ := unstructured.NestedSlice(owner.Object, "status", "conditions"); ok {
		var cs []metav1.Condition
		if b, err := json.Marshal(raw); err == nil && json.Unmarshal(b, &cs) == nil {
			for _, c := range cs {
				current[c.Type] = c
			}
		}
	}
	var conds []any
	for _, c := range o.conditions(owner.GetGeneration()) {
		c.LastTransitionTime = metav1.NewTime(now.UTC().Truncate(time.Second))
		if prev, ok := current[c.Type]; ok && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		}
		conds = append(conds, conditionMap(c))
	}
	st := map[string]any{
		"observedGeneration": owner.GetGeneration(),
		"conditions":         conds,
	}
	if o.children != nil {
		kids := make([]any, 0, len(o.children))
		for _, r := range o.children {
			kid := map[string]any{"kind": r.Kind, "name": r.Name}
			if r.Group != "" {
				kid["group"] = r.Group
			}
			if r.Namespace != "" {
				kid["namespace"] = r.Namespace
			}
			if r.cluster != "" && r.cluster != config.LocalCluster {
				kid["cluster"] = r.cluster
			}
			kids = append(kids, kid)
		}
		st["children"] = kids
	} else if prev, ok, _ := unstructured.NestedSlice(owner.Object, "status", "children"); ok {
		st["children"] = prev
	}
	return st
}

func conditionMap(c metav1.Condition) map[string]any {
	return map[string]any{
		"type":               c.Type,
		"status":             string(c.Status),
		"reason":             c.Reason,
		"message":            c.Message,
		"observedGeneration": c.ObservedGeneration,
		"lastTransitionTime": c.LastTransitionTime.UTC().Format(time.RFC3339),
	}
}

// statusChanged reports whether the owner's status differs from want in the fields bosun owns.
func statusChanged(owner *unstructured.Unstructured, want map[string]any) bool {
	have, _, _ := unstructured.NestedMap(owner.Object, "status")
	for k, v := range want {
		if !jsonEqual(have[k], v) {
			return true
		}
	}
	return false
}

// jsonEqual compares two values as JSON would, so int64 and float64 of one number are equal.
func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}

// writeStatus applies the status to the owner's status subresource when it changed.
func (c *controller) writeStatus(ctx context.Context, owner *unstructured.Unstructured, o outcome) error {
	want := desiredStatus(owner, o, time.Now())
	if !statusChanged(owner, want) {
		return nil
	}
	patch := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": owner.GetAPIVersion(),
		"kind":       owner.GetKind(),
		"metadata":   map[string]any{"name": owner.GetName(), "namespace": owner.GetNamespace()},
		"status":     want,
	}}
	body, err := patch.MarshalJSON()
	if err != nil {
		return fmt.Errorf("%s: write status: %w", applier.OwnerRef(owner), err)
	}
	// Through the metadata client: the answer, which nobody reads, comes back as metadata
	// only rather than the whole owner as JSON.
	force := true
	_, err = c.opts.Metadata.Resource(c.gvr).Namespace(owner.GetNamespace()).Patch(ctx, owner.GetName(), types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: StatusFieldManager, Force: &force}, "status")
	if err != nil {
		return fmt.Errorf("%s: write status: %w", applier.OwnerRef(owner), err)
	}
	return nil
}

// eventType is the Event type for a condition reason.
func eventType(reason string) string {
	switch reason {
	case ReasonApplied, ReasonReady, ReasonProgressing, ReasonPruned, ReasonDeleted, ReasonRecreated, ReasonKept, ReasonDriftRepaired:
		return corev1.EventTypeNormal
	}
	return corev1.EventTypeWarning
}
