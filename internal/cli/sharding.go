package cli

import (
	"context"
	"errors"
	"os"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/clock"

	"github.com/bosun-dev/bosun/internal/metrics"
	"github.com/bosun-dev/bosun/internal/shard"
	"github.com/bosun-dev/bosun/watcher"
)

// sharding runs the watcher as one of several active replicas (--sharding): each holds a
// membership Lease, and internal/shard splits the owners between the live ones. The Leases
// are named after --leader-election-id in --leader-election-namespace and timed by the
// leader election flags; the fence is the same as leader election's: a replica writes only
// until the renew deadline after its last renewal was sent, so it stops before the others may
// take its slots, and then exits.
type sharding struct {
	coord *shard.Coordinator
	fence *fence
	log   *zap.Logger
}

// errLostMembership ends a sharded replica that could not renew its membership Lease: the
// others may work on its owners by now; its restart joins again.
var errLostMembership = errors.New("could not renew the membership Lease in time; exiting so that only the replicas that hold the slots act")

// newSharding prepares this replica's membership; leases must not go through the fence (the
// replica must keep renewing), fencedLeases must (claims in the shard map).
func newSharding(leases, fencedLeases coordinationv1.LeasesGetter, le LeaderElection, f *fence, log *zap.Logger, m *metrics.Metrics) (*sharding, error) {
	ns := le.Namespace
	if ns == "" {
		ns = podNamespace()
	}
	host, _ := os.Hostname()
	id := host + "_" + string(uuid.NewUUID())
	log = log.With(zap.String("group", ns+"/"+le.Name), zap.String("identity", id))
	var coord *shard.Coordinator
	coord, err := shard.New(shard.Config{
		Leases:        leases,
		Fenced:        fencedLeases,
		Namespace:     ns,
		Group:         le.Name,
		Identity:      id,
		LeaseDuration: le.LeaseDuration,
		RenewDeadline: le.RenewDeadline,
		RetryPeriod:   le.RetryPeriod,
		Renewed:       f.renewed,
		Valid:         func() bool { return f.admit() == nil },
		Clock:         clock.RealClock{},
		Notify: func(c shard.Change) {
			switch c.What {
			case "acquired", "released":
				held := coord.Held()
				log.Info("slots "+c.What, zap.String("slots", shard.FormatSlots(c.Slots)), zap.String("holds", shard.FormatSlots(held)))
				m.ShardSlots.Set(float64(len(held)))
			case "members":
				log.Info("members", zap.Strings("members", c.Members))
				m.ShardMembers.Set(float64(len(c.Members)))
			default:
				log.Warn("sharding", zap.String("slots", shard.FormatSlots(c.Slots)), zap.Error(c.Err))
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return &sharding{coord: coord, fence: f, log: log}, nil
}

// run runs the manager and this replica's part in the group until ctx is done (then the
// manager drains, and the replica leaves the group at once) or the fence closes.
func (s *sharding) run(ctx context.Context, mgr *watcher.Manager) error {
	workCtx, stopWork := context.WithCancelCause(ctx)
	defer stopWork(nil)
	s.fence.arm()
	go func() {
		select {
		case <-s.fence.Closed():
			if ctx.Err() == nil {
				s.log.Error("lost the membership Lease", zap.String("reason", s.fence.Reason()))
				stopWork(errLostMembership)
			}
		case <-workCtx.Done():
		}
	}()
	mgrDone := make(chan struct{})
	var mgrErr error
	go func() {
		defer close(mgrDone)
		mgrErr = mgr.Run(workCtx)
	}()
	coordErr := s.coord.Run(workCtx, mgr, mgrDone)
	<-mgrDone
	if errors.Is(context.Cause(workCtx), errLostMembership) {
		return errLostMembership
	}
	return errors.Join(mgrErr, coordErr)
}
