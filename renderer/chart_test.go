package renderer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func chartOwner(name string, spec map[string]any, annotations map[string]string) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "App",
		"metadata": map[string]any{"name": name, "namespace": "team-a", "uid": "u-1"},
	}}
	if spec != nil {
		o.Object["spec"] = spec
	}
	if annotations != nil {
		o.SetAnnotations(annotations)
	}
	return o
}

func loadBasic(t *testing.T, opts ChartOptions) *Chart {
	t.Helper()
	c, err := LoadChart("testdata/chart/basic", opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func byName(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		m[o.GetKind()+"/"+o.GetName()] = o
	}
	return m
}

func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

func TestChartRendersAReleaseNamedAfterTheOwner(t *testing.T) {
	c := loadBasic(t, ChartOptions{KubeVersion: "v1.37.2", APIVersions: []string{"example.com/v1"}, Values: map[string]any{"message": "from the watch"}})
	got, err := c.Render(context.Background(), chartOwner("web", map[string]any{"message": "{{ .Release.Name }} says hi"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	// Manifests in Helm's install order, then the hooks; no test hook, no NOTES.txt, no crds/.
	if diff := cmp.Diff([]string{"ConfigMap/web-sub", "ConfigMap/web-basic", "Job/web-migrate"}, names(got)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	data, _, _ := unstructured.NestedStringMap(byName(got)["ConfigMap/web-basic"].Object, "data")
	want := map[string]string{
		"message": "web says hi", "namespace": "team-a", "install": "true", "revision": "1", "chart": "1.2.3",
		"kube": "v1.37.2", "example": "yes", "file": "from a file", "template": "basic/templates/configmap.yaml", "password": "generated",
	}
	if diff := cmp.Diff(want, data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	sub, _, _ := unstructured.NestedStringMap(byName(got)["ConfigMap/web-sub"].Object, "data")
	if diff := cmp.Diff(map[string]string{"color": "blue", "team": "platform"}, sub); diff != "" {
		t.Errorf("subchart data (-want +got):\n%s", diff)
	}
}

func TestChartValuesLayers(t *testing.T) {
	tests := []struct {
		name       string
		opts       ChartOptions
		spec       map[string]any
		wantMsg    string
		wantSubOff bool
	}{
		{"values.yaml alone", ChartOptions{}, nil, "hello", false},
		{"the watch's values over values.yaml", ChartOptions{Values: map[string]any{"message": "watch"}}, nil, "watch", false},
		{"the owner's over the watch's", ChartOptions{Values: map[string]any{"message": "watch"}}, map[string]any{"message": "owner"}, "owner", false},
		{"the override over the owner's", ChartOptions{Override: map[string]any{"message": "forced"}}, map[string]any{"message": "owner"}, "forced", false},
		{"a condition turns a subchart off", ChartOptions{}, map[string]any{"sub": map[string]any{"enabled": false}}, "hello", true},
		{"resource shape ignores the spec at the top", ChartOptions{ValuesFrom: ValuesFromResource}, map[string]any{"message": "owner"}, "hello", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := loadBasic(t, tc.opts).Render(context.Background(), chartOwner("web", tc.spec, nil))
			if err != nil {
				t.Fatal(err)
			}
			objs := byName(got)
			if msg, _, _ := unstructured.NestedString(objs["ConfigMap/web-basic"].Object, "data", "message"); msg != tc.wantMsg {
				t.Errorf("message = %q, want %q", msg, tc.wantMsg)
			}
			if _, has := objs["ConfigMap/web-sub"]; has == tc.wantSubOff {
				t.Errorf("subchart rendered = %v, want %v", has, !tc.wantSubOff)
			}
		})
	}
}

func TestChartResourceShape(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/Chart.yaml", "apiVersion: v2\nname: lost\nversion: 0.1.0\n")
	writeFile(t, dir+"/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.resource.name }}\n  namespace: {{ .Values.resource.namespace }}\ndata:\n  size: {{ .Values.resource.spec.size | quote }}\n")
	c, err := LoadChart(dir, ChartOptions{ValuesFrom: ValuesFromResource})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Render(context.Background(), chartOwner("db", map[string]any{"size": "large"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].GetName() != "db" || got[0].GetNamespace() != "team-a" {
		t.Fatalf("got %v", names(got))
	}
	if size, _, _ := unstructured.NestedString(got[0].Object, "data", "size"); size != "large" {
		t.Errorf("size = %q", size)
	}
}

func TestChartSchemaFailsOneOwner(t *testing.T) {
	c := loadBasic(t, ChartOptions{})
	_, err := c.Render(context.Background(), chartOwner("web", map[string]any{"replicas": "three"}, nil))
	var rerr *Error
	if !errors.As(err, &rerr) {
		t.Fatalf("want *Error, got %v", err)
	}
	if !strings.Contains(err.Error(), "replicas") {
		t.Errorf("error does not name the field: %v", err)
	}
	if _, err := c.Render(context.Background(), chartOwner("ok", map[string]any{"replicas": 3}, nil)); err != nil {
		t.Errorf("another owner: %v", err)
	}
}

func TestChartIsUpgradeAndLookup(t *testing.T) {
	c := loadBasic(t, ChartOptions{
		IsUpgrade: func(*unstructured.Unstructured) bool { return true },
		Lookup: func(_ context.Context, owner *unstructured.Unstructured, apiVersion, kind, namespace, name string) (map[string]any, error) {
			if apiVersion == "v1" && kind == "Secret" && namespace == owner.GetNamespace() && name == "pw" {
				return map[string]any{"data": map[string]any{"password": "kept"}}, nil
			}
			return map[string]any{}, nil
		},
	})
	got, err := c.Render(context.Background(), chartOwner("web", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedStringMap(byName(got)["ConfigMap/web-basic"].Object, "data")
	if data["install"] != "false" || data["password"] != "kept" {
		t.Errorf("install = %q, password = %q; want false, kept", data["install"], data["password"])
	}
}

func TestLoadChartFailsAtStartUp(t *testing.T) {
	tests := []struct{ name, path, opts, want string }{
		{"a parse error names the file and line", "testdata/chart/broken", "", "unclosed action started at broken/templates/cm.yaml:6"},
		{"a dependency missing from charts/", "testdata/chart/missingdep", "", "dependencies missing in charts/: common"},
		{"kubeVersion out of range", "testdata/chart/basic", "v1.19.0", `kubeVersion ">=1.20.0-0" does not admit Kubernetes v1.19.0`},
		{"no such chart", "testdata/chart/nope", "", "no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadChart(tc.path, ChartOptions{KubeVersion: tc.opts})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestChartCRDs(t *testing.T) {
	crds, err := loadBasic(t, ChartOptions{}).CRDs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"CustomResourceDefinition/widgets.basic.example.com"}, names(crds)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestChartSetPicksByAnnotation(t *testing.T) {
	def := loadBasic(t, ChartOptions{})
	canary := loadBasic(t, ChartOptions{Values: map[string]any{"message": "canary"}})
	set := NewChartSet(def, map[string]*Chart{"next": canary}, "bosun.dev/chart")
	for _, tc := range []struct {
		ann  map[string]string
		want string
	}{{nil, "hello"}, {map[string]string{"bosun.dev/chart": "next"}, "canary"}} {
		got, err := set.Render(context.Background(), chartOwner("web", nil, tc.ann))
		if err != nil {
			t.Fatal(err)
		}
		if msg, _, _ := unstructured.NestedString(byName(got)["ConfigMap/web-basic"].Object, "data", "message"); msg != tc.want {
			t.Errorf("annotations %v: message = %q, want %q", tc.ann, msg, tc.want)
		}
	}
	_, err := set.Render(context.Background(), chartOwner("web", nil, map[string]string{"bosun.dev/chart": "nope"}))
	var rerr *Error
	if !errors.As(err, &rerr) || !strings.Contains(err.Error(), `no chart named "nope"`) {
		t.Errorf("unknown chart: %v", err)
	}
	if set.Hash() == NewChartSet(def, nil, "bosun.dev/chart").Hash() {
		t.Error("the set's hash ignores its named charts")
	}
}

func TestChartRenderLeavesTheLoadedChartAlone(t *testing.T) {
	c := loadBasic(t, ChartOptions{})
	off := chartOwner("a", map[string]any{"sub": map[string]any{"enabled": false}}, nil)
	if _, err := c.Render(context.Background(), off); err != nil {
		t.Fatal(err)
	}
	got, err := c.Render(context.Background(), chartOwner("b", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := byName(got)["ConfigMap/b-sub"]; !ok {
		t.Errorf("a subchart disabled for one owner stays disabled for the next: %v", names(got))
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestChartOutputDecodesAsHelmDoes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/Chart.yaml", "apiVersion: v2\nname: dup\nversion: 0.1.0\n")
	// A duplicated key: helm template prints it and kubectl applies the last value.
	writeFile(t, dir+"/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  labels:\n    a: one\n    a: two\ndata: {}\n---\n# only a comment\n---\n")
	c, err := LoadChart(dir, ChartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Render(context.Background(), chartOwner("web", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].GetLabels()["a"] != "two" {
		t.Errorf("got %v", got)
	}
}

func TestMayRenderDeleteHooks(t *testing.T) {
	if loadBasic(t, ChartOptions{}).MayRenderDeleteHooks() {
		t.Error("a chart without delete hooks says it may render one: every deletion would render it")
	}
	c, err := LoadChart("../e2e/testdata/charts/app", ChartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.MayRenderDeleteHooks() {
		t.Error("a chart with pre-delete and post-delete hooks says it has none: they would never run")
	}
	set := NewChartSet(loadBasic(t, ChartOptions{}), map[string]*Chart{"app": c}, "bosun.dev/chart")
	if !set.MayRenderDeleteHooks() {
		t.Error("a set is as its charts: a named chart with delete hooks counts")
	}
}
