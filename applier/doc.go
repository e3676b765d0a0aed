// Package applier keeps the children of one owner true in the cluster with server-side apply.
//
// It owns the mechanics, not the policy of retries or logging: every method returns a ChangeSet
// (what happened to which child) and an error, and the caller (the watcher) logs and retries.
// It is a leaf: it knows nothing of bosun's config file; what an owner may create comes as a
// Policy (policy.go), which the watcher builds from the watch's children settings.
//
// Rules it keeps:
//   - Every child is applied with one field manager ("bosun") and force on conflicts, carries
//     app.kubernetes.io/managed-by=bosun, a label with its owner's UID and the ApplySet
//     (KEP-3659) part-of label, and, where Kubernetes allows it, a controller ownerReference:
//     never in another cluster than the owner's (Options.Remote), where the inventory's
//     Clusters (bosun.dev/clusters on the owner) and the finalizer alone find and delete it.
//   - Children are applied in waves that follow Helm's install order (Namespaces and CRDs
//     first, custom kinds last), the children of one wave at once; deletes go webhooks first,
//     Namespaces and CRDs last, and all others at once.
//   - A child not seen before is created with a create-only apply; only when its name is taken
//     is the object read, and one bosun does not manage is refused unless adoption is on.
//   - A child is not sent again while it is as bosun left it: known from the memory of the last
//     apply, or, without one (after a restart), from the child alone — the hash of this very
//     rendering, and bosun's managedFields entry owning exactly the rendered fields, inside list
//     items too for built-in kinds (fields.go).
//   - The owner records which group-kinds its children may have (the ApplySet
//     contains-group-kinds annotation) before any child of a new kind is applied, so a kind that
//     later disappears from the templates is still found and pruned — also after a restart.
//   - Prune runs only after all applies of a render succeeded; deletes carry a UID precondition
//     so an object that was replaced in the meantime is never deleted by mistake.
//   - Diff answers what Apply and Prune would change with server-side dry-run applies and
//     reads only; it never writes.
//   - The owner gets a finalizer before its first child is applied, and loses it only after all
//     its children were deleted (or, by `bosun uninstall --keep-children`, let go).
package applier
