package applier

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The shape benchmarks use a Deployment as the API server recorded it (testdata/shapes): two
// containers with env, ports and volume mounts, and a volume.

// BenchmarkRenderedShape measures the shape of one rendered Deployment, taken when a child is
// checked without memory of its last apply (after a restart).
func BenchmarkRenderedShape(b *testing.B) {
	c := loadShapeCase(b, "deployment-unchanged")
	b.ReportAllocs()
	for b.Loop() {
		if RenderedShape(c.Rendered) == "" {
			b.Fatal("empty shape")
		}
	}
}

// BenchmarkManagedShape measures the shape of bosun's managedFields entry, taken by the
// children cache's transform for every version of a child it receives.
func BenchmarkManagedShape(b *testing.B) {
	c := loadShapeCase(b, "deployment-unchanged")
	b.ReportAllocs()
	for b.Loop() {
		if ManagedShape(c.ManagedFields, FieldManager) == "" {
			b.Fatal("empty shape")
		}
	}
}

// BenchmarkShapesMatch measures the comparison of the two.
func BenchmarkShapesMatch(b *testing.B) {
	c := loadShapeCase(b, "deployment-unchanged")
	rendered, managed := RenderedShape(c.Rendered), ManagedShape(c.ManagedFields, FieldManager)
	b.ReportAllocs()
	for b.Loop() {
		if !ShapesMatch(rendered, managed) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkUpToDateAfterRestart measures the check of one child bosun has no memory of (the
// first reconcile after a restart): config hash, labels, and the two shapes compared.
func BenchmarkUpToDateAfterRestart(b *testing.B) {
	c := loadShapeCase(b, "deployment-unchanged")
	u := &unstructured.Unstructured{Object: c.Rendered}
	o := Object{Ref: Ref{Group: "apps", Kind: "Deployment", Namespace: u.GetNamespace(), Name: u.GetName()}, Object: u, Hash: u.GetAnnotations()[AnnotationConfigHash]}
	live := Child{Ref: o.Ref, UID: "u", ResourceVersion: "1", Labels: u.GetLabels(), Annotations: u.GetAnnotations(),
		Shape: ManagedShape(c.ManagedFields, FieldManager)}
	m := New(nil, nil, testMapper(), Options{})
	b.ReportAllocs()
	for b.Loop() {
		if !m.upToDate(o, live) {
			b.Fatal("not up to date")
		}
		m.forget("u")
	}
}
