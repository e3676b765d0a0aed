package testenv_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/bosun-dev/bosun/internal/localcluster"
	"github.com/bosun-dev/bosun/internal/testenv"
)

// TestWorkloadClusterThroughItsSecret reaches a workload cluster the way a hub controller
// does, through the kubeconfig in its cluster Secret, and keeps reaching it with the same
// client after its kube-apiserver restarts.
func TestWorkloadClusterThroughItsSecret(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	w := testenv.StartWorkload(t, "workload-1", localcluster.WorkloadOptions(""))
	t.Logf("workload cluster started in %s", time.Since(begin).Round(time.Millisecond))
	hubNS := env.CreateNamespace(t, "clusters")
	if err := env.PutClusterSecret(ctx, hubNS, w.Name, w.Kubeconfig, map[string]string{localcluster.ClusterNameLabel: w.Name}); err != nil {
		t.Fatal(err)
	}
	secret, err := env.Clientset.CoreV1().Secrets(hubNS).Get(ctx, w.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Secret/%s/%s: get: %v", hubNS, w.Name, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data[localcluster.ClusterSecretKey])
	if err != nil {
		t.Fatalf("Secret/%s/%s: kubeconfig: %v", hubNS, w.Name, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A namespace only the workload cluster has tells it apart from the hub.
	only := w.CreateNamespace(t, "workload-only")
	listsIt := func() error {
		list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(list.Items, func(ns corev1.Namespace) bool { return ns.Name == only }) {
			return fmt.Errorf("Namespace/%s not in the list of %d", only, len(list.Items))
		}
		return nil
	}
	if err := listsIt(); err != nil {
		t.Fatalf("list namespaces with the Secret's kubeconfig: %v", err)
	}
	if _, err := env.Clientset.CoreV1().Namespaces().Get(ctx, only, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("Namespace/%s: get in the hub: %v, want not found", only, err)
	}

	if err := w.Cluster.StopAPIServer(); err != nil {
		t.Fatalf("stop kube-apiserver: %v", err)
	}
	if err := listsIt(); err == nil {
		t.Fatal("list namespaces succeeded with kube-apiserver stopped")
	}
	if err := w.Cluster.StartAPIServer(ctx); err != nil {
		t.Fatalf("start kube-apiserver: %v", err)
	}
	if err := listsIt(); err != nil {
		t.Fatalf("list namespaces with the same client after the restart: %v", err)
	}
}

func TestPutClusterSecretCreatesThenUpdates(t *testing.T) {
	ctx := context.Background()
	ns := env.CreateNamespace(t, "clusters")
	hubKubeconfig, err := env.Cluster.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	puts := []struct {
		name       string
		kubeconfig []byte
		labels     map[string]string
		wantLabels map[string]string
	}{
		{
			name:       "the first put creates it with the type label",
			kubeconfig: hubKubeconfig,
			labels:     map[string]string{localcluster.ClusterNameLabel: "east", "team": "a"},
			wantLabels: map[string]string{"bosun.dev/secret-type": "cluster", "bosun.dev/cluster-name": "east", "team": "a"},
		},
		{
			name:       "a second put replaces the data and drops the labels left out, but not the type",
			kubeconfig: append(hubKubeconfig[:len(hubKubeconfig):len(hubKubeconfig)], "# changed\n"...),
			labels:     map[string]string{localcluster.ClusterNameLabel: "west", "bosun.dev/secret-type": "other"},
			wantLabels: map[string]string{"bosun.dev/secret-type": "cluster", "bosun.dev/cluster-name": "west"},
		},
	}
	for _, p := range puts {
		t.Run(p.name, func(t *testing.T) {
			if err := env.PutClusterSecret(ctx, ns, "member", p.kubeconfig, p.labels); err != nil {
				t.Fatal(err)
			}
			got, err := env.Clientset.CoreV1().Secrets(ns).Get(ctx, "member", metav1.GetOptions{})
			if err != nil {
				t.Fatalf("Secret/%s/member: get: %v", ns, err)
			}
			if diff := cmp.Diff(p.wantLabels, got.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"value": string(p.kubeconfig)}, stringData(got.Data)); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPutClusterSecretRefusesFileReferences(t *testing.T) {
	ns := env.CreateNamespace(t, "clusters")
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthority: "/pki/ca.crt"}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{ClientCertificate: "/pki/admin.crt", ClientKeyData: []byte("inline")}
	cfg.Contexts["x"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "x"
	kubeconfig, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = env.PutClusterSecret(context.Background(), ns, "files", kubeconfig, nil)
	want := "Secret/" + ns + "/files: kubeconfig: cluster c certificate-authority refers to file /pki/ca.crt; inline its data\n" +
		"kubeconfig: user u client-certificate refers to file /pki/admin.crt; inline its data"
	if err == nil {
		t.Fatal("put succeeded, want an error")
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if _, err := env.Clientset.CoreV1().Secrets(ns).Get(context.Background(), "files", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Secret/%s/files: get: %v, want not found", ns, err)
	}
}

func stringData(data map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range data {
		out[k] = string(v)
	}
	return out
}
