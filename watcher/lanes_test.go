package watcher

import (
	"testing"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

func key(name string) cache.ObjectName { return cache.ObjectName{Namespace: "ns", Name: name} }

// TestLanesPutRechecksFirst runs the lanes under client-go's queue, as the controller does:
// an owner queued to look at its children again is handed out before first reconciles queued
// earlier, also when it was queued slow before.
func TestLanesPutRechecksFirst(t *testing.T) {
	tr := newTriggers()
	q := workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[cache.ObjectName]{Queue: newLanes(tr.recheck)})
	defer q.ShutDown()
	add := func(name string, tr0 trigger) {
		tr.note(key(name), tr0)
		q.Add(key(name))
	}
	for _, n := range []string{"a", "b", "d"} {
		add(n, trigger{kind: triggerOwner})
	}
	add("c", trigger{kind: triggerRequeue}) // held back by the rollout: slow
	add("e", trigger{kind: triggerChild, fast: true})
	// c's child changed while it waits: it moves ahead; a's did too, but a's owner changed
	// (the more telling reason): its first reconcile stays in line.
	add("c", trigger{kind: triggerChild, fast: true})
	add("a", trigger{kind: triggerChild, fast: true})
	if q.Len() != 5 {
		t.Fatalf("Len = %d, want 5 (a moved key counts once)", q.Len())
	}
	var got []string
	for q.Len() > 0 {
		k, _ := q.Get()
		tr.take(k)
		got = append(got, k.Name)
		q.Done(k)
	}
	want := []string{"e", "c", "a", "b", "d"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// TestLanesDoNotStarveTheSlowLane: a steady stream of re-checks lets a first reconcile
// through after fastStreak of them.
func TestLanesDoNotStarveTheSlowLane(t *testing.T) {
	slow := map[cache.ObjectName]bool{key("slow"): true}
	l := newLanes(func(k cache.ObjectName) bool { return !slow[k] })
	l.Push(key("slow"))
	for i := range fastStreak + 5 {
		l.Push(key(time.Duration(i).String()))
	}
	for i := range fastStreak {
		if k := l.Pop(); k == key("slow") {
			t.Fatalf("pop %d was the slow key: re-checks come first", i)
		}
	}
	if k := l.Pop(); k != key("slow") {
		t.Fatalf("pop %d = %v, want the slow key after %d fast ones", fastStreak, k, fastStreak)
	}
	if l.Len() != 5 {
		t.Fatalf("Len = %d, want 5", l.Len())
	}
}

// TestRecheckBesideResyncKeepsTheFastLane: a settling owner's poll noted while a resync is
// pending still goes first; beside an owner change it waits with the fresh work.
func TestRecheckBesideResyncKeepsTheFastLane(t *testing.T) {
	tr := newTriggers()
	tr.note(key("a"), trigger{kind: triggerResync})
	tr.note(key("a"), trigger{kind: triggerRequeue, fast: true})
	if !tr.recheck(key("a")) {
		t.Errorf("resync + re-check: not in the fast lane")
	}
	if got, _ := tr.take(key("a")); got.kind != triggerResync {
		t.Errorf("reported trigger %q, want the more telling %q", got.kind, triggerResync)
	}
	tr.note(key("b"), trigger{kind: triggerChild, fast: true})
	tr.note(key("b"), trigger{kind: triggerOwner})
	if tr.recheck(key("b")) {
		t.Errorf("owner change + re-check: in the fast lane, want it with the fresh work")
	}
}
