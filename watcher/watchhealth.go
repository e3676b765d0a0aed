package watcher

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// The health of bosun's watches. Every informer (owners of a watch, children of a kind) lists
// and watches through a watchState, which
//   - tells when the informer relists after its first sync (a watch that broke, "too old
//     resource version"), so that bosun can look again at what may have changed or vanished
//     while it was not watching (relisted): a relist reports the deletion of objects its cache
//     held, never of those it had not seen yet — children created while the watch was down;
//   - retries failed connections itself, every 0.25–2 s, instead of handing them to the
//     reflector, whose backoff grows to 30–60 s: a watch is back within about 2 s of the API
//     server answering again;
//   - records whether a watch is open, its errors and relists, and the time of its last
//     event or bookmark, for the metrics, /readyz (Down) and one log line per failure episode.

const (
	// retryMin and retryMax bound the wait between two tries of a list or watch whose
	// connection failed.
	retryMin = 250 * time.Millisecond
	retryMax = 2 * time.Second
	// relistGrace is how long after a relist the owners it concerns are requeued: the
	// informer puts the relisted objects into its cache right after the list (well within
	// it), so their reconciles read the relisted state. A reconcile that ran before would
	// still be right, only dearer: a child it takes for missing is created, found, adopted.
	relistGrace = time.Second
	// initialEventsEnd annotates the bookmark that ends the initial events of a watch list.
	initialEventsEnd = "k8s.io/initial-events-end"
)

// watchRole says what an informer watches.
const (
	roleOwner = "owner"
	roleChild = "child"
)

// watchHealth holds the state of every informer's list and watch.
type watchHealth struct {
	log *zap.Logger
	now func() time.Time

	mu     sync.Mutex
	states []*watchState
}

func newWatchHealth(log *zap.Logger) *watchHealth {
	return &watchHealth{log: log, now: time.Now}
}

// watchState is one informer's list and watch.
type watchState struct {
	h        *watchHealth
	role     string
	resource string // group/version/resource: a label, so never the namespace or slot
	log      *zap.Logger
	// relisted is called after a relist following the first sync, with when it began; may
	// be nil.
	relisted func(began time.Time)

	mu        sync.Mutex
	synced    bool      // a first list completed
	listing   time.Time // a list (or watch list) in progress began then
	open      int       // watches open now
	downSince time.Time // since when no watch was open; zero while one is
	failing   bool      // an episode of failures is on (logged once)
	overdue   bool      // this episode has lasted past the threshold (logged once)
	lastErr   error
	lastEvent time.Time
	errors    int
	relists   int
	stopped   bool
}

// track starts tracking one informer of a resource; where names its namespace or slot (for
// the log) when there are several; stop ends it (the informer was stopped).
func (h *watchHealth) track(role, resource, where string, relisted func(time.Time)) *watchState {
	log := h.log.With(zap.String("role", role), zap.String("resource", resource))
	if where != "" {
		log = log.With(zap.String("where", where))
	}
	s := &watchState{h: h, role: role, resource: resource, relisted: relisted, downSince: h.now(), log: log}
	h.mu.Lock()
	h.states = append(h.states, s)
	h.mu.Unlock()
	return s
}

func (s *watchState) stop() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.h.mu.Lock()
	s.h.states = slices.DeleteFunc(s.h.states, func(o *watchState) bool { return o == s })
	s.h.mu.Unlock()
}

// wrap returns lw listing and watching through s.
func (s *watchState) wrap(lw *cache.ListWatch) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			if o.Continue == "" {
				s.listBegins()
			}
			obj, err := retryConnection(ctx, s, func() (runtime.Object, error) { return lw.ListWithContext(ctx, o) })
			if err != nil {
				return nil, err
			}
			if l, err := meta.ListAccessor(obj); err == nil && l.GetContinue() == "" {
				s.listEnds()
			}
			return obj, nil
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			list := o.SendInitialEvents != nil && *o.SendInitialEvents
			if list {
				s.listBegins()
			}
			w, err := retryConnection(ctx, s, func() (watch.Interface, error) { return lw.WatchWithContext(ctx, o) })
			if err != nil {
				return nil, err
			}
			s.opened()
			return newObservedWatch(w, s, list), nil
		},
	}
}

// retryConnection calls fn until it succeeds, fails for a reason other than the connection to
// the API server, or ctx ends; failures are recorded on s.
func retryConnection[T any](ctx context.Context, s *watchState, fn func() (T, error)) (T, error) {
	wait := retryMin
	for {
		v, err := fn()
		if err == nil {
			return v, nil
		}
		s.failed(err)
		if !connectionError(err) || ctx.Err() != nil {
			return v, err
		}
		jittered := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(jittered):
		}
		wait = min(2*wait, retryMax)
	}
}

// connectionError reports a failure to reach the API server (refused, reset, timed out, or an
// API server still starting), as opposed to an answer (forbidden, gone, invalid), which the
// reflector handles.
func connectionError(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	return apierrors.IsServiceUnavailable(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err)
}

func (s *watchState) listBegins() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listing = s.h.now()
}

// listEnds: the list that began last is complete. After the first sync this was a relist.
func (s *watchState) listEnds() {
	s.mu.Lock()
	began, relist := s.listing, s.synced
	s.synced = true
	s.listing = time.Time{}
	s.lastEvent = s.h.now()
	if relist {
		s.relists++
	}
	s.mu.Unlock()
	if relist && s.relisted != nil {
		s.relisted(began)
	}
}

// opened: a watch is open again.
func (s *watchState) opened() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open++
	if s.failing || s.overdue {
		s.log.Info("watch back", zap.Duration("down", s.h.now().Sub(s.downSince)))
	}
	s.failing, s.overdue = false, false
	s.lastErr = nil
	s.downSince = time.Time{}
	s.lastEvent = s.h.now()
}

// closed: a watch ended (its stream ended or it was stopped); err is its error event, if any.
func (s *watchState) closed(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open--
	if s.open == 0 && s.downSince.IsZero() {
		s.downSince = s.h.now()
	}
	if err != nil {
		s.errors++
		s.lastErr = err
	}
}

// failed records a failed list or watch; the first of an episode is logged.
func (s *watchState) failed(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || errors.Is(err, context.Canceled) {
		return
	}
	s.errors++
	s.lastErr = err
	if !s.failing {
		s.failing = true
		s.log.Warn("watch failing; retrying until it is back (logged once)", zap.Error(err))
	}
}

func (s *watchState) event() {
	s.mu.Lock()
	s.lastEvent = s.h.now()
	s.mu.Unlock()
}

// refusal is the error of an informer whose first list the API server refused for good — the
// resource is not served (its CRD was removed) or bosun may not list it — so that a reconcile
// waiting for its sync need not wait out childSyncTimeout; nil otherwise.
func (s *watchState) refusal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.synced || s.lastErr == nil {
		return nil
	}
	if err := s.lastErr; apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
		return err
	}
	return nil
}

// down reports how long no watch has been open (zero while one is), and the last error.
func (s *watchState) down(now time.Time) (time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.downSince.IsZero() || !s.synced && s.lastErr == nil {
		return 0, nil
	}
	return now.Sub(s.downSince), s.lastErr
}

// WatchDown is a watch that has been down for a while.
type WatchDown struct {
	Role, Resource string
	For            time.Duration
	// Err is its last error; nil when it broke off without one.
	Err error
}

// watchdog logs, once per episode, each watch down for longer than threshold — also one that
// stalls without an error (a request the network holds) — until ctx is done.
func (h *watchHealth) watchdog(ctx context.Context, threshold time.Duration) {
	tick := time.NewTicker(min(max(threshold/4, retryMin), 5*time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		h.mu.Lock()
		states := slices.Clone(h.states)
		h.mu.Unlock()
		now := h.now()
		for _, s := range states {
			if d, err := s.down(now); d > threshold {
				s.overdueFor(d, threshold, err)
			}
		}
	}
}

func (s *watchState) overdueFor(d, threshold time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overdue || s.stopped {
		return
	}
	s.overdue = true
	s.log.Warn("watch down longer than the threshold; /readyz fails until it is back", zap.Duration("down", d),
		zap.Duration("threshold", threshold), zap.Error(err))
}

// down lists the watches down for longer than threshold.
func (h *watchHealth) down(threshold time.Duration) []WatchDown {
	h.mu.Lock()
	states := slices.Clone(h.states)
	h.mu.Unlock()
	now := h.now()
	var out []WatchDown
	for _, s := range states {
		if d, err := s.down(now); d > threshold {
			out = append(out, WatchDown{Role: s.role, Resource: s.resource, For: d, Err: err})
		}
	}
	return out
}

// observedWatch passes a watch's events on, noting each on its state, and the end of a watch
// list's initial events (which completes that list).
type observedWatch struct {
	in   watch.Interface
	out  chan watch.Event
	done chan struct{}
	once sync.Once
}

func newObservedWatch(in watch.Interface, s *watchState, list bool) *observedWatch {
	w := &observedWatch{in: in, out: make(chan watch.Event), done: make(chan struct{})}
	go func() {
		defer close(w.out)
		var failure error
		defer func() { s.closed(failure) }()
		for {
			var e watch.Event
			var ok bool
			select {
			case e, ok = <-in.ResultChan():
				if !ok {
					return
				}
			case <-w.done:
				return
			}
			s.event()
			switch e.Type {
			case watch.Error:
				failure = apierrors.FromObject(e.Object)
			case watch.Bookmark:
				if list {
					if m, err := meta.Accessor(e.Object); err == nil && m.GetAnnotations()[initialEventsEnd] == "true" {
						list = false
						s.listEnds()
					}
				}
			}
			select {
			case w.out <- e:
			case <-w.done:
				return
			}
		}
	}()
	return w
}

func (w *observedWatch) Stop() {
	w.once.Do(func() { close(w.done) })
	w.in.Stop()
}

func (w *observedWatch) ResultChan() <-chan watch.Event { return w.out }

var (
	watchUpDesc = prometheus.NewDesc("bosun_watch_up",
		"1 while every informer of the role and resource has a watch open (or is listing after its first sync), 0 while one has none.", []string{"role", "resource"}, nil)
	watchErrorsDesc = prometheus.NewDesc("bosun_watch_errors_total",
		"Failed lists and watches, and watches that ended with an error, by role and resource.", []string{"role", "resource"}, nil)
	watchRelistsDesc = prometheus.NewDesc("bosun_watch_relists_total",
		"Lists after the first one (a watch broke off or its resource version was too old), by role and resource.", []string{"role", "resource"}, nil)
	watchSilenceDesc = prometheus.NewDesc("bosun_watch_last_event_age_seconds",
		"Seconds since the last event or bookmark of any informer of the role and resource.", []string{"role", "resource"}, nil)
	watchDownDesc = prometheus.NewDesc("bosun_watch_down_seconds",
		"Seconds the longest-down informer of the role and resource has had no watch open; 0 while all do.", []string{"role", "resource"}, nil)
)

func (h *watchHealth) Describe(ch chan<- *prometheus.Desc) {
	ch <- watchUpDesc
	ch <- watchErrorsDesc
	ch <- watchRelistsDesc
	ch <- watchSilenceDesc
	ch <- watchDownDesc
}

// Collect sums the informers of each role and resource (several slots or namespaces).
func (h *watchHealth) Collect(ch chan<- prometheus.Metric) {
	type sum struct {
		up              bool
		errors, relists int
		last            time.Time
		down            time.Duration
	}
	h.mu.Lock()
	states := slices.Clone(h.states)
	h.mu.Unlock()
	now := h.now()
	sums := map[[2]string]*sum{}
	for _, s := range states {
		k := [2]string{s.role, s.resource}
		t := sums[k]
		if t == nil {
			t = &sum{up: true}
			sums[k] = t
		}
		d, _ := s.down(now)
		s.mu.Lock()
		t.errors += s.errors
		t.relists += s.relists
		if s.lastEvent.After(t.last) {
			t.last = s.lastEvent
		}
		s.mu.Unlock()
		t.up = t.up && d == 0
		t.down = max(t.down, d)
	}
	for k, t := range sums {
		up := 0.0
		if t.up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(watchUpDesc, prometheus.GaugeValue, up, k[0], k[1])
		ch <- prometheus.MustNewConstMetric(watchErrorsDesc, prometheus.CounterValue, float64(t.errors), k[0], k[1])
		ch <- prometheus.MustNewConstMetric(watchRelistsDesc, prometheus.CounterValue, float64(t.relists), k[0], k[1])
		if !t.last.IsZero() {
			ch <- prometheus.MustNewConstMetric(watchSilenceDesc, prometheus.GaugeValue, now.Sub(t.last).Seconds(), k[0], k[1])
		}
		ch <- prometheus.MustNewConstMetric(watchDownDesc, prometheus.GaugeValue, t.down.Seconds(), k[0], k[1])
	}
}
