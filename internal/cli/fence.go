package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/clock"
)

// fence keeps a replica that can no longer prove it leads from writing. client-go lets a
// standby take the Lease once it has seen no renewal for the lease duration, counted from when
// it saw the last one — which is after the leader sent it. So bosun's writes pass only while
//
//	now < (when the last renewal that succeeded was sent) + renew deadline
//
// that is, until a margin of lease duration − renew deadline (5 s by default) before the Lease
// can pass on, for clock drift, scheduling delays and requests on the wire. Once the fence has
// closed it stays closed: the replica stops and exits, and comes back as a standby. Without
// leader election there is no fence.
type fence struct {
	clock    clock.WithDelayedExecution
	validFor time.Duration // the renew deadline
	margin   time.Duration // lease duration − renew deadline

	mu     sync.Mutex
	armed  bool      // the replica joined the election: writes need a renewal
	sent   time.Time // when the last renewal that succeeded was sent
	until  time.Time // writes pass while now < until; zero before the first renewal
	timer  clock.Timer
	gen    int // bumped by every renewal, so that a stale timer does nothing
	reason string
	closed chan struct{} // closed once the fence closed for good
}

func newFence(c clock.WithDelayedExecution, leaseDuration, renewDeadline time.Duration) *fence {
	return &fence{clock: c, validFor: renewDeadline, margin: leaseDuration - renewDeadline, closed: make(chan struct{})}
}

// fencedError is the error of a write the fence kept from being sent.
type fencedError struct{ reason string }

func (e *fencedError) Error() string { return "write not sent: " + e.reason }

// arm makes writes wait for the first renewal: the replica joins the election. Writes before
// (the CRDs of charts, installed at start by every replica) pass.
func (f *fence) arm() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = true
}

// renewed opens the fence until validFor after sent: a renewal (or the acquisition) of the
// Lease sent then succeeded. A renewal that succeeds after the fence closed changes nothing.
func (f *fence) renewed(sent time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.isClosed() || !sent.After(f.sent) {
		return
	}
	f.sent, f.until = sent, sent.Add(f.validFor)
	f.gen++
	if f.timer != nil {
		f.timer.Stop()
	}
	left := f.until.Sub(f.clock.Now())
	if left <= 0 {
		f.closeLocked(f.expiredReason())
		return
	}
	gen := f.gen
	// The callback must not touch the clock or its timer: a fake clock runs it under its lock.
	f.timer = f.clock.AfterFunc(left, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.gen == gen {
			f.timer = nil // fired
			f.closeLocked(f.expiredReason())
		}
	})
}

// close closes the fence for good: the Lease was lost or released.
func (f *fence) close(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closeLocked(reason)
}

// Closed is closed once the fence has closed for good.
func (f *fence) Closed() <-chan struct{} { return f.closed }

// Reason says why the fence closed; empty while it is open.
func (f *fence) Reason() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reason
}

// admit says whether a write may be sent now: nil, or the *fencedError that says why not.
func (f *fence) admit() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.isClosed():
		return &fencedError{f.reason}
	case !f.armed:
		return nil
	case f.until.IsZero():
		return &fencedError{"this replica does not lead"}
	case !f.clock.Now().Before(f.until):
		f.closeLocked(f.expiredReason())
		return &fencedError{f.reason}
	}
	return nil
}

func (f *fence) expiredReason() string {
	return fmt.Sprintf("this replica can no longer prove it leads: no Lease renewal succeeded within %s of the one sent at %s, and another replica may take the Lease %s later",
		f.validFor, f.sent.Format("15:04:05.000"), f.margin)
}

func (f *fence) closeLocked(reason string) {
	if f.isClosed() {
		return
	}
	f.reason = reason
	if f.timer != nil {
		f.timer.Stop()
	}
	close(f.closed)
}

func (f *fence) isClosed() bool {
	select {
	case <-f.closed:
		return true
	default:
		return false
	}
}

// wrap is a rest.Config WrapTransport: a request that may change something (any method but
// GET, HEAD and OPTIONS) is sent only while the fence is open, and is cancelled if the fence
// closes while it waits for its answer. Reads (and watches) always pass.
func (f *fence) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return rt.RoundTrip(r)
		}
		if err := f.admit(); err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancelCause(r.Context())
		go func() {
			select {
			case <-f.closed:
				cancel(&fencedError{f.Reason()})
			case <-ctx.Done():
			}
		}()
		resp, err := rt.RoundTrip(r.WithContext(ctx))
		if err != nil {
			cancel(nil)
			return nil, err
		}
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	})
}

// cancelOnClose releases a request's context once its answer has been read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// fencedLock is the Lease lock of the election, telling the fence about every renewal that
// succeeded and every release. It also refuses to release a Lease that another replica holds
// by now: client-go releases on cancel with the resourceVersion of its last read, which after
// a lost Lease is the new holder's.
type fencedLock struct {
	resourcelock.Interface
	fence *fence

	mu     sync.Mutex
	holder string // the holder in the last record read
}

func (l *fencedLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	rec, raw, err := l.Interface.Get(ctx)
	if err == nil {
		l.mu.Lock()
		l.holder = rec.HolderIdentity
		l.mu.Unlock()
	}
	return rec, raw, err
}

func (l *fencedLock) Create(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	sent := l.fence.clock.Now()
	err := l.Interface.Create(ctx, rec)
	if err == nil && rec.HolderIdentity == l.Identity() {
		l.fence.renewed(sent)
	}
	return err
}

func (l *fencedLock) Update(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	if rec.HolderIdentity != l.Identity() {
		// A release: the fence closes before the Lease is let go.
		l.fence.close("this replica released the Lease")
		l.mu.Lock()
		holder := l.holder
		l.mu.Unlock()
		if holder != l.Identity() {
			return fmt.Errorf("not releasing the Lease: %q holds it now", holder)
		}
		return l.Interface.Update(ctx, rec)
	}
	sent := l.fence.clock.Now()
	err := l.Interface.Update(ctx, rec)
	if err == nil {
		l.fence.renewed(sent)
	}
	return err
}
