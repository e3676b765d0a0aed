package applier

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/renderer"
)

// shapeCase is a file of testdata/shapes: a rendered child, and the managedFields the API
// server recorded after bosun applied it and a hand edit followed (each file says which).
type shapeCase struct {
	Rendered      map[string]any              `json:"rendered"`
	ManagedFields []metav1.ManagedFieldsEntry `json:"managedFields"`
}

func loadShapeCase(tb testing.TB, name string) shapeCase {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "shapes", name+".yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var c shapeCase
	if err := yaml.Unmarshal(data, &c); err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestShapesTellWhetherBosunStillOwnsItsFields(t *testing.T) {
	cases := []struct {
		name, file string
		want       bool
	}{
		{"an unchanged Deployment matches", "deployment-unchanged", true},
		{"an unchanged Service matches: its ports are keyed with the default protocol", "service-unchanged", true},
		{"an unchanged ConfigMap matches", "configmap-unchanged", true},
		{"an unchanged Secret of stringData matches", "secret-unchanged", true},
		{"a container image edited by hand is drift", "deployment-image-edited", false},
		{"an env var's value edited by hand is drift", "deployment-env-value-edited", false},
		{"a container's command (an atomic list) edited by hand is drift", "deployment-args-edited", false},
		{"a container removed by hand is drift", "deployment-container-removed", false},
		{"a Service port renumbered by hand is drift", "service-port-changed", false},
		{"a Service port's targetPort edited by hand is drift", "service-target-port-changed", false},
		{"a ConfigMap key edited by hand is drift", "configmap-data-edited", false},
		{"replicas scaled by hand is drift", "deployment-scaled", false},
		{"an env var added by hand is not drift of bosun's fields", "deployment-env-added", true},
		{"an annotation added by hand is not drift of bosun's fields", "deployment-annotation-added", true},
		{"an unchanged custom resource matches, its shape deduced (gadget-crd.yaml)", "custom-unchanged", true},
		{"a custom resource's atomic map edited by hand is drift", "custom-field-edited", false},
		{"an edit inside a custom resource's list is not seen: the list is one leaf", "custom-list-item-edited", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := loadShapeCase(t, tc.file)
			rendered, managed := RenderedShape(c.Rendered), ManagedShape(c.ManagedFields, FieldManager)
			if got := ShapesMatch(rendered, managed); got != tc.want {
				t.Errorf("ShapesMatch = %v, want %v\nrendered:\n%s\nmanaged:\n%s", got, tc.want, rendered, managed)
			}
		})
	}
}

func TestShapesNeedBosunsApplyEntry(t *testing.T) {
	c := loadShapeCase(t, "deployment-unchanged")
	var bosuns metav1.ManagedFieldsEntry
	for _, e := range c.ManagedFields {
		if e.Manager == FieldManager {
			bosuns = e
		}
	}
	rendered := RenderedShape(c.Rendered)
	with := func(change func(*metav1.ManagedFieldsEntry)) []metav1.ManagedFieldsEntry {
		e := bosuns
		change(&e)
		return []metav1.ManagedFieldsEntry{e}
	}
	cases := []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
	}{
		{"no entry at all", nil},
		{"the entry of another manager", with(func(e *metav1.ManagedFieldsEntry) { e.Manager = "helm" })},
		{"an update entry of bosun (a client-side write)", with(func(e *metav1.ManagedFieldsEntry) { e.Operation = metav1.ManagedFieldsOperationUpdate })},
		{"bosun's entry of the status subresource", with(func(e *metav1.ManagedFieldsEntry) { e.Subresource = "status" })},
		{"an entry that is not JSON", with(func(e *metav1.ManagedFieldsEntry) { e.FieldsV1 = &metav1.FieldsV1{Raw: []byte(`{"f:spec":`)} })},
		{"bosun owns a field it no longer renders", with(func(e *metav1.ManagedFieldsEntry) {
			raw := e.FieldsV1.Raw
			e.FieldsV1 = &metav1.FieldsV1{Raw: append([]byte(`{"f:spec":{"f:paused":{}},`), raw[1:]...)}
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if ShapesMatch(rendered, ManagedShape(tc.entries, FieldManager)) {
				t.Errorf("ShapesMatch = true, want false (managed:\n%s)", ManagedShape(tc.entries, FieldManager))
			}
		})
	}
}

// TestRenderedShapeNamesFieldsAsTheAPIServerDoes checks RenderedShape, which walks a rendered
// object with the schema, against what structured-merge-diff itself (the API server's code)
// makes of it: the leaves of ToFieldSet of the typed object, or of the deduced one for kinds
// client-go does not know. The objects are the children of the vendored public charts.
func TestRenderedShapeNamesFieldsAsTheAPIServerDoes(t *testing.T) {
	charts := []struct{ chart, values string }{
		{"ingress-nginx", ""},
		{"ingress-nginx", "ingress-nginx-hooks"},
		{"ingress-nginx", "ingress-nginx-daemonset-metrics"},
		{"podinfo", "podinfo-hooks"},
		{"podinfo", "podinfo-gateway-tls"},
		{"grafana", "grafana-provisioning"},
		{"grafana", "grafana-statefulset-vpa"},
		{"wordpress", "wordpress-subcharts"},
		{"helm-subchart", "helm-subchart-imports"},
	}
	types := applyconfigurations.NewTypeConverter(scheme.Scheme)
	var objs []*unstructured.Unstructured
	for _, name := range []string{"deployment-unchanged", "service-unchanged", "custom-unchanged"} {
		objs = append(objs, &unstructured.Unstructured{Object: loadShapeCase(t, name).Rendered})
	}
	for _, c := range charts {
		objs = append(objs, renderChart(t, c.chart, c.values)...)
	}
	kinds := map[string]bool{}
	for _, o := range objs {
		want, exact := "", true
		tv, err := types.ObjectToTyped(o, typed.AllowDuplicates)
		if err != nil {
			exact = false
			if tv, err = typed.DeducedParseableType.FromUnstructured(o.Object); err != nil {
				t.Fatalf("%s/%s: %v", o.GetKind(), o.GetName(), err)
			}
		}
		set, err := tv.ToFieldSet()
		if err != nil {
			t.Fatalf("%s/%s: %v", o.GetKind(), o.GetName(), err)
		}
		raw, err := set.ToJSON()
		if err != nil {
			t.Fatal(err)
		}
		// Read as bosun reads managedFields: the same leaves, apart from what the server never
		// records.
		want = ManagedShape([]metav1.ManagedFieldsEntry{{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: &metav1.FieldsV1{Raw: raw}}}, FieldManager)
		if !exact {
			want = deduced + want
		}
		if got := RenderedShape(o.Object); got != want {
			t.Errorf("%s %s/%s: RenderedShape =\n%s\nwant (from structured-merge-diff):\n%s", o.GetAPIVersion(), o.GetKind(), o.GetName(), got, want)
		}
		kinds[o.GetKind()] = true
	}
	if len(kinds) < 20 {
		t.Errorf("the charts rendered only %d kinds: %v", len(kinds), kinds)
	}
}

func renderChart(t *testing.T, chart, values string) []*unstructured.Unstructured {
	t.Helper()
	spec := map[string]any{}
	if values != "" {
		data, err := os.ReadFile(filepath.Join("..", "renderer", "testdata", "charts", "values", values+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &spec); err != nil {
			t.Fatal(err)
		}
	}
	c, err := renderer.LoadChart(filepath.Join("..", "renderer", "testdata", "charts", chart), renderer.ChartOptions{KubeVersion: "v1.37.2"})
	if err != nil {
		t.Fatal(err)
	}
	owner := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Release",
		"metadata": map[string]any{"name": "rel", "namespace": "team-a", "uid": "5f0c3c1e-0000-4000-8000-00000000c4a7"},
		"spec":     spec,
	}}
	objs, err := c.Render(context.Background(), owner)
	if err != nil {
		t.Fatalf("%s with %s: %v", chart, values, err)
	}
	return objs
}
