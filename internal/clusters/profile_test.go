package clusters

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
)

func TestProfileConfigComesFromItsStatus(t *testing.T) {
	providers := writeProviders(t, execProvider("other", "/bin/false"), execProvider("token-plugin", "/bin/true", "--flag"))
	h := startHub(t, hubOptions{
		Options:       Options{ProviderFile: providers},
		serveProfiles: true,
		profiles: []runtime.Object{profile("fleet", "spoke", map[string]string{"env": "prod"},
			"token-plugin", "https://spoke.example:6443")},
	})
	if !h.reg.ProfilesWatched() {
		t.Fatal("ProfilesWatched() = false with a provider file and the API served")
	}
	c := h.get(t, "spoke")
	if c.Err != nil {
		t.Fatalf("Err = %v", c.Err)
	}
	if c.Source != "ClusterProfile/fleet/spoke" || c.Labels["env"] != "prod" || c.Revision == "" {
		t.Errorf("Source %q, Labels %v, Revision %q", c.Source, c.Labels, c.Revision)
	}
	if c.Config.Host != "https://spoke.example:6443" {
		t.Errorf("Host = %q, want the server of status.accessProviders", c.Config.Host)
	}
	if e := c.Config.ExecProvider; e == nil || e.Command != "/bin/true" || !cmp.Equal(e.Args, []string{"--flag"}) {
		t.Errorf("ExecProvider = %+v, want the token-plugin provider's command", e)
	}
}

// The exec plugin of the provider file runs on the first request and its token reaches the
// cluster: the whole KEP-5339 path, against a local TLS server instead of an API server.
func TestProfilePluginAuthenticatesRequests(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh for the plugin script")
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer from-the-plugin" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"major":"1","minor":"37","gitVersion":"v1.37.0"}`)
	}))
	defer srv.Close()
	plugin := filepath.Join(t.TempDir(), "plugin.sh")
	script := "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"from-the-plugin\"}}'\n"
	if err := os.WriteFile(plugin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	p, err := loadProviders(writeProviders(t, execProvider("local-plugin", plugin)))
	if err != nil {
		t.Fatal(err)
	}
	u := profile("fleet", "spoke", nil, "local-plugin", srv.URL)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	setAccess(t, u, "certificate-authority-data", base64.StdEncoding.EncodeToString(ca))

	c := fromProfile(u, p)
	if c.Err != nil {
		t.Fatalf("Err = %v", c.Err)
	}
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	v, err := client.Discovery().ServerVersion()
	if err != nil || v.GitVersion != "v1.37.0" {
		t.Fatalf("ServerVersion() = %v, %v", v, err)
	}
}

// setAccess sets a field of the first access provider's cluster.
func setAccess(t *testing.T, u *unstructured.Unstructured, field string, value any) {
	t.Helper()
	aps, _, _ := unstructured.NestedSlice(u.Object, "status", "accessProviders")
	ap := aps[0].(map[string]any)
	ap["cluster"].(map[string]any)[field] = value
	if err := unstructured.SetNestedSlice(u.Object, aps, "status", "accessProviders"); err != nil {
		t.Fatal(err)
	}
}

func TestProfileErrors(t *testing.T) {
	p, err := loadProviders(writeProviders(t, execProvider("a", "/bin/true"), execProvider("b", "/bin/true")))
	if err != nil {
		t.Fatal(err)
	}
	noServer := profile("fleet", "spoke", nil, "a", "")
	fileCA := profile("fleet", "spoke", nil, "a", "https://spoke.example")
	setAccess(t, fileCA, "certificate-authority", "/etc/ca.crt")
	tests := []struct {
		name    string
		u       *unstructured.Unstructured
		wantErr error
		want    string
	}{
		{"a profile that offers no configured provider says which to add",
			profile("fleet", "spoke", nil, "gke", "https://spoke.example"), ErrNoAccessProvider,
			"ClusterProfile/fleet/spoke: no usable access provider: status.accessProviders offers [gke], the provider file " +
				p.path + " configures [a b]; add a provider for one of them to the provider file"},
		{"an access provider without server is refused",
			noServer, ErrNoAccessProvider,
			`ClusterProfile/fleet/spoke: no usable access provider: access provider "a" has no cluster.server; the cluster manager must set it`},
		{"a CA given as a file is refused",
			fileCA, ErrFileReference,
			`ClusterProfile/fleet/spoke: file reference: access provider "a" has cluster.certificate-authority: /etc/ca.crt, a file; the cluster manager must set certificate-authority-data`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fromProfile(tt.u, p)
			if !errors.Is(c.Err, tt.wantErr) || c.Config != nil {
				t.Fatalf("Err = %v, Config set %v; want %v", c.Err, c.Config != nil, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, c.Err.Error()); diff != "" {
				t.Errorf("Err (-want +got):\n%s", diff)
			}
		})
	}
}

// BuildConfigFromCP v0.1.0 appends profile-sourced arguments to a provider config it keeps;
// the registry must not let one profile's arguments reach the next.
func TestProfileSourcedArgsDoNotPileUp(t *testing.T) {
	prov := execProvider("a", "/bin/true", "--base")
	prov["profileSourcedCLIArgsPolicy"] = "Append"
	p, err := loadProviders(writeProviders(t, prov))
	if err != nil {
		t.Fatal(err)
	}
	withArgs := func(name string) *unstructured.Unstructured {
		u := profile("fleet", name, nil, "a", "https://"+name+".example")
		setAccess(t, u, "extensions", []any{map[string]any{
			"name":      "clusterprofiles.multicluster.x-k8s.io/exec/additional-args",
			"extension": []any{"--cluster=" + name},
		}})
		return u
	}
	for _, name := range []string{"one", "two", "two"} {
		c := fromProfile(withArgs(name), p)
		if c.Err != nil {
			t.Fatalf("%s: Err = %v", name, c.Err)
		}
		if diff := cmp.Diff([]string{"--base", "--cluster=" + name}, c.Config.ExecProvider.Args); diff != "" {
			t.Errorf("%s: exec args (-want +got):\n%s", name, diff)
		}
	}
}

func TestDeprecatedCredentialProvidersStillWork(t *testing.T) {
	p, err := loadProviders(writeProviders(t, execProvider("a", "/bin/true")))
	if err != nil {
		t.Fatal(err)
	}
	u := profile("fleet", "old", nil, "a", "https://old.example")
	aps, _, _ := unstructured.NestedSlice(u.Object, "status", "accessProviders")
	unstructured.RemoveNestedField(u.Object, "status", "accessProviders")
	if err := unstructured.SetNestedSlice(u.Object, aps, "status", "credentialProviders"); err != nil {
		t.Fatal(err)
	}
	c := fromProfile(u, p)
	if c.Err != nil || c.Config.Host != "https://old.example" {
		t.Fatalf("Err = %v, Config %+v", c.Err, c.Config)
	}
}

func TestSecretWinsANameOverAProfile(t *testing.T) {
	ctx := context.Background()
	h := startHub(t, hubOptions{
		Options:       Options{ProviderFile: writeProviders(t, execProvider("a", "/bin/true"))},
		serveProfiles: true,
		objects: []runtime.Object{clusterSecret("prod",
			map[string][]byte{"value": kubeconfig(t, "https://from-secret.example", testToken)}, nil)},
		profiles: []runtime.Object{profile("fleet", "prod", nil, "a", "https://from-profile.example")},
	})
	c := h.get(t, "prod")
	if c.Source != "Secret/bosun-system/prod" || c.Config.Host != "https://from-secret.example" {
		t.Fatalf("Get(prod) = %s %s, want the Secret", c.Source, c.Config.Host)
	}
	err := h.reg.Problems()["ClusterProfile/fleet/prod"]
	want := `ClusterProfile/fleet/prod: name taken: cluster "prod" is already given by Secret/bosun-system/prod, which wins; rename one of them`
	if !errors.Is(err, ErrNameTaken) || err.Error() != want {
		t.Errorf("Problems()[ClusterProfile/fleet/prod] = %v\nwant %s", err, want)
	}

	// When the Secret goes, the profile takes the name over.
	h.drain()
	if err := secrets(h.client).Delete(ctx, "prod", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitChanged(t, "prod")
	c = h.get(t, "prod")
	if c.Source != "ClusterProfile/fleet/prod" || c.Config.Host != "https://from-profile.example" {
		t.Errorf("Get(prod) after the Secret went = %s %s, want the profile", c.Source, c.Config.Host)
	}
	if len(h.reg.Problems()) != 0 {
		t.Errorf("Problems() = %v, want none", h.reg.Problems())
	}
}

func TestTheOlderProfileWinsAName(t *testing.T) {
	older := profile("team-b", "prod", nil, "a", "https://older.example")
	older.SetCreationTimestamp(metav1.NewTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)))
	newer := profile("team-a", "prod", nil, "a", "https://newer.example")
	newer.SetCreationTimestamp(metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
	h := startHub(t, hubOptions{
		Options:       Options{ProviderFile: writeProviders(t, execProvider("a", "/bin/true"))},
		serveProfiles: true,
		profiles:      []runtime.Object{newer, older},
	})
	if c := h.get(t, "prod"); c.Source != "ClusterProfile/team-b/prod" {
		t.Errorf("Get(prod) = %s, want the older profile", c.Source)
	}
	if err := h.reg.Problems()["ClusterProfile/team-a/prod"]; !errors.Is(err, ErrNameTaken) {
		t.Errorf("Problems()[team-a/prod] = %v, want ErrNameTaken", err)
	}
}

func TestProfileRevisionFollowsAccessDataOnly(t *testing.T) {
	ctx := context.Background()
	gvr := v1alpha1.ClusterProfileSchemeGroupVersionResource
	h := startHub(t, hubOptions{
		Options:       Options{ProviderFile: writeProviders(t, execProvider("a", "/bin/true"))},
		serveProfiles: true,
		profiles:      []runtime.Object{profile("fleet", "spoke", nil, "a", "https://spoke.example")},
	})
	first := h.get(t, "spoke")
	profiles := h.dynamic.Resource(gvr).Namespace("fleet")
	update := func(u *unstructured.Unstructured) {
		t.Helper()
		if _, err := profiles.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// A heartbeat (a condition's time) is no change; the marker profile, created after it
	// on the same informer, proves the heartbeat was delivered without a Changed call.
	h.drain()
	beat := profile("fleet", "spoke", nil, "a", "https://spoke.example")
	if err := unstructured.SetNestedSlice(beat.Object, []any{map[string]any{
		"type": "ControlPlaneHealthy", "status": "True", "reason": "Heartbeat", "message": "",
		"lastTransitionTime": "2026-01-01T00:00:00Z",
	}}, "status", "conditions"); err != nil {
		t.Fatal(err)
	}
	update(beat)
	if _, err := profiles.Create(ctx, profile("fleet", "marker", nil, "a", "https://marker.example"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := <-h.changed; got != "marker" {
		t.Errorf("Changed(%q) before the marker: a heartbeat changed the cluster", got)
	}
	if c := h.get(t, "spoke"); c.Revision != first.Revision {
		t.Errorf("Revision %q → %q on a heartbeat", first.Revision, c.Revision)
	}

	// A new server is a change, and so is a profile going.
	update(profile("fleet", "spoke", nil, "a", "https://moved.example"))
	h.waitChanged(t, "spoke")
	moved := h.get(t, "spoke")
	if moved.Revision == first.Revision || moved.Config.Host != "https://moved.example" {
		t.Errorf("after the move: Revision %q (was %q), Host %q", moved.Revision, first.Revision, moved.Config.Host)
	}
	if err := profiles.Delete(ctx, "spoke", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitChanged(t, "spoke")
	if _, ok := h.reg.Get("spoke"); ok {
		t.Error("Get(spoke) answers after the profile was deleted")
	}
}

func TestProfilesAreIgnoredUnlessServedAndConfigured(t *testing.T) {
	spoke := func() []runtime.Object {
		return []runtime.Object{profile("fleet", "spoke", nil, "a", "https://spoke.example")}
	}
	t.Run("the API is not served", func(t *testing.T) {
		h := startHub(t, hubOptions{
			Options:  Options{ProviderFile: writeProviders(t, execProvider("a", "/bin/true"))},
			profiles: spoke(),
		})
		if h.reg.ProfilesWatched() || len(h.reg.Names()) != 0 || len(h.reg.Problems()) != 0 {
			t.Errorf("ProfilesWatched %v, Names %v, Problems %v; want no profiles and no error",
				h.reg.ProfilesWatched(), h.reg.Names(), h.reg.Problems())
		}
	})
	t.Run("no provider file", func(t *testing.T) {
		h := startHub(t, hubOptions{serveProfiles: true, profiles: spoke()})
		if h.reg.ProfilesWatched() || len(h.reg.Names()) != 0 {
			t.Errorf("ProfilesWatched %v, Names %v; want no profiles", h.reg.ProfilesWatched(), h.reg.Names())
		}
	})
}

func TestProviderFileIsChecked(t *testing.T) {
	noCommand := execProvider("a", "")
	noVersion := execProvider("b", "/bin/true")
	delete(noVersion["execConfig"].(map[string]any), "apiVersion")
	path := writeProviders(t, noCommand, noVersion, execProvider("b", "/bin/true"), map[string]any{})
	_, err := loadProviders(path)
	want := "provider file " + path + ": providers[0] (a): no execConfig.command\n" +
		"providers[1] (b): no execConfig.apiVersion (client.authentication.k8s.io/v1)\n" +
		`providers[2]: name "b" is used twice` + "\n" +
		"providers[3]: no name\n" +
		"providers[3] (): no execConfig.command"
	if err == nil || err.Error() != want {
		t.Errorf("loadProviders() = %v\nwant %s", err, want)
	}

	empty := writeProviders(t)
	if _, err := loadProviders(empty); err == nil || !strings.HasSuffix(err.Error(), ": no providers") {
		t.Errorf("loadProviders(no providers) = %v", err)
	}
}

func TestDiscoveryIsRetriedUntilItAnswers(t *testing.T) {
	gvr := v1alpha1.ClusterProfileSchemeGroupVersionResource
	client := fake.NewClientset()
	d := client.Discovery().(*fakediscovery.FakeDiscovery)
	d.Resources = []*metav1.APIResourceList{{
		GroupVersion: gvr.GroupVersion().String(),
		APIResources: []metav1.APIResource{{Name: gvr.Resource, Kind: v1alpha1.ClusterProfileKind, Namespaced: true}},
	}}
	var failing atomic.Bool
	failing.Store(true)
	d.PrependReactor("get", "resource", func(clienttesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, apierrors.NewServiceUnavailable("etcd is starting")
		}
		return false, nil, nil
	})
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{gvr: "ClusterProfileList"},
		profile("fleet", "spoke", nil, "a", "https://spoke.example"))
	reg, err := New(Options{Client: client, Dynamic: dyn, SecretNamespace: testNamespace,
		ProviderFile: writeProviders(t, execProvider("a", "/bin/true"))})
	if err != nil {
		t.Fatal(err)
	}
	reg.retry = wait.Backoff{Duration: time.Millisecond, Steps: 1 << 30}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); reg.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// While discovery fails, the registry is not synced and Problems says why.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if reg.WaitForSync(short) {
		t.Fatal("WaitForSync() = true while discovery fails")
	}
	want := "multicluster.x-k8s.io/v1alpha1: discovery: etcd is starting"
	if err := reg.Problems()["multicluster.x-k8s.io/v1alpha1"]; err == nil || err.Error() != want {
		t.Errorf("Problems()[multicluster.x-k8s.io/v1alpha1] = %v, want %s", err, want)
	}

	failing.Store(false)
	long, cancelLong := context.WithTimeout(ctx, 10*time.Second)
	defer cancelLong()
	if !reg.WaitForSync(long) {
		t.Fatal("WaitForSync() = false after discovery recovered")
	}
	if _, ok := reg.Get("spoke"); !ok || !reg.ProfilesWatched() || len(reg.Problems()) != 0 {
		t.Errorf("after recovery: Get(spoke) %v, ProfilesWatched %v, Problems %v", ok, reg.ProfilesWatched(), reg.Problems())
	}
}
