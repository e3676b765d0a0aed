package applier

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestInTillerRelease(t *testing.T) {
	owner := &unstructured.Unstructured{}
	owner.SetName("web")
	owner.SetNamespace("team-a")
	obj := func(namespace string, labels map[string]string) *metav1.PartialObjectMetadata {
		return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "web-config", Namespace: namespace, Labels: labels}}
	}
	tests := []struct {
		name string
		obj  *metav1.PartialObjectMetadata
		want bool
	}{
		{"heritage Tiller and release named after the owner", obj("team-a", map[string]string{"heritage": "Tiller", "release": "web", "chart": "app-0.1.0"}), true},
		{"the recommended labels with managed-by Tiller", obj("team-a", map[string]string{"app.kubernetes.io/managed-by": "Tiller", "app.kubernetes.io/instance": "web"}), true},
		{"a cluster-scoped object of the release", obj("", map[string]string{"heritage": "Tiller", "release": "web"}), true},
		{"another release", obj("team-a", map[string]string{"heritage": "Tiller", "release": "lostromos-web"}), false},
		{"another namespace", obj("team-b", map[string]string{"heritage": "Tiller", "release": "web"}), false},
		{"a release label without heritage Tiller", obj("team-a", map[string]string{"release": "web"}), false},
		{"heritage Helm: a Helm 3 chart's label, told by its annotations instead", obj("team-a", map[string]string{"heritage": "Helm", "release": "web"}), false},
		{"mixed spellings do not make a release", obj("team-a", map[string]string{"heritage": "Tiller", "app.kubernetes.io/instance": "web"}), false},
		{"an object bosun already manages for an owner", obj("team-a", map[string]string{"heritage": "Tiller", "release": "web", LabelOwnerUID: "1234"}), false},
		{"no labels", obj("team-a", nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inTillerRelease(owner, tt.obj); got != tt.want {
				t.Errorf("inTillerRelease(%v in %q) = %t, want %t", tt.obj.Labels, tt.obj.Namespace, got, tt.want)
			}
		})
	}
}

func TestCheckOwnershipNamesTheTillerRelease(t *testing.T) {
	owner := &unstructured.Unstructured{}
	owner.SetName("web")
	owner.SetNamespace("team-a")
	owner.SetUID("5678")
	ref := Ref{Kind: "ConfigMap", Namespace: "team-a", Name: "web-config"}
	tiller := map[string]string{"heritage": "Tiller", "release": "web"}

	err := checkOwnership(&Plan{Owner: owner}, ref, tiller)
	want := "of the Tiller (Helm 2) release web (set children.adoptHelmReleases: true to take over the owner's release)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("without adoptHelmReleases: err = %v, want it to say %q", err, want)
	}
	if err := checkOwnership(&Plan{Owner: owner, Policy: Policy{Adopt: true}}, ref, tiller); err != nil {
		t.Errorf("with children.adopt: %v, want it adopted", err)
	}
}
