package localcluster_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bosun-dev/bosun/internal/localcluster"
	"github.com/bosun-dev/bosun/internal/testenv"
)

// TestWorkloadCluster starts one cluster with WorkloadOptions and checks what a cluster that
// holds children relies on from its two controllers, and its kubeconfig.
func TestWorkloadCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := localcluster.WorkloadOptions(t.TempDir())
	o.Log = logWriter{t}
	begin := time.Now()
	c, err := localcluster.Start(ctx, o)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Logf("workload cluster started in %s", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("only etcd, kube-apiserver and kube-controller-manager run", func(t *testing.T) {
		var got []string
		for name := range c.PIDs() {
			got = append(got, name)
		}
		slices.Sort(got)
		if diff := cmp.Diff([]string{"etcd", "kube-apiserver", "kube-controller-manager"}, got); diff != "" {
			t.Errorf("running components (-want +got):\n%s", diff)
		}
	})

	t.Run("the kubeconfig bytes are the file, inline, and reach the cluster", func(t *testing.T) {
		got, err := c.Kubeconfig()
		if err != nil {
			t.Fatal(err)
		}
		file, err := os.ReadFile(c.KubeconfigPath())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file, got) {
			t.Errorf("Kubeconfig() differs from %s:\n%s", c.KubeconfigPath(), cmp.Diff(string(file), string(got)))
		}
		if bytes.Contains(got, []byte(c.Dir())) {
			t.Errorf("kubeconfig refers to the state dir %s:\n%s", c.Dir(), got)
		}
		cfg, err := clientcmd.RESTConfigFromKubeConfig(got)
		if err != nil {
			t.Fatal(err)
		}
		fromBytes, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fromBytes.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{}); err != nil {
			t.Errorf("Namespace/default with the kubeconfig's client: %v", err)
		}
	})

	t.Run("a dependent is garbage-collected after its owner", func(t *testing.T) {
		ns := createNamespace(t, cs)
		cms := cs.CoreV1().ConfigMaps(ns)
		owner, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("ConfigMap/%s/owner: create: %v", ns, err)
		}
		_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name:            "child",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("ConfigMap/%s/child: create: %v", ns, err)
		}
		if err := cms.Delete(ctx, owner.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("ConfigMap/%s/owner: delete: %v", ns, err)
		}
		testenv.Eventually(t, time.Minute, func() error {
			_, err := cms.Get(ctx, "child", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("ConfigMap/%s/child still there (err %v)", ns, err)
		})
	})

	t.Run("deleting a namespace with objects in it completes", func(t *testing.T) {
		ns := createNamespace(t, cs)
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("ConfigMap/%s/x: create: %v", ns, err)
		}
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("Namespace/%s: delete: %v", ns, err)
		}
		testenv.Eventually(t, time.Minute, func() error {
			_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("Namespace/%s still there (err %v)", ns, err)
		})
	})
}
