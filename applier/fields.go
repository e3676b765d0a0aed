package applier

import (
	"encoding/json"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Field shapes tell, without a read and without memory of past applies, whether a child is
// still as bosun left it: after an apply, bosun's managedFields entry owns exactly the fields
// of the applied configuration. A field someone else changed (kubectl edit, patch, scale, a
// forced apply) moves to that manager, and a field someone removed leaves bosun's set — either
// way bosun's set no longer has the shape of the rendered object. Shapes follow maps down to
// their leaves and stop at lists, whose element keys only the server's schema knows: an edit
// inside a list element is seen through resourceVersion and generation while bosun runs, but
// not across a restart.

// RenderedShape lists the field paths of a rendered object, in the form ManagedShape lists
// them, for ShapesMatch.
func RenderedShape(obj map[string]any) string {
	var paths []string
	walkRendered(obj, "", &paths)
	return joinPaths(paths)
}

// ShapesMatch reports whether bosun's managedFields entry (managed, from ManagedShape) owns
// exactly the fields of the rendered object (rendered, from RenderedShape). A managed path
// may stop above rendered ones: atomic maps (a Deployment's spec.selector) are owned whole.
func ShapesMatch(rendered, managed string) bool {
	if managed == "" {
		return false
	}
	r, m := strings.Split(rendered, "\n"), strings.Split(managed, "\n")
	return covers(m, r) && covers(r, m)
}

// covers reports whether every path of b equals a path of a, or lies below one, or above one.
func covers(a, b []string) bool {
	for _, pb := range b {
		found := false
		for _, pa := range a {
			if pa == pb || strings.HasPrefix(pb, pa+sep) || strings.HasPrefix(pa, pb+sep) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func walkRendered(m map[string]any, prefix string, paths *[]string) {
	for k, v := range m {
		p := prefix + sep + k
		switch {
		case prefix == "" && (k == "apiVersion" || k == "kind"):
			// identity, not owned fields
		case prefix == sep+"metadata" && (k == "name" || k == "namespace"):
		case v == nil:
		default:
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walkRendered(sub, p, paths)
				continue
			}
			*paths = append(*paths, p)
		}
	}
}

// ManagedShape lists the field paths that manager owns by apply in entries, in the same form
// as RenderedShape; "" when manager has no apply entry on the main resource.
func ManagedShape(entries []metav1.ManagedFieldsEntry, manager string) string {
	for _, e := range entries {
		if e.Manager != manager || e.Operation != metav1.ManagedFieldsOperationApply || e.Subresource != "" || e.FieldsV1 == nil {
			continue
		}
		var set map[string]any
		if json.Unmarshal(e.FieldsV1.Raw, &set) != nil {
			return ""
		}
		var paths []string
		walkManaged(set, "", &paths)
		return joinPaths(paths)
	}
	return ""
}

// walkManaged walks a fieldsV1 set: "f:<name>" is a map field; a field whose members are list
// elements ("k:", "v:", "i:") is a list, a leaf for the shape; "." marks the field itself.
func walkManaged(set map[string]any, prefix string, paths *[]string) {
	for k, v := range set {
		name, ok := strings.CutPrefix(k, "f:")
		if !ok {
			continue
		}
		p := prefix + sep + name
		sub, _ := v.(map[string]any)
		if len(sub) == 0 || isList(sub) {
			*paths = append(*paths, p)
			continue
		}
		walkManaged(sub, p, paths)
	}
}

func isList(set map[string]any) bool {
	for k := range set {
		if strings.HasPrefix(k, "k:") || strings.HasPrefix(k, "v:") || strings.HasPrefix(k, "i:") {
			return true
		}
	}
	return false
}

// sep separates path segments; keys (label keys have dots) cannot contain it.
const sep = "\x00"

func joinPaths(paths []string) string {
	sort.Strings(paths)
	return strings.Join(paths, "\n")
}
