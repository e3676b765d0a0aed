package shard

import (
	"fmt"
	"hash/fnv"
	"strconv"

	"k8s.io/apimachinery/pkg/sharding"
	"k8s.io/apimachinery/pkg/types"
)

const (
	// Slots is how many ranges the hash space is cut into: the unit of handoff. 32 keeps three
	// replicas within 3% of an even share (11/11/10) and the informers per replica few.
	Slots    = 1 << slotBits
	slotBits = 5
	// Buckets is how many values the children's shard label takes: the top 8 bits of the
	// owner's hash. Each slot is Buckets/Slots consecutive buckets, so the label would outlive
	// a change of Slots.
	Buckets = 256
	// Label on every child names its owner's bucket, so that a replica caches the children of
	// its own slots only (a label selector), and a child is found without its owner.
	Label = "bosun.dev/shard"

	bucketsPerSlot = Buckets / Slots
	// shardKey is the only owner field bosun shards on.
	shardKey = "object.metadata.uid"
)

// Hash is the 64-bit FNV-1a hash of a UID, the hash the API server's shardRange uses.
func Hash(uid types.UID) uint64 { return hashString(string(uid)) }

func hashString(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// Bucket is the bucket of an owner UID: the top 8 bits of its hash.
func Bucket(uid types.UID) int { return int(Hash(uid) >> 56) }

// BucketLabel is the value of Label on the children of the owner with this UID.
func BucketLabel(uid types.UID) string { return fmt.Sprintf("%02x", Bucket(uid)) }

// SlotOf is the slot of an owner UID.
func SlotOf(uid types.UID) int { return Bucket(uid) / bucketsPerSlot }

// SlotOfLabel is the slot of a child from its Label value; ok is false for a child without a
// valid one (made by a bosun before sharding existed).
func SlotOfLabel(v string) (slot int, ok bool) {
	if len(v) != 2 {
		return 0, false
	}
	b, err := strconv.ParseUint(v, 16, 8)
	if err != nil {
		return 0, false
	}
	return int(b) / bucketsPerSlot, true
}

// BucketLabels are the Label values of one slot's children.
func BucketLabels(slot int) []string {
	out := make([]string, 0, bucketsPerSlot)
	for b := slot * bucketsPerSlot; b < (slot+1)*bucketsPerSlot; b++ {
		out = append(out, fmt.Sprintf("%02x", b))
	}
	return out
}

// Selector is the KEP-5866 shardSelector of one slot's owners, e.g.
// shardRange(object.metadata.uid, '0x0800000000000000', '0x1000000000000000').
func Selector(slot int) sharding.Selector {
	return sharding.NewSelector(sharding.ShardRangeRequirement{Key: shardKey, Start: bound(slot), End: bound(slot + 1)})
}

// Sliver is a shardSelector of one hash value: it matches an object once in 2^64, so a list
// with it tells an API server that filters (almost never an object) from one that ignores
// the selector (any object).
func Sliver() string {
	return sharding.NewSelector(sharding.ShardRangeRequirement{Key: shardKey, Start: "0x0000000000000000", End: "0x0000000000000001"}).String()
}

// bound is the first hash of a slot as the API server wants it: 0x and 16 hex digits, except
// the end of the space, 2^64, which has 17.
func bound(slot int) string {
	if slot >= Slots {
		return "0x10000000000000000"
	}
	return fmt.Sprintf("0x%016x", uint64(slot)<<(64-slotBits))
}

// ChildLabels are the labels bosun's applier puts on every child for sharding
// (applier.Options.OwnerLabels): Label, the owner's bucket.
func ChildLabels() map[string]func(types.UID) string {
	return map[string]func(types.UID) string{Label: BucketLabel}
}
