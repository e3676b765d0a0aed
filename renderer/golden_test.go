package renderer

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const siteCase = "testdata/site-renders-configmap-deployment-and-service"

// Each directory in testdata is a case: templates/, owner.yaml, optional values.yaml, and
// want.yaml, the children as a YAML stream. testdata/chart* belong to the chart tests.
func TestRenderMatchesGoldenFiles(t *testing.T) {
	cases, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() || strings.HasPrefix(c.Name(), "chart") {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", c.Name())
			r := newCaseRenderer(t, dir)
			children, err := r.Render(context.Background(), &unstructured.Unstructured{Object: readYAML(t, filepath.Join(dir, "owner.yaml"))})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got := marshalStream(t, children)
			golden := filepath.Join(dir, "want.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("children differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func newCaseRenderer(t testing.TB, dir string) *Renderer {
	t.Helper()
	var values map[string]any
	if _, err := os.Stat(filepath.Join(dir, "values.yaml")); err == nil {
		values = readYAML(t, filepath.Join(dir, "values.yaml"))
	}
	r, err := New([]string{filepath.Join(dir, "templates")}, Options{Values: values})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func marshalStream(t testing.TB, objs []*unstructured.Unstructured) string {
	t.Helper()
	docs := make([]string, len(objs))
	for i, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = string(b)
	}
	return strings.Join(docs, "---\n")
}

func BenchmarkRender(b *testing.B) {
	r := newCaseRenderer(b, siteCase)
	owner := &unstructured.Unstructured{Object: readYAML(b, filepath.Join(siteCase, "owner.yaml"))}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(ctx, owner); err != nil {
			b.Fatal(err)
		}
	}
}
