package watcher

import (
	"context"
	"sync"

	"go.uber.org/zap"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// AnnotationPaused "true" on an owner suspends its reconciles (like Flux's suspend): bosun
// neither renders, applies nor prunes for it, and drift of its children is left alone, until
// the annotation goes. Its status says so. Deleting a paused owner still deletes its children:
// a pause never leaves an owner hanging in Terminating.
const AnnotationPaused = "bosun.dev/paused"

// ReasonPaused is the reason of the conditions of a paused owner.
const ReasonPaused = "Paused"

func isPaused(owner *unstructured.Unstructured) bool {
	return owner.GetAnnotations()[AnnotationPaused] == "true"
}

// pausedOwners remembers which owners are paused, for the bosun_paused_owners gauge.
type pausedOwners struct {
	mu     sync.Mutex
	owners map[cache.ObjectName]bool
	gauge  func(n int)
}

func newPausedOwners(gauge func(n int)) *pausedOwners {
	gauge(0) // served from the start
	return &pausedOwners{owners: map[cache.ObjectName]bool{}, gauge: gauge}
}

// set records whether the owner is paused now.
func (p *pausedOwners) set(key cache.ObjectName, paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.owners[key] == paused {
		return
	}
	if paused {
		p.owners[key] = true
	} else {
		delete(p.owners, key)
	}
	p.gauge(len(p.owners))
}

// pause reports a paused owner: a Paused condition (written once) and one Event when it
// becomes paused. Nothing else is done for it.
func (c *controller) pause(ctx context.Context, owner *unstructured.Unstructured) error {
	const note = "reconciles are paused by the bosun.dev/paused annotation; remove it to resume"
	c.log.Debug("paused; not reconciled", zap.String("owner", cache.MetaObjectToName(owner).String()))
	if _, changed := c.reported(owner, ReasonPaused, note); changed {
		c.event(owner, ReasonPaused, "Pause", note)
	}
	if !c.statusOn {
		return nil
	}
	return c.writeStatus(ctx, owner, outcome{paused: true, reason: ReasonPaused, waiting: note})
}
