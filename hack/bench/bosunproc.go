package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// bosunBin is the binary under test, built from this tree.
type bosunBin struct {
	path string
	// metricsFlag is the flag that serves Prometheus metrics, if this build has one.
	metricsFlag string
	// healthFlag is the flag of the health endpoints, if this build has one: it gets a free
	// port, so two runs (or another bosun) cannot collide on the default.
	healthFlag string
	// gomaxprocs, when above 0, is every process's GOMAXPROCS (-replica-cpus).
	gomaxprocs int
	// hasProfiling: this build has --profiling (net/http/pprof on the metrics address);
	// profiling: run it so (-profile).
	hasProfiling, profiling bool
	// logsInitialSync: this build logs "initial sync done" once every owner present at start
	// was reconciled.
	logsInitialSync bool
}

func buildBosun(ctx context.Context, root, dir string) (*bosunBin, error) {
	path := filepath.Join(dir, "bosun")
	// Built as the Dockerfile builds the image: static, without symbol tables.
	args := []string{"build", "-trimpath", "-ldflags", "-s -w", "-o", path, "."}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("CGO_ENABLED=0 go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	b := &bosunBin{path: path}
	help, _ := exec.CommandContext(ctx, path, "run", "--help").CombinedOutput()
	for _, f := range []string{"--metrics-addr", "--metrics-bind-address", "--metrics-address"} {
		if strings.Contains(string(help), f+" ") {
			b.metricsFlag = f
			break
		}
	}
	if strings.Contains(string(help), "--health-addr ") {
		b.healthFlag = "--health-addr"
	}
	b.hasProfiling = b.metricsFlag != "" && strings.Contains(string(help), "--profiling ")
	if data, err := os.ReadFile(path); err == nil {
		b.logsInitialSync = bytes.Contains(data, []byte("initial sync done"))
	}
	return b, nil
}

// bosunProc is one run of `bosun run`.
type bosunProc struct {
	cmd        *exec.Cmd
	pid        int
	started    time.Time
	metricsURL string
	pprofURL   string // with profiling: the base of its /debug/pprof profiles
	logs       *logStats
	done       chan struct{} // closed once reaped
	err        error         // exit error, valid after done
	usage      procUsage     // from the kernel's rusage, valid after done
}

// start runs bosun on the watch config with the kubeconfig and the extra arguments (the
// sharding flags); its output goes to logPath and through logStats.
func (b *bosunBin) start(kubeconfig, config, logPath string, extra []string, logs *logStats) (*bosunProc, error) {
	args := append([]string{"run", "--config", config, "--kubeconfig", kubeconfig, "--log-format", "json"}, extra...)
	p := &bosunProc{logs: logs, done: make(chan struct{})}
	if b.metricsFlag != "" {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args = append(args, b.metricsFlag, addr)
		p.metricsURL = "http://" + addr + "/metrics"
		if b.profiling {
			args = append(args, "--profiling")
			p.pprofURL = "http://" + addr + "/debug/pprof"
		}
	}
	if b.healthFlag != "" {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args = append(args, b.healthFlag, addr)
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "==== %s %s %s\n", time.Now().Format(time.RFC3339), b.path, strings.Join(args, " "))
	pr, pw, err := os.Pipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	p.cmd = exec.Command(b.path, args...)
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	p.cmd.SysProcAttr = sysProcAttr()
	if b.gomaxprocs > 0 {
		p.cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", b.gomaxprocs))
	}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start %s: %w", b.path, err)
	}
	pw.Close()
	p.pid, p.started = p.cmd.Process.Pid, time.Now()
	logs.restarted(p.started)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = f.Write(append(line, '\n'))
			logs.observe(line)
		}
		pr.Close()
		f.Close()
	}()
	go func() {
		p.err = p.cmd.Wait()
		p.usage = usageOf(p.cmd.ProcessState)
		<-copied
		close(p.done)
	}()
	return p, nil
}

func (p *bosunProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the exit, killing after timeout. It returns how long the
// shutdown took.
func (p *bosunProc) stop(timeout time.Duration) (time.Duration, error) {
	begin := time.Now()
	if p.exited() {
		return 0, fmt.Errorf("bosun had already exited: %v", p.err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return time.Since(begin), p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return time.Since(begin), fmt.Errorf("bosun did not exit within %s of SIGTERM; killed", timeout)
	}
}

// scrape reads every sample of bosun's metrics endpoint, if it serves one; counters picks
// the counters out of it, sumOf a gauge.
func (p *bosunProc) scrape() map[string]float64 {
	if p == nil || p.metricsURL == "" || p.exited() {
		return nil
	}
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(p.metricsURL)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	return parseSamples(resp.Body)
}

// parseCounters reads the samples of the Prometheus text format whose names end in _total:
// requests, reconciles, retries and child actions.
func parseCounters(r io.Reader) map[string]float64 { return counters(parseSamples(r)) }

// counters keeps the samples whose names end in _total.
func counters(samples map[string]float64) map[string]float64 {
	if samples == nil {
		return nil
	}
	out := map[string]float64{}
	for series, v := range samples {
		if strings.HasSuffix(metricName(series), "_total") {
			out[series] = v
		}
	}
	return out
}

// sumOf adds up the samples of one metric over its labels: bosun_owners over the watches.
func sumOf(samples map[string]float64, name string) float64 {
	total := 0.0
	for series, v := range samples {
		if metricName(series) == name {
			total += v
		}
	}
	return total
}

// metricName is the name of a series: bosun_owners{watch="sites"} is bosun_owners.
func metricName(series string) string {
	if j := strings.IndexByte(series, '{'); j >= 0 {
		return series[:j]
	}
	return series
}

// parseSamples reads every sample of the Prometheus text format, by series.
func parseSamples(r io.Reader) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		series := line[:i]
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[series] = v
		}
	}
	return out
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// logStats reads bosun's JSON log lines: counts by level, error messages with the names in
// them folded (so 10,000 owners failing the same way are one line), lines that are not JSON
// (a panic), when the initial sync of the current process was done, and, with --sharding,
// the slots it holds. Each replica has its own.
type logStats struct {
	mu          sync.Mutex
	levels      map[string]int
	errors      map[string]int
	notJSON     []string
	startedAt   time.Time
	initialDone time.Time // of the current process; zero until logged
	// holds is the "holds" of the current process's last "slots acquired" or "slots
	// released" line; slotMoves counts those lines over every process.
	holds     string
	slotMoves int
}

func newLogStats() *logStats {
	return &logStats{levels: map[string]int{}, errors: map[string]int{}}
}

func (l *logStats) restarted(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.startedAt, l.initialDone, l.holds = at, time.Time{}, ""
}

var (
	foldNames   = regexp.MustCompile(`(cal-c\d+-)?site-\d+|bench-[a-z]+-\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	foldNumbers = regexp.MustCompile(`\d+(\.\d+)?(ms|s|µs)?`)
)

func (l *logStats) observe(line []byte) {
	var entry struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Error string `json:"error"`
		Holds string `json:"holds"`
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := json.Unmarshal(line, &entry); err != nil || entry.Level == "" {
		if len(l.notJSON) < 50 {
			l.notJSON = append(l.notJSON, string(line))
		}
		return
	}
	l.levels[entry.Level]++
	switch {
	case entry.Msg == "initial sync done" && l.initialDone.IsZero():
		l.initialDone = time.Now()
	case entry.Msg == "slots acquired" || entry.Msg == "slots released":
		l.holds = entry.Holds
		l.slotMoves++
	}
	if entry.Level == "error" || entry.Level == "warn" || entry.Level == "dpanic" || entry.Level == "panic" || entry.Level == "fatal" {
		msg := entry.Level + ": " + entry.Msg
		if entry.Error != "" {
			msg += ": " + entry.Error
		}
		msg = foldNumbers.ReplaceAllString(foldNames.ReplaceAllString(msg, "<name>"), "N")
		if len(msg) > 400 {
			msg = msg[:400] + "..."
		}
		l.errors[msg]++
	}
}

func (l *logStats) count(level string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.levels[level]
}

func (l *logStats) initialSyncDone() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.initialDone
}

// slots is what the current process last logged it holds, as "0-3,9", and how many "slots
// acquired" and "slots released" lines all of them logged.
func (l *logStats) slots() (holds string, moves int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holds, l.slotMoves
}

// summary returns the folded warning and error messages, most frequent first, and the first
// lines that were not JSON.
func (l *logStats) summary() (levels map[string]int, messages []MessageCount, notJSON []string) {
	return summaryOf([]*logStats{l})
}

// summaryOf is summary over the logs of every replica.
func summaryOf(all []*logStats) (levels map[string]int, messages []MessageCount, notJSON []string) {
	levels = map[string]int{}
	folded := map[string]int{}
	for _, l := range all {
		l.mu.Lock()
		for k, v := range l.levels {
			levels[k] += v
		}
		for m, n := range l.errors {
			folded[m] += n
		}
		notJSON = append(notJSON, l.notJSON...)
		l.mu.Unlock()
	}
	for m, n := range folded {
		messages = append(messages, MessageCount{Message: m, Count: n})
	}
	sort.Slice(messages, func(a, b int) bool {
		if messages[a].Count != messages[b].Count {
			return messages[a].Count > messages[b].Count
		}
		return messages[a].Message < messages[b].Message
	})
	if len(messages) > 20 {
		messages = messages[:20]
	}
	return levels, messages, notJSON
}
