package renderer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestTemplatesSeeTheirCluster(t *testing.T) {
	files := map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Name }}-{{ .Cluster.Name }}
data:
  region: {{ .Cluster.Labels.region | default "none" | quote }}
`}
	for _, tc := range []struct {
		ctx        context.Context
		name, data string
	}{
		{context.Background(), "web-local", "none"},
		{WithCluster(context.Background(), &Cluster{Name: "eu-1", Labels: map[string]string{"region": "eu"}}), "web-eu-1", "eu"},
	} {
		got, err := renderFiles(t, tc.ctx, files, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got[0].GetName() != tc.name || got[0].Object["data"].(map[string]any)["region"] != tc.data {
			t.Errorf("got %s with data %v; want %s with region %s", got[0].GetName(), got[0].Object["data"], tc.name, tc.data)
		}
	}
}

func TestChartsSeeTheirClusterCapabilitiesAndLookup(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: '>=1.30.0-0'\n")
	write("templates/cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  cluster: {{ .Cluster.Name }}
  region: {{ .Cluster.Labels.region | default "none" | quote }}
  kube: {{ .Capabilities.KubeVersion.Version }}
  widgets: {{ .Capabilities.APIVersions.Has "example.com/v1/Widget" | quote }}
  found: {{ (lookup "v1" "ConfigMap" .Release.Namespace "x").data | default dict | toJson | quote }}
`)
	c, err := LoadChart(dir, ChartOptions{KubeVersion: "v1.37.2", Lookup: func(context.Context, *unstructured.Unstructured, string, string, string, string) (map[string]any, error) {
		return map[string]any{"data": map[string]any{"from": "hub"}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	owner := chartOwner("web", nil, nil)
	data := func(ctx context.Context) map[string]any {
		t.Helper()
		got, err := c.Render(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		return got[0].Object["data"].(map[string]any)
	}
	if d := data(context.Background()); d["cluster"] != "local" || d["kube"] != "v1.37.2" || d["widgets"] != "false" || d["found"] != `{"from":"hub"}` {
		t.Errorf("hub render: %v", d)
	}
	eu := &Cluster{Name: "eu-1", Key: "eu-1@1", Labels: map[string]string{"region": "eu"}, KubeVersion: "v1.34.1",
		APIVersions: []string{"v1", "example.com/v1", "example.com/v1/Widget"},
		Lookup: func(context.Context, *unstructured.Unstructured, string, string, string, string) (map[string]any, error) {
			return map[string]any{"data": map[string]any{"from": "eu-1"}}, nil
		}}
	for range 2 { // the second render uses the capabilities derived by the first
		if d := data(WithCluster(context.Background(), eu)); d["cluster"] != "eu-1" || d["region"] != "eu" || d["kube"] != "v1.34.1" || d["widgets"] != "true" || d["found"] != `{"from":"eu-1"}` {
			t.Errorf("eu-1 render: %v", d)
		}
	}
	old := &Cluster{Name: "old", Key: "old@1", KubeVersion: "v1.29.0"}
	if _, err := c.Render(WithCluster(context.Background(), old), owner); err == nil || !strings.Contains(err.Error(), "cluster old") || !strings.Contains(err.Error(), "kubeVersion") {
		t.Errorf("render for a cluster the chart does not admit: %v; want an error naming the cluster and kubeVersion", err)
	}
}
