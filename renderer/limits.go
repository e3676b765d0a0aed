package renderer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Guard rails against templates that run away by mistake (a typo'd loop bound, a value that is
// far larger than expected). They are not a sandbox against hostile templates: templates are
// configuration written by whoever runs bosun.
const (
	// DefaultMaxOutputBytes is the output budget of one Render when Options.MaxOutputBytes is 0.
	DefaultMaxOutputBytes = 4 << 20
	// MaxListLength caps the lists that until, untilStep and seq build and the integers that
	// range iterates over.
	MaxListLength = 100_000
	// MaxIncludeDepth caps how deeply include and tpl calls may nest (recursive helpers).
	MaxIncludeDepth = 100
)

// errOutputLimit is wrapped by every error about the output budget.
var errOutputLimit = errors.New("output exceeds the limit")

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

// outputLimit resolves Options.MaxOutputBytes: 0 means DefaultMaxOutputBytes.
func outputLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("max output bytes %d is negative", n)
	case n == 0:
		return DefaultMaxOutputBytes, nil
	}
	return n, nil
}
