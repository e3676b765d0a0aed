package applier

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"

	jsoniter "github.com/json-iterator/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// Field shapes tell, without a read and without memory of past applies, whether a child is
// still as bosun left it: after an apply, bosun's managedFields entry owns exactly the fields
// of the applied configuration. A field someone else changed (kubectl edit, patch, scale, a
// forced apply) moves to that manager, and a field someone removed leaves bosun's set — either
// way bosun's set no longer has the shape of the rendered object.
//
// A shape lists the leaves of a field set as the API server's managedFields name them
// (structured-merge-diff's FieldsV1): "f:name" for a field and, for an item of a list, its key
// (k:{"name":"web"} for a container, k:{"port":80,"protocol":"TCP"} for a Service port) or its
// value (v:"x" in a set); an atomic list or map is one leaf. So a container image or a Service
// port edited by hand is seen after a restart as a replica count is: its leaf left bosun's set.
// Fields and items another manager added (an env var added by hand) are in neither shape.
//
// Naming list items as the server does takes the schema: the list type, the key fields and
// their defaults (a Service port without protocol is keyed "TCP"). client-go carries the one
// the API server uses for every built-in kind, and for those the two shapes must be equal. For
// other kinds (custom resources) rendered data alone cannot name a list's items, nor tell a
// map the CRD makes atomic: their shape is deduced — every list one leaf — and compared
// leniently, a leaf on one side standing for the leaves below it on the other. An edit inside
// a custom resource's list is therefore seen while bosun runs (by resourceVersion and
// generation) but not across a restart.

// deduced starts the shape of an object whose schema bosun does not know.
const deduced = "~\n"

// sep separates the elements of a path, and "\n" the paths of a shape; neither appears in a
// field name or a serialized key.
const sep = '\x00'

// RenderedShape lists the fields bosun's apply of the rendered object will own, in the form
// ManagedShape lists them, for ShapesMatch.
func RenderedShape(obj map[string]any) string {
	if s := builtinSchema(); s != nil {
		gvk := (&unstructured.Unstructured{Object: obj}).GroupVersionKind()
		if name, err := scheme.Scheme.ToOpenAPIDefinitionName(gvk); err == nil {
			if atom, ok := s.Resolve(schema.TypeRef{NamedType: &name}); ok && atom.Map != nil {
				w := renderedWalker{schema: s}
				if w.fields(obj, atom.Map) == nil {
					return w.shape()
				}
				// A field client-go does not know (a newer API server's): deduce.
			}
		}
	}
	w := renderedWalker{}
	_ = w.fields(obj, nil)
	return deduced + w.shape()
}

// ManagedShape lists the fields that manager owns by apply in entries, in the same form as
// RenderedShape; "" when manager has no apply entry on the main resource.
func ManagedShape(entries []metav1.ManagedFieldsEntry, manager string) string {
	for _, e := range entries {
		if e.Manager != manager || e.Operation != metav1.ManagedFieldsOperationApply || e.Subresource != "" || e.FieldsV1 == nil {
			continue
		}
		it := jsoniter.ConfigFastest.BorrowIterator(e.FieldsV1.Raw)
		defer jsoniter.ConfigFastest.ReturnIterator(it)
		var w shapeWriter
		if _, ok := w.fieldsV1(it); !ok || it.Error != nil {
			return ""
		}
		return w.shape()
	}
	return ""
}

// ShapesMatch reports whether bosun's managedFields entry (managed, from ManagedShape) owns
// exactly the fields of the rendered object (rendered, from RenderedShape).
func ShapesMatch(rendered, managed string) bool {
	if managed == "" {
		return false
	}
	r, lenient := strings.CutPrefix(rendered, deduced)
	if !lenient {
		return rendered == managed
	}
	rs, ms := strings.Split(r, "\n"), strings.Split(managed, "\n")
	return covers(ms, rs) && covers(rs, ms)
}

// covers reports whether every path of b is in a, or lies above leaves of a (a list b has as
// one leaf), or below a leaf of a (a map a owns whole). a is sorted.
func covers(a, b []string) bool {
	for _, p := range b {
		i, found := slices.BinarySearch(a, p)
		// Paths below p sort right after it: sep is the smallest byte.
		if found || (i < len(a) && strings.HasPrefix(a[i], p+string(sep))) {
			continue
		}
		above := false
		for j := strings.IndexByte(p, sep); j >= 0 && !above; j = nextSep(p, j) {
			_, above = slices.BinarySearch(a, p[:j])
		}
		if !above {
			return false
		}
	}
	return true
}

func nextSep(p string, j int) int {
	if k := strings.IndexByte(p[j+1:], sep); k >= 0 {
		return j + 1 + k
	}
	return -1
}

// builtinSchema is the schema of client-go's apply configurations: every built-in kind, with
// the list types, keys and defaults the API server uses. Parsed once, on first use.
var builtinSchema = sync.OnceValue(func() *schema.Schema {
	// A typed value is the one public way to it.
	tv, err := applyconfigurations.NewTypeConverter(scheme.Scheme).ObjectToTyped(
		&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}})
	if err != nil {
		return nil
	}
	return tv.Schema()
})

// shapeWriter collects the leaf paths of a shape as a walk pushes and pops path elements.
type shapeWriter struct {
	path  []byte
	depth int // elements in path
	paths []string
}

func (w *shapeWriter) leaf() { w.paths = append(w.paths, string(w.path)) }

// push appends one element to the path and returns the length to pop back to.
func (w *shapeWriter) push(elem string) int {
	n := len(w.path)
	if n > 0 {
		w.path = append(w.path, sep)
	}
	w.path = append(w.path, elem...)
	w.depth++
	return n
}

func (w *shapeWriter) pop(n int) {
	w.path = w.path[:n]
	w.depth--
}

// inMetadata reports whether the path is metadata itself.
func (w *shapeWriter) inMetadata() bool { return w.depth == 1 && string(w.path) == "f:metadata" }

// skipped reports the fields below the path that a managedFields entry never holds
// (managedfields' stripMeta): apiVersion and kind, and the metadata that names the object or
// that the server sets.
func (w *shapeWriter) skipped(name string) bool {
	switch {
	case w.depth == 0:
		return name == "apiVersion" || name == "kind"
	case w.inMetadata():
		switch name {
		case "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields", "resourceVersion":
			return true
		}
	}
	return false
}

// collapsed reports the one list a shape keeps as one leaf whatever its type:
// metadata.ownerReferences. Its items are keyed by UID, so bosun's own reference would make
// every child's shape different; as one leaf the children of a template share one shape
// string (the children cache interns it), and a reference taken or removed by hand still
// takes the leaf out of bosun's set.
func (w *shapeWriter) collapsed(name string) bool {
	return name == "ownerReferences" && w.inMetadata()
}

func (w *shapeWriter) shape() string {
	sort.Strings(w.paths)
	return strings.Join(w.paths, "\n")
}

// fieldsV1 reads one FieldsV1 object at the current path and records the leaves below it: the
// members with nothing recorded below them. It reports whether the object itself is a member
// ("." in it, or empty), and false on malformed input.
func (w *shapeWriter) fieldsV1(it *jsoniter.Iterator) (member, ok bool) {
	ok = true
	keys := 0
	it.ReadMapCB(func(it *jsoniter.Iterator, key string) bool {
		keys++
		if key == "." {
			member = true
			it.Skip()
			return true
		}
		name, isField := strings.CutPrefix(key, "f:")
		if isField && w.skipped(name) {
			it.Skip()
			return true
		}
		elem := key
		if !isField {
			// Written by the API server's structured-merge-diff; read and written again by
			// ours, so that both shapes spell keys alike.
			pe, err := fieldpath.DeserializePathElement(key)
			if err != nil {
				ok = false
				return false
			}
			if elem, err = fieldpath.SerializePathElement(pe); err != nil {
				ok = false
				return false
			}
		}
		if isField && w.collapsed(name) {
			it.Skip()
			n := w.push(elem)
			w.leaf()
			w.pop(n)
			return true
		}
		n := w.push(elem)
		before := len(w.paths)
		var self bool
		if self, ok = w.fieldsV1(it); ok && self && len(w.paths) == before {
			w.leaf()
		}
		w.pop(n)
		return ok
	})
	return member || keys == 0, ok
}

// renderedWalker records the leaves of a rendered object as structured-merge-diff's ToFieldSet
// names them for an apply of it: with the schema of a built-in kind, or deduced without one
// (schema nil: maps by field, lists atomic).
type renderedWalker struct {
	shapeWriter
	schema *schema.Schema
}

// errNotInSchema says the object does not follow the schema: its shape is deduced instead.
var errNotInSchema = errors.New("not in the schema")

// value walks v of type tr at the current path and records the leaves below it; self reports
// that v is owned as a whole (a scalar, an atomic list or map, null).
func (w *renderedWalker) value(v any, tr schema.TypeRef) (self bool, err error) {
	if v == nil {
		return true, nil
	}
	if w.schema == nil {
		if m, ok := v.(map[string]any); ok {
			return false, w.fields(m, nil)
		}
		return true, nil
	}
	atom, ok := w.schema.Resolve(tr)
	if !ok {
		return false, errNotInSchema
	}
	switch v := v.(type) {
	case map[string]any:
		if atom.Map == nil {
			return false, errNotInSchema
		}
		if atom.Map.ElementRelationship == schema.Atomic {
			return true, nil
		}
		return false, w.fields(v, atom.Map)
	case []any:
		if atom.List == nil {
			return false, errNotInSchema
		}
		if atom.List.ElementRelationship != schema.Associative {
			return true, nil
		}
		return false, w.items(v, atom.List)
	default:
		if atom.Scalar == nil {
			return false, errNotInSchema
		}
		return true, nil
	}
}

// fields walks the fields of a map of type t (nil: deduced). A field is owned itself when it
// is null, an empty map, or not declared by t (a label, a ConfigMap key).
func (w *renderedWalker) fields(m map[string]any, t *schema.Map) error {
	for k, v := range m {
		if w.skipped(k) {
			continue
		}
		if w.collapsed(k) {
			if l, _ := v.([]any); len(l) > 0 {
				n := w.push("f:" + k)
				w.leaf()
				w.pop(n)
			}
			continue
		}
		n := w.push("f:" + k)
		member := v == nil
		if sub, ok := v.(map[string]any); ok && len(sub) == 0 {
			member = true
		}
		tr := schema.TypeRef{}
		if t != nil {
			if f, declared := t.FindField(k); declared {
				tr = f.Type
			} else {
				tr, member = t.ElementType, true
			}
		} else {
			member = true
		}
		before := len(w.paths)
		self, err := w.value(v, tr)
		if err != nil {
			return err
		}
		if (self || member) && len(w.paths) == before {
			w.leaf()
		}
		w.pop(n)
	}
	return nil
}

// items walks the items of an associative list of type t: each is named by its key fields
// (defaults filled in), or by its value in a set, and is owned itself. Items named alike
// (duplicates) are owned together as one leaf.
func (w *renderedWalker) items(l []any, t *schema.List) error {
	names := make([]string, len(l))
	seen := make(map[string]int, len(l))
	for i, item := range l {
		pe, err := w.itemElement(item, t)
		if err != nil {
			return err
		}
		if names[i], err = fieldpath.SerializePathElement(pe); err != nil {
			return err
		}
		seen[names[i]]++
	}
	for i, item := range l {
		n := w.push(names[i])
		switch seen[names[i]] {
		case 0: // a duplicate already recorded
		case 1:
			before := len(w.paths)
			if _, err := w.value(item, t.ElementType); err != nil {
				return err
			}
			if len(w.paths) == before {
				w.leaf()
			}
		default:
			w.leaf()
			seen[names[i]] = 0
		}
		w.pop(n)
	}
	return nil
}

// itemElement names a list item as structured-merge-diff's listItemToPathElement does.
func (w *renderedWalker) itemElement(item any, t *schema.List) (fieldpath.PathElement, error) {
	if len(t.Keys) == 0 {
		switch item.(type) {
		case nil, map[string]any, []any:
			return fieldpath.PathElement{}, errNotInSchema
		}
		v := value.NewValueInterface(item)
		return fieldpath.PathElement{Value: &v}, nil
	}
	m, ok := item.(map[string]any)
	if !ok {
		return fieldpath.PathElement{}, errNotInSchema
	}
	var elemType *schema.Map
	keys := value.FieldList{}
	for _, k := range t.Keys {
		if v, ok := m[k]; ok {
			keys = append(keys, value.Field{Name: k, Value: value.NewValueInterface(v)})
			continue
		}
		if elemType == nil {
			atom, ok := w.schema.Resolve(t.ElementType)
			if !ok || atom.Map == nil {
				return fieldpath.PathElement{}, errNotInSchema
			}
			elemType = atom.Map
		}
		if f, _ := elemType.FindField(k); f.Default != nil {
			keys = append(keys, value.Field{Name: k, Value: value.NewValueInterface(f.Default)})
		}
	}
	if len(keys) == 0 {
		return fieldpath.PathElement{}, errNotInSchema
	}
	keys.Sort()
	return fieldpath.PathElement{Key: &keys}, nil
}
