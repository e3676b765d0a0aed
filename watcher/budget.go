package watcher

import (
	"fmt"
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

// deleteBudget counts a watch's deletions over a sliding window.
type deleteBudget struct {
	now func() time.Time

	mu     sync.Mutex
	recent []deletion
}

type deletion struct {
	at time.Time
	n  int
}

// take allows n deletions and counts them, or refuses them all. The limit is the larger of
// MaxDeletes and MaxDeletePercent of the watch's children (total is asked only when needed),
// so small watches can always prune a few children and large ones can prune many — but not
// most of them at once.
func (b *deleteBudget) take(n int, s config.Safety, total func() int) error {
	if n == 0 || s.MaxDeletes == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
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
	return nil
}
