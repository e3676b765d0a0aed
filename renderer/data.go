package renderer

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// dot is the template's dot. It is a map so that a misspelled field (.Nmae) is an absent key like
// any other: nil, and an error when printed. Its methods are those Lostromos' templates call on
// their dot (lostromos.go); text/template looks a name up as a method before it looks it up as a
// key, so no key may be named like one.
type dot map[string]any

// templateData builds the template's dot from a copy of the owner: sprig's set, unset and merge
// modify maps in place, and the owner usually lives in an informer cache.
func templateData(owner, values map[string]any) (dot, error) {
	obj := deepCopy(owner).(map[string]any)
	u := &unstructured.Unstructured{Object: obj}
	meta, err := objectField(obj, "metadata")
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	data := dot{
		"Object":     obj,
		"APIVersion": u.GetAPIVersion(),
		"Kind":       u.GetKind(),
		"Name":       u.GetName(),
		"Namespace":  u.GetNamespace(),
		"UID":        string(u.GetUID()),
		"Generation": u.GetGeneration(),
		"Values":     deepCopy(values),
	}
	for key, field := range map[string]struct {
		m          map[string]any
		name, path string
	}{
		"Labels":      {meta, "labels", "metadata.labels"},
		"Annotations": {meta, "annotations", "metadata.annotations"},
		"Spec":        {obj, "spec", "spec"},
		"Status":      {obj, "status", "status"},
		"Data":        {obj, "data", "data"},
	} {
		v, err := objectField(field.m, field.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field.path, err)
		}
		data[key] = v
	}
	return data, nil
}

// objectField returns m[name] as a map: empty if absent or null, an error if not an object.
func objectField(m map[string]any, name string) (map[string]any, error) {
	switch v := m[name].(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return v, nil
	default:
		return nil, fmt.Errorf("want an object, got %s", describe(v))
	}
}

// deepCopy copies the maps and slices of a JSON-like value. Unlike runtime.DeepCopyJSONValue it
// does not panic on other types (an int in a hand-built object); those are shared as they are.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopy(e)
		}
		return c
	}
	return v
}
