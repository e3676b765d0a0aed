package cli

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/internal/kinds"
)

// notRead is the health of a child in a workload cluster: get and explain read only the hub,
// so such children are shown as the owner recorded them.
const notRead status.Status = "NotRead"

// recordedChild is one entry of an owner's status.children: what its templates rendered last.
type recordedChild struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Cluster   string `json:"cluster,omitempty"`
}

func (c recordedChild) ref() applier.Ref {
	return applier.Ref{Group: c.Group, Kind: c.Kind, Namespace: c.Namespace, Name: c.Name}
}

// remote: the child is in a workload cluster, not in the hub.
func (c recordedChild) remote() bool { return c.Cluster != "" && c.Cluster != config.LocalCluster }

// recordedChildren reads the owner's status.children; ok is false when it has none recorded
// (bosun has not rendered it, or the watch writes no status).
func recordedChildren(owner *unstructured.Unstructured) (out []recordedChild, ok bool) {
	raw, ok, _ := unstructured.NestedSlice(owner.Object, "status", "children")
	if !ok {
		return nil, false
	}
	for _, item := range raw {
		m, _ := item.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		out = append(out, recordedChild{Group: str("group"), Kind: str("kind"), Namespace: str("namespace"), Name: str("name"), Cluster: str("cluster")})
	}
	return out, true
}

// childHealth is a child's kstatus, as bosun judges it, and whose child it is.
type childHealth struct {
	Status   status.Status
	Message  string
	OwnerUID types.UID
}

// healthOf computes a child's kstatus with bosun's rule for Jobs (a Job is Current only once
// it completed), as the watcher does (watcher/health.go).
func healthOf(u *unstructured.Unstructured) (status.Status, string) {
	res, err := status.Compute(u)
	if err != nil {
		return status.UnknownStatus, "compute status: " + err.Error()
	}
	if u.GetKind() != "Job" || u.GroupVersionKind().Group != "batch" || res.Status != status.CurrentStatus {
		return res.Status, res.Message
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] != "True" {
			continue
		}
		switch m["type"] {
		case "Complete", "SuccessCriteriaMet":
			return status.CurrentStatus, "Job completed"
		case "Failed", "FailureTarget":
			return status.FailedStatus, fmt.Sprintf("Job failed: %v", m["message"])
		}
	}
	return status.InProgressStatus, "Job running: " + res.Message
}

// childNeeds are the kinds to read and, per kind, the namespaces to read them in;
// metav1.NamespaceAll reads all namespaces at once.
type childNeeds map[schema.GroupKind]map[string]bool

func (n childNeeds) add(gk schema.GroupKind, namespace string) {
	if n[gk] == nil {
		n[gk] = map[string]bool{}
	}
	n[gk][namespace] = true
}

// addRecorded adds the owner's recorded children in the hub; allNamespaces reads each kind in
// every namespace at once (-A), so that many owners cost no more than one.
func (n childNeeds) addRecorded(children []recordedChild, allNamespaces bool) {
	for _, c := range children {
		if c.remote() {
			continue
		}
		ns := c.Namespace
		if allNamespaces {
			ns = metav1.NamespaceAll
		}
		n.add(schema.GroupKind{Group: c.Group, Kind: c.Kind}, ns)
	}
}

// liveChildren are the children read from the hub, by ref, and the kinds that could not be
// read, with why.
type liveChildren struct {
	found  map[applier.Ref]childHealth
	failed map[schema.GroupKind]error
}

// childSelector selects every child bosun manages, of any owner.
const childSelector = applier.LabelManagedBy + "=" + applier.ManagedByValue + "," + applier.LabelOwnerUID

// ownerChildSelector selects the children of one owner.
func ownerChildSelector(uid types.UID) string {
	return applier.LabelManagedBy + "=" + applier.ManagedByValue + "," + applier.LabelOwnerUID + "=" + string(uid)
}

// readChildren lists, for every kind of needs, the objects that match selector in each
// namespace it names (a cluster-scoped kind once), and computes their health.
//
// What it costs: one list request (paged by 500) per kind and namespace — or per kind, with
// metav1.NamespaceAll — however many owners the children belong to. Kinds whose existence is
// their health (ConfigMaps, Secrets, RBAC, ...: internal/kinds) are read metadata-only, so a
// Secret's data never travels; the others in full, as kstatus reads their status. A kind that
// cannot be read (not served, forbidden) is recorded in failed, not returned as an error: the
// owners' own state is still worth showing.
func readChildren(ctx context.Context, c *readClients, needs childNeeds, selector string) liveChildren {
	live := liveChildren{found: map[applier.Ref]childHealth{}, failed: map[schema.GroupKind]error{}}
	gks := make([]schema.GroupKind, 0, len(needs))
	for gk := range needs {
		gks = append(gks, gk)
	}
	sort.Slice(gks, func(a, b int) bool { return gks[a].String() < gks[b].String() })
	for _, gk := range gks {
		mapping, err := c.mapper.RESTMapping(gk)
		if err != nil {
			live.failed[gk] = err
			continue
		}
		var namespaces []string
		switch {
		case mapping.Scope.Name() != meta.RESTScopeNameNamespace, needs[gk][metav1.NamespaceAll]:
			namespaces = []string{metav1.NamespaceAll}
		default:
			for ns := range needs[gk] {
				namespaces = append(namespaces, ns)
			}
			sort.Strings(namespaces)
		}
		for _, ns := range namespaces {
			if err := live.list(ctx, c, gk, mapping.Resource, ns, selector); err != nil {
				live.failed[gk] = err
				break
			}
		}
	}
	return live
}

// list reads one kind in one namespace into found.
func (l liveChildren) list(ctx context.Context, c *readClients, gk schema.GroupKind, gvr schema.GroupVersionResource, ns, selector string) error {
	existence := false
	if k, ok := kinds.Lookup(gk); ok && k.ExistenceIsHealth {
		existence = true
	}
	opts := metav1.ListOptions{LabelSelector: selector, Limit: 500}
	for {
		var next string
		if existence {
			list, err := c.metadata.Resource(gvr).Namespace(ns).List(ctx, opts)
			if err != nil {
				return fmt.Errorf("list %s: %w", gvr.Resource, err)
			}
			for _, item := range list.Items {
				h := childHealth{Status: status.CurrentStatus, Message: "Resource is always ready", OwnerUID: types.UID(item.Labels[applier.LabelOwnerUID])}
				if item.DeletionTimestamp != nil {
					h.Status, h.Message = status.TerminatingStatus, "Resource scheduled for deletion"
				}
				l.found[applier.Ref{Group: gk.Group, Kind: gk.Kind, Namespace: item.Namespace, Name: item.Name}] = h
			}
			next = list.Continue
		} else {
			list, err := c.dynamic.Resource(gvr).Namespace(ns).List(ctx, opts)
			if err != nil {
				return fmt.Errorf("list %s: %w", gvr.Resource, err)
			}
			for i := range list.Items {
				item := &list.Items[i]
				st, msg := healthOf(item)
				l.found[applier.Ref{Group: gk.Group, Kind: gk.Kind, Namespace: item.GetNamespace(), Name: item.GetName()}] = childHealth{
					Status: st, Message: msg, OwnerUID: types.UID(item.GetLabels()[applier.LabelOwnerUID])}
			}
			next = list.GetContinue()
		}
		if next == "" {
			return nil
		}
		opts.Continue = next
	}
}

// notes say which kinds could not be read, in order.
func (l liveChildren) notes() []string {
	var out []string
	for gk, err := range l.failed {
		out = append(out, fmt.Sprintf("children of kind %s: %v", gk, err))
	}
	sort.Strings(out)
	return out
}

// health is the health of one recorded child of the owner.
func (l liveChildren) health(c recordedChild, owner types.UID) childHealth {
	gk := schema.GroupKind{Group: c.Group, Kind: c.Kind}
	if c.remote() {
		return childHealth{Status: notRead, Message: "in workload cluster " + c.Cluster + ": not read (only the hub is)"}
	}
	if err := l.failed[gk]; err != nil {
		return childHealth{Status: status.UnknownStatus, Message: "cannot read: " + err.Error()}
	}
	h, ok := l.found[c.ref()]
	switch {
	case !ok:
		return childHealth{Status: status.NotFoundStatus, Message: "not found"}
	case h.OwnerUID != owner:
		return childHealth{Status: status.NotFoundStatus, Message: fmt.Sprintf("not this owner's: it carries %s=%s", applier.LabelOwnerUID, h.OwnerUID)}
	}
	return h
}

// childCounts sums up an owner's children for get's CHILDREN column.
type childCounts struct {
	// Ready counts the children in the hub that exist and are Current.
	Ready int `json:"ready"`
	// Total counts every recorded child, Remote those in workload clusters (not read).
	Total  int `json:"total"`
	Remote int `json:"remote"`
	// Recorded is false when the owner records no children at all (never rendered).
	Recorded bool `json:"recorded"`
}

// countChildren counts the owner's recorded children and how many of those in the hub are
// ready.
func countChildren(owner *unstructured.Unstructured, live liveChildren) childCounts {
	children, ok := recordedChildren(owner)
	n := childCounts{Recorded: ok, Total: len(children)}
	for _, c := range children {
		if c.remote() {
			n.Remote++
			continue
		}
		if live.health(c, owner.GetUID()).Status == status.CurrentStatus {
			n.Ready++
		}
	}
	return n
}

// String is the CHILDREN column: ready/total, "+N remote" for children not read, "-" when
// nothing is recorded.
func (n childCounts) String() string {
	if !n.Recorded {
		return "-"
	}
	s := fmt.Sprintf("%d/%d", n.Ready, n.Total)
	if n.Remote > 0 {
		s += fmt.Sprintf(" (%d remote)", n.Remote)
	}
	return s
}
