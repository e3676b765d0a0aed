package watcher

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/applier"
)

// TestTypedChildrenKeepTheSameHealth: a child decoded from protobuf into client-go's types is
// cached exactly as the same child decoded from JSON — metadata, health and bosun's field shape —
// though its pod template and managedFields are dropped before the health is computed.
func TestTypedChildrenKeepTheSameHealth(t *testing.T) {
	meta := func(gen int64) metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name: "web", Namespace: "ns", UID: "u1", ResourceVersion: "7", Generation: gen,
			Labels:      map[string]string{applier.LabelOwnerUID: "owner"},
			Annotations: map[string]string{applier.AnnotationConfigHash: "h"},
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager: applier.FieldManager, Operation: metav1.ManagedFieldsOperationApply, APIVersion: "apps/v1",
				FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)},
			}},
		}
	}
	template := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}
	deployment := func(ready int32) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: meta(2),
			Spec: appsv1.DeploymentSpec{Replicas: new(int32(2)), Template: template},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2,
				ReadyReplicas: ready, AvailableReplicas: ready, Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue},
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
				}}}
	}
	job := &batchv1.Job{ObjectMeta: meta(1), Spec: batchv1.JobSpec{Template: template},
		Status: batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	service := &corev1.Service{ObjectMeta: meta(1), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	// Only the spec and status are converted for kstatus: the generation and the deletion
	// must still reach it from the metadata.
	unobserved := deployment(2)
	unobserved.Generation = 3
	deleting := deployment(2)
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC).Local()}
	deleting.Finalizers = []string{"example.com/hold"}
	deleting.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "o", UID: "o1"}}

	for _, tc := range []struct {
		obj    runtime.Object
		gvk    schema.GroupVersionKind
		health string
	}{
		{deployment(1), appsv1.SchemeGroupVersion.WithKind("Deployment"), "InProgress"},
		{deployment(2), appsv1.SchemeGroupVersion.WithKind("Deployment"), "Current"},
		{unobserved, appsv1.SchemeGroupVersion.WithKind("Deployment"), "InProgress"},
		{deleting, appsv1.SchemeGroupVersion.WithKind("Deployment"), "Terminating"},
		{job, batchv1.SchemeGroupVersion.WithKind("Job"), "Current"},
		{service, corev1.SchemeGroupVersion.WithKind("Service"), "InProgress"},
	} {
		c := newChildren(nil, nil, nil, nil, "", false, nil, func(types.UID, string) {})
		content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(tc.obj.DeepCopyObject())
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: content}
		u.SetGroupVersionKind(tc.gvk)
		want, err := c.keepHealth(u)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.keepTypedHealth(tc.gvk)(tc.obj)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: typed child cached as\n%#v\nwant (from JSON)\n%#v", tc.gvk.Kind, got, want)
		}
		if h := got.(*metav1.PartialObjectMetadata).Annotations[healthKey]; h != tc.health {
			t.Errorf("%s: health %q, want %q", tc.gvk.Kind, h, tc.health)
		}
		if got.(*metav1.PartialObjectMetadata).Annotations[shapeKey] == "" {
			t.Errorf("%s: bosun's field shape was lost with the managedFields", tc.gvk.Kind)
		}
	}
}

// BenchmarkKeepTypedHealth is the cost of caching one status update of a Deployment, the
// event bosun reads most of with Sites.
func BenchmarkKeepTypedHealth(b *testing.B) {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "u1", ResourceVersion: "7", Generation: 1,
			Labels:          map[string]string{applier.LabelOwnerUID: "owner", "app": "web", "bosun.dev/owner": "site-1", "bosun.dev/watch": "sites"},
			Annotations:     map[string]string{applier.AnnotationConfigHash: "h", "deployment.kubernetes.io/revision": "1"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "Site", Name: "site-1", UID: "owner"}}},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32(1)), Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability."},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", Message: `ReplicaSet "web-5d4f" has successfully progressed.`},
			}}}
	c := newChildren(nil, nil, nil, nil, "", false, nil, func(types.UID, string) {})
	keep := c.keepTypedHealth(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keep(d.DeepCopy()); err != nil {
			b.Fatal(err)
		}
	}
}
