package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderElection configures leader election on a coordination.k8s.io Lease.
type LeaderElection struct {
	Enabled       bool
	Namespace     string
	Name          string
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

func addLeaderElectionFlags(f *pflag.FlagSet, le *LeaderElection) {
	f.BoolVar(&le.Enabled, "leader-elect", false, "run several replicas: only the holder of a Lease reconciles; the others keep their caches warm and take over")
	f.StringVar(&le.Namespace, "leader-election-namespace", "", "namespace of the Lease (default: the pod's namespace, else default)")
	f.StringVar(&le.Name, "leader-election-id", "bosun", "name of the Lease")
	f.DurationVar(&le.LeaseDuration, "leader-election-lease-duration", 15*time.Second, "how long a standby waits after the last renewal before taking over")
	f.DurationVar(&le.RenewDeadline, "leader-election-renew-deadline", 10*time.Second, "how long the leader retries renewing before it gives up leading; it writes only until this long after its last renewal was sent (the fence)")
	f.DurationVar(&le.RetryPeriod, "leader-election-retry-period", 2*time.Second, "how often candidates try to acquire or renew the Lease")
}

// election runs leader election; leading is closed once this replica leads, and fence
// closes when it can no longer prove it does.
type election struct {
	config  leaderelection.LeaderElectionConfig
	leading chan struct{}
	fence   *fence
	gauge   prometheus.Gauge
	log     *zap.Logger
}

// newElection prepares the election on a Lease; leases must not go through the fence (the
// leader must keep renewing), every client that writes must.
func newElection(leases coordinationv1.LeasesGetter, le LeaderElection, f *fence, log *zap.Logger, gauge prometheus.Gauge) (*election, error) {
	ns := le.Namespace
	if ns == "" {
		ns = podNamespace()
	}
	host, _ := os.Hostname()
	id := host + "_" + string(uuid.NewUUID())
	e := &election{leading: make(chan struct{}), fence: f, gauge: gauge, log: log.With(zap.String("lease", ns+"/"+le.Name), zap.String("identity", id))}
	e.config = leaderelection.LeaderElectionConfig{
		Lock: &fencedLock{fence: f, Interface: &resourcelock.LeaseLock{
			LeaseMeta:  metaName(ns, le.Name),
			Client:     leases,
			LockConfig: resourcelock.ResourceLockConfig{Identity: id},
		}},
		LeaseDuration: le.LeaseDuration,
		RenewDeadline: le.RenewDeadline,
		RetryPeriod:   le.RetryPeriod,
		// Released only after the workers stopped (run cancels the election last), so a
		// standby takes over at once on a graceful shutdown and never overlaps.
		ReleaseOnCancel: true,
		Name:            le.Name,
	}
	if le.LeaseDuration <= le.RenewDeadline || le.RenewDeadline <= le.RetryPeriod {
		return nil, fmt.Errorf("leader election: want lease duration > renew deadline > retry period, got %s, %s, %s",
			le.LeaseDuration, le.RenewDeadline, le.RetryPeriod)
	}
	return e, nil
}

// errLostLease ends a replica that stopped leading while it still meant to: another one may
// lead now, so this one must not touch anything any more; its restart makes it a standby.
var errLostLease = errors.New("lost the leader election lease; exiting so that only the new leader acts")

// run runs fn (the watcher, whose caches start at once and whose workers wait for leading)
// while taking part in the election. It returns when ctx is done and fn returned, or when the
// lease is lost: when the fence closes (no renewal for the renew deadline, or client-go gave
// the Lease up) while fn runs and ctx is not done, fn's context is cancelled at once (the
// watcher cancels its in-flight work too: it gets the fence's channel).
func (e *election) run(ctx context.Context, fn func(context.Context) error) error {
	workCtx, stopWork := context.WithCancelCause(ctx)
	defer stopWork(nil)
	cfg := e.config
	cfg.Callbacks = leaderelection.LeaderCallbacks{
		OnStartedLeading: func(context.Context) {
			e.log.Info("leading")
			e.gauge.Set(1)
			close(e.leading)
		},
		OnStoppedLeading: func() {
			e.gauge.Set(0)
			e.fence.close("this replica lost the Lease")
		},
		OnNewLeader: func(id string) { e.log.Info("leader", zap.String("leader", id)) },
	}
	elector, err := leaderelection.NewLeaderElector(cfg)
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	e.fence.arm()
	fnDone := make(chan struct{})
	go func() {
		select {
		case <-e.fence.Closed():
			select {
			case <-fnDone:
				return // fn returned by itself; the fence closed as the Lease was released
			default:
			}
			if ctx.Err() == nil {
				e.log.Error("lost the lease", zap.String("reason", e.fence.Reason()))
				stopWork(errLostLease)
			}
		case <-fnDone:
		}
	}()
	leCtx, stopElection := context.WithCancel(context.WithoutCancel(ctx))
	electionDone := make(chan struct{})
	go func() {
		defer close(electionDone)
		elector.Run(leCtx)
	}()
	err = fn(workCtx)
	close(fnDone)
	stopElection()
	<-electionDone
	if cause := context.Cause(workCtx); errors.Is(cause, errLostLease) {
		return errLostLease
	}
	return err
}

// podNamespace is the namespace bosun runs in, from its service account, or "default".
func podNamespace() string {
	ns, _ := serviceAccountNamespace()
	return ns
}

// serviceAccountNamespace is the namespace of bosun's service account and true in a pod, or
// "default" and false.
func serviceAccountNamespace() (string, bool) {
	if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
		if ns := strings.TrimSpace(string(b)); ns != "" {
			return ns, true
		}
	}
	return "default", false
}

func metaName(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}
