package applier

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestUpToDate(t *testing.T) {
	unchanged, edited := loadShapeCase(t, "deployment-unchanged"), loadShapeCase(t, "deployment-image-edited")
	u := &unstructured.Unstructured{Object: unchanged.Rendered}
	o := Object{Ref: Ref{Group: "apps", Kind: "Deployment", Namespace: u.GetNamespace(), Name: u.GetName()}, Object: u, Hash: u.GetAnnotations()[AnnotationConfigHash]}
	child := func(rv string, generation int64, c shapeCase) Child {
		return Child{Ref: o.Ref, UID: "u", ResourceVersion: rv, Generation: generation, Labels: u.GetLabels(), Annotations: u.GetAnnotations(),
			Shape: ManagedShape(c.ManagedFields, FieldManager)}
	}
	applied := &appliedState{hash: o.Hash, resourceVersion: "20", generation: 3, replaced: "10"}
	cases := []struct {
		name       string
		remembered *appliedState
		live       Child
		want       bool
	}{
		{"nothing changed since bosun's write", applied, child("20", 3, unchanged), true},
		{"only the status changed", applied, child("21", 3, unchanged), true},
		{"the cache still shows the version bosun wrote over", applied, child("10", 2, edited), true},
		{"the cache still shows an older generation", applied, child("15", 2, edited), true},
		{"the spec changed after bosun's write", applied, child("30", 4, edited), false},
		{"the rendering changed", &appliedState{hash: "other", resourceVersion: "20", generation: 3}, child("20", 3, unchanged), false},
		{"after a restart, a child as bosun left it", nil, child("20", 3, unchanged), true},
		{"after a restart, a container image edited by hand", nil, child("20", 3, edited), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New(nil, nil, testMapper(), Options{})
			if tc.remembered != nil {
				m.remember("u", *tc.remembered)
			}
			if got := m.upToDate(o, tc.live); got != tc.want {
				t.Errorf("upToDate = %v, want %v", got, tc.want)
			}
		})
	}
}
