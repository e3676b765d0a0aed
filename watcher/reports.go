package watcher

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// lastReports remembers the state last reported for each owner, so that a failing owner
// retried with backoff gets one Event per new message, and bosun_owner_states counts owners by
// state.
type lastReports struct {
	mu      sync.Mutex
	reports map[cache.ObjectName]report
}

// report is the last state reported for an owner.
type report struct {
	uid    types.UID
	reason string
	note   string
	// settled is the last reason other than Progressing.
	settled string
}

func newLastReports() *lastReports { return &lastReports{reports: map[cache.ObjectName]report{}} }

// note records the state reported for an owner and says whether it is new, and which settled
// reason (not Progressing) was reported before it ("" for none): an owner that recovers from a
// failure passes through Progressing, and is still a recovery.
func (l *lastReports) note(owner *unstructured.Unstructured, reason, note string) (settled string, changed bool) {
	key := cache.MetaObjectToName(owner)
	l.mu.Lock()
	defer l.mu.Unlock()
	prev, ok := l.reports[key]
	if !ok || prev.uid != owner.GetUID() {
		prev = report{uid: owner.GetUID()}
	}
	r := report{uid: owner.GetUID(), reason: reason, note: note, settled: prev.settled}
	if reason != ReasonProgressing {
		r.settled = reason
	}
	l.reports[key] = r
	return prev.settled, prev.reason != reason || prev.note != note
}

// forget drops an owner that is gone.
func (l *lastReports) forget(key cache.ObjectName) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.reports, key)
}

// byState counts owners by the reason last reported.
func (l *lastReports) byState() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := map[string]int{}
	for _, r := range l.reports {
		counts[r.reason]++
	}
	return counts
}
