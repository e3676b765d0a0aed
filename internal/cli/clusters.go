package cli

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/clusters"
	"github.com/bosun-dev/bosun/internal/lookup"
	"github.com/bosun-dev/bosun/internal/restmap"
	"github.com/bosun-dev/bosun/internal/shard"
	"github.com/bosun-dev/bosun/renderer"
	"github.com/bosun-dev/bosun/watcher"
)

// workloadClusters gives the watcher the clients of the workload clusters the registry knows:
// built on first use, kept while the cluster's credentials stay the same, built again after they
// rotated.
type workloadClusters struct {
	reg *clusters.Registry
	// tune sets the client-side rate limits and, with leader election or sharding, the fence
	// on a cluster's configuration, as on the hub's: a replica that may no longer write does
	// not write to workload clusters either.
	tune     func(cfg *rest.Config) (writes *rest.Config, err error)
	instance string

	mu    sync.Mutex
	built map[string]*watcher.Cluster
	// building serialises the building of one cluster's clients: the workers that need a
	// cluster at once wait for one discovery rather than each running its own.
	building map[string]*sync.Mutex
}

var _ watcher.Clusters = (*workloadClusters)(nil)

// discoveryTimeout bounds the discovery of a workload cluster's capabilities when its clients
// are built.
const discoveryTimeout = 15 * time.Second

func (w *workloadClusters) Cluster(ctx context.Context, name string) (*watcher.Cluster, error) {
	cl, ok := w.reg.Get(name)
	if !ok {
		return nil, fmt.Errorf("%w: no cluster Secret or ClusterProfile is named %s", watcher.ErrUnknownCluster, name)
	}
	if cl.Err != nil {
		return nil, cl.Err
	}
	w.mu.Lock()
	got, ok := w.built[name]
	one, busy := w.building[name]
	if !busy {
		if w.building == nil {
			w.building = map[string]*sync.Mutex{}
		}
		one = &sync.Mutex{}
		w.building[name] = one
	}
	w.mu.Unlock()
	if ok && got.Revision == cl.Revision && maps.Equal(got.Labels, cl.Labels) {
		return got, nil
	}
	one.Lock()
	defer one.Unlock()
	w.mu.Lock()
	got, ok = w.built[name]
	w.mu.Unlock()
	if ok && got.Revision == cl.Revision && maps.Equal(got.Labels, cl.Labels) {
		return got, nil // built meanwhile by another worker
	}
	got, err := w.build(ctx, cl)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.built[name] = got
	return got, nil
}

// build makes a workload cluster's clients, its applier (no ownerReferences: they cannot point
// across clusters) and reads its capabilities, which a failure to reach it fails.
func (w *workloadClusters) build(ctx context.Context, cl clusters.Cluster) (*watcher.Cluster, error) {
	type answer struct {
		writes *rest.Config
		dc     *discovery.DiscoveryClient
		caps   capabilities
		err    error
	}
	ch := make(chan answer, 1)
	go func() {
		var a answer
		cfg := cl.Config
		if a.writes, a.err = w.tune(cfg); a.err == nil {
			if a.dc, a.err = discovery.NewDiscoveryClientForConfig(cfg); a.err == nil {
				a.caps, a.err = clusterCapabilities(a.dc)
			}
		}
		ch <- a
	}()
	var a answer
	select {
	case a = <-ch:
		if a.err != nil {
			return nil, fmt.Errorf("cluster %s: %w", cl.Name, a.err)
		}
	case <-time.After(discoveryTimeout):
		return nil, fmt.Errorf("cluster %s: discovery: no answer within %s", cl.Name, discoveryTimeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("cluster %s: discovery: %w", cl.Name, ctx.Err())
	}
	writes, dc, caps := a.writes, a.dc, a.caps
	dyn, err := dynamic.NewForConfig(writes)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: dynamic client: %w", cl.Name, err)
	}
	md, err := metadata.NewForConfig(writes)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: metadata client: %w", cl.Name, err)
	}
	mapper := restmap.New(dc, 0)
	return &watcher.Cluster{
		Name: cl.Name, Revision: cl.Revision, Labels: cl.Labels,
		Dynamic: dyn, Metadata: md, Protobuf: writes, Discovery: dc, Mapper: mapper,
		Applier:     applier.New(dyn, md, mapper, applier.Options{Instance: w.instance, OwnerLabels: shard.ChildLabels(), Remote: true}),
		KubeVersion: caps.KubeVersion, APIVersions: caps.APIVersions,
		Lookup: func(cw *config.Watch) renderer.LookupFunc {
			r := &lookup.Reader{Dynamic: dyn, Mapper: mapper, Policy: watcher.ApplierPolicy(cw.Children), Kinds: cw.Lookup.Kinds}
			return r.Lookup
		},
	}, nil
}

func (w *workloadClusters) Labels(name string) (map[string]string, bool) {
	cl, ok := w.reg.Get(name)
	return cl.Labels, ok
}

func (w *workloadClusters) Select(sel labels.Selector) []string { return w.reg.Select(sel) }

func (w *workloadClusters) Names() []string { return w.reg.Names() }
