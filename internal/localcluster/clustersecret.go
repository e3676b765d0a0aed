package localcluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// A cluster Secret is how a hub cluster addresses a workload cluster: the workload cluster's
// kubeconfig under ClusterSecretKey, labelled SecretTypeLabel=SecretTypeCluster and, by
// convention, ClusterNameLabel=<the cluster's name>.
const (
	SecretTypeLabel   = "bosun.dev/secret-type"
	SecretTypeCluster = "cluster"
	ClusterNameLabel  = "bosun.dev/cluster-name"
	ClusterSecretKey  = "value"
)

// FieldManager is the field manager the package applies with; hack/local-cluster recognises
// the cluster Secrets it wrote by it.
const FieldManager = "bosun-localcluster"

// ApplyClusterSecret creates or updates the cluster Secret namespace/name with the kubeconfig
// and the labels plus SecretTypeLabel (which a label of the same key cannot override). It
// server-side applies, so labels and data applied earlier and not now are removed. A kubeconfig
// that refers to files is refused: whoever reads the Secret does not have them.
func ApplyClusterSecret(ctx context.Context, cs kubernetes.Interface, namespace, name string, kubeconfig []byte, labels map[string]string) error {
	ref := "Secret/" + namespace + "/" + name
	if err := checkInline(kubeconfig); err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	all := maps.Clone(labels)
	if all == nil {
		all = map[string]string{}
	}
	all[SecretTypeLabel] = SecretTypeCluster
	secret := corev1apply.Secret(name, namespace).
		WithLabels(all).
		WithType(corev1.SecretTypeOpaque).
		WithData(map[string][]byte{ClusterSecretKey: kubeconfig})
	if _, err := cs.CoreV1().Secrets(namespace).Apply(ctx, secret, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return fmt.Errorf("%s: apply: %w", ref, err)
	}
	return nil
}

// checkInline parses the kubeconfig and refuses file references, all of them at once.
func checkInline(kubeconfig []byte) error {
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	var errs []error
	refers := func(what, path string) {
		if path != "" {
			errs = append(errs, fmt.Errorf("kubeconfig: %s refers to file %s; inline its data", what, path))
		}
	}
	// Sorted, so the message is the same every time.
	for _, name := range slices.Sorted(maps.Keys(cfg.Clusters)) {
		refers("cluster "+name+" certificate-authority", cfg.Clusters[name].CertificateAuthority)
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.AuthInfos)) {
		a := cfg.AuthInfos[name]
		refers("user "+name+" client-certificate", a.ClientCertificate)
		refers("user "+name+" client-key", a.ClientKey)
		refers("user "+name+" tokenFile", a.TokenFile)
	}
	return errors.Join(errs...)
}
