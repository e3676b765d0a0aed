package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/lookup"
	"github.com/bosun-dev/bosun/renderer"
	"github.com/bosun-dev/bosun/watcher"
)

// clusterCapabilities reads what charts see as .Capabilities from discovery, as Helm's
// install does: the server's version, and every group/version and group/version/Kind served.
func clusterCapabilities(dc discovery.DiscoveryInterface) (capabilities, error) {
	v, err := dc.ServerVersion()
	if err != nil {
		return capabilities{}, fmt.Errorf("discovery: server version: %w", err)
	}
	groups, resources, err := dc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return capabilities{}, fmt.Errorf("discovery: %w", err)
	}
	seen := map[string]bool{}
	var versions []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			versions = append(versions, s)
		}
	}
	for _, g := range groups {
		for _, gv := range g.Versions {
			add(gv.GroupVersion)
		}
	}
	for _, rl := range resources {
		for _, r := range rl.APIResources {
			add(path.Join(rl.GroupVersion, r.Kind))
		}
	}
	slices.Sort(versions)
	return capabilities{KubeVersion: v.GitVersion, APIVersions: versions}, nil
}

// withCluster completes a chart watch's source for a cluster: .Capabilities from discovery,
// lookup through a reader confined by the child policy, and .Release.IsUpgrade from whether
// the owner has recorded children. Template sources are returned as they are.
func withCluster(s source, w *config.Watch, caps capabilities, dyn dynamic.Interface, mapper meta.RESTMapper) (source, error) {
	set, ok := s.(*renderer.ChartSet)
	if !ok {
		return s, nil
	}
	reader := &lookup.Reader{Dynamic: dyn, Mapper: mapper, Policy: watcher.ApplierPolicy(w.Children), Kinds: w.Lookup.Kinds}
	out, err := set.Map(func(c *renderer.Chart) (*renderer.Chart, error) {
		c, err := c.WithCapabilities(caps.KubeVersion, caps.APIVersions)
		if err != nil {
			return nil, err
		}
		return c.WithLookup(reader.Lookup).WithIsUpgrade(hasChildren), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.File, err)
	}
	return out, nil
}

// hasChildren tells an upgrade from an install: bosun recorded children on the owner.
func hasChildren(owner *unstructured.Unstructured) bool {
	return len(applier.InventoryOf(owner).Kinds) > 0
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// installCRDs applies the files of the crds/ directories of every chart of the watches that
// install them (the default), once, before any owner is reconciled, and waits until the API
// server serves them. They belong to no owner: bosun never deletes or prunes them.
func installCRDs(ctx context.Context, watches []chartWatch, dyn dynamic.Interface, log *zap.Logger) error {
	var names []string
	for _, cw := range watches {
		if cw.watch.CRDs != config.CRDsInstall {
			continue
		}
		for _, c := range cw.set.Charts() {
			crds, err := c.CRDs()
			if err != nil {
				return err
			}
			for _, crd := range crds {
				if crd.GetKind() != "CustomResourceDefinition" {
					return fmt.Errorf("chart %s: crds/: %s %s is not a CustomResourceDefinition", c.Path(), crd.GetKind(), crd.GetName())
				}
				if slices.Contains(names, crd.GetName()) {
					continue
				}
				names = append(names, crd.GetName())
				// A restart sends no write for a CRD that is already as the chart has it.
				j, err := json.Marshal(crd.Object)
				if err != nil {
					return err
				}
				sum := sha256.Sum256(j)
				hash := hex.EncodeToString(sum[:])
				if got, err := dyn.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{}); err == nil && got.GetAnnotations()[applier.AnnotationConfigHash] == hash {
					continue
				}
				crd = crd.DeepCopy()
				ann := crd.GetAnnotations()
				if ann == nil {
					ann = map[string]string{}
				}
				ann[applier.AnnotationConfigHash] = hash
				crd.SetAnnotations(ann)
				if _, err := dyn.Resource(crdGVR).Apply(ctx, crd.GetName(), crd, metav1.ApplyOptions{FieldManager: applier.FieldManager, Force: true}); err != nil {
					return fmt.Errorf("chart %s: CustomResourceDefinition/%s: apply: %w", c.Path(), crd.GetName(), err)
				}
				log.Info("chart CRD applied", zap.String("watch", cw.watch.Name), zap.String("crd", crd.GetName()))
			}
		}
	}
	for _, name := range names {
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil //nolint:nilerr // retried until the timeout
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CustomResourceDefinition/%s: not established within a minute: %w", name, err)
		}
	}
	return nil
}

// chartWatch is a watch that renders charts.
type chartWatch struct {
	watch *config.Watch
	set   *renderer.ChartSet
}
