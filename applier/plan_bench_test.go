package applier

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// BenchmarkPlan measures planning one Site-like owner's three children: mapping, labels,
// ownerReference, hashes and shapes — the work every reconcile does before any request.
func BenchmarkPlan(b *testing.B) {
	m := New(nil, nil, testMapper(), Options{})
	owner := testOwner()
	rendered := func() []*unstructured.Unstructured {
		cm := obj("v1", "ConfigMap", "", "web-content")
		cm.Object["data"] = map[string]any{"index.html": "<html><body><h1>hello</h1></body></html>"}
		d := obj("apps/v1", "Deployment", "", "web")
		d.Object["spec"] = map[string]any{
			"replicas": int64(2),
			"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": "web", "image": "nginx:1.27",
					"ports": []any{map[string]any{"name": "http", "containerPort": int64(80)}},
				}}},
			},
		}
		svc := obj("v1", "Service", "", "web")
		svc.Object["spec"] = map[string]any{"selector": map[string]any{"app": "web"}, "ports": []any{map[string]any{"port": int64(80)}}}
		return []*unstructured.Unstructured{cm, d, svc}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Plan(owner, rendered, permissive); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpToDate measures the check that lets an unchanged child go without a request.
func BenchmarkUpToDate(b *testing.B) {
	m := New(nil, nil, testMapper(), Options{})
	d := obj("apps/v1", "Deployment", "", "web")
	d.Object["spec"] = map[string]any{"replicas": int64(2)}
	p, err := m.Plan(testOwner(), []*unstructured.Unstructured{d}, permissive)
	if err != nil {
		b.Fatal(err)
	}
	o := p.Objects[0]
	live := Child{Ref: o.Ref, UID: "u", ResourceVersion: "1", Labels: o.Object.GetLabels(), Annotations: o.Object.GetAnnotations()}
	m.remember("u", appliedState{hash: o.Hash, resourceVersion: "1"})
	b.ReportAllocs()
	for b.Loop() {
		if !m.upToDate(o, live) {
			b.Fatal("not up to date")
		}
	}
}
