package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// idleSettle passes before the idle window opens: the last Deployments' status updates after
// convergence may still queue owners, which is convergence, not idling.
const idleSettle = 10 * time.Second

// cold: N Sites exist, bosun starts; done when every Site is Ready for its generation with its
// children and the ConfigMap showing the message. The clock includes bosun's start-up and
// cache sync. readySeconds (bosun's settled converge) is when the tracker received the last
// Site's Ready, and lastChildToReady each Site's time from its last child write to its Ready.
func (s *session) cold(ctx context.Context) *PhaseResult {
	p := &PhaseResult{Name: phaseCold, Owners: s.n}
	m := s.mark()
	start := time.Now()
	if err := s.startBosun(); err != nil {
		p.Failed = err.Error()
		return p
	}
	var childrenAt float64
	conv := &convergence{start: start}
	s.wait(ctx, p, start, func() (bool, string) {
		st := s.tr.state(batchA, "hello")
		if childrenAt == 0 && st.children() == s.b.shape.perOwner()*s.n {
			childrenAt = round(since(start), 2)
		}
		return conv.done(st, s.n), st.String()
	})
	p.ChildrenSeconds = childrenAt
	conv.record(p)
	s.readyFigures(p, batchA, start)
	if s.sharded() && p.Failed == "" {
		s.balance(ctx, p, start)
	}
	s.measure(p, m)
	if p.Owners > 0 {
		p.CPUMsPerOwner = round(p.CPUSeconds*1000/float64(p.Owners), 2)
	}
	return p
}

// readyFigures sets readySeconds and lastChildToReady from the tracker's times of the
// batch's owners.
func (s *session) readyFigures(p *PhaseResult, batch string, start time.Time) {
	times := s.tr.ownerTimesIn(batch)
	if last := lastReady(times, p.Owners); !last.IsZero() {
		p.ReadySeconds = round(last.Sub(start).Seconds(), 2)
	}
	c := childToReady(times)
	p.LastChildToReady = &c
	s.b.logf("%s: every owner Ready %.1fs after the start; last child write to Ready: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d owners, %d Ready first)",
		p.Name, p.ReadySeconds, c.P50Ms, c.P99Ms, c.MaxMs, c.Count, c.ReadyFirst)
}

// idle: converged owners, nothing changes; bosun should send no writes.
func (s *session) idle(ctx context.Context) *PhaseResult {
	p := &PhaseResult{Name: phaseIdle, Owners: s.n}
	if err := sleep(ctx, idleSettle); err != nil {
		p.Failed = err.Error()
		return p
	}
	m := s.mark()
	start := time.Now()
	s.b.logf("idle: counting bosun's requests for %s", s.b.o.idleWindow)
	if err := sleep(ctx, s.b.o.idleWindow); err != nil {
		p.Failed = err.Error()
	}
	p.Seconds = round(since(start), 2)
	s.measure(p, m)
	return p
}

// restart: SIGTERM, start again with nothing changed; bosun should send no writes while it
// re-syncs every owner. Several replicas are all stopped, at once, and all started again.
func (s *session) restart(ctx context.Context) *PhaseResult {
	p := &PhaseResult{Name: phaseRestart, Owners: s.n}
	d, err := s.stopBosun()
	p.StopSeconds = round(d.Seconds(), 3)
	if err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("stop: %v", err))
	}
	m := s.mark()
	start := time.Now()
	if err := s.startBosun(); err != nil {
		p.Failed = err.Error()
		return p
	}
	if s.sharded() {
		s.resync(ctx, p, start)
		s.measure(p, m)
		return p
	}
	logs := s.reps[0].logs
	s.wait(ctx, p, start, func() (bool, string) {
		done := logs.initialSyncDone()
		if done.IsZero() {
			if s.b.bin.logsInitialSync || time.Since(start) < s.b.o.restartWindow {
				return false, "waiting for bosun's initial sync"
			}
			return true, ""
		}
		if p.InitialSyncSeconds == 0 {
			p.InitialSyncSeconds = round(done.Sub(start).Seconds(), 2)
		}
		return time.Since(start) >= s.b.o.restartWindow && time.Since(done) >= 5*time.Second, "initial sync done"
	})
	if p.InitialSyncSeconds == 0 {
		p.Notes = append(p.Notes, "bosun logged no \"initial sync done\"; counted for the restart window only")
	} else {
		p.Notes = append(p.Notes, "bosun checks its initial sync every 10s, so initialSyncSeconds is late by up to 10s")
	}
	s.measure(p, m)
	return p
}

// create: N new Sites in other namespaces while bosun runs with no owners left (it runs after
// delete); the clock starts with the first create. Sites that are still there (delete was not
// selected) are deleted first, outside the measurement, so that bosun never has more than N
// owners.
func (s *session) create(ctx context.Context) *PhaseResult {
	p := &PhaseResult{Name: phaseCreate, Owners: s.n}
	if keys := s.tr.siteKeys(); len(keys) > 0 {
		s.b.logf("create: deleting the %d Sites left first (not measured)", len(keys))
		if !s.deleteAndWait(ctx, p, keys, nil) {
			p.Failed = "deleting the Sites left: " + p.Failed
			return p
		}
		p.Seconds = 0
		p.Notes = append(p.Notes, fmt.Sprintf("the %d Sites left were deleted first (not measured)", len(keys)))
	}
	// The garbage collector is still deleting the ReplicaSets and Pods of the deleted
	// Deployments; the raw ceiling was measured on a quiet cluster, so this phase starts on
	// one too.
	if waited, err := s.e.quiesce(ctx); err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("cluster not quiet after %.0fs: %v", waited.Seconds(), err))
	} else if waited > time.Second {
		s.b.logf("create: waited %.0fs for the garbage collector to finish the deleted Deployments' pods", waited.Seconds())
	}
	m := s.mark()
	start := time.Now()
	act := s.act(ctx, p, start, func(ctx context.Context) error {
		_, err := s.e.createSites(ctx, batchB, "", s.n, s.b.o.namespaces)
		return err
	})
	var childrenAt float64
	conv := &convergence{start: start}
	s.wait(ctx, p, start, func() (bool, string) {
		if err := act.err(); err != nil {
			return true, err.Error() // finishAct fails the phase
		}
		st := s.tr.state(batchB, "hello")
		if childrenAt == 0 && st.children() == s.b.shape.perOwner()*s.n {
			childrenAt = round(since(start), 2)
		}
		return conv.done(st, s.n), st.String()
	})
	p.ChildrenSeconds = childrenAt
	conv.record(p)
	s.readyFigures(p, batchB, start)
	finishAct(p, act)
	s.measure(p, m)
	return p
}

// update: a new spec.message on every Site there is; done when every ConfigMap shows it and
// every Site is Ready for its new generation (which waits for the Deployments' rollout: the
// pod template carries a hash of the message).
func (s *session) update(ctx context.Context) *PhaseResult {
	keys := s.tr.siteKeys()
	n := len(keys)
	p := &PhaseResult{Name: phaseUpdate, Owners: n}
	if n == 0 {
		p.Failed = "no Sites to update"
		return p
	}
	m := s.mark()
	start := time.Now()
	act := s.act(ctx, p, start, func(ctx context.Context) error {
		return s.editAll(ctx, keys, func(name string) string { return "updated " + name })
	})
	var contentAt float64
	conv := &convergence{start: start}
	s.wait(ctx, p, start, func() (bool, string) {
		if err := act.err(); err != nil {
			return true, err.Error() // finishAct fails the phase
		}
		st := s.tr.all("updated")
		if contentAt == 0 && st.Updated == n && st.ContentOK == n {
			contentAt = round(since(start), 2)
		}
		return conv.done(st, n), st.String()
	})
	p.ChildrenSeconds = contentAt
	conv.record(p)
	finishAct(p, act)
	s.measure(p, m)
	return p
}

// delete: every Site there is is deleted, setupConcurrency (32) DELETEs in flight, as the
// ideal deletion's harness does; done when its children and the Sites are gone (bosun deletes
// the children, then drops its finalizer).
func (s *session) delete(ctx context.Context) *PhaseResult {
	keys := s.tr.siteKeys()
	p := &PhaseResult{Name: phaseDelete, Owners: len(keys)}
	if len(keys) == 0 {
		p.Failed = "no Sites to delete"
		return p
	}
	m := s.mark()
	var childrenAt float64
	s.deleteAndWait(ctx, p, keys, &childrenAt)
	p.ChildrenSeconds = childrenAt
	s.measure(p, m)
	return p
}

// deleteAndWait deletes the Sites and waits until they and every child are gone. It sets
// p.Seconds (and *childrenAt, when not nil: when the children were gone) and, on failure,
// p.Failed.
func (s *session) deleteAndWait(ctx context.Context, p *PhaseResult, keys []string, childrenAt *float64) bool {
	start := time.Now()
	act := s.act(ctx, p, start, func(ctx context.Context) error {
		_, err := forEach(ctx, len(keys), setupConcurrency, func(ctx context.Context, i int) error {
			ns, name := splitKey(keys[i])
			err := retry(ctx, func() error {
				return s.e.dyn.Resource(siteGVR).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{})
			})
			if apierrors.IsNotFound(err) {
				return nil // an earlier attempt that timed out went through
			}
			return err
		})
		return err
	})
	var gone float64
	s.wait(ctx, p, start, func() (bool, string) {
		if err := act.err(); err != nil {
			return true, err.Error() // finishAct fails the phase
		}
		st := s.tr.all("")
		if gone == 0 && st.left() == 0 {
			gone = round(since(start), 2)
		}
		return st.Sites == 0 && st.left() == 0, fmt.Sprintf("sites left %d, children left %d", st.Sites, st.left())
	})
	if childrenAt != nil {
		*childrenAt = gone
	}
	finishAct(p, act)
	return p.Failed == ""
}

// failGrace is how long owners that bosun reports as failed must stay failed, once every
// other owner converged, before the phase ends with them counted as failed: a failure that
// bosun's retry clears (a conflict) is not an end state.
const failGrace = 30 * time.Second

// convergence tells converged owners from owners that bosun gave up on for now (Ready=False
// with a failure reason for the current generation): one broken owner must not hold a phase
// until it times out.
type convergence struct {
	start time.Time
	allAt time.Time // first time every owner had converged or failed
	last  batchState
}

func (c *convergence) done(st batchState, n int) bool {
	c.last = st
	switch {
	case st.converged(n):
		return true
	case !st.settled(n):
		c.allAt = time.Time{}
		return false
	case c.allAt.IsZero():
		c.allAt = time.Now()
	}
	return time.Since(c.allAt) >= failGrace
}

// record puts the failed owners on the phase, which ended when the others had converged.
func (c *convergence) record(p *PhaseResult) {
	if p.Failed != "" || c.last.Failed == 0 || c.allAt.IsZero() {
		return
	}
	p.Seconds = round(c.allAt.Sub(c.start).Seconds(), 2)
	p.FailedOwners = c.last.Failed
	p.Notes = append(p.Notes, fmt.Sprintf("%d owners failed, e.g. %s", c.last.Failed, strings.Join(c.last.FailedExamples, "; ")))
}

// action is the harness's own work in a phase (creating, editing, deleting Sites), run beside
// the wait so that the clock covers both.
type action struct {
	done chan struct{}
	fail error // valid once done is closed
}

// err is the action's error once it ended with one.
func (a *action) err() error {
	select {
	case <-a.done:
		return a.fail
	default:
		return nil
	}
}

// finished tells whether the action ended, with or without an error.
func (a *action) finished() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

func (s *session) act(ctx context.Context, p *PhaseResult, start time.Time, fn func(context.Context) error) *action {
	a := &action{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.fail = fn(ctx)
		p.ActionSeconds = round(since(start), 2)
		s.b.logf("%s: the harness's own requests took %.1fs", p.Name, p.ActionSeconds)
	}()
	return a
}

// finishAct waits for the action before the phase is measured, and fails the phase with its
// error.
func finishAct(p *PhaseResult, a *action) {
	<-a.done
	if a.fail != nil && p.Failed == "" {
		p.Failed = a.fail.Error()
	}
}

// editAll sets spec.message of every Site with a merge patch.
func (s *session) editAll(ctx context.Context, keys []string, message func(name string) string) error {
	failed, err := forEach(ctx, len(keys), setupConcurrency, func(ctx context.Context, i int) error {
		ns, name := splitKey(keys[i])
		return retry(ctx, func() error { return s.patchSpec(ctx, ns, name, "message", message(name)) })
	})
	if err != nil {
		return fmt.Errorf("edit %d Sites: %d failed, first: %w", len(keys), failed, err)
	}
	return nil
}

// patchSpec sets one field of a Site's spec with a merge patch.
func (s *session) patchSpec(ctx context.Context, ns, name, field string, value any) error {
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{field: value}})
	if err != nil {
		return err
	}
	_, err = s.e.dyn.Resource(siteGVR).Namespace(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

func splitKey(key string) (namespace, name string) {
	ns, name, _ := strings.Cut(key, "/")
	return ns, name
}

// quiesce waits until no ReplicaSet or Pod is left in the cluster's namespaces (the bench
// creates nothing else that runs), for at most quiesceTimeout.
func (e *env) quiesce(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, quiesceTimeout)
	defer cancel()
	err := poll(ctx, time.Second, func() (bool, error) {
		rs, err := e.cs.AppsV1().ReplicaSets("").List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			return false, nil
		}
		pods, err := e.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			return false, nil
		}
		return len(rs.Items) == 0 && len(pods.Items) == 0, nil
	})
	return time.Since(start), err
}

const quiesceTimeout = 5 * time.Minute
