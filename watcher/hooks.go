package watcher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go.uber.org/zap"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/bosun-dev/bosun/applier"
)

// Helm's hook annotations, and the owner annotation where bosun remembers which hooks ran.
const (
	annotationHook             = "helm.sh/hook"
	annotationHookWeight       = "helm.sh/hook-weight"
	annotationHookDeletePolicy = "helm.sh/hook-delete-policy"
	// AnnotationHooks on an owner lists the hooks that completed (a short hash of each as
	// rendered) and, once an install's hooks all ran, the word "installed".
	AnnotationHooks = "bosun.dev/hooks"
	hooksInstalled  = "installed"
)

// A hook is one rendered object with a helm.sh/hook annotation that runs in this reconcile.
type hook struct {
	obj      *unstructured.Unstructured
	ref      applier.Ref
	hash     string
	weight   int
	policies []string
}

func (h hook) policy(p string) bool { return slices.Contains(h.policies, p) }

// hookPlan is what the hook policy makes of a render: the objects to keep applied (manifests,
// and hooks that ran before and stay), and the hooks to run before and after them.
type hookPlan struct {
	keep      []*unstructured.Unstructured
	pending   []*unstructured.Unstructured // hooks to run in this reconcile, each once
	pre, post []hook
	done      []string // runs ("pre:<hash>", "post:<hash>") of hooks that are still rendered
	installed bool
	hasHooks  bool
}

// planHooks applies bosun's hook policy (see README "Helm charts: hooks") to a render:
//   - test hooks never get here (the renderer drops them); pre/post-rollback and delete hooks
//     are never applied;
//   - until an owner's install completed, pre-install and post-install hooks run; after it,
//     pre-upgrade and post-upgrade hooks. A hook runs once per rendered version: when its
//     rendered content changes (an upgrade that changes it), it runs again;
//   - pre hooks are applied before everything else, in hook-weight order, each weight waited
//     for until Ready (a Job until it completed); post hooks after every other child is Ready;
//   - a hook that ran stays applied like any child unless its delete policy is hook-succeeded
//     (deleted once Ready); before-hook-creation (Helm's default) deletes the previous object
//     before a new version runs; hook-failed deletes a hook that failed.
func planHooks(record string, rendered []*unstructured.Unstructured) hookPlan {
	done := applier.SplitList(record)
	hp := hookPlan{installed: slices.Contains(done, hooksInstalled)}
	pre, post := "pre-install", "post-install"
	if hp.installed {
		pre, post = "pre-upgrade", "post-upgrade"
	}
	for _, obj := range rendered {
		events := applier.SplitList(obj.GetAnnotations()[annotationHook])
		if len(events) == 0 {
			hp.keep = append(hp.keep, obj)
			continue
		}
		hp.hasHooks = true
		h := newHook(obj)
		ranBefore := false
		for _, phase := range []string{"pre", "post"} {
			if slices.Contains(done, h.token(phase)) {
				ranBefore = true
				hp.done = append(hp.done, h.token(phase))
			}
		}
		pending := false
		if slices.Contains(events, pre) && !slices.Contains(done, h.token("pre")) {
			hp.pre, pending = append(hp.pre, h), true
		}
		if slices.Contains(events, post) && !slices.Contains(done, h.token("post")) {
			hp.post, pending = append(hp.post, h), true
		}
		if pending {
			hp.pending = append(hp.pending, obj)
		} else if ranBefore && !h.policy("hook-succeeded") {
			hp.keep = append(hp.keep, obj)
		}
	}
	sortByWeight(hp.pre)
	sortByWeight(hp.post)
	return hp
}

// newHook reads a rendered hook's weight and delete policies (Helm's default:
// before-hook-creation).
func newHook(obj *unstructured.Unstructured) hook {
	h := hook{obj: obj, hash: hookHash(obj), policies: applier.SplitList(obj.GetAnnotations()[annotationHookDeletePolicy])}
	h.weight, _ = strconv.Atoi(obj.GetAnnotations()[annotationHookWeight])
	if len(h.policies) == 0 {
		h.policies = []string{"before-hook-creation"}
	}
	return h
}

// sortByWeight orders hooks by helm.sh/hook-weight, keeping Helm's order within a weight.
func sortByWeight(hs []hook) {
	sort.SliceStable(hs, func(a, b int) bool { return hs[a].weight < hs[b].weight })
}

// token is how a hook's run in a phase ("pre" or "post") is recorded.
func (h hook) token(phase string) string { return phase + ":" + h.hash }

// objects are every object the render asks for now: those to keep and the pending hooks.
func (hp hookPlan) objects() []*unstructured.Unstructured {
	return append(slices.Clone(hp.keep), hp.pending...)
}

// record is the AnnotationHooks value once the runs (tokens) happened: the runs recorded
// before that are still rendered, the new ones, and "installed" when installed.
func (hp hookPlan) record(runs []string, installed bool) string {
	done := append(slices.Clone(hp.done), runs...)
	slices.Sort(done)
	done = slices.Compact(done)
	if installed {
		done = append(done, hooksInstalled)
	}
	return strings.Join(done, ",")
}

// tokens are the records of the hooks' runs in a phase.
func tokens(hooks []hook, phase string) []string {
	out := make([]string, len(hooks))
	for i, h := range hooks {
		out[i] = h.token(phase)
	}
	return out
}

func hookHash(obj *unstructured.Unstructured) string {
	j, _ := json.Marshal(obj.Object) // a decoded object always marshals
	sum := sha256.Sum256(j)
	return hex.EncodeToString(sum[:6])
}

// runHooks runs the pending hooks of one phase weight by weight, as Helm runs an event's
// hooks: a previous version of a hook is deleted (before-hook-creation), the hooks of one
// weight are applied, and the next weight waits until they are all Ready. A reconcile that
// comes back finds the weights done so far still Ready and goes on from there. Once every
// weight is Ready, the hooks with hook-succeeded are deleted and all count as ran; until then
// it returns a message saying what it waits for. A failed hook is an error (and deleted with
// hook-failed).
func (c *controller) runHooks(ctx context.Context, t *target, log *zap.Logger, full *applier.Plan, hooks []hook, phase string) (ran []hook, waiting string, err error) {
	all := hooks
	for len(hooks) > 0 {
		w := hooks[0].weight
		n := 0
		for n < len(hooks) && hooks[n].weight == w {
			n++
		}
		group := hooks[:n]
		hooks = hooks[n:]
		if waiting, err := c.runWeight(ctx, t, log, full, group, phase); waiting != "" || err != nil {
			return nil, waiting, err
		}
	}
	sub := subPlan(full, all)
	live, err := t.kids.list(ctx, full.Owner.GetUID(), sub.Inventory.Kinds)
	if err != nil {
		return nil, "", err
	}
	liveBy := byRef(live)
	var del []applier.Child
	for _, h := range all {
		if ch, ok := liveBy[h.ref]; ok && h.policy("hook-succeeded") {
			del = append(del, ch)
		}
	}
	if len(del) > 0 {
		changes, err := t.applier.DeleteAll(ctx, del)
		c.logChanges(log, t, full.Owner, changes)
		if err != nil {
			return nil, "", err
		}
	}
	return all, "", nil
}

// runWeight applies the hooks of one weight and says what it waits for, if anything.
func (c *controller) runWeight(ctx context.Context, t *target, log *zap.Logger, full *applier.Plan, group []hook, phase string) (waiting string, err error) {
	sub := subPlan(full, group)
	live, err := t.kids.list(ctx, full.Owner.GetUID(), sub.Inventory.Kinds)
	if err != nil {
		return "", err
	}
	liveBy := byRef(live)
	// A previous version of a hook goes first; the current one, applied by an earlier
	// reconcile of this phase, stays.
	var old []applier.Child
	for _, o := range sub.Objects {
		if ch, ok := liveBy[o.Ref]; ok && ch.Annotations[applier.AnnotationConfigHash] != o.Hash {
			old = append(old, ch)
			delete(liveBy, o.Ref)
		}
	}
	if len(old) > 0 {
		changes, err := t.applier.DeleteAll(ctx, old)
		c.logChanges(log, t, full.Owner, changes)
		if err != nil {
			return "", err
		}
	}
	// A hook of this very rendering that completed and went (hookgone.go) ran: it is not
	// applied again, and counts as Ready.
	gone := map[applier.Ref]bool{}
	for _, o := range sub.Objects {
		if _, live := liveBy[o.Ref]; !live && c.completedGone.ran(full.Owner.GetUID(), o.Ref, o.Hash) {
			gone[o.Ref] = true
		}
	}
	apply := sub
	if len(gone) > 0 {
		cp := *sub
		cp.Objects = slices.DeleteFunc(slices.Clone(sub.Objects), func(o applier.Object) bool { return gone[o.Ref] })
		apply = &cp
	}
	changes, err := t.applier.Apply(ctx, apply, liveBy)
	c.logChanges(log, t, full.Owner, changes)
	if err != nil {
		return "", fmt.Errorf("%s hook: %w", phase, err)
	}
	if live, err = t.kids.list(ctx, full.Owner.GetUID(), sub.Inventory.Kinds); err != nil {
		return "", err
	}
	liveBy = byRef(live)
	if failed := failedHooks(sub, liveBy); len(failed) > 0 {
		var del []applier.Child
		for _, h := range group {
			if h.policy("hook-failed") && slices.Contains(failed, h.ref) {
				del = append(del, liveBy[h.ref])
			}
		}
		if len(del) > 0 {
			changes, _ := t.applier.DeleteAll(ctx, del) // the failure is what gets reported
			c.logChanges(log, t, full.Owner, changes)
		}
		return "", &hookError{phase: phase, refs: failed}
	}
	answered := answeredHealth(changes)
	for ref := range gone {
		answered[ref] = childHealth{status: status.CurrentStatus, message: "completed, then deleted"}
	}
	if ready, msg := checkHealth(sub, liveBy, answered); !ready {
		return fmt.Sprintf("%s hook %s", phase, msg), nil
	}
	return "", nil
}

// hookError is a hook that failed (a Job that did not complete); the owner reports it and
// backs off until the hook or the owner changes.
type hookError struct {
	phase string
	refs  []applier.Ref
}

func (e *hookError) Error() string {
	names := make([]string, len(e.refs))
	for i, r := range e.refs {
		names[i] = r.String()
	}
	return fmt.Sprintf("%s hook failed: %s", e.phase, strings.Join(names, ", "))
}

// resolveHooks fills in the refs of the pending hooks from the plan made of hp.objects().
func resolveHooks(full *applier.Plan, hp *hookPlan) {
	for _, hs := range [][]hook{hp.pre, hp.post} {
		for i := range hs {
			for _, o := range full.Objects {
				if o.Object.GetName() == hs[i].obj.GetName() && o.Object.GetKind() == hs[i].obj.GetKind() &&
					(hs[i].obj.GetNamespace() == "" || hs[i].obj.GetNamespace() == o.Namespace) {
					hs[i].ref = o.Ref
				}
			}
		}
	}
}

// subPlan is the part of full that holds the hooks.
func subPlan(full *applier.Plan, hooks []hook) *applier.Plan {
	sub := *full
	sub.Objects = slices.DeleteFunc(slices.Clone(full.Objects), func(o applier.Object) bool {
		return !slices.ContainsFunc(hooks, func(h hook) bool { return h.ref == o.Ref })
	})
	sub.Inventory = applier.Inventory{}
	for _, o := range sub.Objects {
		sub.Inventory.Kinds = append(sub.Inventory.Kinds, o.GroupKind())
	}
	return &sub
}

// without is full less the hooks, for the apply of everything else.
func without(full *applier.Plan, hooks []hook) *applier.Plan {
	if len(hooks) == 0 {
		return full // the common case: no copy per reconcile
	}
	sub := *full
	sub.Objects = slices.DeleteFunc(slices.Clone(full.Objects), func(o applier.Object) bool {
		return slices.ContainsFunc(hooks, func(h hook) bool { return h.ref == o.Ref })
	})
	return &sub
}

// failedHooks lists the hooks whose health says they failed.
func failedHooks(p *applier.Plan, live map[applier.Ref]applier.Child) []applier.Ref {
	var out []applier.Ref
	for _, o := range p.Objects {
		if c, ok := live[o.Ref]; ok && c.Annotations[healthKey] == "Failed" {
			out = append(out, o.Ref)
		}
	}
	return out
}
