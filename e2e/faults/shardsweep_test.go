package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/internal/testenv"
)

// TestShardedReplicasSweepTheOrphansOfTheirSlots: owners whose finalizer was removed by hand
// while every replica was down leave children in another namespace, which no ownerReference
// reaches. Two sharded replicas started afterwards sweep them as they acquire their slots:
// every orphan is deleted exactly once, by one replica, and no child of a living owner is.
func TestShardedReplicasSweepTheOrphansOfTheirSlots(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "shardsweep")
	elsewhere := env.CreateNamespace(t, "shardsweep-elsewhere")
	watch := elsewhereWatch(t, elsewhere)
	owners := ownerNames("w", 20)
	createOwners(t, ns, owners)
	a, b := startProcess(t, "a", shardArgs(watch, ns)), startProcess(t, "b", shardArgs(watch, ns))
	child := func(owner string) string { return owner + "-elsewhere" }
	testenv.Eventually(t, waitTimeout, func() error { return haveChildren(elsewhere, owners, child) })
	waitShardMap(t, ns, a, b)
	for _, p := range []*testenv.Process{a, b} {
		if err := p.Stop(t); err != nil {
			t.Fatalf("%s exited with %v after SIGTERM", p.Name, err)
		}
	}

	gone, stay := owners[:10], owners[10:]
	for _, name := range gone {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		ri := env.Dynamic.Resource(widgetGVR).Namespace(ns)
		if _, err := ri.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := ri.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		cancel()
	}

	c, d := startProcess(t, "c", shardArgs(watch, ns)), startProcess(t, "d", shardArgs(watch, ns))
	replicas := []*testenv.Process{c, d}
	testenv.Eventually(t, waitTimeout, func() error {
		for _, owner := range gone {
			if err := haveChildren(elsewhere, []string{owner}, child); err == nil {
				return fmt.Errorf("%s's child is still there", owner)
			}
		}
		return nil
	})
	if err := haveChildren(elsewhere, stay, child); err != nil {
		t.Fatalf("the sweep deleted a child of a living owner: %v", err)
	}
	// The lines are written after the deletes: wait for all of them, then look for doubles.
	testenv.Eventually(t, waitTimeout, func() error {
		if n := len(sweptBy(t, replicas)); n < len(gone) {
			return fmt.Errorf("%d orphans logged as swept, want %d", n, len(gone))
		}
		return nil
	})
	swept := sweptBy(t, replicas)
	for _, owner := range gone {
		ref := "ConfigMap/" + elsewhere + "/" + child(owner)
		if who := swept[ref]; len(who) != 1 {
			t.Errorf("%s swept by %v, want exactly one replica", ref, who)
		}
	}
	for _, owner := range stay {
		if who := swept["ConfigMap/"+elsewhere+"/"+child(owner)]; len(who) > 0 {
			t.Errorf("the child of living owner %s was swept by %v", owner, who)
		}
	}
	waitShardMap(t, ns, c, d)
}

// elsewhereWatch writes a watch whose owners each have one ConfigMap in namespace elsewhere.
func elsewhereWatch(t *testing.T, elsewhere string) string {
	t.Helper()
	dir := t.TempDir()
	templates := filepath.Join(dir, "templates")
	if err := os.Mkdir(templates, 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Name }}-elsewhere
  namespace: %s
data:
  owner: {{ .Name | quote }}
`, elsewhere)
	if err := os.WriteFile(filepath.Join(templates, "elsewhere.yaml"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	watch := filepath.Join(dir, "watch.yaml")
	body := fmt.Sprintf(`name: widgets
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
templates: %s
children: {namespaces: [%s]}
resync: 0s
`, templates, elsewhere)
	if err := os.WriteFile(watch, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return watch
}

// haveChildren checks that every owner's child exists in namespace.
func haveChildren(namespace string, owners []string, child func(string) string) error {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	list, err := env.Clientset.CoreV1().ConfigMaps(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var have []string
	for _, cm := range list.Items {
		have = append(have, cm.Name)
	}
	for _, o := range owners {
		if !slices.Contains(have, child(o)) {
			return fmt.Errorf("ConfigMap/%s/%s is missing", namespace, child(o))
		}
	}
	return nil
}

// sweptBy is, by child, the replicas that logged sweeping it.
func sweptBy(t *testing.T, replicas []*testenv.Process) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range replicas {
		for _, l := range p.Lines(t) {
			if l.Text("msg") == "orphan swept" {
				out[l.Text("child")] = append(out[l.Text("child")], p.Name)
			}
		}
	}
	return out
}
