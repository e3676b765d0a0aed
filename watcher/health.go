package watcher

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/kinds"
)

// hasHealth reports whether a kind's health depends on more than its existence, so that its
// children are watched in full and their kstatus computed as they change.
func hasHealth(gk schema.GroupKind) bool {
	k, ok := kinds.Lookup(gk)
	return !ok || !k.ExistenceIsHealth
}

// checkHealth returns whether every planned child exists and is Current by kstatus rules, and
// otherwise a message naming the first child that is not. A child this reconcile applied is
// judged by the API server's answer (answered): that is the very version the watch would bring
// next, so waiting for its event would only cost a second reconcile. The others are judged
// from the child caches, where health was computed from each version as it arrived: checking
// costs no request either way.
func checkHealth(p *applier.Plan, live map[applier.Ref]applier.Child, answered map[applier.Ref]childHealth) (bool, string) {
	for _, o := range p.Objects {
		if h, ok := answered[o.Ref]; ok {
			if h.status != status.CurrentStatus {
				return false, fmt.Sprintf("%s: %s: %s", o.Ref, h.status, h.message)
			}
			continue
		}
		c, ok := live[o.Ref]
		switch {
		case !ok:
			return false, fmt.Sprintf("%s: waiting to be observed", o.Ref)
		case !hasHealth(o.GroupKind()):
			continue
		}
		st, known := c.Annotations[healthKey]
		switch {
		case !known:
			// Cached before its kind was known to have health; its next event brings it.
			return false, fmt.Sprintf("%s: waiting for its status", o.Ref)
		case st != string(status.CurrentStatus):
			return false, fmt.Sprintf("%s: %s: %s", o.Ref, st, c.Annotations[healthMessageKey])
		}
	}
	return true, ""
}

// childHealth is a child's kstatus and its message.
type childHealth struct {
	status  status.Status
	message string
}

// answeredHealth is the health of the children an apply got an answer for; a kind whose
// existence is its health is Current once it exists.
func answeredHealth(changes applier.ChangeSet) map[applier.Ref]childHealth {
	out := map[applier.Ref]childHealth{}
	for _, ch := range changes {
		if ch.Answer == nil {
			continue
		}
		h := childHealth{status: status.CurrentStatus}
		if hasHealth(ch.Ref.GroupKind()) {
			h = healthOf(ch.Answer)
		}
		out[ch.Ref] = h
	}
	return out
}

// healthOf computes a child's kstatus, with bosun's rule for Jobs.
func healthOf(u *unstructured.Unstructured) childHealth {
	st, msg := status.UnknownStatus, ""
	if res, err := status.Compute(u); err != nil {
		msg = "compute status: " + err.Error()
	} else {
		st, msg = res.Status, res.Message
	}
	st, msg = jobHealth(u, st, msg)
	return childHealth{status: st, message: msg}
}

// hasStatusSubresource asks discovery whether gvr has a status subresource.
func hasStatusSubresource(dc discovery.DiscoveryInterface, gvr schema.GroupVersionResource) (bool, error) {
	list, err := dc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return false, err
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource+"/status" {
			return true, nil
		}
	}
	return false, nil
}

// jobOutcome reads a Job's conditions: whether it completed, or failed (with the condition's
// message); neither for a Job still running or any other kind.
func jobOutcome(u *unstructured.Unstructured) (completed, failed bool, message any) {
	if u.GetKind() != "Job" || u.GroupVersionKind().Group != "batch" {
		return false, false, nil
	}
	conds, _, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "conditions")
	list, _ := conds.([]any)
	for _, c := range list {
		m, _ := c.(map[string]any)
		if m["status"] != "True" {
			continue
		}
		switch m["type"] {
		case "Complete", "SuccessCriteriaMet":
			return true, false, nil
		case "Failed", "FailureTarget":
			return false, true, m["message"]
		}
	}
	return false, false, nil
}

// jobCompleted reports a Job whose conditions say it completed, whatever else its health says:
// one the TTL controller deletes (in the foreground) is Terminating in its last versions, and a
// cache that missed the version in between (a watch that restarted under load) still learns
// from them that it completed (hookgone.go).
func jobCompleted(u *unstructured.Unstructured) bool {
	completed, _, _ := jobOutcome(u)
	return completed
}

// jobHealth makes a Job Ready only once it completed: kstatus calls a started Job Current
// ("Job in progress"), but a hook Job (or any Job child) has done its work only when it
// completed, which is what Helm waits for.
func jobHealth(u *unstructured.Unstructured, st status.Status, msg string) (status.Status, string) {
	if u.GetKind() != "Job" || u.GroupVersionKind().Group != "batch" || st != status.CurrentStatus {
		return st, msg
	}
	switch completed, failed, message := jobOutcome(u); {
	case completed:
		return status.CurrentStatus, "Job completed"
	case failed:
		return status.FailedStatus, fmt.Sprintf("Job failed: %v", message)
	}
	return status.InProgressStatus, "Job running: " + msg
}

// keepHealth turns a full child into the metadata the cache keeps, with its kstatus health.
func (c *children) keepHealth(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return c.keepShape(obj)
	}
	return c.withHealth(u, cachedMeta(u), u.GetManagedFields())
}

// cachedMeta is the part of a child's metadata the cache keeps (managedFields aside, which
// only give the shape of bosun's entry).
func cachedMeta(m metav1.Object) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
		ResourceVersion: m.GetResourceVersion(), Generation: m.GetGeneration(),
		DeletionTimestamp: m.GetDeletionTimestamp(), Labels: m.GetLabels(),
		Annotations: m.GetAnnotations(),
	}
}

// withHealth is the metadata the cache keeps (kept, taken from u or from the typed object u
// was converted from), with u's kstatus health and the shape of bosun's entry in managed (the
// child's managedFields).
func (c *children) withHealth(u *unstructured.Unstructured, kept metav1.ObjectMeta, managed []metav1.ManagedFieldsEntry) (any, error) {
	h := healthOf(u)
	m := &metav1.PartialObjectMetadata{ObjectMeta: kept}
	m.ManagedFields = managed
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[healthKey] = c.intern(string(h.status))
	m.Annotations[healthMessageKey] = c.intern(h.message)
	if jobCompleted(u) {
		m.Annotations[completedKey] = "true"
	}
	return c.keepShape(m)
}
