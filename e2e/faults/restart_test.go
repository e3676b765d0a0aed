package faults

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/bosun-dev/bosun/internal/testenv"
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
	testenv.Eventually(t, waitTimeout, func() error {
		first.CheckRunning(t)
		s, err := v.read()
		if err != nil {
			return err
		}
		owners := s.convergedOwners()
		if converged = len(owners); converged < len(names)/2 {
			return fmt.Errorf("%d of %d owners converged", converged, len(names))
		}
		finished = s.versions(owners)
		return nil
	})
	first.Kill(t)
	if converged == len(names) {
		t.Fatalf("all %d owners converged before the kill; the test needs more owners or fewer workers", converged)
	}
	t.Logf("SIGKILLed the first run with %d of %d owners converged", converged, len(names))

	second := startProcess(t, "second", bosunArgs(config, ns))
	waitConverged(t, v, len(names), waitTimeout, second)

	s := v.mustRead(t)
	after := s.versions(s.owners)
	var rewritten []string
	for _, name := range slices.Sorted(maps.Keys(finished)) {
		if after[name] != finished[name] {
			rewritten = append(rewritten, fmt.Sprintf("%s: %s → %s", name, finished[name], after[name]))
		}
	}
	if len(rewritten) > 0 {
		t.Errorf("%d of the %d children of owners converged before the kill were written again (resourceVersion before → after), e.g.:\n%s",
			len(rewritten), len(finished), strings.Join(rewritten[:min(5, len(rewritten))], "\n"))
	}
}
