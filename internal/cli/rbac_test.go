package cli

import (
	"bufio"
	"errors"
	"github.com/bosun-dev/bosun/internal/kinds"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func TestRBACDerivesRulesFromTheWatches(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{
			name:   "a watch without children.kinds gets rules for common kinds",
			args:   []string{"rbac", "-c", siteWatch},
			golden: "testdata/rbac/any-kind.yaml",
		},
		{
			name:   "with --namespace the namespaced rules go into a Role there",
			args:   []string{"rbac", "-c", deployWatch, "--namespace", "team-a", "--name", "bosun-team-a"},
			golden: "testdata/rbac/namespaced.yaml",
		},
		{
			name:   "cluster-scoped children stay in a ClusterRole next to the namespaced Role",
			args:   []string{"rbac", "-c", "testdata/rbac/cluster-children.yaml", "-n", "team-a", "--service-account-namespace", "bosun", "--leader-election-id", "tenants"},
			golden: "testdata/rbac/cluster-children.golden.yaml",
		},
		{
			name:   "with --sharding the Lease rules are the membership Leases'",
			args:   []string{"rbac", "-c", deployWatch, "--sharding", "--leader-election-id", "bosun"},
			golden: "testdata/rbac/sharding.golden.yaml",
		},
		{
			name:   "cluster-scoped kinds the child policy refuses get no rules",
			args:   []string{"rbac", "-c", "testdata/rbac/no-cluster-scoped.yaml"},
			golden: "testdata/rbac/no-cluster-scoped.golden.yaml",
		},
		{
			name:   "a watch with workload clusters: the hub reads their Secrets and ClusterProfiles",
			args:   []string{"rbac", "-c", "testdata/rbac/workload.yaml"},
			golden: "testdata/rbac/workload-hub.golden.yaml",
		},
		{
			name:   "--workload-cluster prints the children's rules for a workload cluster",
			args:   []string{"rbac", "-c", "testdata/rbac/workload.yaml", "--workload-cluster", "--service-account-namespace", "bosun-system"},
			golden: "testdata/rbac/workload-cluster.golden.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := bosun(t, "", tt.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			golden(t, tt.golden, stdout)
			decodeRBAC(t, stdout)
		})
	}
}

// decodeRBAC decodes every document of the output strictly as the RBAC object it claims to
// be, so that a typo in a field name fails here and not at kubectl apply.
func decodeRBAC(t *testing.T, manifests string) {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifests)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("document %d: %v", n, err)
		}
		var obj any
		switch head.Kind {
		case "":
			continue // the leading comment
		case "ClusterRole":
			obj = &rbacv1.ClusterRole{}
		case "Role":
			obj = &rbacv1.Role{}
		case "ClusterRoleBinding":
			obj = &rbacv1.ClusterRoleBinding{}
		case "RoleBinding":
			obj = &rbacv1.RoleBinding{}
		default:
			t.Fatalf("document %d: unexpected kind %q", n, head.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Errorf("document %d (%s): %v", n, head.Kind, err)
		}
	}
}

func TestPluralizeFollowsTheConventionsOfCRDs(t *testing.T) {
	tests := map[string]string{
		"Site":          "sites",
		"Gateway":       "gateways",
		"NetworkPolicy": "networkpolicies",
		"Ingress":       "ingresses",
		"Box":           "boxes",
		"Match":         "matches",
		"Mesh":          "meshes",
		"Key":           "keys",
	}
	for kind, want := range tests {
		if diff := cmp.Diff(want, pluralize(kind)); diff != "" {
			t.Errorf("pluralize(%q) (-want +got):\n%s", kind, diff)
		}
	}
}

func TestBuiltinKindsNameTheirResourcesByTheConvention(t *testing.T) {
	// Only Endpoints is irregular; a typo in the table shows up as a second exception.
	for _, b := range kinds.All() {
		if got := pluralize(b.GroupKind.Kind); got != b.Resource && b.GroupKind.Kind != "Endpoints" {
			t.Errorf("%s: resource %q, but the convention gives %q", b.GroupKind, b.Resource, got)
		}
	}
}
