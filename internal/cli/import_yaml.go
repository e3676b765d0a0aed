package cli

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
)

// document writes w as one YAML document ("---" first) with its comments: a header saying
// where it came from and naming the keys without an equivalent, then each setting. rel turns
// an absolute path into the one to write.
func (w *importedWatch) document(rel func(string) string) ([]byte, error) {
	root := &yamlv3.Node{Kind: yamlv3.MappingNode}
	for _, f := range w.fields {
		value := f.value
		if f.path {
			switch v := value.(type) {
			case string:
				value = rel(v)
			case []string:
				out := make([]string, len(v))
				for i, p := range v {
					out[i] = rel(p)
				}
				value = out
			}
		}
		v, ok := value.(*yamlv3.Node)
		if !ok {
			v = &yamlv3.Node{}
			if err := v.Encode(value); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", w.from, f.key, err)
			}
		}
		if f.flow {
			v.Style = yamlv3.FlowStyle
		}
		if f.line != "" {
			v.LineComment = "# " + f.line
		}
		k := &yamlv3.Node{Kind: yamlv3.ScalarNode, Value: f.key, HeadComment: yamlComment(f.head)}
		root.Content = append(root.Content, k, v)
	}
	head := []string{"Imported from " + w.from + " by bosun import."}
	if len(w.lost) > 0 {
		head = append(head, "No equivalent in bosun:")
		lost := slices.Clone(w.lost)
		slices.SortStableFunc(lost, func(a, b string) int {
			_, la := position(a)
			_, lb := position(b)
			return la - lb
		})
		for _, l := range lost {
			head = append(head, "  "+l)
		}
	}
	doc := &yamlv3.Node{Kind: yamlv3.DocumentNode, HeadComment: yamlComment(strings.Join(head, "\n")), Content: []*yamlv3.Node{root}}
	var b bytes.Buffer
	b.WriteString("---\n")
	enc := yamlv3.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("%s: %w", w.from, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// yamlComment turns lines of text into a YAML comment ("# " before each line).
func yamlComment(text string) string {
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("# "+l, " ")
	}
	return strings.Join(lines, "\n")
}
