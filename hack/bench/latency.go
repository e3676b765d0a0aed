package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// LatencyResult is the edit-to-child latency: from the response to a Site edit to the moment
// the harness's watch delivers the child that shows it (the Service with the new spec.port for
// latency, the ConfigMap with the new spec.message for latency-rollout).
type LatencyResult struct {
	// Edit is the spec field edited and Child the child timed; results files from before the
	// port variant have neither (they edited spec.message and timed the ConfigMap).
	Edit      string  `json:"edit,omitempty"`
	Child     string  `json:"child,omitempty"`
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
	// EditRequest is the API server's own latency meanwhile: from sending each edit to its
	// response. A tail in Latencies that EditRequest shares is the API server's (or the
	// machine's), not bosun's.
	EditRequest *Latencies `json:"editRequest,omitempty"`
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

// landTimeout is how long the latency phases wait for the last edits to land.
const landTimeout = 3 * time.Minute

type edit struct {
	key              string
	value            any // what the edit set: a port (int64) or a message (string)
	sent, resp, seen time.Time
	err              error
}

// latencyVariant is what a latency phase edits and which child it waits for.
type latencyVariant struct {
	phase string
	field string // the spec field edited
	child string // the child that shows it
	// value is what edit i sets on a Site whose field is cur now (nil: not known).
	value func(i int, cur any) any
	// current is the field's value before the phase's first edit of the Site.
	current func(key string) any
	// shows tells whether the child in ev shows v.
	shows func(ev childEvent, v any) bool
}

// portVariant edits spec.port, which only the Service shows: no rollout, so the phase times
// bosun rather than the cluster's rollout machinery.
func (s *session) portVariant() latencyVariant {
	return latencyVariant{
		phase: phaseLatency, field: "port", child: "Service",
		value:   func(i int, cur any) any { return nextPort(i, cur.(int64)) },
		current: func(key string) any { return s.tr.sitePort(key) },
		shows: func(ev childEvent, v any) bool {
			return ev.kind == kindService && ev.port == v.(int64)
		},
	}
}

// messageVariant edits spec.message, which the ConfigMap shows; the Deployment's pod template
// carries a hash of it, so every edit also rolls the Deployment out (kube-controller-manager
// and kwok write some 20 times per rollout).
func (s *session) messageVariant() latencyVariant {
	return latencyVariant{
		phase: phaseLatencyRollout, field: "message", child: "ConfigMap",
		value:   func(i int, _ any) any { return fmt.Sprintf("latency %d", i) },
		current: func(string) any { return nil },
		shows: func(ev childEvent, v any) bool {
			return ev.kind == kindConfigMap && strings.Contains(ev.content, "<h1>"+v.(string)+"</h1>")
		},
	}
}

// nextPort is the port edit i sets: 8000+i%1000, or the next one when the Site has that
// port already, so that every edit changes the Service.
func nextPort(i int, cur int64) int64 {
	p := int64(8000 + i%1000)
	if p == cur {
		p = int64(8000 + (i+1)%1000)
	}
	return p
}

func (s *session) latency(ctx context.Context) *PhaseResult {
	return s.runLatency(ctx, s.portVariant())
}

func (s *session) latencyRollout(ctx context.Context) *PhaseResult {
	return s.runLatency(ctx, s.messageVariant())
}

// runLatency edits Sites at a steady rate and times each edit until its child shows it. Edits
// go to distinct owners while there are enough; an owner is edited again only after its last
// edit landed.
func (s *session) runLatency(ctx context.Context, v latencyVariant) *PhaseResult {
	keys := s.tr.siteKeys()
	pool := keys[:min(len(keys), s.b.o.latencyOwners)]
	total := int(s.b.o.latencyRate * s.b.o.latencyDuration.Seconds())
	p := &PhaseResult{Name: v.phase, Owners: total}
	res := &LatencyResult{Edit: "spec." + v.field, Child: v.child, Owners: len(keys)}
	p.Latency = res
	if len(pool) == 0 {
		p.Failed = "no Sites to edit"
		return p
	}

	var mu sync.Mutex
	pending := map[string]*edit{}
	s.tr.setHook(func(ev childEvent) {
		mu.Lock()
		defer mu.Unlock()
		if e := pending[ev.namespace+"/"+ev.owner]; e != nil && e.seen.IsZero() && v.shows(ev, e.value) {
			e.seen = ev.at
		}
	})
	defer s.tr.setHook(nil)

	m := s.mark()
	start := time.Now()
	s.b.logf("%s: %d edits of spec.%s at %.0f/s over %d of %d owners, timed to the %s", v.phase, total, v.field, s.b.o.latencyRate, len(pool), len(keys), v.child)
	// Edit i goes out at start + i/rate, on a fixed schedule: a late send is made up at once
	// rather than dropped, so the rate is the one asked for.
	interval := time.Duration(float64(time.Second) / s.b.o.latencyRate)
	var edits []*edit
	var wg sync.WaitGroup
	var lastSend time.Time
	for i := 0; i < total; i++ {
		select {
		case <-ctx.Done():
			p.Failed = ctx.Err().Error()
		case <-time.After(time.Until(start.Add(time.Duration(i) * interval))):
		}
		if p.Failed != "" {
			break
		}
		lastSend = time.Now()
		key := pool[i%len(pool)]
		mu.Lock()
		last := pending[key]
		if last != nil && last.seen.IsZero() && last.err == nil {
			mu.Unlock()
			res.Skipped++
			continue
		}
		cur := v.current(key)
		if last != nil && last.err == nil {
			cur = last.value // landed; the tracker's Site may not show it yet
		}
		e := &edit{key: key, value: v.value(i, cur), sent: lastSend}
		pending[key] = e
		edits = append(edits, e)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns, name := splitKey(e.key)
			err := s.patchSpec(ctx, ns, name, v.field, e.value)
			mu.Lock()
			e.resp, e.err = time.Now(), err
			mu.Unlock()
		}()
	}
	wg.Wait()
	// The rate over the span of the sends (the first goes out at once).
	sent := max(lastSend.Sub(start).Seconds(), interval.Seconds())
	res.Edits, res.Rate = len(edits), round(float64(max(len(edits)-1, 1))/sent, 1)

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
	var ds, reqs []time.Duration
	windows := map[int][]time.Duration{}
	for _, e := range edits {
		var d time.Duration
		if e.err == nil && !e.resp.IsZero() {
			reqs = append(reqs, e.resp.Sub(e.sent))
		}
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
		w := int(e.sent.Sub(start) / latencyWindow)
		windows[w] = append(windows[w], d)
	}
	mu.Unlock()
	res.Landed = len(ds)
	res.Latencies = summarize(ds)
	if len(reqs) > 0 {
		r := summarize(reqs)
		res.EditRequest = &r
	}
	for w := 0; w <= int(s.b.o.latencyDuration/latencyWindow); w++ {
		if len(windows[w]) > 0 {
			res.Windows = append(res.Windows, LatencyWindow{FromSeconds: (time.Duration(w) * latencyWindow).Seconds(), Latencies: summarize(windows[w])})
		}
	}
	if missing := len(edits) - res.Landed - res.Failed; missing > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d edits had not reached their %s %s after the last edit", missing, v.child, landTimeout))
	}
	if res.Failed > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d edits failed", res.Failed))
	}
	s.b.logf("%s: %d/%d landed: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms; p50 by %s window: %s; the edits' own requests: %s",
		v.phase, res.Landed, res.Edits, res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs, latencyWindow, res.windowText(), res.EditRequest.quantiles())

	// Let the edited owners settle (they report Ready; after message edits their Deployments
	// roll out first) before the next phase, and count that work to this phase.
	conv := &convergence{start: start}
	s.wait(ctx, p, start, func() (bool, string) {
		st := s.tr.all("")
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
