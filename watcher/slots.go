package watcher

import (
	"context"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/internal/shard"
)

// Slots: the share of the owners a sharded replica works on (Options.Sharded). internal/shard
// decides which slots this replica holds and calls Acquire and Release (the Manager is its
// shard.Worker); a slot's owners are cached and reconciled only between the two, and its
// children are cached by their bosun.dev/shard label. A replica that does not shard has one
// slot, allSlots, for the whole run.
//
// Release is what makes handoff safe: no reconcile of the slot's owners starts once it began,
// those running may finish (for the shutdown timeout, then they are cancelled), and it returns
// only when none runs — the coordinator lets the slot go in the shard map only then.

var _ shard.Worker = (*Manager)(nil)

// Acquire starts work on the slots: every watch lists and watches their owners and reconciles
// them, children are cached for them, and once their caches synced, the slots' orphans and
// strays are looked for (as at the start of a replica that does not shard).
func (m *Manager) Acquire(ctx context.Context, slots []int) error {
	m.targets.each(func(t *target) { t.kids.hold(slots) })
	for _, c := range m.controllers {
		c.acquire(ctx, slots)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	go m.lookAfter(ctx, slots)
	return nil
}

// Release stops work on the slots and returns once no reconcile of their owners runs and their
// caches are stopped.
func (m *Manager) Release(ctx context.Context, slots []int) error {
	for _, c := range m.controllers {
		c.releaseSlots(slots, m.opts.ShutdownTimeout)
	}
	m.targets.each(func(t *target) { t.kids.drop(slots) })
	return nil
}

// lookAfter runs, for newly acquired slots, what a start runs once: the orphan sweep over
// every kind, and the release of owners that left their watch while nobody held the slot.
func (m *Manager) lookAfter(ctx context.Context, slots []int) {
	select {
	case <-time.After(sweepStartDelay):
	case <-ctx.Done():
		return
	}
	for _, c := range m.controllers {
		if c.isSynced() {
			m.releaseStraysIn(ctx, c, slots)
		}
	}
	m.sweepClusters(ctx, slots)
}

// acquire starts the owner caches of the slots, or, before the watched kind is resolved,
// notes them for run to start.
func (c *controller) acquire(ctx context.Context, slots []int) {
	c.mu.Lock()
	gvr := c.gvr
	if gvr.Empty() {
		for _, s := range slots {
			c.pending[s] = true
		}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	// Every slot's informers list at once: without a server-side shardSelector each of them
	// reads every owner, and one after the other would take as many times as long.
	var wg sync.WaitGroup
	for _, id := range slots {
		c.mu.RLock()
		_, have := c.slots[id]
		c.mu.RUnlock()
		if !have {
			wg.Go(func() { c.startSlot(ctx, gvr, id) })
		}
	}
	wg.Wait()
}

// releaseSlots lets go of the slots: no new reconcile starts on their owners, those running get
// grace to finish and are then cancelled, and once none runs their caches stop and what the
// controller remembers of their owners is forgotten.
func (c *controller) releaseSlots(slots []int, grace time.Duration) {
	c.mu.Lock()
	var leaving []*ownerSlot
	for _, id := range slots {
		delete(c.pending, id)
		if s := c.slots[id]; s != nil {
			s.leaving = true
			leaving = append(leaving, s)
		}
	}
	wake := time.AfterFunc(grace, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.idle.Broadcast()
	})
	defer wake.Stop()
	deadline := time.Now().Add(grace)
	for slices.ContainsFunc(leaving, func(s *ownerSlot) bool { return s.busy > 0 }) {
		if !time.Now().Before(deadline) {
			for _, s := range leaving {
				s.cancel() // the reconciles still running end
			}
		}
		c.idle.Wait()
	}
	var keys []cache.ObjectName
	for _, id := range slots {
		s := c.slots[id]
		if s == nil {
			continue
		}
		for _, inf := range s.informers {
			for _, k := range inf.GetIndexer().ListKeys() {
				if name, err := cache.ParseObjectName(k); err == nil {
					keys = append(keys, name)
				}
			}
		}
		s.cancel()
		delete(c.slots, id)
	}
	c.mu.Unlock()
	for _, k := range keys {
		c.forgetOwner(k)
		c.rollout.forget(k)
		c.progress.reconciled(k)
	}
}

// stopSlots stops every owner cache when the controller stops.
func (c *controller) stopSlots() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.slots {
		s.cancel()
	}
}
