package lookup

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/applier"
)

func TestLookupIsConfinedLikeChildren(t *testing.T) {
	owner := &unstructured.Unstructured{}
	owner.SetNamespace("team-a")
	configMap := schema.GroupKind{Kind: "ConfigMap"}
	secret := schema.GroupKind{Kind: "Secret"}
	namespace := schema.GroupKind{Kind: "Namespace"}
	shared := applier.Policy{Namespaces: []string{"shared"}}
	tests := []struct {
		name       string
		policy     applier.Policy
		kinds      []schema.GroupKind // lookup.kinds
		gk         schema.GroupKind
		namespaced bool
		namespace  string
		allowed    bool
	}{
		{"the owner's namespace", applier.Policy{}, nil, configMap, true, "team-a", true},
		{"a Secret of the owner's namespace", applier.Policy{}, nil, secret, true, "team-a", true},
		{"another tenant's namespace", applier.Policy{}, nil, configMap, true, "team-b", false},
		{"a namespace children.namespaces allows", shared, nil, configMap, true, "shared", true},
		{"a Secret of a namespace children.namespaces allows", shared, nil, secret, true, "shared", false},
		{"a Secret of a shared namespace that lookup.kinds names", shared, []schema.GroupKind{secret}, secret, true, "shared", true},
		{"a kind lookup.kinds leaves out, in a shared namespace", shared, []schema.GroupKind{secret}, configMap, true, "shared", false},
		{"a kind lookup.kinds leaves out, in the owner's namespace", shared, []schema.GroupKind{secret}, configMap, true, "team-a", true},
		{"every namespace, by default", applier.Policy{}, nil, configMap, true, "", false},
		{"every namespace, when children may go anywhere", applier.Policy{Namespaces: []string{applier.AnyNamespace}}, nil, configMap, true, "", true},
		{"Secrets of every namespace, when children may go anywhere", applier.Policy{Namespaces: []string{applier.AnyNamespace}}, nil, secret, true, "", false},
		{"a cluster-scoped kind, by default", applier.Policy{}, nil, namespace, false, "", false},
		{"a cluster-scoped kind with children.clusterScoped", applier.Policy{ClusterScoped: true}, nil, namespace, false, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Reader{Policy: tc.policy, Kinds: tc.kinds}
			if err := r.allowed(owner, tc.gk, tc.namespaced, tc.namespace); (err == nil) != tc.allowed {
				t.Errorf("allowed = %v (%v), want %v", err == nil, err, tc.allowed)
			}
		})
	}
}
