// Package kinds is the one table of the built-in Kubernetes kinds bosun knows without asking a
// cluster: resource name, scope, status subresource, whether kstatus finds more than existence
// in them, and Helm's install order. The applier orders applies and deletes by it, the watcher
// decides which children are watched in full for their health, and the CLI resolves kinds
// offline (render, check, rbac) from it.
package kinds

import "k8s.io/apimachinery/pkg/runtime/schema"

// Kind is what bosun knows of one built-in kind.
type Kind struct {
	GroupKind schema.GroupKind
	// Resource is the lower-case plural the API serves it under.
	Resource      string
	ClusterScoped bool
	// StatusSubresource: the kind has a /status subresource.
	StatusSubresource bool
	// ExistenceIsHealth: kstatus finds an object of this kind Current once it exists, so its
	// health needs no watch of its content.
	ExistenceIsHealth bool
}

// table lists the built-in kinds templates commonly render or bosun commonly watches.
var table = []Kind{
	{GroupKind: schema.GroupKind{Kind: "ConfigMap"}, Resource: "configmaps", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Kind: "Endpoints"}, Resource: "endpoints", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Kind: "Event"}, Resource: "events"},
	{GroupKind: schema.GroupKind{Kind: "LimitRange"}, Resource: "limitranges", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Kind: "Namespace"}, Resource: "namespaces", ClusterScoped: true, StatusSubresource: true},
	{GroupKind: schema.GroupKind{Kind: "Node"}, Resource: "nodes", ClusterScoped: true, StatusSubresource: true},
	{GroupKind: schema.GroupKind{Kind: "PersistentVolume"}, Resource: "persistentvolumes", ClusterScoped: true, StatusSubresource: true},
	{GroupKind: schema.GroupKind{Kind: "PersistentVolumeClaim"}, Resource: "persistentvolumeclaims", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Kind: "Pod"}, Resource: "pods", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Kind: "PodTemplate"}, Resource: "podtemplates"},
	{GroupKind: schema.GroupKind{Kind: "ReplicationController"}, Resource: "replicationcontrollers", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Kind: "ResourceQuota"}, Resource: "resourcequotas", StatusSubresource: true, ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Kind: "Secret"}, Resource: "secrets", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Kind: "Service"}, Resource: "services", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Kind: "ServiceAccount"}, Resource: "serviceaccounts", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "apps", Kind: "ControllerRevision"}, Resource: "controllerrevisions"},
	{GroupKind: schema.GroupKind{Group: "apps", Kind: "DaemonSet"}, Resource: "daemonsets", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "apps", Kind: "Deployment"}, Resource: "deployments", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}, Resource: "replicasets", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, Resource: "statefulsets", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}, Resource: "horizontalpodautoscalers", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "batch", Kind: "CronJob"}, Resource: "cronjobs", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "batch", Kind: "Job"}, Resource: "jobs", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "coordination.k8s.io", Kind: "Lease"}, Resource: "leases", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "discovery.k8s.io", Kind: "EndpointSlice"}, Resource: "endpointslices", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "events.k8s.io", Kind: "Event"}, Resource: "events"},
	{GroupKind: schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}, Resource: "ingresses", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "networking.k8s.io", Kind: "IngressClass"}, Resource: "ingressclasses", ClusterScoped: true, ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "networking.k8s.io", Kind: "NetworkPolicy"}, Resource: "networkpolicies", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "node.k8s.io", Kind: "RuntimeClass"}, Resource: "runtimeclasses", ClusterScoped: true},
	{GroupKind: schema.GroupKind{Group: "policy", Kind: "PodDisruptionBudget"}, Resource: "poddisruptionbudgets", StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}, Resource: "clusterroles", ClusterScoped: true, ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}, Resource: "clusterrolebindings", ClusterScoped: true, ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "Role"}, Resource: "roles", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}, Resource: "rolebindings", ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "scheduling.k8s.io", Kind: "PriorityClass"}, Resource: "priorityclasses", ClusterScoped: true, ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "storage.k8s.io", Kind: "CSIDriver"}, Resource: "csidrivers", ClusterScoped: true},
	{GroupKind: schema.GroupKind{Group: "storage.k8s.io", Kind: "StorageClass"}, Resource: "storageclasses", ClusterScoped: true, ExistenceIsHealth: true},
	{GroupKind: schema.GroupKind{Group: "storage.k8s.io", Kind: "VolumeAttachment"}, Resource: "volumeattachments", ClusterScoped: true, StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}, Resource: "customresourcedefinitions", ClusterScoped: true, StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "apiregistration.k8s.io", Kind: "APIService"}, Resource: "apiservices", ClusterScoped: true, StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}, Resource: "mutatingwebhookconfigurations", ClusterScoped: true},
	{GroupKind: schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}, Resource: "validatingwebhookconfigurations", ClusterScoped: true},
	{GroupKind: schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}, Resource: "validatingadmissionpolicies", ClusterScoped: true, StatusSubresource: true},
	{GroupKind: schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}, Resource: "validatingadmissionpolicybindings", ClusterScoped: true}}

var byGroupKind = func() map[schema.GroupKind]Kind {
	m := make(map[schema.GroupKind]Kind, len(table))
	for _, k := range table {
		m[k.GroupKind] = k
	}
	return m
}()

// Lookup returns the built-in kind gk, if bosun knows it.
func Lookup(gk schema.GroupKind) (Kind, bool) {
	k, ok := byGroupKind[gk]
	return k, ok
}

// installOrder ranks kinds so that what others depend on is applied first (and deleted last):
// namespaces and CRDs, then policy, identity and configuration, then workloads, then API
// services and webhooks. It follows Helm's install order, which users already know.
var installOrder = []schema.GroupKind{
	{Kind: "Namespace"}, {Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"},
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"}, {Kind: "ResourceQuota"}, {Kind: "LimitRange"},
	{Group: "policy", Kind: "PodDisruptionBudget"}, {Kind: "ServiceAccount"}, {Kind: "Secret"}, {Kind: "ConfigMap"},
	{Group: "storage.k8s.io", Kind: "StorageClass"}, {Kind: "PersistentVolume"}, {Kind: "PersistentVolumeClaim"},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}, {Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"},
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}, {Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"},
	{Kind: "Service"}, {Group: "apps", Kind: "DaemonSet"}, {Kind: "Pod"}, {Kind: "ReplicationController"},
	{Group: "apps", Kind: "ReplicaSet"}, {Group: "apps", Kind: "Deployment"}, {Group: "autoscaling", Kind: "HorizontalPodAutoscaler"},
	{Group: "apps", Kind: "StatefulSet"}, {Group: "batch", Kind: "Job"}, {Group: "batch", Kind: "CronJob"},
	{Group: "networking.k8s.io", Kind: "IngressClass"}, {Group: "networking.k8s.io", Kind: "Ingress"},
	{Group: "apiregistration.k8s.io", Kind: "APIService"},
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"},
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"},
}

var ranks = func() map[schema.GroupKind]int {
	m := make(map[schema.GroupKind]int, len(installOrder))
	for i, gk := range installOrder {
		m[gk] = i
	}
	return m
}()

// Unranked is the install rank of every kind not in Helm's order, custom resources included:
// they come last.
var Unranked = len(installOrder)

// InstallRank is gk's place in Helm's install order, or Unranked. A custom kind that happens
// to be called "Service" is not ranked as one: kinds are matched with their group.
func InstallRank(gk schema.GroupKind) int {
	if r, ok := ranks[gk]; ok {
		return r
	}
	return Unranked
}

// All returns every built-in kind of the table.
func All() []Kind { return append([]Kind(nil), table...) }
