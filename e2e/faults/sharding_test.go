package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/internal/localcluster"
	"github.com/bosun-dev/bosun/internal/shard"
	"github.com/bosun-dev/bosun/internal/testenv"
)

const (
	shardGroup = "bosun-shards-test"
)

// shardArgs are the arguments of a sharded replica, with the Leases in namespace.
func shardArgs(config, namespace string) []string {
	return bosunArgs(config, namespace, append(leaseFlags("--sharding", namespace, shardGroup, leaseDuration, 3*time.Second), "--shutdown-timeout", "10s")...)
}

// TestShardedReplicasSplitTheOwnersAndHandThemOver runs three sharded replicas as processes:
// they split the slots, every owner converges and is written by one replica only; a replica
// SIGKILLed has its owners taken over within the lease duration and a margin; a fourth
// joining takes a share; a replica stopped with SIGTERM hands its slots over at once; and
// through all of it no owner's children are written by two replicas (the writes are counted).
func TestShardedReplicasSplitTheOwnersAndHandThemOver(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "shards")
	v := newView(t, ns)
	// Owners exist before the replicas start, so that each one can tell at once that the
	// API server filters by shardSelector.
	first := ownerNames("w", 60)
	createOwners(t, ns, first)
	args := shardArgs(writeWatch(t, 4), ns)
	a, b, c := startProcess(t, "a", args), startProcess(t, "b", args), startProcess(t, "c", args)
	replicas := []*testenv.Process{a, b, c}
	waitConverged(t, v, len(first), waitTimeout, a, b, c)
	waitShardMap(t, ns, replicas...)
	for _, p := range replicas {
		p.WaitLogged(t, waitTimeout, p.Name, "sharded: the API server filters each slot's owners (shardSelector)")
	}
	waitOneWriterEach(t, replicas, first, "created", len(childSuffixes))

	// SIGKILL: c's slots stay in the map under its name until its Lease expires.
	killed := time.Now()
	c.Kill(t)
	second := ownerNames("x", 15)
	createOwners(t, ns, second)
	waitConverged(t, v, len(first)+len(second), leaseDuration+takeoverMargin-time.Since(killed), a, b)
	t.Logf("owners of the SIGKILLed replica converged %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	waitShardMap(t, ns, a, b)

	// A fourth replica joins and takes its share.
	d := startProcess(t, "d", args)
	waitShardMap(t, ns, a, b, d)
	third := ownerNames("y", 15)
	createOwners(t, ns, third)
	total := len(first) + len(second) + len(third)
	waitConverged(t, v, total, waitTimeout, a, b, d)

	// SIGTERM: a hands its slots over at once, not after its Lease expires; every owner is
	// edited meanwhile, so that a handover that let two replicas write would show.
	stopped := time.Now()
	editDone := make(chan struct{})
	go func() {
		defer close(editDone)
		editOwners(t, ns, slices.Concat(first, second, third), "red")
	}()
	if err := a.Stop(t); err != nil {
		t.Errorf("a exited with %v after SIGTERM, want status 0", err)
	}
	exited := time.Now()
	// Before it exited, a let its slots go in the map and deleted its Lease: the others need
	// not wait for it to expire.
	if held := shardMap(t, ns)[a.Identity(t)]; held != 0 {
		t.Errorf("a still holds %d slots in the shard map after a graceful stop", held)
	}
	if _, err := env.Clientset.CoordinationV1().Leases(ns).Get(context.Background(), shard.MemberLeaseName(shardGroup, a.Identity(t)), metav1.GetOptions{}); err == nil {
		t.Errorf("a's membership Lease is still there after a graceful stop")
	}
	waitShardMap(t, ns, b, d)
	tookOver := time.Now()
	<-editDone
	t.Logf("a exited %s after SIGTERM; the others took its slots over %s later", exited.Sub(stopped).Round(100*time.Millisecond), tookOver.Sub(exited).Round(100*time.Millisecond))
	testenv.Eventually(t, waitTimeout, func() error { return allColored(v, "red") })
	all := []*testenv.Process{a, b, c, d}
	waitOneWriterEach(t, all, first, "created", len(childSuffixes))
	waitOneWriterEach(t, all, slices.Concat(first, second, third), "configured", len(childSuffixes))
}

// TestShardingWithoutTheFeatureGate runs two sharded replicas against an API server without
// ShardedListAndWatch: they say so, filter the owners themselves, and still split them.
func TestShardingWithoutTheFeatureGate(t *testing.T) {
	withCluster(t, localcluster.Options{NoShardedListAndWatch: true}, func() {
		installWidgetCRD(t)
		ns := env.CreateNamespace(t, "fallback")
		v := newView(t, ns)
		owners := ownerNames("w", 40)
		createOwners(t, ns, owners)
		args := shardArgs(writeWatch(t, 4), ns)
		a, b := startProcess(t, "a", args), startProcess(t, "b", args)
		waitConverged(t, v, len(owners), waitTimeout, a, b)
		waitShardMap(t, ns, a, b)
		for _, p := range []*testenv.Process{a, b} {
			p.WaitLogged(t, waitTimeout, p.Name, "sharded: the API server does not filter by shardSelector (feature gate ShardedListAndWatch is off); each slot's informer lists and watches every owner and keeps its own")
		}
		waitOneWriterEach(t, []*testenv.Process{a, b}, owners, "created", len(childSuffixes))
		writes := childWrites(t, a, b)
		for _, p := range []*testenv.Process{a, b} {
			if len(writes[p.Name]) == 0 {
				t.Errorf("%s wrote no child: the owners were not split", p.Name)
			}
		}
	})
}

// TestShardedReplicaFencedWhenCutOff cuts a sharded replica off from the API server
// mid-reconcile (a proxy between the two) and heals the cut once the other replica has taken
// over its slots. The cut-off replica must send no write — a child, an owner, the shard map —
// that the API server receives after its last successful renewal + the lease duration, and
// must exit; the other converges every owner.
func TestShardedReplicaFencedWhenCutOff(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "shardfence")
	v := newView(t, ns)
	proxy := startAPIProxy(t)
	group := leaseFlags("--sharding", ns, shardGroup, fenceLeaseDuration, fenceRenewDeadline)
	watch := writeWatch(t, 2)
	a := startProcess(t, "a", bosunArgs(watch, ns, append(group, "--kubeconfig", proxy.kubeconfig)...))
	b := startProcess(t, "b", bosunArgs(watch, ns, group...))
	waitShardMap(t, ns, a, b)
	member := "/leases/" + shard.MemberLeaseName(shardGroup, a.Identity(t))
	renewal := func(path string) bool { return strings.HasSuffix(path, member) }

	cutMidReconcile(t, proxy, ns)

	// b takes every slot over, and only then does the cut heal.
	testenv.Eventually(t, fenceLeaseDuration+takeoverMargin, func() error {
		b.CheckRunning(t)
		if n := shardMap(t, ns)[b.Identity(t)]; n != shard.Slots {
			return fmt.Errorf("b holds %d slots, want all %d", n, shard.Slots)
		}
		return nil
	})
	renewed, err := lastRenewal(proxy.log(), renewal)
	if err != nil {
		t.Fatal(err)
	}
	deadline := renewed.Add(fenceLeaseDuration)
	if wait := time.Until(deadline); wait > 0 {
		t.Fatalf("b holds a's slots %s before a's Lease could have expired", wait)
	}
	t.Logf("a's last renewal passed the proxy at %s; its slots could pass on from %s; b held them all %s after that",
		clockTime(renewed), clockTime(deadline), time.Since(deadline).Round(10*time.Millisecond))
	proxy.heal()

	waitFencedExit(t, proxy, a, deadline, renewal, "lost the membership Lease")
	waitConverged(t, v, fenceOwners, waitTimeout, b)
}

// withCluster runs fn with env pointing at a control plane of its own, started with opts, so
// that the package's helpers work on it; env is restored when fn returns. The package's tests
// do not run in parallel.
func withCluster(t *testing.T, opts localcluster.Options, fn func()) {
	t.Helper()
	opts.ControllerManager = true
	own := testenv.Start(t, opts)
	shared := env
	env = own
	defer func() { env = shared }()
	fn()
}

// waitShardMap waits until the shard map gives every slot to one of the replicas, balanced
// (each holds Slots/n or one more), and returns how many each holds, by identity.
func waitShardMap(t *testing.T, namespace string, replicas ...*testenv.Process) map[string]int {
	t.Helper()
	var counts map[string]int
	testenv.Eventually(t, waitTimeout, func() error {
		for _, p := range replicas {
			p.CheckRunning(t)
		}
		holders, err := readShardMap(namespace)
		if err != nil {
			return err
		}
		ids := map[string]string{}
		for _, p := range replicas {
			ids[p.Identity(t)] = p.Name
		}
		counts = map[string]int{}
		for s, h := range holders {
			if _, ok := ids[h]; !ok {
				return fmt.Errorf("slot %d is held by %q, none of the replicas %v", s, h, ids)
			}
			counts[h]++
		}
		for id, name := range ids {
			if n := counts[id]; n < shard.Slots/len(replicas) || n > shard.Slots/len(replicas)+1 {
				return fmt.Errorf("%s holds %d slots, want %d or %d: %v", name, n, shard.Slots/len(replicas), shard.Slots/len(replicas)+1, counts)
			}
		}
		return nil
	})
	return counts
}

// shardMap reads how many slots each identity holds.
func shardMap(t *testing.T, namespace string) map[string]int {
	t.Helper()
	holders, err := readShardMap(namespace)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, h := range holders {
		counts[h]++
	}
	return counts
}

func readShardMap(namespace string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	lease, err := env.Clientset.CoordinationV1().Leases(namespace).Get(ctx, shard.MapLeaseName(shardGroup), metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	var holders []string
	if err := json.Unmarshal([]byte(lease.Annotations[shard.AnnotationMap]), &holders); err != nil {
		return nil, fmt.Errorf("shard map: %w", err)
	}
	if len(holders) != shard.Slots {
		return nil, fmt.Errorf("the shard map has %d slots, want %d", len(holders), shard.Slots)
	}
	return holders, nil
}

// childWrites is, by replica name, the owner of every child write the replica logged, with
// its action: created, configured, ...
func childWrites(t *testing.T, replicas ...*testenv.Process) map[string][]write {
	t.Helper()
	out := map[string][]write{}
	for _, p := range replicas {
		for _, l := range p.Lines(t) {
			if msg := l.Text("msg"); strings.HasPrefix(msg, "child ") {
				out[p.Name] = append(out[p.Name], write{owner: l.Text("owner"), action: strings.TrimPrefix(msg, "child ")})
			}
		}
	}
	return out
}

type write struct{ owner, action string }

// waitOneWriterEach waits until the replicas' logs show exactly want child writes with the
// action for each owner, all by one replica: bosun logs a write after the API server took it,
// so a converged cluster can be ahead of the logs. More writes, or writes by two replicas,
// fail at once.
func waitOneWriterEach(t *testing.T, replicas []*testenv.Process, owners []string, action string, want int) {
	t.Helper()
	testenv.Eventually(t, waitTimeout, func() error {
		writes := childWrites(t, replicas...)
		var short []string
		for _, name := range owners {
			by := map[string]int{}
			n := 0
			for replica, ws := range writes {
				for _, w := range ws {
					if w.action == action && strings.HasSuffix(w.owner, "/"+name) {
						by[replica]++
						n++
					}
				}
			}
			switch {
			case n > want || len(by) > 1:
				t.Fatalf("owner %s: %d children %s, by %v; want %d, by one replica", name, n, action, by, want)
			case n < want:
				short = append(short, fmt.Sprintf("%s: %d", name, n))
			}
		}
		if len(short) > 0 {
			return fmt.Errorf("owners with fewer than %d children %s in the logs: %s", want, action, strings.Join(short[:min(5, len(short))], ", "))
		}
		return nil
	})
}

// editOwners sets every owner's spec.color.
func editOwners(t *testing.T, namespace string, names []string, color string) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"spec":{"color":%q}}`, color))
	for _, name := range names {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		_, err := env.Dynamic.Resource(widgetGVR).Namespace(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
		cancel()
		if err != nil {
			t.Errorf("Widget/%s/%s: patch: %v", namespace, name, err)
		}
	}
}

// allColored says which child does not have the color yet.
func allColored(v *view, color string) error {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	list, err := env.Dynamic.Resource(configMapGVR).Namespace(v.namespace).List(ctx, metav1.ListOptions{LabelSelector: shard.Label})
	if err != nil {
		return err
	}
	var wrong []string
	for _, cm := range list.Items {
		if got, _, _ := unstructured.NestedString(cm.Object, "data", "color"); got != color {
			wrong = append(wrong, cm.GetName()+"="+got)
		}
	}
	if len(wrong) > 0 {
		return errors.New("children not yet " + color + ": " + strings.Join(wrong[:min(5, len(wrong))], ", "))
	}
	return nil
}
