package watcher

import (
	"context"
	"errors"
	"fmt"
	"k8s.io/client-go/rest"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/metrics"
	"github.com/bosun-dev/bosun/renderer"
)

// Renderer turns one owner into its child manifests.
type Renderer interface {
	Render(ctx context.Context, owner *unstructured.Unstructured) ([]*unstructured.Unstructured, error)
	// Hash identifies the templates and values, so owners record which version rendered them.
	Hash() string
}

// Applier keeps one owner's children true in the cluster; *applier.Manager implements it.
type Applier interface {
	Plan(owner *unstructured.Unstructured, rendered []*unstructured.Unstructured, policy applier.Policy) (*applier.Plan, error)
	EnsureOwner(ctx context.Context, owner *unstructured.Unstructured, gvr schema.GroupVersionResource, inv applier.Inventory, templateHash string) (*unstructured.Unstructured, error)
	Apply(ctx context.Context, p *applier.Plan, live map[applier.Ref]applier.Child) (applier.ChangeSet, error)
	Prune(ctx context.Context, stale []applier.Child) (applier.ChangeSet, error)
	DeleteAll(ctx context.Context, live []applier.Child) (applier.ChangeSet, error)
	ReleaseOwner(ctx context.Context, owner *unstructured.Unstructured, gvr schema.GroupVersionResource) error
	AnnotateOwner(ctx context.Context, owner *unstructured.Unstructured, gvr schema.GroupVersionResource, key, value string) (*unstructured.Unstructured, error)
	// Forget drops what the applier remembers of a child that is gone.
	Forget(uid types.UID)
	// ForgetCreated drops the creations of children of a kind made before a time: their
	// cache relisted without them, so they are gone (or were never seen).
	ForgetCreated(gk schema.GroupKind, before time.Time)
	// Applied reports whether a child's version is the one the applier last applied.
	Applied(uid types.UID, resourceVersion string) bool
	// Writing reports whether the applier is writing the child now.
	Writing(uid types.UID) bool
}

// Watch is one watched resource type with the renderer of its templates.
type Watch struct {
	*config.Watch
	Renderer Renderer
}

// Options are what a Manager needs. Log, Dynamic, Metadata, Discovery, Mapper and Applier are
// required.
type Options struct {
	Log      *zap.Logger
	Dynamic  dynamic.Interface
	Metadata metadata.Interface
	// Protobuf, when set, is the configuration through which the children of built-in kinds
	// with a health (Deployments, Services, Jobs...) are listed and watched as protobuf rather
	// than as JSON through Dynamic.
	Protobuf  *rest.Config
	Discovery discovery.DiscoveryInterface
	Mapper    meta.RESTMapper
	Applier   Applier
	// Events records Kubernetes Events on owners; nil records none.
	Events EventRecorder
	// Metrics receives the watcher's metrics; nil keeps them in a registry nobody serves.
	Metrics *metrics.Metrics
	// Elected, when set, holds the workers back until it is closed (leader election): the
	// caches fill meanwhile, so a standby that takes over starts reconciling at once.
	Elected <-chan struct{}
	// Fenced, when set, is closed once this replica may no longer write (leader election: it
	// can no longer prove it leads): in-flight reconciles are cancelled at once instead of
	// finishing, and their errors are neither logged nor retried (the new leader reconciles
	// those owners again).
	Fenced <-chan struct{}
	// Sharded makes the replica work only on the slots of owners it acquires (Manager.Acquire,
	// by internal/shard), instead of on every owner; Elected is then not used.
	Sharded bool
	// Members, with Sharded, is how many replicas share the owners now: each replica keeps
	// the delete limits and the rollout's pace for its share, so the absolute ones
	// (safety.maxDeletes, rollout.maxInFlight and maxFailures) are split between them; the
	// percentages apply to each share as they are. nil counts one.
	Members func() int
	// Namespace, when set, restricts every watch and the child caches to one namespace.
	Namespace string
	// Instance names this bosun installation (the applier writes it on every owner it
	// reconciles): owners that no watch covers are let go only if they carry it, at start
	// (strays.go) and when they leave a watch. Empty matches owners without a mark only.
	Instance string
	// SyncTimeout bounds one reconcile of one owner; default 2 minutes.
	SyncTimeout time.Duration
	// ShutdownTimeout bounds how long in-flight reconciles may run after a stop signal;
	// default 30 seconds.
	ShutdownTimeout time.Duration
	// WatchDownThreshold is how long an owner or child watch may be down before Ready
	// fails; default 60 seconds.
	WatchDownThreshold time.Duration
	// Clusters are the workload clusters children may go to (config.ClusterPolicy); nil:
	// only this one.
	Clusters Clusters
}

// Manager runs one controller per watch over shared clients and a shared child cache.
type Manager struct {
	opts        Options
	controllers []*controller
	kids        *children
	targets     *targets
	health      *watchHealth
	// childStop ends the child informers when Run returns.
	childStop chan struct{}
}

// New validates the options and prepares one controller per watch; nothing runs until Run.
func New(opts Options, watches []Watch) (*Manager, error) {
	if opts.Log == nil || opts.Dynamic == nil || opts.Metadata == nil || opts.Discovery == nil || opts.Mapper == nil || opts.Applier == nil {
		return nil, errors.New("watcher: Log, Dynamic, Metadata, Discovery, Mapper and Applier are required")
	}
	if opts.SyncTimeout <= 0 {
		opts.SyncTimeout = 2 * time.Minute
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New("", "")
	}
	if opts.WatchDownThreshold <= 0 {
		opts.WatchDownThreshold = DefaultWatchDownThreshold
	}
	m := &Manager{opts: opts, childStop: make(chan struct{}), health: newWatchHealth(opts.Log)}
	// The collectors read the controllers and watches at scrape time; a second Manager on
	// the same registry (tests) keeps the first one's.
	_ = opts.Metrics.Registry.Register(ownerCollector{m})
	_ = opts.Metrics.Registry.Register(m.health)
	for _, w := range watches {
		ns, err := namespacesOf(w.Watch, opts.Namespace)
		if err != nil {
			return nil, err
		}
		c := newController(w, ns, opts)
		c.health = m.health
		m.controllers = append(m.controllers, c)
	}
	m.kids = newChildren(opts.Metadata, opts.Dynamic, opts.Protobuf, opts.Mapper, m.childNamespace(), opts.Sharded, m.childStop, m.childChanged)
	m.kids.gone = opts.Applier.Forget
	m.kids.own = opts.Applier.Applied
	m.kids.writing = opts.Applier.Writing
	m.kids.completedGone = m.childCompletedGone
	m.kids.health = m.health
	m.kids.relisted = m.childRelisted
	m.targets = &targets{m: m, clusters: opts.Clusters, remote: map[string]*target{}, downs: map[string]*clusterDown{},
		local: &target{name: config.LocalCluster, applier: opts.Applier, kids: m.kids, md: opts.Metadata, disc: opts.Discovery,
			render: &renderer.Cluster{Name: config.LocalCluster}}}
	for _, c := range m.controllers {
		c.targets = m.targets
	}
	return m, nil
}

// namespacesOf is the namespaces one watch's informers cover: "" means all.
func namespacesOf(w *config.Watch, restrict string) ([]string, error) {
	switch {
	case restrict == "" && len(w.Namespaces) == 0:
		return []string{""}, nil
	case restrict == "":
		return w.Namespaces, nil
	case len(w.Namespaces) == 0:
		return []string{restrict}, nil
	}
	for _, ns := range w.Namespaces {
		if ns == restrict {
			return []string{restrict}, nil
		}
	}
	return nil, fmt.Errorf("%s: watch %s covers namespaces %v, none of which is --namespace %q", w.File, w.Name, w.Namespaces, restrict)
}

// Run starts every controller and blocks until ctx is done and in-flight reconciles finished
// (or ShutdownTimeout passed). A watch whose kind does not exist yet is retried without
// holding up the others.
func (m *Manager) Run(ctx context.Context) error {
	// Child informers must outlive the stop signal a little: in-flight reconciles still read
	// them while they drain.
	defer close(m.childStop)
	kids := m.kids

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		m.sweepLoop(ctx, kids, m.sweepPeriod())
	}()
	go func() {
		defer wg.Done()
		m.health.watchdog(ctx, m.opts.WatchDownThreshold)
	}()
	for _, c := range m.controllers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c.run(ctx, kids)
		}()
		go func() {
			defer wg.Done()
			m.releaseStrays(ctx, c)
		}()
	}
	wg.Wait()
	return nil
}

// ClusterChanged tells the watches that a workload cluster appeared, changed (its labels, or
// its credentials rotated) or went: its clients and caches are rebuilt on next use, and the
// owners of watches that send children to other clusters are reconciled again.
func (m *Manager) ClusterChanged(name string) {
	m.targets.forget(name)
	m.clusterChanged(name, "cluster "+name+" changed")
}

// clusterChanged requeues the owners of every watch whose children may go to other clusters.
func (m *Manager) clusterChanged(name, why string) {
	for _, c := range m.controllers {
		if c.watch.Clusters.Remote() {
			c.requeueAll(triggerRelist, why)
		}
	}
}

// childChanged requeues the owner of a child that changed, whichever watch it belongs to.
func (m *Manager) childChanged(owner types.UID, child string) {
	for _, c := range m.controllers {
		if c.enqueueUID(owner, child) {
			return
		}
	}
}

// sweepPeriod is the shortest resync of the watches: the orphan sweep runs as often.
func (m *Manager) sweepPeriod() time.Duration {
	var p time.Duration
	for _, c := range m.controllers {
		if r := c.watch.Resync; r > 0 && (p == 0 || r < p) {
			p = r
		}
	}
	return p
}

// childNamespace is where the child caches look for namespaced children: the --namespace
// restriction, unless a watch lets its children into other namespaces.
func (m *Manager) childNamespace() string {
	for _, c := range m.controllers {
		if len(c.watch.Children.Namespaces) > 0 {
			return metav1.NamespaceAll
		}
	}
	return m.opts.Namespace
}

// Ready reports whether every watch's caches are synced, so that a replica (also a standby)
// can serve as soon as it leads; the error names the watches still waiting.
func (m *Manager) Ready() error {
	var waiting []string
	for _, c := range m.controllers {
		if !c.isSynced() {
			waiting = append(waiting, c.watch.Name)
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("caches not synced yet for watches %v", waiting)
	}
	if down := m.WatchesDown(m.opts.WatchDownThreshold); len(down) > 0 {
		var parts []string
		for _, d := range down {
			part := fmt.Sprintf("%s %s for %s", d.Role, d.Resource, d.For.Round(time.Second))
			if d.Err != nil {
				part += " (" + d.Err.Error() + ")"
			}
			parts = append(parts, part)
		}
		return fmt.Errorf("watches down longer than %s: %s", m.opts.WatchDownThreshold, strings.Join(parts, "; "))
	}
	return nil
}

// DefaultWatchDownThreshold is how long a watch may be down before Ready fails.
const DefaultWatchDownThreshold = time.Minute

// WatchesDown lists the owner and child watches that have had no watch open for longer than
// threshold: the API server unreachable, bosun's right to list or watch a kind gone, a watch
// held up on the way.
func (m *Manager) WatchesDown(threshold time.Duration) []WatchDown {
	return m.health.down(threshold)
}

// childRelisted makes bosun look again at what a child cache may have missed while its watch
// was down: a relist reports the deletion of the children it held, but not of those it never
// saw — created while the watch was down, then deleted or changed before it was back. The
// applier stops trusting its creations of that kind from before the relist, and every owner
// whose inventory names the kind is reconciled (from the caches: no request when nothing
// changed) once the relisted objects are in the cache.
func (m *Manager) childRelisted(gk schema.GroupKind, began time.Time) {
	m.childRelistedIn(m.targets.local, gk, began)
}

// childRelistedIn is childRelisted for the children of one cluster.
func (m *Manager) childRelistedIn(t *target, gk schema.GroupKind, began time.Time) {
	t.applier.ForgetCreated(gk, began)
	time.AfterFunc(relistGrace, func() {
		n := 0
		for _, c := range m.controllers {
			n += c.requeueWithKind(gk, triggerRelist, gk.String()+" relisted")
		}
		m.opts.Log.Info("child watch relisted; owners with children of its kind requeued", zap.String("cluster", t.name), zap.String("kind", gk.String()), zap.Int("owners", n))
	})
}
