package watcher

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/metrics"
)

const uidIndex = "uid"

// controller reconciles the owners of one watch.
type controller struct {
	watch      Watch
	policy     applier.Policy
	namespaces []string
	opts       Options
	log        *zap.Logger
	queue      workqueue.TypedRateLimitingInterface[cache.ObjectName]
	limiter    workqueue.TypedRateLimiter[cache.ObjectName]
	budget     *deleteBudget
	rollout    *rollout
	hooks      *hookRecords
	paused     *pausedOwners
	triggers   *triggers

	reports *lastReports

	completedGone *completedGone

	settle *settlingOwners

	released *releasedOwners

	metrics  *metrics.Metrics
	progress *initialSync
	// targets are the clusters the owners' children go to (clusters.go).
	targets *targets
	// health tracks the owner informers' lists and watches (watchhealth.go).
	health *watchHealth

	// Set once the watched kind is resolved and its informers synced; read by child events.
	mu       sync.RWMutex
	gvr      schema.GroupVersionResource
	kids     *children
	statusOn bool // the owner's status is written
	// slots are the owner caches of the slots the replica works on (owners.go): allSlots
	// alone unless it shards. idle is signalled (on mu) when a reconcile ends.
	slots map[int]*ownerSlot
	idle  *sync.Cond
	// pending are slots acquired before the kind was resolved (slots.go).
	pending map[int]bool
	// shardReport tells once whether the API server filters owners by shardSelector.
	shardReport sync.Once
	// synced is closed once the owner caches are synced.
	synced chan struct{}
}

func newController(w Watch, namespaces []string, opts Options) *controller {
	limiter := workqueue.NewTypedMaxOfRateLimiter(
		// Per owner: retry fast at first, then back off to at most five minutes, so a broken
		// owner costs almost nothing while it stays broken.
		workqueue.NewTypedItemExponentialFailureRateLimiter[cache.ObjectName](500*time.Millisecond, 5*time.Minute),
	)
	c := &controller{
		watch:         w,
		policy:        ApplierPolicy(w.Children),
		namespaces:    namespaces,
		opts:          opts,
		log:           opts.Log.With(zap.String("watch", w.Name)),
		limiter:       limiter,
		synced:        make(chan struct{}),
		budget:        &deleteBudget{now: time.Now},
		hooks:         newHookRecords(),
		triggers:      newTriggers(),
		paused:        newPausedOwners(func(n int) { opts.Metrics.PausedOwners.WithLabelValues(w.Name).Set(float64(n)) }),
		reports:       newLastReports(),
		completedGone: newCompletedGone(),
		metrics:       opts.Metrics,
		settle:        newSettlingOwners(),
		released:      newReleasedOwners(),
		progress:      &initialSync{},
		slots:         map[int]*ownerSlot{},
		pending:       map[int]bool{},
	}
	c.idle = sync.NewCond(&c.mu)
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(limiter, workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{
		Name: w.Name,
		DelayingQueue: workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[cache.ObjectName]{
			Name: w.Name,
			Queue: workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[cache.ObjectName]{
				Name: w.Name, Queue: newLanes(c.triggers.recheck),
			}),
		}),
	})
	c.rollout = newRollout(w.Renderer.Hash(), c.rolloutLimits)
	return c
}

// run resolves the watched kind (retrying while it does not exist), starts the informers and
// workers, and on ctx done stops intake and waits for in-flight reconciles.
func (c *controller) run(ctx context.Context, kids *children) {
	defer c.queue.ShutDown()
	defer c.stopSlots()
	gvr, ok := c.resolve(ctx)
	if !ok {
		return
	}
	c.mu.Lock()
	c.kids = kids
	c.mu.Unlock()
	if !c.opts.Sharded && !c.startSlot(ctx, gvr, allSlots) {
		return
	}
	if c.opts.Sharded {
		c.probeShards(ctx, gvr)
	}
	statusOn, ok := c.decideStatus(ctx, gvr)
	if !ok {
		return
	}
	c.mu.Lock()
	c.gvr, c.statusOn = gvr, statusOn
	c.startProgress()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	close(c.synced)
	if len(pending) > 0 {
		c.acquire(ctx, slices.Sorted(maps.Keys(pending)))
	}

	if c.opts.Elected != nil {
		select {
		case <-c.opts.Elected:
		case <-ctx.Done():
			return
		}
	}
	c.budget.seed(c.recordedPrunes())
	c.log.Info("watching", zap.String("resource", gvr.String()), zap.Strings("namespaces", c.namespaces),
		zap.String("selector", c.watch.SelectorText), zap.Int("workers", c.watch.Workers), zap.Int("owners", c.ownerCount()))

	// Workers get their own context: after the stop signal they may finish what they hold
	// until ShutdownTimeout, then it is cancelled — at once when the replica is fenced.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	go func() {
		select {
		case <-c.opts.Fenced: // nil without leader election: never
			cancelWork()
		case <-workCtx.Done():
		}
	}()
	var wg sync.WaitGroup
	for range c.watch.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNextWorkItem(ctx, workCtx) {
			}
		}()
	}
	if c.watch.Resync > 0 {
		// Not at once: the informers' first events queue every owner already.
		go every(ctx, c.watch.Resync, c.enqueueAll)
	}
	go c.reportProgress(ctx.Done())

	<-ctx.Done()
	c.queue.ShutDown()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(c.opts.ShutdownTimeout):
		c.log.Warn("in-flight reconciles did not finish in time; cancelling them", zap.Duration("timeout", c.opts.ShutdownTimeout))
		cancelWork()
		<-done
	}
}

// resolve maps the watched kind to its resource, retrying with backoff while the API server
// does not serve it (its CRD may be installed later). It gives up only when ctx is done.
func (c *controller) resolve(ctx context.Context) (schema.GroupVersionResource, bool) {
	gvk := c.watch.GVK
	backoff := wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 7, Cap: time.Minute}
	for {
		m, err := c.opts.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err == nil {
			return m.Resource, true
		}
		d := backoff.Step()
		c.log.Warn("watched kind is not served yet; retrying", zap.String("kind", gvk.String()), zap.Duration("retry", d), zap.Error(err))
		select {
		case <-ctx.Done():
			return schema.GroupVersionResource{}, false
		case <-time.After(d):
		}
	}
}

// decideStatus decides whether owners get a status: per the watch's status.enabled, and for
// auto only when the kind has a status subresource (writing status into the main resource
// would bump the owner's generation and fight its spec's managers). Discovery errors are
// retried with backoff rather than taken for "no": a transient error must not turn status off
// for the whole run. With status.enabled: true on a kind without a status subresource the
// watch does not start (an error says why) and the check is repeated, as the CRD may gain one.
// ok is false when ctx ended first.
func (c *controller) decideStatus(ctx context.Context, gvr schema.GroupVersionResource) (on, ok bool) {
	if c.watch.Status.Enabled == config.StatusOff {
		return false, true
	}
	delay, last := time.Second, ""
	for {
		has, err := hasStatusSubresource(c.opts.Discovery, gvr)
		switch {
		case err == nil && (has || c.watch.Status.Enabled == config.StatusAuto):
			return has, true
		case err == nil:
			err = fmt.Errorf("status.enabled is true but %s has no status subresource: add one to its CRD, or set status.enabled to auto or false", gvr)
			fallthrough
		default:
			if msg := err.Error(); msg != last {
				c.log.Error("cannot start the watch yet; will retry", zap.Error(err))
				last = msg
			}
		}
		select {
		case <-ctx.Done():
			return false, false
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// enqueue adds the key of an owner event; the object itself is never passed on.
func (c *controller) enqueue(obj any) { c.enqueueFor(obj, trigger{kind: triggerOwner}) }

// enqueueFor adds the owner's key, noting why.
func (c *controller) enqueueFor(obj any, tr trigger) {
	if m, err := meta.Accessor(unwrapTombstone(obj)); err == nil {
		key := cache.ObjectName{Namespace: m.GetNamespace(), Name: m.GetName()}
		c.triggers.note(key, tr)
		c.queue.Add(key)
	}
}

// enqueueUID requeues the owner with this UID, if this watch has it, because of a child.
func (c *controller) enqueueUID(uid types.UID, child string) bool {
	if o, ok := c.byUID(uid); ok {
		c.enqueueFor(o, trigger{kind: triggerChild, child: child, fast: true})
		return true
	}
	return false
}

// byUID returns the cached owner with this UID, from the slot that holds it.
func (c *controller) byUID(uid types.UID) (any, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.slots[c.slotOf(uid)]
	if s == nil || s.leaving {
		return nil, false
	}
	for _, inf := range s.informers {
		if objs, _ := inf.GetIndexer().ByIndex(uidIndex, string(uid)); len(objs) > 0 {
			return objs[0], true
		}
	}
	return nil, false
}

// enqueueAll is the periodic resync: every owner is reconciled again, which costs no API
// request for an owner whose children are as bosun left them.
func (c *controller) enqueueAll() {
	c.mu.RLock()
	defer c.mu.RUnlock()
	c.eachOwnerStore(func(idx cache.Indexer) {
		for _, o := range idx.List() {
			c.enqueueFor(o, trigger{kind: triggerResync})
		}
	})
}

// processNextWorkItem takes one key from the queue, syncs it and decides on retry. It alone
// touches Done, Forget and AddRateLimited. It returns false when the worker should exit: the
// queue shut down, or the stop signal came (keys still queued are left: every owner is
// reconciled again on the next start).
func (c *controller) processNextWorkItem(stop, work context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	if stop.Err() != nil || c.fenced() {
		return false
	}
	ctx, cancel := context.WithTimeout(work, c.opts.SyncTimeout)
	defer cancel()
	start := time.Now()
	tr, ok := c.triggers.take(key)
	if !ok {
		return true
	}
	err := c.sync(ctx, key, tr)
	took := time.Since(start)
	c.metrics.ReconcileDuration.WithLabelValues(c.watch.Name).Observe(took.Seconds())
	c.progress.reconciled(key)
	return c.handleErr(key, tr, err, took, work)
}

// fenced reports whether this replica may no longer write (Options.Fenced).
func (c *controller) fenced() bool {
	select {
	case <-c.opts.Fenced:
		return true
	default:
		return false
	}
}

// childCount is how many children this watch's owners have, as the caches know them.
func (c *controller) childCount() int {
	c.mu.RLock()
	var uids []types.UID
	c.eachOwnerStore(func(idx cache.Indexer) {
		for _, o := range idx.List() {
			if m, err := meta.Accessor(o); err == nil {
				uids = append(uids, m.GetUID())
			}
		}
	})
	c.mu.RUnlock()
	return c.kids.count(uids)
}

// every calls fn each period, the first time after one period, until ctx is done.
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
