package clusters

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// table is the registry's memory: every source it was told about, and per name the one that
// wins. All sources are kept, keyed by Cluster.Source, so that when the winner of a name goes
// the next one takes over without waiting for a resync.
type table struct {
	mu     sync.RWMutex
	byName map[string]map[string]entry // name → Source → entry
	view   map[string]Cluster          // name → the winning entry's Cluster
}

// entry is a Cluster with what decides between two sources of the same name.
type entry struct {
	Cluster
	profile bool      // a ClusterProfile, not a Secret
	created time.Time // the object's creationTimestamp
}

func newTable() *table {
	return &table{byName: map[string]map[string]entry{}, view: map[string]Cluster{}}
}

// before orders the sources of one name. A Secret comes first: whoever can write Secrets in
// bosun's namespace runs bosun, and a Secret is a deliberate statement about this hub, while a
// ClusterProfile is the inventory's. Between profiles (ProfileNamespace "" reads all
// namespaces) the older one comes first, so a profile created later cannot take over a name in
// use; the Source breaks ties so the order never depends on event order.
func before(a, b entry) int {
	switch {
	case a.profile != b.profile:
		if b.profile {
			return -1
		}
		return 1
	case !a.created.Equal(b.created):
		return a.created.Compare(b.created)
	}
	return strings.Compare(a.Source, b.Source)
}

// set records e, replacing what its Source said before, and reports whether the cluster that
// Get returns for e.Name changed.
func (t *table) set(e entry) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byName[e.Name]
	if m == nil {
		m = map[string]entry{}
		t.byName[e.Name] = m
	}
	m[e.Source] = e
	return t.refresh(e.Name)
}

// remove forgets a source and reports whether the cluster that Get returns for name changed.
func (t *table) remove(name, source string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byName[name]
	if _, ok := m[source]; !ok {
		return false
	}
	delete(m, source)
	if len(m) == 0 {
		delete(t.byName, name)
	}
	return t.refresh(name)
}

// refresh recomputes the view of one name; t.mu must be held.
func (t *table) refresh(name string) bool {
	old, had := t.view[name]
	cands := t.sorted(name)
	if len(cands) == 0 || name == Reserved {
		delete(t.view, name)
		return had
	}
	now := cands[0].Cluster
	t.view[name] = now
	return !had || !old.sameAs(now)
}

// sorted returns the sources of a name, the winner first; t.mu must be held.
func (t *table) sorted(name string) []entry {
	cands := make([]entry, 0, len(t.byName[name]))
	for _, e := range t.byName[name] {
		cands = append(cands, e)
	}
	slices.SortFunc(cands, before)
	return cands
}

func (t *table) get(name string) (Cluster, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c, ok := t.view[name]
	if !ok {
		return Cluster{}, false
	}
	return c.clone(), true
}

// names returns the sorted names whose cluster satisfies keep.
func (t *table) names(keep func(Cluster) bool) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]string, 0, len(t.view))
	for name, c := range t.view {
		if keep(c) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func (t *table) selectNames(sel labels.Selector) []string {
	if sel == nil {
		return []string{}
	}
	return t.names(func(c Cluster) bool { return c.Usable() && sel.Matches(labels.Set(c.Labels)) })
}

// problems returns, by Source, why each source yields no usable cluster: its own Err, the
// reserved name, or another source that won its name.
func (t *table) problems() map[string]error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := map[string]error{}
	for name := range t.byName {
		for i, e := range t.sorted(name) {
			switch {
			case name == Reserved:
				out[e.Source] = fmt.Errorf("%s: %w: %q means the hub cluster itself; rename the %s",
					e.Source, ErrReserved, Reserved, kindOf(e.Source))
			case i > 0:
				out[e.Source] = fmt.Errorf("%s: %w: cluster %q is already given by %s, which wins; rename one of them",
					e.Source, ErrNameTaken, name, t.view[name].Source)
			case e.Err != nil:
				out[e.Source] = e.Err
			}
		}
	}
	return out
}

func kindOf(source string) string {
	kind, _, _ := strings.Cut(source, "/")
	return kind
}
