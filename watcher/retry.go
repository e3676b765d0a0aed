package watcher

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/applier"
)

// transientRetry caps the backoff of owners that failed for reasons that clear by themselves:
// a kind the API server does not serve yet, or the API server being unreachable or overloaded.
const transientRetry = 15 * time.Second

// badPatch recognises the API server's 500 for an applied value of the wrong type (a number
// where the schema wants a string): permanent until the templates or the owner change.
func badPatch(err error) bool {
	return strings.Contains(err.Error(), "failed to create typed patch object")
}

// transient reports errors that clear without anyone changing the owner or the templates.
func transient(err error) bool {
	return errors.As(err, new(*applier.UnknownKindError)) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServiceUnavailable(err) || (apierrors.IsInternalError(err) && !badPatch(err)) ||
		utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || errors.Is(err, context.DeadlineExceeded)
}

// requeueAfter asks for the owner to be synced again after a delay, without counting as a
// failure. recheck: it only looks again at children it applied (the queue's fast lane).
type requeueAfter struct {
	delay   time.Duration
	reason  string
	recheck bool
}

func (r *requeueAfter) Error() string { return r.reason }

// handleErr owns the retry policy: success forgets the owner's failures; a requeue or a
// conflict with a stale cache comes back soon without counting as a failure; other errors are
// logged once here and retried with per-owner exponential backoff, capped for errors that
// clear by themselves. It returns false when the worker should stop (shutting down).
func (c *controller) handleErr(key cache.ObjectName, tr trigger, err error, took time.Duration, work context.Context) bool {
	log := c.log.With(zap.String("owner", key.String()), zap.Duration("duration", took), zap.String("trigger", tr.kind))
	if tr.child != "" {
		log = log.With(zap.String("triggeredBy", tr.child))
	}
	result := "error"
	defer func() { c.metrics.Reconciles.WithLabelValues(c.watch.Name, result, tr.kind).Inc() }()
	switch ra, requeue := errors.AsType[*requeueAfter](err); {
	case err == nil:
		result = "success"
		log.Debug("reconciled")
		c.queue.Forget(key)
	case requeue:
		result = "requeue"
		log.Debug("requeued", zap.String("reason", ra.reason), zap.Duration("after", ra.delay))
		c.queue.Forget(key)
		c.triggers.note(key, trigger{kind: triggerRequeue, fast: ra.recheck})
		c.queue.AddAfter(key, ra.delay)
	case errors.Is(err, context.Canceled) && work.Err() != nil:
		return false // shutting down; the next start reconciles it again
	case errors.Is(err, errHandedOver):
		result = "requeue" // by the replica that holds the owner now
		log.Debug("handed over to another replica mid-reconcile")
		c.queue.Forget(key)
	case c.fenced():
		return false // no longer leading: whatever failed, the new leader reconciles it again
	case apierrors.IsConflict(err):
		// Optimistic concurrency: the cache was behind the server. Usually the next try
		// (the backoff starts small) finds it caught up; an owner that keeps conflicting
		// (someone else keeps writing it) backs off like any other failure.
		result = "requeue"
		log.Debug("conflict; will retry", zap.Int("retries", c.queue.NumRequeues(key)), zap.Error(err))
		c.triggers.note(key, trigger{kind: triggerRetry})
		c.queue.AddAfter(key, c.limiter.When(key))
	default:
		log.Error("reconcile failed; will retry", zap.Int("retries", c.queue.NumRequeues(key)), zap.Error(err))
		delay := c.limiter.When(key)
		if transient(err) {
			// A missing CRD is usually installed soon, and an API server that was away is
			// soon back: keep checking at a steady pace rather than backing off for
			// minutes. The workers bound how fast owners are retried: no storm.
			delay = min(delay, transientRetry)
		}
		c.triggers.note(key, trigger{kind: triggerRetry})
		c.queue.AddAfter(key, delay)
	}
	return true
}
