package restmap

import (
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
)

// Mapper is a discovery-backed meta.RESTMapper that refreshes itself on unknown kinds.
type Mapper struct {
	*restmapper.DeferredDiscoveryRESTMapper
	minInterval time.Duration
	now         func() time.Time

	mu        sync.Mutex
	lastReset time.Time
	// resolved remembers each kind's mapping until the next Reset: client-go's mapper walks
	// every group and version and builds an error for each that does not match on every call,
	// which cost a sixth of bosun's allocations when every reconcile maps every child's kind.
	resolved map[mappingKey]*meta.RESTMapping
}

type mappingKey struct {
	gk       schema.GroupKind
	versions string
}

// New returns a Mapper over the discovery client. minInterval bounds how often an unknown kind
// may trigger a new discovery (0 means 5 seconds).
func New(dc discovery.DiscoveryInterface, minInterval time.Duration) *Mapper {
	if minInterval <= 0 {
		minInterval = 5 * time.Second
	}
	return &Mapper{
		DeferredDiscoveryRESTMapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
		minInterval:                 minInterval,
		now:                         time.Now,
		resolved:                    map[mappingKey]*meta.RESTMapping{},
	}
}

// RESTMapping resolves gk, re-reading discovery once if the kind is not known yet (a CRD that
// was installed after the cache was filled).
func (m *Mapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	key := mappingKey{gk: gk, versions: strings.Join(versions, ",")}
	m.mu.Lock()
	mapping, ok := m.resolved[key]
	m.mu.Unlock()
	if ok {
		// A copy, as client-go returns a new mapping on every call: callers may keep or change it.
		c := *mapping
		return &c, nil
	}
	mapping, err := m.DeferredDiscoveryRESTMapper.RESTMapping(gk, versions...)
	if err != nil && meta.IsNoMatchError(err) && m.mayReset() {
		mapping, err = m.DeferredDiscoveryRESTMapper.RESTMapping(gk, versions...)
	}
	if err == nil {
		c := *mapping
		m.mu.Lock()
		m.resolved[key] = &c
		m.mu.Unlock()
	}
	return mapping, err
}

// RESTMappings is RESTMapping for all versions.
func (m *Mapper) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	mappings, err := m.DeferredDiscoveryRESTMapper.RESTMappings(gk, versions...)
	if err != nil && meta.IsNoMatchError(err) && m.mayReset() {
		mappings, err = m.DeferredDiscoveryRESTMapper.RESTMappings(gk, versions...)
	}
	return mappings, err
}

// Reset forgets what discovery said, so the next mapping reads it again.
func (m *Mapper) Reset() {
	m.mu.Lock()
	clear(m.resolved)
	m.mu.Unlock()
	m.DeferredDiscoveryRESTMapper.Reset()
}

// mayReset drops the discovery cache unless that was done less than minInterval ago.
func (m *Mapper) mayReset() bool {
	m.mu.Lock()
	now := m.now()
	if now.Sub(m.lastReset) < m.minInterval {
		m.mu.Unlock()
		return false
	}
	m.lastReset = now
	m.mu.Unlock()
	m.Reset()
	return true
}
