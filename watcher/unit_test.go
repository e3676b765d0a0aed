package watcher

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
)

func TestDeleteBudgetRefusesMassDeletionWithinTheWindow(t *testing.T) {
	now := time.Unix(0, 0)
	b := &deleteBudget{now: func() time.Time { return now }}
	safety := config.Safety{MaxDeletes: 3, MaxDeletePercent: 10}
	total := func() int { return 20 } // 10% of 20 is 2: the absolute limit of 3 is the larger

	for i, n := range []int{1, 2} {
		if err := b.take(n, nil, safety, total, nil); err != nil {
			t.Fatalf("deletion %d of %d children refused: %v", i, n, err)
		}
	}
	var limit *DeleteLimitError
	if err := b.take(1, nil, safety, total, nil); !errors.As(err, &limit) || limit.Recent != 3 || limit.Limit != 3 {
		t.Fatalf("a fourth deletion within the window: err = %v, want a DeleteLimitError with 3 recent of limit 3", err)
	}
	now = now.Add(deleteWindow)
	if err := b.take(3, nil, safety, total, nil); err != nil {
		t.Errorf("after the window the budget is whole again, got %v", err)
	}
	if err := b.take(1000, nil, config.Safety{MaxDeletes: 0}, total, nil); err != nil {
		t.Errorf("maxDeletes 0 means no limit, got %v", err)
	}
	if err := b.take(50, nil, config.Safety{MaxDeletes: 10, MaxDeletePercent: 50}, func() int { return 1000 }, nil); err != nil {
		t.Errorf("50 of 1000 children is under 50%%: %v", err)
	}
}

func TestRolloutHoldsAndPauses(t *testing.T) {
	r := newRollout("0123456789abcdef-and-more", func() config.Rollout { return config.Rollout{MaxInFlight: 2, MaxFailures: 1} })
	if r.hash != "0123456789abcdef" {
		t.Fatalf("hash = %q, want the first 16 characters", r.hash)
	}
	key := func(n string) cache.ObjectName { return cache.ObjectName{Namespace: "ns", Name: n} }
	old := "an-older-version"

	for _, tc := range []struct {
		owner, recorded string
		want            admission
	}{
		{"new", "", admitted},         // never rendered: not part of a rollout
		{"current", r.hash, admitted}, // already on this version
		{"a", old, admitted},
		{"b", old, admitted},
		{"c", old, held}, // two upgraded owners are not Ready yet
	} {
		if got, _ := r.admit(key(tc.owner), tc.recorded); got != tc.want {
			t.Errorf("admit(%s) = %v, want %v", tc.owner, got, tc.want)
		}
	}
	r.done(key("a"), outcome{ready: true})
	if got, _ := r.admit(key("c"), old); got != admitted {
		t.Errorf("after a became Ready, c = %v, want admitted", got)
	}
	r.done(key("b"), outcome{err: errors.New("broken")})
	got, announce := r.admit(key("d"), old)
	if got != paused || !announce {
		t.Errorf("after a failure, d = %v (announce %v), want paused and announced", got, announce)
	}
	if got, announce := r.admit(key("e"), old); got != paused || announce {
		t.Errorf("e = %v (announce %v), want paused, announced only once", got, announce)
	}
	if got, _ := r.admit(key("b"), r.hash); got != admitted {
		t.Errorf("the failed owner itself may retry, got %v", got)
	}
	if d := cmp.Diff([]string{"ns/b"}, r.failures()); d != "" {
		t.Errorf("failures (-want +got):\n%s", d)
	}
	r.done(key("b"), outcome{ready: true})
	if got, _ := r.admit(key("d"), old); got != admitted {
		t.Errorf("once the failure is fixed the rollout goes on, got %v", got)
	}
}

func TestStatusKeepsTransitionTimesWhileNothingChanges(t *testing.T) {
	owner := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "x/v1", "kind": "X", "metadata": map[string]any{"name": "o", "generation": int64(2)}}}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ready := outcome{ready: true, children: nil}
	first := desiredStatus(owner, ready, t0)
	if !statusChanged(owner, first) {
		t.Fatal("an owner without status must get one")
	}
	owner.Object["status"] = first
	again := desiredStatus(owner, ready, t0.Add(time.Hour))
	if statusChanged(owner, again) {
		t.Errorf("the same outcome an hour later changed the status: %v", again)
	}
	failed := desiredStatus(owner, outcome{err: errors.New("boom"), reason: ReasonRenderFailed}, t0.Add(time.Hour))
	if !statusChanged(owner, failed) {
		t.Error("a failure did not change the status")
	}
	conds := failed["conditions"].([]any)
	if got := conds[1].(map[string]any)["lastTransitionTime"]; got != "2026-01-02T04:04:05Z" {
		t.Errorf("Ready's lastTransitionTime = %v, want the time of the transition", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 3100: "3,100", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOwnerChangedIgnoresBosunsOwnWrites(t *testing.T) {
	base := func() *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "x/v1", "kind": "X"}}
		u.SetName("o")
		u.SetGeneration(3)
		u.SetResourceVersion("10")
		u.SetLabels(map[string]string{"team": "a"})
		return u
	}
	cases := []struct {
		name   string
		change func(u *unstructured.Unstructured)
		want   bool
	}{
		{"a resync with the same resourceVersion", func(u *unstructured.Unstructured) {}, false},
		{"bosun's finalizer and inventory", func(u *unstructured.Unstructured) {
			u.SetResourceVersion("11")
			u.SetFinalizers([]string{applier.Finalizer})
			u.SetAnnotations(map[string]string{applier.AnnotationContainsGroupKinds: "ConfigMap", applier.AnnotationTemplateHash: "abc",
				applier.AnnotationInstance: "default/bosun@1", applier.AnnotationClusters: "local,eu-1"})
			u.SetLabels(map[string]string{"team": "a", applier.LabelApplySetID: "applyset-x-v1"})
		}, false},
		{"another installation's name", func(u *unstructured.Unstructured) {
			u.SetResourceVersion("11")
			u.SetAnnotations(map[string]string{applier.AnnotationInstance: "other/bosun@2"})
		}, true},
		{"a status write", func(u *unstructured.Unstructured) {
			u.SetResourceVersion("11")
			u.Object["status"] = map[string]any{"observedGeneration": int64(3)}
		}, false},
		{"a spec change", func(u *unstructured.Unstructured) { u.SetResourceVersion("11"); u.SetGeneration(4) }, true},
		{"a label change", func(u *unstructured.Unstructured) {
			u.SetResourceVersion("11")
			u.SetLabels(map[string]string{"team": "b"})
		}, true},
		{"a user's annotation", func(u *unstructured.Unstructured) {
			u.SetResourceVersion("11")
			u.SetAnnotations(map[string]string{"note": "x"})
		}, true},
		{"the deletion", func(u *unstructured.Unstructured) {
			u.SetResourceVersion("11")
			now := metav1.Now()
			u.SetDeletionTimestamp(&now)
		}, true},
		{"any change of a kind without generation", func(u *unstructured.Unstructured) {
			u.SetResourceVersion("11")
			u.SetGeneration(0)
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, obj := base(), base()
			tc.change(obj)
			if tc.name == "any change of a kind without generation" {
				old.SetGeneration(0)
			}
			if got := ownerChanged(old, obj, "default/bosun@1"); got != tc.want {
				t.Errorf("ownerChanged = %v, want %v", got, tc.want)
			}
			// The same decision on the compact form the owner caches hold.
			co, _ := compactOwner(old.DeepCopy())
			cn, _ := compactOwner(obj.DeepCopy())
			if got := ownerChanged(co, cn, "default/bosun@1"); got != tc.want {
				t.Errorf("ownerChanged on cached owners = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAWronglyTypedValueIsRejectedNotRetriedAsTransient(t *testing.T) {
	err := apierrors.NewInternalError(errors.New(`failed to create typed patch object (ns/web; apps/v1, Kind=Deployment): .spec.template.metadata.annotations.x: expected string, got &value.valueUnstructured{Value:1058718111313644}`))
	if transient(err) {
		t.Error("a wrongly typed value was taken for a transient server error")
	}
	if r := reasonOf(err); r != ReasonRejected {
		t.Errorf("reason = %s, want %s", r, ReasonRejected)
	}
	if !transient(apierrors.NewInternalError(errors.New("etcdserver: request timed out"))) {
		t.Error("an ordinary internal error is transient")
	}
}

func TestCachedOwnerDecodesToTheObjectWithoutManagedFields(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.bosun.dev/v1", "kind": "Site",
		"metadata": map[string]any{"name": "web", "namespace": "ns", "uid": "u1", "resourceVersion": "7",
			"generation": int64(3), "labels": map[string]any{"team": "a"}, "annotations": map[string]any{"note": "kept once"},
			"finalizers": []any{"bosun.dev/cleanup"}},
		"spec":   map[string]any{"message": "hi", "replicas": int64(2)},
		"status": map[string]any{"observedGeneration": int64(3)},
	}}
	u.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}})
	want := u.DeepCopy()
	want.SetManagedFields(nil)

	obj, err := compactOwner(u)
	if err != nil {
		t.Fatal(err)
	}
	co := obj.(*cachedOwner)
	if co.Name != "web" || co.Namespace != "ns" || co.UID != "u1" || co.Generation != 3 || co.Labels["team"] != "a" || len(co.Finalizers) != 1 {
		t.Errorf("cached metadata = %+v", co.ObjectMeta)
	}
	got, err := co.decode()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want.Object, got.Object); d != "" {
		t.Errorf("decoded owner differs (-want +got):\n%s", d)
	}
	// Every decode is a copy of its own: a reconcile cannot change the cache.
	got.Object["spec"].(map[string]any)["message"] = "changed"
	again, _ := co.decode()
	if again.Object["spec"].(map[string]any)["message"] != "hi" {
		t.Error("a decoded owner shares state with the cache")
	}
}

func TestAReleasedOwnerIsKnownByUIDNotByName(t *testing.T) {
	r := newReleasedOwners()
	owner := func(uid string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetNamespace("ns")
		u.SetName("web")
		u.SetUID(types.UID(uid))
		return u
	}
	key := cache.ObjectName{Namespace: "ns", Name: "web"}
	r.add(owner("u1"))
	if !r.is(owner("u1")) {
		t.Error("the released owner is not known as released")
	}
	// A new owner of the same name is not the released one, and its arrival forgets it.
	if r.is(owner("u2")) {
		t.Error("a new owner of the same name counts as released: its finalizer would never be removed")
	}
	if r.take(key) {
		t.Error("the old owner is still remembered after a new one of its name was seen")
	}
	r.add(owner("u1"))
	if !r.take(key) || r.take(key) {
		t.Error("takeReleased must report the released owner once")
	}
}

func TestChildCachesKeepHealthAndOnlyWhatBosunReads(t *testing.T) {
	c := newChildren(nil, nil, nil, nil, "", false, nil, func(types.UID, string) {})
	deployment := func(generation, observed int64, available string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "namespace": "ns", "uid": "d1", "resourceVersion": "5",
				"generation": generation, "labels": map[string]any{applier.LabelOwnerUID: "o1"},
				"ownerReferences": []any{map[string]any{"apiVersion": "v1", "kind": "Site", "name": "web", "uid": "o1"}}},
			"spec": map[string]any{"replicas": int64(1)},
			"status": map[string]any{"observedGeneration": observed, "replicas": int64(1), "updatedReplicas": int64(1),
				"readyReplicas": int64(1), "availableReplicas": int64(1),
				"conditions": []any{map[string]any{"type": "Available", "status": available}}},
		}}
	}
	got, err := c.keepHealth(deployment(2, 2, "True"))
	if err != nil {
		t.Fatal(err)
	}
	m := got.(*metav1.PartialObjectMetadata)
	if m.Annotations[healthKey] != "Current" || m.Labels[applier.LabelOwnerUID] != "o1" || m.Generation != 2 {
		t.Errorf("cached child = %+v", m.ObjectMeta)
	}
	if m.OwnerReferences != nil || m.Kind != "" {
		t.Errorf("the cache keeps what bosun does not read: %+v", m)
	}
	stale, _ := c.keepHealth(deployment(3, 2, "True"))
	if st := stale.(*metav1.PartialObjectMetadata).Annotations[healthKey]; st != "InProgress" {
		t.Errorf("a Deployment whose controller has not seen generation 3 is %s, want InProgress", st)
	}

	// A status update that leaves generation, metadata and health alone requeues nothing;
	// any of them changing does.
	if !statusOnly(got, m.DeepCopy()) {
		t.Error("an unchanged child counts as changed")
	}
	if statusOnly(got, stale) {
		t.Error("a new generation with another health counts as a status-only change")
	}
	relabelled := m.DeepCopy()
	relabelled.Labels["team"] = "b"
	if statusOnly(got, relabelled) {
		t.Error("a label change counts as a status-only change")
	}
	// Another controller's own annotation (same generation) is no drift; bosun's marks, the field
	// shape (a hand edit takes fields from bosun's entry) and Helm's policy are.
	revised := m.DeepCopy()
	revised.Annotations["deployment.kubernetes.io/revision"] = "1"
	if !statusOnly(got, revised) {
		t.Error("another controller's own annotation requeues the owner")
	}
	for key, value := range map[string]string{
		applier.AnnotationConfigHash: "edited", shapeKey: "f:metadata", healthMessageKey: "Replicas: 0/1",
		applier.AnnotationResourcePolicy: "keep",
	} {
		edited := revised.DeepCopy()
		edited.Annotations[key] = value
		if statusOnly(revised, edited) {
			t.Errorf("a change of %s counts as a status-only change", key)
		}
		if statusOnly(edited, revised) {
			t.Errorf("%s going away counts as a status-only change", key)
		}
	}
	cm := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "c", ResourceVersion: "1"}}
	cm2 := cm.DeepCopy()
	cm2.ResourceVersion = "2"
	if statusOnly(cm, cm2) {
		t.Error("a kind without a generation (ConfigMap) must report every change: its content is its spec")
	}
}

func TestDeleteBudgetRefusesAKindLeavingManyOwners(t *testing.T) {
	now := time.Unix(0, 0)
	b := &deleteBudget{now: func() time.Time { return now }}
	safety := config.Safety{MaxDeletes: 100, MaxDeletePercent: 50, MaxKindRemovalPercent: 10}
	total := func() int { return 3000 }
	svc := schema.GroupKind{Kind: "Service"}
	owners := func(gk schema.GroupKind) int { return 100 } // 10% of 100 owners: 10

	for i := range 10 {
		if err := b.take(1, []schema.GroupKind{svc}, safety, total, owners); err != nil {
			t.Fatalf("owner %d losing its Service: %v", i+1, err)
		}
	}
	var refused *KindRemovalError
	if err := b.take(1, []schema.GroupKind{svc}, safety, total, owners); !errors.As(err, &refused) || refused.Recent != 10 || refused.Limit != 10 {
		t.Fatalf("an 11th owner losing its Service: err = %v, want a KindRemovalError with 10 recent of limit 10", err)
	}
	if err := b.take(1, nil, safety, total, owners); err != nil {
		t.Errorf("a prune that keeps the kind (a rename) is not a kind removal: %v", err)
	}
	if err := b.take(1, []schema.GroupKind{{Kind: "ConfigMap"}}, safety, total, owners); err != nil {
		t.Errorf("another kind has a budget of its own: %v", err)
	}
	small := func(gk schema.GroupKind) int { return 5 }
	b2 := &deleteBudget{now: func() time.Time { return now }}
	for i := range config.MinKindRemovals {
		if err := b2.take(1, []schema.GroupKind{svc}, safety, total, small); err != nil {
			t.Fatalf("a small watch: owner %d of %d may lose a kind: %v", i+1, config.MinKindRemovals, err)
		}
	}
	now = now.Add(deleteWindow)
	if err := b.take(1, []schema.GroupKind{svc}, safety, total, owners); err != nil {
		t.Errorf("after the window the kind may leave owners again: %v", err)
	}
}

func TestADeletedChildIsForgottenWhoeverDeletedIt(t *testing.T) {
	var owners, gone []types.UID
	c := newChildren(nil, nil, nil, nil, "", false, nil, func(uid types.UID, _ string) { owners = append(owners, uid) })
	c.gone = func(uid types.UID) { gone = append(gone, uid) }
	child := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{UID: "child-1", Labels: map[string]string{applier.LabelOwnerUID: "owner-1"}}}
	c.notifyDelete(schema.GroupKind{Kind: "ConfigMap"}, cache.DeletedFinalStateUnknown{Key: "ns/x", Obj: child})
	if diff := cmp.Diff([]types.UID{"child-1"}, gone); diff != "" {
		t.Errorf("forgotten (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]types.UID{"owner-1"}, owners); diff != "" {
		t.Errorf("owners requeued (-want +got):\n%s", diff)
	}
}

func TestPausedOwnersGauge(t *testing.T) {
	var got []int
	p := newPausedOwners(func(n int) { got = append(got, n) })
	a, b := cache.ObjectName{Namespace: "ns", Name: "a"}, cache.ObjectName{Namespace: "ns", Name: "b"}
	p.set(a, true)
	p.set(a, true) // no change, no update
	p.set(b, true)
	p.set(a, false)
	p.set(b, false)
	if diff := cmp.Diff([]int{0, 1, 2, 1, 0}, got); diff != "" {
		t.Errorf("gauge values (-want +got):\n%s", diff)
	}
}

func TestTriggersKeepTheMostTellingReason(t *testing.T) {
	tr := newTriggers()
	key := cache.ObjectName{Namespace: "ns", Name: "a"}
	tr.note(key, trigger{kind: triggerResync})
	tr.note(key, trigger{kind: triggerChild, child: "ConfigMap/ns/a changed"})
	tr.note(key, trigger{kind: triggerRequeue})
	if got, _ := tr.take(key); got.kind != triggerChild || got.child != "ConfigMap/ns/a changed" {
		t.Errorf("take = %+v, want the child", got)
	}
	// The delayed re-check that the child's reconcile ran ahead of has nothing left to do.
	if got, ok := tr.take(key); ok {
		t.Errorf("a key whose reasons were taken has a reason left: %+v", got)
	}
	tr.note(key, trigger{kind: triggerChild})
	tr.note(key, trigger{kind: triggerOwner})
	if got, _ := tr.take(key); got.kind != triggerOwner {
		t.Errorf("an owner change outranks a child's, got %+v", got)
	}
}

func TestSettlingWaitsBeforeAProgressingStatus(t *testing.T) {
	now := time.Unix(0, 0)
	s := newSettlingOwners()
	s.now = func() time.Time { return now }
	owner := &unstructured.Unstructured{}
	owner.SetUID("u1")
	owner.SetGeneration(1)
	if d := s.wait(owner, true); d != settlePoll {
		t.Fatalf("first Progressing: wait %s, want %s", d, settlePoll)
	}
	now = now.Add(statusSettle)
	if d := s.wait(owner, true); d != 0 {
		t.Errorf("Progressing for %s: wait %s, want 0 (write it)", statusSettle, d)
	}
	owner.SetGeneration(2)
	if d := s.wait(owner, true); d != settlePoll {
		t.Errorf("a new generation settles again: wait %s", d)
	}
	if d := s.wait(owner, false); d != 0 {
		t.Errorf("not progressing: wait %s, want 0", d)
	}
}

// With sharding each replica keeps the absolute limits for its share of the owners: split
// between the replicas, rounded up, never 0.
func TestShardedReplicasSplitTheAbsoluteLimits(t *testing.T) {
	members := 3
	c := &controller{watch: Watch{Watch: &config.Watch{
		Safety:  config.Safety{MaxDeletes: 100, MaxDeletePercent: 50, MaxKindRemovalPercent: 10},
		Rollout: config.Rollout{MaxInFlight: 100, MaxFailures: 5},
	}}, opts: Options{Members: func() int { return members }}}
	if got, want := c.safety(), (config.Safety{MaxDeletes: 34, MaxDeletePercent: 50, MaxKindRemovalPercent: 10}); got != want {
		t.Errorf("3 replicas: safety %+v, want %+v", got, want)
	}
	if got := c.rolloutLimits(); got.MaxInFlight != 34 || got.MaxFailures != 2 {
		t.Errorf("3 replicas: rollout %+v, want maxInFlight 34, maxFailures 2", got)
	}
	members = 10
	if got := c.rolloutLimits(); got.MaxFailures != 1 {
		t.Errorf("10 replicas: maxFailures %d, want 1 (never 0)", got.MaxFailures)
	}
	members = 1
	if got := c.safety(); got.MaxDeletes != 100 {
		t.Errorf("1 replica: maxDeletes %d, want all 100", got.MaxDeletes)
	}
}

// An owner is settled when bosun's status says its current generation is Ready; a newly
// acquired slot reconciles the others first.
func TestSettledOwnersAreThoseBosunMadeReadyAtTheirGeneration(t *testing.T) {
	owner := func(generation, observed int64, ready string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "example.bosun.dev/v1", "kind": "Site",
			"metadata": map[string]any{"name": "s", "namespace": "ns", "generation": generation},
		}}
		if observed > 0 {
			u.Object["status"] = map[string]any{
				"observedGeneration": observed,
				"conditions":         []any{map[string]any{"type": "Applied", "status": "True"}, map[string]any{"type": "Ready", "status": ready}},
			}
		}
		return u
	}
	for _, tt := range []struct {
		name  string
		owner *unstructured.Unstructured
		want  bool
	}{
		{"Ready at its generation", owner(3, 3, "True"), true},
		{"edited since", owner(4, 3, "True"), false},
		{"not Ready", owner(3, 3, "False"), false},
		{"no status", owner(3, 0, ""), false},
	} {
		got, err := compactOwner(tt.owner)
		if err != nil {
			t.Fatal(err)
		}
		if s := got.(*cachedOwner).settled; s != tt.want {
			t.Errorf("%s: settled = %t, want %t", tt.name, s, tt.want)
		}
	}
}

// A slot handed to another replica takes the applier's memory of its children with it: the
// other replica may write them before the slot comes back.
func TestDroppingASlotForgetsItsChildren(t *testing.T) {
	c := newChildren(nil, nil, nil, nil, "", true, nil, func(types.UID, string) {})
	var forgotten []types.UID
	c.gone = func(uid types.UID) { forgotten = append(forgotten, uid) }
	c.hold([]int{3, 4})
	for slot, uid := range map[int]types.UID{3: "child-in-3", 4: "child-in-4"} {
		inf := cache.NewSharedIndexInformer(&cache.ListWatch{}, &metav1.PartialObjectMetadata{}, 0, cache.Indexers{})
		if err := inf.GetStore().Add(&metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: string(uid), UID: uid}}); err != nil {
			t.Fatal(err)
		}
		c.informers[childKey{slot: slot, gvr: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}}] = &childInformer{SharedIndexInformer: inf, stop: make(chan struct{})}
	}
	c.drop([]int{3})
	if want := []types.UID{"child-in-3"}; !cmp.Equal(forgotten, want) {
		t.Errorf("forgotten %v, want %v", forgotten, want)
	}
	if len(c.informers) != 1 || c.held[3] || !c.held[4] {
		t.Errorf("after dropping slot 3: %d informers left, want 1; held %v, want slot 4 only", len(c.informers), c.held)
	}
}
