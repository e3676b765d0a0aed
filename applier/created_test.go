package applier

import (
	"context"
	"testing"
)

// TestAChildJustCreatedIsNotCreatedAgain: until the caches show a child the manager created, a
// reconcile that does not find it there skips it (no request) instead of creating it again;
// once a cache has seen it, or it went away, the cache is trusted again.
func TestAChildJustCreatedIsNotCreatedAgain(t *testing.T) {
	m := New(nil, nil, testMapper(), Options{}) // no clients: any request would panic
	ref := Ref{Kind: "Service", Namespace: "ns", Name: "web"}
	o := Object{Ref: ref, Hash: "h1"}
	p := &Plan{Objects: []Object{o}}
	m.noteCreated(ref, "u1", "h1")

	if a, answer, err := m.applyOne(context.Background(), p, o, map[Ref]Child{}); err != nil || a != Skipped || answer != nil {
		t.Fatalf("applyOne = %s, %v, %v; want skipped without a request", a, answer, err)
	}
	if m.createdRecently(ref, "h2") {
		t.Errorf("a new rendering counts as created")
	}
	m.Applied("u1", "1") // the cache's event of it
	if m.createdRecently(ref, "h1") {
		t.Errorf("still trusted over the cache after the cache saw it")
	}
	m.noteCreated(ref, "u2", "h1")
	m.Forget("u2") // deleted
	if m.createdRecently(ref, "h1") {
		t.Errorf("still trusted after the child was deleted")
	}
}
