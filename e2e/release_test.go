package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/shard"
)

// released accepts an owner that no longer carries bosun's finalizer.
func released(u *unstructured.Unstructured) error {
	if slices.Contains(u.GetFinalizers(), applier.Finalizer) {
		return fmt.Errorf("%s/%s still has finalizers %v", u.GetNamespace(), u.GetName(), u.GetFinalizers())
	}
	return nil
}

// held accepts an owner that carries bosun's finalizer.
func held(u *unstructured.Unstructured) error {
	if !slices.Contains(u.GetFinalizers(), applier.Finalizer) {
		return fmt.Errorf("%s/%s lacks bosun's finalizer: %v", u.GetNamespace(), u.GetName(), u.GetFinalizers())
	}
	return nil
}

func createWidget(t *testing.T, ns, name, labels string) {
	t.Helper()
	create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: %s, namespace: %s, labels: {%s}}
`, name, ns, labels))
}

func waitChildren(t *testing.T, ns, owner string) {
	t.Helper()
	waitObject(t, configMapGVR, ns, owner+"-config", nil)
	waitObject(t, saGVR, ns, owner+"-sa", nil)
}

func waitChildrenGone(t *testing.T, ns, owner string) {
	t.Helper()
	waitGone(t, configMapGVR, ns, owner+"-config")
	waitGone(t, saGVR, ns, owner+"-sa")
}

func TestOwnerThatLeftTheSelectorWhileBosunWasDownIsReleasedOnStart(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "left-selector")
	watch := writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
selector: tier=web
templates: %s
resync: 0s
`, abs(t, "testdata/widget/templates-v1")))
	b := startBosun(t, watch, ns)
	createWidget(t, ns, "leaves", "tier: web")
	createWidget(t, ns, "stays", "tier: web")
	for _, name := range []string{"leaves", "stays"} {
		waitChildren(t, ns, name)
		waitObject(t, widgetGVR, ns, name, held)
		b.waitReconciled(t, ns+"/"+name)
	}
	b.stop()

	// While bosun is down the owner's labels change: bosun never sees it leave the selector.
	mergePatch(t, widgetGVR, ns, "leaves", `{"metadata":{"labels":{"tier":"db"}}}`)

	startBosun(t, watch, ns)
	waitChildrenGone(t, ns, "leaves")
	waitObject(t, widgetGVR, ns, "leaves", released)
	// Deleting it no longer waits for bosun.
	deleteObject(t, widgetGVR, ns, "leaves")
	waitGone(t, widgetGVR, ns, "leaves")

	// The owner the watch still covers keeps its children and the finalizer.
	waitObject(t, widgetGVR, ns, "stays", held)
	waitChildren(t, ns, "stays")
}

func TestOwnerWhoseNamespaceLeftTheWatchWhileBosunWasDownIsReleasedOnStart(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	kept := env.CreateNamespace(t, "ns-kept")
	dropped := env.CreateNamespace(t, "ns-dropped")
	watchFor := func(namespaces ...string) string {
		return writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
namespaces: [%s]
templates: %s
resync: 0s
`, strings.Join(namespaces, ", "), abs(t, "testdata/widget/templates-v1")))
	}
	b := startBosun(t, watchFor(kept, dropped), "")
	for _, ns := range []string{kept, dropped} {
		createWidget(t, ns, "w", "app: demo")
		waitChildren(t, ns, "w")
		waitObject(t, widgetGVR, ns, "w", held)
		b.waitReconciled(t, ns+"/w")
	}
	b.stop()

	// While bosun is down its config drops a namespace, and the owner there is deleted: it
	// waits in Terminating for bosun's finalizer.
	deleteObject(t, widgetGVR, dropped, "w")
	waitTerminating(t, widgetGVR, dropped, "w")

	startBosun(t, watchFor(kept), "")
	waitChildrenGone(t, dropped, "w")
	waitGone(t, widgetGVR, dropped, "w")

	waitObject(t, widgetGVR, kept, "w", held)
	waitChildren(t, kept, "w")
}

func TestUninstallReleasesEveryOwner(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	a := env.CreateNamespace(t, "uninstall-a")
	bns := env.CreateNamespace(t, "uninstall-b")
	dir := t.TempDir()
	watch := filepath.Join(dir, "widgets.yaml")
	if err := os.WriteFile(watch, []byte(fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
namespaces: [%s, %s]
selector: app=demo
templates: %s
resync: 0s
`, a, bns, abs(t, "testdata/widget/templates-v1"))), 0o644); err != nil {
		t.Fatal(err)
	}
	b := startBosun(t, watch, "")
	owners := map[string][]string{a: {"one", "two"}, bns: {"three"}}
	for ns, names := range owners {
		for _, name := range names {
			createWidget(t, ns, name, "app: demo")
		}
	}
	for ns, names := range owners {
		for _, name := range names {
			waitChildren(t, ns, name)
			waitObject(t, widgetGVR, ns, name, held)
			b.waitReconciled(t, ns+"/"+name)
		}
	}
	b.stop()
	// An owner that left the selector while bosun was down is released too.
	mergePatch(t, widgetGVR, a, "two", `{"metadata":{"labels":{"app":"other"}}}`)

	uninstall := func(t *testing.T, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append([]string{"uninstall", "-c", watch, "--kubeconfig", env.Cluster.KubeconfigPath()}, args...)
		if code := cli.Execute(context.Background(), args, nil, &out, &errOut); code != 0 {
			t.Fatalf("bosun %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
		}
		return out.String()
	}

	out := uninstall(t, "--namespace", a)
	for _, want := range []string{
		"ConfigMap/" + a + "/one-config deleted\n",
		"ServiceAccount/" + a + "/one-sa deleted\n",
		"Widget/" + a + "/one released: 2 children deleted, 0 kept, finalizer removed\n",
		"Widget/" + a + "/two released: 2 children deleted, 0 kept, finalizer removed\n",
		"uninstall: 2 owners released (4 children deleted, 0 kept), 0 with nothing to do\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("uninstall output lacks %q:\n%s", want, out)
		}
	}
	for _, name := range owners[a] {
		waitChildrenGone(t, a, name)
		waitObject(t, widgetGVR, a, name, released)
	}
	// --namespace left the other namespace alone.
	waitObject(t, widgetGVR, bns, "three", held)
	waitChildren(t, bns, "three")

	// Again: nothing more to do.
	out = uninstall(t, "--namespace", a)
	if want := "uninstall: 0 owners released (0 children deleted, 0 kept), 2 with nothing to do\n"; !strings.HasSuffix(out, want) {
		t.Errorf("a second uninstall: output\n%s\nwant it to end with %q", out, want)
	}
	// A released owner is deleted at once.
	deleteObject(t, widgetGVR, a, "one")
	waitGone(t, widgetGVR, a, "one")

	// --keep-children: the children stay, owned by nobody, also once their owner is gone.
	out = uninstall(t, "--keep-children")
	if want := "Widget/" + bns + "/three released: 0 children deleted, 2 kept, finalizer removed\n"; !strings.Contains(out, want) {
		t.Errorf("uninstall --keep-children output lacks %q:\n%s", want, out)
	}
	waitObject(t, widgetGVR, bns, "three", released)
	deleteObject(t, widgetGVR, bns, "three")
	waitGone(t, widgetGVR, bns, "three")
	for gvr, name := range map[schema.GroupVersionResource]string{configMapGVR: "three-config", saGVR: "three-sa"} {
		child, err := get(gvr, bns, name)
		if err != nil {
			t.Errorf("%s %s/%s: %v (kept children must stay)", gvr.Resource, bns, name, err)
			continue
		}
		if refs, l := child.GetOwnerReferences(), child.GetLabels(); len(refs) > 0 ||
			l[applier.LabelOwnerUID] != "" || l[applier.LabelManagedBy] != "" || l[applier.LabelApplySetPartOf] != "" || l[shard.Label] != "" {
			t.Errorf("%s %s/%s is still owned: ownerReferences %v, labels %v", gvr.Resource, bns, name, refs, l)
		}
	}
}

// TestInstallationsSplittingOneKind: two bosun installations split one kind by selector in one
// namespace, as teams do. Each marks the owners it reconciles with its --instance; restarted
// twice each, neither lets go of the other's owners, which its start-up pass sees carrying
// bosun's finalizer and covered by none of its own watches. An owner that moves from one
// selector to the other goes to the other installation without losing its children for good.
func TestInstallationsSplittingOneKind(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "split")
	teams := []string{"a", "b"}
	watches := map[string]string{}
	for _, team := range teams {
		watches[team] = writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
selector: team=%s
templates: %s
resync: 0s
`, team, abs(t, "testdata/widget/templates-v1")))
	}
	start := func(team string) *bosun {
		return startBosunWith(t, watches[team], ns, func(o *cli.RunOptions) { o.Instance = "team-" + team })
	}
	running := map[string]*bosun{}
	for _, team := range teams {
		running[team] = start(team)
	}
	const perTeam = 12
	owners := map[string][]string{}
	for _, team := range teams {
		for i := range perTeam {
			name := fmt.Sprintf("%s-%02d", team, i)
			owners[team] = append(owners[team], name)
			createWidget(t, ns, name, "team: "+team)
		}
	}
	// uids are the children's UIDs: a child deleted and re-created has another.
	uids := map[string]types.UID{}
	for _, team := range teams {
		for _, name := range owners[team] {
			waitChildren(t, ns, name)
			w := waitObject(t, widgetGVR, ns, name, held)
			if got := w.GetAnnotations()[applier.AnnotationInstance]; got != "team-"+team {
				t.Errorf("%s: %s = %q, want team-%s", name, applier.AnnotationInstance, got, team)
			}
			running[team].waitReconciled(t, ns+"/"+name)
			for gvr, child := range map[schema.GroupVersionResource]string{configMapGVR: name + "-config", saGVR: name + "-sa"} {
				u, err := get(gvr, ns, child)
				if err != nil {
					t.Fatal(err)
				}
				uids[child] = u.GetUID()
			}
		}
	}
	untouched := func(team string) {
		t.Helper()
		for _, name := range owners[team] {
			waitObject(t, widgetGVR, ns, name, held)
			for gvr, child := range map[schema.GroupVersionResource]string{configMapGVR: name + "-config", saGVR: name + "-sa"} {
				u, err := get(gvr, ns, child)
				switch {
				case err != nil:
					t.Errorf("team %s's child %s: %v", team, child, err)
				case u.GetUID() != uids[child]:
					t.Errorf("team %s's child %s was deleted and re-created", team, child)
				}
			}
		}
	}
	for _, team := range teams {
		other := teams[0]
		if team == other {
			other = teams[1]
		}
		for range 2 {
			running[team].stop()
			running[team] = start(team)
			// The start-up pass has looked (and found none of its own to let go).
			running[team].waitLogged(t, 0, "looked for owners that left the watch while bosun was down", zap.Int("found", 0))
			running[team].waitReconciled(t, ns+"/"+owners[team][0])
			untouched(other)
			untouched(team)
		}
	}

	// An owner moving from team a's selector to team b's: b takes it (and marks it), a lets
	// it go without releasing what is b's by then.
	moved := owners["a"][0]
	mergePatch(t, widgetGVR, ns, moved, `{"metadata":{"labels":{"team":"b"}}}`)
	waitObject(t, widgetGVR, ns, moved, func(u *unstructured.Unstructured) error {
		if got := u.GetAnnotations()[applier.AnnotationInstance]; got != "team-b" {
			return fmt.Errorf("%s: %s = %q, want team-b", moved, applier.AnnotationInstance, got)
		}
		return held(u)
	})
	running["b"].waitReconciled(t, ns+"/"+moved)
	waitChildren(t, ns, moved)
	waitObject(t, widgetGVR, ns, moved, held)
}
