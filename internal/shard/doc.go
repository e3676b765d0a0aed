// Package shard splits the owners of every watch between active replicas (`bosun run
// --sharding`).
//
// The hash space of KEP-5866's shardRange — the 64-bit FNV-1a hash of an object's UID — is cut
// into Slots equal ranges. A slot is the unit of handoff: one replica at a time holds it, caches
// the owners whose UID hashes into it (with a shardSelector where the API server serves one,
// else by filtering on the client) and the children labelled with one of its buckets, and
// reconciles them.
//
// Who holds what (coordinator.go):
//   - Each replica holds a membership Lease it renews; a replica is live while others have seen
//     its Lease renewed within the lease duration (time counted from when they saw it, as
//     client-go's leader election does, so clocks need not agree).
//   - The live members agree on a target (assign.go): a pure function of their identities,
//     balanced, moving few slots when one joins or leaves.
//   - Which replica holds a slot now is recorded in one shared Lease, the shard map, changed
//     only by compare-and-swap: a replica records a slot for itself only when nobody live holds
//     it, and starts on it only after that write succeeded; it lets a slot go in the map only
//     after it stopped working on it. So no owner is ever reconciled by two replicas.
//   - A replica that can no longer renew its Lease stops writing before the others may take
//     its slots (the fence in internal/cli), and exits.
//
// This package owns the hashing, the assignment and the protocol; it does not log (it returns
// what happened) and knows nothing of watches: the watcher starts and stops slots.
package shard
