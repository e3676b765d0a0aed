package applier

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestPolicyAllowsNamespace(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		ns     string
		want   bool
	}{
		{name: "no namespaces allow no other namespace", policy: Policy{}, ns: "team-b", want: false},
		{name: "a listed namespace is allowed", policy: Policy{Namespaces: []string{"shared", "team-b"}}, ns: "team-b", want: true},
		{name: "an unlisted namespace is refused", policy: Policy{Namespaces: []string{"shared"}}, ns: "team-b", want: false},
		{name: "a star allows any namespace", policy: Policy{Namespaces: []string{"*"}}, ns: "team-b", want: true},
		{name: "a star does not stand for cluster scope", policy: Policy{Namespaces: []string{"*"}}, ns: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.AllowsNamespace(tt.ns); got != tt.want {
				t.Errorf("AllowsNamespace(%q) = %t, want %t", tt.ns, got, tt.want)
			}
		})
	}
}

func TestPolicyAllowsKind(t *testing.T) {
	deployment := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	configMap := schema.GroupKind{Kind: "ConfigMap"}
	tests := []struct {
		name   string
		policy Policy
		gk     schema.GroupKind
		want   bool
	}{
		{name: "no kinds allow any kind", policy: Policy{}, gk: deployment, want: true},
		{name: "a listed kind is allowed", policy: Policy{Kinds: []schema.GroupKind{configMap, deployment}}, gk: deployment, want: true},
		{name: "an unlisted kind is refused", policy: Policy{Kinds: []schema.GroupKind{configMap}}, gk: deployment, want: false},
		{name: "a kind of another group is refused", policy: Policy{Kinds: []schema.GroupKind{{Group: "extensions", Kind: "Deployment"}}}, gk: deployment, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.AllowsKind(tt.gk); got != tt.want {
				t.Errorf("AllowsKind(%s) = %t, want %t", tt.gk, got, tt.want)
			}
		})
	}
}
