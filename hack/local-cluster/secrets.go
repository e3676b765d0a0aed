package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bosun-dev/bosun/internal/localcluster"
)

// secretsTimeout bounds writing the cluster Secrets into the hub, which is up by then.
const secretsTimeout = 30 * time.Second

// putClusterSecrets writes into the hub's namespace a cluster Secret for each workload
// cluster, and deletes the ones an earlier up wrote for clusters that no longer run, in any
// namespace: their ports are gone, so a controller reading them would only fail on them.
func putClusterSecrets(ctx context.Context, hub *localcluster.Cluster, workloads []*member, namespace string, log io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, secretsTimeout)
	defer cancel()
	cs, err := kubernetes.NewForConfig(hub.RESTConfig())
	if err != nil {
		return fmt.Errorf("hub client: %w", err)
	}
	var names []string
	if len(workloads) > 0 {
		if err := ensureNamespace(ctx, cs, namespace); err != nil {
			return err
		}
	}
	for _, w := range workloads {
		kubeconfig, err := w.cluster.Kubeconfig()
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		labels := map[string]string{localcluster.ClusterNameLabel: w.name}
		if err := localcluster.ApplyClusterSecret(ctx, cs, namespace, w.name, kubeconfig, labels); err != nil {
			return err
		}
		names = append(names, w.name)
	}
	return pruneClusterSecrets(ctx, cs, namespace, names, log)
}

func ensureNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("Namespace/%s: create: %w", name, err)
	}
	return nil
}

// pruneClusterSecrets deletes the cluster Secrets that local-cluster applied
// (localcluster.FieldManager manages them), in any namespace, except those named in keep in
// namespace: an earlier up may have used another --clusters-namespace. Secrets others wrote
// are left alone.
func pruneClusterSecrets(ctx context.Context, cs kubernetes.Interface, namespace string, keep []string, log io.Writer) error {
	list, err := cs.CoreV1().Secrets(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		LabelSelector: localcluster.SecretTypeLabel + "=" + localcluster.SecretTypeCluster,
	})
	if err != nil {
		return fmt.Errorf("Secrets: list: %w", err)
	}
	var errs []error
	for _, s := range list.Items {
		if (s.Namespace == namespace && slices.Contains(keep, s.Name)) || !appliedByLocalCluster(s.ManagedFields) {
			continue
		}
		ref := "Secret/" + s.Namespace + "/" + s.Name
		// The UID precondition spares a Secret someone recreated in the meantime.
		err := cs.CoreV1().Secrets(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &s.UID}})
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: delete: %w", ref, err))
		default:
			fmt.Fprintf(log, "local-cluster: %s deleted: its cluster is not running\n", ref)
		}
	}
	return errors.Join(errs...)
}

func appliedByLocalCluster(fields []metav1.ManagedFieldsEntry) bool {
	return slices.ContainsFunc(fields, func(f metav1.ManagedFieldsEntry) bool {
		return f.Manager == localcluster.FieldManager && f.Operation == metav1.ManagedFieldsOperationApply
	})
}
