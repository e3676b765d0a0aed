package main

import (
	"strings"
	"time"

	"k8s.io/client-go/tools/cache"
)

// ownerTimes is when the tracker's watches delivered an owner's last child write and the
// owner's Ready: lastChildToReady is the one minus the other, bosun's time from applying an
// owner's last child to writing its Ready status. Both are stamped on receipt, so both carry
// the watch's delay; they come on different watches (the children's and the Sites'), which
// may deliver a few milliseconds apart either way.
type ownerTimes struct {
	lastChild time.Time // the last event that was a write of one of its children (childWrite)
	ready     time.Time // the first event that showed it Ready for readyGen
	readyGen  int64
}

// stamp records the receipt of an event: a write of a child, or an owner Ready for a
// generation it was not Ready for before.
func (t *tracker) stamp(kind int, old, obj any) {
	now := time.Now()
	if kind == kindSite {
		s, ok := obj.(*siteInfo)
		if !ok || !s.ready || s.observed != s.Generation {
			return
		}
		t.timesMu.Lock()
		defer t.timesMu.Unlock()
		ot := t.timesOf(s.Namespace + "/" + s.Name)
		if ot.ready.IsZero() || ot.readyGen != s.Generation {
			ot.ready, ot.readyGen = now, s.Generation
		}
		return
	}
	key, ok := childWrite(old, obj)
	if !ok {
		return
	}
	t.timesMu.Lock()
	defer t.timesMu.Unlock()
	t.timesOf(key).lastChild = now
}

// timesOf is the owner's entry, made if missing; the caller holds timesMu.
func (t *tracker) timesOf(key string) *ownerTimes {
	ot := t.times[key]
	if ot == nil {
		ot = &ownerTimes{}
		t.times[key] = ot
	}
	return ot
}

// forget drops a deleted Site's times: a Site of the same name later is another owner.
func (t *tracker) forget(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	t.timesMu.Lock()
	defer t.timesMu.Unlock()
	delete(t.times, key)
}

// childWrite tells whether an event of a child is a write of bosun's, and of which owner
// (namespace/name). A ConfigMap or a Service changes only when bosun applies it; a Deployment
// also when kube-controller-manager writes its status or annotations, so only its creation
// and a new generation (a change of its spec) count.
func childWrite(old, obj any) (owner string, ok bool) {
	switch o := obj.(type) {
	case *configMapInfo:
		return o.Namespace + "/" + strings.TrimSuffix(o.Name, "-content"), true
	case *serviceInfo:
		return o.Namespace + "/" + o.Name, true
	case *deploymentInfo:
		prev, known := old.(*deploymentInfo)
		return o.Namespace + "/" + o.Name, !known || prev.Generation != o.Generation
	}
	return "", false
}

// ownerTimesIn copies the times of the Sites in the batch's namespaces.
func (t *tracker) ownerTimesIn(batch string) []ownerTimes {
	prefix := "bench-" + batch + "-"
	t.timesMu.Lock()
	defer t.timesMu.Unlock()
	var out []ownerTimes
	for key, ot := range t.times {
		if strings.HasPrefix(key, prefix) {
			out = append(out, *ot)
		}
	}
	return out
}

// ChildToReady is lastChildToReady: per owner, from the receipt of its last child write to
// the receipt of its Ready.
type ChildToReady struct {
	Latencies
	// ReadyFirst counts owners whose Ready arrived before their last child write (counted
	// as 0): the two come on different watches, or a child was written again after Ready.
	ReadyFirst int `json:"readyFirst,omitempty"`
}

// childToReady sums up the owners that were Ready and had a child write seen.
func childToReady(times []ownerTimes) ChildToReady {
	var ds []time.Duration
	var c ChildToReady
	for _, ot := range times {
		if ot.ready.IsZero() || ot.lastChild.IsZero() {
			continue
		}
		d := ot.ready.Sub(ot.lastChild)
		if d < 0 {
			c.ReadyFirst++
			d = 0
		}
		ds = append(ds, d)
	}
	c.Latencies = summarize(ds)
	return c
}

// lastReady is the receipt of the last Ready of n owners; zero unless n of them were Ready.
func lastReady(times []ownerTimes, n int) time.Time {
	var last time.Time
	ready := 0
	for _, ot := range times {
		if ot.ready.IsZero() {
			continue
		}
		ready++
		if ot.ready.After(last) {
			last = ot.ready
		}
	}
	if ready < n {
		return time.Time{}
	}
	return last
}
