// Package watcher runs bosun's control loops: for each watched resource type, informers feed a
// rate-limited work queue and workers reconcile one owner at a time.
//
// The flow reads top to bottom: an informer callback enqueues a key (never the object, and
// never does work itself) → a worker takes the key → sync reads the owner from the informer
// cache, renders it, applies the children, prunes what is no longer rendered, and on deletion
// cleans up and drops the finalizer → processNextWorkItem alone decides on retries, through
// the queue's rate limiter with exponential backoff.
//
// Children are watched too, selected by bosun's managed-by label, so a child that changes or
// disappears requeues its owner, and prune reads the children from that cache instead of
// listing them from the API server on every sync. The caches keep what bosun decides on and
// no more: owners as metadata plus their JSON (decoded per reconcile), children as metadata,
// with the kstatus health of kinds that have a status computed as each version arrives, so
// a reconcile of an owner whose children are as bosun left them sends no request at all.
//
// Children may go to other clusters than their owner's (Options.Clusters): placement.go decides
// per owner which clusters get them and runs one pass per cluster, then empties the clusters an
// owner left once the new ones are ready; clusters.go holds, per cluster in use, its applier and
// child caches, shared by every watch and built on first use, and the backoff and probe of a
// cluster that does not answer. The owner's own writes (finalizer, inventory, status) always go
// to the cluster bosun runs against.
//
// This package decides logging and retries; the renderer and the applier only return errors.
//
// Each behaviour lives in one file named after it: controller.go (queue and workers), owners.go
// (the owner cache and what counts as an owner change), children.go (the child caches),
// protobuf.go (built-in children listed and watched as protobuf), sync.go (one owner's turn:
// deletion, pause, rollout admission, the report), reconcile.go (one pass over an owner: render →
// plan → claim → pre-hooks → apply → prune → health → post-hooks, a method per step over one value),
// retry.go (the retry policy), health.go (child health, computed as children arrive and checked
// after an apply), status.go and events.go (what is reported), hooks.go and hooks_delete.go (Helm
// hooks), budget.go (delete limits), rollout.go (template rollouts), sweep.go (orphans), strays.go
// (owners that left a watch), pause.go (bosun.dev/paused), policy.go (the applier's policy from
// the children settings), slots.go (the share of the owners a sharded replica works on: Acquire
// and Release, for internal/shard). Each memory that needs a lock is a small type of its own:
// released.go, reports.go, settle.go, progress.go, triggers.go, hookrecords.go.
package watcher
