package renderer

import (
	"fmt"
	"testing"

	"github.com/Masterminds/sprig/v3"
	"github.com/google/go-cmp/cmp"
)

// The bounded list builders replace sprig's; within the limits they must agree with sprig.
func TestListBuildersAgreeWithSprig(t *testing.T) {
	f := sprig.TxtFuncMap()
	sprigUntil := f["until"].(func(int) []int)
	sprigUntilStep := f["untilStep"].(func(int, int, int) []int)
	sprigSeq := f["seq"].(func(...int) string)
	for a := -4; a <= 4; a++ {
		wantUntil := sprigUntil(a)
		if got, err := until(a); err != nil || !equalInts(wantUntil, got) {
			t.Errorf("until %d = %v, %v; sprig gives %v", a, got, err, wantUntil)
		}
		if got, err := seq(a); err != nil || got != sprigSeq(a) {
			t.Errorf("seq %d = %q, %v; sprig gives %q", a, got, err, sprigSeq(a))
		}
		for b := -4; b <= 4; b++ {
			if got, err := seq(a, b); err != nil || got != sprigSeq(a, b) {
				t.Errorf("seq %d %d = %q, %v; sprig gives %q", a, b, got, err, sprigSeq(a, b))
			}
			for step := -3; step <= 3; step++ {
				wantList := sprigUntilStep(a, b, step)
				if got, err := untilStep(a, b, step); err != nil || !equalInts(wantList, got) {
					t.Errorf("untilStep %d %d %d = %v, %v; sprig gives %v", a, b, step, got, err, wantList)
				}
				if got, err := seq(a, step, b); err != nil || got != sprigSeq(a, step, b) {
					t.Errorf("seq %d %d %d = %q, %v; sprig gives %q", a, step, b, got, err, sprigSeq(a, step, b))
				}
			}
		}
	}
}

func equalInts(want, got []int) bool {
	return fmt.Sprint(want) == fmt.Sprint(got)
}

func TestListBuildersStopAtTheLimit(t *testing.T) {
	tests := []struct {
		name    string
		build   func() (int, error)
		wantLen int
		wantErr string
	}{
		{name: "until at the limit", build: lenOf(until(MaxListLength)), wantLen: MaxListLength},
		{name: "until over the limit", build: lenOf(until(MaxListLength + 1)), wantErr: "until: 100001 elements exceed the limit of 100000"},
		{name: "until over the limit, counting down", build: lenOf(until(-MaxListLength - 1)), wantErr: "until: 100001 elements exceed the limit of 100000"},
		{name: "untilStep with a step that shrinks the list", build: lenOf(untilStep(0, 10*MaxListLength, 10)), wantLen: MaxListLength},
		{name: "untilStep near the smallest int", build: lenOf(untilStep(-9223372036854775807, -9223372036854775808, -5)), wantLen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.build()
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if n != tt.wantLen {
				t.Errorf("length = %d, want %d", n, tt.wantLen)
			}
		})
	}
}

func lenOf(list []int, err error) func() (int, error) {
	return func() (int, error) { return len(list), err }
}
