package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/internal/testenv"
)

// peakRSSBound is the README's bound on bosun's memory while owners' renders run away
// (Sizing): a few times the output budget per worker over bosun's own, with 4 workers here.
const peakRSSBound = 512 << 20

// TestOwnersRunningAwayInARealChart renders the grafana chart (vendored, unmodified), whose
// extraObjects it passes through tpl, for owners whose values run template code that Helm's
// own engine would run for ever or with gigabytes: each owner gets Ready=False, RenderFailed
// and an Event naming the limit it hit; an ordinary owner beside them converges, and bosun's
// peak memory stays within the documented bound.
func TestOwnersRunningAwayInARealChart(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "runaway")
	chart, err := filepath.Abs("../../renderer/testdata/charts/grafana")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "watch.yaml")
	body := fmt.Sprintf(`
name: dashboards
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
chart: %s
values: {rbac: {namespaced: true}, testFramework: {enabled: false}}
workers: 4
resync: 0s
renderTimeout: 2s
`, chart)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	b := startProcess(t, "bosun", bosunArgs(path, ns))

	hostile := map[string]struct{ value, want string }{
		"writes":  {`{{range until 100000}}{{range until 100000}}xxxxxxxxxx{{end}}{{end}}`, "output exceeds the limit of 4194304 bytes"},
		"spins":   {`{{range until 100000}}{{range until 100000}}{{range until 100000}}{{end}}{{end}}{{end}}`, "took longer than renderTimeout (2s)"},
		"lists":   {`{{range until 300000000}}x{{end}}`, "until: 300000000 elements exceed the limit of 100000"},
		"recurse": {`{{tpl (index .Values.extraObjects 0) $}}`, "include and tpl nest deeper than 100"},
		"many":    {"{{range until 10000}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c-{{.}}}\n{{end}}", "renders more than 2000 objects, the limit of children per owner"},
	}
	for name, h := range hostile {
		createWidget(t, ns, name, h.value)
	}
	createWidget(t, ns, "fine", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine-extra}\ndata: {ok: \"yes\"}")

	testenv.Eventually(t, waitTimeout, func() error {
		_, err := env.Dynamic.Resource(configMapGVR).Namespace(ns).Get(context.Background(), "fine-extra", metav1.GetOptions{})
		return err
	})
	for name, h := range hostile {
		testenv.Eventually(t, waitTimeout, func() error {
			w, err := env.Dynamic.Resource(widgetGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if status, reason, msg := readyCondition(w); status != "False" || reason != "RenderFailed" || !strings.Contains(msg, h.want) {
				return fmt.Errorf("%s: Ready %s %s %q, want False RenderFailed saying %q", name, status, reason, msg, h.want)
			}
			return eventSays(ns, name, "RenderFailed", h.want)
		})
	}
	peak := b.PeakRSS(t)
	t.Logf("bosun's peak RSS with %d runaway owners of a real chart: %d MiB (bound %d MiB)", len(hostile), peak>>20, peakRSSBound>>20)
	if peak > peakRSSBound {
		t.Errorf("bosun's peak RSS %d MiB is over the documented bound of %d MiB", peak>>20, peakRSSBound>>20)
	}
	if _, err := env.Dynamic.Resource(configMapGVR).Namespace(ns).Get(context.Background(), "c-0", metav1.GetOptions{}); err == nil {
		t.Errorf("bosun applied a child of the owner over the children cap")
	}
}

func createWidget(t *testing.T, namespace, name, extraObject string) {
	t.Helper()
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "e2e.bosun.dev/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec":     map[string]any{"extraObjects": []any{extraObject}},
	}}
	if _, err := env.Dynamic.Resource(widgetGVR).Namespace(namespace).Create(context.Background(), w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func readyCondition(u *unstructured.Unstructured) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			status, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
			message, _ = m["message"].(string)
		}
	}
	return status, reason, message
}

var eventGVR = schema.GroupVersionResource{Group: "events.k8s.io", Version: "v1", Resource: "events"}

// eventSays fails unless an Event about the named object has the reason and says want.
func eventSays(namespace, name, reason, want string) error {
	list, err := env.Dynamic.Resource(eventGVR).Namespace(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, e := range list.Items {
		regarding, _, _ := unstructured.NestedString(e.Object, "regarding", "name")
		r, _, _ := unstructured.NestedString(e.Object, "reason")
		note, _, _ := unstructured.NestedString(e.Object, "note")
		if regarding == name && r == reason && strings.Contains(note, want) {
			return nil
		}
	}
	return fmt.Errorf("%s: no %s Event saying %q", name, reason, want)
}
