package renderer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Render executes every output template against owner and returns the child objects in template
// order. Errors caused by the templates or the owner's data are *Error; if ctx ends first, the
// error wraps ctx.Err() instead.
func (r *Renderer) Render(ctx context.Context, owner *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if owner == nil || owner.Object == nil {
		return nil, errors.New("render: no owner")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := templateData(owner.Object, r.values)
	if err == nil {
		data["Cluster"] = clusterOf(ctx).value()
	}
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("owner: %w", err)}
	}
	x, err := r.execution(ctx)
	if err != nil {
		return nil, err
	}
	defer r.release(x)
	var children []*unstructured.Unstructured
	for _, name := range r.outputs {
		text, err := x.execute(name, data)
		if err != nil {
			return nil, err
		}
		objs, err := decodeDocuments(name, text)
		if err != nil {
			return nil, err
		}
		children = append(children, objs...)
		if err := checkObjects(len(children), r.maxObjs); err != nil {
			return nil, err
		}
	}
	return children, nil
}

// execution is the state of one Render: a clone of the template set whose include, tpl and
// guard functions are bound to it. It holds the context because template functions cannot take
// it as an argument; it serves one Render call at a time, by one goroutine, and is then kept
// for the next (executing a template does not change it; tpl works on a clone of its own).
type execution struct {
	ctx    context.Context
	r      *Renderer
	set    *template.Template
	budget int // output bytes left for this Render
	depth  int // include and tpl calls in progress
}

// execution returns an idle execution for a Render with ctx, new or reused.
func (r *Renderer) execution(ctx context.Context) (*execution, error) {
	if x, ok := r.executions.Get().(*execution); ok {
		x.ctx, x.budget, x.depth = ctx, r.maxBytes, 0
		return x, nil
	}
	set, err := r.set.Clone()
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	x := &execution{ctx: ctx, r: r, set: set, budget: r.maxBytes}
	set.Funcs(template.FuncMap{
		"include":         x.include,
		"tpl":             x.tpl,
		rangeGuardFunc:    x.rangeGuard,
		templateGuardFunc: x.templateGuard,
	})
	return x, nil
}

// release keeps x for another Render, without the context of the one it served.
func (r *Renderer) release(x *execution) {
	x.ctx = nil
	r.executions.Put(x)
}

// execute runs output template name within the Render's output budget.
func (x *execution) execute(name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	w := &limitWriter{ctx: x.ctx, w: &buf, left: &x.budget, max: x.r.maxBytes}
	if err := x.set.ExecuteTemplate(w, name, data); err != nil {
		// Whatever failed, a cancelled render is retried, not reported as a template bug.
		if cerr := x.ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("template %s: %w", name, cerr)
		}
		// A printed nil carries its own location, in whichever include or tpl it happened.
		var missing *missingValueError
		if errors.As(err, &missing) {
			err = missing
		}
		return nil, &Error{Template: name, Err: err}
	}
	return buf.Bytes(), nil
}

// include renders the named template to a string, like Helm's include.
func (x *execution) include(name string, data any) (string, error) {
	return x.nested(x.set, name, data)
}

// tpl parses text as a template and renders it with data, like Helm's tpl. It sees the helpers,
// and its own {{define}}s stay local to the call.
func (x *execution) tpl(text string, data any) (string, error) {
	const name = "tpl"
	trees, err := x.r.parse(name, text)
	if err != nil {
		return "", err
	}
	set, err := x.set.Clone()
	if err != nil {
		return "", err
	}
	for n, tree := range trees {
		guardTree(tree, x.r.funcs)
		if _, err := set.AddParseTree(n, tree); err != nil {
			return "", err
		}
	}
	return x.nested(set, name, data)
}

// nested executes a template into a string of at most MaxOutputBytes, for include and tpl.
func (x *execution) nested(set *template.Template, name string, data any) (string, error) {
	if err := x.ctx.Err(); err != nil {
		return "", err
	}
	if x.depth >= MaxIncludeDepth {
		return "", fmt.Errorf("%q: include and tpl nest deeper than %d", name, MaxIncludeDepth)
	}
	x.depth++
	defer func() { x.depth-- }()
	var b strings.Builder
	left := x.r.maxBytes
	w := &limitWriter{ctx: x.ctx, w: &b, left: &left, max: x.r.maxBytes}
	if err := set.ExecuteTemplate(w, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}
