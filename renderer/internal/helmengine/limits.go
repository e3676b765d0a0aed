package helmengine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/template"
	"text/template/parse"
)

// ErrOutputLimit is wrapped by the error of a render that writes more than Limits.MaxBytes.
var ErrOutputLimit = errors.New("output exceeds the limit")

// Limits bound one render while it runs. Helm's engine has none: a value passed through tpl
// runs template code as long and as large as it likes, in the caller's process.
type Limits struct {
	// MaxBytes caps what a render holds in its output: every chart file rendered so far plus
	// the include and tpl calls under way (what a nested call returns is counted again where
	// its caller writes it, not twice). 0 means no cap.
	MaxBytes int
	// MaxDepth caps how deeply include and tpl calls nest, all names together (Helm caps each
	// include name at 1000 but not tpl, whose recursion would overflow the stack). 0 means no cap.
	MaxDepth int
	// PrepareTree is called once on every tree a render parses, chart files and tpl strings,
	// before it runs: the caller adds its guards there (their functions go in
	// CustomTemplateFuncs).
	PrepareTree func(*parse.Tree)
	// Funcs, when set, is given the render's functions (Helm's, then CustomTemplateFuncs) and
	// returns those the render runs with: the caller bounds there the functions whose results
	// may outgrow their arguments.
	Funcs func(template.FuncMap) template.FuncMap
}

// limiter is the state of Limits for one render. A render runs on one goroutine.
type limiter struct {
	ctx      context.Context
	lim      Limits
	used     int
	depth    int
	prepared map[*parse.Tree]bool
	failed   error // the first limit hit, which text/template's error wrapping would hide
}

func newLimiter(ctx context.Context, lim Limits) *limiter {
	return &limiter{ctx: ctx, lim: lim, prepared: map[*parse.Tree]bool{}}
}

// err is the limit that stopped the render, if one did.
func (l *limiter) err() error {
	if l.failed != nil {
		return l.failed
	}
	return l.ctx.Err()
}

func (l *limiter) fail(err error) error {
	if l.failed == nil {
		l.failed = err
	}
	return err
}

func (l *limiter) enter(name string) error {
	if err := l.ctx.Err(); err != nil {
		return l.fail(err)
	}
	if l.lim.MaxDepth > 0 && l.depth >= l.lim.MaxDepth {
		return l.fail(fmt.Errorf("%q: include and tpl nest deeper than %d", name, l.lim.MaxDepth))
	}
	l.depth++
	return nil
}

func (l *limiter) leave() { l.depth-- }

// writer counts what a chart file writes for good.
func (l *limiter) writer(b *strings.Builder) io.Writer {
	return &budgetWriter{l: l, b: b}
}

// nestedWriter counts what an include or tpl call writes until release, when the call returns
// its string.
func (l *limiter) nestedWriter(b *strings.Builder) *budgetWriter {
	return &budgetWriter{l: l, b: b}
}

func (l *limiter) release(w *budgetWriter) { l.used -= w.written }

// prepareAll prepares every tree of t not prepared yet.
func (l *limiter) prepareAll(t *template.Template) {
	if l.lim.PrepareTree == nil {
		return
	}
	for _, tt := range t.Templates() {
		l.prepare(tt.Tree)
	}
}

// prepareTpl prepares what parsing text into t added: its own tree, and its {{define}}s.
func (l *limiter) prepareTpl(t *template.Template, text string) {
	if l.lim.PrepareTree == nil {
		return
	}
	if strings.Contains(text, "define") || strings.Contains(text, "block") {
		l.prepareAll(t)
		return
	}
	l.prepare(t.Tree)
}

func (l *limiter) prepare(tree *parse.Tree) {
	if tree == nil || tree.Root == nil || l.prepared[tree] {
		return
	}
	l.prepared[tree] = true
	l.lim.PrepareTree(tree)
}

// budgetWriter stops text/template on the first write past the budget or after the context
// ends: text/template cannot be interrupted, but it gives up on the first failed write.
type budgetWriter struct {
	l       *limiter
	b       *strings.Builder
	written int
}

func (w *budgetWriter) Write(p []byte) (int, error) {
	l := w.l
	if err := l.ctx.Err(); err != nil {
		return 0, l.fail(err)
	}
	if l.lim.MaxBytes > 0 && l.used+len(p) > l.lim.MaxBytes {
		return 0, l.fail(fmt.Errorf("%w of %d bytes", ErrOutputLimit, l.lim.MaxBytes))
	}
	l.used += len(p)
	w.written += len(p)
	return w.b.Write(p)
}
