package watcher

import (
	"sync"

	"k8s.io/client-go/tools/cache"
)

// Why an owner is reconciled: the label of bosun_reconciles_total and a field of its log lines.
const (
	triggerOwner   = "owner"   // the owner was added or changed
	triggerRollout = "rollout" // a new template version reaches the owner
	triggerChild   = "child"   // one of its children changed or went away (drift)
	triggerResync  = "resync"  // the periodic resync
	triggerRelist  = "relist"  // a child cache relisted: what changed while it was not watching
	triggerRequeue = "requeue" // asked to look again (waiting for children, hooks, a rollout)
	triggerRetry   = "retry"   // the last reconcile failed
)

// trigger is why a reconcile runs; child names the child and what happened to it. fast puts
// the owner in the queue's fast lane (lanes.go): it only looks again at children it applied.
type trigger struct {
	kind  string
	child string
	fast  bool
}

// priority: when several reasons queue an owner before a worker takes it, the most telling
// one is reported.
func (t trigger) priority() int {
	switch t.kind {
	case triggerOwner:
		return 5
	case triggerRollout:
		return 4
	case triggerChild:
		return 3
	case triggerResync, triggerRelist:
		return 2
	case triggerRequeue:
		return 1
	}
	return 0
}

// triggers remembers, per queued owner, why it was queued; the queue itself holds only keys.
type triggers struct {
	mu      sync.Mutex
	pending map[cache.ObjectName]trigger
}

func newTriggers() *triggers { return &triggers{pending: map[cache.ObjectName]trigger{}} }

// note records a reason to reconcile key, keeping the most telling one. A re-check noted
// beside a resync keeps the fast lane; beside fresh work (the owner or the templates changed)
// it waits its turn with that work.
func (t *triggers) note(key cache.ObjectName, tr trigger) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, ok := t.pending[key]
	if !ok {
		t.pending[key] = tr
		return
	}
	fast := cur.fast || tr.fast
	if tr.priority() > cur.priority() {
		cur = tr
	}
	cur.fast = fast && cur.kind != triggerOwner && cur.kind != triggerRollout
	t.pending[key] = cur
}

// take returns and forgets why key was queued. ok is false when no reason is left: the key
// comes from a delayed re-check or retry (AddAfter) whose reason an earlier reconcile already
// took — a child's event ran it sooner — and that reconcile, level-triggered from the caches,
// looked at everything the late one would, and asked again itself if it had to wait.
func (t *triggers) take(key cache.ObjectName) (tr trigger, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok = t.pending[key]
	delete(t.pending, key)
	return tr, ok
}

// recheck reports whether key is queued only to look again at children it already applied (a
// child changed, or a poll while it settles): such owners take the queue's fast lane (lanes.go).
func (t *triggers) recheck(key cache.ObjectName) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending[key].fast
}
