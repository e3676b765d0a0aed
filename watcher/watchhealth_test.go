package watcher

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// fakeLW serves lists and watches from a script: the first failures fail with a refused
// connection, then the list answers with no items and each watch is a fake the test drives.
type fakeLW struct {
	mu       sync.Mutex
	failures int
	lists    int
	watches  []*watch.FakeWatcher
}

func (f *fakeLW) lw() *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.failures > 0 {
				f.failures--
				return nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
			}
			f.lists++
			return &metav1.PartialObjectMetadataList{ListMeta: metav1.ListMeta{ResourceVersion: "10"}}, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			w := watch.NewFake()
			f.watches = append(f.watches, w)
			return w, nil
		},
	}
}

func TestAWatchStateTellsRelistsAndRetriesRefusedConnections(t *testing.T) {
	h := newWatchHealth(zap.NewNop())
	var mu sync.Mutex
	var relists []time.Time
	s := h.track(roleChild, "v1/configmaps", "", func(began time.Time) {
		mu.Lock()
		relists = append(relists, began)
		mu.Unlock()
	})
	f := &fakeLW{failures: 2}
	lw := s.wrap(f.lw())
	ctx := context.Background()

	// The first list fails twice to connect, is retried inside, and is no relist.
	if _, err := lw.ListWithContext(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list: %v", err)
	}
	if f.lists != 1 {
		t.Fatalf("lists = %d, want 1 (the refused ones retried inside)", f.lists)
	}
	w, err := lw.WatchWithContext(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := s.down(time.Now()); d != 0 {
		t.Fatalf("down %s with a watch open", d)
	}
	// The watch ends with an error; the informer lists again: that is a relist.
	f.watches[0].Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	if e := <-w.ResultChan(); e.Type != watch.Error {
		t.Fatalf("event %s, want the error passed on", e.Type)
	}
	w.Stop() // as the reflector does after an error event
	waitFor(t, func() bool { d, err := s.down(time.Now().Add(time.Second)); return d > 0 && err != nil })
	if down := h.down(0); len(down) != 1 || down[0].Resource != "v1/configmaps" {
		t.Fatalf("down = %+v, want the configmaps watch", down)
	}
	if _, err := lw.ListWithContext(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	n := len(relists)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("relists reported = %d, want 1", n)
	}
	if _, err := lw.WatchWithContext(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if down := h.down(0); len(down) != 0 {
		t.Fatalf("down = %+v after the watch reopened", down)
	}
}

func TestAWatchListEndsAtItsInitialEventsBookmark(t *testing.T) {
	h := newWatchHealth(zap.NewNop())
	relisted := make(chan struct{}, 2)
	s := h.track(roleChild, "v1/configmaps", "", func(time.Time) { relisted <- struct{}{} })
	f := &fakeLW{}
	lw := s.wrap(f.lw())
	yes := true
	for i := range 2 {
		w, err := lw.WatchWithContext(context.Background(), metav1.ListOptions{SendInitialEvents: &yes})
		if err != nil {
			t.Fatal(err)
		}
		go f.watches[i].Action(watch.Bookmark, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
			ResourceVersion: "10", Annotations: map[string]string{initialEventsEnd: "true"}}})
		<-w.ResultChan()
		w.Stop()
	}
	select {
	case <-relisted:
	case <-time.After(5 * time.Second):
		t.Fatal("the second watch list was not reported as a relist")
	}
	select {
	case <-relisted:
		t.Fatal("the first watch list was reported as a relist")
	default:
	}
}

func TestOnlyConnectionFailuresAreRetriedInside(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errors.New("connection refused"), true},
		{context.Canceled, false},
		{&statusError{metav1.Status{Code: 403, Reason: metav1.StatusReasonForbidden}}, false},
		{&statusError{metav1.Status{Code: 503, Reason: metav1.StatusReasonServiceUnavailable}}, true},
		{&statusError{metav1.Status{Code: 410, Reason: metav1.StatusReasonExpired}}, false},
	} {
		if got := connectionError(tc.err); got != tc.want {
			t.Errorf("connectionError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

type statusError struct{ s metav1.Status }

func (e *statusError) Error() string         { return string(e.s.Reason) }
func (e *statusError) Status() metav1.Status { return e.s }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTheWatchdogLogsAStalledWatchOncePerEpisode(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	h := newWatchHealth(zap.New(core))
	s := h.track(roleChild, "v1/configmaps", "", nil)
	s.opened()
	s.listEnds()
	s.closed(nil) // broke off without an error; the next watch hangs
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.watchdog(ctx, 10*time.Millisecond)
	}()
	waitLogged := func(msg string, want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for logs.FilterMessage(msg).Len() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%q logged %d times, want %d; logs: %v", msg, logs.FilterMessage(msg).Len(), want, logs.All())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	const overdue = "watch down longer than the threshold; /readyz fails until it is back"
	waitLogged(overdue, 1)
	time.Sleep(600 * time.Millisecond) // two more ticks of the watchdog
	if n := logs.FilterMessage(overdue).Len(); n != 1 {
		t.Errorf("%q logged %d times in one episode, want once", overdue, n)
	}
	s.opened()
	waitLogged("watch back", 1)
	s.closed(nil)
	waitLogged(overdue, 2)
	cancel()
	<-done
}
