package applier

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func entry(manager string, op metav1.ManagedFieldsOperationType, subresource, fields string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Subresource: subresource, FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
}

func TestShapesTellWhetherBosunStillOwnsItsFields(t *testing.T) {
	rendered := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "ns", "labels": map[string]any{"app": "web"}},
		"spec": map[string]any{
			"replicas": int64(2),
			"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
			"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx"}}}},
		},
	}
	// What the API server records for that apply: the selector is an atomic map, containers
	// an associative list.
	applied := `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},` +
		`"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`
	cases := []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    bool
	}{
		{"bosun owns every rendered field", []metav1.ManagedFieldsEntry{entry("bosun", metav1.ManagedFieldsOperationApply, "", applied)}, true},
		{"status updates by a controller do not matter", []metav1.ManagedFieldsEntry{
			entry("bosun", metav1.ManagedFieldsOperationApply, "", applied),
			entry("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "status", `{"f:status":{"f:replicas":{}}}`),
		}, true},
		{"a field taken over by a hand edit", []metav1.ManagedFieldsEntry{
			entry("bosun", metav1.ManagedFieldsOperationApply, "", `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:selector":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{}}}}}}`),
			entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, "", `{"f:spec":{"f:replicas":{}}}`),
		}, false},
		{"a label removed by hand", []metav1.ManagedFieldsEntry{entry("bosun", metav1.ManagedFieldsOperationApply, "", `{"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{}}}}}}`)}, false},
		{"no apply entry of bosun", []metav1.ManagedFieldsEntry{entry("someone", metav1.ManagedFieldsOperationApply, "", applied)}, false},
		{"bosun owns more than it renders now", []metav1.ManagedFieldsEntry{entry("bosun", metav1.ManagedFieldsOperationApply, "", applied[:len(applied)-1]+`,"f:paused":{}}`)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ShapesMatch(RenderedShape(rendered), ManagedShape(tc.entries, "bosun")); got != tc.want {
				t.Errorf("ShapesMatch = %v, want %v (rendered %q, managed %q)", got, tc.want, RenderedShape(rendered), ManagedShape(tc.entries, "bosun"))
			}
		})
	}
}
