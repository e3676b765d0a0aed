package faults

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bosun-dev/bosun/internal/testenv"
)

const (
	leaseName     = "bosun-test"
	leaseDuration = 4 * time.Second
	// takeoverMargin is what a standby may need beyond the lease duration to notice the
	// expiry (retry period 1s), take the lease and reconcile a new owner.
	takeoverMargin = 10 * time.Second
)

// TestLeaderElectionFailover runs two replicas with leader election: only the leader creates
// children, and when it is SIGKILLed the standby takes the Lease over and reconciles a new
// owner within the lease duration and a margin.
func TestLeaderElectionFailover(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "leader")
	v := newView(t, ns)
	args := bosunArgs(writeWatch(t, 2), ns, leaseFlags("--leader-elect", ns, leaseName, leaseDuration, 3*time.Second)...)
	replicas := []*testenv.Process{startProcess(t, "a", args), startProcess(t, "b", args)}

	var leader, standby *testenv.Process
	testenv.Eventually(t, waitTimeout, func() error {
		for _, p := range replicas {
			p.CheckRunning(t)
		}
		holder, err := leaseHolder(ns)
		if err != nil {
			return err
		}
		for i, p := range replicas {
			if id := p.Identity(t); id != "" && id == holder {
				leader, standby = p, replicas[1-i]
				return nil
			}
		}
		return fmt.Errorf("Lease/%s/%s: holder %q is neither replica (yet)", ns, leaseName, holder)
	})
	oldHolder := leader.Identity(t)
	t.Logf("%s leads as %s", leader.Name, oldHolder)

	createOwners(t, ns, []string{"first"})
	waitConverged(t, v, 1, waitTimeout, leader, standby)
	// bosun logs a child after the API server created it, and the standby logs the leader it
	// follows from a goroutine of its own: the cluster can show both before the log does.
	leader.WaitCount(t, waitTimeout, "the leader ("+leader.Name+")", "child created", ns+"/first", len(childSuffixes))
	standby.WaitLogged(t, waitTimeout, "the standby ("+standby.Name+")", "leader")
	// Checked last, so it covers the whole time the standby has followed.
	if got := standby.Count(t, "child created", ""); got != 0 {
		t.Errorf("the standby (%s) logged %d \"child created\" lines, want none", standby.Name, got)
	}

	killed := time.Now()
	leader.Kill(t)
	createOwners(t, ns, []string{"second"})
	waitConverged(t, v, 2, leaseDuration+takeoverMargin-time.Since(killed), standby)
	t.Logf("the second owner converged %s after the leader was SIGKILLed", time.Since(killed).Round(100*time.Millisecond))
	standby.WaitCount(t, waitTimeout, "the former standby ("+standby.Name+")", "child created", ns+"/second", len(childSuffixes))
	holder, err := leaseHolder(ns)
	if err != nil {
		t.Fatal(err)
	}
	if want := standby.Identity(t); holder != want {
		t.Errorf("Lease/%s/%s: holder = %q, want the former standby %q (the killed leader was %q)", ns, leaseName, holder, want, oldHolder)
	}
	standby.CheckRunning(t)
}

// leaseFlags are the flags of a replica that takes part, by mode (--leader-elect or
// --sharding), in the group of Leases named id in namespace, renewed every second.
func leaseFlags(mode, namespace, id string, duration, renewDeadline time.Duration) []string {
	return []string{
		mode,
		"--leader-election-namespace", namespace,
		"--leader-election-id", id,
		"--leader-election-lease-duration", duration.String(),
		"--leader-election-renew-deadline", renewDeadline.String(),
		"--leader-election-retry-period", "1s",
	}
}

// leaseHolder reads the holder of the leader election Lease.
func leaseHolder(namespace string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	lease, err := env.Clientset.CoordinationV1().Leases(namespace).Get(ctx, leaseName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		return "", errors.New("Lease/" + namespace + "/" + leaseName + ": no holder")
	}
	return *lease.Spec.HolderIdentity, nil
}
