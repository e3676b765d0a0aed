package applier

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
)

// Options tune a Manager. The zero value is valid.
type Options struct {
	// FieldManager is the server-side apply field manager; default "bosun".
	FieldManager string
	// Instance goes on every owner bosun reconciles (AnnotationInstance); empty: none.
	Instance string
	// OwnerLabels are the caller's own labels on every child, each a function of the owner's
	// UID (bosun puts the owner's shard bucket there, so that a sharded replica caches only its
	// own slots' children). Letting a child go removes them with bosun's.
	OwnerLabels map[string]func(owner types.UID) string
	// Remote says the children go to another cluster than their owners': no ownerReference
	// can point across clusters, so children get none and only bosun's finalizer deletes
	// them.
	Remote bool
}

// Manager applies, prunes and deletes children. It is safe for concurrent use by many workers,
// as long as no two of them work on the same owner at once (the work queue guarantees that).
type Manager struct {
	dyn    dynamic.Interface
	meta   metadata.Interface
	mapper meta.RESTMapper
	opts   Options

	// applied remembers, per child UID, the hash of the configuration bosun last applied and
	// the resourceVersion and generation the server answered with. A child whose rendering is
	// unchanged and that nobody changed since is not sent again (see upToDate).
	mu      sync.Mutex
	applied map[types.UID]appliedState
	// inFlight counts the writes to existing children whose answer has not been read yet.
	inFlight map[types.UID]int
	// created and createdRefs: children created that the caches may not have seen (created.go).
	created     map[Ref]createdChild
	createdRefs map[types.UID]Ref
}

type appliedState struct {
	hash            string
	resourceVersion string
	generation      int64
	// replaced is the resourceVersion the cache showed when bosun wrote over it.
	replaced string
}

// New returns a Manager that writes through dyn, reads object metadata through md (to check
// ownership before taking over a name), and resolves kinds through mapper (a discovery-backed
// mapper that refreshes itself on unknown kinds).
func New(dyn dynamic.Interface, md metadata.Interface, mapper meta.RESTMapper, opts Options) *Manager {
	if opts.FieldManager == "" {
		opts.FieldManager = FieldManager
	}
	return &Manager{dyn: dyn, meta: md, mapper: mapper, opts: opts, applied: map[types.UID]appliedState{}, inFlight: map[types.UID]int{},
		created: map[Ref]createdChild{}, createdRefs: map[types.UID]Ref{}}
}

func (m *Manager) remember(uid types.UID, s appliedState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applied[uid] = s
}

func (m *Manager) forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.applied, uid)
	m.seen(uid)
}

// Forget drops what the manager remembers of a child that is gone, whoever deleted it, so
// that its memory stays bounded by the children that exist.
func (m *Manager) Forget(uid types.UID) { m.forget(uid) }

func (m *Manager) writing(uid types.UID, d int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inFlight[uid] += d; m.inFlight[uid] <= 0 {
		delete(m.inFlight, uid)
	}
}

// Writing reports whether a write of this child is under way: an event of it now may be that
// write's, arrived before its answer.
func (m *Manager) Writing(uid types.UID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inFlight[uid] > 0
}

// Applied reports whether resourceVersion is the version of the child that bosun last
// applied (or last found as it applied it), so that its watch event can be told from a change.
func (m *Manager) Applied(uid types.UID, resourceVersion string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen(uid) // asked about an event of it: the cache has it
	s, ok := m.applied[uid]
	return ok && s.resourceVersion == resourceVersion
}

// upToDate reports whether live is still what bosun last applied with the same rendering:
// either nothing changed it at all (same resourceVersion), or only its status did — a kind
// that counts spec changes in metadata.generation kept its generation, and the labels and
// annotations bosun sets are still in place. A controller updating a Deployment's status so
// costs no request; a hand edit of the spec or of bosun's labels is applied over.
func (m *Manager) upToDate(o Object, live Child) bool {
	if live.Deleting {
		return false
	}
	m.mu.Lock()
	s, ok := m.applied[live.UID]
	m.mu.Unlock()
	switch {
	case !ok:
		// Nothing remembered (bosun restarted): the child is as bosun left it if it carries
		// the hash of this very rendering and bosun still owns every field of it, inside
		// list items too (see fields.go). The rendered shape costs a walk of the object, so
		// it is taken only here, and outside the lock.
		if live.Annotations[AnnotationConfigHash] != o.Hash ||
			!subset(o.Object.GetLabels(), live.Labels) || !subset(o.Object.GetAnnotations(), live.Annotations) ||
			!ShapesMatch(RenderedShape(o.Object.Object), live.Shape) {
			return false
		}
		m.remember(live.UID, appliedState{hash: o.Hash, resourceVersion: live.ResourceVersion, generation: live.Generation})
		return true
	case s.hash != o.Hash:
		return false
	case s.resourceVersion == live.ResourceVersion:
		return true
	case live.ResourceVersion == s.replaced, live.Generation < s.generation:
		// The cache has not caught up with bosun's own last write yet (the informers of two
		// kinds deliver at their own pace): it shows the version bosun wrote over, or an
		// older generation. The newer version's event requeues the owner.
		return true
	case s.generation > 0 && s.generation == live.Generation &&
		subset(o.Object.GetLabels(), live.Labels) && subset(o.Object.GetAnnotations(), live.Annotations):
		s.resourceVersion = live.ResourceVersion
		m.remember(live.UID, s)
		return true
	}
	return false
}

// subset reports whether every key of want is in have with the same value.
func subset(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}
