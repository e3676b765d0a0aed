package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/testenv"
	"github.com/bosun-dev/bosun/watcher"
)

func TestSiteBecomesReadyWhenItsDeploymentIsAvailable(t *testing.T) {
	installCRD(t, "../examples/site/crd.yaml", "sites.example.bosun.dev")
	ns := env.CreateNamespace(t, "ready")
	startBosun(t, "../examples/site/watch.yaml", ns)
	create(t, siteGVR, ns, fmt.Sprintf(`
apiVersion: example.bosun.dev/v1
kind: Site
metadata: {name: web, namespace: %s}
spec: {message: hi, replicas: 2}
`, ns))

	// kwok runs the pods, so the Deployment really becomes Available and the Site Ready.
	site := waitCondition(t, siteGVR, ns, "web", "Ready", "True", "Ready")
	if s, r, _ := condition(site, "Applied"); s != "True" || r != "Applied" {
		t.Errorf("Applied = %s (%s), want True (Applied)", s, r)
	}
	if g, _, _ := unstructured.NestedInt64(site.Object, "status", "observedGeneration"); g != site.GetGeneration() {
		t.Errorf("observedGeneration = %d, want %d", g, site.GetGeneration())
	}
	kids, _, _ := unstructured.NestedSlice(site.Object, "status", "children")
	want := []any{
		map[string]any{"kind": "ConfigMap", "namespace": ns, "name": "web-content"},
		map[string]any{"kind": "Service", "namespace": ns, "name": "web"},
		map[string]any{"group": "apps", "kind": "Deployment", "namespace": ns, "name": "web"},
	}
	if !jsonEqualT(want, kids) {
		t.Errorf("status.children = %v, want %v", kids, want)
	}

	// A spec change is observed: the new generation is reported once it is Ready again.
	mergePatch(t, siteGVR, ns, "web", `{"spec":{"replicas":3}}`)
	waitObject(t, siteGVR, ns, "web", func(u *unstructured.Unstructured) error {
		g, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		if s, _, msg := condition(u, "Ready"); g != u.GetGeneration() || s != "True" {
			return fmt.Errorf("observedGeneration %d of %d, Ready %s: %s", g, u.GetGeneration(), s, msg)
		}
		return nil
	})
}

func TestChildDeletedByHandIsRecreated(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "drift-del")
	startBosun(t, widgetWatch(t, "testdata/widget/templates-v1"), ns)
	create(t, widgetGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Widget\nmetadata: {name: w, namespace: %s}\n", ns))
	before := waitObject(t, configMapGVR, ns, "w-config", nil)

	deleteObject(t, configMapGVR, ns, "w-config")
	waitObject(t, configMapGVR, ns, "w-config", func(u *unstructured.Unstructured) error {
		if u.GetUID() == before.GetUID() {
			return fmt.Errorf("still the old object")
		}
		return nil
	})
}

func TestChildEditedByHandIsRestoredWithOneWrite(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "drift-edit")
	b := startBosun(t, widgetWatch(t, "testdata/widget/templates-v1"), ns)
	create(t, widgetGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Widget\nmetadata: {name: w, namespace: %s}\nspec: {color: blue}\n", ns))
	waitObject(t, configMapGVR, ns, "w-config", nil)
	b.waitReconciled(t, ns+"/w")
	child, owner := zap.String("child", "ConfigMap/"+ns+"/w-config"), zap.String("owner", ns+"/w")
	mark := b.logs.Len()

	// A hand edit (an update, as kubectl edit makes it) changes bosun's field and adds one
	// of its own.
	cm, err := get(configMapGVR, ns, "w-config")
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(cm.Object, "red", "data", "color")
	_ = unstructured.SetNestedField(cm.Object, "mine", "data", "foreign")
	if _, err := env.Dynamic.Resource(configMapGVR).Namespace(ns).Update(context.Background(), cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	waitObject(t, configMapGVR, ns, "w-config", func(u *unstructured.Unstructured) error {
		data, _, _ := unstructured.NestedStringMap(u.Object, "data")
		if data["color"] != "blue" {
			return fmt.Errorf("data.color = %q, want blue restored", data["color"])
		}
		if data["foreign"] != "mine" {
			return fmt.Errorf("the foreign field data.foreign = %q was not kept", data["foreign"])
		}
		return nil
	})
	// The restore is visible before bosun logs it; the reconcile that restored it ends with a
	// "reconciled" line after the write's (an earlier "reconciled" line says nothing about it).
	restored := b.waitLogged(t, mark, "child configured", child)
	b.waitLogged(t, restored+1, "reconciled", owner)
	writes := 0
	for _, e := range b.logs.All()[mark:] {
		if e.Message == "child configured" && hasFields(e, []zap.Field{child}) {
			writes++
		}
	}
	if writes != 1 {
		t.Errorf("bosun wrote the child %d times to restore it, want 1", writes)
	}
}

// TestAnnotationEditedByHandIsRestored: another manager's annotation on a child whose kind
// counts only spec changes in its generation (a StatefulSet) requeues nothing, so a hand edit
// of an annotation bosun renders must still be noticed — by the field it takes from bosun's
// managedFields entry. (A Deployment counts annotation changes in its generation too.)
func TestAnnotationEditedByHandIsRestored(t *testing.T) {
	installCRD(t, "../examples/site/crd.yaml", "sites.example.bosun.dev")
	ns := env.CreateNamespace(t, "drift-annotation")
	dir := t.TempDir()
	statefulSet := `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Name }}
  annotations: {team: platform}
spec:
  replicas: 0
  selector: {matchLabels: {app: {{ .Name }}}}
  template:
    metadata: {labels: {app: {{ .Name }}}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`
	if err := os.WriteFile(filepath.Join(dir, "statefulset.yaml"), []byte(statefulSet), 0o644); err != nil {
		t.Fatal(err)
	}
	startBosun(t, writeWatch(t, fmt.Sprintf("watch: {group: example.bosun.dev, version: v1, kind: Site}\ntemplates: %s\n", dir)), ns)
	create(t, siteGVR, ns, fmt.Sprintf("apiVersion: example.bosun.dev/v1\nkind: Site\nmetadata: {name: s, namespace: %s}\nspec: {message: one}\n", ns))
	// Settled first, so that no health change of the child's own requeues the owner after the edit.
	waitCondition(t, siteGVR, ns, "s", "Ready", "True", "Ready")

	sts, err := get(statefulSetGVR, ns, "s")
	if err != nil {
		t.Fatal(err)
	}
	annotations := sts.GetAnnotations()
	annotations["team"] = "someone-else"
	annotations["example.com/note"] = "mine"
	sts.SetAnnotations(annotations)
	edited, err := env.Dynamic.Resource(statefulSetGVR).Namespace(ns).Update(context.Background(), sts, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	if err != nil {
		t.Fatal(err)
	}
	if edited.GetGeneration() != sts.GetGeneration() {
		t.Fatalf("the annotation edit changed the StatefulSet's generation (%d → %d): the test needs a kind that does not", sts.GetGeneration(), edited.GetGeneration())
	}
	waitObject(t, statefulSetGVR, ns, "s", func(u *unstructured.Unstructured) error {
		if got := u.GetAnnotations()["team"]; got != "platform" {
			return fmt.Errorf("annotation team = %q, want platform restored", got)
		}
		if got := u.GetAnnotations()["example.com/note"]; got != "mine" {
			return fmt.Errorf("the foreign annotation example.com/note = %q was not kept", got)
		}
		return nil
	})
}

func TestIgnoredFieldIsLeftToOtherManagers(t *testing.T) {
	installCRD(t, "../examples/site/crd.yaml", "sites.example.bosun.dev")
	ns := env.CreateNamespace(t, "ignore")
	startBosun(t, writeWatch(t, fmt.Sprintf(`
watch: {group: example.bosun.dev, version: v1, kind: Site}
templates: %s
values: {defaultImage: "nginx:1.27"}
children:
  ignore:
    - kind: Deployment.apps
      paths: [spec.replicas]
`, abs(t, "../templates/site"))), ns)
	create(t, siteGVR, ns, fmt.Sprintf("apiVersion: example.bosun.dev/v1\nkind: Site\nmetadata: {name: s, namespace: %s}\nspec: {message: one, replicas: 2}\n", ns))
	contentHash := func(u *unstructured.Unstructured) string {
		h, _, _ := unstructured.NestedString(u.Object, "spec", "template", "metadata", "annotations", "example.bosun.dev/content-hash")
		return h
	}
	before := contentHash(waitObject(t, deployGVR, ns, "s", nil))
	if before == "" {
		t.Fatal("Deployment/s: pod template has no content-hash annotation")
	}

	// An autoscaler (here: a hand edit) scales the Deployment; a later change of the Site
	// must not scale it back. The Deployment goes out in a later wave than the ConfigMap, so
	// only its own new content hash says that bosun applied it again.
	mergePatch(t, deployGVR, ns, "s", `{"spec":{"replicas":5}}`)
	mergePatch(t, siteGVR, ns, "s", `{"spec":{"message":"two"}}`)
	waitObject(t, configMapGVR, ns, "s-content", func(u *unstructured.Unstructured) error {
		if html, _, _ := unstructured.NestedString(u.Object, "data", "index.html"); !strings.Contains(html, "two") {
			return fmt.Errorf("not re-rendered yet")
		}
		return nil
	})
	dep := waitObject(t, deployGVR, ns, "s", func(u *unstructured.Unstructured) error {
		if contentHash(u) == before {
			return fmt.Errorf("Deployment/s: not applied with the new message yet (content-hash %s)", before)
		}
		return nil
	})
	if r, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas"); r != 5 {
		t.Errorf("replicas = %d, want the 5 set by another manager", r)
	}
}

// probeWatch is a watch on Probes with a short render timeout.
func probeWatch(t *testing.T, extra string) string {
	return writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Probe}
templates: %s
renderTimeout: 1s
workers: 8
%s`, abs(t, "testdata/probe/templates"), extra))
}

func createProbe(t *testing.T, ns, name, spec string) {
	t.Helper()
	create(t, probeGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Probe\nmetadata: {name: %s, namespace: %s}\nspec: %s\n", name, ns, spec))
}

func TestBadInputIsReportedOnThatOwnerOnlyAndRecovers(t *testing.T) {
	installCRD(t, "testdata/probe/crd.yaml", "probes.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "bad")
	// An object bosun does not manage, that the owner "adopt" would overwrite.
	testenv.ApplyYAML(t, env.RESTConfig(), fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: adopt-cm, namespace: %s}\ndata: {value: theirs}\n", ns))
	startBosun(t, probeWatch(t, ""), ns)

	cases := []struct {
		name, spec, reason, message string
	}{
		{"fail", `{mode: fail}`, "RenderFailed", "spec.mode is fail"},
		{"notyaml", `{mode: notyaml}`, "InvalidOutput", "document 1"},
		{"nokind", `{mode: nokind}`, "InvalidOutput", "missing kind"},
		{"unknownkind", `{mode: unknownkind}`, "UnknownKind", "Later"},
		{"rejected", `{mode: rejected}`, "Rejected", "not a valid key"},
		{"huge", `{mode: huge}`, "RenderFailed", "exceeds the limit"},
		{"slow", `{mode: slow}`, "RenderFailed", "renderTimeout"},
		{"endless", `{mode: endless}`, "RenderFailed", "1000000000"},
		{"clusterrole", `{mode: clusterrole}`, "Refused", "children.clusterScoped"},
		{"othernamespace", `{mode: othernamespace}`, "Refused", "children.namespaces"},
		{"adopt", `{}`, "Refused", "children.adopt"},
	}
	createProbe(t, ns, "good", "{}")
	for _, tc := range cases {
		createProbe(t, ns, tc.name, tc.spec)
	}
	createProbe(t, ns, "immutable", `{frozen: a}`)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := waitCondition(t, probeGVR, ns, tc.name, "Ready", "False", tc.reason)
			if _, r, msg := condition(u, "Applied"); r != tc.reason || !strings.Contains(msg, tc.message) {
				t.Errorf("Applied condition %s: %q, want %s mentioning %q", r, msg, tc.reason, tc.message)
			}
			if note := waitEvent(t, ns, tc.name, tc.reason); !strings.Contains(note, tc.message) {
				t.Errorf("Event note %q does not mention %q", note, tc.message)
			}
		})
	}
	waitCondition(t, probeGVR, ns, "good", "Ready", "True", "Ready")
	waitCondition(t, probeGVR, ns, "immutable", "Ready", "True", "Ready")
	mergePatch(t, probeGVR, ns, "immutable", `{"spec":{"frozen":"b"}}`)
	u := waitCondition(t, probeGVR, ns, "immutable", "Ready", "False", "ImmutableField")
	if _, _, msg := condition(u, "Applied"); !strings.Contains(msg, "recreateOnImmutable") {
		t.Errorf("immutable-field message %q does not say how to opt in to re-creating", msg)
	}
	if cm, _ := get(configMapGVR, ns, "adopt-cm"); cm == nil || cm.GetLabels()[applier.LabelManagedBy] != "" {
		t.Errorf("the unmanaged ConfigMap was taken over: %v", cm)
	}
	if _, err := env.Clientset.RbacV1().ClusterRoles().Get(context.Background(), ns+"-clusterrole-escalate", metav1.GetOptions{}); err == nil {
		t.Error("a tenant's owner created a ClusterRole")
	}

	// Fixing each owner (or the cluster, for the missing kind) clears its condition.
	testenv.ApplyYAML(t, env.RESTConfig(), readFile(t, "testdata/later/crd.yaml"))
	deleteObject(t, configMapGVR, ns, "adopt-cm")
	mergePatch(t, probeGVR, ns, "immutable", `{"spec":{"frozen":"a"}}`)
	for _, tc := range cases {
		if tc.name != "unknownkind" && tc.name != "adopt" {
			mergePatch(t, probeGVR, ns, tc.name, `{"spec":{"mode":"ok"}}`)
		}
	}
	for _, tc := range append(cases, struct{ name, spec, reason, message string }{name: "immutable"}) {
		waitCondition(t, probeGVR, ns, tc.name, "Ready", "True", "Ready")
	}
	// A recovery is announced; a first success is not (it would double the writes of a
	// cold start).
	waitEvent(t, ns, "fail", "Ready")
	if n := countEvents(t, ns, "good", "Ready"); n != 0 {
		t.Errorf("%d Ready Events for an owner that never failed, want 0", n)
	}
}

func TestTenantMayOptInToClusterScopedAndOtherNamespaces(t *testing.T) {
	installCRD(t, "testdata/probe/crd.yaml", "probes.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "optin")
	startBosun(t, probeWatch(t, `
children:
  clusterScoped: true
  namespaces: [kube-system]
  kinds: [ClusterRole.rbac.authorization.k8s.io, ConfigMap]
`), ns)
	createProbe(t, ns, "clusterrole", `{mode: clusterrole}`)
	createProbe(t, ns, "othernamespace", `{mode: othernamespace}`)
	waitCondition(t, probeGVR, ns, "clusterrole", "Ready", "True", "Ready")
	waitCondition(t, probeGVR, ns, "othernamespace", "Ready", "True", "Ready")
	cm := waitObject(t, configMapGVR, "kube-system", "othernamespace-elsewhere", nil)
	if refs := cm.GetOwnerReferences(); len(refs) != 0 {
		t.Errorf("a child in another namespace got ownerReferences %v", refs)
	}
	owner, err := get(probeGVR, ns, "othernamespace")
	if err != nil {
		t.Fatal(err)
	}
	if got := owner.GetAnnotations()[applier.AnnotationAdditionalNamespaces]; got != "kube-system" {
		t.Errorf("additional-namespaces annotation = %q, want kube-system", got)
	}

	// Deleting the owners deletes children that garbage collection cannot reach.
	deleteObject(t, probeGVR, ns, "clusterrole")
	deleteObject(t, probeGVR, ns, "othernamespace")
	waitGone(t, configMapGVR, "kube-system", "othernamespace-elsewhere")
	waitGone(t, clusterRoleGVR, "", ns+"-clusterrole-escalate")
}

func TestOrphansAreSweptOnStart(t *testing.T) {
	installCRD(t, "testdata/probe/crd.yaml", "probes.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "orphan")
	watch := probeWatch(t, "children: {namespaces: [kube-system]}\n")
	b := startBosun(t, watch, ns)
	createProbe(t, ns, "stays", `{mode: othernamespace}`)
	createProbe(t, ns, "goes", `{mode: othernamespace}`)
	waitObject(t, configMapGVR, "kube-system", "goes-elsewhere", nil)
	waitObject(t, configMapGVR, "kube-system", "stays-elsewhere", nil)
	b.waitReconciled(t, ns+"/goes")
	b.stop()

	// While bosun is down, someone removes the finalizer by hand and the owner goes. Its child
	// in another namespace has no ownerReference: only bosun can find it.
	mergePatch(t, probeGVR, ns, "goes", `{"metadata":{"finalizers":null}}`)
	deleteObject(t, probeGVR, ns, "goes")
	waitGone(t, probeGVR, ns, "goes")

	startBosun(t, watch, ns)
	waitGone(t, configMapGVR, "kube-system", "goes-elsewhere")
	if _, err := get(configMapGVR, "kube-system", "stays-elsewhere"); err != nil {
		t.Errorf("the sweep deleted a child whose owner exists: %v", err)
	}
}

func TestMassPruneIsRefused(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "safety")
	b := startBosun(t, writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
templates: %s
safety: {maxDeletes: 2, maxDeletePercent: 10}
`, abs(t, "testdata/widget/templates-v1"))), ns)
	names := []string{"a", "b", "c", "d", "e"}
	createWidgetsWithSecrets(t, b, ns, names)

	// A change that would prune a child of every owner: the first two prunes fit the budget,
	// the rest are refused and reported.
	for _, n := range names {
		mergePatch(t, widgetGVR, ns, n, `{"spec":{"withSecret":false}}`)
	}
	refused := 0
	testenv.Eventually(t, waitTimeout, func() error {
		pruned, blocked := 0, 0
		for _, n := range names {
			u, err := get(widgetGVR, ns, n)
			if err != nil {
				return err
			}
			_, r, _ := condition(u, "Ready")
			if _, err := get(secretGVR, ns, n+"-secret"); err != nil {
				pruned++
			} else if r == "PruneRefused" {
				blocked++
			}
		}
		if pruned+blocked != len(names) {
			return fmt.Errorf("%d pruned, %d refused of %d", pruned, blocked, len(names))
		}
		if pruned != 2 {
			return fmt.Errorf("%d pruned, want 2", pruned)
		}
		refused = blocked
		return nil
	})
	if refused != 3 {
		t.Errorf("%d prunes refused, want 3", refused)
	}
}

func TestTemplateRolloutPausesAfterFailures(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "rollout")
	b := startBosun(t, widgetWatch(t, "testdata/widget/templates-v1"), ns)
	names := []string{"a", "b", "c", "d"}
	for _, n := range names {
		create(t, widgetGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Widget\nmetadata: {name: %s, namespace: %s}\n", n, ns))
	}
	for _, n := range names {
		b.waitReconciled(t, ns+"/"+n)
	}
	u, err := get(widgetGVR, ns, "a")
	if err != nil {
		t.Fatal(err)
	}
	v1 := u.GetAnnotations()[applier.AnnotationTemplateHash]
	if v1 == "" {
		t.Fatal("no template hash recorded on the owner")
	}
	b.stop()

	// A broken template version: the first owner it reaches fails, and the rollout stops
	// there instead of breaking every owner.
	startBosun(t, writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
templates: %s
rollout: {maxInFlight: 1, maxFailures: 1}
`, abs(t, "testdata/widget/templates-broken"))), ns)
	renderFailed := func() ([]string, error) {
		var failed []string
		for _, n := range names {
			u, err := get(widgetGVR, ns, n)
			if err != nil {
				return nil, err
			}
			if _, r, _ := condition(u, "Ready"); r == "RenderFailed" {
				failed = append(failed, n)
			}
		}
		return failed, nil
	}
	var failed []string
	testenv.Eventually(t, waitTimeout, func() error {
		var err error
		if failed, err = renderFailed(); err != nil {
			return err
		}
		if len(failed) == 0 {
			return fmt.Errorf("no owner failed yet")
		}
		return nil
	})
	first := failed[0]
	var paused string
	for _, n := range names {
		if n != first {
			paused = n
			break
		}
	}
	note := waitEvent(t, ns, paused, "RolloutPaused")
	if !strings.Contains(note, first) {
		t.Errorf("RolloutPaused note %q does not name the failed owner %s", note, first)
	}
	// Read again now that the rollout is known to have paused: the first reading was taken
	// the moment one owner had failed, and could not have seen a second.
	if failed, err = renderFailed(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(failed, []string{first}) {
		t.Errorf("owners failed with the broken version: %v, want just %s", failed, first)
	}
	for _, n := range names {
		if n == first {
			continue
		}
		u, err := get(widgetGVR, ns, n)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.GetAnnotations()[applier.AnnotationTemplateHash]; got != v1 {
			t.Errorf("%s: template hash %q, want %q: the paused rollout reached it", n, got, v1)
		}
		if _, err := get(configMapGVR, ns, n+"-config"); err != nil {
			t.Errorf("%s: child gone during a paused rollout: %v", n, err)
		}
	}
}

// jsonEqualT compares two values as JSON documents.
func jsonEqualT(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}

// TestAKindVanishingFromEveryOwnerIsStoppedAcrossRestarts: with the default limits, a change
// that stops rendering a kind for every owner removes it from only a few owners (at least 3,
// at most 10% of those that have it) and is refused for the rest — and a restart does not
// give bosun a fresh budget.
func TestAKindVanishingFromEveryOwnerIsStoppedAcrossRestarts(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "kinds")
	config := widgetWatch(t, "testdata/widget/templates-v1")
	b := startBosun(t, config, ns)
	var names []string
	for i := range 12 {
		names = append(names, fmt.Sprintf("w%02d", i))
	}
	createWidgetsWithSecrets(t, b, ns, names)
	for _, n := range names {
		mergePatch(t, widgetGVR, ns, n, `{"spec":{"withSecret":false}}`)
	}
	count := func() (pruned, refused int, err error) {
		for _, n := range names {
			u, err := get(widgetGVR, ns, n)
			if err != nil {
				return 0, 0, err
			}
			_, r, _ := condition(u, "Ready")
			if _, err := get(secretGVR, ns, n+"-secret"); err != nil {
				pruned++
			} else if r == "PruneRefused" {
				refused++
			}
		}
		return pruned, refused, nil
	}
	testenv.Eventually(t, waitTimeout, func() error {
		pruned, refused, err := count()
		switch {
		case err != nil:
			return err
		case pruned+refused != len(names) || pruned != 3:
			return fmt.Errorf("%d pruned, %d refused of %d; want 3 pruned", pruned, refused, len(names))
		}
		return nil
	})
	u, _ := get(widgetGVR, ns, names[len(names)-1])
	if _, _, msg := condition(u, "Ready"); !strings.Contains(msg, "maxKindRemovalPercent") {
		t.Errorf("the refusal does not name the limit: %q", msg)
	}

	// A new process reads the prunes recorded on the owners: the refused owners stay refused.
	b.stop()
	b2 := startBosun(t, config, ns)
	for _, n := range names {
		if _, err := get(secretGVR, ns, n+"-secret"); err == nil {
			b2.waitLogged(t, 0, "reconcile failed; will retry", zap.String("owner", ns+"/"+n))
		}
	}
	if pruned, _, err := count(); err != nil || pruned != 3 {
		t.Errorf("after a restart %d owners lost their Secret (err %v), want still 3", pruned, err)
	}
}

// TestPausedOwnerIsLeftAloneUntilResumed: bosun.dev/paused suspends an owner's reconciles
// (a hand edit of its child stays), says so in its status and a metric, and resuming restores
// the child.
func TestPausedOwnerIsLeftAloneUntilResumed(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "paused")
	b := startBosun(t, widgetWatch(t, "testdata/widget/templates-v1"), ns)
	create(t, widgetGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Widget\nmetadata: {name: p, namespace: %s}\nspec: {color: red}\n", ns))
	waitCondition(t, widgetGVR, ns, "p", "Ready", "True", watcher.ReasonReady)
	cm := waitObject(t, configMapGVR, ns, "p-config", nil)
	want, _, _ := unstructured.NestedStringMap(cm.Object, "data")

	mergePatch(t, widgetGVR, ns, "p", `{"metadata":{"annotations":{"bosun.dev/paused":"true"}}}`)
	waitCondition(t, widgetGVR, ns, "p", "Ready", "Unknown", watcher.ReasonPaused)
	waitEvent(t, ns, "p", watcher.ReasonPaused)
	at := len(b.logs.All())
	mergePatch(t, configMapGVR, ns, "p-config", `{"data":{"color":"hand"}}`)
	// The edit requeues the owner; the paused owner is looked at and left alone.
	b.waitLogged(t, at, "paused; not reconciled", zap.String("owner", ns+"/p"))
	if got, _ := get(configMapGVR, ns, "p-config"); got != nil {
		if c, _, _ := unstructured.NestedString(got.Object, "data", "color"); c != "hand" {
			t.Errorf("a paused owner's child was restored: color = %q", c)
		}
	}

	mergePatch(t, widgetGVR, ns, "p", `{"metadata":{"annotations":{"bosun.dev/paused":null}}}`)
	waitObject(t, configMapGVR, ns, "p-config", func(u *unstructured.Unstructured) error {
		if got, _, _ := unstructured.NestedStringMap(u.Object, "data"); !cmp.Equal(got, want) {
			return fmt.Errorf("data = %v, want %v", got, want)
		}
		return nil
	})
	waitCondition(t, widgetGVR, ns, "p", "Ready", "True", watcher.ReasonReady)
}

// TestDriftRepairSaysWhichChildAndWhy: a reconcile knows its trigger; repairing a child that
// was changed or deleted by hand records an Event naming it.
func TestDriftRepairSaysWhichChildAndWhy(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "drift-why")
	b := startBosun(t, widgetWatch(t, "testdata/widget/templates-v1"), ns)
	create(t, widgetGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Widget\nmetadata: {name: d, namespace: %s}\nspec: {color: red}\n", ns))
	waitCondition(t, widgetGVR, ns, "d", "Ready", "True", watcher.ReasonReady)
	b.waitLogged(t, 0, "child created", zap.String("child", "ConfigMap/"+ns+"/d-config"), zap.String("trigger", "owner"))

	at := len(b.logs.All())
	mergePatch(t, configMapGVR, ns, "d-config", `{"data":{"color":"hand"}}`)
	b.waitLogged(t, at, "child configured", zap.String("child", "ConfigMap/"+ns+"/d-config"), zap.String("trigger", "child"))
	if note := waitEvent(t, ns, "d", watcher.ReasonDriftRepaired); note != "ConfigMap/"+ns+"/d-config was changed outside bosun; restored it as rendered" {
		t.Errorf("drift Event = %q", note)
	}
	deleteObject(t, configMapGVR, ns, "d-config")
	testenv.Eventually(t, waitTimeout, func() error {
		list, err := env.Clientset.EventsV1().Events(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == watcher.ReasonDriftRepaired && e.Note == "ConfigMap/"+ns+"/d-config was deleted outside bosun; re-created it as rendered" {
				return nil
			}
		}
		return fmt.Errorf("no DriftRepaired Event for the deletion yet")
	})
}

// createWidgetsWithSecrets creates owners that render a Secret each and waits until bosun
// reconciled them all.
func createWidgetsWithSecrets(t *testing.T, b *bosun, ns string, names []string) {
	t.Helper()
	for _, n := range names {
		create(t, widgetGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Widget\nmetadata: {name: %s, namespace: %s}\nspec: {withSecret: true}\n", n, ns))
	}
	for _, n := range names {
		waitObject(t, secretGVR, ns, n+"-secret", nil)
		b.waitReconciled(t, ns+"/"+n)
	}
}

// TestAKindLeavingTheTemplatesWhileBosunWasDownIsStopped: 150 owners have a ServiceAccount;
// bosun stops and starts again with templates that no longer render that kind. With the
// default limits it takes the kind from at most 10% of the owners and refuses the rest
// (PruneRefused), whatever its rollout does meanwhile.
func TestAKindLeavingTheTemplatesWhileBosunWasDownIsStopped(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "kind-leaves")
	b := startBosun(t, widgetWatch(t, "testdata/widget/templates-v1"), ns)
	const owners = 150
	var names []string
	for i := range owners {
		names = append(names, fmt.Sprintf("w%03d", i))
		createWidget(t, ns, names[i], "app: demo")
	}
	for _, n := range names {
		waitChildren(t, ns, n)
		b.waitReconciled(t, ns+"/"+n)
	}
	b.stop()

	only := t.TempDir()
	if err := os.WriteFile(filepath.Join(only, "configmap.yaml"), []byte(readFile(t, "testdata/widget/templates-v1/configmap.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	b2 := startBosun(t, widgetWatch(t, only), ns)
	limit := max(config.MinKindRemovals, config.DefaultMaxKindRemovalPercent*owners/100)
	// The refusals count as the rollout's failures: it pauses, and the owners it has not
	// reached keep their ServiceAccount as the previous templates left it.
	b2.waitLogged(t, 0, "rollout paused")
	pruned, refused := 0, 0
	for _, n := range names {
		if _, err := get(saGVR, ns, n+"-sa"); apierrors.IsNotFound(err) {
			pruned++
			continue
		}
		u, err := get(widgetGVR, ns, n)
		if err != nil {
			t.Fatal(err)
		}
		if _, r, _ := condition(u, "Ready"); r == watcher.ReasonPruneRefused {
			refused++
		}
	}
	t.Logf("after the rollout paused: %d owners lost the kind, %d were refused, %d not reached (limit %d)", pruned, refused, owners-pruned-refused, limit)
	if pruned > limit || refused == 0 {
		t.Errorf("%d owners lost their ServiceAccount and %d were refused; want at most %d lost, and refusals", pruned, refused, limit)
	}
}
