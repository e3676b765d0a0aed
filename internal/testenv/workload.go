package testenv

import (
	"context"
	"testing"

	"github.com/bosun-dev/bosun/internal/localcluster"
)

// Workload is a workload cluster a test started besides its package's hub, with admin
// clients (the embedded Env) and its kubeconfig.
type Workload struct {
	*Env
	// Name is the cluster's name, which its cluster Secret in the hub is usually named after.
	Name string
	// Kubeconfig is the admin kubeconfig with the certificates inline, the value for its
	// cluster Secret (see Env.PutClusterSecret).
	Kubeconfig []byte
}

// StartWorkload starts a workload cluster, another control plane on its own ports and with
// its own etcd, stopped when the test ends. o is usually localcluster.WorkloadOptions(""),
// which starts in about three seconds here (kube-apiserver is most of it); add Scheduler and
// Kwok, without MinimalControllers, for Deployments that become Available. An empty
// Options.Dir is a temporary dir, kept when the test fails; a given one is left in place.
func StartWorkload(t testing.TB, name string, o localcluster.Options) *Workload {
	t.Helper()
	e := startForTest(t, name, o, false)
	kubeconfig, err := e.Cluster.Kubeconfig()
	if err != nil {
		t.Fatalf("workload cluster %s: %v", name, err)
	}
	return &Workload{Env: e, Name: name, Kubeconfig: kubeconfig}
}

// PutClusterSecret creates or updates the cluster Secret namespace/name in e's cluster, the
// hub: the kubeconfig under localcluster.ClusterSecretKey, the labels plus
// localcluster.SecretTypeLabel=cluster (see localcluster.ApplyClusterSecret). Labels put
// earlier and left out now are removed.
func (e *Env) PutClusterSecret(ctx context.Context, namespace, name string, kubeconfig []byte, labels map[string]string) error {
	return localcluster.ApplyClusterSecret(ctx, e.Clientset, namespace, name, kubeconfig, labels)
}
