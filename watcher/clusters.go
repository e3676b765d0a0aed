package watcher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"sync"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/renderer"
)

// Clusters are the workload clusters that owners' children may go to: bosun runs against a
// hub that holds the owners, and applies children into the clusters they name. nil in
// Options means the children stay in the hub.
type Clusters interface {
	// Cluster returns the clients of a workload cluster for its current credentials: the same
	// value while they do not change, a new one after they rotated. An error wrapping
	// ErrUnknownCluster says no cluster has the name; others say why it cannot be used now.
	Cluster(ctx context.Context, name string) (*Cluster, error)
	// Labels are a known workload cluster's labels (of its Secret or ClusterProfile).
	Labels(name string) (map[string]string, bool)
	// Select names the usable workload clusters whose labels match, sorted.
	Select(sel labels.Selector) []string
	// Names are every workload cluster configured, sorted.
	Names() []string
}

// ErrUnknownCluster: no workload cluster has the name an owner gave.
var ErrUnknownCluster = errors.New("no such cluster")

// Cluster is one workload cluster's clients, built for one revision of its credentials.
type Cluster struct {
	Name string
	// Revision changes with the credentials or the server; it keys the cluster's capabilities.
	Revision  string
	Labels    map[string]string
	Dynamic   dynamic.Interface
	Metadata  metadata.Interface
	Protobuf  *rest.Config
	Discovery discovery.DiscoveryInterface
	Mapper    meta.RESTMapper
	// Applier writes the children there (with applier.Options.Remote: no ownerReference).
	Applier Applier
	// KubeVersion and APIVersions are what charts see there as .Capabilities.
	KubeVersion string
	APIVersions []string
	// Lookup serves a chart's lookup there for a watch (confined by its lookup and children
	// policy); nil: lookup finds nothing there.
	Lookup func(w *config.Watch) renderer.LookupFunc
}

// target is one cluster that children go to, as the watches share it: the local one (the
// hub's own clients and caches) or a workload cluster's.
type target struct {
	name    string
	remote  bool
	applier Applier
	kids    *children
	md      metadata.Interface
	disc    discovery.DiscoveryInterface
	render  *renderer.Cluster
	cluster *Cluster // nil for the local one
	stop    chan struct{}

	// renders are render, with each watch's lookup.
	mu      sync.Mutex
	renders map[string]*renderer.Cluster
}

// renderFor is what a watch's templates see of the cluster: the local one renders as the
// chart was set up (the hub's capabilities and lookup).
func (t *target) renderFor(w *config.Watch) *renderer.Cluster {
	if !t.remote {
		return t.render
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.renders[w.Name]; ok {
		return r
	}
	r := *t.render
	r.Lookup = func(context.Context, *unstructured.Unstructured, string, string, string, string) (map[string]any, error) {
		return map[string]any{}, nil
	}
	if t.cluster.Lookup != nil {
		r.Lookup = t.cluster.Lookup(w)
	}
	if t.renders == nil {
		t.renders = map[string]*renderer.Cluster{}
	}
	t.renders[w.Name] = &r
	return &r
}

// childRef is how a child event of this target names the child for the reconcile's trigger.
func (t *target) childRef(ref string) string {
	if !t.remote {
		return ref
	}
	return t.name + "/" + ref
}

// targets holds the clusters children go to: the local one, and the workload clusters in use
// (a cluster no owner names costs nothing: no client, no cache, no watch).
type targets struct {
	m        *Manager
	clusters Clusters
	local    *target

	mu     sync.Mutex
	remote map[string]*target
	downs  map[string]*clusterDown
}

// get returns the target of a cluster name, building a workload cluster's clients and caches
// on first use and again after its credentials rotated. A cluster that did not answer lately
// fails at once (per-cluster backoff) with a *ClusterUnreachableError.
func (ts *targets) get(ctx context.Context, name string) (*target, error) {
	if name == config.LocalCluster {
		return ts.local, nil
	}
	if ts.clusters == nil {
		return nil, &clusterError{cluster: name, reason: ReasonClusterUnknown, err: errors.New("bosun was started without workload clusters")}
	}
	d := ts.down(name)
	if err := d.check(); err != nil {
		return nil, err
	}
	cl, err := ts.clusters.Cluster(ctx, name)
	if errors.Is(err, ErrUnknownCluster) {
		return nil, &clusterError{cluster: name, reason: ReasonClusterUnknown, err: err}
	}
	if err != nil {
		return nil, ts.failed(name, err)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.remote[name]
	if t != nil && t.cluster == cl {
		return t, nil
	}
	if t != nil {
		// The credentials rotated: the caches of the old clients go, the new ones relist.
		close(t.stop)
		ts.m.opts.Log.Info("workload cluster credentials changed; its clients and caches were rebuilt", zap.String("cluster", name))
	}
	t = ts.m.newRemoteTarget(cl, d)
	ts.remote[name] = t
	return t, nil
}

// down is the reachability of a workload cluster, kept across its credentials' rotations.
func (ts *targets) down(name string) *clusterDown {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	d, ok := ts.downs[name]
	if !ok {
		d = &clusterDown{name: name, now: time.Now}
		ts.downs[name] = d
	}
	return d
}

// failed records that a workload cluster did not answer, backs it off and, once per episode,
// probes it until it answers again; it returns the error owners report.
func (ts *targets) failed(name string, err error) error {
	d := ts.down(name)
	if first := d.fail(err); first {
		ts.m.opts.Log.Warn("workload cluster unreachable; its owners back off until it answers", zap.String("cluster", name), zap.Error(err))
		ts.m.opts.Metrics.ClusterUp.WithLabelValues(name).Set(0)
		go ts.probe(name, d)
	}
	return d.check()
}

// answered records that a workload cluster answered.
func (ts *targets) answered(name string) {
	if ts.down(name).ok() {
		ts.recovered(name)
	}
}

func (ts *targets) recovered(name string) {
	ts.m.opts.Log.Info("workload cluster answers again; its owners are reconciled", zap.String("cluster", name))
	ts.m.opts.Metrics.ClusterUp.WithLabelValues(name).Set(1)
	ts.m.clusterChanged(name, "cluster "+name+" answers again")
}

// probe asks a workload cluster for its version at the backoff's pace until it answers or
// bosun stops, so that its owners are reconciled as soon as it is back rather than when their
// own backoff ends.
func (ts *targets) probe(name string, d *clusterDown) {
	for {
		wait := d.untilRetry()
		select {
		case <-ts.m.childStop:
			return
		case <-time.After(wait):
		}
		if !d.isDown() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		err := ts.ping(ctx, name)
		cancel()
		if err == nil {
			if d.ok() {
				ts.recovered(name)
			}
			return
		}
		d.fail(err)
	}
}

// probeTimeout bounds one probe of a workload cluster.
const probeTimeout = 10 * time.Second

func (ts *targets) ping(ctx context.Context, name string) error {
	cl, err := ts.clusters.Cluster(ctx, name)
	if err != nil {
		return err
	}
	return cl.Discovery.RESTClient().Get().AbsPath("/version").Do(ctx).Error()
}

// each calls fn with every target in use, the local one first.
func (ts *targets) each(fn func(*target)) {
	fn(ts.local)
	ts.mu.Lock()
	all := make([]*target, 0, len(ts.remote))
	for _, t := range ts.remote {
		all = append(all, t)
	}
	ts.mu.Unlock()
	for _, t := range all {
		fn(t)
	}
}

// forget drops a workload cluster's clients and caches (its Secret or profile changed or
// went): the next owner that names it builds them again from what is configured then.
func (ts *targets) forget(name string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if t, ok := ts.remote[name]; ok {
		close(t.stop)
		delete(ts.remote, name)
	}
}

// newRemoteTarget builds the caches of a workload cluster's children; its child events requeue
// owners as the local ones do.
func (m *Manager) newRemoteTarget(cl *Cluster, down *clusterDown) *target {
	t := &target{name: cl.Name, remote: true, applier: cl.Applier, md: cl.Metadata, disc: cl.Discovery, cluster: cl, stop: make(chan struct{}),
		render: &renderer.Cluster{Name: cl.Name, Labels: maps.Clone(cl.Labels), Key: cl.Name + "@" + cl.Revision, KubeVersion: cl.KubeVersion, APIVersions: cl.APIVersions}}
	kids := newChildren(cl.Metadata, cl.Dynamic, cl.Protobuf, cl.Mapper, m.childNamespace(), m.opts.Sharded, mergeStop(m.childStop, t.stop),
		func(owner types.UID, child string) { m.childChanged(owner, t.childRef(child)) })
	kids.remote = true
	kids.gone = cl.Applier.Forget
	kids.own = cl.Applier.Applied
	kids.writing = cl.Applier.Writing
	kids.completedGone = m.childCompletedGone
	kids.health = newWatchHealth(m.opts.Log.With(zap.String("cluster", cl.Name)))
	kids.relisted = func(gk schema.GroupKind, began time.Time) { m.childRelistedIn(t, gk, began) }
	kids.down = down.check
	kids.holdLike(m.kids)
	t.kids = kids
	return t
}

// clusterDown is the reachability of one workload cluster: while it does not answer, owners
// that need it fail at once, and one attempt per backoff period is let through.
type clusterDown struct {
	name  string
	now   func() time.Time
	mu    sync.Mutex
	since time.Time // zero: answering
	err   error
	wait  time.Duration
	retry time.Time
}

// Backoff of a workload cluster that does not answer.
const (
	clusterBackoffMin = time.Second
	clusterBackoffMax = time.Minute
)

// fail records a failure; first reports whether the cluster was answering before.
func (d *clusterDown) fail(err error) (first bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	first = d.since.IsZero()
	if first {
		d.since, d.wait = now, clusterBackoffMin
	} else if d.wait = 2 * d.wait; d.wait > clusterBackoffMax {
		d.wait = clusterBackoffMax
	}
	d.err, d.retry = err, now.Add(d.wait)
	return first
}

// ok records an answer; it reports whether the cluster was down.
func (d *clusterDown) ok() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	was := !d.since.IsZero()
	d.since, d.err, d.wait, d.retry = time.Time{}, nil, 0, time.Time{}
	return was
}

func (d *clusterDown) isDown() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.since.IsZero()
}

func (d *clusterDown) untilRetry() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return max(d.retry.Sub(d.now()), 0)
}

// downFor is how long the cluster has not answered; 0 while it answers.
func (d *clusterDown) downFor() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.since.IsZero() {
		return 0
	}
	return d.now().Sub(d.since)
}

// check fails while the cluster is backed off; once the backoff passed it lets one caller
// through (and backs the others off again) to find out whether the cluster is back.
func (d *clusterDown) check() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.since.IsZero() {
		return nil
	}
	now := d.now()
	if !now.Before(d.retry) {
		d.retry = now.Add(d.wait)
		return nil
	}
	return &ClusterUnreachableError{Cluster: d.name, For: now.Sub(d.since).Round(time.Second), Err: d.err}
}

// ClusterUnreachableError: a workload cluster did not answer, or refused bosun's credentials.
type ClusterUnreachableError struct {
	Cluster string
	For     time.Duration
	Err     error
}

func (e *ClusterUnreachableError) Error() string {
	if e.For > 0 {
		return fmt.Sprintf("cluster %s: unreachable for %s (retried with backoff): %v", e.Cluster, e.For, e.Err)
	}
	return fmt.Sprintf("cluster %s: unreachable: %v", e.Cluster, e.Err)
}

func (e *ClusterUnreachableError) Unwrap() error { return e.Err }

// clusterError: an owner names a cluster it may not use, or that does not exist.
type clusterError struct {
	cluster, reason string
	err             error
}

func (e *clusterError) Error() string { return fmt.Sprintf("cluster %s: %v", e.cluster, e.err) }
func (e *clusterError) Unwrap() error { return e.err }

// unreachable tells an error of a workload cluster that did not answer (no API status: the
// connection failed, timed out, or TLS did not verify) or refused the credentials, from the
// answers of one that did.
func unreachable(err error) bool {
	var (
		down   *ClusterUnreachableError
		urlErr *url.Error
		netErr net.Error
	)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &down), apierrors.IsUnauthorized(err), errors.As(err, &urlErr), errors.As(err, &netErr),
		utilnet.IsConnectionRefused(err), utilnet.IsConnectionReset(err), utilnet.IsProbableEOF(err),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}
