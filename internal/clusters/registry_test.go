package clusters

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
)

func secrets(c *fake.Clientset) interface {
	Create(context.Context, *corev1.Secret, metav1.CreateOptions) (*corev1.Secret, error)
	Update(context.Context, *corev1.Secret, metav1.UpdateOptions) (*corev1.Secret, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
} {
	return c.CoreV1().Secrets(testNamespace)
}

func TestRotationAndDeletionReachTheCaller(t *testing.T) {
	ctx := context.Background()
	h := startHub(t, hubOptions{objects: []runtime.Object{
		clusterSecret("prod", map[string][]byte{"value": kubeconfig(t, "https://prod.example:6443", "token-1")}, nil),
	}})
	before := h.get(t, "prod")
	if before.Config.BearerToken != "token-1" {
		t.Fatalf("BearerToken = %q before rotation", before.Config.BearerToken)
	}
	h.drain()

	rotated := clusterSecret("prod", map[string][]byte{"value": kubeconfig(t, "https://prod.example:6443", "token-2")}, nil)
	if _, err := secrets(h.client).Update(ctx, rotated, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitChanged(t, "prod")
	after := h.get(t, "prod")
	if after.Revision == before.Revision {
		t.Errorf("Revision %q did not change with the credentials", after.Revision)
	}
	if after.Config.BearerToken != "token-2" {
		t.Errorf("BearerToken = %q after rotation, want token-2", after.Config.BearerToken)
	}

	if err := secrets(h.client).Delete(ctx, "prod", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitChanged(t, "prod")
	if c, ok := h.reg.Get("prod"); ok {
		t.Errorf("Get(prod) after delete = %v", c.Source)
	}
	if got := h.reg.Names(); len(got) != 0 {
		t.Errorf("Names() after delete = %v", got)
	}
}

func TestGetReturnsACopy(t *testing.T) {
	h := startHub(t, hubOptions{objects: []runtime.Object{
		clusterSecret("prod", map[string][]byte{"value": kubeconfig(t, "https://prod.example:6443", testToken)},
			map[string]string{"env": "prod"}),
	}})
	c := h.get(t, "prod")
	c.Config.Host = "https://elsewhere"
	c.Labels["env"] = "dev"
	again := h.get(t, "prod")
	if again.Config.Host != "https://prod.example:6443" || again.Labels["env"] != "prod" {
		t.Errorf("a caller's change reached the registry: %q %v", again.Config.Host, again.Labels)
	}
}

func TestSecretsOfTheNamespaceThatHoldAKubeconfigAreClusters(t *testing.T) {
	ctx := context.Background()
	kc := kubeconfig(t, "https://x.example:6443", testToken)
	flux := clusterSecret("flux", map[string][]byte{"value.yaml": kc}, nil) // Flux's shape: no label of bosun's
	flux.Labels = map[string]string{"team": "a"}
	other := clusterSecret("tls", map[string][]byte{"value": []byte("not a kubeconfig"), "tls.crt": []byte("x")}, nil)
	other.Labels = nil
	elsewhere := clusterSecret("elsewhere", map[string][]byte{"value": kc}, nil)
	elsewhere.Namespace = "other"
	h := startHub(t, hubOptions{objects: []runtime.Object{flux, other, elsewhere,
		clusterSecret("prod", map[string][]byte{"value": kc}, nil)}})
	if diff := cmp.Diff([]string{"flux", "prod"}, h.reg.Names()); diff != "" {
		t.Errorf("Names() (-want +got):\n%s", diff)
	}
	if _, bad := h.reg.Problems()["Secret/"+other.Namespace+"/tls"]; bad {
		t.Error("an unlabelled Secret that holds no kubeconfig is reported as a broken cluster")
	}

	// A labelled Secret whose kubeconfig goes is a broken cluster; an unlabelled one is no
	// cluster any more, as if deleted.
	h.drain()
	gone := clusterSecret("flux", map[string][]byte{"value": []byte("rotated away")}, nil)
	gone.Labels = map[string]string{"team": "a"}
	if _, err := secrets(h.client).Update(ctx, gone, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitChanged(t, "flux")
	if _, ok := h.reg.Get("flux"); ok {
		t.Error("Get(flux) still answers after its kubeconfig was removed")
	}
}

func TestSelectGivesUsableClustersByLabel(t *testing.T) {
	kc := func(host string) map[string][]byte {
		return map[string][]byte{"value": kubeconfig(t, "https://"+host+":6443", testToken)}
	}
	h := startHub(t, hubOptions{objects: []runtime.Object{
		clusterSecret("prod-b", kc("b"), map[string]string{"env": "prod"}),
		clusterSecret("prod-a", kc("a"), map[string]string{"env": "prod"}),
		clusterSecret("dev", kc("d"), map[string]string{"env": "dev"}),
		clusterSecret("prod-broken", map[string][]byte{"value": []byte("not: [a kubeconfig")}, map[string]string{"env": "prod"}),
	}})
	sel, err := labels.Parse("env=prod")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"prod-a", "prod-b"}, h.reg.Select(sel)); diff != "" {
		t.Errorf("Select(env=prod) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dev", "prod-a", "prod-b", "prod-broken"}, h.reg.Names()); diff != "" {
		t.Errorf("Names() (-want +got):\n%s", diff)
	}
	if got := h.reg.Select(nil); len(got) != 0 {
		t.Errorf("Select(nil) = %v, want none", got)
	}
	broken := h.get(t, "prod-broken")
	if !errors.Is(broken.Err, ErrBadKubeconfig) || broken.Config != nil {
		t.Errorf("prod-broken: Err = %v, Config set %v", broken.Err, broken.Config != nil)
	}
	if err := h.reg.Problems()["Secret/bosun-system/prod-broken"]; !errors.Is(err, ErrBadKubeconfig) {
		t.Errorf("Problems()[prod-broken] = %v", err)
	}
}

func TestTheNameLocalIsReserved(t *testing.T) {
	h := startHub(t, hubOptions{objects: []runtime.Object{
		clusterSecret(Reserved, map[string][]byte{"value": kubeconfig(t, "https://x.example:6443", testToken)}, nil),
	}})
	if c, ok := h.reg.Get(Reserved); ok {
		t.Errorf("Get(local) = %s; the hub's name must not be taken", c.Source)
	}
	if got := h.reg.Names(); len(got) != 0 {
		t.Errorf("Names() = %v", got)
	}
	err := h.reg.Problems()["Secret/bosun-system/local"]
	if !errors.Is(err, ErrReserved) {
		t.Fatalf("Problems()[Secret/bosun-system/local] = %v, want ErrReserved", err)
	}
	want := `Secret/bosun-system/local: reserved name: "local" means the hub cluster itself; rename the Secret`
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestNewRefusesIncompleteOptions(t *testing.T) {
	_, err := New(Options{ProviderFile: "providers.json"})
	want := "clusters: Options.Client is required\n" +
		"Options.SecretNamespace is required: cluster Secrets are read from one namespace only\n" +
		"Options.Dynamic is required with Options.ProviderFile: ClusterProfiles are read with it"
	if err == nil || err.Error() != want {
		t.Errorf("New(empty) = %v\nwant %s", err, want)
	}
	_, err = New(Options{Client: fake.NewClientset(), SecretNamespace: "ns",
		Dynamic: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()), ProviderFile: "/nonexistent/providers.json"})
	if err == nil || !strings.Contains(err.Error(), "provider file /nonexistent/providers.json") {
		t.Errorf("New(missing provider file) = %v", err)
	}
}
