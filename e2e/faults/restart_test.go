package faults

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSIGKILLMidRunThenRestart kills the real binary while it works through many owners and
// starts it again: the new run converges every owner exactly, and the children of owners the
// killed run had finished are not written again.
func TestSIGKILLMidRunThenRestart(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "sigkill")
	v := newView(t, ns)
	config := writeWatch(t, 2)
	first := startProcess(t, "first", bosunArgs(config, ns))
	names := ownerNames("w", manyOwners)
	createOwners(t, ns, names)

	var finished map[string]string // child name → resourceVersion, of converged owners
	converged := 0
	waitFor(t, "half of the owners to converge", func() error {
		s, err := v.read()
		if err != nil {
			return err
		}
		owners := s.convergedOwners()
		if converged = len(owners); converged < len(names)/2 {
			return errorf("%d of %d owners converged", converged, len(names))
		}
		finished = s.versions(owners)
		return nil
	})
	first.kill(t)
	if converged == len(names) {
		t.Fatalf("all %d owners converged before the kill; the test needs more owners or fewer workers", converged)
	}
	t.Logf("SIGKILLed the first run with %d of %d owners converged", converged, len(names))

	second := startProcess(t, "second", bosunArgs(config, ns))
	waitConverged(t, v, len(names), waitTimeout)
	second.checkRunning(t)

	after := v.mustRead(t).versions(v.mustRead(t).owners)
	got := map[string]string{}
	for name := range finished {
		got[name] = after[name]
	}
	if diff := cmp.Diff(finished, got); diff != "" {
		t.Errorf("resourceVersions of the children of owners converged before the kill (-before +after):\n%s", diff)
	}
}
