package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bosun-dev/bosun/internal/shard"
)

// The sharding group of -replicas > 1: its Leases live in the default namespace, which every
// cluster has; the durations are bosun's defaults, passed explicitly because the takeover's
// target (shardLease + takeoverMargin) depends on them.
const (
	shardNamespace = "default"
	shardGroup     = "bosun-bench"
	shardLease     = 15 * time.Second
	shardRenew     = 10 * time.Second
	shardRetry     = 2 * time.Second
)

// shardArgs are the arguments every replica runs with, besides bosun's usual ones.
func shardArgs() []string {
	return []string{"--sharding", "--leader-election-namespace", shardNamespace, "--leader-election-id", shardGroup,
		"--leader-election-lease-duration", shardLease.String(),
		"--leader-election-renew-deadline", shardRenew.String(),
		"--leader-election-retry-period", shardRetry.String()}
}

// groupView is what the replicas' metrics say, in replica order; -1 for a replica that does
// not run (or serves no metrics).
type groupView struct {
	members, slots, owners []int
	running                int
	queued                 int // work queue items waiting, over all replicas
	reconciles             int // reconciles since the running processes started
}

// groupEvery is how often the waits below scrape the replicas: the scrapes cost bosun CPU,
// which the phase counts.
const groupEvery = time.Second

// group scrapes every running replica's metrics, at most once per groupEvery.
func (s *session) group() groupView {
	if time.Since(s.groupAt) < groupEvery {
		return s.lastGroup
	}
	var g groupView
	for _, r := range s.reps {
		samples := r.running().scrape()
		if samples == nil {
			g.members, g.slots, g.owners = append(g.members, -1), append(g.slots, -1), append(g.owners, -1)
			continue
		}
		g.running++
		g.members = append(g.members, int(sumOf(samples, "bosun_shard_members")))
		g.slots = append(g.slots, int(sumOf(samples, "bosun_shard_slots")))
		g.owners = append(g.owners, int(sumOf(samples, "bosun_owners")))
		g.queued += int(sumOf(samples, "workqueue_depth"))
		g.reconciles += int(sumOf(samples, "bosun_reconciles_total"))
	}
	s.lastGroup, s.groupAt = g, time.Now()
	return g
}

// settled: all r replicas run, each sees all r live, the slots are split between them as
// evenly as they go (each holds Slots/r or one more), their caches hold the owners between
// them, and no work is queued.
func (g groupView) settled(r, owners int) bool {
	if g.running != r || g.queued != 0 {
		return false
	}
	slots, cached := 0, 0
	for i := range g.slots {
		if g.members[i] != r || g.slots[i] < shard.Slots/r || g.slots[i] > shard.Slots/r+1 {
			return false
		}
		slots, cached = slots+g.slots[i], cached+g.owners[i]
	}
	return slots == shard.Slots && cached == owners
}

func (g groupView) String() string {
	list := func(xs []int) string {
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = "-"
			if x >= 0 {
				parts[i] = strconv.Itoa(x)
			}
		}
		return strings.Join(parts, "/")
	}
	return fmt.Sprintf("%d replicas up; members seen %s; slots %s; owners cached %s; queued %d; reconciles %d",
		g.running, list(g.members), list(g.slots), list(g.owners), g.queued, g.reconciles)
}

// balance waits, once the phase's owners converged, until the group settled, and records
// when (from start) in p.BalancedSeconds; p.Seconds stays the phase's own.
func (s *session) balance(ctx context.Context, p *PhaseResult, start time.Time) bool {
	owners := len(s.tr.siteKeys())
	ok := s.waitFor(ctx, p, start, func() (bool, string) {
		g := s.group()
		return g.settled(len(s.reps), owners), "settling: " + g.String()
	})
	if ok {
		p.BalancedSeconds = round(since(start), 2)
	}
	return ok
}

// resync is restart's wait with several replicas. bosun's "initial sync done" does not serve
// here (with --sharding its owners arrive with the slots, after the initial sync was counted),
// so the restart is done once the group settled and every replica's reconciles add up to the
// owners, for 5 s and at least the restart window.
func (s *session) resync(ctx context.Context, p *PhaseResult, start time.Time) {
	owners := len(s.tr.siteKeys())
	var settledAt time.Time
	s.wait(ctx, p, start, func() (bool, string) {
		g := s.group()
		switch {
		case !g.settled(len(s.reps), owners) || g.reconciles < owners:
			settledAt = time.Time{}
		case settledAt.IsZero():
			settledAt = time.Now()
			p.BalancedSeconds = round(settledAt.Sub(start).Seconds(), 2)
		}
		done := !settledAt.IsZero() && time.Since(start) >= s.b.o.restartWindow && time.Since(settledAt) >= 5*time.Second
		return done, g.String()
	})
	p.Notes = append(p.Notes, fmt.Sprintf("%d replicas: counted until they held every slot between them, evenly, cached every owner, "+
		"had reconciled as often as there are owners and had nothing queued (balancedSeconds), for 5 s and at least the restart window", len(s.reps)))
}

// parseSlots reads the slots as bosun logs them: "0-3,9" (and "" for none).
func parseSlots(text string) []int {
	var out []int
	for _, part := range strings.Split(text, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out
}
