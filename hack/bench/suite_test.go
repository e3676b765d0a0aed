package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCostSuiteRunsParse: every run of the cost suite is a valid run of the bench, writes its
// own results file, and takes -n and -runs from the command line when given.
func TestCostSuiteRunsParse(t *testing.T) {
	m := Machine{CPUs: 2, MemoryGiB: 24}
	now := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	if _, err := suiteArgs("cost", "/src", "", m, "", 0, now); err == nil || !strings.Contains(err.Error(), "-vs-rawssa") {
		t.Errorf("a suite that runs rawssa without its directory: %v, want an error naming -vs-rawssa", err)
	}
	if _, err := suiteArgs("nope", "/src", "", m, "", 0, now); err == nil || !strings.Contains(err.Error(), "cost") {
		t.Errorf("an unknown suite: %v, want an error listing the known ones", err)
	}
	runs, err := suiteArgs("cost", "/src", "../rawssa", m, "200", 1, now)
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]bool{}
	for _, args := range runs {
		o, err := parseFlags(args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !slices.Equal(o.sizes, []int{200}) || o.runs != 1 {
			t.Errorf("%v: sizes %v, runs %d; want -n and -runs from the command line", args, o.sizes, o.runs)
		}
		if outs[o.out] || !strings.HasPrefix(o.out, filepath.Join("/src", "hack", "bench", "results")) ||
			!strings.HasPrefix(filepath.Base(o.out), "2026-12-08-2c-24g-cost-") {
			t.Errorf("%v: results file %s, want one of its own in hack/bench/results", args, o.out)
		}
		outs[o.out] = true
		if (o.vsRawssa != "") != strings.Contains(o.out, string(filepath.Separator)+"rawssa"+string(filepath.Separator)) {
			t.Errorf("%s: a rawssa run's results go to results/rawssa, the others' not", o.out)
		}
	}
	if len(runs) != len(suites["cost"]) {
		t.Errorf("%d runs, want %d", len(runs), len(suites["cost"]))
	}
}
