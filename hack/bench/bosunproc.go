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
	logs       *logStats
	done       chan struct{} // closed once reaped
	err        error         // exit error, valid after done
	usage      procUsage     // from the kernel's rusage, valid after done
}

// start runs bosun on the watch config with the kubeconfig; its output goes to logPath and
// through logStats.
func (b *bosunBin) start(kubeconfig, config, logPath string, logs *logStats) (*bosunProc, error) {
	args := []string{"run", "--config", config, "--kubeconfig", kubeconfig, "--log-format", "json"}
	p := &bosunProc{logs: logs, done: make(chan struct{})}
	if b.metricsFlag != "" {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args = append(args, b.metricsFlag, addr)
		p.metricsURL = "http://" + addr + "/metrics"
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

// scrape reads bosun's counters from its metrics endpoint, if it serves one.
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
	return parseCounters(resp.Body)
}

// parseCounters reads the samples of the Prometheus text format whose names end in _total:
// requests, reconciles, retries and child actions.
func parseCounters(r io.Reader) map[string]float64 {
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
		name := series
		if j := strings.IndexByte(series, '{'); j >= 0 {
			name = series[:j]
		}
		if !strings.HasSuffix(name, "_total") {
			continue
		}
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
// (a panic), and when the initial sync of the current process was done.
type logStats struct {
	mu          sync.Mutex
	levels      map[string]int
	errors      map[string]int
	notJSON     []string
	startedAt   time.Time
	initialDone time.Time // of the current process; zero until logged
}

func newLogStats() *logStats {
	return &logStats{levels: map[string]int{}, errors: map[string]int{}}
}

func (l *logStats) restarted(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.startedAt, l.initialDone = at, time.Time{}
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
	if entry.Msg == "initial sync done" && l.initialDone.IsZero() {
		l.initialDone = time.Now()
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

// summary returns the folded warning and error messages, most frequent first, and the first
// lines that were not JSON.
func (l *logStats) summary() (levels map[string]int, messages []MessageCount, notJSON []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	levels = map[string]int{}
	for k, v := range l.levels {
		levels[k] = v
	}
	for m, n := range l.errors {
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
	return levels, messages, append([]string(nil), l.notJSON...)
}
