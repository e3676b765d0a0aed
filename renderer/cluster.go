package renderer

import (
	"context"
	"fmt"

	"sync"

	"helm.sh/helm/v4/pkg/chart/common"
)

// LocalClusterName is .Cluster.Name when a render names no cluster: the one bosun runs
// against.
const LocalClusterName = "local"

// Cluster is the cluster that gets the children of one render, as templates see it in
// .Cluster (Name, Labels) and, for charts, in .Capabilities and lookup.
type Cluster struct {
	Name   string
	Labels map[string]string
	// Key identifies the cluster's capabilities (its name and credentials' revision), so a
	// chart derives them once per cluster rather than per render; empty with no capabilities.
	Key string
	// KubeVersion and APIVersions are the cluster's .Capabilities from its discovery; empty
	// KubeVersion keeps the chart's own.
	KubeVersion string
	APIVersions []string
	// Lookup reads the cluster's objects for a chart's lookup; nil keeps the chart's own.
	Lookup LookupFunc
}

type clusterKey struct{}

// WithCluster returns a context whose renders are for the cluster c: one template or chart
// renders for each cluster an owner's children go to.
func WithCluster(ctx context.Context, c *Cluster) context.Context {
	return context.WithValue(ctx, clusterKey{}, c)
}

func clusterOf(ctx context.Context) *Cluster {
	if c, ok := ctx.Value(clusterKey{}).(*Cluster); ok && c != nil {
		return c
	}
	return &Cluster{Name: LocalClusterName}
}

// value is .Cluster: a fresh map per render, as templates may modify what they are given.
func (c *Cluster) value() map[string]any {
	l := map[string]any{}
	for k, v := range c.Labels {
		l[k] = v
	}
	return map[string]any{"Name": c.Name, "Labels": l}
}

// clusterCaps holds a chart's capabilities per cluster, derived on first use.
type clusterCaps struct {
	mu   sync.Mutex
	caps map[string]*common.Capabilities
}

// capsFor is the chart's .Capabilities for the cluster of ctx, checked against the chart's
// kubeVersion constraint.
func (c *Chart) capsFor(ctx context.Context) (*common.Capabilities, error) {
	cl := clusterOf(ctx)
	if cl.KubeVersion == "" {
		return c.caps, nil
	}
	c.perCluster.mu.Lock()
	defer c.perCluster.mu.Unlock()
	if caps, ok := c.perCluster.caps[cl.Key]; ok {
		return caps, nil
	}
	opts := c.opts
	opts.KubeVersion, opts.APIVersions, opts.ReplaceAPIVersions = cl.KubeVersion, cl.APIVersions, true
	caps, err := capabilities(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cl.Name, err)
	}
	cp := *c
	cp.caps = caps
	if err := cp.checkKubeVersion(); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cl.Name, err)
	}
	if c.perCluster.caps == nil {
		c.perCluster.caps = map[string]*common.Capabilities{}
	}
	// Bounded by the clusters and their rotations: a revision replaces nothing, but rotations
	// are rare and each entry is small.
	c.perCluster.caps[cl.Key] = caps
	return caps, nil
}

// lookupOf is the lookup of the cluster of ctx, else the chart's own.
func (c *Chart) lookupOf(ctx context.Context) LookupFunc {
	if cl := clusterOf(ctx); cl.Lookup != nil {
		return cl.Lookup
	}
	return c.opts.Lookup
}
