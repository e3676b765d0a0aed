package shard

import (
	"fmt"
	"testing"
)

func TestAssignGivesEverySlotOneMemberEvenly(t *testing.T) {
	for n := 1; n <= 7; n++ {
		members := names(n)
		for _, current := range []map[int]string{nil, Assign(names(n+1), nil), Assign(members[:1], nil)} {
			got := Assign(members, current)
			if len(got) != Slots {
				t.Fatalf("%d members: %d slots assigned, want %d", n, len(got), Slots)
			}
			count := map[string]int{}
			for _, m := range got {
				count[m]++
			}
			for _, m := range members {
				if c := count[m]; c < Slots/n || c > Slots/n+1 {
					t.Errorf("%d members: %s holds %d slots, want %d or %d", n, m, c, Slots/n, Slots/n+1)
				}
			}
		}
	}
	if got := Assign(nil, nil); len(got) != 0 {
		t.Errorf("no members: %d slots assigned, want none", len(got))
	}
}

func TestAssignIsAFunctionOfItsInputs(t *testing.T) {
	current := Assign([]string{"x", "y"}, nil)
	a := Assign([]string{"x", "y", "z"}, current)
	b := Assign([]string{"z", "x", "y", "x"}, current)
	for s := range Slots {
		if a[s] != b[s] {
			t.Fatalf("slot %d: %s for one order of the members, %s for another", s, a[s], b[s])
		}
	}
}

// Once the map matches the target, the target stays; a member that joins takes only its
// share; the slots of one that leaves are all that move.
func TestAssignMovesOnlyWhatMustMove(t *testing.T) {
	three := Assign(names(3), nil)
	if again := Assign(names(3), three); moved(three, again) != 0 {
		t.Errorf("a settled map moved %d slots", moved(three, again))
	}
	four := Assign(names(4), three)
	if got := moved(three, four); got != Slots/4 {
		t.Errorf("a fourth member moved %d slots, want its share %d", got, Slots/4)
	}
	gone := names(3)[1]
	two := Assign([]string{names(3)[0], names(3)[2]}, three)
	for s := range Slots {
		if three[s] != gone && two[s] != three[s] {
			t.Errorf("slot %d moved from %s, which stayed", s, three[s])
		}
		if two[s] == gone {
			t.Errorf("slot %d stays with %s, which left", s, gone)
		}
	}
}

func moved(a, b map[int]string) int {
	n := 0
	for s := range Slots {
		if a[s] != b[s] {
			n++
		}
	}
	return n
}

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("bosun-%d_%08x", i, i*2654435761)
	}
	return out
}
