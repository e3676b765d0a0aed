package watcher

import (
	"sort"
	"sync"

	"k8s.io/client-go/tools/cache"

	"github.com/bosun-dev/bosun/config"
)

// rollout paces a new template version across a watch's owners. An owner whose recorded
// template hash is another version is an upgrade: at most MaxInFlight upgraded owners may be
// not Ready yet at once, and once MaxFailures upgraded owners fail, the rollout pauses — the
// remaining owners stay as the previous version left them — until the failures clear (their
// owners are fixed) or bosun restarts with other templates. New owners and owners already on
// the current version are never held back.
type rollout struct {
	hash string
	// limits are asked at each decision: with sharding, this replica's part of them.
	limits func() config.Rollout

	mu       sync.Mutex
	inFlight map[cache.ObjectName]bool
	failed   map[cache.ObjectName]bool
	// announced is set once a pause was reported, so it is reported once.
	announced bool
}

func newRollout(hash string, limits func() config.Rollout) *rollout {
	// A short hash reads well in an annotation and is as good as the whole for telling a
	// handful of template versions apart.
	if len(hash) > 16 {
		hash = hash[:16]
	}
	return &rollout{hash: hash, limits: limits, inFlight: map[cache.ObjectName]bool{}, failed: map[cache.ObjectName]bool{}}
}

// rolloutLimits are the watch's rollout limits for this replica's share of the owners.
func (c *controller) rolloutLimits() config.Rollout {
	r := c.watch.Rollout
	r.MaxInFlight, r.MaxFailures = c.split(r.MaxInFlight), c.split(r.MaxFailures)
	return r
}

// admission is the rollout's answer for one owner.
type admission int

const (
	admitted admission = iota
	held               // too many upgraded owners not Ready yet: try again shortly
	paused             // too many upgraded owners failed: leave this one as it is
)

// admit decides whether the owner, last rendered by the template version recorded, may be
// reconciled now; an admitted upgrade counts as in flight until done sees it Ready. announce
// is true for the first paused answer of a pause.
func (r *rollout) admit(key cache.ObjectName, recorded string) (a admission, announce bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if recorded == "" || recorded == r.hash || r.inFlight[key] || r.failed[key] {
		return admitted, false
	}
	limits := r.limits()
	if len(r.failed) >= limits.MaxFailures {
		announce, r.announced = !r.announced, true
		return paused, announce
	}
	r.announced = false
	if len(r.inFlight) >= limits.MaxInFlight {
		return held, false
	}
	r.inFlight[key] = true
	return admitted, false
}

// done records the outcome of a reconcile of an owner the rollout tracks.
func (r *rollout) done(key cache.ObjectName, out outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.inFlight[key] && !r.failed[key] {
		return
	}
	switch {
	case out.err != nil:
		r.failed[key] = true
		delete(r.inFlight, key)
	case out.ready:
		delete(r.inFlight, key)
		delete(r.failed, key)
	default:
		r.inFlight[key] = true
		delete(r.failed, key)
	}
}

// forget drops an owner that is gone.
func (r *rollout) forget(key cache.ObjectName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.inFlight, key)
	delete(r.failed, key)
}

// failures lists the owners that failed with the current version, for the pause message.
func (r *rollout) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.failed))
	for k := range r.failed {
		out = append(out, k.String())
	}
	sort.Strings(out)
	return out
}
