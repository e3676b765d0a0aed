package testenv_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/bosun-dev/bosun/internal/localcluster"
	"github.com/bosun-dev/bosun/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, localcluster.Options{}, &env))
}

const widgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.smoke.bosun.dev
spec:
  group: smoke.bosun.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`

var widgetGVR = schema.GroupVersionResource{Group: "smoke.bosun.dev", Version: "v1", Resource: "widgets"}

func TestCustomResourceRoundTrip(t *testing.T) {
	testenv.ApplyYAML(t, env.RESTConfig(), widgetCRD)
	testenv.WaitCRDEstablished(t, env.RESTConfig(), "widgets.smoke.bosun.dev")
	ns := env.CreateNamespace(t, "smoke")

	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "smoke.bosun.dev/v1",
		"kind":       "Widget",
		"metadata":   map[string]any{"name": "w1"},
		"spec":       map[string]any{"size": int64(3)},
	}}
	if _, err := env.Dynamic.Resource(widgetGVR).Namespace(ns).Create(context.Background(), w, metav1.CreateOptions{}); err != nil {
		t.Fatalf("Widget/%s/w1: create: %v", ns, err)
	}
	got, err := env.Dynamic.Resource(widgetGVR).Namespace(ns).Get(context.Background(), "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Widget/%s/w1: get: %v", ns, err)
	}
	size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size")
	if diff := cmp.Diff(int64(3), size); diff != "" {
		t.Errorf("spec.size (-want +got):\n%s", diff)
	}
}

func TestApplyYAMLAppliesCustomResourceRightAfterItsCRD(t *testing.T) {
	ns := env.CreateNamespace(t, "smoke")
	// Its own CRD, so that no other test has installed it already.
	gadgetCRD := strings.NewReplacer("widget", "gadget", "Widget", "Gadget").Replace(widgetCRD)
	objs := testenv.ApplyYAML(t, env.RESTConfig(), gadgetCRD+`---
apiVersion: smoke.bosun.dev/v1
kind: Gadget
metadata: {name: g1, namespace: `+ns+`}
spec: {size: 5}
`)
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+o.GetName())
	}
	want := []string{"CustomResourceDefinition/gadgets.smoke.bosun.dev", "Gadget/g1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("applied objects (-want +got):\n%s", diff)
	}
}

type managedField struct {
	Manager   string
	Operation metav1.ManagedFieldsOperationType
}

func TestServerSideApplyRecordsFieldManager(t *testing.T) {
	ns := env.CreateNamespace(t, "smoke")
	cm := corev1apply.ConfigMap("applied", ns).WithData(map[string]string{"k": "v"})
	got, err := env.Clientset.CoreV1().ConfigMaps(ns).Apply(context.Background(), cm,
		metav1.ApplyOptions{FieldManager: "bosun-smoke", Force: true})
	if err != nil {
		t.Fatalf("ConfigMap/%s/applied: apply: %v", ns, err)
	}
	var managers []managedField
	for _, f := range got.ManagedFields {
		managers = append(managers, managedField{f.Manager, f.Operation})
	}
	want := []managedField{{"bosun-smoke", metav1.ManagedFieldsOperationApply}}
	if diff := cmp.Diff(want, managers); diff != "" {
		t.Errorf("managedFields (-want +got):\n%s", diff)
	}
}

func TestDeleteWithUIDPrecondition(t *testing.T) {
	ns := env.CreateNamespace(t, "smoke")
	cms := env.Clientset.CoreV1().ConfigMaps(ns)
	cm, err := cms.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("ConfigMap/%s/doomed: create: %v", ns, err)
	}

	tests := []struct {
		name         string
		uid          types.UID
		wantConflict bool
		wantGone     bool
	}{
		{name: "a wrong uid is rejected with a conflict", uid: "00000000-0000-0000-0000-000000000000", wantConflict: true},
		{name: "the right uid deletes", uid: cm.UID, wantGone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cms.Delete(context.Background(), "doomed", metav1.DeleteOptions{
				Preconditions: &metav1.Preconditions{UID: &tt.uid},
			})
			if got := apierrors.IsConflict(err); got != tt.wantConflict {
				t.Fatalf("delete: conflict = %v, want %v (err: %v)", got, tt.wantConflict, err)
			}
			if !tt.wantConflict && err != nil {
				t.Fatalf("delete: %v", err)
			}
			_, err = cms.Get(context.Background(), "doomed", metav1.GetOptions{})
			if got := apierrors.IsNotFound(err); got != tt.wantGone {
				t.Errorf("gone = %v, want %v (get err: %v)", got, tt.wantGone, err)
			}
		})
	}
}

func TestEventuallyRetriesUntilSuccess(t *testing.T) {
	calls := 0
	testenv.Eventually(t, 5*time.Second, func() error {
		calls++
		if calls < 3 {
			return apierrors.NewNotFound(schema.GroupResource{Resource: "things"}, "x")
		}
		return nil
	})
	if diff := cmp.Diff(3, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}
