package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// TestDriftInListItemsWhileBosunWasDownIsRestoredOnStart edits fields inside list items while
// bosun is stopped, as kubectl edit does (patches by the field manager kubectl-edit): a
// container's image, a Service port's targetPort, and an env var added by hand. On start bosun
// restores the two fields it renders with one write per child, keeps the env var, and does not
// touch the ConfigMap nobody edited; a restart after that, with nothing changed, writes nothing.
func TestDriftInListItemsWhileBosunWasDownIsRestoredOnStart(t *testing.T) {
	installCRD(t, "../examples/site/crd.yaml", "sites.example.bosun.dev")
	ns := env.CreateNamespace(t, "drift-restart")
	config := writeWatch(t, fmt.Sprintf("watch: {group: example.bosun.dev, version: v1, kind: Site}\ntemplates: %s\nvalues: {defaultImage: \"nginx:1.27\"}\n",
		abs(t, "../templates/site")))
	b := startBosun(t, config, ns)
	create(t, siteGVR, ns, fmt.Sprintf("apiVersion: example.bosun.dev/v1\nkind: Site\nmetadata: {name: web, namespace: %s}\nspec: {message: hi}\n", ns))
	waitCondition(t, siteGVR, ns, "web", "Ready", "True", "Ready")
	b.stop()

	editByHand(t, deployGVR, ns, "web", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:edited","env":[{"name":"ADDED_BY_HAND","value":"1"}]}]}}}}`)
	editByHand(t, serviceGVR, ns, "web", `{"spec":{"ports":[{"port":80,"targetPort":8080}]}}`)

	cfg, sent := countWrites(env.RESTConfig())
	b = startBosunAs(t, cfg, config, ns)
	waitObject(t, deployGVR, ns, "web", func(u *unstructured.Unstructured) error {
		c := container(u, "web")
		if c["image"] != "nginx:1.27" {
			return fmt.Errorf("image = %v, want nginx:1.27 restored", c["image"])
		}
		env, _ := c["env"].([]any)
		if !slices.ContainsFunc(env, func(e any) bool { return e.(map[string]any)["name"] == "ADDED_BY_HAND" }) {
			return fmt.Errorf("env %v lost the variable added by hand", env)
		}
		return nil
	})
	waitObject(t, serviceGVR, ns, "web", func(u *unstructured.Unstructured) error {
		ports, _, _ := unstructured.NestedSlice(u.Object, "spec", "ports")
		if len(ports) != 1 || ports[0].(map[string]any)["targetPort"] != "http" {
			return fmt.Errorf("ports = %v, want one with targetPort http restored", ports)
		}
		return nil
	})
	// The restores are visible before bosun logs them; count once the reconcile that made
	// them has ended.
	deployment, service := zap.String("child", "Deployment/"+ns+"/web"), zap.String("child", "Service/"+ns+"/web")
	last := max(b.waitLogged(t, 0, "child configured", deployment), b.waitLogged(t, 0, "child configured", service))
	b.waitLogged(t, last+1, "reconciled", zap.String("owner", ns+"/web"))
	childWrites := map[string]int{}
	for _, w := range sent() {
		if strings.Contains(w, "/configmaps/") || strings.Contains(w, "/deployments/") || strings.Contains(w, "/services/") {
			childWrites[w]++
		}
	}
	want := map[string]int{
		"PATCH /apis/apps/v1/namespaces/" + ns + "/deployments/web": 1,
		"PATCH /api/v1/namespaces/" + ns + "/services/web":          1,
	}
	if d := cmp.Diff(want, childWrites); d != "" {
		t.Errorf("writes of children after the start (-want +got; the ConfigMap nobody edited must not be written):\n%s", d)
	}
	waitCondition(t, siteGVR, ns, "web", "Ready", "True", "Ready")
	b.stop()

	// The repair left bosun's fields its own again, next to the hand-added env var: a restart
	// sends no write at all. (The Deployment's status still changes as its old pods go, so
	// the requests are counted rather than resourceVersions compared.)
	cfg, sent = countWrites(env.RESTConfig())
	b = startBosunAs(t, cfg, config, ns)
	b.waitReconciled(t, ns+"/web")
	b.stop()
	if w := sent(); len(w) > 0 {
		t.Errorf("a restart with nothing changed after the repair sent %d writes: %v", len(w), w)
	}
	for _, msg := range []string{"child created", "child configured", "child unchanged"} {
		for _, e := range b.logs.FilterMessage(msg).All() {
			t.Errorf("after the second restart: %s %v", msg, e.ContextMap()["child"])
		}
	}
}

// countWrites returns a copy of cfg that records every request that is not a read (anything
// but GET), and a function that returns them as "METHOD path".
func countWrites(cfg *rest.Config) (*rest.Config, func() []string) {
	var mu sync.Mutex
	var writes []string
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method != http.MethodGet {
				mu.Lock()
				writes = append(writes, r.Method+" "+r.URL.Path)
				mu.Unlock()
			}
			return rt.RoundTrip(r)
		})
	})
	return cfg, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(writes)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// editByHand changes an object as kubectl edit does: a strategic merge patch by the field
// manager kubectl-edit, which takes the fields it changes from their managers.
func editByHand(t *testing.T, gvr schema.GroupVersionResource, namespace, name, patch string) {
	t.Helper()
	_, err := env.Dynamic.Resource(gvr).Namespace(namespace).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"})
	if err != nil {
		t.Fatalf("edit %s %s/%s: %v", gvr.Resource, namespace, name, err)
	}
}

// container returns the named container of a Deployment's pod template.
func container(u *unstructured.Unstructured, name string) map[string]any {
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		if m, _ := c.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}
