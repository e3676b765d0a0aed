package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
	clocktesting "k8s.io/utils/clock/testing"
)

const (
	testLease = 15 * time.Second
	testRenew = 10 * time.Second
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fenceStep is one thing that happens to a fence, then what a write finds.
type fenceStep struct {
	at      time.Duration // after t0
	do      func(f *fence)
	wantErr string // substring of admit's error; empty: the write passes
	closed  bool   // Closed() is closed by now
}

func renewedAt(d time.Duration) func(*fence) { return func(f *fence) { f.renewed(t0.Add(d)) } }

func TestFenceTiming(t *testing.T) {
	tests := []struct {
		name  string
		arm   bool
		steps []fenceStep
	}{{
		name: "without leader election every write passes, at any time",
		steps: []fenceStep{
			{at: 0},
			{at: time.Hour},
		},
	}, {
		name: "a replica that joined the election writes nothing before its first renewal",
		arm:  true,
		steps: []fenceStep{
			{at: 0, wantErr: "this replica does not lead"},
			{at: time.Minute, wantErr: "this replica does not lead"},
		},
	}, {
		name: "writes pass until the renew deadline after the last renewal was sent, then never again",
		arm:  true,
		steps: []fenceStep{
			{at: 0, do: renewedAt(0)},
			{at: testRenew - time.Millisecond},
			{at: testRenew, wantErr: "no Lease renewal succeeded within 10s of the one sent at 03:04:05.000, and another replica may take the Lease 5s later", closed: true},
			{at: testRenew + time.Second, do: renewedAt(testRenew + time.Second), wantErr: "can no longer prove it leads", closed: true},
		},
	}, {
		name: "each renewal moves the fence to the renew deadline after it was sent, not after it succeeded",
		arm:  true,
		steps: []fenceStep{
			{at: 0, do: renewedAt(0)},
			{at: 8 * time.Second, do: renewedAt(2 * time.Second)}, // sent at 2 s, answered at 8 s
			{at: 11 * time.Second},
			{at: 12*time.Second - time.Millisecond},
			{at: 12 * time.Second, wantErr: "of the one sent at 03:04:07.000", closed: true},
		},
	}, {
		name: "an older renewal answered late does not move the fence back",
		arm:  true,
		steps: []fenceStep{
			{at: 0, do: renewedAt(4 * time.Second)},
			{at: 5 * time.Second, do: renewedAt(time.Second)},
			{at: 13 * time.Second},
			{at: 14 * time.Second, wantErr: "can no longer prove it leads", closed: true},
		},
	}, {
		name: "a renewal answered after the fence would have closed closes it",
		arm:  true,
		steps: []fenceStep{
			{at: 11 * time.Second, do: renewedAt(0), wantErr: "can no longer prove it leads", closed: true},
		},
	}, {
		name: "losing the Lease closes the fence at once, for good",
		arm:  true,
		steps: []fenceStep{
			{at: 0, do: renewedAt(0)},
			{at: time.Second, do: func(f *fence) { f.close("this replica lost the Lease") }, wantErr: "write not sent: this replica lost the Lease", closed: true},
			{at: 2 * time.Second, do: renewedAt(2 * time.Second), wantErr: "this replica lost the Lease", closed: true},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(t0)
			f := newFence(clk, testLease, testRenew)
			if tt.arm {
				f.arm()
			}
			for _, s := range tt.steps {
				clk.SetTime(t0.Add(s.at)) // fires the fence's timer when it is due
				if s.do != nil {
					s.do(f)
				}
				err := f.admit()
				switch {
				case s.wantErr == "" && err != nil:
					t.Errorf("at %s: write refused: %v", s.at, err)
				case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
					t.Errorf("at %s: admit() = %v, want an error containing %q", s.at, err, s.wantErr)
				}
				if err != nil && !errors.As(err, new(*fencedError)) {
					t.Errorf("at %s: admit() = %T, want a *fencedError", s.at, err)
				}
				if got := isClosed(f.Closed()); got != s.closed {
					t.Errorf("at %s: Closed() closed = %t, want %t", s.at, got, s.closed)
				}
			}
		})
	}
}

// TestFenceClosesByItsTimer checks that the fence closes when its time is up even when no
// write asks: that is what stops the workers.
func TestFenceClosesByItsTimer(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	f := newFence(clk, testLease, testRenew)
	f.arm()
	f.renewed(t0)
	clk.Step(5 * time.Second)
	f.renewed(t0.Add(5 * time.Second))
	clk.Step(testRenew - time.Millisecond)
	if isClosed(f.Closed()) {
		t.Fatalf("closed %s after the last renewal, want open until %s", testRenew-time.Millisecond, testRenew)
	}
	clk.Step(time.Millisecond)
	if !isClosed(f.Closed()) {
		t.Fatalf("still open %s after the last renewal was sent", testRenew)
	}
	if got, want := f.Reason(), "sent at 03:04:10.000"; !strings.Contains(got, want) {
		t.Errorf("Reason() = %q, want it to contain %q", got, want)
	}
}

func TestFenceRoundTripper(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	f := newFence(clk, testLease, testRenew)
	f.arm()
	f.renewed(t0)
	started := make(chan struct{}, 1)
	rt := f.wrap(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodGet {
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}"))}, nil
		}
		started <- struct{}{}
		<-r.Context().Done() // a write that waits for its answer
		return nil, context.Cause(r.Context())
	}))
	send := func(method string) error {
		req, err := http.NewRequest(method, "https://api.example/api/v1/namespaces/a/configmaps/b", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	errc := make(chan error, 1)
	go func() { errc <- send(http.MethodPatch) }()
	<-started
	clk.Step(testRenew) // the fence closes while the write waits
	select {
	case err := <-errc:
		if !errors.As(err, new(*fencedError)) {
			t.Errorf("write in flight when the fence closed: error %v, want it cancelled with a *fencedError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("write in flight when the fence closed was not cancelled")
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if err := send(m); !errors.As(err, new(*fencedError)) {
			t.Errorf("%s after the fence closed: error %v, want a *fencedError", m, err)
		}
	}
	if err := send(http.MethodGet); err != nil {
		t.Errorf("GET after the fence closed: %v, want reads to pass", err)
	}
}

func TestFencedLock(t *testing.T) {
	const me, other = "me", "other"
	tests := []struct {
		name        string
		read        string // the holder of the record read last
		update      string // the holder of the record written
		updateErr   error
		wantUpdates int
		wantErr     string
		wantOpen    bool // writes pass afterwards
	}{
		{name: "a renewal that succeeds opens the fence", read: me, update: me, wantUpdates: 1, wantOpen: true},
		{name: "a renewal that fails leaves it closed", read: me, update: me, updateErr: errors.New("timeout"), wantUpdates: 1, wantErr: "timeout"},
		{name: "releasing the Lease it holds closes the fence first", read: me, update: "", wantUpdates: 1},
		{name: "a Lease another replica took meanwhile is not released", read: other, update: "", wantErr: `not releasing the Lease: "other" holds it now`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(t0)
			f := newFence(clk, testLease, testRenew)
			f.arm()
			inner := &fakeLock{identity: me, holder: tt.read, updateErr: tt.updateErr}
			l := &fencedLock{Interface: inner, fence: f}
			if _, _, err := l.Get(context.Background()); err != nil {
				t.Fatal(err)
			}
			err := l.Update(context.Background(), resourcelock.LeaderElectionRecord{HolderIdentity: tt.update})
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Update() = %v, want error %q", err, tt.wantErr)
			}
			if inner.updates != tt.wantUpdates {
				t.Errorf("%d updates sent, want %d", inner.updates, tt.wantUpdates)
			}
			if open := f.admit() == nil; open != tt.wantOpen {
				t.Errorf("writes pass = %t, want %t", open, tt.wantOpen)
			}
		})
	}
}

type fakeLock struct {
	resourcelock.Interface
	identity  string
	holder    string
	updateErr error
	updates   int
}

func (l *fakeLock) Identity() string { return l.identity }

func (l *fakeLock) Get(context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	return &resourcelock.LeaderElectionRecord{HolderIdentity: l.holder}, nil, nil
}

func (l *fakeLock) Update(context.Context, resourcelock.LeaderElectionRecord) error {
	l.updates++
	return l.updateErr
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
