package cli

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

// followUpdate is what the watch of one watch's owners tells the printing loop: every row of
// the watch after a (re-)list, one owner's new row, or a note about a failure it retries.
type followUpdate struct {
	watch  string
	relist bool
	rows   []getRow
	row    getRow
	// note is a failure the watch retries, notes what the update could not read.
	note  string
	notes []string
}

// maxFollowBackoff bounds the pause between attempts after a failed list or watch.
const maxFollowBackoff = 30 * time.Second

// follow prints, after the list, a line for every owner whose line changes, until ctx ends;
// it then reports whether every owner it last saw is Ready. Each watch's owners are watched
// from the resourceVersion of their list; when a watch ends it resumes from the last version
// seen, and when that is too old (or the watch fails) it lists again and prints the lines
// that changed meanwhile. One owner's change costs the reads of its own children only (one
// list per child kind and namespace, with its owner-uid selector).
func (g *getter) follow(ctx context.Context, lists []ownerList, rows []getRow, p *getPrinter) (bool, error) {
	last := map[string]getRow{}
	for _, r := range rows {
		last[r.key()] = r
	}
	updates := make(chan followUpdate)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, l := range lists {
		wg.Go(func() { g.followWatch(ctx, l.gw, l.resourceVersion, updates) })
	}
	for {
		select {
		case <-ctx.Done():
			rows := make([]getRow, 0, len(last))
			for _, r := range last {
				rows = append(rows, r)
			}
			return allReady(rows), nil
		case u := <-updates:
			if err := g.apply(u, last, p); err != nil {
				return false, err
			}
		}
	}
}

// apply prints what an update changed and remembers it in last.
func (g *getter) apply(u followUpdate, last map[string]getRow, p *getPrinter) error {
	for _, n := range u.notes {
		fmt.Fprintf(g.stderr, "note: %s\n", n)
	}
	switch {
	case u.note != "":
		fmt.Fprintf(g.stderr, "note: %s\n", u.note)
		return nil
	case u.relist:
		seen := map[string]bool{}
		for _, r := range u.rows {
			seen[r.key()] = true
			if err := g.update(r, last, p); err != nil {
				return err
			}
		}
		var gone []getRow
		for k, r := range last {
			if r.Watch == u.watch && !seen[k] {
				gone = append(gone, getRow{Watch: r.Watch, UID: r.UID, Deleted: true})
			}
		}
		slices.SortFunc(gone, func(a, b getRow) int { return g.compareRows(last[a.key()], last[b.key()]) })
		for _, r := range gone {
			if err := g.update(r, last, p); err != nil {
				return err
			}
		}
		return nil
	}
	return g.update(u.row, last, p)
}

// update prints the row if it differs from the last one printed for its owner. A deleted row
// carries only its key: it is printed as the owner's last line, marked Deleted.
func (g *getter) update(r getRow, last map[string]getRow, p *getPrinter) error {
	prev, known := last[r.key()]
	if r.Deleted {
		if !known {
			return nil
		}
		delete(last, r.key())
		prev.Ready, prev.Reason, prev.Message, prev.Deleted = "Unknown", "Deleted", "the owner is gone (or left the watch)", true
		return p.one(prev)
	}
	last[r.key()] = r
	if known && p.same(prev, r) {
		return nil
	}
	return p.one(r)
}

// same reports whether two rows print the same: the table's cells but AGE, or all of JSON's.
func (p *getPrinter) same(a, b getRow) bool {
	if p.format != "" {
		return a == b
	}
	a.created, b.created = time.Time{}, time.Time{}
	return slices.Equal(p.cells(a), p.cells(b))
}

// followWatch watches one watch's owners from resourceVersion rv and sends an update for each
// change, until ctx ends.
func (g *getter) followWatch(ctx context.Context, gw *getWatch, rv string, updates chan<- followUpdate) {
	send := func(u followUpdate) bool {
		u.watch = gw.w.Name
		select {
		case updates <- u:
			return true
		case <-ctx.Done():
			return false
		}
	}
	backoff := time.Second
	retry := func(note string) bool {
		if !send(followUpdate{note: note + fmt.Sprintf(" (retrying in %s)", backoff)}) || !sleepCtx(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, maxFollowBackoff)
		return true
	}
	for ctx.Err() == nil {
		if rv == "" {
			l, err := g.list(ctx, gw)
			if err != nil {
				if !retry(err.Error()) {
					return
				}
				continue
			}
			rows, notes := g.rows(ctx, []ownerList{l}, childSelector, g.ns == metav1.NamespaceAll)
			if !send(followUpdate{relist: true, rows: rows, notes: notes}) {
				return
			}
			rv = l.resourceVersion
		}
		w, err := g.c.dynamic.Resource(gw.gvr).Namespace(g.namespace(gw)).Watch(ctx, metav1.ListOptions{
			LabelSelector: g.selector(gw), ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			rv = ""
			if ctx.Err() != nil || !retry(fmt.Sprintf("watch %s: watch %s: %v", gw.w.Name, gw.gvr.Resource, err)) {
				return
			}
			continue
		}
		var ok bool
		rv, ok = g.consume(ctx, gw, w, rv, send)
		w.Stop()
		if !ok {
			return
		}
		backoff = time.Second
	}
}

// consume sends an update per event of w and returns the last resourceVersion seen, "" when
// the watch failed (its version too old: list again); ok is false once ctx ended.
func (g *getter) consume(ctx context.Context, gw *getWatch, w watch.Interface, rv string, send func(followUpdate) bool) (string, bool) {
	for {
		var ev watch.Event
		select {
		case <-ctx.Done():
			return rv, false
		case e, open := <-w.ResultChan():
			if !open {
				return rv, ctx.Err() == nil
			}
			ev = e
		}
		if ev.Type == watch.Error {
			return "", ctx.Err() == nil
		}
		o, isObj := ev.Object.(*unstructured.Unstructured)
		if !isObj {
			continue
		}
		rv = o.GetResourceVersion()
		var u followUpdate
		switch {
		case ev.Type == watch.Bookmark:
			continue
		case ev.Type == watch.Deleted || !covers(gw.w, o):
			u.row = getRow{Watch: gw.w.Name, UID: string(o.GetUID()), Deleted: true}
		default:
			u.row, u.notes = g.ownerRow(ctx, gw, o)
		}
		if !send(u) {
			return rv, false
		}
	}
}

// ownerRow is one owner's row, its children read with its owner-uid selector.
func (g *getter) ownerRow(ctx context.Context, gw *getWatch, o *unstructured.Unstructured) (getRow, []string) {
	needs := childNeeds{}
	children, _ := recordedChildren(o)
	needs.addRecorded(children, false)
	live := readChildren(ctx, g.c, needs, ownerChildSelector(o.GetUID()))
	return g.row(gw, o, live), live.notes()
}

// sleepCtx waits d, or less if ctx ends first (then it returns false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
