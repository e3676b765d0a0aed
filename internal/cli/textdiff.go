package cli

import (
	"fmt"
	"io"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/applier"
)

// diffContext is the number of unchanged lines shown around each change, as diff -u.
const diffContext = 3

// writeDiff writes the difference of one child as a unified diff of its YAML, from
// "live/<child>" to "bosun/<child>"; a child that does not exist yet is diffed from
// /dev/null, one that would be pruned to /dev/null.
func writeDiff(w io.Writer, d applier.Difference) error {
	from, to := "live/"+d.Ref.String(), "bosun/"+d.Ref.String()
	a, err := yamlText(d.Live)
	if err != nil {
		return fmt.Errorf("%s: %w", d.Ref, err)
	}
	b, err := yamlText(d.Merged)
	if err != nil {
		return fmt.Errorf("%s: %w", d.Ref, err)
	}
	if d.Live == nil {
		from = "/dev/null"
	}
	if d.Merged == nil {
		to = "/dev/null"
	}
	return difflib.WriteUnifiedDiff(w, difflib.UnifiedDiff{
		A:        difflib.SplitLines(a),
		B:        difflib.SplitLines(b),
		FromFile: from,
		ToFile:   to,
		Context:  diffContext,
	})
}

// yamlText is obj as YAML with sorted keys; "" for nil.
func yamlText(obj *unstructured.Unstructured) (string, error) {
	if obj == nil {
		return "", nil
	}
	y, err := yaml.Marshal(obj.Object)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	return string(y), nil
}
