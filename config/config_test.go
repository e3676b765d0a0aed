package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// selectorsByString compares selectors by meaning; their internals are
// unexported.
var selectorsByString = cmp.Comparer(func(a, b labels.Selector) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.String() == b.String()
})

func TestLoadFillsInDefaultsAndResolvesPaths(t *testing.T) {
	site := schema.GroupVersionKind{Group: "example.bosun.dev", Version: "v1", Kind: "Site"}
	configMap := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	tests := []struct {
		name string
		path string
		want []*Watch
	}{
		{
			name: "a minimal config gets its name from the file and the defaults",
			path: "testdata/good/minimal.yaml",
			want: []*Watch{{
				Name:          "minimal",
				File:          "testdata/good/minimal.yaml",
				GVK:           site,
				Selector:      labels.Everything(),
				Templates:     []string{"testdata/templates/site"},
				Values:        map[string]any{},
				Workers:       32,
				Resync:        10 * time.Minute,
				Children:      ChildPolicy{Max: DefaultMaxChildren},
				Status:        StatusPolicy{Enabled: StatusAuto, Ready: ReadyHealthy},
				Safety:        Safety{MaxDeletes: 100, MaxDeletePercent: 50, MaxKindRemovalPercent: 10},
				Rollout:       Rollout{MaxInFlight: 100, MaxFailures: 5},
				Clusters:      ClusterPolicy{UnreachableTimeout: DefaultUnreachableTimeout},
				RenderTimeout: 10 * time.Second,
			}},
		},
		{
			name: "a config with every field keeps them all",
			path: "testdata/good/full.yaml",
			want: []*Watch{{
				Name:         "web-sites",
				File:         "testdata/good/full.yaml",
				GVK:          schema.GroupVersionKind{Group: "example.bosun.dev", Version: "v1alpha1", Kind: "Site"},
				Namespaces:   []string{"team-a", "team-b"},
				Selector:     mustParse(t, "tier=web,env in (prod,staging)"),
				SelectorText: "tier=web,env in (prod,staging)",
				Templates:    []string{"testdata/templates/site", "testdata/templates/extra"},
				Examples:     []string{"testdata/examples/site.yaml"},
				Values:       map[string]any{"replicas": int64(3), "image": "nginx:1.27"},
				Workers:      8,
				Resync:       90 * time.Second,
				Children: ChildPolicy{
					Namespaces:    []string{"shared", "monitoring"},
					ClusterScoped: true,
					Kinds: []schema.GroupKind{
						{Group: "apps", Kind: "Deployment"},
						{Kind: "ConfigMap"},
						{Group: "networking.k8s.io", Kind: "Ingress"},
					},
					Adopt:               true,
					RecreateOnImmutable: true,
					Ignore: []IgnoreRule{
						{
							Kind:  schema.GroupKind{Group: "apps", Kind: "Deployment"},
							Paths: [][]string{{"spec", "replicas"}, {"spec", "template", "metadata", "annotations"}},
						},
						{
							Kind:  schema.GroupKind{Kind: "ConfigMap"},
							Paths: [][]string{{"data"}},
						},
					},
					Max: 500,
				},
				Lookup:  LookupPolicy{Kinds: []schema.GroupKind{{Kind: "ConfigMap"}, {Kind: "Secret"}}},
				Status:  StatusPolicy{Enabled: StatusOn, Ready: ReadyApplied},
				Safety:  Safety{MaxDeletes: 20, MaxDeletePercent: 25, MaxKindRemovalPercent: 10},
				Rollout: Rollout{MaxInFlight: 2, MaxFailures: 1},
				Clusters: ClusterPolicy{Field: []string{"spec", "region"}, Allowed: []string{"eu-*"},
					AllowedSelector: labels.SelectorFromSet(labels.Set{"tier": "prod"}), UnreachableTimeout: 2 * time.Minute},
				RenderTimeout: 30 * time.Second,
			}},
		},
		{
			name: "the loosest limits are allowed and maxInFlight 0 means the default",
			path: "testdata/good/open-limits.yaml",
			want: []*Watch{{
				Name:          "open-limits",
				File:          "testdata/good/open-limits.yaml",
				GVK:           site,
				Selector:      labels.Everything(),
				Templates:     []string{"testdata/templates/site"},
				Values:        map[string]any{},
				Workers:       8,
				Resync:        10 * time.Minute,
				Children:      ChildPolicy{Namespaces: []string{"*"}, Max: DefaultMaxChildren},
				Status:        StatusPolicy{Enabled: StatusOff, Ready: ReadyHealthy},
				Safety:        Safety{MaxDeletes: 0, MaxDeletePercent: 100, MaxKindRemovalPercent: 10},
				Rollout:       Rollout{MaxInFlight: 100, MaxFailures: 5},
				Clusters:      ClusterPolicy{UnreachableTimeout: DefaultUnreachableTimeout},
				RenderTimeout: 100 * time.Millisecond,
			}},
		},
		{
			name: "a core kind has no group and resync 0 disables resyncing",
			path: "testdata/good/core-configmap.yaml",
			want: []*Watch{{
				Name:          "core-configmap",
				File:          "testdata/good/core-configmap.yaml",
				GVK:           configMap,
				Selector:      labels.Everything(),
				Templates:     []string{"testdata/templates/configmap.yaml.tmpl"},
				Values:        map[string]any{},
				Workers:       32,
				Resync:        0,
				Children:      ChildPolicy{Max: DefaultMaxChildren},
				Status:        StatusPolicy{Enabled: StatusAuto, Ready: ReadyHealthy},
				Safety:        Safety{MaxDeletes: 100, MaxDeletePercent: 50, MaxKindRemovalPercent: 10},
				Rollout:       Rollout{MaxInFlight: 100, MaxFailures: 5},
				Clusters:      ClusterPolicy{UnreachableTimeout: DefaultUnreachableTimeout},
				RenderTimeout: 10 * time.Second,
			}},
		},
		{
			name: "templates may be a list of files and directories, cleaned",
			path: "testdata/good/templates-list.yaml",
			want: []*Watch{{
				Name:     "templates-list",
				File:     "testdata/good/templates-list.yaml",
				GVK:      site,
				Selector: labels.Everything(),
				Templates: []string{
					"testdata/templates/site",
					"testdata/templates/configmap.yaml.tmpl",
					"testdata/templates/extra",
				},
				Values:        map[string]any{},
				Workers:       32,
				Resync:        10 * time.Minute,
				Children:      ChildPolicy{Max: DefaultMaxChildren},
				Status:        StatusPolicy{Enabled: StatusAuto, Ready: ReadyHealthy},
				Safety:        Safety{MaxDeletes: 100, MaxDeletePercent: 50, MaxKindRemovalPercent: 10},
				Rollout:       Rollout{MaxInFlight: 100, MaxFailures: 5},
				Clusters:      ClusterPolicy{UnreachableTimeout: DefaultUnreachableTimeout},
				RenderTimeout: 10 * time.Second,
			}},
		},
		{
			name: "examples may be a list of owner files, resolved like templates",
			path: "testdata/good/examples-list.yaml",
			want: []*Watch{{
				Name:          "examples-list",
				File:          "testdata/good/examples-list.yaml",
				GVK:           site,
				Selector:      labels.Everything(),
				Templates:     []string{"testdata/templates/site"},
				Examples:      []string{"testdata/examples/sites.yaml", "testdata/examples/site.yaml"},
				Values:        map[string]any{},
				Workers:       32,
				Resync:        10 * time.Minute,
				Children:      ChildPolicy{Max: DefaultMaxChildren},
				Status:        StatusPolicy{Enabled: StatusAuto, Ready: ReadyHealthy},
				Safety:        Safety{MaxDeletes: 100, MaxDeletePercent: 50, MaxKindRemovalPercent: 10},
				Rollout:       Rollout{MaxInFlight: 100, MaxFailures: 5},
				Clusters:      ClusterPolicy{UnreachableTimeout: DefaultUnreachableTimeout},
				RenderTimeout: 10 * time.Second,
			}},
		},
		{
			name: "values keep the case of their keys and integers stay integers",
			path: "testdata/good/values-mixed-case.yaml",
			want: []*Watch{{
				Name:      "values-mixed-case",
				File:      "testdata/good/values-mixed-case.yaml",
				GVK:       site,
				Selector:  labels.Everything(),
				Templates: []string{"testdata/templates/site"},
				Values: map[string]any{
					"imageTag":     "1.27",
					"replicaCount": int64(1000000),
					"ratio":        0.5,
					"enabled":      true,
					"nodeSelector": map[string]any{"kubernetes.io/os": "linux", "diskType": "SSD"},
					"extraArgs":    []any{"--logLevel=debug", map[string]any{"maxConns": int64(10)}},
				},
				Workers:       32,
				Resync:        10 * time.Minute,
				Children:      ChildPolicy{Max: DefaultMaxChildren},
				Status:        StatusPolicy{Enabled: StatusAuto, Ready: ReadyHealthy},
				Safety:        Safety{MaxDeletes: 100, MaxDeletePercent: 50, MaxKindRemovalPercent: 10},
				Rollout:       Rollout{MaxInFlight: 100, MaxFailures: 5},
				Clusters:      ClusterPolicy{UnreachableTimeout: DefaultUnreachableTimeout},
				RenderTimeout: 10 * time.Second,
			}},
		},
		{
			name: "a directory loads its *.yaml and *.yml files in name order",
			path: "testdata/good/dir",
			want: []*Watch{
				{
					Name:          "a",
					File:          "testdata/good/dir/a.yaml",
					GVK:           site,
					Selector:      labels.Everything(),
					Templates:     []string{"testdata/templates/site"},
					Values:        map[string]any{},
					Workers:       32,
					Resync:        10 * time.Minute,
					Children:      ChildPolicy{Max: DefaultMaxChildren},
					Status:        StatusPolicy{Enabled: StatusAuto, Ready: ReadyHealthy},
					Safety:        Safety{MaxDeletes: 100, MaxDeletePercent: 50, MaxKindRemovalPercent: 10},
					Rollout:       Rollout{MaxInFlight: 100, MaxFailures: 5},
					Clusters:      ClusterPolicy{UnreachableTimeout: DefaultUnreachableTimeout},
					RenderTimeout: 10 * time.Second,
				},
				{
					Name:          "b",
					File:          "testdata/good/dir/b.yml",
					GVK:           configMap,
					Selector:      labels.Everything(),
					Templates:     []string{"testdata/templates/configmap.yaml.tmpl"},
					Values:        map[string]any{},
					Workers:       32,
					Resync:        10 * time.Minute,
					Children:      ChildPolicy{Max: DefaultMaxChildren},
					Status:        StatusPolicy{Enabled: StatusAuto, Ready: ReadyHealthy},
					Safety:        Safety{MaxDeletes: 100, MaxDeletePercent: 50, MaxKindRemovalPercent: 10},
					Rollout:       Rollout{MaxInFlight: 100, MaxFailures: 5},
					Clusters:      ClusterPolicy{UnreachableTimeout: DefaultUnreachableTimeout},
					RenderTimeout: 10 * time.Second,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.path)
			if err != nil {
				t.Fatalf("Load(%q): %v", tt.path, err)
			}
			if diff := cmp.Diff(tt.want, got, selectorsByString); diff != "" {
				t.Errorf("Load(%q) mismatch (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestLoadKeepsAbsoluteTemplatePaths(t *testing.T) {
	templates, err := filepath.Abs("testdata/templates/site")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "abs.yaml")
	config := "watch: {version: v1, kind: ConfigMap}\ntemplates: " + templates + "/\n"
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	w, err := LoadFile(file)
	if err != nil {
		t.Fatalf("LoadFile(%q): %v", file, err)
	}
	if diff := cmp.Diff([]string{templates}, w.Templates); diff != "" {
		t.Errorf("templates mismatch (-want +got):\n%s", diff)
	}
}

func TestWatchString(t *testing.T) {
	tests := []struct {
		name  string
		watch *Watch
		want  string
	}{
		{
			name:  "a custom kind shows its group",
			watch: &Watch{Name: "sites", GVK: schema.GroupVersionKind{Group: "example.bosun.dev", Version: "v1", Kind: "Site"}},
			want:  "sites (Site.v1.example.bosun.dev)",
		},
		{
			name:  "a core kind has no group to show",
			watch: &Watch{Name: "configs", GVK: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}},
			want:  "configs (ConfigMap.v1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.watch.String()); diff != "" {
				t.Errorf("String() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func mustParse(t *testing.T, selector string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(selector)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}
