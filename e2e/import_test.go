package e2e

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/watcher"
)

// TestImportedHelmOperatorWatchTakesOverTillerRelease migrates a helm-operator of Helm 2's
// time: its watches.yaml goes through bosun import, and bosun, run on the watch it wrote, takes
// over the objects Tiller left (labelled heritage: Tiller and release: OWNER, fields owned by
// the manager "tiller", no Helm 3 annotations) in place: same UIDs, Tiller's fields moved to
// bosun, so that a key only Tiller had written is removed.
func TestImportedHelmOperatorWatchTakesOverTillerRelease(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "tiller-migration")
	ctx := context.Background()

	// As Tiller left the release "web" of the chart testdata/import/legacy-app.
	labels := map[string]string{"app": "legacy-app", "chart": "legacy-app-0.1.0", "release": "web", "heritage": "Tiller"}
	tillerObj := func(gvr schema.GroupVersionResource, manifest string) *unstructured.Unstructured {
		t.Helper()
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON([]byte(manifest)); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(ns)
		u.SetLabels(labels)
		got, err := env.Dynamic.Resource(gvr).Namespace(ns).Create(ctx, u, metav1.CreateOptions{FieldManager: "tiller"})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	cmBefore := tillerObj(configMapGVR, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web-config"},
		"data":{"greeting":"hello from Tiller","legacy":"only Tiller wrote this"}}`)
	deployBefore := tillerObj(deployGVR, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,
		"selector":{"matchLabels":{"app":"legacy-app","release":"web"}},
		"template":{"metadata":{"labels":{"app":"legacy-app","release":"web"}},"spec":{"containers":[{"name":"app","image":"registry.example/legacy:1.0"}]}}}}`)

	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"import", "helm-operator", "testdata/import/watches.yaml", "--env", "IMAGE_REPOSITORY=registry.example/legacy", "--out", dir}
	if code := cli.Execute(ctx, args, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("bosun import: exit %d: %s", code, stderr.String())
	}

	create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: web, namespace: %s}
spec: {greeting: "hello from bosun", image: {tag: "1.1"}}
`, ns))
	startBosun(t, filepath.Join(dir, "widget.yaml"), ns)

	cm := waitObject(t, configMapGVR, ns, "web-config", func(u *unstructured.Unstructured) error {
		if u.GetLabels()[applier.LabelOwnerUID] == "" {
			return fmt.Errorf("not taken over yet: labels %v", u.GetLabels())
		}
		if g, _, _ := unstructured.NestedString(u.Object, "data", "greeting"); g != "hello from bosun" {
			return fmt.Errorf("greeting = %q", g)
		}
		if v, ok, _ := unstructured.NestedString(u.Object, "data", "legacy"); ok {
			return fmt.Errorf("legacy = %q, want it removed: bosun took Tiller's fields over", v)
		}
		return nil
	})
	deploy := waitObject(t, deployGVR, ns, "web", func(u *unstructured.Unstructured) error {
		containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		if len(containers) != 1 {
			return fmt.Errorf("containers = %v", containers)
		}
		if image := containers[0].(map[string]any)["image"]; image != "registry.example/legacy:1.1" {
			return fmt.Errorf("image = %v, want the owner's tag under the imported override", image)
		}
		return nil
	})
	for _, c := range []struct{ before, after *unstructured.Unstructured }{{cmBefore, cm}, {deployBefore, deploy}} {
		ref := c.after.GetKind() + "/" + c.after.GetName()
		if c.after.GetUID() != c.before.GetUID() {
			t.Errorf("%s was re-created (UID %s -> %s), want it taken over in place", ref, c.before.GetUID(), c.after.GetUID())
		}
		if h := c.after.GetLabels()["heritage"]; h != "Helm" {
			t.Errorf("%s: heritage = %q, want the chart's label as bosun renders it (Helm)", ref, h)
		}
		for _, mf := range c.after.GetManagedFields() {
			if mf.Manager == "tiller" {
				t.Errorf("%s: Tiller still owns fields after the take-over: %s", ref, mf.FieldsV1.String())
			}
		}
	}
	waitCondition(t, widgetGVR, ns, "web", "Ready", "True", watcher.ReasonReady)
}
