package lookup

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/config"
)

func TestLookupIsConfinedLikeChildren(t *testing.T) {
	owner := &unstructured.Unstructured{}
	owner.SetNamespace("team-a")
	tests := []struct {
		name       string
		policy     config.ChildPolicy
		namespaced bool
		namespace  string
		allowed    bool
	}{
		{"the owner's namespace", config.ChildPolicy{}, true, "team-a", true},
		{"another tenant's namespace", config.ChildPolicy{}, true, "team-b", false},
		{"a namespace children.namespaces allows", config.ChildPolicy{Namespaces: []string{"shared"}}, true, "shared", true},
		{"every namespace, by default", config.ChildPolicy{}, true, "", false},
		{"every namespace, when children may go anywhere", config.ChildPolicy{Namespaces: []string{config.AnyNamespace}}, true, "", true},
		{"a cluster-scoped kind, by default", config.ChildPolicy{}, false, "", false},
		{"a cluster-scoped kind with children.clusterScoped", config.ChildPolicy{ClusterScoped: true}, false, "", true},
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
