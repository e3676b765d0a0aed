package renderer

import (
	"reflect"
	"strconv"
	"text/template/parse"
)

// Templates run with missingkey=zero, as Helm's do: an absent map key yields nil, so that if,
// with, default, and, or, eq, hasKey and dig can test optional fields. Printing that nil would
// write "<no value>" into a child, so guardTree rewrites every action that prints a value that
// may be nil,
//
//	{{ P }}  into  {{ with $ v := P }}{{ $ v }}{{ else }}{{ end "file:line:col: P" $ v }}{{ end }}
//
// ("$ v" is a variable no template can name), so that only values that are false, zero, empty or
// nil reach the "end" guard, which fails on nil and prints anything else. A function call costs
// a few allocations; the with costs next to nothing. The same guard goes before a piped function
// that would fail on nil anyway — one whose parameter is a string or a number, or quote and
// squote — and around an argument of one, so that the error names the value rather than the
// function. Pipelines that end in a literal or in a function whose result cannot be nil need no
// guard.

// absentHint ends the errors about nil values.
const absentHint = "test an optional value with if or with, or give it a default"

// printVar holds a printed value between the with that tests it and the action that prints it.
const printVar = "$ v"

// action returns the replacement of a, with its pipeline guarded and its value checked if it
// prints one that may be nil.
func (g *guarder) action(a *parse.ActionNode) parse.Node {
	if len(a.Pipe.Decl) > 0 || !mayBeNil(a.Pipe, g.funcs) {
		// An action that declares or assigns variables prints nothing.
		g.pipe(a.Pipe)
		return a
	}
	guard := g.nilGuard(a, a.Pipe.String()) // as written, before pipe adds guards
	g.pipe(a.Pipe)
	pos := a.Position()
	v := func() *parse.VariableNode {
		return &parse.VariableNode{NodeType: parse.NodeVariable, Pos: pos, Ident: []string{printVar}}
	}
	guard.Args = append(guard.Args, v())
	printing := func(cmd *parse.CommandNode) *parse.ListNode {
		return &parse.ListNode{NodeType: parse.NodeList, Pos: pos, Nodes: []parse.Node{&parse.ActionNode{
			NodeType: parse.NodeAction, Pos: pos, Line: a.Line,
			Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Line: a.Line, Cmds: []*parse.CommandNode{cmd}},
		}}}
	}
	a.Pipe.Decl = []*parse.VariableNode{v()}
	return &parse.WithNode{BranchNode: parse.BranchNode{
		NodeType: parse.NodeWith, Pos: pos, Line: a.Line,
		Pipe:     a.Pipe,
		List:     printing(&parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{v()}}),
		ElseList: printing(guard),
	}}
}

// pipe puts a print guard on every value in pipe (and in the pipelines nested in its arguments)
// that may be nil and goes to a function that would fail on nil: the piped value, or an argument.
func (g *guarder) pipe(pipe *parse.PipeNode) {
	orig := pipe.CopyPipe() // for the guards' texts: the pipeline as written
	cmds := make([]*parse.CommandNode, 0, len(pipe.Cmds))
	for i, c := range pipe.Cmds {
		n := len(c.Args) - 1 // arguments of the call, with the piped value if there is one
		if i > 0 {
			n++
		}
		for j, arg := range c.Args {
			g.arg(arg)
			if j > 0 && g.rejectsNil(c, j-1, n) && mayBeNil(arg, g.funcs) {
				c.Args[j] = &parse.PipeNode{
					NodeType: parse.NodePipe,
					Pos:      arg.Position(),
					Cmds:     []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: arg.Position(), Args: []parse.Node{arg}}, g.nilGuard(arg, orig.Cmds[i].Args[j].String())},
				}
			}
		}
		if i > 0 && g.rejectsNil(c, n-1, n) && mayBeNil(pipe.Cmds[i-1], g.funcs) {
			cmds = append(cmds, g.nilGuard(pipe.Cmds[i-1], (&parse.PipeNode{Cmds: orig.Cmds[:i]}).String()))
		}
		cmds = append(cmds, c)
	}
	pipe.Cmds = cmds
}

func (g *guarder) arg(arg parse.Node) {
	switch a := arg.(type) {
	case *parse.PipeNode:
		g.pipe(a)
	case *parse.ChainNode:
		g.arg(a.Node)
	}
}

// nilGuard returns the command that checks the value of expr, a pipeline at node.
func (g *guarder) nilGuard(node parse.Node, expr string) *parse.CommandNode {
	loc, _ := g.t.ErrorContext(node)
	c := guardCommand(g.t, node.Position(), printGuardFunc)
	c.Args = append(c.Args, stringNode(node.Position(), loc+": "+expr))
	return c
}

// mayBeNil reports whether node, a command or an argument, can yield nil: anything but a
// literal or a call of a function whose result is not an interface.
func mayBeNil(node parse.Node, funcs funcTypes) bool {
	switch n := node.(type) {
	case *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		return false
	case *parse.PipeNode:
		return len(n.Decl) == 0 && mayBeNil(n.Cmds[len(n.Cmds)-1], funcs)
	case *parse.CommandNode:
		if len(n.Args) > 1 {
			id, ok := n.Args[0].(*parse.IdentifierNode)
			if !ok {
				return true // a method or field call
			}
			return mayBeNil(id, funcs)
		}
		return mayBeNil(n.Args[0], funcs)
	case *parse.IdentifierNode:
		t, ok := funcs[n.Ident]
		return !ok || t.NumOut() == 0 || t.Out(0).Kind() == reflect.Interface || t.Out(0) == reflectValueType
	}
	return true
}

// rejectsNil reports whether the call in cmd, with n arguments, fails when argument i (from 0;
// the piped value is the last) is nil: when the function's parameter for it cannot hold nil
// (text/template fails with "invalid value" or "wrong type"), or it is quote or squote.
func (g *guarder) rejectsNil(cmd *parse.CommandNode, i, n int) bool {
	id, ok := cmd.Args[0].(*parse.IdentifierNode)
	if !ok {
		return false
	}
	if id.Ident == "quote" || id.Ident == "squote" {
		return true
	}
	t, ok := g.funcs[id.Ident]
	if !ok {
		return false
	}
	var p reflect.Type
	switch fixed := t.NumIn(); {
	case t.IsVariadic() && i >= fixed-1:
		p = t.In(fixed - 1).Elem()
	case i < fixed && (t.IsVariadic() || n == fixed):
		p = t.In(i)
	default:
		return false // a wrong number of arguments, which text/template reports
	}
	switch p.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return false
	}
	return p != reflectValueType
}

func stringNode(pos parse.Pos, s string) *parse.StringNode {
	return &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(s), Text: s}
}

// funcTypes are the Go types of the functions templates can call, by name.
type funcTypes map[string]reflect.Type

var reflectValueType = reflect.TypeFor[reflect.Value]()

// newFuncTypes returns the types of funcs and of text/template's builtins that funcs does not
// replace. and, or, index, slice and call return a reflect.Value, which may hold nil.
func newFuncTypes(funcs map[string]any) funcTypes {
	types := funcTypes{}
	builtins := map[string]any{
		"and": reflectValueFunc, "or": reflectValueFunc, "index": reflectValueFunc,
		"slice": reflectValueFunc, "call": reflectValueFunc,
		"not": func(any) bool { return false }, "len": func(any) int { return 0 },
		"eq": boolFunc, "ne": boolFunc, "lt": boolFunc, "le": boolFunc, "gt": boolFunc, "ge": boolFunc,
		"print": stringFunc, "printf": stringFunc, "println": stringFunc,
		"html": stringFunc, "js": stringFunc, "urlquery": stringFunc,
	}
	for _, m := range []map[string]any{builtins, funcs} {
		for name, fn := range m {
			types[name] = reflect.TypeOf(fn)
		}
	}
	return types
}

// Stand-ins for the builtins' result types; their parameters take anything, as the builtins'
// reflect.Value parameters do.
func reflectValueFunc(...any) reflect.Value { return reflect.Value{} }
func boolFunc(...any) bool                  { return false }
func stringFunc(...any) string              { return "" }

// printGuard is the "end" guard: it fails on a nil value, which would be printed as "<no value>"
// or fail less clearly, and passes anything else through. what is "template:line:col: pipeline"
// (one argument, not two: every argument costs an allocation on each call).
func printGuard(what string, v any) (any, error) {
	if v == nil {
		return nil, &missingValueError{what: what}
	}
	return v, nil
}

// missingValueError is a nil that a template printed or passed to a function that cannot take
// it: a key that is absent (or null) in the owner, the values or a map the template built.
type missingValueError struct {
	what string // template:line:col: pipeline
}

func (e *missingValueError) Error() string {
	return "template: " + e.what + " is absent or null (" + absentHint + ")"
}
