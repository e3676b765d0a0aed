package renderer

import (
	"context"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// benchCharts are charts of growing size: bosun's example (3 objects), podinfo and
// ingress-nginx (with its hooks); and the bench's chart that burns CPU on purpose.
var benchCharts = []struct{ name, path, values string }{
	{"site", "../examples/site-chart/chart", ""},
	{"podinfo", "testdata/charts/podinfo", ""},
	{"ingress-nginx", "testdata/charts/ingress-nginx", ""},
	{"cpu (hack/bench)", "../hack/bench/testdata/cpu-chart/chart", ""},
}

func benchOwner(b *testing.B, valuesFile string) *unstructured.Unstructured {
	spec := map[string]any{}
	if valuesFile != "" {
		data, err := os.ReadFile(valuesFile)
		if err != nil {
			b.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &spec); err != nil {
			b.Fatal(err)
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "App",
		"metadata": map[string]any{"name": "web", "namespace": "team-a", "uid": "u"},
		"spec":     spec,
	}}
}

// BenchmarkChartRender is bosun's render of one owner: the chart loaded once, values layered,
// dependencies processed on a copy, Helm's engine, the manifest sorter and decoding.
func BenchmarkChartRender(b *testing.B) {
	for _, bc := range benchCharts {
		b.Run(bc.name, func(b *testing.B) {
			c, err := LoadChart(bc.path, ChartOptions{KubeVersion: "v1.37.2"})
			if err != nil {
				b.Fatal(err)
			}
			owner := benchOwner(b, bc.values)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Render(ctx, owner); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
