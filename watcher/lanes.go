package watcher

import (
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// fastStreak is how many owners in a row the fast lane may hand out while the slow lane
// waits: re-checks go first, but a steady stream of them never starves first reconciles.
const fastStreak = 16

// lanes is the storage under the work queue (workqueue.Queue): two FIFO lanes. Owners queued
// to look again at children they already applied — a child changed, or a settling owner's
// poll — take the fast lane; everything else (owner events, resyncs, retries) the slow one.
// Without it an owner whose children became healthy waits behind every first reconcile of a
// cold start before its Ready is written, although that re-check costs no request but the
// status write. The queue calls every method under its own lock, so lanes needs none; the
// lane is read from the owner's noted trigger when it is pushed.
//
// An owner queued slow and then asked for again as a re-check moves to the fast lane; the
// entry it leaves behind is skipped when reached (where says which entry is live).
type lanes struct {
	fastLane func(cache.ObjectName) bool

	fast, slow fifo
	where      map[cache.ObjectName]bool // queued keys: true in the fast lane
	streak     int
}

var _ workqueue.Queue[cache.ObjectName] = (*lanes)(nil)

func newLanes(fastLane func(cache.ObjectName) bool) *lanes {
	return &lanes{fastLane: fastLane, where: map[cache.ObjectName]bool{}}
}

// Push queues a key the queue does not hold.
func (l *lanes) Push(key cache.ObjectName) {
	fast := l.fastLane(key)
	l.where[key] = fast
	l.lane(fast).push(key)
}

// Touch is called when a queued key is added again: a re-check moves it to the fast lane.
func (l *lanes) Touch(key cache.ObjectName) {
	if fast, ok := l.where[key]; ok && !fast && l.fastLane(key) {
		l.where[key] = true
		l.fast.push(key)
	}
}

func (l *lanes) Len() int { return len(l.where) }

// Pop returns the next key: from the fast lane first, but from the slow lane after fastStreak
// fast ones in a row.
func (l *lanes) Pop() cache.ObjectName {
	for {
		fast := l.fast.len() > 0 && (l.slow.len() == 0 || l.streak < fastStreak)
		if fast {
			l.streak++
		} else {
			l.streak = 0
		}
		key := l.lane(fast).pop()
		if live, ok := l.where[key]; ok && live == fast {
			delete(l.where, key)
			return key
		}
		// An entry left behind by a move to the fast lane.
	}
}

func (l *lanes) lane(fast bool) *fifo {
	if fast {
		return &l.fast
	}
	return &l.slow
}

// fifo is a slice queue that gives its memory back as it drains.
type fifo struct {
	items []cache.ObjectName
	head  int
}

func (f *fifo) len() int { return len(f.items) - f.head }

func (f *fifo) push(key cache.ObjectName) { f.items = append(f.items, key) }

func (f *fifo) pop() cache.ObjectName {
	key := f.items[f.head]
	f.items[f.head] = cache.ObjectName{}
	f.head++
	if f.head == len(f.items) {
		f.items, f.head = f.items[:0], 0
	} else if f.head > 1024 && f.head*2 > len(f.items) {
		f.items, f.head = append([]cache.ObjectName(nil), f.items[f.head:]...), 0
	}
	return key
}
