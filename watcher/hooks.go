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
	pre, post []hook
	done      []string // hashes of completed hooks that are still rendered
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
	done := splitList(record)
	hp := hookPlan{installed: slices.Contains(done, hooksInstalled)}
	pre, post := "pre-install", "post-install"
	if hp.installed {
		pre, post = "pre-upgrade", "post-upgrade"
	}
	for _, obj := range rendered {
		events := splitList(obj.GetAnnotations()[annotationHook])
		if len(events) == 0 {
			hp.keep = append(hp.keep, obj)
			continue
		}
		hp.hasHooks = true
		h := hook{obj: obj, hash: hookHash(obj), policies: splitList(obj.GetAnnotations()[annotationHookDeletePolicy])}
		h.weight, _ = strconv.Atoi(obj.GetAnnotations()[annotationHookWeight])
		if len(h.policies) == 0 {
			h.policies = []string{"before-hook-creation"}
		}
		if slices.Contains(done, h.hash) {
			hp.done = append(hp.done, h.hash)
			if !h.policy("hook-succeeded") {
				hp.keep = append(hp.keep, obj)
			}
			continue
		}
		switch {
		case slices.Contains(events, pre):
			hp.pre = append(hp.pre, h)
		case slices.Contains(events, post):
			hp.post = append(hp.post, h)
		}
	}
	byWeight := func(hs []hook) {
		sort.SliceStable(hs, func(a, b int) bool { return hs[a].weight < hs[b].weight })
	}
	byWeight(hp.pre)
	byWeight(hp.post)
	return hp
}

// objects are every object the render asks for now: those to keep and the pending hooks.
func (hp hookPlan) objects() []*unstructured.Unstructured {
	out := slices.Clone(hp.keep)
	for _, h := range append(slices.Clone(hp.pre), hp.post...) {
		out = append(out, h.obj)
	}
	return out
}

// record is the AnnotationHooks value once the hooks in ran: the done ones, ran, and
// "installed" when installed.
func (hp hookPlan) record(ran []hook, installed bool) string {
	done := slices.Clone(hp.done)
	for _, h := range ran {
		done = append(done, h.hash)
	}
	slices.Sort(done)
	done = slices.Compact(done)
	if installed {
		done = append(done, hooksInstalled)
	}
	return strings.Join(done, ",")
}

func hookHash(obj *unstructured.Unstructured) string {
	j, _ := json.Marshal(obj.Object) // a decoded object always marshals
	sum := sha256.Sum256(j)
	return hex.EncodeToString(sum[:6])
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// runHooks runs pending hooks weight by weight: a previous object of a hook is deleted
// (before-hook-creation), the hooks of one weight are applied, and the next weight waits until
// they are all Ready. It returns the hooks that completed, and a message when it must wait.
// Hooks that completed with hook-succeeded are deleted; a failed hook is an error (and deleted
// with hook-failed).
func (c *controller) runHooks(ctx context.Context, log *zap.Logger, full *applier.Plan, hooks []hook, phase string) (ran []hook, waiting string, err error) {
	for len(hooks) > 0 {
		w := hooks[0].weight
		n := 0
		for n < len(hooks) && hooks[n].weight == w {
			n++
		}
		group := hooks[:n]
		hooks = hooks[n:]
		sub := subPlan(full, group)
		live, err := c.kids.list(ctx, full.Owner.GetUID(), sub.Inventory.Kinds)
		if err != nil {
			return ran, "", err
		}
		liveBy := byRef(live)
		// A previous version of a hook (not this one: it would be done) goes first.
		var old []applier.Child
		for _, o := range sub.Objects {
			if ch, ok := liveBy[o.Ref]; ok && ch.Annotations[applier.AnnotationConfigHash] != o.Hash {
				old = append(old, ch)
				delete(liveBy, o.Ref)
			}
		}
		if len(old) > 0 {
			changes, err := c.opts.Applier.DeleteAll(ctx, old)
			c.logChanges(log, full.Owner, changes)
			if err != nil {
				return ran, "", err
			}
		}
		changes, err := c.opts.Applier.Apply(ctx, sub, liveBy)
		c.logChanges(log, full.Owner, changes)
		if err != nil {
			return ran, "", fmt.Errorf("%s hook: %w", phase, err)
		}
		changed := map[applier.Ref]bool{}
		for _, ch := range changes {
			if ch.Action != applier.Unchanged && ch.Action != applier.Skipped {
				changed[ch.Ref] = true
			}
		}
		if live, err = c.kids.list(ctx, full.Owner.GetUID(), sub.Inventory.Kinds); err != nil {
			return ran, "", err
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
				_, _ = c.opts.Applier.DeleteAll(ctx, del) // the failure is what gets reported
			}
			return ran, "", &hookError{phase: phase, refs: failed}
		}
		if ready, msg := checkHealth(sub, liveBy, changed); !ready {
			return ran, fmt.Sprintf("%s hook %s", phase, msg), nil
		}
		var del []applier.Child
		for _, h := range group {
			if h.policy("hook-succeeded") {
				del = append(del, liveBy[h.ref])
			}
		}
		if len(del) > 0 {
			changes, err := c.opts.Applier.DeleteAll(ctx, del)
			c.logChanges(log, full.Owner, changes)
			if err != nil {
				return ran, "", err
			}
		}
		ran = append(ran, group...)
	}
	return ran, "", nil
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
