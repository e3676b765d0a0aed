package applier

import "k8s.io/apimachinery/pkg/runtime/schema"

// installOrder ranks kinds so that what others depend on is applied first (and deleted last):
// namespaces and CRDs, then policy, identity and configuration, then workloads. The list
// follows Helm's install order, which users already know; unknown kinds, custom resources
// included, come last.
var installOrder = func() map[string]int {
	kinds := []string{
		"Namespace", "CustomResourceDefinition", "NetworkPolicy", "ResourceQuota", "LimitRange",
		"PodDisruptionBudget", "ServiceAccount", "Secret", "ConfigMap", "StorageClass",
		"PersistentVolume", "PersistentVolumeClaim", "ClusterRole", "ClusterRoleBinding", "Role",
		"RoleBinding", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet",
		"Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass",
		"Ingress", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
	}
	m := make(map[string]int, len(kinds))
	for i, k := range kinds {
		m[k] = i
	}
	return m
}()

// rank orders one kind for apply; lower goes first.
func rank(gk schema.GroupKind) int {
	// Only the built-in kinds are ranked by name: a custom kind that happens to be called
	// "Service" must not jump ahead of its CRD.
	if builtinGroups[gk.Group] {
		if r, ok := installOrder[gk.Kind]; ok {
			return r
		}
	}
	return len(installOrder)
}

var builtinGroups = map[string]bool{
	"": true, "apps": true, "batch": true, "policy": true, "networking.k8s.io": true,
	"rbac.authorization.k8s.io": true, "storage.k8s.io": true, "autoscaling": true,
	"apiextensions.k8s.io": true, "apiregistration.k8s.io": true, "admissionregistration.k8s.io": true,
}
