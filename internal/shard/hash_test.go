package shard

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/sharding"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// The slot bosun computes for an owner must be the range whose shardSelector the API server
// matches it with: apimachinery's own matcher is the judge.
func TestSlotOfAgreesWithTheServersShardRange(t *testing.T) {
	for range 2000 {
		uid := uuid.NewUUID()
		obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{UID: uid}}
		matched := 0
		for s := range Slots {
			ok, err := Selector(s).Matches(obj)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				matched++
				if s != SlotOf(uid) {
					t.Fatalf("UID %s: slot %d's selector matches, SlotOf = %d", uid, s, SlotOf(uid))
				}
			}
		}
		if matched != 1 {
			t.Fatalf("UID %s: %d slot selectors match, want exactly 1", uid, matched)
		}
		if got, ok := SlotOfLabel(BucketLabel(uid)); !ok || got != SlotOf(uid) {
			t.Fatalf("UID %s: slot from its children's label = %d, %t; want %d", uid, got, ok, SlotOf(uid))
		}
	}
}

func TestHashIsTheServersFNV1a(t *testing.T) {
	for _, uid := range []types.UID{"", "a", "0b6c2a0e-6b8e-4d7e-9a43-1f2d3c4b5a69"} {
		if got, want := fmt.Sprintf("%016x", Hash(uid)), sharding.HashField(string(uid)); got != want {
			t.Errorf("Hash(%q) = %s, apimachinery's HashField = %s", uid, got, want)
		}
	}
}

func TestSelectorsTileTheHashSpace(t *testing.T) {
	first, last := Selector(0).String(), Selector(Slots-1).String()
	if want := "shardRange(object.metadata.uid, '0x0000000000000000', '0x0800000000000000')"; first != want {
		t.Errorf("slot 0: %s, want %s", first, want)
	}
	if want := "shardRange(object.metadata.uid, '0xf800000000000000', '0x10000000000000000')"; last != want {
		t.Errorf("slot %d: %s, want %s", Slots-1, last, want)
	}
	for s := 1; s < Slots; s++ {
		prev, cur := Selector(s - 1).Requirements()[0], Selector(s).Requirements()[0]
		if prev.End != cur.Start {
			t.Errorf("slot %d ends at %s, slot %d starts at %s", s-1, prev.End, s, cur.Start)
		}
	}
}

func TestSlotOfLabelRefusesWhatIsNoBucket(t *testing.T) {
	for _, v := range []string{"", "0", "zz", "100", "-1"} {
		if _, ok := SlotOfLabel(v); ok {
			t.Errorf("SlotOfLabel(%q) ok, want not", v)
		}
	}
	if got := BucketLabels(1); len(got) != Buckets/Slots || got[0] != "08" || got[len(got)-1] != "0f" {
		t.Errorf("BucketLabels(1) = %v, want 08..0f", got)
	}
}
