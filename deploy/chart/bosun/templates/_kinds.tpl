{{- /* Generated from internal/kinds and bosun rbac's commonChildKinds by go test ./internal/cli -update; do not edit. */ -}}

{{- /* bosun.builtinKinds: the built-in kinds bosun knows without a cluster, "Kind.group" ("Kind" for core kinds) → resource, scope, status subresource. */ -}}
{{- define "bosun.builtinKinds" -}}
APIService.apiregistration.k8s.io: {resource: apiservices, clusterScoped: true, status: true}
CSIDriver.storage.k8s.io: {resource: csidrivers, clusterScoped: true, status: false}
ClusterRole.rbac.authorization.k8s.io: {resource: clusterroles, clusterScoped: true, status: false}
ClusterRoleBinding.rbac.authorization.k8s.io: {resource: clusterrolebindings, clusterScoped: true, status: false}
ConfigMap: {resource: configmaps, clusterScoped: false, status: false}
ControllerRevision.apps: {resource: controllerrevisions, clusterScoped: false, status: false}
CronJob.batch: {resource: cronjobs, clusterScoped: false, status: true}
CustomResourceDefinition.apiextensions.k8s.io: {resource: customresourcedefinitions, clusterScoped: true, status: true}
DaemonSet.apps: {resource: daemonsets, clusterScoped: false, status: true}
Deployment.apps: {resource: deployments, clusterScoped: false, status: true}
EndpointSlice.discovery.k8s.io: {resource: endpointslices, clusterScoped: false, status: false}
Endpoints: {resource: endpoints, clusterScoped: false, status: false}
Event: {resource: events, clusterScoped: false, status: false}
Event.events.k8s.io: {resource: events, clusterScoped: false, status: false}
HorizontalPodAutoscaler.autoscaling: {resource: horizontalpodautoscalers, clusterScoped: false, status: true}
Ingress.networking.k8s.io: {resource: ingresses, clusterScoped: false, status: true}
IngressClass.networking.k8s.io: {resource: ingressclasses, clusterScoped: true, status: false}
Job.batch: {resource: jobs, clusterScoped: false, status: true}
Lease.coordination.k8s.io: {resource: leases, clusterScoped: false, status: false}
LimitRange: {resource: limitranges, clusterScoped: false, status: false}
MutatingWebhookConfiguration.admissionregistration.k8s.io: {resource: mutatingwebhookconfigurations, clusterScoped: true, status: false}
Namespace: {resource: namespaces, clusterScoped: true, status: true}
NetworkPolicy.networking.k8s.io: {resource: networkpolicies, clusterScoped: false, status: false}
Node: {resource: nodes, clusterScoped: true, status: true}
PersistentVolume: {resource: persistentvolumes, clusterScoped: true, status: true}
PersistentVolumeClaim: {resource: persistentvolumeclaims, clusterScoped: false, status: true}
Pod: {resource: pods, clusterScoped: false, status: true}
PodDisruptionBudget.policy: {resource: poddisruptionbudgets, clusterScoped: false, status: true}
PodTemplate: {resource: podtemplates, clusterScoped: false, status: false}
PriorityClass.scheduling.k8s.io: {resource: priorityclasses, clusterScoped: true, status: false}
ReplicaSet.apps: {resource: replicasets, clusterScoped: false, status: true}
ReplicationController: {resource: replicationcontrollers, clusterScoped: false, status: true}
ResourceQuota: {resource: resourcequotas, clusterScoped: false, status: true}
Role.rbac.authorization.k8s.io: {resource: roles, clusterScoped: false, status: false}
RoleBinding.rbac.authorization.k8s.io: {resource: rolebindings, clusterScoped: false, status: false}
RuntimeClass.node.k8s.io: {resource: runtimeclasses, clusterScoped: true, status: false}
Secret: {resource: secrets, clusterScoped: false, status: false}
Service: {resource: services, clusterScoped: false, status: true}
ServiceAccount: {resource: serviceaccounts, clusterScoped: false, status: false}
StatefulSet.apps: {resource: statefulsets, clusterScoped: false, status: true}
StorageClass.storage.k8s.io: {resource: storageclasses, clusterScoped: true, status: false}
ValidatingAdmissionPolicy.admissionregistration.k8s.io: {resource: validatingadmissionpolicies, clusterScoped: true, status: true}
ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io: {resource: validatingadmissionpolicybindings, clusterScoped: true, status: false}
ValidatingWebhookConfiguration.admissionregistration.k8s.io: {resource: validatingwebhookconfigurations, clusterScoped: true, status: false}
VolumeAttachment.storage.k8s.io: {resource: volumeattachments, clusterScoped: true, status: true}
{{- end }}

{{- /* bosun.commonChildKinds: the children's kinds of a watch without children.kinds. */ -}}
{{- define "bosun.commonChildKinds" -}}
- ConfigMap
- PersistentVolumeClaim
- Secret
- Service
- ServiceAccount
- DaemonSet.apps
- Deployment.apps
- StatefulSet.apps
- HorizontalPodAutoscaler.autoscaling
- CronJob.batch
- Job.batch
- Ingress.networking.k8s.io
- NetworkPolicy.networking.k8s.io
- PodDisruptionBudget.policy
{{- end }}
