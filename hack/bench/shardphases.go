package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/bosun-dev/bosun/internal/shard"
)

// ShardResult is what takeover and handoff measured: one replica stopped, the others taking
// its slots over, then a new replica in its place.
type ShardResult struct {
	// Victim is the replica stopped with Signal; it held VictimSlots ("0-10"), with
	// VictimOwners owners in them.
	Victim       string `json:"victim"`
	Signal       string `json:"signal"`
	VictimSlots  string `json:"victimSlots"`
	VictimOwners int    `json:"victimOwners"`
	// Edits are the Sites whose spec.port was edited: a port edit changes one child, the
	// Service.
	Edits int `json:"edits"`
	// takeover: from the SIGKILL until the others held every slot (by their logs), and until
	// every edit showed in its Service with its Site Ready; TargetSeconds is the lease
	// duration + takeoverMargin.
	SlotsBackSeconds float64 `json:"slotsBackSeconds,omitempty"`
	LandedSeconds    float64 `json:"landedSeconds,omitempty"`
	TargetSeconds    float64 `json:"targetSeconds,omitempty"`
	// handoff: when the SIGTERM went out (once half the edits were sent) and how long the
	// victim took to exit.
	StopAtSeconds float64 `json:"stopAtSeconds,omitempty"`
	StopSeconds   float64 `json:"stopSeconds,omitempty"`
	// ChildWrites are the writes of children (the proxy's count) from the phase's start until
	// every edit landed; ChildWritesPerEdit is that over Edits, at best 1.
	ChildWrites        int     `json:"childWrites"`
	ChildWritesPerEdit float64 `json:"childWritesPerEdit"`
	// Rejoin: a new process in the victim's place, from its start until the group settled
	// again, and the child writes meanwhile (want 0: nothing changed).
	RejoinSeconds     float64 `json:"rejoinSeconds,omitempty"`
	RejoinChildWrites int     `json:"rejoinChildWrites"`
}

const (
	// takeoverOwners is how many owners of the killed replica's slots takeover edits.
	takeoverOwners = 50
	// takeoverMargin is what a takeover may take beyond the lease duration.
	takeoverMargin = 5 * time.Second
	// handoffSpan is the least time handoff spreads its edits over, so that the SIGTERM
	// after half of them comes while the others are still being reconciled.
	handoffSpan = 20 * time.Second
	// handoffTarget is the most child writes per edit through a handoff.
	handoffTarget = 1.05
)

// takeover: SIGKILL the last replica, edit spec.port of some owners in its slots at once,
// and time until the others took its slots over (after its Lease expired) and reconciled the
// edits; then start a new replica in its place.
func (s *session) takeover(ctx context.Context) *PhaseResult {
	p := &PhaseResult{Name: phaseTakeover}
	victim := s.reps[len(s.reps)-1]
	holds, _ := victim.logs.slots()
	owned := s.sitesIn(parseSlots(holds))
	sr := &ShardResult{Victim: victim.name, Signal: "SIGKILL", VictimSlots: holds, VictimOwners: len(owned),
		TargetSeconds: (shardLease + takeoverMargin).Seconds()}
	p.Shard = sr
	keys := owned[:min(len(owned), takeoverOwners)]
	if len(keys) == 0 {
		p.Failed = fmt.Sprintf("%s holds no owner (slots %q)", victim.name, holds)
		return p
	}
	p.Owners, sr.Edits = len(keys), len(keys)
	want := s.nextPorts(keys)
	m := s.mark()
	start := time.Now()
	s.b.logf("takeover: SIGKILL %s (slots %s, %d owners), then %d port edits of its owners", victim.name, holds, len(owned), len(keys))
	if _, err := victim.stop(syscall.SIGKILL); err != nil {
		p.Failed = fmt.Sprintf("%s: kill: %v", victim.name, err)
		return p
	}
	act := s.act(ctx, p, start, func(ctx context.Context) error {
		failed, err := forEach(ctx, len(keys), setupConcurrency, func(ctx context.Context, i int) error {
			return s.editPort(ctx, keys[i], want[keys[i]])
		})
		if err != nil {
			return fmt.Errorf("edit %d Sites: %d failed, first: %w", len(keys), failed, err)
		}
		return nil
	})
	survivors := s.reps[:len(s.reps)-1]
	s.wait(ctx, p, start, func() (bool, string) {
		if err := act.err(); err != nil {
			return true, err.Error() // finishAct fails the phase
		}
		held := 0
		for _, r := range survivors {
			h, _ := r.logs.slots()
			held += len(parseSlots(h))
		}
		if sr.SlotsBackSeconds == 0 && held == shard.Slots {
			sr.SlotsBackSeconds = round(since(start), 2)
		}
		shown, done := s.tr.portsShown(want)
		return act.finished() && done == len(keys), fmt.Sprintf("the others hold %d of %d slots; edits in the Service %d, Ready %d of %d",
			held, shard.Slots, shown, done, len(keys))
	})
	finishAct(p, act)
	sr.LandedSeconds = p.Seconds
	s.childWrites(sr, m.req)
	s.b.logf("takeover: slots all held again after %.1fs, every edit landed after %.1fs (target %.0fs); %d child writes for %d edits",
		sr.SlotsBackSeconds, sr.LandedSeconds, sr.TargetSeconds, sr.ChildWrites, sr.Edits)
	s.rejoin(ctx, p, victim, start)
	s.measure(p, m)
	return p
}

// handoff: edit spec.port of every Site, spread over at least handoffSpan, SIGTERM the last
// replica once half the edits went out (it hands its slots over as it leaves), and count the
// child writes until every edit landed: through a handoff, each edit should still cost one.
// Then start a new replica in its place.
func (s *session) handoff(ctx context.Context) *PhaseResult {
	keys := s.tr.siteKeys()
	n := len(keys)
	p := &PhaseResult{Name: phaseHandoff, Owners: n}
	if n == 0 {
		p.Failed = "no Sites to edit"
		return p
	}
	victim := s.reps[len(s.reps)-1]
	holds, _ := victim.logs.slots()
	sr := &ShardResult{Victim: victim.name, Signal: "SIGTERM", VictimSlots: holds, VictimOwners: len(s.sitesIn(parseSlots(holds))), Edits: n}
	p.Shard = sr
	want := s.nextPorts(keys)
	m := s.mark()
	start := time.Now()
	s.b.logf("handoff: %d port edits over at least %s; SIGTERM %s (slots %s) after %d", n, handoffSpan, victim.name, holds, n/2)
	var once sync.Once
	stopped := make(chan struct{})
	var stopErr error
	stopVictim := func() {
		defer close(stopped)
		sr.StopAtSeconds = round(since(start), 2)
		d, err := victim.stop(syscall.SIGTERM)
		sr.StopSeconds, stopErr = round(d.Seconds(), 2), err
	}
	act := s.act(ctx, p, start, func(ctx context.Context) error {
		failed, err := forEach(ctx, n, setupConcurrency, func(ctx context.Context, i int) error {
			if err := sleep(ctx, time.Until(start.Add(handoffSpan*time.Duration(i)/time.Duration(n)))); err != nil {
				return err
			}
			if i == n/2 {
				once.Do(func() { go stopVictim() })
			}
			return s.editPort(ctx, keys[i], want[keys[i]])
		})
		if err != nil {
			return fmt.Errorf("edit %d Sites: %d failed, first: %w", n, failed, err)
		}
		return nil
	})
	s.wait(ctx, p, start, func() (bool, string) {
		if err := act.err(); err != nil {
			return true, err.Error() // finishAct fails the phase
		}
		exited := "running"
		select {
		case <-stopped:
			exited = "exited"
		default:
		}
		shown, done := s.tr.portsShown(want)
		return act.finished() && exited == "exited" && done == n, fmt.Sprintf("%s %s; edits in the Service %d, Ready %d of %d", victim.name, exited, shown, done, n)
	})
	finishAct(p, act)
	once.Do(func() { close(stopped) }) // the edits ended before the half: no stop to wait for
	<-stopped
	if stopErr != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s: stop: %v", victim.name, stopErr))
	}
	s.childWrites(sr, m.req)
	s.b.logf("handoff: %s stopped %.1fs in, exited in %.1fs; every edit landed after %.1fs; %d child writes for %d edits (%.3f each, target at most %.2f)",
		victim.name, sr.StopAtSeconds, sr.StopSeconds, p.Seconds, sr.ChildWrites, n, sr.ChildWritesPerEdit, handoffTarget)
	s.rejoin(ctx, p, victim, start)
	s.measure(p, m)
	return p
}

// rejoin starts a new process in the victim's place and waits until the group settled, so
// that the next phase runs on every replica again.
func (s *session) rejoin(ctx context.Context, p *PhaseResult, victim *replica, start time.Time) {
	if p.Failed != "" {
		return
	}
	sr := p.Shard
	before := s.e.proxy.snapshot()
	at := time.Now()
	if err := victim.start(s); err != nil {
		p.Failed = "rejoin: " + err.Error()
		return
	}
	owners := len(s.tr.siteKeys())
	if s.waitFor(ctx, p, start, func() (bool, string) {
		g := s.group()
		return g.settled(len(s.reps), owners), "rejoin: " + g.String()
	}) {
		sr.RejoinSeconds = round(since(at), 2)
	}
	sr.RejoinChildWrites = diffRequests(before, s.e.proxy.snapshot()).childWrites()
	s.b.logf("%s: %s rejoined; the group settled %.1fs after its start, with %d child writes", p.Name, victim.name, sr.RejoinSeconds, sr.RejoinChildWrites)
}

// childWrites records the child writes since before.
func (s *session) childWrites(sr *ShardResult, before map[reqKey]int) {
	sr.ChildWrites = diffRequests(before, s.e.proxy.snapshot()).childWrites()
	if sr.Edits > 0 {
		sr.ChildWritesPerEdit = round(float64(sr.ChildWrites)/float64(sr.Edits), 3)
	}
}

// sitesIn are the keys of the Sites whose UID hashes into the slots, sorted.
func (s *session) sitesIn(slots []int) []string {
	var out []string
	for key, uid := range s.tr.siteUIDs() {
		if slices.Contains(slots, shard.SlotOf(uid)) {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}

// nextPorts is a new spec.port for each Site: one its Service does not show.
func (s *session) nextPorts(keys []string) map[string]int64 {
	want := make(map[string]int64, len(keys))
	for i, key := range keys {
		want[key] = nextPort(i, s.tr.sitePort(key))
	}
	return want
}

// editPort sets a Site's spec.port.
func (s *session) editPort(ctx context.Context, key string, port int64) error {
	ns, name := splitKey(key)
	return retry(ctx, func() error { return s.patchSpec(ctx, ns, name, "port", port) })
}
