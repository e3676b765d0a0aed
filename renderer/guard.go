package renderer

import (
	"fmt"
	"reflect"
	"text/template/parse"
)

// Loops and template calls are where a template can spin without writing a byte or calling a
// function, so the limitWriter alone would never notice. After parsing, every {{range}} pipeline
// gets one more command appended, and every template (file, {{define}}, tpl string) gets an
// action prepended, each calling a function named after the keyword ("range", "template"). The
// lexer turns those words into keywords, so no user template can call or shadow these functions.
// They check the context (and, for range, the size of an integer to iterate over), which bounds
// the work between two checks to one innermost loop over at most MaxListLength integers or over
// the owner's own data.
const (
	rangeGuardFunc    = "range"
	templateGuardFunc = "template"
)

// guardTree rewrites t in place (call it once, before t is shared) and returns the
// {{template}} calls it found, so that New can check that they name defined templates.
func guardTree(t *parse.Tree) []*parse.TemplateNode {
	var calls []*parse.TemplateNode
	guardNode(t, t.Root, &calls)
	pos := t.Root.Position()
	guard := &parse.ActionNode{
		NodeType: parse.NodeAction,
		Pos:      pos,
		Pipe:     &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{guardCommand(t, pos, templateGuardFunc)}},
	}
	t.Root.Nodes = append([]parse.Node{guard}, t.Root.Nodes...)
	return calls
}

func guardNode(t *parse.Tree, node parse.Node, calls *[]*parse.TemplateNode) {
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			guardNode(t, c, calls)
		}
	case *parse.IfNode:
		guardNode(t, n.List, calls)
		guardNode(t, n.ElseList, calls)
	case *parse.WithNode:
		guardNode(t, n.List, calls)
		guardNode(t, n.ElseList, calls)
	case *parse.RangeNode:
		n.Pipe.Cmds = append(n.Pipe.Cmds, guardCommand(t, n.Pipe.Position(), rangeGuardFunc))
		guardNode(t, n.List, calls)
		guardNode(t, n.ElseList, calls)
	case *parse.TemplateNode:
		*calls = append(*calls, n)
	}
}

func guardCommand(t *parse.Tree, pos parse.Pos, fn string) *parse.CommandNode {
	return &parse.CommandNode{
		NodeType: parse.NodeCommand,
		Pos:      pos,
		Args:     []parse.Node{parse.NewIdentifier(fn).SetTree(t).SetPos(pos)},
	}
}

// rangeGuard is the "range" guard of one execution; it passes the range value through.
func (x *execution) rangeGuard(v any) (any, error) {
	if err := x.ctx.Err(); err != nil {
		return nil, err
	}
	if n, ok := iterations(v); ok && n > MaxListLength {
		return nil, fmt.Errorf("%d iterations exceed the limit of %d", n, MaxListLength)
	}
	return v, nil
}

// templateGuard is the "template" guard of one execution; it prints nothing.
func (x *execution) templateGuard() (string, error) {
	return "", x.ctx.Err()
}

// iterations reports how often range iterates over v if v is an integer.
func iterations(v any) (uint64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return uint64(max(rv.Int(), 0)), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint(), true
	}
	return 0, false
}
