package renderer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Lostromos (github.com/wpengine/lostromos) executed its templates with a CustomResource as the
// dot: a struct holding the owner as its field Resource, with the methods Name and GetField.
// bosun's dot already has .Name (the same string); the methods below give it the rest, so that a
// template written for Lostromos renders unchanged, with no setting to turn on:
//
//	{{ .GetField "spec" "By" }}  {{ .Name }}  {{ .Resource.GetNamespace }}  {{ .Resource.Object.spec.By }}

// GetField returns the string at the path of fields in the owner, as Lostromos' GetField did:
// "" when the path does not exist and also when the value there is not a string (a number, a
// boolean, a map). That swallows what bosun's own data would report — deliberately, so that a
// Lostromos template renders what it rendered there; new templates use .Spec and friends.
func (d dot) GetField(fields ...string) string {
	var v any = d.object()
	for _, f := range fields {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[f]
	}
	s, _ := v.(string)
	return s
}

// Resource is the owner as Lostromos' CustomResource.Resource held it, an
// *unstructured.Unstructured over the same copy as .Object: its getters (.Resource.GetName,
// .Resource.GetNamespace, .Resource.GetLabels, ...) and .Resource.Object.
func (d dot) Resource() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: d.object()}
}

func (d dot) object() map[string]any {
	m, _ := d["Object"].(map[string]any)
	return m
}

// LostromosLayout says how a watch renders what Lostromos rendered from a templates directory.
//
// Lostromos parsed the *.tmpl files directly in its templates directory (not below it), named
// each by its base name, and executed only the first one in lexical order; the others rendered
// only where that one called them, as Lostromos' own example does from 0_base.tmpl:
//
//	---
//	{{ template "configmap.yaml.tmpl" . }}
//	---
//	{{ template "deployment.yaml.tmpl" . }}
//
// bosun executes every file it is given and names a file's template by its path, so such a call
// would not resolve. A first file that does nothing but call other files with the dot, between
// "---" separators, is therefore replaced by the files it calls, which render the same objects.
type LostromosLayout struct {
	// Entry is the file Lostromos executed: the first *.tmpl file in lexical order.
	Entry string
	// Calls are the files Entry called when it did nothing else, in call order; nil when Entry
	// renders on its own.
	Calls []string
	// Files are the templates of the watch, in order: Calls (or Entry), then the files that only
	// {{define}} templates.
	Files []string
	// Unused are the other *.tmpl files: Lostromos parsed them and never rendered them.
	Unused []string
}

// LostromosTemplates works out the LostromosLayout of dir. It fails, naming the file and line,
// where bosun cannot render the same: a file called by its Lostromos name from anywhere but a
// first file that only calls, a file called twice, a template defined in a file that has output
// of its own which Lostromos never rendered.
func LostromosTemplates(dir string) (*LostromosLayout, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tmpl"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no *.tmpl files (Lostromos executed the first *.tmpl file of its templates directory)", dir)
	}
	files := make([]lostromosFile, 0, len(paths))
	byName := map[string]*lostromosFile{}
	for _, p := range paths {
		f, err := parseLostromosFile(p)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	for i := range files {
		byName[files[i].name] = &files[i]
	}

	l := &LostromosLayout{Entry: files[0].path}
	entry := &files[0]
	calls, only := onlyCalls(entry.trees[entry.name], byName)
	outputs := []*lostromosFile{entry}
	if only {
		outputs = outputs[:0]
		for _, c := range calls {
			f := byName[c.Name]
			if slices.Contains(outputs, f) {
				return nil, fmt.Errorf("%s: calls %s a second time; bosun renders a file once", location(dir, entry.trees[entry.name], c), f.name)
			}
			outputs = append(outputs, f)
			l.Calls = append(l.Calls, f.path)
		}
		if len(entry.trees) > 1 {
			return nil, fmt.Errorf("%s: defines templates besides calling files; move them to a file of their own", entry.path)
		}
	}

	var errs []error
	// Every template a rendered file can reach: its own and every {{define}}d one.
	var reachable []*parse.Tree
	for _, f := range outputs {
		reachable = append(reachable, f.trees[f.name])
	}
	defined := map[string]*lostromosFile{}
	for i := range files {
		f := &files[i]
		for name, tree := range f.trees {
			if name != f.name {
				defined[name] = f
				reachable = append(reachable, tree)
			}
		}
	}
	for _, tree := range reachable {
		for _, c := range templateCalls(tree.Root) {
			switch f, d := byName[c.Name], defined[c.Name]; {
			case f != nil && d == nil:
				errs = append(errs, fmt.Errorf("%s: {{template %q}} calls a file by the name Lostromos gave it; bosun names a file's template by its path: wrap the file in a {{define}} and call that", location(dir, tree, c), c.Name))
			case d != nil && !d.defineOnly() && !slices.Contains(outputs, d):
				errs = append(errs, fmt.Errorf("%s: %q is defined in %s, which also has output of its own that Lostromos never rendered; move the define to a file of its own", location(dir, tree, c), c.Name, d.path))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	for _, f := range outputs {
		l.Files = append(l.Files, f.path)
	}
	for i := range files {
		f := &files[i]
		switch {
		case slices.Contains(outputs, f) || (only && f == entry):
		case f.defineOnly():
			l.Files = append(l.Files, f.path)
		default:
			l.Unused = append(l.Unused, f.path)
		}
	}
	return l, nil
}

// lostromosFile is one *.tmpl file parsed on its own: its template (named by its base name, as
// Lostromos named it) and those it {{define}}s.
type lostromosFile struct {
	path, name string
	trees      map[string]*parse.Tree
}

func parseLostromosFile(path string) (lostromosFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return lostromosFile{}, fmt.Errorf("read template: %w", err)
	}
	f := lostromosFile{path: path, name: filepath.Base(path), trees: map[string]*parse.Tree{}}
	// Lostromos gave its templates no functions but text/template's own, as here.
	t, err := template.New(f.name).Parse(string(b))
	if err != nil {
		return lostromosFile{}, fmt.Errorf("%s: %w", filepath.Dir(path), err)
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			f.trees[tt.Name()] = tt.Tree
		}
	}
	return f, nil
}

// defineOnly tells a file whose only content is {{define}}s (and blanks): rendering it yields
// nothing, so listing it only makes its defines known.
func (f *lostromosFile) defineOnly() bool {
	if len(f.trees) < 2 {
		return false
	}
	for _, n := range f.trees[f.name].Root.Nodes {
		if !parse.IsEmptyTree(n) {
			return false
		}
	}
	return true
}

// onlyCalls returns the {{template "FILE" .}} calls of tree and whether the tree holds nothing
// else but comments and text made of "---" separators and blanks.
func onlyCalls(tree *parse.Tree, files map[string]*lostromosFile) ([]*parse.TemplateNode, bool) {
	var calls []*parse.TemplateNode
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			for _, field := range strings.Fields(string(n.Text)) {
				if field != "---" {
					return nil, false
				}
			}
		case *parse.CommentNode:
		case *parse.TemplateNode:
			if files[n.Name] == nil || !passesDot(n.Pipe) {
				return nil, false
			}
			calls = append(calls, n)
		default:
			return nil, false
		}
	}
	return calls, len(calls) > 0
}

func passesDot(p *parse.PipeNode) bool {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	_, ok := p.Cmds[0].Args[0].(*parse.DotNode)
	return ok
}

// templateCalls returns every {{template}} node under n.
func templateCalls(n parse.Node) []*parse.TemplateNode {
	var out []*parse.TemplateNode
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.TemplateNode:
			out = append(out, n)
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		}
	}
	walk(n)
	return out
}

// location is "DIR/FILE:LINE:COL" of node n in tree.
func location(dir string, tree *parse.Tree, n parse.Node) string {
	loc, _ := tree.ErrorContext(n)
	return filepath.Join(dir, loc)
}
