package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progress shows, on a terminal, how far a command that works through many owners got: one
// line on stderr, rewritten at most every progressEvery. Written to anything else (a file, a
// pipe, a CI log) it shows nothing, so scripts see only the results.
type progress struct {
	w     io.Writer // nil: not a terminal
	what  string
	total int
	done  int
	last  time.Time
}

const progressEvery = 200 * time.Millisecond

func newProgress(stderr io.Writer, what string, total int) *progress {
	p := &progress{what: what, total: total}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.w = stderr
	}
	return p
}

// step counts one owner done; a nil progress shows nothing.
func (p *progress) step() {
	if p == nil {
		return
	}
	p.done++
	if p.w == nil || (time.Since(p.last) < progressEvery && p.done != p.total) {
		return
	}
	p.last = time.Now()
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r\033[K%s: %d/%d owners", p.what, p.done, p.total)
	} else {
		fmt.Fprintf(p.w, "\r\033[K%s: %d owners", p.what, p.done)
	}
}

// clear removes the progress line before other output, and at the end.
func (p *progress) clear() {
	if p != nil && p.w != nil && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
