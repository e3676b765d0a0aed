package watcher

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// statusSettle is how long an owner may be Progressing before bosun writes that to its status;
// most owners become Ready sooner, and then their status is written once.
const statusSettle = 5 * time.Second

// settlePoll is how often a settling owner is looked at again.
const settlePoll = time.Second

// settlingOwners remembers since when each owner's generation has been Progressing.
type settlingOwners struct {
	now func() time.Time

	mu    sync.Mutex
	since map[types.UID]settleSince
}

type settleSince struct {
	generation int64
	at         time.Time
}

func newSettlingOwners() *settlingOwners {
	return &settlingOwners{now: time.Now, since: map[types.UID]settleSince{}}
}

// wait returns how long to wait before writing a Progressing status for the owner's
// generation, or 0 to write now (also when the owner is not progressing: that ends settling).
func (s *settlingOwners) wait(owner *unstructured.Unstructured, progressing bool) time.Duration {
	uid, generation := owner.GetUID(), owner.GetGeneration()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !progressing {
		delete(s.since, uid)
		return 0
	}
	since, ok := s.since[uid]
	if !ok || since.generation != generation {
		s.since[uid] = settleSince{generation: generation, at: s.now()}
		return settlePoll
	}
	if s.now().Sub(since.at) < statusSettle {
		return settlePoll
	}
	return 0
}
