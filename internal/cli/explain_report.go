package cli

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/watcher"
)

// explanation is what explain found about one owner; its JSON form is the schema of -o json
// and -o yaml, documented in docs/get-and-explain.md: add fields, never rename or remove them.
type explanation struct {
	// Watch is the watch of --config that covers the owner ("" without --config).
	Watch      string `json:"watch,omitempty"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
	Created    string `json:"created"`
	// Ready, Reason and Message are as in get; Hint says what the reason means and what
	// clears it.
	Ready              string             `json:"ready"`
	Reason             string             `json:"reason"`
	Message            string             `json:"message"`
	Hint               string             `json:"hint,omitempty"`
	Generation         int64              `json:"generation"`
	ObservedGeneration int64              `json:"observedGeneration"`
	Conditions         []explainCondition `json:"conditions"`
	Version            explainVersion     `json:"version"`
	Paused             bool               `json:"paused"`
	// Finalizer: the owner carries bosun.dev/cleanup.
	Finalizer bool             `json:"finalizer"`
	Deletion  *explainDeletion `json:"deletion,omitempty"`
	Instance  string           `json:"instance,omitempty"`
	// Clusters are the clusters its children may be in (bosun.dev/clusters; local when the
	// inventory names none).
	Clusters  []string         `json:"clusters"`
	Inventory explainInventory `json:"inventory"`
	Hooks     explainHooks     `json:"hooks"`
	LastPrune *explainPrune    `json:"lastPrune,omitempty"`
	Children  []explainChild   `json:"children"`
	// LastBosunEvent is the newest Event bosun recorded on the owner, what is left in the
	// cluster of its last reconciles: bosun records one when an owner's state changes (a
	// failure, a recovery, a prune, ...), not per reconcile, and not what triggered it.
	LastBosunEvent *explainEvent `json:"lastBosunEvent,omitempty"`
	// Events are the newest Events about the owner, at most 10, newest first.
	Events []explainEvent `json:"events"`
	// Notes are what explain could not read or tell.
	Notes []string `json:"notes,omitempty"`
}

type explainCondition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
	LastTransitionTime string `json:"lastTransitionTime"`
	ObservedGeneration int64  `json:"observedGeneration"`

	since time.Time
}

type explainVersion struct {
	// Text is get's VERSION column.
	Text string `json:"text"`
	// TemplateHash is what rendered the owner last (bosun.dev/template-hash), Current the
	// watch's templates' (with --config, when they load).
	TemplateHash   string `json:"templateHash,omitempty"`
	Current        string `json:"current,omitempty"`
	PendingRollout bool   `json:"pendingRollout"`
}

type explainDeletion struct {
	Requested  string   `json:"requested"`
	Finalizers []string `json:"finalizers"`

	at time.Time
}

type explainInventory struct {
	Kinds      []string `json:"kinds"`
	Namespaces []string `json:"namespaces,omitempty"`
}

type explainHooks struct {
	// Installed: the install hooks all ran; later renders run the upgrade hooks.
	Installed bool `json:"installed"`
	// Runs are the hook runs recorded ("pre:<hash>", "post:<hash>" of each hook as rendered).
	Runs []string `json:"runs"`
}

type explainPrune struct {
	Time         string   `json:"time"`
	Children     int      `json:"children"`
	KindsRemoved []string `json:"kindsRemoved,omitempty"`

	at time.Time
}

type explainChild struct {
	recordedChild
	// Health is kstatus's (Current, InProgress, Failed, Terminating, NotFound, Unknown) or
	// NotRead for a child in a workload cluster.
	Health  string `json:"health"`
	Message string `json:"message"`
	// Recorded: in status.children; false for a child found with the owner's UID only.
	Recorded bool `json:"recorded"`
}

// newExplanation reads what the owner itself records.
func newExplanation(owner *unstructured.Unstructured) *explanation {
	ann := owner.GetAnnotations()
	r := readinessOf(owner)
	observed, _, _ := unstructured.NestedInt64(owner.Object, "status", "observedGeneration")
	x := &explanation{
		APIVersion: owner.GetAPIVersion(), Kind: owner.GetKind(), Namespace: owner.GetNamespace(), Name: owner.GetName(),
		UID: string(owner.GetUID()), Created: owner.GetCreationTimestamp().UTC().Format(time.RFC3339),
		Ready: string(r.Status), Reason: r.Reason, Message: r.Message, Hint: reasonHints[r.Reason],
		Generation: owner.GetGeneration(), ObservedGeneration: observed,
		Conditions: []explainCondition{},
		Version:    explainVersion{Text: versionOf(owner, nil).Text, TemplateHash: ann[applier.AnnotationTemplateHash]},
		Paused:     paused(owner),
		Finalizer:  slices.Contains(owner.GetFinalizers(), applier.Finalizer),
		Instance:   ann[applier.AnnotationInstance],
		Events:     []explainEvent{},
	}
	for _, c := range conditions(owner) {
		x.Conditions = append(x.Conditions, explainCondition{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message,
			LastTransitionTime: c.LastTransitionTime.UTC().Format(time.RFC3339), ObservedGeneration: c.ObservedGeneration, since: c.LastTransitionTime.Time})
	}
	if ts := owner.GetDeletionTimestamp(); ts != nil {
		x.Deletion = &explainDeletion{Requested: ts.UTC().Format(time.RFC3339), Finalizers: append([]string{}, owner.GetFinalizers()...), at: ts.Time}
	}
	inv := applier.InventoryOf(owner)
	x.Clusters = append([]string{}, inv.Clusters...)
	x.Inventory = explainInventory{Kinds: []string{}, Namespaces: inv.Namespaces}
	for _, gk := range inv.Kinds {
		x.Inventory.Kinds = append(x.Inventory.Kinds, gk.String())
	}
	x.Hooks.Runs = []string{}
	for _, h := range applier.SplitList(ann[watcher.AnnotationHooks]) {
		if h == "installed" {
			x.Hooks.Installed = true
			continue
		}
		x.Hooks.Runs = append(x.Hooks.Runs, h)
	}
	x.LastPrune = parsePrune(ann[watcher.AnnotationPruned])
	return x
}

// parsePrune reads the bosun.dev/pruned record: "<unix time>:<children>:<kinds removed>".
func parsePrune(s string) *explainPrune {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return nil
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	n, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return nil
	}
	t := time.Unix(at, 0).UTC()
	return &explainPrune{Time: t.Format(time.RFC3339), Children: n, KindsRemoved: applier.SplitList(parts[2]), at: t}
}

// reasonHints say, per reason of the Ready condition, what it means and what clears it
// (docs/status-and-events.md has the same table).
var reasonHints = map[string]string{
	watcher.ReasonProgressing:        "applied; waiting for the children to become healthy (see Children)",
	watcher.ReasonRenderFailed:       "a template failed for this owner (fail, required, a missing key), ran past renderTimeout or hit a size limit; clears when the owner or the templates change",
	watcher.ReasonInvalidOutput:      "the templates' output is not YAML, or a document lacks apiVersion, kind or metadata.name; clears when the owner or the templates change",
	watcher.ReasonUnknownKind:        "a rendered kind is not served (its CRD is missing); bosun retries every 15 s or so",
	watcher.ReasonRefused:            "the watch's children policy forbids a child, or it would overwrite an object bosun does not manage; clears when the owner, templates or policy change",
	watcher.ReasonRejected:           "the API server rejected a child as invalid; clears when the cause is fixed",
	watcher.ReasonForbidden:          "bosun's RBAC does not allow a child (bosun rbac prints what it needs); clears when the RBAC is fixed",
	watcher.ReasonImmutable:          "the change needs a field that cannot change; undo it, or let bosun re-create with children.recreateOnImmutable",
	watcher.ReasonPruneRefused:       "the prune would exceed the watch's safety limits; raise them, or undo the change",
	watcher.ReasonHookFailed:         "a chart hook failed (a hook Job failed); clears when the owner or the chart changes",
	watcher.ReasonPaused:             "reconciles are paused by the bosun.dev/paused annotation; remove it to resume",
	watcher.ReasonApplyFailed:        "applying failed (network, timeouts); bosun retries with backoff",
	watcher.ReasonClusterUnreachable: "a workload cluster of the owner does not answer or refuses bosun's credentials; bosun retries",
	watcher.ReasonClusterNotAllowed:  "the owner names a cluster its watch does not let it use",
	watcher.ReasonClusterUnknown:     "the owner names a cluster that is not configured",
	reasonDeleting:                   "bosun runs the delete hooks, deletes the children, then removes its finalizer; a workload cluster that does not answer holds it up to clusters.unreachableTimeout",
	reasonStale:                      "bosun has not reconciled the latest change yet: is it running, and does a watch cover this owner?",
	reasonNotReconciled:              "is bosun running, and does a watch cover this owner? (a watch with status.enabled false writes no conditions)",
}
