package watcher

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// hookRecords remembers, per owner UID, the bosun.dev/hooks value this process wrote last.
// The owner cache may not have seen that write when the next reconcile starts (a hook Job's
// status event can arrive first); without this memory that reconcile would run the hooks
// again.
type hookRecords struct {
	mu      sync.Mutex
	written map[types.UID]string
}

func newHookRecords() *hookRecords { return &hookRecords{written: map[types.UID]string{}} }

// get returns what was written for the owner, if anything.
func (r *hookRecords) get(uid types.UID) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.written[uid]
	return v, ok
}

func (r *hookRecords) set(uid types.UID, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.written[uid] = value
}

// forget drops an owner that is gone.
func (r *hookRecords) forget(uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.written, uid)
}
