package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/testenv"
	"github.com/bosun-dev/bosun/watcher"
)

// The manifests of examples/deploy, which deploy bosun with the three example watches.
const (
	deployDir       = "../examples/deploy"
	deployNamespace = "bosun"
)

var characterGVR = schema.GroupVersionResource{Group: "stable.example.bosun.dev", Version: "v1", Resource: "characters"}

var deployFiles = []string{"configmap.yaml", "deployment.yaml", "namespace.yaml", "pdb.yaml", "rbac.yaml", "serviceaccount.yaml"}

func TestDeployManifestsPassServerSideDryRun(t *testing.T) {
	installExampleCRDs(t)
	ensureDeployNamespace(t)
	files, err := filepath.Glob(filepath.Join(deployDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if !slices.Equal(deployFiles, names) {
		t.Errorf("examples/deploy holds %v, want %v: a new manifest needs a thought here", names, deployFiles)
	}

	var (
		mu       sync.Mutex
		warnings []string
	)
	cfg := env.RESTConfig()
	// A warning is how the API server reports, for instance, a pod template that would
	// violate the namespace's Pod Security level: it must not happen either.
	cfg.WarningHandler = warningFunc(func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, msg)
	})
	dryRun := newDryRunner(t, cfg)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			objs := decodeManifests(t, f)
			if len(objs) == 0 {
				t.Fatalf("%s holds no objects", f)
			}
			for _, obj := range objs {
				if err := dryRun(obj); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(warnings) > 0 {
				t.Errorf("%s: the API server warned: %s", f, strings.Join(warnings, "; "))
				warnings = nil
			}
		})
	}
}

func TestDeployRBACLetsBosunRunTheExamples(t *testing.T) {
	installExampleCRDs(t)
	ensureDeployNamespace(t)
	for _, f := range []string{"serviceaccount.yaml", "rbac.yaml"} {
		testenv.ApplyYAML(t, env.RESTConfig(), readFile(t, filepath.Join(deployDir, f)))
	}
	ns := env.CreateNamespace(t, "deploy")

	// bosun runs as its ServiceAccount, with nothing but what rbac.yaml grants.
	cfg := env.RESTConfig()
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + deployNamespace + ":bosun",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + deployNamespace, "system:authenticated"},
	}
	startBosunAs(t, cfg, filepath.Join(deployDir, "config/watches"), ns)
	// Leader election as deployment.yaml runs it: the Lease calls it makes.
	takeLease(t, cfg, deployNamespace, "bosun")

	create(t, siteGVR, ns, fmt.Sprintf("apiVersion: example.bosun.dev/v1\nkind: Site\nmetadata: {name: hello, namespace: %s}\nspec: {message: Hello}\n", ns))
	create(t, characterGVR, ns, fmt.Sprintf("apiVersion: stable.example.bosun.dev/v1\nkind: Character\nmetadata: {name: nemo, namespace: %s}\nspec: {name: Nemo}\n", ns))
	create(t, configMapGVR, ns, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop, namespace: %s, labels: {bosun.dev/expose: \"true\"}}\ndata: {app: shop, port: \"8080\"}\n", ns))

	// Ready needs the children applied and read back healthy, and the status written.
	waitCondition(t, siteGVR, ns, "hello", watcher.ConditionReady, "True", watcher.ReasonReady)
	waitCondition(t, characterGVR, ns, "nemo", watcher.ConditionApplied, "True", watcher.ReasonApplied)
	waitObject(t, serviceGVR, ns, "shop-exposed", nil)

	// A failure is recorded as an Event: the permission to write Events is there.
	create(t, configMapGVR, ns, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken, namespace: %s, labels: {bosun.dev/expose: \"true\"}}\ndata: {port: \"8080\"}\n", ns))
	waitEvent(t, ns, "broken", watcher.ReasonRenderFailed)

	// Deleting an owner deletes its children and drops the finalizer.
	deleteObject(t, siteGVR, ns, "hello")
	waitGone(t, configMapGVR, ns, "hello-content")
	waitGone(t, siteGVR, ns, "hello")
}

// takeLease creates, reads and renews the leader-election Lease as client-go's leader election
// does, with the client configuration cfg.
func takeLease(t *testing.T, cfg *rest.Config, namespace, name string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: namespace, Name: name},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: "e2e"},
	}
	ctx := context.Background()
	record := resourcelock.LeaderElectionRecord{HolderIdentity: "e2e", LeaseDurationSeconds: 15, AcquireTime: metav1.Now(), RenewTime: metav1.Now()}
	if err := lock.Create(ctx, record); err != nil {
		t.Fatalf("Lease/%s/%s: create: %v", namespace, name, err)
	}
	if _, _, err := lock.Get(ctx); err != nil {
		t.Fatalf("Lease/%s/%s: get: %v", namespace, name, err)
	}
	record.RenewTime = metav1.Now()
	if err := lock.Update(ctx, record); err != nil {
		t.Fatalf("Lease/%s/%s: update: %v", namespace, name, err)
	}
}

func installExampleCRDs(t *testing.T) {
	t.Helper()
	installCRD(t, "../examples/site/crd.yaml", "sites.example.bosun.dev")
	installCRD(t, "../examples/character/crd.yaml", "characters.stable.example.bosun.dev")
}

// ensureDeployNamespace creates the namespace of examples/deploy for real: the dry run of a
// namespace does not make it exist for the objects in it. It stays until the control plane
// of the package goes.
func ensureDeployNamespace(t *testing.T) {
	t.Helper()
	if _, done := installOnce.LoadOrStore("namespace/"+deployNamespace, true); done {
		return
	}
	testenv.ApplyYAML(t, env.RESTConfig(), readFile(t, filepath.Join(deployDir, "namespace.yaml")))
}

// newDryRunner returns a function that server-side applies one object with dry-run, as
// kubectl apply --server-side --dry-run=server would.
func newDryRunner(t *testing.T, cfg *rest.Config) func(*unstructured.Unstructured) error {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return func(obj *unstructured.Unstructured) error {
		gvk := obj.GroupVersionKind()
		ref := gvk.Kind + "/" + obj.GetName()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if obj.GetNamespace() == "" {
				return fmt.Errorf("%s: namespaced, but the manifest names no namespace", ref)
			}
			ri = dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
		}
		_, err = ri.Apply(context.Background(), obj.GetName(), obj, metav1.ApplyOptions{
			FieldManager: "e2e-deploy",
			DryRun:       []string{metav1.DryRunAll},
		})
		if err != nil {
			return fmt.Errorf("%s: dry-run apply: %w", ref, err)
		}
		return nil
	}
}

// decodeManifests reads the objects of a multi-document YAML file.
func decodeManifests(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

// warningFunc is a rest.WarningHandler.
type warningFunc func(msg string)

func (f warningFunc) HandleWarningHeader(_ int, _ string, msg string) { f(msg) }

func TestRBACWithDiscoveryAgreesWithTheOfflineGuesses(t *testing.T) {
	installExampleCRDs(t)
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), []string{"rbac", "--config", filepath.Join(deployDir, "config/watches"),
		"--kubeconfig", env.Cluster.KubeconfigPath()}, nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("bosun rbac: exit %d: %s", code, errOut.String())
	}
	// Offline, the output says which kinds it guessed; discovery knows them all.
	offline := readFile(t, filepath.Join(deployDir, "rbac.yaml"))
	start := strings.Index(offline, "# Resources and scopes guessed")
	end := strings.Index(offline, "or run with --kubeconfig.\n#\n")
	if start < 0 || end < 0 {
		t.Fatalf("rbac.yaml names no guessed kinds:\n%s", offline)
	}
	want := offline[:start] + offline[end+len("or run with --kubeconfig.\n#\n"):]
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("bosun rbac with discovery (-offline +discovery):\n%s", diff)
	}
}
