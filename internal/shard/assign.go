package shard

import (
	"cmp"
	"slices"
	"strconv"
)

// Assign is the target holder of every slot, given the live members and who holds which slot
// now (holders that are not live count as none). Each member gets Slots/n slots or one more;
// a member keeps what it holds up to its share, and only the rest moves, each slot to the
// member with the most room left (ties broken by rendezvous hashing). So a member that joins
// takes only its share, and the slots of one that leaves are all that move. Every replica
// computes it alone from the shard map and the membership Leases; the same inputs give the
// same answer everywhere, and once the map matches the target the target stays. No members,
// no holders.
func Assign(members []string, current map[int]string) map[int]string {
	out := make(map[int]string, Slots)
	members = slices.Compact(slices.Sorted(slices.Values(members)))
	if len(members) == 0 {
		return out
	}
	live := make(map[string]int, len(members)) // member → slots it holds now
	for _, m := range members {
		live[m] = 0
	}
	for _, m := range current {
		if _, ok := live[m]; ok {
			live[m]++
		}
	}
	// The Slots%n members holding the most now may keep one more than the others, so that
	// a balanced map stays as it is.
	base, extra := Slots/len(members), Slots%len(members)
	byHoldings := slices.Clone(members)
	slices.SortStableFunc(byHoldings, func(a, b string) int { return cmp.Compare(live[b], live[a]) })
	room := make(map[string]int, len(members))
	for i, m := range byHoldings {
		room[m] = base
		if i < extra {
			room[m]++
		}
	}
	for s := range Slots {
		if m, ok := current[s]; ok && room[m] > 0 {
			out[s] = m
			room[m]--
		}
	}
	for s := range Slots {
		if _, ok := out[s]; ok {
			continue
		}
		best := ""
		for _, m := range members {
			switch {
			case room[m] <= 0:
			case best == "", room[m] > room[best], room[m] == room[best] && score(m, s) > score(best, s):
				best = m
			}
		}
		out[s] = best
		room[best]--
	}
	return out
}

// score ranks members for a slot (rendezvous hashing).
func score(member string, slot int) uint64 { return hashString(member + "/" + strconv.Itoa(slot)) }
