package faults

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bosun-dev/bosun/internal/testenv"
)

const (
	// The election of the fencing test: a margin of lease duration − renew deadline = 4 s
	// between when the old leader's fence closes and when the Lease may pass on.
	fenceLeaseDuration = 8 * time.Second
	fenceRenewDeadline = 4 * time.Second
	// fenceOwners owners are created at once; the proxy cuts the leader off at its
	// fenceCutAt-th ConfigMap write, mid-way through them.
	fenceOwners = 40
	fenceCutAt  = 7
)

// TestLeaderFencedWhenCutOff cuts the leader off from the API server mid-reconcile — a proxy
// between the two breaks off what is in progress and holds every new request — and heals the
// cut once the standby has taken the Lease over. The old leader must send no write that the
// API server receives after its last successful renewal + the lease duration: neither a write
// it had sent into the cut nor a new one. The new leader converges every owner.
func TestLeaderFencedWhenCutOff(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "fence")
	v := newView(t, ns)
	proxy := startAPIProxy(t)
	election := leaseFlags("--leader-elect", ns, leaseName, fenceLeaseDuration, fenceRenewDeadline)
	watch := writeWatch(t, 2)
	// a talks to the API server only through the proxy (the last --kubeconfig wins); it leads
	// before b starts.
	a := startProcess(t, "a", bosunArgs(watch, ns, append(election, "--kubeconfig", proxy.kubeconfig)...))
	testenv.Eventually(t, waitTimeout, func() error {
		a.CheckRunning(t)
		holder, err := leaseHolder(ns)
		if err != nil {
			return err
		}
		if id := a.Identity(t); id == "" || id != holder {
			return fmt.Errorf("Lease/%s/%s: holder %q, want a (%q)", ns, leaseName, holder, id)
		}
		return nil
	})
	b := startProcess(t, "b", bosunArgs(watch, ns, election...))
	b.WaitLogged(t, waitTimeout, "the standby (b)", "leader")

	cutMidReconcile(t, proxy, ns)
	t.Logf("a cut off from the API server at its ConfigMap write %d", fenceCutAt)

	// The Lease passes to b; only then does the cut heal, so that whatever a still sends
	// reaches the API server.
	testenv.Eventually(t, fenceLeaseDuration+takeoverMargin, func() error {
		b.CheckRunning(t)
		holder, err := leaseHolder(ns)
		if err != nil {
			return err
		}
		if want := b.Identity(t); holder != want {
			return fmt.Errorf("Lease/%s/%s: holder %q, want b (%q)", ns, leaseName, holder, want)
		}
		return nil
	})
	renewed, err := lastRenewal(proxy.log(), isLease)
	if err != nil {
		t.Fatal(err)
	}
	deadline := renewed.Add(fenceLeaseDuration)
	t.Logf("a's last renewal passed the proxy at %s; the Lease could pass on from %s; b took it %s after that",
		clockTime(renewed), clockTime(deadline), time.Since(deadline).Round(10*time.Millisecond))
	if wait := time.Until(deadline); wait > 0 {
		t.Fatalf("b holds the Lease %s before a's could have expired", wait)
	}
	proxy.heal()

	// a must have stopped writing; it exits (lost the Lease), and anything it still sent
	// through the healed proxy shows up in the log meanwhile.
	waitFencedExit(t, proxy, a, deadline, isLease, "lost the lease")
	log := proxy.log()
	// The test can fail: a wrote through the proxy before the cut, and had writes in
	// progress at the cut that it gave up on, before the Lease could pass on.
	var before, held int
	for _, r := range log {
		switch {
		case !mutating(r.method) || isLease(r.path):
		case !r.forwarded.IsZero() && r.forwarded.Before(proxy.cutAt):
			before++
		case r.forwarded.IsZero():
			held++
			if r.dropped.IsZero() || !r.dropped.Before(deadline) {
				t.Errorf("%s %s sent into the cut at %s was given up at %s, want before %s", r.method, r.path,
					clockTime(r.arrived), clockTime(r.dropped), clockTime(deadline))
			}
		}
	}
	t.Logf("a's writes: %d passed before the cut, %d sent into the cut and given up", before, held)
	if before < fenceCutAt-1 || held == 0 {
		t.Errorf("a's writes: %d passed before the cut, want at least %d; %d held at the cut, want some", before, fenceCutAt-1, held)
	}

	waitConverged(t, v, fenceOwners, waitTimeout, b)
	holder, err := leaseHolder(ns)
	if err != nil {
		t.Fatal(err)
	}
	if want := b.Identity(t); holder != want {
		t.Errorf("Lease/%s/%s: holder = %q, want the new leader b (%q)", ns, leaseName, holder, want)
	}
}

// cutMidReconcile creates fenceOwners owners and has the proxy cut its replica off at that
// replica's fenceCutAt-th ConfigMap write, mid-way through reconciling them.
func cutMidReconcile(t *testing.T, proxy *apiProxy, namespace string) {
	t.Helper()
	configMapWrites := 0
	proxy.cutWhen(func(r *http.Request) bool {
		if mutating(r.Method) && strings.Contains(r.URL.Path, "/configmaps") {
			configMapWrites++
		}
		return configMapWrites == fenceCutAt
	})
	createOwners(t, namespace, ownerNames("w", fenceOwners))
	select {
	case <-proxy.cut:
	case <-time.After(waitTimeout):
		t.Fatalf("a sent fewer than %d ConfigMap writes within %s", fenceCutAt, waitTimeout)
	}
}

// waitFencedExit waits for the cut-off replica a to exit with an error and log lost, checking
// meanwhile and after that the API server received no write from it — other than a renewal
// of its Lease — at or after the deadline.
func waitFencedExit(t *testing.T, proxy *apiProxy, a *testenv.Process, deadline time.Time, renewal func(string) bool, lost string) {
	t.Helper()
	noLateWrites := func() {
		if bad := lateWrites(proxy.log(), deadline, renewal); len(bad) > 0 {
			t.Fatalf("the API server received %d writes from a after what it held could have passed on (%s):\n%s",
				len(bad), clockTime(deadline), strings.Join(bad, "\n"))
		}
	}
	testenv.Eventually(t, waitTimeout, func() error {
		noLateWrites()
		select {
		case <-a.Exited():
			return nil
		default:
			return errors.New("a still runs")
		}
	})
	if a.Err() == nil {
		t.Errorf("a exited with status 0 after it was cut off, want an error")
	}
	a.WaitLogged(t, waitTimeout, "the cut-off replica (a)", lost)
	noLateWrites()
}

// lastRenewal is when the last renewal of the Lease that succeeded passed the proxy: the
// Lease can pass on no earlier than the lease duration after that. renewal tells the Lease's
// path.
func lastRenewal(log []proxied, renewal func(path string) bool) (time.Time, error) {
	var last time.Time
	for _, r := range log {
		if renewal(r.path) && mutating(r.method) && r.status/100 == 2 && r.forwarded.After(last) {
			last = r.forwarded
		}
	}
	if last.IsZero() {
		return last, errors.New("the proxy passed on no successful Lease write from a")
	}
	return last, nil
}

// lateWrites describes the writes other than the Lease's renewals that the proxy passed on to
// the API server at or after the deadline.
func lateWrites(log []proxied, deadline time.Time, renewal func(path string) bool) []string {
	var out []string
	for _, r := range log {
		if mutating(r.method) && !renewal(r.path) && !r.forwarded.IsZero() && !r.forwarded.Before(deadline) {
			out = append(out, fmt.Sprintf("  %s %s: sent at %s, passed on at %s (%d)", r.method, r.path,
				clockTime(r.arrived), clockTime(r.forwarded), r.status))
		}
	}
	return out
}

func clockTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format("15:04:05.000")
}
