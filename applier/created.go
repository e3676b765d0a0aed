package applier

import (
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// createdTTL bounds how long a creation is trusted over the child caches: a child deleted before
// any cache saw it would otherwise never be created again.
const createdTTL = time.Minute

// createdChild is a child this manager created that the child caches may not have seen yet.
type createdChild struct {
	uid  types.UID
	hash string
	at   time.Time
}

// noteCreated remembers a child just created, until the caches show it: a reconcile of the
// same owner before they caught up (queued again by another child's event, or a poll) would
// otherwise create it again — a conflict, a read and an apply for a child that is there.
func (m *Manager) noteCreated(ref Ref, uid types.UID, hash string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.created[ref] = createdChild{uid: uid, hash: hash, at: time.Now()}
	m.createdRefs[uid] = ref
}

// createdRecently reports a child this manager created with this very rendering moments ago.
func (m *Manager) createdRecently(ref Ref, hash string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.created[ref]
	return ok && c.hash == hash && time.Since(c.at) < createdTTL
}

// seen drops the creation of the child with this UID: a cache has it now, or it is gone.
// The caller holds m.mu.
func (m *Manager) seen(uid types.UID) {
	if ref, ok := m.createdRefs[uid]; ok {
		delete(m.createdRefs, uid)
		if m.created[ref].uid == uid {
			delete(m.created, ref)
		}
	}
}

// ForgetCreated drops the creations of children of kind gk made before t: a cache of that kind
// relisted (from t on) without them, so they are gone, or were deleted before any cache saw
// them. Trusting them for the rest of createdTTL would leave such a child missing.
func (m *Manager) ForgetCreated(gk schema.GroupKind, before time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ref, c := range m.created {
		if ref.Group == gk.Group && ref.Kind == gk.Kind && c.at.Before(before) {
			delete(m.created, ref)
			delete(m.createdRefs, c.uid)
		}
	}
}
