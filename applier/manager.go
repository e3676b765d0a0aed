package applier

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// Options tune a Manager. The zero value is valid.
type Options struct {
	// FieldManager is the server-side apply field manager; default "bosun".
	FieldManager string
}

// Manager applies, prunes and deletes children. It is safe for concurrent use by many workers,
// as long as no two of them work on the same owner at once (the work queue guarantees that).
type Manager struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	opts   Options

	// applied remembers, per child UID, the hash of the configuration bosun last applied and
	// the resourceVersion the server answered with. A child whose rendering and
	// resourceVersion are both unchanged is in the state bosun left it, so it is not sent again.
	mu      sync.Mutex
	applied map[types.UID]appliedState
}

type appliedState struct {
	hash            string
	resourceVersion string
}

// New returns a Manager that talks to the cluster through dyn and resolves kinds through
// mapper (a discovery-backed mapper that refreshes itself on unknown kinds).
func New(dyn dynamic.Interface, mapper meta.RESTMapper, opts Options) *Manager {
	if opts.FieldManager == "" {
		opts.FieldManager = FieldManager
	}
	return &Manager{dyn: dyn, mapper: mapper, opts: opts, applied: map[types.UID]appliedState{}}
}

func (m *Manager) remember(uid types.UID, hash, rv string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applied[uid] = appliedState{hash: hash, resourceVersion: rv}
}

func (m *Manager) forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.applied, uid)
}

// upToDate reports whether live is exactly what bosun last applied with the same rendering.
func (m *Manager) upToDate(o Object, live Child) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.applied[live.UID]
	return ok && !live.Deleting && s.hash == o.Hash && s.resourceVersion == live.ResourceVersion
}
