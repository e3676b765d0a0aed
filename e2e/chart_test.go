package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/shard"
	"github.com/bosun-dev/bosun/watcher"
)

var (
	jobGVR = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	podGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// widgetWatchWith is widgetWatch with more settings (YAML lines) added.
func widgetWatchWith(t *testing.T, templates, extra string) string {
	return writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
templates: %s
resync: 0s
%s`, abs(t, templates), extra))
}

func chartWatch(t *testing.T, extra string) string {
	return writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
chart: %s
resync: 0s
%s`, abs(t, "testdata/charts/app"), extra))
}

// TestChartWatchLifecycle runs an unmodified chart per owner: crds/ installed once, the
// pre-install hook Job run to completion before anything else and deleted (hook-succeeded),
// the post-install hook once the rest is Ready, no test hook; then a values edit, a subchart
// turned off (pruned), drift restored, a lookup-kept password, and the owner's deletion.
func TestChartWatchLifecycle(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "chart")
	b := startBosun(t, chartWatch(t, ""), ns)

	// crds/ is applied at start-up, before any owner, and belongs to no owner.
	crd := waitObject(t, crdGVR, "", "gadgets.chart.e2e.bosun.dev", nil)
	if len(crd.GetOwnerReferences()) != 0 {
		t.Errorf("the chart's CRD has owners: %v", crd.GetOwnerReferences())
	}

	create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: web, namespace: %s}
spec: {message: "hi from the owner", replicas: 2}
`, ns))

	// The pre-install hooks go first, in weight order: the ServiceAccount (-5), then the Job
	// (-1, kept), which must have completed before the Deployment was created; the
	// ServiceAccount (hook-succeeded) is deleted once the whole phase succeeded, as in Helm.
	dep := waitObject(t, deployGVR, ns, "web", nil)
	job := waitObject(t, jobGVR, ns, "web-setup", nil)
	done, _, _ := unstructured.NestedString(job.Object, "status", "completionTime")
	if !jobComplete(job) || done == "" || done > dep.GetCreationTimestamp().UTC().Format(time.RFC3339) {
		t.Errorf("the Deployment (created %s) did not wait for the pre-install hook Job to complete (completed %q, status %v)",
			dep.GetCreationTimestamp().UTC().Format(time.RFC3339), done, job.Object["status"])
	}
	saCreated := b.waitLogged(t, 0, "child created", zap.String("child", "ServiceAccount/"+ns+"/web-setup"))
	jobCreated := b.waitLogged(t, saCreated, "child created", zap.String("child", "Job/"+ns+"/web-setup"))
	saDeleted := b.waitLogged(t, jobCreated, "child deleted", zap.String("child", "ServiceAccount/"+ns+"/web-setup"))
	b.waitLogged(t, saDeleted, "child created", zap.String("child", "Deployment/"+ns+"/web"))
	waitGone(t, saGVR, ns, "web-setup")
	if r, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas"); r != 2 {
		t.Errorf("replicas = %d, want the owner's 2", r)
	}
	cm := waitObject(t, configMapGVR, ns, "web-config", nil)
	if msg, _, _ := unstructured.NestedString(cm.Object, "data", "message"); msg != "hi from the owner" {
		t.Errorf("message = %q", msg)
	}
	if cm.GetLabels()["app.kubernetes.io/instance"] != "web" {
		t.Errorf("labels = %v: .Release.Name is not the owner's name", cm.GetLabels())
	}
	waitObject(t, configMapGVR, ns, "web-extra", nil)
	waitObject(t, configMapGVR, ns, "web-installed", nil) // post-install hook, kept
	owner := waitCondition(t, widgetGVR, ns, "web", "Ready", "True", watcher.ReasonReady)
	if got := owner.GetAnnotations()[watcher.AnnotationHooks]; !strings.Contains(got, "installed") {
		t.Errorf("owner's %s = %q, want the install recorded", watcher.AnnotationHooks, got)
	}
	if _, err := get(podGVR, ns, "web-test"); !apierrors.IsNotFound(err) {
		t.Errorf("the test hook Pod was applied (err %v)", err)
	}
	secret := waitObject(t, secretGVR, ns, "web-password", nil)
	password, _, _ := unstructured.NestedString(secret.Object, "data", "password")

	// A values edit updates the children; lookup keeps the password; the Job is not re-run.
	mergePatch(t, widgetGVR, ns, "web", `{"spec":{"message":"changed","extraKey":"x"}}`)
	waitObject(t, configMapGVR, ns, "web-config", func(u *unstructured.Unstructured) error {
		if msg, _, _ := unstructured.NestedString(u.Object, "data", "message"); msg != "changed" {
			return fmt.Errorf("message = %q", msg)
		}
		return nil
	})
	configured := b.waitLogged(t, 0, "child configured", zap.String("child", "ConfigMap/"+ns+"/web-config"))
	b.waitLogged(t, configured, "reconciled", zap.String("owner", ns+"/web"))
	if s, _ := get(secretGVR, ns, "web-password"); s != nil {
		if p, _, _ := unstructured.NestedString(s.Object, "data", "password"); p != password {
			t.Errorf("password rotated on a values edit: %q -> %q (lookup must keep it)", password, p)
		}
	}

	// Turning the subchart off prunes its objects.
	mergePatch(t, widgetGVR, ns, "web", `{"spec":{"extra":{"enabled":false}}}`)
	waitGone(t, configMapGVR, ns, "web-extra")

	// A field bosun renders, edited by hand, is restored.
	mergePatch(t, configMapGVR, ns, "web-config", `{"data":{"message":"hand edit"}}`)
	waitObject(t, configMapGVR, ns, "web-config", func(u *unstructured.Unstructured) error {
		if msg, _, _ := unstructured.NestedString(u.Object, "data", "message"); msg != "changed" {
			return fmt.Errorf("message = %q, want it restored", msg)
		}
		return nil
	})
	if j, err := get(jobGVR, ns, "web-setup"); err != nil || j.GetUID() != job.GetUID() {
		t.Errorf("the pre-install hook Job was re-created or removed on an upgrade (err %v)", err)
	}

	// Deleting the owner runs its pre-delete hook Job to completion before any child goes,
	// deletes its children, hooks included, then runs the post-delete hook; the CRD stays.
	before := len(b.logs.All())
	deleteObject(t, widgetGVR, ns, "web")
	cleanup := b.waitLogged(t, before, "child created", zap.String("child", "Job/"+ns+"/web-cleanup"))
	cleaned := b.waitLogged(t, cleanup, "child deleted", zap.String("child", "Job/"+ns+"/web-cleanup"))
	gone := b.waitLogged(t, cleaned, "child deleted", zap.String("child", "Deployment/"+ns+"/web"))
	b.waitLogged(t, gone, "child created", zap.String("child", "ConfigMap/"+ns+"/web-farewell"))
	for _, e := range b.logs.All()[before:cleaned] {
		if e.Message == "child deleted" && !hasFields(e, []zap.Field{zap.String("child", "Job/"+ns+"/web-cleanup")}) {
			t.Errorf("a child was deleted before the pre-delete hook completed: %v", e.Context)
		}
	}
	waitGone(t, jobGVR, ns, "web-setup")
	for _, name := range []string{"web-config", "web-installed"} {
		waitGone(t, configMapGVR, ns, name)
	}
	waitGone(t, deployGVR, ns, "web")
	waitGone(t, secretGVR, ns, "web-password")
	waitGone(t, widgetGVR, ns, "web")
	waitGone(t, configMapGVR, ns, "web-farewell") // with its owner (ownerReference)
	if _, err := get(crdGVR, "", "gadgets.chart.e2e.bosun.dev"); err != nil {
		t.Errorf("the chart's CRD went with an owner: %v", err)
	}
	// helm.sh/resource-policy: keep — let go, not deleted, and no longer owned (no GC).
	kept := waitObject(t, configMapGVR, ns, "web-keep", func(u *unstructured.Unstructured) error {
		// The shard label goes too: it is applier.Options.OwnerLabels, removed on let-go.
		if l := u.GetLabels(); len(u.GetOwnerReferences()) > 0 || l[applier.LabelOwnerUID] != "" || l[shard.Label] != "" {
			return fmt.Errorf("still owned: %v %v", u.GetOwnerReferences(), u.GetLabels())
		}
		return nil
	})
	if kept.GetDeletionTimestamp() != nil {
		t.Errorf("the kept ConfigMap is being deleted")
	}
}

func jobComplete(job *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(job.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Complete" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// TestChartMigrationFromHelm takes over objects a Helm release created (client-side, field
// manager "helm") without re-creating them, and then removes a field the chart stops rendering.
func TestChartMigrationFromHelm(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "helm-migration")
	ctx := context.Background()
	// As Helm 3 leaves them: its labels and release annotations, fields owned by "helm".
	helmObj := func(manifest string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON([]byte(manifest)); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(ns)
		u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/name": "app", "app.kubernetes.io/instance": "web"})
		u.SetAnnotations(map[string]string{"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": ns})
		return u
	}
	cm := helmObj(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web-config"},"data":{"message":"old","extraKey":"from helm"}}`)
	before, err := env.Dynamic.Resource(configMapGVR).Namespace(ns).Create(ctx, cm, metav1.CreateOptions{FieldManager: "helm"})
	if err != nil {
		t.Fatal(err)
	}

	// Without the key, bosun refuses to take it over.
	refuse := startBosun(t, chartWatch(t, ""), ns)
	create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: web, namespace: %s}
spec: {message: "migrated", extraKey: "kept for now", extra: {enabled: false}}
`, ns))
	waitCondition(t, widgetGVR, ns, "web", "Ready", "False", watcher.ReasonRefused)
	refuse.stop()

	startBosun(t, chartWatch(t, "children: {adoptHelmReleases: true}\n"), ns)
	after := waitObject(t, configMapGVR, ns, "web-config", func(u *unstructured.Unstructured) error {
		if u.GetLabels()[applier.LabelOwnerUID] == "" {
			return fmt.Errorf("not taken over yet: labels %v", u.GetLabels())
		}
		if msg, _, _ := unstructured.NestedString(u.Object, "data", "message"); msg != "migrated" {
			return fmt.Errorf("message = %q", msg)
		}
		return nil
	})
	if after.GetUID() != before.GetUID() {
		t.Errorf("the ConfigMap was re-created (UID %s -> %s), want it adopted in place", before.GetUID(), after.GetUID())
	}
	for _, mf := range after.GetManagedFields() {
		if mf.Manager == "helm" {
			t.Errorf("Helm still owns fields after the take-over: %s", mf.FieldsV1.String())
		}
	}
	// A field the chart stops rendering is removed, although Helm had set it.
	mergePatch(t, widgetGVR, ns, "web", `{"spec":{"extraKey":null}}`)
	waitObject(t, configMapGVR, ns, "web-config", func(u *unstructured.Unstructured) error {
		if v, ok, _ := unstructured.NestedString(u.Object, "data", "extraKey"); ok {
			return fmt.Errorf("extraKey = %q, want it removed", v)
		}
		return nil
	})
}

// TestChartOwnersFailAlone: an owner whose values fail the chart's schema, one whose values
// steer lookup into another tenant's namespace, and one naming an unknown chart each get a
// RenderFailed condition and an Event saying why; an owner that picks a named chart (a .tgz)
// renders with it; the others go on.
func TestChartOwnersFailAlone(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "chart-fail")
	other := env.CreateNamespace(t, "chart-tenant")
	create(t, secretGVR, other, fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":%q},"data":{"password":"c2VjcmV0"}}`, other))
	startBosun(t, chartWatch(t, fmt.Sprintf("charts: {next: %s}\n", abs(t, "testdata/charts/app-0.2.0.tgz"))), ns)

	owner := func(name, annotations, spec string) {
		create(t, widgetGVR, ns, fmt.Sprintf(`{"apiVersion":"e2e.bosun.dev/v1","kind":"Widget","metadata":{"name":%q,"namespace":%q,"annotations":%s},"spec":%s}`, name, ns, annotations, spec))
	}
	owner("bad", `{}`, `{"replicas":"three"}`)
	owner("nosy", `{}`, fmt.Sprintf(`{"peek":{"namespace":%q,"name":"db"}}`, other))
	owner("lost", `{"bosun.dev/chart":"nope"}`, `{}`)
	owner("canary", `{"bosun.dev/chart":"next"}`, `{"message":"canary"}`)
	owner("plain", `{}`, fmt.Sprintf(`{"peek":{"namespace":%q,"name":"db"}}`, ns))

	for name, want := range map[string]string{
		"bad":  "replicas",
		"nosy": "namespace " + other + " is not the owner's",
		"lost": `no chart named "nope"`,
	} {
		u := waitCondition(t, widgetGVR, ns, name, "Ready", "False", watcher.ReasonRenderFailed)
		if _, _, msg := condition(u, "Ready"); !strings.Contains(msg, want) {
			t.Errorf("%s: condition message %q does not say %q", name, msg, want)
		}
		if note := waitEvent(t, ns, name, watcher.ReasonRenderFailed); !strings.Contains(note, want) {
			t.Errorf("%s: Event %q does not say %q", name, note, want)
		}
	}
	if _, err := get(configMapGVR, ns, "nosy-peek"); !apierrors.IsNotFound(err) {
		t.Errorf("an owner read another namespace's Secret through lookup (err %v)", err)
	}

	waitCondition(t, widgetGVR, ns, "canary", "Ready", "True", watcher.ReasonReady)
	cm := waitObject(t, configMapGVR, ns, "canary-config", nil)
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "chartVersion"); v != "0.2.0" {
		t.Errorf("canary rendered with chart version %q, want the named chart's 0.2.0", v)
	}
	waitCondition(t, widgetGVR, ns, "plain", "Ready", "True", watcher.ReasonReady)
	cm = waitObject(t, configMapGVR, ns, "plain-config", nil)
	if _, ok, _ := unstructured.NestedString(cm.Object, "data", "chartVersion"); ok {
		t.Errorf("an owner without the annotation rendered with the named chart")
	}
	peek := waitObject(t, configMapGVR, ns, "plain-peek", nil)
	if found, _, _ := unstructured.NestedString(peek.Object, "data", "found"); found != "no" {
		t.Errorf("lookup in the owner's own namespace: found = %q, want no (there is no Secret db there)", found)
	}
}

// TestMissingKeysInTemplates: optional fields tested with if, with and default render when
// absent; a field printed straight into a child fails the owner naming the key and the line.
func TestMissingKeysInTemplates(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "missing")
	startBosun(t, widgetWatch(t, "testdata/missing"), ns)
	create(t, widgetGVR, ns, fmt.Sprintf(`{"apiVersion":"e2e.bosun.dev/v1","kind":"Widget","metadata":{"name":"ok","namespace":%q},"spec":{"message":"hi"}}`, ns))
	create(t, widgetGVR, ns, fmt.Sprintf(`{"apiVersion":"e2e.bosun.dev/v1","kind":"Widget","metadata":{"name":"typo","namespace":%q},"spec":{"mesage":"hi"}}`, ns))

	cm := waitObject(t, configMapGVR, ns, "ok-optional", nil)
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	if diff := cmp.Diff(map[string]string{"color": "blue", "message": "hi"}, data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	u := waitCondition(t, widgetGVR, ns, "typo", "Ready", "False", watcher.ReasonRenderFailed)
	_, _, msg := condition(u, "Ready")
	for _, want := range []string{"configmap.yaml:13", ".Spec.message"} {
		if !strings.Contains(msg, want) {
			t.Errorf("condition message %q does not name %q", msg, want)
		}
	}
	if _, err := get(configMapGVR, ns, "typo-optional"); !apierrors.IsNotFound(err) {
		t.Errorf("a child was applied with a missing key printed (err %v)", err)
	}
}

var webhookGVR = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"}

// TestIngressNginxHooks runs the real ingress-nginx chart, whose admission webhook needs its
// pre-install certificate Job (and the hook RBAC it runs with) before the controller, and its
// post-install patch Job after: bosun's hook policy runs them in that order, waits for the Jobs
// to complete (also when they delete themselves the moment they complete), deletes the
// hook-succeeded hooks after each phase, and records the install.
func TestIngressNginxHooks(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "ingress")
	b := startBosun(t, writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
chart: %s
children: {clusterScoped: true}
resync: 0s
`, abs(t, "../renderer/testdata/charts/ingress-nginx"))), ns)
	// kwok gives a LoadBalancer Service no address, so it would never be Ready.
	create(t, widgetGVR, ns, fmt.Sprintf(`{"apiVersion":"e2e.bosun.dev/v1","kind":"Widget","metadata":{"name":"edge","namespace":%q},"spec":{"controller":{"service":{"type":"ClusterIP"}}}}`, ns))

	child := func(kind, name string) zap.Field { return zap.String("child", kind+"/"+ns+"/"+name) }
	const prefix = "edge-ingress-nginx-"
	sa := b.waitLogged(t, 0, "child created", child("ServiceAccount", prefix+"admission"))
	create := b.waitLogged(t, sa, "child created", child("Job", prefix+"admission-create"))
	// The Jobs have ttlSecondsAfterFinished: 0: once complete, either bosun (hook-succeeded)
	// or the TTL controller deletes them, whichever comes first; bosun goes on either way.
	controller := b.waitLogged(t, create, "child created", child("Deployment", prefix+"controller"))
	b.waitLogged(t, controller, "child created", child("Job", prefix+"admission-patch"))

	owner := waitCondition(t, widgetGVR, ns, "edge", "Ready", "True", watcher.ReasonReady)
	if got := owner.GetAnnotations()[watcher.AnnotationHooks]; !strings.Contains(got, "installed") {
		t.Errorf("owner's %s = %q, want the install recorded", watcher.AnnotationHooks, got)
	}
	for _, gone := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{jobGVR, prefix + "admission-create"}, {jobGVR, prefix + "admission-patch"}, {saGVR, prefix + "admission"}} {
		waitGone(t, gone.gvr, ns, gone.name)
	}
	waitObject(t, webhookGVR, "", prefix+"admission", nil)

	// Deleting the owner takes its cluster-scoped children with it.
	deleteObject(t, widgetGVR, ns, "edge")
	waitGone(t, widgetGVR, ns, "edge")
	waitGone(t, webhookGVR, "", prefix+"admission")
	waitGone(t, clusterRoleGVR, "", "edge-ingress-nginx")
}

// TestCRDAndItsObjectsInOneRender: a render that holds a CRD and an object of its kind (as
// charts do) converges: the CRD goes first, the object once the CRD is established.
func TestCRDAndItsObjectsInOneRender(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "newkind")
	startBosun(t, widgetWatchWith(t, "testdata/newkind", "children: {clusterScoped: true}\n"), ns)
	create(t, widgetGVR, ns, fmt.Sprintf(`{"apiVersion":"e2e.bosun.dev/v1","kind":"Widget","metadata":{"name":"w1","namespace":%q},"spec":{"color":"red"}}`, ns))

	waitCondition(t, widgetGVR, ns, "w1", "Ready", "True", watcher.ReasonReady)
	thingGVR := schema.GroupVersionResource{Group: "w1.newkind.e2e.bosun.dev", Version: "v1", Resource: "things"}
	thing := waitObject(t, thingGVR, ns, "w1-thing", nil)
	if c, _, _ := unstructured.NestedString(thing.Object, "spec", "color"); c != "red" {
		t.Errorf("color = %q", c)
	}
	deleteObject(t, widgetGVR, ns, "w1")
	waitGone(t, widgetGVR, ns, "w1")
	waitGone(t, crdGVR, "", "things.w1.newkind.e2e.bosun.dev")
}

// TestAdoptNeverTakesAnotherOwnersChild: with children.adopt, two owners that render the same
// child do not take it from each other: the first keeps it, the second is refused.
func TestAdoptNeverTakesAnotherOwnersChild(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "adopt")
	startBosun(t, widgetWatchWith(t, "testdata/shared", "children: {adopt: true}\n"), ns)
	first := create(t, widgetGVR, ns, fmt.Sprintf(`{"apiVersion":"e2e.bosun.dev/v1","kind":"Widget","metadata":{"name":"first","namespace":%q},"spec":{}}`, ns))
	waitCondition(t, widgetGVR, ns, "first", "Ready", "True", watcher.ReasonReady)
	create(t, widgetGVR, ns, fmt.Sprintf(`{"apiVersion":"e2e.bosun.dev/v1","kind":"Widget","metadata":{"name":"second","namespace":%q},"spec":{}}`, ns))
	u := waitCondition(t, widgetGVR, ns, "second", "Ready", "False", watcher.ReasonRefused)
	if _, _, msg := condition(u, "Ready"); !strings.Contains(msg, "belongs to another owner") {
		t.Errorf("message %q", msg)
	}
	cm := waitObject(t, configMapGVR, ns, "shared", nil)
	if cm.GetLabels()[applier.LabelOwnerUID] != string(first.GetUID()) {
		t.Errorf("the shared child was taken by the second owner: labels %v", cm.GetLabels())
	}
	if by, _, _ := unstructured.NestedString(cm.Object, "data", "by"); by != "first" {
		t.Errorf("data.by = %q, want first", by)
	}
}

// TestLookupOfASharedNamespacesSecret: children may go to a shared namespace, but a tenant
// steering lookup there must not read its Secrets (they would be one tpl away from its own
// ConfigMap) unless the watch's lookup.kinds names Secret; its own namespace's it reads.
func TestLookupOfASharedNamespacesSecret(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "lookup-tenant")
	shared := env.CreateNamespace(t, "lookup-shared")
	for _, n := range []string{ns, shared} {
		create(t, secretGVR, n, fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":%q},"data":{"password":"c2VjcmV0"}}`, n))
	}
	create(t, widgetGVR, ns, fmt.Sprintf(`{"apiVersion":"e2e.bosun.dev/v1","kind":"Widget","metadata":{"name":"nosy","namespace":%q},"spec":{"peek":{"namespace":%q,"name":"db"}}}`, ns, shared))
	create(t, widgetGVR, ns, fmt.Sprintf(`{"apiVersion":"e2e.bosun.dev/v1","kind":"Widget","metadata":{"name":"own","namespace":%q},"spec":{"peek":{"namespace":%q,"name":"db"}}}`, ns, ns))

	b := startBosun(t, chartWatch(t, fmt.Sprintf("children: {namespaces: [%s]}\n", shared)), ns)
	const want = "Secrets are read only in the owner's namespace (the watch's lookup.kinds does not name Secret)"
	u := waitCondition(t, widgetGVR, ns, "nosy", "Ready", "False", watcher.ReasonRenderFailed)
	if _, _, msg := condition(u, "Ready"); !strings.Contains(msg, want) || !strings.Contains(msg, shared) {
		t.Errorf("condition message %q does not name the namespace and say %q", msg, want)
	}
	if note := waitEvent(t, ns, "nosy", watcher.ReasonRenderFailed); !strings.Contains(note, want) {
		t.Errorf("Event %q does not say %q", note, want)
	}
	if _, err := get(configMapGVR, ns, "nosy-peek"); !apierrors.IsNotFound(err) {
		t.Errorf("an owner read a shared namespace's Secret through lookup (err %v)", err)
	}
	waitCondition(t, widgetGVR, ns, "own", "Ready", "True", watcher.ReasonReady)
	if found, _, _ := unstructured.NestedString(waitObject(t, configMapGVR, ns, "own-peek", nil).Object, "data", "found"); found != "yes" {
		t.Errorf("lookup of a Secret in the owner's own namespace: found = %q, want yes", found)
	}
	b.stop()

	startBosun(t, chartWatch(t, fmt.Sprintf("children: {namespaces: [%s]}\nlookup: {kinds: [Secret]}\n", shared)), ns)
	waitCondition(t, widgetGVR, ns, "nosy", "Ready", "True", watcher.ReasonReady)
	if found, _, _ := unstructured.NestedString(waitObject(t, configMapGVR, ns, "nosy-peek", nil).Object, "data", "found"); found != "yes" {
		t.Errorf("with lookup.kinds naming Secret: found = %q, want yes", found)
	}
}
