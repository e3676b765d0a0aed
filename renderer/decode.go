package renderer

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// decodeDocuments turns the output of template name into objects. Documents are numbered as YAML
// numbers them: the text before the first separator is a document only if it holds anything
// besides whitespace and comments.
func decodeDocuments(name string, text []byte) ([]*unstructured.Unstructured, error) {
	return decodeDocumentsWith(name, text, yaml.UnmarshalStrict)
}

// decodeChartDocuments decodes a chart's output as Helm does: a duplicated key keeps the last
// value (bosun's own templates get the strict decoder; charts must render as `helm template`).
func decodeChartDocuments(name string, text []byte) ([]*unstructured.Unstructured, error) {
	return decodeDocumentsWith(name, text, yaml.Unmarshal)
}

// unmarshalYAML is yaml.v2's Unmarshal or UnmarshalStrict, as sigs.k8s.io/yaml's YAMLToJSON and
// YAMLToJSONStrict use them.
type unmarshalYAML func([]byte, any) error

func decodeDocumentsWith(name string, text []byte, unmarshal unmarshalYAML) ([]*unstructured.Unstructured, error) {
	docs := splitDocuments(text)
	first := 1
	if isBlank(docs[0]) {
		first = 0
	}
	var objs []*unstructured.Unstructured
	for i, doc := range docs {
		if isBlank(doc) {
			continue
		}
		decoded, err := decodeDocument(doc, unmarshal)
		if err != nil {
			return nil, &Error{Template: name, Document: i + first, Err: err}
		}
		objs = append(objs, decoded...)
	}
	return objs, nil
}

// splitDocuments splits text on separator lines; the first element is the text before the first
// separator.
func splitDocuments(text []byte) [][]byte {
	var docs [][]byte
	start := 0
	for pos := 0; pos < len(text); {
		end := bytes.IndexByte(text[pos:], '\n')
		next := pos + end + 1
		if end < 0 {
			end, next = len(text)-pos, len(text)
		}
		if isSeparator(text[pos : pos+end]) {
			docs = append(docs, text[start:pos])
			start = next
		}
		pos = next
	}
	return append(docs, text[start:])
}

// isSeparator reports whether line is "---", optionally followed by blanks and a comment.
// "--- {a: 1}" (content on the separator line) is not supported.
func isSeparator(line []byte) bool {
	line = bytes.TrimSuffix(line, []byte("\r"))
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	if len(rest) == 0 {
		return true
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	return len(rest) == 0 || rest[0] == '#'
}

// isBlank reports whether doc holds only whitespace and comment lines.
func isBlank(doc []byte) bool {
	for line := range bytes.SplitSeq(doc, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}

// DecodeDocument decodes one YAML or JSON document into an object, or into the items of a
// v1 List, each of which must have an apiVersion, a kind and a metadata.name. It decodes the
// renderer's output and owners read from files, so both follow the same rules.
func DecodeDocument(doc []byte) ([]*unstructured.Unstructured, error) {
	// Strict, because a duplicated key in a manifest ("labels:" twice) is nearly always a
	// template bug that a lenient decoder would hide by keeping the last one.
	return decodeDocument(doc, yaml.UnmarshalStrict)
}

func decodeDocument(doc []byte, unmarshal unmarshalYAML) ([]*unstructured.Unstructured, error) {
	var y any
	if err := unmarshal(doc, &y); err != nil {
		return nil, err
	}
	// The values JSON would give, integers as int64, like every other unstructured object.
	v, err := jsonValue(y)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object, got %s", describe(v))
	}
	if obj["apiVersion"] != "v1" || obj["kind"] != "List" {
		if err := checkObject(obj); err != nil {
			return nil, err
		}
		return []*unstructured.Unstructured{{Object: obj}}, nil
	}
	items, ok := obj["items"].([]any)
	if !ok && obj["items"] != nil {
		return nil, fmt.Errorf("List items is %s, not a list", describe(obj["items"]))
	}
	objs := make([]*unstructured.Unstructured, 0, len(items))
	for i, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("item %d: want an object, got %s", i+1, describe(item))
		}
		if err := checkObject(m); err != nil {
			return nil, fmt.Errorf("item %d: %w", i+1, err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs, nil
}

// checkObject makes sure obj names what it is and which one it is; everything else is for the
// API server to judge.
func checkObject(obj map[string]any) error {
	var problems []string
	for _, path := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}} {
		field := strings.Join(path, ".")
		v, found, _ := unstructured.NestedFieldNoCopy(obj, path...)
		s, isString := v.(string)
		switch {
		case !found || v == nil:
			problems = append(problems, "missing "+field)
		case !isString:
			problems = append(problems, fmt.Sprintf("%s is %s, not a string", field, describe(v)))
		case s == "":
			problems = append(problems, "empty "+field)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// describe names the JSON type of v for error messages.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}
