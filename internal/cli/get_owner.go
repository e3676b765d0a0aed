package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/config"
	"github.com/bosun-dev/bosun/renderer"
	"github.com/bosun-dev/bosun/watcher"
)

// Reasons get and explain derive from an owner beside those bosun writes (watcher/reasons.go):
// its status cannot say that it is being deleted, that it describes an older generation, or
// that there is none.
const (
	reasonDeleting      = "Deleting"
	reasonStale         = "Stale"
	reasonNotReconciled = "NotReconciled"
)

// conditions reads the owner's status.conditions.
func conditions(owner *unstructured.Unstructured) []metav1.Condition {
	raw, ok, _ := unstructured.NestedSlice(owner.Object, "status", "conditions")
	if !ok {
		return nil
	}
	var cs []metav1.Condition
	if b, err := json.Marshal(raw); err != nil || json.Unmarshal(b, &cs) != nil {
		return nil
	}
	return cs
}

// readiness is what an owner's READY and REASON say: its Ready condition, unless the owner is
// being deleted, the condition describes an older generation of it, or there is none.
type readiness struct {
	Status  metav1.ConditionStatus
	Reason  string
	Message string
}

func readinessOf(owner *unstructured.Unstructured) readiness {
	if ts := owner.GetDeletionTimestamp(); ts != nil {
		msg := "deletion requested: bosun deletes its children, then removes its finalizer"
		if fin := owner.GetFinalizers(); len(fin) > 0 {
			msg += "; waiting for finalizers " + strings.Join(fin, ", ")
		}
		return readiness{Status: metav1.ConditionFalse, Reason: reasonDeleting, Message: msg}
	}
	conds := conditions(owner)
	i := slices.IndexFunc(conds, func(c metav1.Condition) bool { return c.Type == watcher.ConditionReady })
	if i < 0 {
		return readiness{Status: metav1.ConditionUnknown, Reason: reasonNotReconciled,
			Message: "no Ready condition: bosun has not reconciled it yet, or the watch writes no status (status.enabled)"}
	}
	c := conds[i]
	if g := owner.GetGeneration(); c.ObservedGeneration != 0 && c.ObservedGeneration < g {
		return readiness{Status: metav1.ConditionUnknown, Reason: reasonStale,
			Message: fmt.Sprintf("generation %d not reconciled yet; Ready was %s (%s) for generation %d", g, c.Status, c.Reason, c.ObservedGeneration)}
	}
	return readiness{Status: c.Status, Reason: c.Reason, Message: c.Message}
}

// watchVersion is what a watch renders with now, to compare with what rendered an owner.
type watchVersion struct {
	// hash is the template hash bosun records (the first 16 hex digits of the source's).
	hash string
	// charts is the watch's charts; nil for templates.
	charts *renderer.ChartSet
}

// currentVersion is the version of the watch's templates or charts, or nil (with why) when
// they do not load.
func currentVersion(w *config.Watch) (*watchVersion, error) {
	src, err := newSource(w, capabilities{})
	if err != nil {
		return nil, err
	}
	v := &watchVersion{hash: recordedHash(src.Hash())}
	v.charts, _ = src.(*renderer.ChartSet)
	return v, nil
}

// recordedHash is the part of a source's hash bosun records on owners (watcher/rollout.go).
func recordedHash(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

// shortHash is a template hash as get shows it.
func shortHash(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}

// ownerVersion is which template version rendered an owner last.
type ownerVersion struct {
	// Text is the VERSION column: the chart (name-version) or the short template hash, with
	// " (pending)" when a newer version is still to reach the owner; "-" when never rendered.
	Text string
	// Hash is the recorded template hash, Current the watch's (when known).
	Hash, Current string
	// Pending: the owner was rendered by another version than the watch's current one.
	Pending bool
}

func versionOf(owner *unstructured.Unstructured, cur *watchVersion) ownerVersion {
	v := ownerVersion{Hash: owner.GetAnnotations()[applier.AnnotationTemplateHash]}
	if cur != nil {
		v.Current = cur.hash
	}
	switch {
	case v.Hash == "":
		v.Text = "-"
	case cur == nil:
		v.Text = shortHash(v.Hash)
	case v.Hash != cur.hash:
		v.Pending = true
		v.Text = shortHash(v.Hash) + " (pending)"
	case cur.charts != nil:
		v.Text = shortHash(v.Hash)
		if ch, err := cur.charts.For(owner); err == nil {
			v.Text = ch.Metadata().Name + "-" + ch.Metadata().Version
		}
	default:
		v.Text = shortHash(v.Hash)
	}
	return v
}

// paused reports the bosun.dev/paused annotation.
func paused(owner *unstructured.Unstructured) bool {
	return owner.GetAnnotations()[watcher.AnnotationPaused] == "true"
}

// covers reports whether the watch reconciles the owner: its namespaces and selector.
func covers(w *config.Watch, owner *unstructured.Unstructured) bool {
	if ns := owner.GetNamespace(); ns != "" && len(w.Namespaces) > 0 && !slices.Contains(w.Namespaces, ns) {
		return false
	}
	return w.Selector == nil || w.Selector.Matches(labels.Set(owner.GetLabels()))
}
