package renderer

import (
	"context"
	"fmt"
	"reflect"
	"text/template/parse"
)

// After parsing, New rewrites every tree (file, {{define}}, tpl string) by adding calls of guard
// functions named after keywords ("range", "template", "end"). The lexer turns those words into
// keywords, so no user template can call or shadow these functions.
//
// Loops and template calls are where a template can spin without writing a byte or calling a
// function, so the limitWriter alone would never notice. Every {{range}} pipeline gets one more
// command appended, and every template gets an action prepended, calling "range" and "template".
// They check the context (and, for range, the size of an integer to iterate over), which bounds
// the work between two checks to one innermost loop over at most MaxListLength integers or over
// the owner's own data.
//
// "end" fails on a value that is nil (an absent key) where it would be printed: see missing.go.
const (
	rangeGuardFunc    = "range"
	templateGuardFunc = "template"
	printGuardFunc    = "end"
)

// guardTree rewrites t in place (call it once, before t is shared) and returns the
// {{template}} calls it found, so that New can check that they name defined templates. funcs
// are the types of the functions t may call, which tell where a value can be nil.
func guardTree(t *parse.Tree, funcs funcTypes) []*parse.TemplateNode {
	g := guarder{t: t, funcs: funcs}
	g.guard()
	return g.calls
}

// guardLoops adds only the "range" and "template" guards, for Helm's engine: a chart keeps
// Helm's rules for missing values.
func guardLoops(t *parse.Tree) {
	g := guarder{t: t, loopsOnly: true}
	g.guard()
}

func (g *guarder) guard() {
	t := g.t
	g.node(t.Root)
	pos := t.Root.Position()
	guard := &parse.ActionNode{
		NodeType: parse.NodeAction,
		Pos:      pos,
		Pipe:     &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{guardCommand(t, pos, templateGuardFunc)}},
	}
	t.Root.Nodes = append([]parse.Node{guard}, t.Root.Nodes...)
}

type guarder struct {
	t         *parse.Tree
	funcs     funcTypes
	loopsOnly bool // no print guards
	calls     []*parse.TemplateNode
}

func (g *guarder) node(node parse.Node) {
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for i, c := range n.Nodes {
			if a, ok := c.(*parse.ActionNode); ok && !g.loopsOnly {
				n.Nodes[i] = g.action(a)
				continue
			}
			g.node(c)
		}
	case *parse.IfNode:
		g.branch(&n.BranchNode)
	case *parse.WithNode:
		g.branch(&n.BranchNode)
	case *parse.RangeNode:
		if !g.loopsOnly {
			g.pipe(n.Pipe)
		}
		n.Pipe.Cmds = append(n.Pipe.Cmds, guardCommand(g.t, n.Pipe.Position(), rangeGuardFunc))
		g.node(n.List)
		g.node(n.ElseList)
	case *parse.TemplateNode:
		g.calls = append(g.calls, n)
		if n.Pipe != nil && !g.loopsOnly {
			g.pipe(n.Pipe)
		}
	}
}

func (g *guarder) branch(n *parse.BranchNode) {
	if !g.loopsOnly {
		g.pipe(n.Pipe)
	}
	g.node(n.List)
	g.node(n.ElseList)
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
	return checkRange(x.ctx, v)
}

// templateGuard is the "template" guard of one execution; it prints nothing.
func (x *execution) templateGuard() (string, error) {
	return "", x.ctx.Err()
}

func checkRange(ctx context.Context, v any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n, ok := iterations(v); ok && n > MaxListLength {
		return nil, fmt.Errorf("%d iterations exceed the limit of %d", n, MaxListLength)
	}
	return v, nil
}

// guardFuncs are the guards of guardLoops for a render under ctx.
func guardFuncs(ctx context.Context) map[string]any {
	return map[string]any{
		rangeGuardFunc:    func(v any) (any, error) { return checkRange(ctx, v) },
		templateGuardFunc: func() (string, error) { return "", ctx.Err() },
	}
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
