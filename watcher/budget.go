package watcher

import (
	"strconv"
	"strings"

	"fmt"
	"github.com/bosun-dev/bosun/applier"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sync"
	"time"

	"github.com/bosun-dev/bosun/config"
)

// deleteWindow is how long deletions count against a watch's safety limits. A template
// mistake that stops rendering a kind prunes a little from every owner; only the sum over a
// window shows it for what it is.
const deleteWindow = 10 * time.Minute

// DeleteLimitError says a prune or sweep was refused because, with what the watch already
// deleted in the last ten minutes, it would delete more children than its safety limits allow:
// the templates or the owners likely changed by mistake.
type DeleteLimitError struct {
	Would, Recent, Limit int
}

func (e *DeleteLimitError) Error() string {
	return fmt.Sprintf("refused to delete %d children (%d deleted in the last %s): the limit is %d (safety.maxDeletes and safety.maxDeletePercent; raise them if this is intended)",
		e.Would, e.Recent, deleteWindow, e.Limit)
}

// KindRemovalError says a prune was refused because it would take the last child of a kind
// from the owner while, in the last ten minutes, that kind already left as many owners as the
// watch's safety.maxKindRemovalPercent allows: a template change that stops rendering a kind
// for every owner is much more often a mistake than an intent.
type KindRemovalError struct {
	Kind          schema.GroupKind
	Recent, Limit int
	Owners        int
}

func (e *KindRemovalError) Error() string {
	return fmt.Sprintf("refused to remove the last %s from this owner: %d owners lost that kind in the last %s, the limit is %d of the %d owners that have it (safety.maxKindRemovalPercent; raise it if the templates really stopped rendering the kind)",
		e.Kind, e.Recent, deleteWindow, e.Limit, e.Owners)
}

// safety is the watch's delete limits for this replica's share of the owners: maxDeletes is
// split between the replicas that share them; the percentages are of this replica's children
// and owners, so they apply as they are.
func (c *controller) safety() config.Safety {
	s := c.watch.Safety
	if s.MaxDeletes > 0 {
		s.MaxDeletes = c.split(s.MaxDeletes)
	}
	return s
}

// split is this replica's part of an absolute limit: limit over the replicas that share the
// owners, rounded up, at least 1.
func (c *controller) split(limit int) int {
	n := 1
	if c.opts.Members != nil {
		n = max(1, c.opts.Members())
	}
	return max(1, (limit+n-1)/n)
}

// deleteBudget counts a watch's deletions, and the owners that lost a kind, over a sliding
// window.
type deleteBudget struct {
	now func() time.Time

	mu       sync.Mutex
	recent   []deletion
	removals map[schema.GroupKind][]time.Time
}

type deletion struct {
	at time.Time
	n  int
}

// take allows n deletions and counts them, or refuses them all. The limit is the larger of
// MaxDeletes and MaxDeletePercent of the watch's children (total is asked only when needed),
// so small watches can always prune a few children and large ones can prune many — but not
// most of them at once.
//
// removed are the kinds this deletion takes from the owner entirely (none for sweeps); each
// counts once against its own limit: the larger of MinKindRemovals and MaxKindRemovalPercent of
// the owners that have the kind (ownersWith is asked only when needed).
func (b *deleteBudget) take(n int, removed []schema.GroupKind, s config.Safety, total func() int, ownersWith func(schema.GroupKind) int) error {
	if n == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if err := b.checkKinds(now, removed, s, ownersWith); err != nil {
		return err
	}
	if s.MaxDeletes == 0 {
		b.countKinds(now, removed)
		return nil
	}
	recent := 0
	kept := b.recent[:0]
	for _, d := range b.recent {
		if now.Sub(d.at) < deleteWindow {
			kept = append(kept, d)
			recent += d.n
		}
	}
	b.recent = kept
	if recent+n > s.MaxDeletes && s.MaxDeletePercent < 100 {
		limit := max(s.MaxDeletes, s.MaxDeletePercent*total()/100)
		if recent+n > limit {
			return &DeleteLimitError{Would: n, Recent: recent, Limit: limit}
		}
	}
	b.recent = append(b.recent, deletion{at: now, n: n})
	b.countKinds(now, removed)
	return nil
}

// checkKinds refuses when a removed kind has left as many owners in the window as allowed.
func (b *deleteBudget) checkKinds(now time.Time, removed []schema.GroupKind, s config.Safety, ownersWith func(schema.GroupKind) int) error {
	if len(removed) == 0 || s.MaxKindRemovalPercent >= 100 {
		return nil
	}
	if b.removals == nil {
		b.removals = map[schema.GroupKind][]time.Time{}
	}
	for _, gk := range removed {
		recent := 0
		kept := b.removals[gk][:0]
		for _, at := range b.removals[gk] {
			if now.Sub(at) < deleteWindow {
				kept = append(kept, at)
				recent++
			}
		}
		b.removals[gk] = kept
		if recent+1 <= config.MinKindRemovals {
			continue
		}
		owners := ownersWith(gk)
		limit := max(config.MinKindRemovals, s.MaxKindRemovalPercent*owners/100)
		if recent+1 > limit {
			return &KindRemovalError{Kind: gk, Recent: recent, Limit: limit, Owners: owners}
		}
	}
	return nil
}

func (b *deleteBudget) countKinds(now time.Time, removed []schema.GroupKind) {
	if b.removals == nil {
		b.removals = map[schema.GroupKind][]time.Time{}
	}
	for _, gk := range removed {
		b.removals[gk] = append(b.removals[gk], now)
	}
}

// AnnotationPruned records on an owner its last prune: when, how many children, and the kinds
// it lost entirely ("1764558000:3:Service,Deployment.apps"), so that the delete limits hold
// across restarts: a crash-looping bosun does not get a fresh budget each time.
const AnnotationPruned = "bosun.dev/pruned"

type pruneRecord struct {
	at    time.Time
	n     int
	kinds []schema.GroupKind
}

func (r pruneRecord) String() string {
	kinds := make([]string, len(r.kinds))
	for i, gk := range r.kinds {
		kinds[i] = gk.String()
	}
	return fmt.Sprintf("%d:%d:%s", r.at.Unix(), r.n, strings.Join(kinds, ","))
}

func parsePruneRecord(s string) (pruneRecord, bool) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return pruneRecord{}, false
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	n, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return pruneRecord{}, false
	}
	r := pruneRecord{at: time.Unix(at, 0), n: n}
	for _, k := range applier.SplitList(parts[2]) {
		r.kinds = append(r.kinds, schema.ParseGroupKind(k))
	}
	return r, true
}

// seed counts the prunes recorded on owners within the window, after a restart.
func (b *deleteBudget) seed(records []pruneRecord) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	for _, r := range records {
		if now.Sub(r.at) >= deleteWindow {
			continue
		}
		b.recent = append(b.recent, deletion{at: r.at, n: r.n})
		b.countKinds(r.at, r.kinds)
	}
}
