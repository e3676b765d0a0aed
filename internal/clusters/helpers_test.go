package clusters

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
)

const (
	testNamespace = "bosun-system"
	// testToken looks like a service account token, so that a test can tell whether any
	// error text carries it.
	testToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Ym9zdW4ifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
)

// kubeconfig returns a one-context kubeconfig for server with a token user; edit changes it
// before it is written.
func kubeconfig(t *testing.T, server, token string, edit ...func(*clientcmdapi.Config)) []byte {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: server}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "ctx"
	for _, e := range edit {
		e(cfg)
	}
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatalf("write kubeconfig: %v", err)
	}
	return out
}

// clusterSecret returns a labelled cluster Secret of testNamespace.
func clusterSecret(name string, data map[string][]byte, labels map[string]string) *corev1.Secret {
	l := map[string]string{LabelSecretType: SecretTypeCluster}
	for k, v := range labels {
		l[k] = v
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace, Labels: l},
		Data:       data,
	}
}

// profile returns a ClusterProfile as the dynamic client reads it, offering one access
// provider; status is merged over that default.
func profile(ns, name string, labels map[string]string, providerName, server string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       v1alpha1.ClusterProfileKind,
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       map[string]any{"clusterManager": map[string]any{"name": "test-manager"}},
		"status": map[string]any{
			"accessProviders": []any{map[string]any{
				"name":    providerName,
				"cluster": map[string]any{"server": server},
			}},
		},
	}}
	u.SetLabels(labels)
	return u
}

// writeProviders writes a provider file and returns its path.
func writeProviders(t *testing.T, providers ...map[string]any) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"providers": providers})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "providers.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func execProvider(name, command string, args ...string) map[string]any {
	return map[string]any{"name": name, "execConfig": map[string]any{
		"apiVersion": "client.authentication.k8s.io/v1",
		"command":    command,
		"args":       args,
	}}
}

// hub is a fake hub: clientset, dynamic client and discovery, with a running Registry.
type hub struct {
	client  *fake.Clientset
	dynamic *dynamicfake.FakeDynamicClient
	reg     *Registry
	changed chan string
}

type hubOptions struct {
	Options
	objects       []runtime.Object // Secrets for the clientset
	profiles      []runtime.Object // ClusterProfiles for the dynamic client
	serveProfiles bool             // discovery lists the ClusterProfile API
}

// startHub runs a Registry against fakes and waits for its informers to sync.
func startHub(t *testing.T, o hubOptions) *hub {
	t.Helper()
	h := &hub{changed: make(chan string, 1000)}
	h.client = fake.NewClientset(o.objects...)
	gvr := v1alpha1.ClusterProfileSchemeGroupVersionResource
	h.dynamic = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{gvr: "ClusterProfileList"}, o.profiles...)
	if o.serveProfiles {
		h.client.Discovery().(*fakediscovery.FakeDiscovery).Resources = []*metav1.APIResourceList{{
			GroupVersion: gvr.GroupVersion().String(),
			APIResources: []metav1.APIResource{{Name: gvr.Resource, Kind: v1alpha1.ClusterProfileKind, Namespaced: true}},
		}}
	}
	opts := o.Options
	opts.Client, opts.Dynamic, opts.SecretNamespace = h.client, h.dynamic, testNamespace
	opts.Changed = func(name string) { h.changed <- name }
	reg, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.reg = reg
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); reg.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	syncCtx, syncCancel := context.WithTimeout(ctx, 10*time.Second)
	defer syncCancel()
	if !reg.WaitForSync(syncCtx) {
		t.Fatal("WaitForSync: not synced within 10s")
	}
	return h
}

// waitChanged waits until Changed has been called with name, skipping calls for other names.
func (h *hub) waitChanged(t *testing.T, name string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-h.changed:
			if got == name {
				return
			}
		case <-deadline:
			t.Fatalf("Changed(%q) was not called within 10s", name)
		}
	}
}

// drain forgets the Changed calls so far.
func (h *hub) drain() {
	for {
		select {
		case <-h.changed:
		default:
			return
		}
	}
}

func (h *hub) get(t *testing.T, name string) Cluster {
	t.Helper()
	c, ok := h.reg.Get(name)
	if !ok {
		t.Fatalf("Get(%q): no cluster; names %v, problems %v", name, h.reg.Names(), h.reg.Problems())
	}
	return c
}
