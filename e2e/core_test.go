package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/applier"
)

// checkChild verifies the labels and ownerReference bosun puts on every child of owner.
func checkChild(t *testing.T, owner, child *unstructured.Unstructured) {
	t.Helper()
	l := child.GetLabels()
	if l[applier.LabelManagedBy] != "bosun" || l[applier.LabelOwnerUID] != string(owner.GetUID()) || l[applier.LabelApplySetPartOf] != applier.ApplySetID(owner) {
		t.Errorf("%s/%s: labels %v lack bosun's managed-by, owner-uid or part-of", child.GetKind(), child.GetName(), l)
	}
	refs := child.GetOwnerReferences()
	if len(refs) != 1 || refs[0].UID != owner.GetUID() || refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("%s/%s: ownerReferences = %+v, want one controller reference to %s", child.GetKind(), child.GetName(), refs, owner.GetUID())
	}
}

func TestSiteExampleCreateUpdateDelete(t *testing.T) {
	installCRD(t, "../examples/site/crd.yaml", "sites.example.bosun.dev")
	ns := env.CreateNamespace(t, "site")
	startBosun(t, "../examples/site/watch.yaml", ns)

	site := create(t, siteGVR, ns, fmt.Sprintf(`
apiVersion: example.bosun.dev/v1
kind: Site
metadata: {name: hello, namespace: %s}
spec: {message: "Hello from bosun!", replicas: 2}
`, ns))

	cm := waitObject(t, configMapGVR, ns, "hello-content", nil)
	if html, _, _ := unstructured.NestedString(cm.Object, "data", "index.html"); !strings.Contains(html, "Hello from bosun!") {
		t.Errorf("ConfigMap data index.html = %q, want the site's message", html)
	}
	dep := waitObject(t, deployGVR, ns, "hello", nil)
	if r, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas"); r != 2 {
		t.Errorf("Deployment replicas = %d, want 2", r)
	}
	svc := waitObject(t, serviceGVR, ns, "hello", nil)
	for _, child := range []*unstructured.Unstructured{cm, dep, svc} {
		checkChild(t, site, child)
	}

	site = waitObject(t, siteGVR, ns, "hello", func(u *unstructured.Unstructured) error {
		if !slices.Contains(u.GetFinalizers(), applier.Finalizer) {
			return fmt.Errorf("finalizers %v lack %s", u.GetFinalizers(), applier.Finalizer)
		}
		return nil
	})
	if got := site.GetAnnotations()[applier.AnnotationContainsGroupKinds]; got != "ConfigMap,Deployment.apps,Service" {
		t.Errorf("inventory annotation = %q", got)
	}
	if got := site.GetLabels()[applier.LabelApplySetID]; got != applier.ApplySetID(site) {
		t.Errorf("applyset id label = %q, want %q", got, applier.ApplySetID(site))
	}

	// A spec change patches the children.
	mergePatch(t, siteGVR, ns, "hello", `{"spec":{"message":"Changed","replicas":3}}`)
	waitObject(t, configMapGVR, ns, "hello-content", func(u *unstructured.Unstructured) error {
		if html, _, _ := unstructured.NestedString(u.Object, "data", "index.html"); !strings.Contains(html, "Changed") {
			return fmt.Errorf("index.html = %q", html)
		}
		return nil
	})
	waitObject(t, deployGVR, ns, "hello", func(u *unstructured.Unstructured) error {
		if r, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); r != 3 {
			return fmt.Errorf("replicas = %d, want 3", r)
		}
		return nil
	})

	// Deleting the owner deletes its children, then lets the owner go.
	deleteObject(t, siteGVR, ns, "hello")
	waitGone(t, siteGVR, ns, "hello")
	if note := waitEvent(t, ns, "hello", "Deleted"); !strings.Contains(note, "deleted 3 children") {
		t.Errorf("Deleted Event note %q does not say what was deleted", note)
	}
	for _, gvr := range []schema.GroupVersionResource{configMapGVR, deployGVR, serviceGVR} {
		name := "hello"
		if gvr == configMapGVR {
			name = "hello-content"
		}
		waitGone(t, gvr, ns, name)
	}
}

func TestChildNoLongerRenderedIsPruned(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "prune")
	startBosun(t, widgetWatch(t, "testdata/widget/templates-v1"), ns)

	create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: w, namespace: %s}
spec: {withSecret: true}
`, ns))
	waitObject(t, secretGVR, ns, "w-secret", nil)
	waitObject(t, configMapGVR, ns, "w-config", nil)

	mergePatch(t, widgetGVR, ns, "w", `{"spec":{"withSecret":false}}`)
	waitGone(t, secretGVR, ns, "w-secret")
	if _, err := get(configMapGVR, ns, "w-config"); err != nil {
		t.Errorf("the child still rendered was touched by prune: %v", err)
	}
	waitInventory(t, ns, "w", "ConfigMap,ServiceAccount")
}

func TestKindRemovedFromTemplatesIsPruned(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "kinds")
	b := startBosun(t, widgetWatch(t, "testdata/widget/templates-v1"), ns)
	create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: w, namespace: %s}
spec: {withSecret: true}
`, ns))
	waitObject(t, saGVR, ns, "w-sa", nil)
	waitObject(t, secretGVR, ns, "w-secret", nil)
	b.stop()

	// A new version of the templates no longer has Secrets or ServiceAccounts at all: only the
	// inventory on the owner tells bosun to look for them.
	startBosun(t, widgetWatch(t, "testdata/widget/templates-v2"), ns)
	waitGone(t, saGVR, ns, "w-sa")
	waitGone(t, secretGVR, ns, "w-secret")
	waitInventory(t, ns, "w", "ConfigMap")
}

func TestOwnerDeletedWhileBosunIsDownIsCleanedUpOnStart(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "offline")
	watch := widgetWatch(t, "testdata/widget/templates-v1")
	b := startBosun(t, watch, ns)
	create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: w, namespace: %s}
`, ns))
	waitObject(t, configMapGVR, ns, "w-config", nil)
	b.waitReconciled(t, ns+"/w")
	b.stop()

	deleteObject(t, widgetGVR, ns, "w")
	// The finalizer holds the owner while bosun is down.
	waitTerminating(t, widgetGVR, ns, "w")

	startBosun(t, watch, ns)
	waitGone(t, configMapGVR, ns, "w-config")
	waitGone(t, saGVR, ns, "w-sa")
	waitGone(t, widgetGVR, ns, "w")
}

func TestOwnersInTwoNamespacesStayIsolated(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	a := env.CreateNamespace(t, "iso-a")
	b := env.CreateNamespace(t, "iso-b")
	watch := writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
namespaces: [%s, %s]
templates: %s
`, a, b, abs(t, "testdata/widget/templates-v1")))
	startBosun(t, watch, "")
	for _, ns := range []string{a, b} {
		create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: same-name, namespace: %s}
spec: {color: %s}
`, ns, ns))
	}
	for _, ns := range []string{a, b} {
		owner, err := get(widgetGVR, ns, "same-name")
		if err != nil {
			t.Fatal(err)
		}
		cm := waitObject(t, configMapGVR, ns, "same-name-config", nil)
		checkChild(t, owner, cm)
		if got, _, _ := unstructured.NestedString(cm.Object, "data", "color"); got != ns {
			t.Errorf("%s: color = %q: rendered from the other namespace's owner", ns, got)
		}
	}

	deleteObject(t, widgetGVR, a, "same-name")
	waitGone(t, configMapGVR, a, "same-name-config")
	waitGone(t, widgetGVR, a, "same-name")
	if _, err := get(configMapGVR, b, "same-name-config"); err != nil {
		t.Errorf("deleting the owner in %s touched %s: %v", a, b, err)
	}
}

func TestCoreKindWatch(t *testing.T) {
	ns := env.CreateNamespace(t, "core")
	b := startBosun(t, "../examples/expose/watch.yaml", ns)
	create(t, configMapGVR, ns, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: shop, namespace: %s, labels: {bosun.dev/expose: "true"}}
data: {app: shop, port: "8080"}
`, ns))
	create(t, configMapGVR, ns, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: private, namespace: %s}
data: {app: private}
`, ns))
	svc := waitObject(t, serviceGVR, ns, "shop-exposed", nil)
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(ports) != 1 || ports[0].(map[string]any)["port"] != int64(8080) {
		t.Errorf("Service ports = %v, want port 8080", ports)
	}
	owner, _ := get(configMapGVR, ns, "shop")
	checkChild(t, owner, svc)

	// Once the label is removed the ConfigMap is no longer bosun's: its Service goes, and so
	// does the finalizer, or the ConfigMap could never be deleted.
	mergePatch(t, configMapGVR, ns, "shop", `{"metadata":{"labels":{"bosun.dev/expose":null}}}`)
	waitGone(t, serviceGVR, ns, "shop-exposed")
	waitObject(t, configMapGVR, ns, "shop", func(u *unstructured.Unstructured) error {
		if slices.Contains(u.GetFinalizers(), applier.Finalizer) {
			return fmt.Errorf("finalizer still there")
		}
		return nil
	})
	if _, err := get(serviceGVR, ns, "private-exposed"); err == nil {
		t.Error("an unlabelled ConfigMap got a Service")
	}
	// The API server runs API Priority and Fairness: bosun leaves pacing to it.
	if starts := b.logs.FilterMessage("starting").All(); len(starts) != 1 || starts[0].ContextMap()["qps"] != float32(-1) {
		t.Errorf("client-side rate limit at start: %v, want qps -1 (none) against an APF server", starts)
	}
}

func TestRestartWithNothingChangedChangesNothing(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	installCRD(t, "../examples/site/crd.yaml", "sites.example.bosun.dev")
	ns := env.CreateNamespace(t, "restart")
	dir := t.TempDir()
	for name, body := range map[string]string{
		"widgets.yaml": fmt.Sprintf("watch: {group: e2e.bosun.dev, version: v1, kind: Widget}\ntemplates: %s\n", abs(t, "testdata/widget/templates-v1")),
		"sites.yaml":   fmt.Sprintf("watch: {group: example.bosun.dev, version: v1, kind: Site}\ntemplates: %s\nvalues: {defaultImage: nginx}\n", abs(t, "../templates/site")),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := startBosun(t, dir, ns)
	for _, name := range []string{"one", "two"} {
		create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: %s, namespace: %s}
spec: {withSecret: true}
`, name, ns))
	}
	create(t, siteGVR, ns, fmt.Sprintf("apiVersion: example.bosun.dev/v1\nkind: Site\nmetadata: {name: web, namespace: %s}\nspec: {message: hi}\n", ns))
	for _, name := range []string{"one", "two"} {
		waitObject(t, secretGVR, ns, name+"-secret", nil)
		b.waitReconciled(t, ns+"/"+name)
	}
	waitCondition(t, siteGVR, ns, "web", "Ready", "True", "Ready")
	b.stop()
	before := versions(t, ns)

	b = startBosun(t, dir, ns)
	for _, name := range []string{"one", "two", "web"} {
		b.waitReconciled(t, ns+"/"+name)
	}
	b.stop()
	if d := cmp.Diff(before, versions(t, ns)); d != "" {
		t.Errorf("a restart with nothing changed wrote objects (resourceVersions -before +after):\n%s", d)
	}
	// Not even a no-op apply: every child was known to be as bosun left it.
	for _, msg := range []string{"child created", "child configured", "child unchanged"} {
		for _, e := range b.logs.FilterMessage(msg).All() {
			t.Errorf("after the restart: %s %v", msg, e.ContextMap()["child"])
		}
	}
}

// versions maps every owner and child in ns to its resourceVersion.
func versions(t *testing.T, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, gvr := range []schema.GroupVersionResource{widgetGVR, siteGVR, configMapGVR, secretGVR, saGVR, deployGVR, serviceGVR} {
		list, err := env.Dynamic.Resource(gvr).Namespace(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range list.Items {
			out[gvr.Resource+"/"+item.GetName()] = item.GetResourceVersion()
		}
	}
	return out
}

// waitInventory waits until the Widget's ApplySet inventory names exactly kinds.
func waitInventory(t *testing.T, ns, name, kinds string) {
	t.Helper()
	waitObject(t, widgetGVR, ns, name, func(u *unstructured.Unstructured) error {
		if got := u.GetAnnotations()[applier.AnnotationContainsGroupKinds]; got != kinds {
			return fmt.Errorf("inventory = %q, want %s", got, kinds)
		}
		return nil
	})
}
