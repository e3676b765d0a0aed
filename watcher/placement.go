package watcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
)

// placed is a child and the cluster it is in.
type placed struct {
	applier.Ref
	cluster string
}

// clustersOf decides the clusters that get an owner's children (sorted): those it names (the
// bosun.dev/cluster annotation, else clusters.field), else every workload cluster the
// watch's selector matches, else the watch's default. A cluster it may not use, or that does
// not exist, fails the owner with a condition naming it, and nothing moves.
func (c *controller) clustersOf(owner *unstructured.Unstructured) ([]string, error) {
	pol := c.watch.Clusters
	named, err := namedClusters(owner, pol)
	if err != nil {
		return nil, err
	}
	if len(named) > 0 {
		for _, name := range named {
			if err := c.mayUse(name); err != nil {
				return nil, err
			}
		}
		return named, nil
	}
	if pol.Selector != nil {
		var names []string
		if c.targets.clusters != nil {
			names = c.targets.clusters.Select(pol.Selector)
		}
		if len(names) == 0 {
			// Not "no children anywhere": a cluster Secret that went missing must not delete
			// what is in the others.
			return nil, &clusterError{cluster: "selector " + pol.SelectorText, reason: ReasonClusterUnknown,
				err: errors.New("no workload cluster matches clusters.selector; the children stay where they are")}
		}
		return names, nil
	}
	d := pol.Default
	if d == "" {
		d = config.LocalCluster
	}
	if d != config.LocalCluster {
		if _, ok := c.clusterLabels(d); !ok {
			return nil, &clusterError{cluster: d, reason: ReasonClusterUnknown, err: fmt.Errorf("%w (clusters.default of watch %s)", ErrUnknownCluster, c.watch.Name)}
		}
	}
	return []string{d}, nil
}

// namedClusters are the clusters the owner names, sorted and without repeats.
func namedClusters(owner *unstructured.Unstructured, pol config.ClusterPolicy) ([]string, error) {
	var names []string
	if v, ok := owner.GetAnnotations()[config.AnnotationCluster]; ok {
		names = applier.SplitList(v)
	} else if pol.Field != nil {
		v, found, _ := unstructured.NestedFieldNoCopy(owner.Object, pol.Field...)
		switch v := v.(type) {
		case nil:
		case string:
			names = applier.SplitList(v)
		case []any:
			for _, item := range v {
				s, ok := item.(string)
				if !ok {
					return nil, &clusterError{cluster: strings.Join(pol.Field, "."), reason: ReasonClusterNotAllowed, err: fmt.Errorf("want a cluster name or a list of names, got %v", item)}
				}
				names = append(names, s)
			}
		default:
			if found {
				return nil, &clusterError{cluster: strings.Join(pol.Field, "."), reason: ReasonClusterNotAllowed, err: fmt.Errorf("want a cluster name or a list of names, got %v", v)}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// mayUse checks that an owner may name the cluster.
func (c *controller) mayUse(name string) error {
	pol := c.watch.Clusters
	if name == config.LocalCluster {
		if !pol.Permits(name, nil) {
			return &clusterError{cluster: name, reason: ReasonClusterNotAllowed, err: fmt.Errorf("not allowed by watch %s (clusters.allowed)", c.watch.Name)}
		}
		return nil
	}
	labels, ok := c.clusterLabels(name)
	if !ok {
		return &clusterError{cluster: name, reason: ReasonClusterUnknown, err: ErrUnknownCluster}
	}
	if !pol.Permits(name, labels) {
		return &clusterError{cluster: name, reason: ReasonClusterNotAllowed,
			err: fmt.Errorf("not allowed by watch %s (clusters.allowed, clusters.allowedSelector)", c.watch.Name)}
	}
	return nil
}

func (c *controller) clusterLabels(name string) (map[string]string, bool) {
	if c.targets.clusters == nil {
		return nil, false
	}
	return c.targets.clusters.Labels(name)
}

// reconcile brings the owner's children to what its templates render in every cluster that
// gets them, one pass per cluster, and then deletes them from the clusters that no longer do
// (an owner moved) once they are ready in the new ones. One cluster that does not answer fails
// the owner with ClusterUnreachable but does not hold up its other clusters. The outcome is
// the passes' together; the owner is returned as it is after bosun's own writes to it.
func (c *controller) reconcile(ctx context.Context, owner *unstructured.Unstructured, tr trigger) (outcome, *unstructured.Unstructured) {
	names, err := c.clustersOf(owner)
	if err != nil {
		return outcome{err: err, reason: reasonOf(err), templateHash: c.rollout.hash}, owner
	}
	// children stay nil unless a pass rendered: the status keeps the last known list.
	out := outcome{templateHash: c.rollout.hash, ready: true}
	var waits []string
	var inv applier.Inventory
	complete := true
	for _, name := range names {
		t, err := c.targets.get(ctx, name)
		if err != nil {
			out.addErr(err)
			complete = false
			continue
		}
		p := c.runPass(ctx, owner, tr, t)
		owner = p.owner
		switch {
		case p.out.err != nil && t.remote && unreachable(p.out.err):
			p.out.err = c.targets.failed(name, p.out.err)
			if !unreachable(p.out.err) {
				p.out.err = &ClusterUnreachableError{Cluster: name, Err: p.out.err}
			}
			p.out.reason = ReasonClusterUnreachable
		case t.remote && p.out.err == nil:
			c.targets.answered(name)
		}
		if p.out.children != nil {
			if out.children == nil {
				out.children = []placed{}
			}
			out.children = append(out.children, p.out.children...)
		}
		if err := p.out.err; err != nil {
			if t.remote && !strings.HasPrefix(err.Error(), "cluster "+name+":") {
				err = &reasoned{reason: p.out.reason, err: fmt.Errorf("cluster %s: %w", name, err)}
			} else if p.out.reason != reasonOf(err) {
				err = &reasoned{reason: p.out.reason, err: err}
			}
			out.addErr(err)
		}
		if !p.out.ready {
			out.ready = false
			if p.out.waiting != "" {
				waits = append(waits, clusterNote(t, p.out.waiting))
			}
		}
		if !p.pruned {
			complete = false
		} else {
			inv = inv.Union(p.plan.Inventory)
		}
	}
	out.waiting = strings.Join(waits, "; ")
	if out.err != nil || !complete {
		return out, owner
	}
	// Every cluster got its children and pruned: the clusters left behind are emptied once
	// the new ones are ready, then the inventory is exactly what is rendered.
	recorded := applier.InventoryOf(owner)
	for _, name := range recorded.Clusters {
		if slices.Contains(names, name) {
			continue
		}
		if !out.ready {
			inv.Clusters = append(inv.Clusters, name)
			out.waiting = strings.TrimPrefix(out.waiting+"; moving from cluster "+name+": waiting for the children to become ready in "+strings.Join(names, ", "), "; ")
			continue
		}
		if err := c.leave(ctx, owner, recorded, name); err != nil {
			inv.Clusters = append(inv.Clusters, name)
			out.addErr(err)
			out.ready = false
		}
	}
	if out.err != nil {
		return out, owner
	}
	if want := inv.Union(applier.Inventory{}); !recorded.Equal(want) {
		got, err := c.opts.Applier.EnsureOwner(ctx, owner, c.gvr, want, out.templateHash)
		if err != nil {
			out.addErr(err)
			return out, owner
		}
		owner = got
	}
	return out, owner
}

// clusterNote prefixes a message with the cluster it is about, for a workload cluster.
func clusterNote(t *target, msg string) string {
	if !t.remote {
		return msg
	}
	return "cluster " + t.name + ": " + msg
}

// addErr adds a failure to the outcome; the first one's reason is the owner's.
func (o *outcome) addErr(err error) {
	if o.err == nil {
		o.first, o.reason = err, reasonOf(err)
		if r := (*reasoned)(nil); errors.As(err, &r) {
			o.reason = r.reason
		}
		o.err = err
		return
	}
	o.err = &joined{msg: o.err.Error() + "; " + err.Error(), first: o.first}
}

// joined is the failures of several clusters, classified as the first.
type joined struct {
	msg   string
	first error
}

func (j *joined) Error() string { return j.msg }
func (j *joined) Unwrap() error { return j.first }

// leave deletes the owner's children from a cluster it no longer names.
func (c *controller) leave(ctx context.Context, owner *unstructured.Unstructured, inv applier.Inventory, name string) error {
	log := c.log.With(zap.String("owner", applier.OwnerRef(owner)), zap.String("cluster", name))
	changes, err := c.deleteIn(ctx, log, owner, inv, name)
	if gone, ok := errors.AsType[*clusterGoneError](err); ok {
		c.event(owner, ReasonClusterUnreachable, "Move", "moved without deleting the children in "+gone.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("moving from cluster %s: %w", name, err)
	}
	if len(changes) > 0 {
		c.event(owner, ReasonDeleted, "Move", fmt.Sprintf("moved out of cluster %s: deleted %d children there: %s", name, len(changes), changeList(changes)))
	}
	return nil
}

// deleteIn deletes every child of the owner in one cluster: those the caches know and, read
// from the API server, those the garbage collector would not delete with the owner. A workload
// cluster that has not answered for clusters.unreachableTimeout (or whose Secret or profile is
// gone) is given up on with a *clusterGoneError.
func (c *controller) deleteIn(ctx context.Context, log *zap.Logger, owner *unstructured.Unstructured, inv applier.Inventory, name string) (applier.ChangeSet, error) {
	t, err := c.targets.get(ctx, name)
	var live []applier.Child
	if err == nil {
		live, err = t.kids.list(ctx, owner.GetUID(), inv.Kinds)
	}
	var beyond []applier.Child
	if err == nil {
		beyond, err = t.kids.listBeyondCollector(ctx, owner, inv)
	}
	if err != nil {
		return nil, c.unreachableFor(name, err)
	}
	for _, ch := range beyond {
		if !slices.ContainsFunc(live, func(l applier.Child) bool { return l.UID == ch.UID }) {
			live = append(live, ch)
		}
	}
	// Post-delete hooks run after the other children are gone; they go with the owner
	// (ownerReference) unless they delete themselves.
	live = slices.DeleteFunc(live, pendingPostDelete)
	changes, err := t.applier.DeleteAll(ctx, live)
	c.logChanges(log, t, owner, changes)
	if err != nil && t.remote {
		return changes, c.unreachableFor(name, err)
	}
	return changes, err
}

// unreachableFor turns the failure of a workload cluster into the owner's: unreachable for
// now, or, past clusters.unreachableTimeout (or with its Secret or profile gone), given up on.
func (c *controller) unreachableFor(name string, err error) error {
	cerr, unknown := errors.AsType[*clusterError](err)
	unknown = unknown && cerr.reason == ReasonClusterUnknown
	if name == config.LocalCluster || (!unknown && !unreachable(err)) {
		return err
	}
	d := c.targets.down(name)
	if unknown {
		d.fail(err)
	} else if !errors.As(err, new(*ClusterUnreachableError)) {
		err = c.targets.failed(name, err)
	}
	if down := d.downFor(); unknown || down >= c.watch.Clusters.UnreachableTimeout {
		return &clusterGoneError{cluster: name, down: down, err: err}
	}
	if !unreachable(err) {
		err = &ClusterUnreachableError{Cluster: name, Err: err}
	}
	return err
}

// clusterGoneError: a cluster's children could not be deleted and bosun gave up waiting.
type clusterGoneError struct {
	cluster string
	down    time.Duration
	err     error
}

func (e *clusterGoneError) Error() string {
	if errors.Is(e.err, ErrUnknownCluster) {
		return fmt.Sprintf("cluster %s, which is no longer configured (its children there are left as they are)", e.cluster)
	}
	return fmt.Sprintf("cluster %s, which has not answered for %s (clusters.unreachableTimeout; its children there are left as they are): %v", e.cluster, e.down.Round(time.Second), e.err)
}

func (e *clusterGoneError) Unwrap() error { return e.err }

// runDeleteHooksEverywhere runs the owner's delete hooks of event in each cluster it has
// children in; a cluster that does not answer is skipped (deleting there says so).
func (c *controller) runDeleteHooksEverywhere(ctx context.Context, log *zap.Logger, owner *unstructured.Unstructured, event string) (*unstructured.Unstructured, string) {
	names := applier.InventoryOf(owner).Clusters
	if len(names) == 0 {
		names = []string{config.LocalCluster}
	}
	for _, name := range names {
		t, err := c.targets.get(ctx, name)
		if err != nil {
			continue
		}
		var waiting string
		if owner, waiting = c.runDeleteHooks(ctx, t, log, owner, event); waiting != "" {
			return owner, clusterNote(t, waiting)
		}
	}
	return owner, ""
}

// hookView is the part of an owner's hook record about one cluster: a workload cluster's runs
// are recorded as "<cluster>/<run>", the local one's as they always were.
func hookView(record string, t *target) string {
	var out []string
	for _, tok := range applier.SplitList(record) {
		cl, run, remote := strings.Cut(tok, "/")
		switch {
		case !t.remote && !remote:
			out = append(out, tok)
		case t.remote && remote && cl == t.name:
			out = append(out, run)
		}
	}
	return strings.Join(out, ",")
}

// hookMerge replaces one cluster's part of an owner's hook record.
func hookMerge(record string, t *target, part string) string {
	var out []string
	for _, tok := range applier.SplitList(record) {
		cl, _, remote := strings.Cut(tok, "/")
		if (!t.remote && !remote) || (t.remote && remote && cl == t.name) {
			continue
		}
		out = append(out, tok)
	}
	for _, run := range applier.SplitList(part) {
		if t.remote {
			run = t.name + "/" + run
		}
		out = append(out, run)
	}
	if len(out) == 0 {
		return ""
	}
	// The local runs first, as they were before clusters: an owner of one cluster keeps its
	// record as it is.
	slices.SortStableFunc(out, func(a, b string) int {
		return boolCmp(strings.Contains(a, "/"), strings.Contains(b, "/"))
	})
	return strings.Join(out, ",")
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
