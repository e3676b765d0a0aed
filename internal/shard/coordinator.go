package shard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// The Leases of a group carry these labels and annotations.
const (
	// LabelGroup names the group (--leader-election-id) on its Leases.
	LabelGroup = "bosun.dev/shard-group"
	// LabelRole is "member" on a replica's membership Lease and "map" on the shard map.
	LabelRole = "bosun.dev/shard-role"
	// AnnotationSlots on a membership Lease lists the slots the replica works on, e.g. "0-3,9".
	AnnotationSlots = "bosun.dev/shard-slots"
	// AnnotationMap on the shard map holds the holder of every slot: a JSON array of Slots
	// identities, "" for a slot nobody holds.
	AnnotationMap = "bosun.dev/shard-map"

	roleMember = "member"
	roleMap    = "map"
)

// Worker starts and stops work on slots: the watcher.
type Worker interface {
	// Acquire starts caching and reconciling the owners of the slots.
	Acquire(ctx context.Context, slots []int) error
	// Release stops taking work on the slots and returns once no reconcile of their owners
	// runs any more and their caches are stopped.
	Release(ctx context.Context, slots []int) error
}

// Config is one replica's part in a group.
type Config struct {
	// Leases reads the group's Leases and renews this replica's; it must not go through the
	// write fence, as the replica must keep renewing.
	Leases coordinationv1.LeasesGetter
	// Fenced writes the shard map and deletes this replica's Lease when it leaves: through the
	// fence, so that no claim is sent by a replica that may no longer write.
	Fenced    coordinationv1.LeasesGetter
	Namespace string
	// Group names the Leases: <group>-<hash of the identity> per member, <group>-shards for
	// the map.
	Group    string
	Identity string
	// LeaseDuration is how long a member whose Lease was not seen renewed stays live;
	// RenewDeadline how long after a renewal was sent the replica may still write (the
	// fence); RetryPeriod how often it renews and looks at the map.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Renewed is called with the time a renewal that succeeded was sent.
	Renewed func(sent time.Time)
	// Valid reports whether the replica may still write (its fence is open).
	Valid func() bool
	// Notify is told what happened, for the caller to log; may be nil.
	Notify func(Change)
	Clock  clock.WithTicker
}

// Change is something the coordinator did or saw.
type Change struct {
	// What: "acquired", "released", "members", "error".
	What    string
	Slots   []int
	Members []string
	Err     error
}

// Coordinator takes this replica's part in the group: it renews its membership Lease and
// claims and releases slots in the shard map.
type Coordinator struct {
	cfg      Config
	member   string // name of this replica's Lease
	informer cache.SharedIndexInformer
	wake     chan struct{}

	mu       sync.Mutex
	held     map[int]bool           // slots the worker works on
	seen     map[string]observation // membership Leases by name, as last seen changed
	own      *coordv1.Lease         // this replica's Lease as last written
	joined   time.Time              // when this replica's Lease was first written
	lastSeen []string               // the live members the last balance saw
}

// observation is when a membership Lease was last seen with a new resourceVersion: a member
// is live for LeaseDuration after that, by this replica's clock.
type observation struct {
	identity string
	version  string
	at       time.Time
	renewed  time.Time // spec.renewTime, by the member's clock
}

func observationOf(l *coordv1.Lease, at time.Time) observation {
	o := observation{identity: ptr.Deref(l.Spec.HolderIdentity, ""), version: l.ResourceVersion, at: at}
	if l.Spec.RenewTime != nil {
		o.renewed = l.Spec.RenewTime.Time
	}
	return o
}

// New checks the configuration.
func New(cfg Config) (*Coordinator, error) {
	switch {
	case cfg.Leases == nil || cfg.Fenced == nil || cfg.Renewed == nil || cfg.Valid == nil:
		return nil, errors.New("shard: Leases, Fenced, Renewed and Valid are required")
	case cfg.Group == "" || cfg.Identity == "" || cfg.Namespace == "":
		return nil, errors.New("shard: Group, Identity and Namespace are required")
	case !(cfg.LeaseDuration > cfg.RenewDeadline && cfg.RenewDeadline > cfg.RetryPeriod && cfg.RetryPeriod > 0):
		return nil, fmt.Errorf("shard: want lease duration > renew deadline > retry period > 0, got %s, %s, %s",
			cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Notify == nil {
		cfg.Notify = func(Change) {}
	}
	return &Coordinator{
		cfg:    cfg,
		member: MemberLeaseName(cfg.Group, cfg.Identity),
		wake:   make(chan struct{}, 1),
		held:   map[int]bool{},
		seen:   map[string]observation{},
	}, nil
}

// MemberLeaseName is the name of the membership Lease of identity in group.
func MemberLeaseName(group, identity string) string {
	return fmt.Sprintf("%s-%016x", group, hashString(identity))
}

// MapLeaseName is the name of the group's shard map.
func MapLeaseName(group string) string { return group + "-shards" }

// Run takes part in the group until ctx is done, then waits for workDone (the worker has
// stopped all work) and leaves: its slots are let go in the map and its Lease deleted, so the
// others take them over at once. It returns early with an error only if the Leases cannot be
// watched.
func (c *Coordinator) Run(ctx context.Context, w Worker, workDone <-chan struct{}) error {
	c.informer = c.newInformer()
	_, _ = c.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.observe(obj) },
		UpdateFunc: func(_, obj any) { c.observe(obj) },
		DeleteFunc: func(obj any) { c.forget(obj) },
	})
	infCtx, stopInformer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopInformer()
	go c.informer.RunWithContext(infCtx)
	if !cache.WaitForCacheSync(ctx.Done(), c.informer.HasSynced) {
		<-workDone
		return nil
	}

	renewCtx, stopRenewing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRenewing()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		c.renewLoop(renewCtx)
	}()

	// Lease changes wake the balance at once; an expiry is no event, so it also looks four
	// times per retry period (from the caches: no request unless something is to be done),
	// and a dead replica's slots pass on within a quarter retry period of its expiry.
	tick := c.cfg.Clock.NewTicker(c.cfg.RetryPeriod / 4)
	defer tick.Stop()
	for ctx.Err() == nil {
		c.balance(ctx, w)
		select {
		case <-ctx.Done():
		case <-tick.C():
		case <-c.wake:
		}
	}
	<-workDone
	// Renewals stop first, or one could write the Lease again after leave deleted it.
	stopRenewing()
	<-renewed
	leaveCtx, cancel := context.WithTimeout(context.Background(), c.cfg.RenewDeadline)
	defer cancel()
	c.leave(leaveCtx)
	return nil
}

func (c *Coordinator) newInformer() cache.SharedIndexInformer {
	leases := c.cfg.Leases.Leases(c.cfg.Namespace)
	sel := LabelGroup + "=" + c.cfg.Group
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel
			return leases.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = sel
			return leases.Watch(ctx, o)
		},
	}
	return cache.NewSharedIndexInformer(lw, &coordv1.Lease{}, 0, cache.Indexers{})
}

// observe notes a membership Lease seen with a new version, and wakes the balance.
func (c *Coordinator) observe(obj any) {
	l, ok := obj.(*coordv1.Lease)
	if !ok {
		return
	}
	if l.Labels[LabelRole] == roleMember {
		c.mu.Lock()
		if o, ok := c.seen[l.Name]; !ok || o.version != l.ResourceVersion {
			c.seen[l.Name] = observationOf(l, c.cfg.Clock.Now())
		}
		c.mu.Unlock()
	}
	c.poke()
}

func (c *Coordinator) forget(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if l, ok := obj.(*coordv1.Lease); ok {
		c.mu.Lock()
		delete(c.seen, l.Name)
		c.mu.Unlock()
	}
	c.poke()
}

func (c *Coordinator) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// renewLoop renews this replica's Lease every RetryPeriod. A failed renewal is retried at the
// next tick; the fence, told of every renewal that succeeded, stops the writes of a replica
// that cannot renew.
func (c *Coordinator) renewLoop(ctx context.Context) {
	tick := c.cfg.Clock.NewTicker(c.cfg.RetryPeriod)
	defer tick.Stop()
	for {
		if err := c.renew(ctx); err != nil && ctx.Err() == nil {
			c.cfg.Notify(Change{What: "error", Err: fmt.Errorf("renew Lease/%s/%s: %w", c.cfg.Namespace, c.member, err)})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		}
	}
}

// renew creates or renews this replica's Lease, with the slots it works on.
func (c *Coordinator) renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RenewDeadline)
	defer cancel()
	leases := c.cfg.Leases.Leases(c.cfg.Namespace)
	sent := c.cfg.Clock.Now()
	c.mu.Lock()
	own := c.own.DeepCopy()
	slots := formatSlots(c.heldLocked())
	c.mu.Unlock()
	now := metav1.NewMicroTime(sent)
	if own == nil {
		own = &coordv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: c.member, Namespace: c.cfg.Namespace,
				Labels: map[string]string{LabelGroup: c.cfg.Group, LabelRole: roleMember}},
			Spec: coordv1.LeaseSpec{
				HolderIdentity:       ptr.To(c.cfg.Identity),
				LeaseDurationSeconds: ptr.To(int32(c.cfg.LeaseDuration.Round(time.Second) / time.Second)),
				AcquireTime:          &now,
			},
		}
	}
	own.Spec.RenewTime = &now
	metav1.SetMetaDataAnnotation(&own.ObjectMeta, AnnotationSlots, slots)
	var got *coordv1.Lease
	var err error
	if own.ResourceVersion == "" {
		got, err = leases.Create(ctx, own, metav1.CreateOptions{})
	} else {
		got, err = leases.Update(ctx, own, metav1.UpdateOptions{})
	}
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) || apierrors.IsAlreadyExists(err) {
		// Someone else wrote it (a replica cleaning up Leases it took for dead): start over
		// from what is there.
		c.mu.Lock()
		c.own = nil
		if cur, gerr := leases.Get(ctx, c.member, metav1.GetOptions{}); gerr == nil && ptr.Deref(cur.Spec.HolderIdentity, "") == c.cfg.Identity {
			c.own = cur
		}
		c.mu.Unlock()
		return err
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.own = got
	if c.joined.IsZero() {
		c.joined = sent
	}
	c.mu.Unlock()
	c.cfg.Renewed(sent)
	return nil
}

// balance moves this replica's slots one step towards the target: it first lets go of what it
// should no longer hold, then claims what nobody live holds and it should.
func (c *Coordinator) balance(ctx context.Context, w Worker) {
	if !c.cfg.Valid() {
		return
	}
	holders, ok := c.holders()
	if !ok {
		if err := c.createMap(ctx); err != nil {
			c.cfg.Notify(Change{What: "error", Err: err})
		}
		return
	}
	members := c.liveMembers()
	c.noteMembers(members)
	c.collectDead(ctx)
	live := map[int]string{}
	for s, h := range holders {
		if slices.Contains(members, h) {
			live[s] = h
		}
	}
	target := Assign(members, live)
	me := c.cfg.Identity

	var release, resume []int
	for s := range Slots {
		switch {
		case holders[s] == me && target[s] != me:
			release = append(release, s)
		case holders[s] == me && !c.holds(s):
			resume = append(resume, s)
		}
	}
	if len(release) > 0 {
		if err := c.release(ctx, w, release); err != nil {
			c.notifyErr(ctx, release, err)
			return
		}
	}
	if len(resume) > 0 {
		c.acquire(ctx, w, resume)
	}

	var claim []int
	dead := map[string]bool{}
	for s := range Slots {
		h := holders[s]
		if target[s] != me || h == me {
			continue
		}
		if h != "" && !dead[h] {
			if _, isLive := live[s]; isLive || !c.confirmDead(ctx, h) {
				continue // the holder lets it go when it sees the target
			}
			dead[h] = true
		}
		claim = append(claim, s)
	}
	if len(claim) == 0 || !c.cfg.Valid() || c.justJoined() {
		return
	}
	took, err := c.updateMap(ctx, func(h []string) []int {
		var took []int
		for _, s := range claim {
			if h[s] == "" || dead[h[s]] {
				h[s] = me
				took = append(took, s)
			}
		}
		return took
	})
	if err != nil {
		c.notifyErr(ctx, claim, fmt.Errorf("claim: %w", err))
		return
	}
	if len(took) > 0 {
		c.acquire(ctx, w, took)
	}
}

// notifyErr tells of an error, unless the replica is stopping (ctx done), when errors of
// work cut short are expected.
func (c *Coordinator) notifyErr(ctx context.Context, slots []int, err error) {
	if ctx.Err() == nil {
		c.cfg.Notify(Change{What: "error", Slots: slots, Err: err})
	}
}

// justJoined holds back the first claims of a replica for one retry period, so that replicas
// started together see each other before claiming, instead of the first one claiming every
// slot only to hand most of them over again.
func (c *Coordinator) justJoined() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined.IsZero() || c.cfg.Clock.Since(c.joined) < c.cfg.RetryPeriod
}

// release stops the work on the slots, then lets them go in the map.
func (c *Coordinator) release(ctx context.Context, w Worker, slots []int) error {
	var working []int
	for _, s := range slots {
		if c.holds(s) {
			working = append(working, s)
		}
	}
	if len(working) > 0 {
		if err := w.Release(ctx, working); err != nil {
			return fmt.Errorf("release: %w", err)
		}
		c.mu.Lock()
		for _, s := range working {
			delete(c.held, s)
		}
		c.mu.Unlock()
		c.cfg.Notify(Change{What: "released", Slots: working})
	}
	return c.letGo(ctx, slots)
}

// letGo clears this replica's name from the slots in the map.
func (c *Coordinator) letGo(ctx context.Context, slots []int) error {
	me := c.cfg.Identity
	_, err := c.updateMap(ctx, func(h []string) []int {
		var let []int
		for _, s := range slots {
			if h[s] == me {
				h[s] = ""
				let = append(let, s)
			}
		}
		return let
	})
	return err
}

func (c *Coordinator) acquire(ctx context.Context, w Worker, slots []int) {
	if err := w.Acquire(ctx, slots); err != nil {
		c.notifyErr(ctx, slots, fmt.Errorf("acquire: %w", err))
		return
	}
	c.mu.Lock()
	for _, s := range slots {
		c.held[s] = true
	}
	c.mu.Unlock()
	c.cfg.Notify(Change{What: "acquired", Slots: slots})
}

// leave lets every slot of this replica go in the map and deletes its Lease: the worker has
// stopped, so the others may start on them at once.
func (c *Coordinator) leave(ctx context.Context) {
	if !c.cfg.Valid() {
		return // fenced: the Lease expires; writing now could race the new holders
	}
	all := make([]int, Slots)
	for s := range all {
		all[s] = s
	}
	if err := c.letGo(ctx, all); err != nil {
		c.cfg.Notify(Change{What: "error", Err: fmt.Errorf("leave: %w", err)})
		return // the Lease stays and expires: the slots pass on after the lease duration
	}
	c.mu.Lock()
	c.held = map[int]bool{}
	c.mu.Unlock()
	if err := c.cfg.Fenced.Leases(c.cfg.Namespace).Delete(ctx, c.member, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		c.cfg.Notify(Change{What: "error", Err: fmt.Errorf("leave: delete Lease/%s/%s: %w", c.cfg.Namespace, c.member, err)})
	}
}

// holders reads the shard map from the cache; ok is false when there is none yet.
func (c *Coordinator) holders() ([]string, bool) {
	obj, exists, err := c.informer.GetStore().GetByKey(c.cfg.Namespace + "/" + MapLeaseName(c.cfg.Group))
	if err != nil || !exists {
		return nil, false
	}
	return decodeMap(obj.(*coordv1.Lease)), true
}

func (c *Coordinator) createMap(ctx context.Context) error {
	l := &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{
		Name: MapLeaseName(c.cfg.Group), Namespace: c.cfg.Namespace,
		Labels:      map[string]string{LabelGroup: c.cfg.Group, LabelRole: roleMap},
		Annotations: map[string]string{AnnotationMap: encodeMap(make([]string, Slots))},
	}}
	_, err := c.cfg.Fenced.Leases(c.cfg.Namespace).Create(ctx, l, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create Lease/%s/%s: %w", c.cfg.Namespace, l.Name, err)
	}
	return nil
}

// updateMap changes the shard map with compare-and-swap: change edits the holders and returns
// the slots it changed; on a conflict the map is read again and change applied anew. It
// returns the slots the write that succeeded changed.
func (c *Coordinator) updateMap(ctx context.Context, change func([]string) []int) ([]int, error) {
	leases := c.cfg.Fenced.Leases(c.cfg.Namespace)
	name := MapLeaseName(c.cfg.Group)
	fresh := false
	var changed []int
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		var cur *coordv1.Lease
		if obj, exists, _ := c.informer.GetStore().GetByKey(c.cfg.Namespace + "/" + name); exists && !fresh {
			cur = obj.(*coordv1.Lease).DeepCopy()
		} else {
			got, err := leases.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur = got
		}
		fresh = true // a conflict means the cache is behind: read from the server
		h := decodeMap(cur)
		changed = change(h)
		if len(changed) == 0 {
			return nil
		}
		metav1.SetMetaDataAnnotation(&cur.ObjectMeta, AnnotationMap, encodeMap(h))
		_, err := leases.Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// deadAfter is how long a membership Lease must have gone unrenewed before a replica deletes
// it: a replica killed without leaving leaves its Lease behind, and replicas come and go.
const deadAfter = 10

// collectDead deletes the membership Leases not seen renewed for deadAfter lease durations,
// each only in the version seen (a replica that renewed it meanwhile keeps it).
func (c *Coordinator) collectDead(ctx context.Context) {
	now := c.cfg.Clock.Now()
	c.mu.Lock()
	var dead []string
	var versions []string
	for name, o := range c.seen {
		if name != c.member && now.Sub(o.at) > deadAfter*c.cfg.LeaseDuration {
			dead, versions = append(dead, name), append(versions, o.version)
		}
	}
	c.mu.Unlock()
	for i, name := range dead {
		err := c.cfg.Fenced.Leases(c.cfg.Namespace).Delete(ctx, name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{ResourceVersion: &versions[i]},
		})
		switch {
		case err == nil, apierrors.IsNotFound(err):
			c.mu.Lock()
			delete(c.seen, name)
			c.mu.Unlock()
		case !apierrors.IsConflict(err):
			c.cfg.Notify(Change{What: "error", Err: fmt.Errorf("delete the Lease/%s/%s of a replica gone for long: %w", c.cfg.Namespace, name, err)})
		}
	}
}

// liveMembers are the identities of the members seen renewed within the lease duration, and
// this replica: the members the target splits the slots between. A Lease this replica has
// just seen for the first time but whose renewTime is older than the lease duration — a
// replica killed before this one started — does not count: only the split depends on it; its
// slots are taken only once confirmDead agrees.
func (c *Coordinator) liveMembers() []string {
	now := c.cfg.Clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []string{c.cfg.Identity}
	for _, o := range c.seen {
		stale := !o.renewed.IsZero() && now.Sub(o.renewed) >= c.cfg.LeaseDuration
		if o.identity != "" && now.Sub(o.at) < c.cfg.LeaseDuration && !stale && !slices.Contains(out, o.identity) {
			out = append(out, o.identity)
		}
	}
	slices.Sort(out)
	return out
}

func (c *Coordinator) noteMembers(members []string) {
	c.mu.Lock()
	changed := !slices.Equal(members, c.lastSeen)
	c.lastSeen = members
	c.mu.Unlock()
	if changed {
		c.cfg.Notify(Change{What: "members", Members: members})
	}
}

// confirmDead reads the Lease of a holder that looks dead: only a Lease that is gone, or that
// has not changed for the lease duration since this replica first saw it so, is dead. A
// replica whose watch of the Leases lags must not take a live replica's slots.
func (c *Coordinator) confirmDead(ctx context.Context, identity string) bool {
	name := MemberLeaseName(c.cfg.Group, identity)
	got, err := c.cfg.Leases.Leases(c.cfg.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true
	}
	if err != nil {
		return false
	}
	now := c.cfg.Clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.seen[name]
	if !ok || o.version != got.ResourceVersion {
		c.seen[name] = observationOf(got, now)
		return false
	}
	return now.Sub(o.at) >= c.cfg.LeaseDuration
}

// Members is how many live replicas the last balance saw, this one included; 1 before.
func (c *Coordinator) Members() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(1, len(c.lastSeen))
}

// Held returns the slots this replica works on.
func (c *Coordinator) Held() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.heldLocked()
}

func (c *Coordinator) heldLocked() []int {
	out := make([]int, 0, len(c.held))
	for s := range c.held {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func (c *Coordinator) holds(s int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[s]
}

func decodeMap(l *coordv1.Lease) []string {
	h := make([]string, Slots)
	var got []string
	if json.Unmarshal([]byte(l.Annotations[AnnotationMap]), &got) == nil {
		copy(h, got)
	}
	return h
}

func encodeMap(h []string) string {
	b, _ := json.Marshal(h)
	return string(b)
}

// formatSlots writes slots as ranges: "0-3,9".
func formatSlots(slots []int) string {
	var parts []string
	for i := 0; i < len(slots); {
		j := i
		for j+1 < len(slots) && slots[j+1] == slots[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(slots[i]))
		} else {
			parts = append(parts, strconv.Itoa(slots[i])+"-"+strconv.Itoa(slots[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// FormatSlots writes slots as ranges, for logs: "0-3,9".
func FormatSlots(slots []int) string { return formatSlots(slices.Sorted(slices.Values(slots))) }
