package watcher

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// releasedOwners holds the owners whose deletion bosun let complete (finalizer removed) until
// the cache sees them gone, so that their last sync needs no read to tell. An owner is known
// by name and UID: a new owner of the same name is not the released one.
type releasedOwners struct {
	mu     sync.Mutex
	owners map[cache.ObjectName]types.UID
}

func newReleasedOwners() *releasedOwners {
	return &releasedOwners{owners: map[cache.ObjectName]types.UID{}}
}

// add remembers an owner whose deletion bosun let complete.
func (r *releasedOwners) add(owner *unstructured.Unstructured) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.owners[cache.MetaObjectToName(owner)] = owner.GetUID()
}

// is reports whether bosun already let the deletion of this very owner complete; seeing a new
// owner of the same name forgets the old one.
func (r *releasedOwners) is(owner *unstructured.Unstructured) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := cache.MetaObjectToName(owner)
	uid, ok := r.owners[key]
	if ok && uid != owner.GetUID() {
		delete(r.owners, key) // a new owner of the same name: the old one is gone
		ok = false
	}
	return ok
}

// take reports whether bosun let the deletion of the owner last known by this name complete,
// and forgets it: the owner left the cache.
func (r *releasedOwners) take(key cache.ObjectName) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, gone := r.owners[key]
	delete(r.owners, key)
	return gone
}
