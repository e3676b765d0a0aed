package lookup

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/applier"
)

func TestLookupIsConfinedLikeChildren(t *testing.T) {
	owner := &unstructured.Unstructured{}
	owner.SetNamespace("team-a")
	tests := []struct {
		name       string
		policy     applier.Policy
		namespaced bool
		namespace  string
		allowed    bool
	}{
		{"the owner's namespace", applier.Policy{}, true, "team-a", true},
		{"another tenant's namespace", applier.Policy{}, true, "team-b", false},
		{"a namespace children.namespaces allows", applier.Policy{Namespaces: []string{"shared"}}, true, "shared", true},
		{"every namespace, by default", applier.Policy{}, true, "", false},
		{"every namespace, when children may go anywhere", applier.Policy{Namespaces: []string{applier.AnyNamespace}}, true, "", true},
		{"a cluster-scoped kind, by default", applier.Policy{}, false, "", false},
		{"a cluster-scoped kind with children.clusterScoped", applier.Policy{ClusterScoped: true}, false, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Reader{Policy: tc.policy}
			if err := r.allowed(owner, tc.namespaced, tc.namespace); (err == nil) != tc.allowed {
				t.Errorf("allowed = %v (%v), want %v", err == nil, err, tc.allowed)
			}
		})
	}
}
