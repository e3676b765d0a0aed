package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/bosun-dev/bosun/internal/testenv"
	"github.com/bosun-dev/bosun/watcher"
)

// deletionRBAC grants user what bosun needs to run templates-v1 (ConfigMaps and
// ServiceAccounts) for Widgets, or, without serviceAccounts, everything but ServiceAccounts.
func deletionRBAC(user string, serviceAccounts bool) string {
	resources := "[configmaps, events]"
	if serviceAccounts {
		resources = "[configmaps, events, serviceaccounts]"
	}
	return fmt.Sprintf(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: %[1]s}
rules:
  - {apiGroups: [e2e.bosun.dev], resources: [widgets, widgets/status], verbs: ["*"]}
  - {apiGroups: [""], resources: %[2]s, verbs: ["*"]}
  - {apiGroups: [events.k8s.io], resources: [events], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %[1]s}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: %[1]s}]
`, user, resources)
}

// TestDeletingAnOwnerWhoseChildKindBosunMayNotList: bosun loses the right to list one kind of
// an owner's children (ServiceAccounts) and restarts; the owner is deleted. Its deletion cannot
// finish — bosun cannot know those children — and says so at once on the owner, naming the
// kind and the right (not after a 30 s wait per try); once the right is back it finishes.
func TestDeletingAnOwnerWhoseChildKindBosunMayNotList(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "norbac")
	user := "bosun-e2e-" + ns
	testenv.ApplyYAML(t, env.RESTConfig(), deletionRBAC(user, true))
	cfg := env.RESTConfig()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	watch := widgetWatch(t, "testdata/widget/templates-v1")

	b := startBosunAs(t, cfg, watch, ns)
	createWidget(t, ns, "w", "app: demo")
	waitChildren(t, ns, "w")
	b.waitReconciled(t, ns+"/w")
	b.stop()

	testenv.ApplyYAML(t, env.RESTConfig(), deletionRBAC(user, false))
	b = startBosunAs(t, cfg, watch, ns)
	deleteObject(t, widgetGVR, ns, "w")
	const want = "bosun may not list serviceaccounts, so the owner's children of that kind cannot be found (grant bosun's service account list and watch on serviceaccounts)"
	u := waitCondition(t, widgetGVR, ns, "w", "Ready", "False", watcher.ReasonForbidden)
	if _, _, msg := condition(u, "Ready"); !strings.Contains(msg, want) {
		t.Errorf("condition message %q does not say %q", msg, want)
	}
	if note := waitEvent(t, ns, "w", watcher.ReasonForbidden); !strings.Contains(note, want) {
		t.Errorf("Event %q does not say %q", note, want)
	}

	testenv.ApplyYAML(t, env.RESTConfig(), deletionRBAC(user, true))
	waitGone(t, widgetGVR, ns, "w")
	waitGone(t, saGVR, ns, "w-sa")
}

// TestDeletingAnOwnerWhoseChildKindWasRemoved: the CRD of one kind of an owner's children is
// removed (its objects go with it) while bosun runs; deleting the owner then finishes.
func TestDeletingAnOwnerWhoseChildKindWasRemoved(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "nocrd")
	group := ns + ".removed.e2e.bosun.dev"
	crd := fmt.Sprintf(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.%[1]s}
spec:
  group: %[1]s
  names: {kind: Gizmo, listKind: GizmoList, plural: gizmos, singular: gizmo}
  scope: Namespaced
  versions:
    - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
`, group)
	testenv.ApplyYAML(t, env.RESTConfig(), crd)
	testenv.WaitCRDEstablished(t, env.RESTConfig(), "gizmos."+group)
	templates := t.TempDir()
	if err := os.WriteFile(filepath.Join(templates, "children.yaml"), []byte(fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Name }}-config"}
---
apiVersion: %s/v1
kind: Gizmo
metadata: {name: "{{ .Name }}-gizmo"}
`, group)), 0o644); err != nil {
		t.Fatal(err)
	}
	b := startBosun(t, widgetWatch(t, templates), ns)
	createWidget(t, ns, "w", "app: demo")
	waitObject(t, configMapGVR, ns, "w-config", nil)
	b.waitReconciled(t, ns+"/w")

	deleteObject(t, crdGVR, "", "gizmos."+group)
	waitGone(t, crdGVR, "", "gizmos."+group)
	deleteObject(t, widgetGVR, ns, "w")
	waitGone(t, widgetGVR, ns, "w")
	waitGone(t, configMapGVR, ns, "w-config")
}
