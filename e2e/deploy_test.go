package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/shard"
	"github.com/bosun-dev/bosun/internal/testenv"
	"github.com/bosun-dev/bosun/watcher"
)

// The manifests of examples/deploy: a kustomize base that deploys bosun with the three example
// watches, and an overlay per way of running it, each taken by kubectl apply -k.
const (
	deployDir       = "../examples/deploy"
	deployBaseDir   = deployDir + "/base"
	deployNamespace = "bosun"
	// deployLeaseGroup is --leader-election-id as the overlays leave it: the name of the
	// leader-election Lease, and the prefix of the sharding Leases.
	deployLeaseGroup = "bosun"
)

var characterGVR = schema.GroupVersionResource{Group: "stable.example.bosun.dev", Version: "v1", Resource: "characters"}

// deployOverlay is what an overlay of examples/deploy must come to.
type deployOverlay struct {
	replicas int32
	// mode lists the flags of bosun run that decide how the replicas share the work.
	mode []string
	// pdb is the PodDisruptionBudget's limit, "" for none.
	pdb string
	// spread: the replicas prefer to run on different nodes.
	spread bool
	// minGrace is the least terminationGracePeriodSeconds that lets a replica stop gracefully.
	minGrace int64
	// leases are the verbs bosun's ServiceAccount holds on the Leases of these names in its
	// namespace.
	leases map[string][]string
}

var deployOverlays = map[string]deployOverlay{
	"single": {
		replicas: 1,
		minGrace: 31, // --shutdown-timeout (30s) for in-flight reconciles
		leases:   map[string][]string{deployLeaseGroup: nil, shard.MapLeaseName(deployLeaseGroup): nil},
	},
	"ha": {
		replicas: 2,
		mode:     []string{"--leader-elect", "--leader-election-namespace=$(POD_NAMESPACE)"},
		pdb:      "minAvailable=1",
		spread:   true,
		minGrace: 31, // --shutdown-timeout, then the Lease is released
		leases:   map[string][]string{deployLeaseGroup: {"create", "get", "update"}},
	},
	"sharded": {
		replicas: 3,
		mode:     []string{"--sharding", "--leader-election-namespace=$(POD_NAMESPACE)"},
		pdb:      "maxUnavailable=1",
		spread:   true,
		minGrace: 41, // --shutdown-timeout, then leaving the group within the renew deadline (10s)
		leases: map[string][]string{
			shard.MemberLeaseName(deployLeaseGroup, "e2e"): {"create", "delete", "get", "list", "update", "watch"},
			shard.MapLeaseName(deployLeaseGroup):           {"create", "delete", "get", "list", "update", "watch"},
		},
	},
}

func TestDeployManifestsPassServerSideDryRun(t *testing.T) {
	installExampleCRDs(t)
	ensureDeployNamespace(t)
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
	for _, name := range slices.Sorted(maps.Keys(deployOverlays)) {
		t.Run(name, func(t *testing.T) {
			objs := kustomize(t, overlayDir(name))
			for _, obj := range objs {
				if err := dryRun(obj); err != nil {
					t.Errorf("overlays/%s: %v", name, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(warnings) > 0 {
				t.Errorf("overlays/%s: the API server warned: %s", name, strings.Join(warnings, "; "))
				warnings = nil
			}
		})
	}
}

func TestDeployOverlaysRunBosunAsTheirNamesSay(t *testing.T) {
	overlays, err := filepath.Glob(filepath.Join(deployDir, "overlays", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range overlays {
		names = append(names, filepath.Base(o))
	}
	if want := slices.Sorted(maps.Keys(deployOverlays)); !slices.Equal(want, names) {
		t.Errorf("examples/deploy/overlays holds %v, want %v: a new overlay needs a thought here", names, want)
	}
	checkKustomizationNamesItsFiles(t, deployBaseDir)
	for _, name := range slices.Sorted(maps.Keys(deployOverlays)) {
		t.Run(name, func(t *testing.T) {
			checkKustomizationNamesItsFiles(t, overlayDir(name))
			checkOverlay(t, kustomize(t, overlayDir(name)), deployOverlays[name])
		})
	}
}

// checkOverlay compares the rendered objects of an overlay with what it must come to.
func checkOverlay(t *testing.T, objs []*unstructured.Unstructured, want deployOverlay) {
	var d appsv1.Deployment
	fromUnstructured(t, findObject(t, objs, "Deployment", "bosun"), &d)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	if got := ptr.Deref(d.Spec.Replicas, 1); got != want.replicas {
		t.Errorf("replicas %d, want %d", got, want.replicas)
	}
	var mode []string
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--leader-elect") || strings.HasPrefix(a, "--sharding") {
			mode = append(mode, a)
		}
	}
	if diff := cmp.Diff(want.mode, mode); diff != "" {
		t.Errorf("leader election and sharding flags (-want +got):\n%s", diff)
	}
	// The kubelet expands $(VAR) only for variables the container defines; the Leases must
	// live beside bosun, where its Roles are.
	for _, a := range c.Args {
		for _, m := range envRef.FindAllStringSubmatch(a, -1) {
			i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == m[1] })
			switch {
			case i < 0:
				t.Errorf("arg %s: the container defines no %s", a, m[1])
			case m[1] == "POD_NAMESPACE" && (c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.FieldRef == nil || c.Env[i].ValueFrom.FieldRef.FieldPath != "metadata.namespace"):
				t.Errorf("env POD_NAMESPACE is not the downward API's metadata.namespace: %+v", c.Env[i])
			}
		}
	}
	if got := ptr.Deref(pod.TerminationGracePeriodSeconds, 30); got < want.minGrace {
		t.Errorf("terminationGracePeriodSeconds %d, want at least %d", got, want.minGrace)
	}
	if got := spreadsAcrossNodes(t, pod.Affinity, d.Spec.Template.Labels); got != want.spread {
		t.Errorf("preferred pod anti-affinity across nodes: %t, want %t", got, want.spread)
	}

	pdb := ""
	if obj := findObjectOrNil(objs, "PodDisruptionBudget", "bosun"); obj != nil {
		var b policyv1.PodDisruptionBudget
		fromUnstructured(t, obj, &b)
		switch {
		case b.Spec.MinAvailable != nil:
			pdb = "minAvailable=" + b.Spec.MinAvailable.String()
		case b.Spec.MaxUnavailable != nil:
			pdb = "maxUnavailable=" + b.Spec.MaxUnavailable.String()
		}
		if sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector); err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("PodDisruptionBudget selector %v does not select bosun's pods (%v)", b.Spec.Selector, err)
		}
	}
	if pdb != want.pdb {
		t.Errorf("PodDisruptionBudget %q, want %q", pdb, want.pdb)
	}

	for _, name := range slices.Sorted(maps.Keys(want.leases)) {
		if diff := cmp.Diff(want.leases[name], leaseVerbs(t, objs, name)); diff != "" {
			t.Errorf("verbs on Lease/%s/%s (-want +got):\n%s", deployNamespace, name, diff)
		}
	}
}

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// spreadsAcrossNodes tells whether the pods prefer nodes that run none of the pods with
// podLabels.
func spreadsAcrossNodes(t *testing.T, a *corev1.Affinity, podLabels map[string]string) bool {
	t.Helper()
	if a == nil || a.PodAntiAffinity == nil {
		return false
	}
	for _, term := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		sel, err := metav1.LabelSelectorAsSelector(term.PodAffinityTerm.LabelSelector)
		if err != nil {
			t.Fatalf("pod anti-affinity: %v", err)
		}
		if term.PodAffinityTerm.TopologyKey == corev1.LabelHostname && sel.Matches(labels.Set(podLabels)) {
			return true
		}
	}
	return false
}

// leaseVerbs lists the verbs that the Roles and ClusterRoles among objs, as objs bind them,
// grant bosun's ServiceAccount on the Lease name in its namespace. As for the authorizer,
// create, list and watch count only from rules that name no object.
func leaseVerbs(t *testing.T, objs []*unstructured.Unstructured, name string) []string {
	t.Helper()
	rules := map[string][]rbacv1.PolicyRule{} // by Kind/namespace/name
	var refs []string                         // the roles bound to bosun in its namespace
	for _, obj := range objs {
		key := obj.GetKind() + "/" + obj.GetNamespace() + "/" + obj.GetName()
		switch obj.GetKind() {
		case "Role":
			var r rbacv1.Role
			fromUnstructured(t, obj, &r)
			rules[key] = r.Rules
		case "ClusterRole":
			var r rbacv1.ClusterRole
			fromUnstructured(t, obj, &r)
			rules[key] = r.Rules
		case "RoleBinding", "ClusterRoleBinding":
			// A ClusterRoleBinding is a RoleBinding without a namespace.
			var b rbacv1.RoleBinding
			fromUnstructured(t, obj, &b)
			bosun := slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
				return s.Kind == rbacv1.ServiceAccountKind && s.Name == "bosun" && s.Namespace == deployNamespace
			})
			if !bosun || (b.Namespace != "" && b.Namespace != deployNamespace) {
				continue
			}
			ns := ""
			if b.RoleRef.Kind == "Role" {
				ns = b.Namespace
			}
			refs = append(refs, b.RoleRef.Kind+"/"+ns+"/"+b.RoleRef.Name)
		}
	}
	var verbs []string
	for _, ref := range refs {
		for _, r := range rules[ref] {
			if !matches(r.APIGroups, "coordination.k8s.io") || !matches(r.Resources, "leases") {
				continue
			}
			for _, v := range r.Verbs {
				named := len(r.ResourceNames) == 0 || (slices.Contains(r.ResourceNames, name) && !slices.Contains([]string{"create", "list", "watch", "deletecollection"}, v))
				if named && !slices.Contains(verbs, v) {
					verbs = append(verbs, v)
				}
			}
		}
	}
	slices.Sort(verbs)
	return verbs
}

func matches(values []string, v string) bool {
	return slices.Contains(values, v) || slices.Contains(values, "*")
}

// checkKustomizationNamesItsFiles fails unless every YAML file beside dir's kustomization.yaml is
// one of its resources or patches: a file it does not name would not be deployed.
func checkKustomizationNamesItsFiles(t *testing.T, dir string) {
	t.Helper()
	var k struct {
		Resources []string
		Patches   []struct{ Path string }
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(dir, "kustomization.yaml"))), &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	named := map[string]bool{}
	for _, r := range k.Resources {
		named[r] = true
	}
	for _, p := range k.Patches {
		named[p.Path] = true
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !named[base] {
			t.Errorf("%s: kustomization.yaml names neither as a resource nor as a patch", f)
		}
	}
}

func TestDeployRBACLetsBosunRunTheExamples(t *testing.T) {
	installExampleCRDs(t)
	ensureDeployNamespace(t)
	for _, f := range []string{"serviceaccount.yaml", "rbac.yaml"} {
		testenv.ApplyYAML(t, env.RESTConfig(), readFile(t, filepath.Join(deployBaseDir, f)))
	}
	ns := env.CreateNamespace(t, "deploy")

	// bosun runs as its ServiceAccount, with nothing but what rbac.yaml grants.
	cfg := env.RESTConfig()
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + deployNamespace + ":bosun",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + deployNamespace, "system:authenticated"},
	}
	startBosunAs(t, cfg, filepath.Join(deployDir, "config/watches"), ns)
	// Leader election as overlays/ha runs it: the Lease calls it makes.
	takeLease(t, cfg, deployNamespace, deployLeaseGroup)

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

func TestDeployShardedRBACLetsBosunHoldItsLeases(t *testing.T) {
	ensureDeployNamespace(t)
	testenv.ApplyYAML(t, env.RESTConfig(), readFile(t, filepath.Join(deployBaseDir, "serviceaccount.yaml")))
	// TestDeployRBACLetsBosunRunTheExamples leaves the leader-election Role, which the overlay
	// drops (and which would grant create).
	replaceNamespaceRBAC(t, kustomize(t, overlayDir("sharded")))

	// Each call the coordinator of bosun run --sharding makes, as bosun's ServiceAccount.
	cfg := env.RESTConfig()
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + deployNamespace + ":bosun",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + deployNamespace, "system:authenticated"},
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	leases := cs.CoordinationV1().Leases(deployNamespace)
	group := shard.LabelGroup + "=" + deployLeaseGroup
	lease := func(name string) *coordinationv1.Lease {
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{shard.LabelGroup: deployLeaseGroup}},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To("e2e"), LeaseDurationSeconds: ptr.To[int32](15)},
		}
	}
	member, shardMap := shard.MemberLeaseName(deployLeaseGroup, "e2e"), shard.MapLeaseName(deployLeaseGroup)
	ctx := context.Background()

	// The authorizer learns of the new Role from its informer: the first call may come early.
	testenv.Eventually(t, 10*time.Second, func() error {
		_, err := leases.List(ctx, metav1.ListOptions{LabelSelector: group})
		return err
	})
	w, err := leases.Watch(ctx, metav1.ListOptions{LabelSelector: group})
	if err != nil {
		t.Fatalf("Leases/%s (%s): watch: %v", deployNamespace, group, err)
	}
	defer w.Stop()
	for _, name := range []string{member, shardMap} {
		l, err := leases.Create(ctx, lease(name), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("Lease/%s/%s: create: %v", deployNamespace, name, err)
		}
		if l, err = leases.Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Fatalf("Lease/%s/%s: get: %v", deployNamespace, name, err)
		}
		l.Spec.RenewTime = ptr.To(metav1.NowMicro())
		if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("Lease/%s/%s: update: %v", deployNamespace, name, err)
		}
	}
	list, err := leases.List(ctx, metav1.ListOptions{LabelSelector: group})
	if err != nil {
		t.Fatalf("Leases/%s (%s): list: %v", deployNamespace, group, err)
	}
	if len(list.Items) != 2 {
		t.Errorf("Leases/%s (%s): listed %d, want the member and the map", deployNamespace, group, len(list.Items))
	}
	// A replica that leaves the group deletes its membership Lease (the map is deleted here
	// only to leave nothing behind).
	for _, name := range []string{member, shardMap} {
		if err := leases.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("Lease/%s/%s: delete: %v", deployNamespace, name, err)
		}
	}
}

// replaceNamespaceRBAC leaves bosun's namespace with the Roles and RoleBindings among objs and
// no others until the end of the test.
func replaceNamespaceRBAC(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	rbacClient := env.Clientset.RbacV1()
	roles, err := rbacClient.Roles(deployNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Items {
		if err := rbacClient.Roles(deployNamespace).Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("Role/%s/%s: delete: %v", deployNamespace, r.Name, err)
		}
	}
	bindings, err := rbacClient.RoleBindings(deployNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bindings.Items {
		if err := rbacClient.RoleBindings(deployNamespace).Delete(ctx, b.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("RoleBinding/%s/%s: delete: %v", deployNamespace, b.Name, err)
		}
	}
	var manifests []string
	for _, obj := range objs {
		if obj.GetNamespace() == deployNamespace && (obj.GetKind() == "Role" || obj.GetKind() == "RoleBinding") {
			b, err := obj.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			manifests = append(manifests, string(b))
		}
	}
	applied := testenv.ApplyYAML(t, env.RESTConfig(), strings.Join(manifests, "\n---\n"))
	t.Cleanup(func() {
		for _, obj := range applied {
			gvr := rbacv1.SchemeGroupVersion.WithResource(strings.ToLower(obj.GetKind()) + "s")
			if err := env.Dynamic.Resource(gvr).Namespace(deployNamespace).Delete(ctx, obj.GetName(), metav1.DeleteOptions{}); err != nil {
				t.Errorf("%s/%s/%s: delete: %v", obj.GetKind(), deployNamespace, obj.GetName(), err)
			}
		}
	})
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
	testenv.ApplyYAML(t, env.RESTConfig(), readFile(t, filepath.Join(deployBaseDir, "namespace.yaml")))
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

func overlayDir(name string) string { return filepath.Join(deployDir, "overlays", name) }

// kustomize renders the kustomization in dir with kubectl's built-in kustomize, as kubectl
// apply -k does.
func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("%s: rendering the kustomization needs kubectl (kubectl kustomize, as kubectl apply -k): %v", dir, err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, stderr.String())
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(&stdout, 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("kubectl kustomize %s: %v", dir, err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
	if len(objs) == 0 {
		t.Fatalf("kubectl kustomize %s rendered no objects", dir)
	}
	return objs
}

// findObject returns the object of kind and name among objs, failing the test if there is none.
func findObject(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	obj := findObjectOrNil(objs, kind, name)
	if obj == nil {
		t.Fatalf("no %s/%s", kind, name)
	}
	return obj
}

func findObjectOrNil(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, obj := range objs {
		if obj.GetKind() == kind && obj.GetName() == name {
			return obj
		}
	}
	return nil
}

func fromUnstructured(t *testing.T, obj *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, into, true); err != nil {
		t.Fatalf("%s/%s: %v", obj.GetKind(), obj.GetName(), err)
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
	offline := readFile(t, filepath.Join(deployBaseDir, "rbac.yaml"))
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
