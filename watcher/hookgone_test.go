package watcher

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/applier"
)

// TestAHookThatCompletedAndWentCountsAsRan: a Job that leaves the cache while Current (a
// ttlSecondsAfterFinished: 0 hook) is noted with its rendering's hash — also when the cache
// only learns of the deletion from a relist (a tombstone) — and one that went unfinished is not.
func TestAHookThatCompletedAndWentCountsAsRan(t *testing.T) {
	g := newCompletedGone()
	c := &children{completedGone: g.note, changed: func(types.UID, string) {}}
	job := schema.GroupKind{Group: "batch", Kind: "Job"}
	obj := func(name, health string) *metav1.PartialObjectMetadata {
		return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name),
			Labels:      map[string]string{applier.LabelOwnerUID: "owner"},
			Annotations: map[string]string{healthKey: health, applier.AnnotationConfigHash: "h1"}}}
	}
	ref := func(name string) applier.Ref {
		return applier.Ref{Group: "batch", Kind: "Job", Namespace: "ns", Name: name}
	}
	c.notifyDelete(job, obj("done", "Current"))
	c.notifyDelete(job, cache.DeletedFinalStateUnknown{Key: "ns/relisted", Obj: obj("relisted", "Current")})
	c.notifyDelete(job, obj("running", "InProgress"))
	// Foreground deletion (the TTL controller's): first marked, Terminating, then gone.
	marked := obj("foreground", "Terminating")
	marked.DeletionTimestamp = &metav1.Time{}
	c.notifyUpdate(job, obj("foreground", "Current"), marked)
	c.notifyDelete(job, marked)
	// A cache that saw it only running, then Terminating with its completion (a watch that
	// restarted in between), learns from the last version that it completed.
	missed := obj("missed", "Terminating")
	missed.DeletionTimestamp = &metav1.Time{}
	missed.Annotations[completedKey] = "true"
	c.notifyUpdate(job, obj("missed", "InProgress"), missed)
	c.notifyDelete(job, missed)
	if !g.ran("owner", ref("missed"), "h1") {
		t.Errorf("a Job whose last version says it completed does not count as ran")
	}
	if !g.ran("owner", ref("foreground"), "h1") {
		t.Errorf("a Job deleted in the foreground after it completed does not count as ran")
	}
	if !g.ran("owner", ref("done"), "h1") || !g.ran("owner", ref("relisted"), "h1") {
		t.Errorf("a Job that completed and went does not count as ran")
	}
	if g.ran("owner", ref("done"), "h2") {
		t.Errorf("another rendering of it counts as ran")
	}
	if g.ran("owner", ref("running"), "h1") {
		t.Errorf("a Job that went unfinished counts as ran")
	}
	g.forget("owner")
	if g.ran("owner", ref("done"), "h1") {
		t.Errorf("still noted after the owner was released")
	}
}
