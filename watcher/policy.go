package watcher

import (
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
)

// ApplierPolicy is the applier's policy for a watch's children settings: the applier is a
// leaf that knows nothing of bosun's config file.
func ApplierPolicy(c config.ChildPolicy) applier.Policy {
	p := applier.Policy{
		Namespaces:          c.Namespaces,
		ClusterScoped:       c.ClusterScoped,
		Kinds:               c.Kinds,
		Adopt:               c.Adopt,
		AdoptHelmReleases:   c.AdoptHelmReleases,
		RecreateOnImmutable: c.RecreateOnImmutable,
	}
	if len(c.Ignore) > 0 {
		p.Ignored = make(map[schema.GroupKind][][]string, len(c.Ignore))
		for _, r := range c.Ignore {
			p.Ignored[r.Kind] = r.Paths
		}
	}
	return p
}
