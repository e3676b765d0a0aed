package renderer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// hostileValues are owner values that run template code through a template's or chart's tpl,
// each one stopped by a different limit. wantErr is part of the message; wantIs, when set, is
// an error the result must wrap.
var hostileValues = []struct {
	name    string
	value   string
	wantErr string
	wantIs  error
	ctxErr  bool // the render must stop on its context, not fail as the owner's fault
}{
	{name: "a list past the limit", value: `{{range until 300000000}}x{{end}}`, wantErr: "until: 300000000 elements exceed the limit of 100000"},
	{name: "a string past the budget", value: `{{repeat 300000000 "x"}}`, wantErr: "repeat: 300000000 copies of 1 bytes exceed the limit"},
	{name: "nested loops writing past the budget", value: `{{range until 100000}}{{range until 100000}}xxxxxxxxxx{{end}}{{end}}`, wantIs: errOutputLimit},
	{name: "nested loops writing nothing, for ever", value: `{{range until 100000}}{{range until 100000}}{{range until 100000}}{{end}}{{end}}{{end}}`, wantIs: context.DeadlineExceeded, ctxErr: true},
	{name: "a template that includes itself", value: `{{define "loop"}}{{include "loop" .}}{{end}}{{include "loop" .}}`, wantErr: "loop"},
	// Values built without being written.
	{name: "a string doubled by print", value: `{{$s := "x"}}{{range until 64}}{{$s = print $s $s}}{{end}}{{$s}}`, wantErr: "print: "},
	{name: "a string doubled by cat and b64enc", value: `{{$s := "x"}}{{range until 64}}{{$s = b64enc (cat $s $s)}}{{end}}{{$s}}`, wantErr: "exceed the limit"},
	{name: "a list doubled by concat", value: `{{$l := list 1}}{{range until 64}}{{$l = concat $l $l}}{{end}}{{len $l}}`, wantErr: "concat: a list of"},
	{name: "a shared map serialized", value: `{{$d := dict}}{{range until 40}}{{$d = dict "a" $d "b" $d}}{{end}}{{toYaml $d}}`, wantErr: "toYaml: its arguments exceed the limit"},
	{name: "a replace that squares its input", value: `{{$s := repeat 1000000 "x"}}{{replace "x" $s $s}}`, wantErr: "replace: a result of"},
	{name: "a printf width", value: `{{printf "%900000000d" 1}}`, wantErr: "printf: a width of 900000000"},
}

// chartOwnerRunning makes an owner of the grafana chart whose extraObjects (which the chart
// passes through tpl) holds value.
func chartOwnerRunning(value string) *unstructured.Unstructured {
	return chartOwner("dash", map[string]any{"extraObjects": []any{value}}, nil)
}

// TestAChartRenderIsBoundedWhileItRuns renders a real chart that passes owner values through
// tpl (grafana's extraObjects) with values that would run for ever or allocate gigabytes in
// Helm's own engine: each render stops at its limit, with little memory allocated.
func TestAChartRenderIsBoundedWhileItRuns(t *testing.T) {
	c, err := LoadChart("testdata/charts/grafana", ChartOptions{KubeVersion: "v1.37.2", MaxOutputBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Render(context.Background(), chartOwnerRunning("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}")); err != nil {
		t.Fatalf("a harmless extraObject: %v", err)
	}
	for _, tt := range hostileValues {
		t.Run(tt.name, func(t *testing.T) {
			checkBounded(t, tt.wantErr, tt.wantIs, tt.ctxErr, func(ctx context.Context) error {
				_, err := c.Render(ctx, chartOwnerRunning(tt.value))
				return err
			})
		})
	}
	t.Run("a value that runs itself through tpl", func(t *testing.T) {
		checkBounded(t, fmt.Sprintf("include and tpl nest deeper than %d", MaxIncludeDepth), nil, false, func(ctx context.Context) error {
			_, err := c.Render(ctx, chartOwnerRunning(`{{tpl (index .Values.extraObjects 0) $}}`))
			return err
		})
	})
}

// TestATemplateRenderOfAnOwnersTplIsBounded is the same for plain templates.
func TestATemplateRenderOfAnOwnersTplIsBounded(t *testing.T) {
	r, err := New([]string{"testdata/tpl-renders-strings-from-the-owner/templates"}, Options{MaxOutputBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	owner := func(message string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "example.com/v1", "kind": "Greeting",
			"metadata": map[string]any{"name": "hi", "namespace": "team-a"},
			"spec":     map[string]any{"message": message},
		}}
	}
	for _, tt := range hostileValues {
		t.Run(tt.name, func(t *testing.T) {
			checkBounded(t, tt.wantErr, tt.wantIs, tt.ctxErr, func(ctx context.Context) error {
				_, err := r.Render(ctx, owner(tt.value))
				return err
			})
		})
	}
}

// checkBounded runs render under a 300 ms deadline and checks how it failed, and that it
// allocated a small multiple of the 1 MiB output budget at most (unbounded, each of these
// allocates gigabytes or never returns).
func checkBounded(t *testing.T, wantErr string, wantIs error, ctxErr bool, render func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := render(ctx)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("render succeeded")
	}
	if !strings.Contains(err.Error(), wantErr) {
		t.Errorf("error = %v, want it to contain %q", err, wantErr)
	}
	if wantIs != nil && !errors.Is(err, wantIs) {
		t.Errorf("error = %v, want one wrapping %v", err, wantIs)
	}
	var rerr *Error
	if isOwners := errors.As(err, &rerr); isOwners == ctxErr {
		t.Errorf("error = %v (%T): the owner's fault = %v, want %v", err, err, isOwners, !ctxErr)
	}
	if ctxErr {
		return // the allocations of a loop that ran for the whole deadline say nothing
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("render allocated %d MiB, want at most 64 MiB", alloc>>20)
	}
}

func writeTemplate(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "children.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// manyConfigMaps renders n small ConfigMaps.
const manyConfigMaps = `{{range until 10000}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c-{{.}}}
{{end}}`

func TestAnOwnerRenderingMoreObjectsThanTheCapFails(t *testing.T) {
	r, err := New([]string{writeTemplate(t, manyConfigMaps)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadChart("testdata/charts/grafana", ChartOptions{KubeVersion: "v1.37.2", MaxObjects: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		render  func() ([]*unstructured.Unstructured, error)
		wantErr string
	}{
		{name: "a template, the default cap", render: func() ([]*unstructured.Unstructured, error) {
			return r.Render(context.Background(), chartOwner("many", map[string]any{}, nil))
		}, wantErr: fmt.Sprintf("renders more than %d objects, the limit of children per owner", DefaultMaxObjects)},
		{name: "a chart, a cap of 500", render: func() ([]*unstructured.Unstructured, error) {
			return c.Render(context.Background(), chartOwnerRunning(manyConfigMaps))
		}, wantErr: "renders more than 500 objects, the limit of children per owner"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := tt.render()
			var rerr *Error
			if !errors.As(err, &rerr) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("render = %d objects, %v; want an *Error containing %q", len(objs), err, tt.wantErr)
			}
		})
	}
}

// An owner near the API server's size limit, and one nested deeply, render as any other.
func TestLargeAndDeepOwnersRender(t *testing.T) {
	r, err := New([]string{writeTemplate(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  big: {{ .Spec.big | quote }}\n  deep: {{ .Spec.deep | toJson | quote }}\n")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadChart("testdata/charts/grafana", ChartOptions{KubeVersion: "v1.37.2"})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	deep := map[string]any{"leaf": "x"}
	for range 500 {
		deep = map[string]any{"d": deep}
	}
	spec := map[string]any{"big": big, "deep": deep}
	objs, err := r.Render(context.Background(), chartOwner("big", spec, nil))
	if err != nil || len(objs) != 1 || len(objs[0].Object["data"].(map[string]any)["big"].(string)) != len(big) {
		t.Fatalf("template: %d objects, %v; want the ConfigMap with all of big", len(objs), err)
	}
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "big"}, "data": map[string]any{"big": big}}
	objs, err = c.Render(context.Background(), chartOwner("big", map[string]any{"extraObjects": []any{cm}, "deep": deep}, nil))
	if err != nil {
		t.Fatalf("chart: %v", err)
	}
	found := false
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == "big" {
			found = len(o.Object["data"].(map[string]any)["big"].(string)) == len(big)
		}
	}
	if !found {
		t.Errorf("chart: no ConfigMap big with all of big among %d objects", len(objs))
	}
}
