package renderer

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bosun-dev/bosun/renderer/internal/helmengine"
)

// Guard rails against renders that run away, by mistake (a typo'd loop bound, a value far
// larger than expected) or on purpose (an owner's value that a template or chart passes to tpl
// runs template code the tenant wrote): a render stops when its context ends, and on the first
// write, list, nesting or object past these limits, in templates and charts alike, so that one
// owner costs bosun at most one worker for renderTimeout and a few times the output budget in
// memory.
const (
	// DefaultMaxOutputBytes is the output budget of one Render when Options.MaxOutputBytes is 0.
	DefaultMaxOutputBytes = 4 << 20
	// MaxListLength caps the lists that until, untilStep and seq build and the integers that
	// range iterates over.
	MaxListLength = 100_000
	// MaxIncludeDepth caps how deeply include and tpl calls may nest (recursive helpers), all
	// names together. Helm caps each include name at 1000 and tpl not at all: a value that runs
	// itself through tpl overflows the stack, and the error of a deep recursion, which repeats
	// every level's location, grows with the square of the depth.
	MaxIncludeDepth = 100
	// DefaultMaxObjects is how many objects one Render may return when Options.MaxObjects
	// (ChartOptions.MaxObjects) is 0: every child costs an apply, a cache entry and an
	// inventory line, and an owner that asks for tens of thousands holds a worker for minutes.
	DefaultMaxObjects = 2000
)

// errOutputLimit is wrapped by every error about the output budget, of templates and charts.
var errOutputLimit = helmengine.ErrOutputLimit

// limitWriter stops text/template as soon as the render runs over its byte budget or its context
// ends: text/template cannot be interrupted, but it gives up on the first failed write.
type limitWriter struct {
	ctx  context.Context
	w    io.Writer
	left *int // shared by all writers of one budget
	max  int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > *l.left {
		return 0, fmt.Errorf("%w of %d bytes", errOutputLimit, l.max)
	}
	*l.left -= len(p)
	return l.w.Write(p)
}

// listLength returns how many elements sprig's untilStep(start, stop, step) yields, computed
// without building them and without overflowing.
func listLength(start, stop, step int) uint64 {
	var dist, stride uint64
	switch {
	case stop > start && step > 0:
		dist, stride = uint64(stop)-uint64(start), uint64(step)
	case stop < start && step < 0:
		dist, stride = uint64(start)-uint64(stop), -uint64(step)
	default:
		return 0
	}
	n := dist / stride
	if dist%stride != 0 {
		n++
	}
	return n
}

// untilStep replaces sprig's untilStep, which appends without bound and loops forever when
// start+step overflows.
func untilStep(start, stop, step int) ([]int, error) {
	return buildList("untilStep", start, stop, step)
}

func until(count int) ([]int, error) {
	step := 1
	if count < 0 {
		step = -1
	}
	return buildList("until", 0, count, step)
}

func buildList(fn string, start, stop, step int) ([]int, error) {
	n := listLength(start, stop, step)
	if n > MaxListLength {
		return nil, fmt.Errorf("%s: %d elements exceed the limit of %d", fn, n, MaxListLength)
	}
	list := make([]int, n)
	for i := range list {
		list[i] = start + i*step
	}
	return list, nil
}

// seq mirrors sprig's seq (bash-like, end inclusive) on top of the bounded buildList.
func seq(params ...int) (string, error) {
	var start, end, step int
	switch len(params) {
	case 1:
		start, end, step = 1, params[0], 1
	case 2:
		start, end, step = params[0], params[1], 1
	case 3:
		start, step, end = params[0], params[1], params[2]
	default:
		return "", nil
	}
	increment := 1
	if end < start {
		increment = -1
		if len(params) < 3 {
			step = -1
		} else if step > 0 {
			return "", nil
		}
	}
	list, err := buildList("seq", start, end+increment, step)
	if err != nil {
		return "", err
	}
	words := make([]string, len(list))
	for i, v := range list {
		words[i] = strconv.Itoa(v)
	}
	return strings.Join(words, " "), nil
}

// boundedFuncs replace the sprig functions whose arguments size their result, for templates
// and charts alike: the same results, within MaxListLength and maxBytes.
func boundedFuncs(maxBytes int) map[string]any {
	limits := stringLimits{maxBytes: maxBytes}
	return map[string]any{
		"until":     until,
		"untilStep": untilStep,
		"seq":       seq,
		"repeat":    limits.repeat,
		"indent":    limits.indent,
		"nindent":   limits.nindent,
	}
}

// stringLimits holds the sprig string builders whose size an argument controls.
type stringLimits struct {
	maxBytes int
}

func (l stringLimits) repeat(count int, s string) (string, error) {
	if count < 0 {
		return "", fmt.Errorf("repeat: negative count %d", count)
	}
	if len(s) > 0 && count > l.maxBytes/len(s) {
		return "", fmt.Errorf("repeat: %d copies of %d bytes exceed the limit of %d bytes", count, len(s), l.maxBytes)
	}
	return strings.Repeat(s, count), nil
}

func (l stringLimits) indent(spaces int, s string) (string, error) {
	if err := l.checkIndent("indent", spaces, s); err != nil {
		return "", err
	}
	pad := strings.Repeat(" ", spaces)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
}

func (l stringLimits) nindent(spaces int, s string) (string, error) {
	if err := l.checkIndent("nindent", spaces, s); err != nil {
		return "", err
	}
	pad := strings.Repeat(" ", spaces)
	return "\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
}

func (l stringLimits) checkIndent(fn string, spaces int, s string) error {
	if spaces < 0 {
		return fmt.Errorf("%s: negative width %d", fn, spaces)
	}
	lines := strings.Count(s, "\n") + 1
	if spaces > l.maxBytes || spaces*lines > l.maxBytes-len(s) {
		return fmt.Errorf("%s: %d spaces on %d lines exceed the limit of %d bytes", fn, spaces, lines, l.maxBytes)
	}
	return nil
}

// objectLimit resolves Options.MaxObjects: 0 means DefaultMaxObjects.
func objectLimit(n int) (int, error) { return limitOr("max objects", n, DefaultMaxObjects) }

// checkObjects fails a render that has produced more than max objects so far.
func checkObjects(n, max int) error {
	if n > max {
		return &Error{Err: fmt.Errorf("renders more than %d objects, the limit of children per owner", max)}
	}
	return nil
}

// outputLimit resolves Options.MaxOutputBytes: 0 means DefaultMaxOutputBytes.
func outputLimit(n int) (int, error) { return limitOr("max output bytes", n, DefaultMaxOutputBytes) }

// limitOr resolves a limit option: 0 means def, a negative one is an error.
func limitOr(what string, n, def int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("%s %d is negative", what, n)
	case n == 0:
		return def, nil
	}
	return n, nil
}
