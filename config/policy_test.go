package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestLoadAcceptsStatusEnabledAsBooleanOrString(t *testing.T) {
	tests := []struct {
		name    string
		enabled string
		want    StatusMode
	}{
		{name: "an unset value means auto", enabled: "", want: StatusAuto},
		{name: "an empty status means auto", enabled: "status: {}", want: StatusAuto},
		{name: "auto is auto", enabled: "status: {enabled: auto}", want: StatusAuto},
		{name: "the boolean true turns status on", enabled: "status: {enabled: true}", want: StatusOn},
		{name: "the boolean false turns status off", enabled: "status: {enabled: false}", want: StatusOff},
		{name: `the string "true" turns status on`, enabled: `status: {enabled: "true"}`, want: StatusOn},
		{name: `the string "false" turns status off`, enabled: `status: {enabled: "false"}`, want: StatusOff},
	}
	templates, err := filepath.Abs("testdata/templates/site")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "status.yaml")
			config := "watch: {version: v1, kind: ConfigMap}\ntemplates: " + templates + "\n" + tt.enabled + "\n"
			if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			w, err := LoadFile(file)
			if err != nil {
				t.Fatalf("LoadFile(%q): %v", file, err)
			}
			if diff := cmp.Diff(tt.want, w.Status.Enabled); diff != "" {
				t.Errorf("status.enabled mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChildPolicyAllowsNamespace(t *testing.T) {
	tests := []struct {
		name   string
		policy ChildPolicy
		ns     string
		want   bool
	}{
		{name: "no namespaces allow no other namespace", policy: ChildPolicy{}, ns: "team-b", want: false},
		{name: "a listed namespace is allowed", policy: ChildPolicy{Namespaces: []string{"shared", "team-b"}}, ns: "team-b", want: true},
		{name: "an unlisted namespace is refused", policy: ChildPolicy{Namespaces: []string{"shared"}}, ns: "team-b", want: false},
		{name: "a star allows any namespace", policy: ChildPolicy{Namespaces: []string{"*"}}, ns: "team-b", want: true},
		{name: "a star does not stand for cluster scope", policy: ChildPolicy{Namespaces: []string{"*"}}, ns: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.AllowsNamespace(tt.ns); got != tt.want {
				t.Errorf("AllowsNamespace(%q) = %t, want %t", tt.ns, got, tt.want)
			}
		})
	}
}

func TestChildPolicyAllowsKind(t *testing.T) {
	deployment := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	configMap := schema.GroupKind{Kind: "ConfigMap"}
	tests := []struct {
		name   string
		policy ChildPolicy
		gk     schema.GroupKind
		want   bool
	}{
		{name: "no kinds allow any kind", policy: ChildPolicy{}, gk: deployment, want: true},
		{name: "a listed kind is allowed", policy: ChildPolicy{Kinds: []schema.GroupKind{configMap, deployment}}, gk: deployment, want: true},
		{name: "an unlisted kind is refused", policy: ChildPolicy{Kinds: []schema.GroupKind{configMap}}, gk: deployment, want: false},
		{name: "a kind of another group is refused", policy: ChildPolicy{Kinds: []schema.GroupKind{{Group: "extensions", Kind: "Deployment"}}}, gk: deployment, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.AllowsKind(tt.gk); got != tt.want {
				t.Errorf("AllowsKind(%s) = %t, want %t", tt.gk, got, tt.want)
			}
		})
	}
}

func TestChildPolicyIgnoredPaths(t *testing.T) {
	deployment := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	policy := ChildPolicy{Ignore: []IgnoreRule{
		{Kind: schema.GroupKind{Kind: "ConfigMap"}, Paths: [][]string{{"data"}}},
		{Kind: deployment, Paths: [][]string{{"spec", "replicas"}}},
	}}
	tests := []struct {
		name string
		gk   schema.GroupKind
		want [][]string
	}{
		{name: "a kind with a rule gets its paths", gk: deployment, want: [][]string{{"spec", "replicas"}}},
		{name: "a kind without a rule gets none", gk: schema.GroupKind{Kind: "Secret"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, policy.IgnoredPaths(tt.gk)); diff != "" {
				t.Errorf("IgnoredPaths(%s) mismatch (-want +got):\n%s", tt.gk, diff)
			}
		})
	}
}
