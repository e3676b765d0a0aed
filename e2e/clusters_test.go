package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/localcluster"
	"github.com/bosun-dev/bosun/internal/testenv"
)

// hubAndWorkloads starts two workload clusters beside the hub, registers them in the hub as
// cluster Secrets eu-1 and us-1 (labelled region=eu and region=us) in a new namespace of the
// hub, and creates that namespace in both, where the children go.
func hubAndWorkloads(t *testing.T) (ns string, eu, us *testenv.Workload) {
	t.Helper()
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns = env.CreateNamespace(t, "clusters")
	// Owners left with the finalizer would outlive their workload clusters (stopped with the
	// test): other tests that release every Widget of the hub must not find them.
	t.Cleanup(func() { releaseWidgets(t, ns) })
	eu = testenv.StartWorkload(t, "eu-1", localcluster.WorkloadOptions(""))
	us = testenv.StartWorkload(t, "us-1", localcluster.WorkloadOptions(""))
	for _, w := range []*testenv.Workload{eu, us} {
		if _, err := w.Clientset.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	putCluster(t, ns, eu.Name, eu.Kubeconfig, "eu")
	putCluster(t, ns, us.Name, us.Kubeconfig, "us")
	return ns, eu, us
}

// releaseWidgets drops bosun's finalizer from the Widgets of ns and deletes them.
func releaseWidgets(t *testing.T, ns string) {
	ctx := context.Background()
	list, err := env.Dynamic.Resource(widgetGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Errorf("list Widgets: %v", err)
		return
	}
	for _, w := range list.Items {
		_, err := env.Dynamic.Resource(widgetGVR).Namespace(ns).Patch(ctx, w.GetName(), "application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		if err == nil {
			err = env.Dynamic.Resource(widgetGVR).Namespace(ns).Delete(ctx, w.GetName(), metav1.DeleteOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("release Widget %s/%s: %v", ns, w.GetName(), err)
		}
	}
}

func putCluster(t *testing.T, ns, name string, kubeconfig []byte, region string) {
	t.Helper()
	if err := env.PutClusterSecret(context.Background(), ns, name, kubeconfig, map[string]string{"region": region}); err != nil {
		t.Fatal(err)
	}
}

// startHub runs bosun on the hub with the cluster Secrets of ns.
func startHub(t *testing.T, watch, ns string) *bosun {
	t.Helper()
	return startBosunWith(t, watch, ns, func(o *cli.RunOptions) { o.Clusters.SecretNamespace = ns })
}

func clusterWatch(t *testing.T, extra string) string {
	return writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
templates: %s
resync: 0s
status: {ready: applied}
clusters:
  field: spec.cluster
  allowed: ["eu-*", "us-*"]
%s`, abs(t, "testdata/clusters"), extra))
}

func widget(t *testing.T, ns, name, spec string, annotations string) *unstructured.Unstructured {
	t.Helper()
	return create(t, widgetGVR, ns, fmt.Sprintf(`
apiVersion: e2e.bosun.dev/v1
kind: Widget
metadata: {name: %s, namespace: %s, annotations: {%s}}
spec: %s
`, name, ns, annotations, spec))
}

// remoteObject waits until the object exists in the workload cluster and check accepts it.
func remoteObject(t *testing.T, w *testenv.Workload, gvr schema.GroupVersionResource, ns, name string, check func(*unstructured.Unstructured) error) *unstructured.Unstructured {
	t.Helper()
	var got *unstructured.Unstructured
	testenv.Eventually(t, waitTimeout, func() error {
		var err error
		if got, err = w.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("%s: %w", w.Name, err)
		}
		if check != nil {
			return check(got)
		}
		return nil
	})
	return got
}

func remoteGone(t *testing.T, w *testenv.Workload, gvr schema.GroupVersionResource, ns, name string) {
	t.Helper()
	testenv.Eventually(t, waitTimeout, func() error {
		_, err := w.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return err
		}
		return fmt.Errorf("%s: %s %s/%s still exists", w.Name, gvr.Resource, ns, name)
	})
}

func dataIs(key, want string) func(*unstructured.Unstructured) error {
	return func(u *unstructured.Unstructured) error {
		if got, _, _ := unstructured.NestedString(u.Object, "data", key); got != want {
			return fmt.Errorf("%s: data.%s = %q, want %q", u.GetName(), key, got, want)
		}
		return nil
	}
}

// TestChildrenInWorkloadClusters runs an owner's whole life in another cluster than its own:
// create, update, prune, drift, fan-out to two clusters, a move between them, a refused and
// an unknown cluster, deletion.
func TestChildrenInWorkloadClusters(t *testing.T) {
	ns, eu, us := hubAndWorkloads(t)
	b := startHub(t, clusterWatch(t, ""), ns)

	owner := widget(t, ns, "a", `{cluster: eu-1, color: red, withSecret: true}`, "")
	cm := remoteObject(t, eu, configMapGVR, ns, "a-config", dataIs("region", "eu"))
	if err := dataIs("cluster", "eu-1")(cm); err != nil {
		t.Error(err)
	}
	if cm.GetLabels()[applier.LabelOwnerUID] != string(owner.GetUID()) || cm.GetAnnotations()[applier.AnnotationOwner] == "" {
		t.Errorf("child in eu-1 lacks bosun's marks of its owner: labels %v, annotations %v", cm.GetLabels(), cm.GetAnnotations())
	}
	if refs := cm.GetOwnerReferences(); len(refs) != 0 {
		t.Errorf("child in another cluster has ownerReferences %v: they cannot point across clusters", refs)
	}
	remoteObject(t, eu, secretGVR, ns, "a-secret", nil)
	if _, err := get(configMapGVR, ns, "a-config"); !apierrors.IsNotFound(err) {
		t.Errorf("child applied in the hub too: %v", err)
	}
	got := waitCondition(t, widgetGVR, ns, "a", "Ready", "True", "Ready")
	if kids, _, _ := unstructured.NestedSlice(got.Object, "status", "children"); len(kids) != 2 || kids[0].(map[string]any)["cluster"] != "eu-1" {
		t.Errorf("status.children = %v; want two children in cluster eu-1", kids)
	}
	if v := got.GetAnnotations()[applier.AnnotationClusters]; v != "eu-1" {
		t.Errorf("owner records clusters %q; want eu-1", v)
	}

	t.Run("update and prune", func(t *testing.T) {
		mergePatch(t, widgetGVR, ns, "a", `{"spec":{"color":"blue","withSecret":false}}`)
		remoteObject(t, eu, configMapGVR, ns, "a-config", dataIs("color", "blue"))
		remoteGone(t, eu, secretGVR, ns, "a-secret")
	})

	t.Run("drift is repaired from the workload cluster's watch", func(t *testing.T) {
		if _, err := eu.Dynamic.Resource(configMapGVR).Namespace(ns).Patch(context.Background(), "a-config", "application/merge-patch+json",
			[]byte(`{"data":{"color":"hand-edit"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		remoteObject(t, eu, configMapGVR, ns, "a-config", dataIs("color", "blue"))
		if err := eu.Dynamic.Resource(configMapGVR).Namespace(ns).Delete(context.Background(), "a-config", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		remoteObject(t, eu, configMapGVR, ns, "a-config", dataIs("color", "blue"))
		waitEvent(t, ns, "a", "DriftRepaired")
	})

	t.Run("fan-out to two clusters", func(t *testing.T) {
		widget(t, ns, "both", `{color: green}`, `bosun.dev/cluster: "eu-1,us-1"`)
		remoteObject(t, eu, configMapGVR, ns, "both-config", dataIs("cluster", "eu-1"))
		remoteObject(t, us, configMapGVR, ns, "both-config", dataIs("cluster", "us-1"))
		got := waitCondition(t, widgetGVR, ns, "both", "Ready", "True", "Ready")
		if v := got.GetAnnotations()[applier.AnnotationClusters]; v != "eu-1,us-1" {
			t.Errorf("owner records clusters %q; want eu-1,us-1", v)
		}
	})

	t.Run("moving an owner to another cluster", func(t *testing.T) {
		mergePatch(t, widgetGVR, ns, "a", `{"spec":{"cluster":"us-1"}}`)
		remoteObject(t, us, configMapGVR, ns, "a-config", dataIs("region", "us"))
		remoteGone(t, eu, configMapGVR, ns, "a-config")
		testenv.Eventually(t, waitTimeout, func() error {
			got, err := get(widgetGVR, ns, "a")
			if err != nil {
				return err
			}
			if v := got.GetAnnotations()[applier.AnnotationClusters]; v != "us-1" {
				return fmt.Errorf("owner records clusters %q; want us-1", v)
			}
			return nil
		})
	})

	t.Run("a cluster the watch does not allow, and one that does not exist", func(t *testing.T) {
		putCluster(t, ns, "ap-1", eu.Kubeconfig, "ap")
		widget(t, ns, "refused", `{cluster: ap-1}`, "")
		got := waitCondition(t, widgetGVR, ns, "refused", "Ready", "False", "ClusterNotAllowed")
		if _, _, msg := condition(got, "Ready"); !strings.Contains(msg, "ap-1") {
			t.Errorf("condition message %q does not name the cluster", msg)
		}
		waitEvent(t, ns, "refused", "ClusterNotAllowed")
		widget(t, ns, "unknown", `{cluster: eu-9}`, "")
		waitCondition(t, widgetGVR, ns, "unknown", "Ready", "False", "ClusterUnknown")
		if _, err := eu.Dynamic.Resource(configMapGVR).Namespace(ns).Get(context.Background(), "refused-config", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("child of a refused owner applied: %v", err)
		}
	})

	t.Run("deleting the owner deletes its children in every cluster", func(t *testing.T) {
		deleteObject(t, widgetGVR, ns, "both")
		remoteGone(t, eu, configMapGVR, ns, "both-config")
		remoteGone(t, us, configMapGVR, ns, "both-config")
		waitGone(t, widgetGVR, ns, "both")
	})
	b.stop()
}

// TestAWorkloadClusterDownHoldsUpOnlyItsOwners stops one workload cluster's API server: its
// owners report ClusterUnreachable, owners of the other cluster and of the hub go on, and once
// it is back its owners converge without a restart. An owner deleted while its cluster is gone
// for good is released after clusters.unreachableTimeout, saying what it left behind.
func TestAWorkloadClusterDownHoldsUpOnlyItsOwners(t *testing.T) {
	ns, eu, us := hubAndWorkloads(t)
	b := startHub(t, clusterWatch(t, "  unreachableTimeout: 5s\n"), ns)
	widget(t, ns, "e", `{cluster: eu-1, color: red}`, "")
	widget(t, ns, "u", `{cluster: us-1, color: red}`, "")
	widget(t, ns, "h", `{color: red}`, "")
	remoteObject(t, eu, configMapGVR, ns, "e-config", nil)
	remoteObject(t, us, configMapGVR, ns, "u-config", nil)
	waitObject(t, configMapGVR, ns, "h-config", nil)

	if err := eu.Cluster.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	for _, name := range []string{"e", "u", "h"} {
		mergePatch(t, widgetGVR, ns, name, `{"spec":{"color":"blue"}}`)
	}
	remoteObject(t, us, configMapGVR, ns, "u-config", dataIs("color", "blue"))
	waitObject(t, configMapGVR, ns, "h-config", dataIs("color", "blue"))
	got := waitCondition(t, widgetGVR, ns, "e", "Ready", "False", "ClusterUnreachable")
	if _, _, msg := condition(got, "Ready"); !strings.Contains(msg, "eu-1") {
		t.Errorf("condition message %q does not name the cluster", msg)
	}
	waitEvent(t, ns, "e", "ClusterUnreachable")
	t.Logf("owners of the other clusters converged while eu-1 was down (%s after it stopped)", time.Since(down).Round(time.Millisecond))
	time.Sleep(10 * time.Second) // a while down: the backoff grows

	if err := eu.Cluster.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	remoteObject(t, eu, configMapGVR, ns, "e-config", dataIs("color", "blue"))
	waitCondition(t, widgetGVR, ns, "e", "Ready", "True", "Ready")
	t.Logf("eu-1's owner converged %s after its API server was back", time.Since(back).Round(time.Millisecond))

	// Gone for good: the owner's deletion waits clusters.unreachableTimeout, then finishes.
	if err := eu.Cluster.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	deleteObject(t, widgetGVR, ns, "e")
	testenv.Eventually(t, 2*waitTimeout, func() error {
		if _, err := get(widgetGVR, ns, "e"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("owner still there: %v", err)
		}
		return nil
	})
	if note := waitEvent(t, ns, "e", "ClusterUnreachable"); note == "" {
		t.Error("no Event says what was left behind")
	}
	b.stop()
	if err := eu.Cluster.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestWorkloadClusterCredentialsRotate starts with credentials the workload cluster refuses:
// the owner reports ClusterUnreachable; once the Secret holds good ones, bosun uses them
// without a restart.
func TestWorkloadClusterCredentialsRotate(t *testing.T) {
	ns, eu, _ := hubAndWorkloads(t)
	cfg, err := clientcmd.Load(eu.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, ai := range cfg.AuthInfos {
		ai.ClientCertificateData, ai.ClientKeyData, ai.Token = nil, nil, "not-a-valid-token"
	}
	bad, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	putCluster(t, ns, "eu-1", bad, "eu")
	b := startHub(t, clusterWatch(t, ""), ns)
	widget(t, ns, "r", `{cluster: eu-1}`, "")
	got := waitCondition(t, widgetGVR, ns, "r", "Ready", "False", "ClusterUnreachable")
	if _, _, msg := condition(got, "Ready"); strings.Contains(msg, "not-a-valid-token") {
		t.Errorf("the condition shows the credential: %q", msg)
	}
	for _, e := range b.logs.All() {
		if strings.Contains(fmt.Sprint(e.Message, e.ContextMap()), "not-a-valid-token") {
			t.Errorf("a log line shows the credential: %s %v", e.Message, e.ContextMap())
		}
	}
	putCluster(t, ns, "eu-1", eu.Kubeconfig, "eu")
	remoteObject(t, eu, configMapGVR, ns, "r-config", nil)
	waitCondition(t, widgetGVR, ns, "r", "Ready", "True", "Ready")
	b.stop()
}

// TestRemoteOrphansAreSweptAfterBosunWasDown: an owner whose finalizer was removed by hand
// while bosun was down leaves children in a workload cluster, where no garbage collector
// follows an ownerReference; the sweep at start deletes them.
func TestRemoteOrphansAreSweptAfterBosunWasDown(t *testing.T) {
	ns, eu, _ := hubAndWorkloads(t)
	watch := clusterWatch(t, "")
	b := startHub(t, watch, ns)
	widget(t, ns, "o", `{cluster: eu-1}`, "")
	remoteObject(t, eu, configMapGVR, ns, "o-config", nil)
	b.waitReconciled(t, ns+"/o")
	b.stop()

	mergePatch(t, widgetGVR, ns, "o", `{"metadata":{"finalizers":null}}`)
	deleteObject(t, widgetGVR, ns, "o")
	waitGone(t, widgetGVR, ns, "o")
	startHub(t, watch, ns)
	remoteGone(t, eu, configMapGVR, ns, "o-config")
}

var clusterProfileGVR = schema.GroupVersionResource{Group: "multicluster.x-k8s.io", Version: "v1alpha1", Resource: "clusterprofiles"}

// TestWorkloadClusterFromAClusterProfile addresses a workload cluster through SIG-Multicluster's
// ClusterProfile API: the profile's status names the server and CA, the access provider file
// names the exec credential plugin (KEP-5339) that gets a token for it.
func TestWorkloadClusterFromAClusterProfile(t *testing.T) {
	installCRD(t, "testdata/clusterprofile/crd.yaml", "clusterprofiles.multicluster.x-k8s.io")
	ns, eu, _ := hubAndWorkloads(t)
	ctx := context.Background()

	// In the workload cluster, an identity for bosun and a token for it: what a cluster
	// manager's credential plugin hands out.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bosun", Namespace: ns}}
	if _, err := eu.Clientset.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.ApplyYAML(t, eu.RESTConfig(), fmt.Sprintf(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bosun-%s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: bosun, namespace: %s}]
`, ns, ns))
	tok, err := eu.Clientset.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "bosun", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plugin := filepath.Join(dir, "credential-plugin.sh")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s' '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}'\n", tok.Status.Token)
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	providers := filepath.Join(dir, "providers.json")
	if err := os.WriteFile(providers, []byte(fmt.Sprintf(`{"providers": [{"name": "e2e-token",
  "execConfig": {"apiVersion": "client.authentication.k8s.io/v1", "command": %q, "interactiveMode": "Never"}}]}`, plugin)), 0o644); err != nil {
		t.Fatal(err)
	}
	kc, err := clientcmd.Load(eu.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var ca []byte
	for _, c := range kc.Clusters {
		ca = c.CertificateAuthorityData
	}
	profile := create(t, clusterProfileGVR, ns, fmt.Sprintf(`
apiVersion: multicluster.x-k8s.io/v1alpha1
kind: ClusterProfile
metadata: {name: eu-2, namespace: %s, labels: {region: eu}}
spec: {clusterManager: {name: e2e}}
`, ns))
	profile.Object["status"] = map[string]any{"accessProviders": []any{map[string]any{"name": "e2e-token",
		"cluster": map[string]any{"server": eu.RESTConfig().Host, "certificate-authority-data": base64.StdEncoding.EncodeToString(ca)}}}}
	if _, err := env.Dynamic.Resource(clusterProfileGVR).Namespace(ns).UpdateStatus(ctx, profile, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	startBosunWith(t, clusterWatch(t, ""), ns, func(o *cli.RunOptions) {
		o.Clusters = cli.ClusterSources{SecretNamespace: ns, ProfileNamespace: ns, ProviderFile: providers}
	})
	// No Secret is named eu-2: the profile and the plugin's token are the only way there.
	widget(t, ns, "p", `{cluster: eu-2}`, "")
	cm := remoteObject(t, eu, configMapGVR, ns, "p-config", dataIs("cluster", "eu-2"))
	if err := dataIs("region", "eu")(cm); err != nil {
		t.Error(err)
	}
	waitCondition(t, widgetGVR, ns, "p", "Ready", "True", "Ready")
}
