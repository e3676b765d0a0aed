package watcher

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/applier"
)

// A hook Job often deletes itself the moment it completes (ttlSecondsAfterFinished: 0, as
// ingress-nginx's admission Jobs do): the child cache sees it complete and then gone, in that
// order, but a reconcile that comes after both finds no Job and would run the hook again, for
// ever. Helm sees the completion on its watch; bosun remembers it the same way: a child that
// leaves the cache while Current is noted, with the hash of its rendering, and a hook of that
// very rendering that is gone counts as ran (hooks run once per rendered version anyway).

// completedGone holds, per owner UID, the children that were Current when they went.
type completedGone struct {
	mu   sync.Mutex
	gone map[types.UID]map[applier.Ref]string // configuration hash
}

func newCompletedGone() *completedGone {
	return &completedGone{gone: map[types.UID]map[applier.Ref]string{}}
}

// note records that owner's child ref, rendered as hash, went while Current.
func (g *completedGone) note(owner types.UID, ref applier.Ref, hash string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gone[owner] == nil {
		g.gone[owner] = map[applier.Ref]string{}
	}
	g.gone[owner][ref] = hash
}

// ran reports whether owner's child ref, rendered as hash, completed and then went.
func (g *completedGone) ran(owner types.UID, ref applier.Ref, hash string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	h, ok := g.gone[owner][ref]
	return ok && h == hash
}

// forget drops an owner's notes (it was released).
func (g *completedGone) forget(owner types.UID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.gone, owner)
}

// childCompletedGone notes a child that left the cache while Current, for the controller of
// its owner, if this replica has the owner.
func (m *Manager) childCompletedGone(owner types.UID, ref applier.Ref, hash string) {
	for _, c := range m.controllers {
		if _, ok := c.byUID(owner); ok {
			c.completedGone.note(owner, ref, hash)
			return
		}
	}
}
