package renderer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// Options tune a Renderer.
type Options struct {
	// Values is exposed to templates as .Values; keys are case-sensitive. May be nil. It must
	// survive a JSON round trip (maps with string keys, slices, strings, numbers, booleans).
	Values map[string]any
	// MaxOutputBytes caps the text one Render may produce over all output templates, and the
	// text of any single include or tpl call; 0 means DefaultMaxOutputBytes.
	MaxOutputBytes int
	// MaxObjects caps the objects one Render may return; 0 means DefaultMaxObjects.
	MaxObjects int
}

// Renderer turns an owner into child manifests. It is immutable after New and safe for
// concurrent use.
type Renderer struct {
	set      *template.Template // all parsed templates; cloned per execution, never executed itself
	parser   *template.Template // empty template holding the funcs, cloned to parse tpl strings
	funcs    funcTypes          // the funcs' types, for guardTree
	outputs  []string           // output template names in render order
	values   map[string]any     // Options.Values in JSON types; copied per Render
	maxBytes int
	maxObjs  int
	hash     string
	// deleteHooks: some template source names a pre-delete or post-delete hook.
	deleteHooks bool
	// executions keeps idle executions for reuse: cloning the set (and its two maps of every
	// sprig function) per Render cost an eighth of a busy bosun's allocations.
	executions sync.Pool
}

// New loads and parses every template under paths. Each path is a file or a directory that is
// walked recursively in lexical order for files ending .yaml, .yml, .tpl or .tmpl; entries whose
// name starts with "." are skipped. Templates are named by their path (path as given joined with
// the file's path below it). Files whose base name starts with "_" are helpers: they may only
// {{define}} templates. Every other file is an output template; there must be at least one.
func New(paths []string, opts Options) (*Renderer, error) {
	maxBytes, err := outputLimit(opts.MaxOutputBytes)
	if err != nil {
		return nil, err
	}
	maxObjs, err := objectLimit(opts.MaxObjects)
	if err != nil {
		return nil, err
	}
	values, valuesJSON, err := normalizeValues(opts.Values)
	if err != nil {
		return nil, err
	}
	files, err := loadFiles(paths)
	if err != nil {
		return nil, err
	}
	funcs := boundFuncs(funcMap(maxBytes), maxBytes)
	r := &Renderer{
		set:      template.New("").Funcs(funcs).Option("missingkey=zero"),
		parser:   template.New("").Funcs(funcs),
		funcs:    newFuncTypes(funcs),
		values:   values,
		maxBytes: maxBytes,
		maxObjs:  maxObjs,
		hash:     hashSources(files, valuesJSON),
	}
	for _, f := range files {
		r.deleteHooks = r.deleteHooks || mentionsDeleteHook(f.text)
	}
	if err := r.add(files); err != nil {
		return nil, err
	}
	if len(r.outputs) == 0 {
		return nil, fmt.Errorf("no output templates in %s", strings.Join(paths, ", "))
	}
	return r, nil
}

// add parses files into r's template set, in order.
func (r *Renderer) add(files []sourceFile) error {
	definedIn := map[string]string{}
	var calls []templateCall
	for _, f := range files {
		trees, err := r.parse(f.name, f.text)
		if err != nil {
			return err
		}
		if f.helper {
			if err := checkHelper(trees[f.name]); err != nil {
				return err
			}
			delete(trees, f.name)
		} else {
			r.outputs = append(r.outputs, f.name)
		}
		for _, name := range slices.Sorted(maps.Keys(trees)) {
			if prev, ok := definedIn[name]; ok {
				return fmt.Errorf("%s: template %q is already defined in %s", f.name, name, prev)
			}
			definedIn[name] = f.name
			for _, n := range guardTree(trees[name], r.funcs) {
				calls = append(calls, templateCall{tree: trees[name], node: n})
			}
			if _, err := r.set.AddParseTree(name, trees[name]); err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
		}
	}
	// text/template would only notice when (and if) execution reaches the call.
	for _, c := range calls {
		if _, ok := definedIn[c.node.Name]; !ok {
			loc, _ := c.tree.ErrorContext(c.node)
			return fmt.Errorf("%s: template %q is not defined", loc, c.node.Name)
		}
	}
	return nil
}

// MayRenderDeleteHooks reports whether any template source names a pre-delete or post-delete
// hook, so that deleting an owner need not render it when none can come out.
func (r *Renderer) MayRenderDeleteHooks() bool { return r.deleteHooks }

// mentionsDeleteHook is a conservative text test: a template that renders a delete hook
// names the event somewhere in its source (perhaps in a value, which this misses only if the
// event name comes from the values alone).
func mentionsDeleteHook(text string) bool {
	return strings.Contains(text, "pre-delete") || strings.Contains(text, "post-delete")
}

// Templates returns the output template names in render order.
func (r *Renderer) Templates() []string { return slices.Clone(r.outputs) }

// Hash returns a hex sha256 over the template sources (with their names below the given paths)
// and the values, to record which version of the templates rendered an owner.
func (r *Renderer) Hash() string { return r.hash }

// parse parses one template source into its trees: the source's own and one per {{define}}.
// Parse errors name the template and line. The trees still need guardTree.
func (r *Renderer) parse(name, text string) (map[string]*parse.Tree, error) {
	p, err := r.parser.Clone()
	if err != nil {
		return nil, err
	}
	if _, err := p.New(name).Parse(text); err != nil {
		return nil, err
	}
	trees := map[string]*parse.Tree{}
	for _, t := range p.Templates() {
		if t.Tree == nil {
			continue
		}
		trees[t.Name()] = t.Tree
	}
	return trees, nil
}

type templateCall struct {
	tree *parse.Tree
	node *parse.TemplateNode
}

// checkHelper rejects a helper whose top level would produce output: helpers are included
// everywhere and executed nowhere, so stray text there is always a mistake.
func checkHelper(tree *parse.Tree) error {
	for _, n := range tree.Root.Nodes {
		if !parse.IsEmptyTree(n) {
			loc, _ := tree.ErrorContext(n)
			return fmt.Errorf("%s: helper files may only define templates, found output outside {{define}}", loc)
		}
	}
	return nil
}

// normalizeValues converts values to the JSON types templates see for the owner's fields
// (int64, float64, map[string]any, []any) and returns their canonical JSON for the hash.
func normalizeValues(values map[string]any) (map[string]any, []byte, error) {
	if values == nil {
		values = map[string]any{}
	}
	j, err := json.Marshal(values)
	if err != nil {
		return nil, nil, fmt.Errorf("values: %w", err)
	}
	var out map[string]any
	if err := utiljson.Unmarshal(j, &out); err != nil {
		return nil, nil, fmt.Errorf("values: %w", err)
	}
	return out, j, nil
}

func hashSources(files []sourceFile, valuesJSON []byte) string {
	h := sha256.New()
	// Length-prefixed fields, so that moving bytes between a name and a source changes the hash.
	field := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	field("bosun-renderer/v1")
	for _, f := range files {
		field(f.key)
		field(f.text)
	}
	field(string(valuesJSON))
	return hex.EncodeToString(h.Sum(nil))
}
