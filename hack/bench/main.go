package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bosun-dev/bosun/internal/localcluster"
	"github.com/bosun-dev/bosun/internal/shard"
)

// Phase names.
const (
	phaseRaw            = "raw"
	phaseCold           = "cold"
	phaseIdle           = "idle"
	phaseRestart        = "restart"
	phaseTakeover       = "takeover"
	phaseHandoff        = "handoff"
	phaseUpdate         = "update"
	phaseLatency        = "latency"
	phaseLatencyRollout = "latency-rollout"
	phaseDelete         = "delete"
	phaseCreate         = "create"
)

// allPhases is the order the phases run in, whatever the order of -phases: raw on its own
// cluster, then bosun's phases on one cluster. create comes after delete, so that no phase
// runs with more than N owners and a phase's peak RSS at N is bosun's at N owners.
var allPhases = []string{phaseRaw, phaseCold, phaseIdle, phaseRestart, phaseTakeover, phaseHandoff,
	phaseUpdate, phaseLatency, phaseLatencyRollout, phaseDelete, phaseCreate}

// Workloads (-workload): what each owner's children are. site is examples/site (a ConfigMap,
// a Deployment and a Service: Ready waits for the Deployment's rollout); light is
// examples/site-light (a ConfigMap and a Service, Ready as soon as they are applied), which
// times bosun rather than kube-controller-manager and kwok.
const (
	workloadSite  = "site"
	workloadLight = "light"
)

// workloadConfigs is the default -config of each workload.
var workloadConfigs = map[string]string{
	workloadSite:  "examples/site/watch.yaml",
	workloadLight: "examples/site-light/watch.yaml",
}

// shardPhases stop one of several replicas: they run only with -replicas > 1.
var shardPhases = []string{phaseTakeover, phaseHandoff}

// defaultPhases is -phases when not given: every phase that applies to the replicas.
func defaultPhases(replicas int) []string {
	if replicas > 1 {
		return allPhases
	}
	return slices.DeleteFunc(slices.Clone(allPhases), func(p string) bool { return slices.Contains(shardPhases, p) })
}

type options struct {
	sizes           []int
	runs            int
	namespaces      int
	replicas        int
	replicaCPUs     int
	clusters        int
	fsync           bool
	out             string
	phases          []string
	config          string
	workload        string
	concurrency     []int
	latencyOwners   int
	latencyRate     float64
	latencyDuration time.Duration
	idleWindow      time.Duration
	restartWindow   time.Duration
	phaseTimeout    time.Duration
	proxy           bool
	profile         bool
	keep            bool
	note            string
	summarize       bool
	soak            time.Duration
	vsRawssa        string
	rawssaShape     string
	suite           string
	sizesGiven      string // -n as given, for a suite
	runsGiven       int    // -runs when given, for a suite
}

func (o options) has(phase string) bool { return slices.Contains(o.phases, phase) }

// bosunSelected tells whether any of bosun's phases runs.
func (o options) bosunSelected() bool {
	return slices.ContainsFunc(o.phases, func(p string) bool { return p != phaseRaw })
}

// order is the phases that run, in the order they run: the selected ones, and cold
// convergence whenever any of bosun's phases runs (the others need converged owners).
func (o options) order() []string {
	var out []string
	for _, p := range allPhases {
		if o.has(p) || (p == phaseCold && o.bosunSelected()) {
			out = append(out, p)
		}
	}
	return out
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("n", "1000,5000,10000", "owner counts to measure, comma-separated")
	fs.IntVar(&o.runs, "runs", 1, "times every N is measured, each from scratch on fresh clusters; the summary adds each figure's median over them and its range")
	fs.IntVar(&o.namespaces, "namespaces", 10, "namespaces each batch of Sites is spread over")
	fs.IntVar(&o.replicas, "replicas", 1, "bosun processes every phase runs; more than 1 runs them with --sharding (Leases "+shardGroup+" in namespace "+shardNamespace+")")
	fs.IntVar(&o.clusters, "clusters", 1, "clusters the owners' children go to: 1 is the hub itself; K > 1 starts K workload clusters, registers them in the hub and spreads the owners over them round-robin (bosun.dev/cluster)")
	fs.BoolVar(&o.fsync, "fsync", true, "run etcd with fsync (false: --unsafe-no-fsync, as the tests do)")
	fs.StringVar(&o.out, "out", "", "JSON results file (default hack/bench/results/<date>-<cores>c-<mem>g.json)")
	phases := fs.String("phases", "", "phases to run, comma-separated, of "+strings.Join(allPhases, ",")+
		"; they run in this order, and cold whenever another of bosun's phases runs (default: all; "+strings.Join(shardPhases, " and ")+" only with -replicas > 1; with -clusters > 1 all but "+strings.Join(oneClusterPhases, ",")+")")
	fs.IntVar(&o.replicaCPUs, "replica-cpus", 0, "GOMAXPROCS of every bosun process, as a pod's CPU limit sets it (0: all the machine's cores); with a CPU-bound watch, shows the converge time falling with -replicas")
	fs.StringVar(&o.workload, "workload", workloadSite, "owners' children: "+workloadSite+" (ConfigMap, Deployment, Service) or "+workloadLight+
		" (ConfigMap, Service); picks the default -config")
	fs.StringVar(&o.config, "config", "", "watch config bosun and the raw generator use (default: the -workload's, "+
		workloadConfigs[workloadSite]+" or "+workloadConfigs[workloadLight]+")")
	conc := fs.String("concurrency", "8,16,32,64", "raw generator concurrencies to try on a sample; the best is used")
	fs.IntVar(&o.latencyOwners, "latency-owners", 5000, "owners the latency phases edit (at most those that exist)")
	fs.Float64Var(&o.latencyRate, "latency-rate", 20, "edits per second in the latency phases")
	fs.DurationVar(&o.latencyDuration, "latency-duration", 30*time.Second, "how long each latency phase edits")
	fs.DurationVar(&o.idleWindow, "idle-window", 60*time.Second, "how long the idle phase counts requests")
	fs.DurationVar(&o.restartWindow, "restart-window", 30*time.Second, "how long after a restart requests are counted (at least until bosun logs its initial sync done)")
	fs.DurationVar(&o.phaseTimeout, "phase-timeout", 0, "give up on a phase after this long (0: 10m + 0.6s per owner)")
	fs.BoolVar(&o.proxy, "proxy", true, "count bosun's requests with a proxy in front of the API server (the raw generator goes through it too)")
	fs.BoolVar(&o.profile, "profile", false, "run bosun with --profiling and record, for each of its phases, a CPU profile of the whole phase and heap profiles at its end and at its peak RSS, beside -out (<out>-n<N>-<phase>.cpu.pb.gz, -heap.pb.gz, -peakheap.pb.gz)")
	fs.BoolVar(&o.keep, "keep", false, "keep the clusters' state directories (logs) after the run")
	fs.DurationVar(&o.soak, "soak", 0, "run the fault soak for this long instead of the phases, with the first -n (e.g. -soak 10m -n 5000 -workload light): see soak.go")
	fs.StringVar(&o.vsRawssa, "vs-rawssa", "", "instead of the phases, time bosun against rawssa (the ideal controller in this directory, e.g. ../shared/tools/rawssa) as its README says, on a fresh control plane per round, -runs rounds per -n: see rawssa.go")
	fs.StringVar(&o.rawssaShape, "rawssa-shape", shapeLight, "with -vs-rawssa, rawssa's -shape: "+shapeLight+" (a ConfigMap and a Service per owner) or "+shapeSite+" (the Site example's ConfigMap, Deployment and Service; only bosun's deletion is timed)")
	fs.BoolVar(&o.summarize, "summarize", false, "only regenerate README.md from the JSON files in the results directory (and in its rawssa directory)")
	fs.StringVar(&o.suite, "suite", "", "run a named set of the bench's runs, each writing its own results (cost: everything the cost of an owner is measured by, about 7 hours on 2 cores; -vs-rawssa names rawssa; -n and -runs, when given, replace every run's): see suite.go")
	fs.StringVar(&o.note, "note", "", "a remark stored with the results and shown in the summary (e.g. what else ran on the machine)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "n":
			o.sizesGiven = *sizes
		case "runs":
			o.runsGiven = o.runs
		}
	})
	var err error
	if o.sizes, err = intList(*sizes); err != nil {
		return o, fmt.Errorf("-n: %w", err)
	}
	if o.concurrency, err = intList(*conc); err != nil {
		return o, fmt.Errorf("-concurrency: %w", err)
	}
	cfg, ok := workloadConfigs[o.workload]
	if !ok {
		return o, fmt.Errorf("-workload: unknown workload %q (want %s or %s)", o.workload, workloadSite, workloadLight)
	}
	if o.config == "" {
		o.config = cfg
	}
	switch {
	case o.replicas < 1:
		return o, fmt.Errorf("-replicas: %d is less than 1", o.replicas)
	case o.replicas > shard.Slots:
		return o, fmt.Errorf("-replicas: %d is more than the %d slots the owners are split into", o.replicas, shard.Slots)
	}
	if o.runs < 1 {
		return o, fmt.Errorf("-runs: %d is less than 1", o.runs)
	}
	if o.rawssaShape != shapeLight && o.rawssaShape != shapeSite {
		return o, fmt.Errorf("-rawssa-shape: unknown shape %q (want %s or %s)", o.rawssaShape, shapeLight, shapeSite)
	}
	switch {
	case o.clusters < 1:
		return o, fmt.Errorf("-clusters: %d is less than 1", o.clusters)
	case o.clusters > 1 && o.replicas > 1:
		return o, fmt.Errorf("-clusters: workload clusters are measured with one replica, not -replicas %d", o.replicas)
	}
	if *phases == "" {
		*phases = strings.Join(defaultPhases(o.replicas), ",")
		if o.clusters > 1 {
			*phases = strings.Join(multiClusterPhases(), ",")
		}
	}
	for _, p := range strings.Split(*phases, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(allPhases, p) {
			return o, fmt.Errorf("-phases: unknown phase %q (want some of %s)", p, strings.Join(allPhases, ","))
		}
		if o.clusters > 1 && slices.Contains(oneClusterPhases, p) {
			return o, fmt.Errorf("-phases: %s does not run with -clusters > 1 (only %s do)", p, strings.Join(multiClusterPhases(), ","))
		}
		if o.replicas == 1 && slices.Contains(shardPhases, p) {
			return o, fmt.Errorf("-phases: %s stops one of several replicas: it needs -replicas > 1", p)
		}
		o.phases = append(o.phases, p)
	}
	if o.replicaCPUs < 0 {
		return o, fmt.Errorf("-replica-cpus: %d is negative", o.replicaCPUs)
	}
	if o.namespaces < 1 {
		return o, fmt.Errorf("-namespaces: %d is less than 1", o.namespaces)
	}
	if o.latencyRate <= 0 {
		return o, fmt.Errorf("-latency-rate: %g is not positive", o.latencyRate)
	}
	if o.clusters > 1 && o.soak > 0 {
		return o, fmt.Errorf("-soak: the fault soak runs on one cluster, not with -clusters %d", o.clusters)
	}
	return o, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func main() {
	if job := os.Getenv(idealJobEnv); job != "" {
		if err := idealWorker(job, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "bench: ideal controller: %v\n", err)
			os.Exit(1)
		}
		return
	}
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return
		}
		os.Exit(2)
	}
	if err := localcluster.DieWithGoRun(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if o.suite != "" {
		root, err := moduleRoot()
		if err == nil {
			var runs [][]string
			if runs, err = suiteArgs(o.suite, root, o.vsRawssa, readMachine(), o.sizesGiven, o.runsGiven, time.Now()); err == nil {
				err = runSuite(ctx, runs, os.Stdout, os.Stderr)
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// run measures every size in turn, -runs times each, and writes the results after every run,
// so an interrupted run keeps what it finished.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if o.summarize {
		dir := filepath.Join(root, "hack", "bench", "results")
		if o.out != "" {
			dir = filepath.Dir(o.out)
		}
		if filepath.Base(dir) == "rawssa" {
			return writeRawssaREADME(dir)
		}
		if err := writeREADME(dir); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(dir, "rawssa")); err == nil {
			return writeRawssaREADME(filepath.Join(dir, "rawssa"))
		}
		return nil
	}
	b, err := newBench(ctx, o, root, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	if b.results.Out, err = resultsPath(o.out, root, b.results.Machine); err != nil {
		return err
	}
	if o.vsRawssa != "" {
		if o.out == "" {
			b.results.Out = filepath.Join(filepath.Dir(b.results.Out), "rawssa", filepath.Base(b.results.Out))
			if o.rawssaShape != shapeLight {
				b.results.Out = strings.TrimSuffix(b.results.Out, ".json") + "-" + o.rawssaShape + ".json"
			}
		}
		return b.vsRawssa(ctx, stdout)
	}
	if o.soak > 0 {
		res, err := b.runSoak(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, soakSummary(res))
		if !res.Passed {
			return errors.New("soak: the cluster did not match its owners, or bosun wrote while idle")
		}
		return nil
	}
	b.logf("results go to %s; fsync %s; work dir %s", b.results.Out, onOff(o.fsync), b.work)
sizes:
	for _, n := range o.sizes {
		for i := range o.runs {
			r := b.runSize(ctx, n, i)
			b.results.Runs = append(b.results.Runs, r)
			b.results.Finished = time.Now()
			if err := b.results.write(); err != nil {
				return err
			}
			if ctx.Err() != nil {
				break sizes
			}
		}
	}
	printTable(stdout, b.results)
	if err := writeREADME(filepath.Dir(b.results.Out)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nresults: %s\nsummary: %s\n", b.results.Out, filepath.Join(filepath.Dir(b.results.Out), "README.md"))
	return ctx.Err()
}

// moduleRoot finds the directory of bosun's go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/bosun-dev/bosun\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("bosun's go.mod not found above the working directory: run from the repository")
		}
		dir = parent
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
