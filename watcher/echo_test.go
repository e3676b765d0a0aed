package watcher

import (
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/applier"
)

// TestChildEventsEchoingBosunsWritesRequeueNothing: an event carrying the version bosun
// applied requeues nothing, also when it arrives before the applier read the answer (it then
// waits echoGrace); an event of someone else's change requeues at once, unless bosun is
// writing that child right then.
func TestChildEventsEchoingBosunsWritesRequeueNothing(t *testing.T) {
	var mu sync.Mutex
	applied := map[types.UID]string{}
	writing := map[types.UID]bool{}
	var requeued []string
	c := &children{
		own: func(uid types.UID, rv string) bool {
			mu.Lock()
			defer mu.Unlock()
			return applied[uid] == rv
		},
		writing: func(uid types.UID) bool {
			mu.Lock()
			defer mu.Unlock()
			return writing[uid]
		},
		changed: func(_ types.UID, child string) {
			mu.Lock()
			defer mu.Unlock()
			requeued = append(requeued, child)
		},
	}
	cm := schema.GroupKind{Kind: "ConfigMap"}
	obj := func(uid, rv string, gen int64) *metav1.PartialObjectMetadata {
		return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: uid, Namespace: "ns", UID: types.UID(uid),
			ResourceVersion: rv, Generation: gen, Labels: map[string]string{applier.LabelOwnerUID: "owner"}}}
	}
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), requeued...)
	}
	set := func(fn func()) {
		mu.Lock()
		defer mu.Unlock()
		fn()
	}

	// Created by bosun, answer read first: nothing.
	set(func() { applied["a"] = "1" })
	c.notifyAdded(cm, obj("a", "1", 0))
	// Created by bosun, the event first: the answer comes within the grace.
	c.notifyAdded(cm, obj("b", "1", 0))
	set(func() { applied["b"] = "1" })
	// Changed by bosun, the event while it writes: nothing once the answer is read.
	set(func() { writing["a"] = true })
	c.notifyUpdate(cm, obj("a", "1", 0), obj("a", "2", 0))
	set(func() { applied["a"], writing["a"] = "2", false })
	// Changed by someone else: at once.
	c.notifyUpdate(cm, obj("b", "1", 0), obj("b", "3", 0))
	if r := got(); len(r) != 1 || r[0] != "ConfigMap/ns/b changed" {
		t.Fatalf("requeued %v at once, want only someone else's change of b", r)
	}
	// A new child nobody announced: after the grace.
	c.notifyAdded(cm, obj("c", "5", 0))
	time.Sleep(3 * echoGrace)
	if r := got(); len(r) != 2 || r[1] != "ConfigMap/ns/c appeared" {
		t.Fatalf("requeued %v, want b's change and then c's appearance, and no echo", r)
	}
}
