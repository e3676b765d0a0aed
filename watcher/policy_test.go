package watcher

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
)

func TestApplierPolicyCarriesEveryChildrenSetting(t *testing.T) {
	deployment := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	configMap := schema.GroupKind{Kind: "ConfigMap"}
	got := ApplierPolicy(config.ChildPolicy{
		Namespaces:          []string{"shared"},
		ClusterScoped:       true,
		Kinds:               []schema.GroupKind{configMap, deployment},
		Adopt:               true,
		AdoptHelmReleases:   true,
		RecreateOnImmutable: true,
		Ignore: []config.IgnoreRule{
			{Kind: configMap, Paths: [][]string{{"data"}}},
			{Kind: deployment, Paths: [][]string{{"spec", "replicas"}}},
		},
	})
	want := applier.Policy{
		Namespaces:          []string{"shared"},
		ClusterScoped:       true,
		Kinds:               []schema.GroupKind{configMap, deployment},
		Adopt:               true,
		AdoptHelmReleases:   true,
		RecreateOnImmutable: true,
		Ignored: map[schema.GroupKind][][]string{
			configMap:  {{"data"}},
			deployment: {{"spec", "replicas"}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ApplierPolicy mismatch (-want +got):\n%s", diff)
	}
	if zero := ApplierPolicy(config.ChildPolicy{}); zero.Ignored != nil || zero.AllowsNamespace("team-b") {
		t.Errorf("the zero children settings gave %+v, want the zero policy", zero)
	}
}
