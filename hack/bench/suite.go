package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A suite (-suite) is a named list of the bench's own runs, each given as its flags, so that
// one command measures everything an issue asks for and leaves each run's JSON, profiles and
// summary where a single run would. The runs are independent: one that fails is reported and
// the others still run.
type suiteRun struct {
	name string   // part of the results file's name
	args []string // the run's flags, without -out, -note and (for rawssa runs) -vs-rawssa
	// rawssa: the run times bosun against rawssa (-vs-rawssa, the suite's rawssa directory).
	rawssa bool
}

// suites are the suites -suite knows. cost is the cost of an owner: converge, deletion, CPU
// and memory against rawssa for light owners and Sites (medians of 3, with profiles), the edit
// latency at 50 edits/s over 10,000 owners, and the scale curve up to 30,000 owners, on one
// replica and on 3 sharded ones.
var suites = map[string][]suiteRun{
	"cost": {
		{name: "light", rawssa: true, args: []string{"-n", "1000,3000,5000,10000", "-runs", "3", "-profile"}},
		{name: "site", rawssa: true, args: []string{"-rawssa-shape", shapeSite, "-n", "1000,5000,10000", "-runs", "3", "-profile"}},
		{name: "latency50", args: []string{"-workload", workloadLight, "-n", "10000", "-phases", phaseLatency, "-latency-rate", "50",
			"-latency-owners", "10000", "-proxy=false", "-profile"}},
		{name: "scale", args: []string{"-workload", workloadLight, "-n", "1000,5000,10000,30000", "-phases", phaseCold, "-proxy=false", "-profile"}},
		{name: "scale-r3", args: []string{"-workload", workloadLight, "-n", "30000", "-replicas", "3", "-phases", phaseCold, "-proxy=false", "-profile"}},
	},
}

// suiteArgs is each run of the suite as the flags it runs with: its own, its results file
// (hack/bench/results/[rawssa/]<date>-<cores>c-<mem>g-<suite>-<run>.json) and its note, with
// -n replaced by sizes and -runs by runs when those were given.
func suiteArgs(suite, root, rawssa string, m Machine, sizes string, runs int, now time.Time) ([][]string, error) {
	list, ok := suites[suite]
	if !ok {
		names := make([]string, 0, len(suites))
		for name := range suites {
			names = append(names, name)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("-suite: unknown suite %q (want one of %s)", suite, strings.Join(names, ", "))
	}
	base := fmt.Sprintf("%s-%dc-%.0fg-%s", now.Format("2006-01-02"), m.CPUs, m.MemoryGiB, suite)
	var out [][]string
	for _, r := range list {
		args := slices.Clone(r.args)
		dir := filepath.Join(root, "hack", "bench", "results")
		if r.rawssa {
			if rawssa == "" {
				return nil, fmt.Errorf("-suite %s: its %s run times bosun against rawssa: name its directory with -vs-rawssa (e.g. ../shared/tools/rawssa)", suite, r.name)
			}
			args = append(args, "-vs-rawssa", rawssa)
			dir = filepath.Join(dir, "rawssa")
		}
		if sizes != "" {
			args = replaceFlag(args, "-n", sizes)
		}
		if runs > 0 {
			args = replaceFlag(args, "-runs", fmt.Sprint(runs))
		}
		args = append(args, "-out", filepath.Join(dir, base+"-"+r.name+".json"),
			"-note", fmt.Sprintf("-suite %s, run %s", suite, r.name))
		out = append(out, args)
	}
	return out, nil
}

// replaceFlag sets flag to value in args, adding it when absent.
func replaceFlag(args []string, flag, value string) []string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		args[i+1] = value
		return args
	}
	return append(args, flag, value)
}

// runSuite runs each of the suite's runs in turn.
func runSuite(ctx context.Context, runs [][]string, stdout, stderr io.Writer) error {
	var failed []error
	for i, args := range runs {
		fmt.Fprintf(stderr, "bench: suite run %d/%d: go run ./hack/bench %s\n", i+1, len(runs), strings.Join(args, " "))
		o, err := parseFlags(args, stderr)
		if err == nil {
			err = run(ctx, o, stdout, stderr)
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("suite run %d (%s): %w", i+1, strings.Join(args, " "), err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(failed...)
}
