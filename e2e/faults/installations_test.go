package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/testenv"
)

// TestTwoBosunsSplitOneKindBySelector runs two bosun processes as a user would, with nothing
// but their own config files (no --instance): one kind, selectors team=a and team=b, in one
// namespace. Each is restarted twice; at every start it sees the other's owners with bosun's
// finalizer and covered by none of its watches, and must leave them — and their children —
// alone.
func TestTwoBosunsSplitOneKindBySelector(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "split")
	templates, err := filepath.Abs("testdata/three-configmaps")
	if err != nil {
		t.Fatal(err)
	}
	teams := []string{"a", "b"}
	configs := map[string]string{}
	for _, team := range teams {
		dir := t.TempDir()
		configs[team] = filepath.Join(dir, "watch.yaml") // the same file name, as teams do
		body := fmt.Sprintf("watch: {group: e2e.bosun.dev, version: v1, kind: Widget}\nselector: team=%s\ntemplates: %s\nresync: 0s\n", team, templates)
		if err := os.WriteFile(configs[team], []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	widgets := env.Dynamic.Resource(widgetGVR).Namespace(ns)
	const perTeam = 15
	for _, team := range teams {
		for i := range perTeam {
			w := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "e2e.bosun.dev/v1", "kind": "Widget",
				"metadata": map[string]any{"name": fmt.Sprintf("%s-%02d", team, i), "namespace": ns, "labels": map[string]any{"team": team}},
				"spec":     map[string]any{"color": "green"},
			}}
			if _, err := widgets.Create(ctx, w, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	procs := map[string]*testenv.Process{}
	start := func(team string) { procs[team] = startProcess(t, "bosun-"+team, bosunArgs(configs[team], ns)) }
	for _, team := range teams {
		start(team)
	}
	// children: every child's UID, once all 90 exist.
	children := func() map[string]types.UID {
		out := map[string]types.UID{}
		testenv.Eventually(t, waitTimeout, func() error {
			list, err := env.Dynamic.Resource(configMapGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: applier.LabelManagedBy + "=" + applier.ManagedByValue})
			if err != nil {
				return err
			}
			clear(out)
			for _, cm := range list.Items {
				out[cm.GetName()] = cm.GetUID()
			}
			if len(out) != 2*perTeam*3 {
				return fmt.Errorf("%d children, want %d", len(out), 2*perTeam*3)
			}
			return nil
		})
		return out
	}
	before := children()
	for _, team := range teams {
		for range 2 {
			if err := procs[team].Stop(t); err != nil {
				t.Fatalf("bosun-%s: stop: %v", team, err)
			}
			start(team)
			procs[team].WaitLogged(t, waitTimeout, "bosun-"+team, "looked for owners that left the watch while bosun was down")
			procs[team].WaitLogged(t, waitTimeout, "bosun-"+team, "owners that no watch covers belong to other bosun installations; left to them")
			after := children()
			for name, uid := range before {
				if after[name] != uid {
					t.Fatalf("after restarting bosun-%s: child %s was deleted (UID %s, now %q)", team, name, uid, after[name])
				}
			}
		}
	}
	for _, team := range teams {
		procs[team].CheckRunning(t)
	}
}
