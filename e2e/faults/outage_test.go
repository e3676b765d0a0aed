package faults

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/internal/testenv"
)

const (
	// manyOwners is enough owners that a fault lands in the middle of their reconciles.
	manyOwners = 200
	// restartTimeout bounds bringing a control-plane component back.
	restartTimeout = 2 * time.Minute
	// recoverTimeout bounds the convergence after an outage. Owners that failed during it
	// wait out their exponential backoff (0.5s doubling per failure, up to a cap); bosun's
	// informers retry a refused connection every 0.25–2 s, not with the reflector's 30–60 s.
	recoverTimeout = 3 * time.Minute
)

func TestAPIServerDownMidReconcile(t *testing.T) {
	testOutageMidReconcile(t, outage{
		name:     "kube-apiserver",
		duration: 30 * time.Second,
		stop:     env.Cluster.StopAPIServer,
		start:    env.Cluster.StartAPIServer,
	})
}

func TestEtcdRestartMidReconcile(t *testing.T) {
	testOutageMidReconcile(t, outage{
		name:     "etcd",
		duration: 10 * time.Second,
		stop:     env.Cluster.StopEtcd,
		start:    env.Cluster.StartEtcd,
	})
}

// outage is a control-plane component going away for a while.
type outage struct {
	name     string
	duration time.Duration
	stop     func() error
	start    func(context.Context) error
}

// testOutageMidReconcile takes the component away while bosun is busy with many owners and
// checks that, once it is back, bosun still runs and every owner converges exactly, also owners
// created after the outage and children deleted after it (so its watches resumed).
func testOutageMidReconcile(t *testing.T, o outage) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "outage")
	v := newView(t, ns)
	names := ownerNames("w", manyOwners)
	createOwners(t, ns, names)
	b := startInProcess(t, writeWatch(t, 2), ns)

	created := waitSomeChildren(t, v)
	if created >= len(names)*len(childSuffixes) {
		t.Fatalf("bosun created all %d children before %s could be stopped; the test needs more owners or fewer workers", created, o.name)
	}
	begin := time.Now()
	if err := o.stop(); err != nil {
		t.Fatalf("stop %s: %v", o.name, err)
	}
	t.Logf("%s stopped (in %s) with %d of %d children created; back in %s", o.name, time.Since(begin).Round(100*time.Millisecond),
		created, len(names)*len(childSuffixes), o.duration)
	time.Sleep(o.duration)
	b.CheckRunning(t)
	ctx, cancel := context.WithTimeout(context.Background(), restartTimeout)
	defer cancel()
	if err := o.start(ctx); err != nil {
		t.Fatalf("start %s: %v", o.name, err)
	}
	back := time.Now()

	late := ownerNames("late", 10)
	createOwners(t, ns, late)
	waitConverged(t, v, len(names)+len(late), recoverTimeout, b)
	t.Logf("all %d owners converged %s after %s was back; %d reconciles had failed and were retried", len(names)+len(late),
		time.Since(back).Round(100*time.Millisecond), o.name, b.Count(t, "reconcile failed; will retry", ""))

	// The child watches resumed too: a child deleted now is noticed and re-created, whether
	// bosun created it before the outage or after (TestChildDeletedWhileItsWatchWasHeld
	// makes the latter certain).
	gone := map[string]types.UID{}
	for _, name := range []string{names[0] + "-a", late[0] + "-a"} {
		gone[name] = deleteChild(t, ns, name)
	}
	took := waitRecreated(t, b, ns, gone)
	t.Logf("the deleted children were re-created after %s (target %s)", took.Round(100*time.Millisecond), recreateTarget)
	if took > recreateTarget {
		t.Errorf("the deleted children were re-created after %s, want within %s", took.Round(100*time.Millisecond), recreateTarget)
	}
	waitConverged(t, v, len(names)+len(late), waitTimeout, b)
	b.CheckRunning(t)
}

// waitSomeChildren waits until bosun created a first child and returns how many exist.
func waitSomeChildren(t *testing.T, v *view) int {
	t.Helper()
	n := 0
	testenv.Eventually(t, waitTimeout, func() error {
		s, err := v.read()
		if err != nil {
			return err
		}
		if n = s.childCount(); n == 0 {
			return errors.New("no child created yet")
		}
		return nil
	})
	return n
}

// deleteChild deletes the ConfigMap and returns the UID it had.
func deleteChild(t *testing.T, namespace, name string) types.UID {
	t.Helper()
	cms := env.Clientset.CoreV1().ConfigMaps(namespace)
	cm, err := cms.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ConfigMap/%s/%s: %v", namespace, name, err)
	}
	if err := cms.Delete(context.Background(), name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cm.UID}}); err != nil {
		t.Fatalf("ConfigMap/%s/%s: delete: %v", namespace, name, err)
	}
	return cm.UID
}
