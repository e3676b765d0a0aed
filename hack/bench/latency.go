package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// LatencyResult is the edit-to-child latency: from the response to a Site edit to the moment
// the harness's watch delivers the ConfigMap with the new message.
type LatencyResult struct {
	Owners    int     `json:"owners"` // Sites in the cluster (edits go to the first ones)
	Edits     int     `json:"edits"`
	Landed    int     `json:"landed"`
	Skipped   int     `json:"skipped"` // an owner's previous edit had not landed yet
	Failed    int     `json:"failed"`
	Rate      float64 `json:"rate"` // edits per second actually sent
	Latencies `json:"latency"`
	// BeforeResponse counts edits whose child showed up before the edit's own response
	// arrived (counted as 0).
	BeforeResponse int `json:"beforeResponse,omitempty"`
	// Windows are the latencies of the edits sent in each 5-second window: a backlog that
	// grows while the edits come shows as rising windows.
	Windows []LatencyWindow `json:"windows,omitempty"`
}

// LatencyWindow summarises the edits sent from FromSeconds on, for latencyWindow.
type LatencyWindow struct {
	FromSeconds float64 `json:"fromSeconds"`
	Latencies
}

const latencyWindow = 5 * time.Second

// landTimeout is how long the latency phase waits for the last edits to land.
const landTimeout = 3 * time.Minute

type edit struct {
	key, msg   string
	resp, seen time.Time
	err        error
}

// latency edits Sites at a steady rate and times each edit until its ConfigMap shows it. Edits
// go to distinct owners while there are enough; an owner is edited again only after its last
// edit landed.
func (s *session) latency(ctx context.Context) *PhaseResult {
	keys := s.tr.siteKeys()
	pool := keys[:min(len(keys), s.b.o.latencyOwners)]
	total := int(s.b.o.latencyRate * s.b.o.latencyDuration.Seconds())
	p := &PhaseResult{Name: phaseLatency, Owners: total}
	res := &LatencyResult{Owners: len(keys)}
	p.Latency = res
	if len(pool) == 0 {
		p.Failed = "no Sites to edit"
		return p
	}

	var mu sync.Mutex
	pending := map[string]*edit{}
	s.tr.setHook(func(ns, owner, content string, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if e := pending[ns+"/"+owner]; e != nil && e.seen.IsZero() && strings.Contains(content, "<h1>"+e.msg+"</h1>") {
			e.seen = at
		}
	})
	defer s.tr.setHook(nil)

	m := s.mark()
	start := time.Now()
	s.b.logf("latency: %d edits at %.0f/s over %d of %d owners", total, s.b.o.latencyRate, len(pool), len(keys))
	tick := time.NewTicker(time.Duration(float64(time.Second) / s.b.o.latencyRate))
	var edits []*edit
	var wg sync.WaitGroup
	for i := 0; i < total; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				p.Failed = ctx.Err().Error()
			case <-tick.C:
			}
		}
		if p.Failed != "" {
			break
		}
		key := pool[i%len(pool)]
		mu.Lock()
		if e := pending[key]; e != nil && e.seen.IsZero() {
			mu.Unlock()
			res.Skipped++
			continue
		}
		e := &edit{key: key, msg: fmt.Sprintf("latency %d", i)}
		pending[key] = e
		edits = append(edits, e)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns, name := splitKey(e.key)
			err := s.edit(ctx, ns, name, e.msg)
			mu.Lock()
			e.resp, e.err = time.Now(), err
			mu.Unlock()
		}()
	}
	tick.Stop()
	wg.Wait()
	sent := since(start)
	res.Edits, res.Rate = len(edits), round(float64(len(edits))/sent, 1)

	landed := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, e := range edits {
			if !e.seen.IsZero() || e.err != nil {
				n++
			}
		}
		return n
	}
	wctx, cancel := context.WithTimeout(ctx, landTimeout)
	_ = poll(wctx, 100*time.Millisecond, func() (bool, error) { return landed() == len(edits), nil })
	cancel()

	mu.Lock()
	var ds []time.Duration
	windows := map[int][]time.Duration{}
	for _, e := range edits {
		var d time.Duration
		switch {
		case e.err != nil:
			res.Failed++
			continue
		case e.seen.IsZero():
			continue
		case e.seen.Before(e.resp):
			res.BeforeResponse++
		default:
			d = e.seen.Sub(e.resp)
		}
		ds = append(ds, d)
		w := int(e.resp.Sub(start) / latencyWindow)
		windows[w] = append(windows[w], d)
	}
	mu.Unlock()
	res.Landed = len(ds)
	res.Latencies = summarize(ds)
	for w := 0; w <= int(s.b.o.latencyDuration/latencyWindow); w++ {
		if len(windows[w]) > 0 {
			res.Windows = append(res.Windows, LatencyWindow{FromSeconds: (time.Duration(w) * latencyWindow).Seconds(), Latencies: summarize(windows[w])})
		}
	}
	if missing := len(edits) - res.Landed - res.Failed; missing > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d edits had not reached their ConfigMap %s after the last edit", missing, landTimeout))
	}
	s.b.logf("latency: %d/%d landed: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms; p50 by %s window: %s",
		res.Landed, res.Edits, res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs, latencyWindow, res.windowText())

	// Let the edited owners settle (their Deployments roll out and they report Ready) before the
	// next phase, and count that work to this phase.
	conv := &convergence{start: start}
	s.wait(ctx, p, start, func() (bool, string) {
		st := s.tr.state(batchA, "").plus(s.tr.state(batchB, ""))
		return conv.done(st, st.Sites), "settling: " + st.String()
	})
	conv.record(p)
	s.measure(p, m)
	return p
}

// windowText lists the windows' p50s: "12, 40, 800 ms".
func (r *LatencyResult) windowText() string {
	parts := make([]string, len(r.Windows))
	for i, w := range r.Windows {
		parts[i] = fmt.Sprintf("%.0f", w.P50Ms)
	}
	return strings.Join(parts, ", ") + " ms"
}
