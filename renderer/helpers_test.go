package renderer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// readYAML decodes a YAML file into JSON types, the way objects arrive from the API server.
func readYAML(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeYAMLMap(t, string(b))
}

func decodeYAMLMap(t testing.TB, s string) map[string]any {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// testOwner is the owner of the inline template tests.
func testOwner(t testing.TB) *unstructured.Unstructured {
	t.Helper()
	return &unstructured.Unstructured{Object: decodeYAMLMap(t, `
apiVersion: example.bosun.dev/v1alpha1
kind: Site
metadata:
  name: web
  namespace: team-a
  uid: 0b7a0d6e-0000-4000-8000-000000000002
  generation: 7
  labels:
    team: a
spec:
  image: nginx
  replicas: 2
  empty: ""
  nothing: null
  nested:
    a:
      b: deep
`)}
}

// writeTemplates writes files (name → text) into a new directory and returns it.
func writeTemplates(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// execText runs the single output template text against testOwner and returns what it wrote.
func execText(t *testing.T, text string, opts Options) (string, error) {
	t.Helper()
	dir := writeTemplates(t, map[string]string{"t.yaml": text})
	r, err := New([]string{dir}, opts)
	if err != nil {
		return "", errorText(err, dir)
	}
	data, err := templateData(testOwner(t).Object, r.values)
	if err != nil {
		t.Fatal(err)
	}
	x, err := r.execution(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := x.execute(r.outputs[0], data)
	return string(out), errorText(err, dir)
}

// renderFiles renders testOwner with the templates in files and returns the children.
func renderFiles(t *testing.T, ctx context.Context, files map[string]string, opts Options) ([]*unstructured.Unstructured, error) {
	t.Helper()
	dir := writeTemplates(t, files)
	r, err := New([]string{dir}, opts)
	if err != nil {
		return nil, errorText(err, dir)
	}
	children, err := r.Render(ctx, testOwner(t))
	return children, errorText(err, dir)
}

// errorText keeps an error's identity but makes its message independent of the temporary
// directory: DIR stands for it.
func errorText(err error, dir string) error {
	if err == nil {
		return nil
	}
	return &stableError{msg: strings.ReplaceAll(err.Error(), dir, "DIR"), err: err}
}

type stableError struct {
	msg string
	err error
}

func (e *stableError) Error() string { return e.msg }
func (e *stableError) Unwrap() error { return e.err }

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
