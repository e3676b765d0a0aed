package faults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"

	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/testenv"
)

// stopTimeout bounds how long a stopped bosun may take to exit.
const stopTimeout = 30 * time.Second

// logTailLines is how much of bosun's log a failed test shows.
const logTailLines = 60

// inProcess is bosun's run loop (cli.Run) in the test process, logging JSON to a file.
type inProcess struct {
	logFile
	cancel context.CancelFunc
	exited chan struct{}
	err    error // cli.Run's result, set before exited is closed
}

// startInProcess runs bosun on the config, restricted to the namespace, until the test ends.
// client-go's own logs go to the same file, as `bosun run` routes them.
func startInProcess(t *testing.T, config, namespace string) *inProcess {
	t.Helper()
	f, logPath := createLog(t, "bosun")
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.Lock(f), zap.DebugLevel)
	log := zap.New(core)
	klog.SetLogger(zapr.NewLogger(log.Named("client-go")))

	ctx, cancel := context.WithCancel(context.Background())
	b := &inProcess{logFile: logFile(logPath), cancel: cancel, exited: make(chan struct{})}
	go func() {
		defer close(b.exited)
		b.err = cli.Run(ctx, cli.RunOptions{
			ConfigPath:      config,
			Namespace:       namespace,
			RESTConfig:      env.RESTConfig(),
			Log:             log,
			ShutdownTimeout: 10 * time.Second,
		})
	}()
	t.Cleanup(func() {
		b.cancel()
		select {
		case <-b.exited:
			if b.err != nil {
				t.Errorf("bosun run: %v", b.err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("bosun did not stop within %s of the stop signal", stopTimeout)
		}
		klog.ClearLogger()
		f.Close()
		showLogOnFailure(t, "bosun", logPath)
	})
	return b
}

// checkRunning fails the test when bosun's run has returned: it must outlive any fault.
func (b *inProcess) checkRunning(t *testing.T) {
	t.Helper()
	select {
	case <-b.exited:
		t.Fatalf("bosun's run returned mid-test: %v", b.err)
	default:
	}
}

// process is the real bosun binary run as `bosun run ... --log-format json --log-level debug`.
type process struct {
	logFile
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // cmd.Wait's result, set before exited is closed
}

// bosunArgs are the arguments of `bosun run` on the config, restricted to the namespace. The
// metrics and health endpoints are off: several runs at once would fight over their ports.
func bosunArgs(config, namespace string, extra ...string) []string {
	return append([]string{
		"run",
		"--config", config,
		"--kubeconfig", env.Cluster.KubeconfigPath(),
		"--namespace", namespace,
		"--log-format", "json",
		"--log-level", "debug",
		"--metrics-addr", "0",
		"--health-addr", "0",
	}, extra...)
}

// startProcess starts the binary with stdout and stderr to <name>.log; it is SIGKILLed when
// the test ends, if it still runs.
func startProcess(t *testing.T, name string, args []string) *process {
	t.Helper()
	f, logPath := createLog(t, name)
	p := &process{logFile: logFile(logPath), name: name, cmd: exec.Command(bosunBinary, args...), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("%s: start %s: %v", name, bosunBinary, err)
	}
	go func() {
		defer close(p.exited)
		p.err = p.cmd.Wait()
		f.Close()
	}()
	t.Cleanup(func() {
		p.kill(t)
		showLogOnFailure(t, name, logPath)
	})
	return p
}

// kill SIGKILLs the process, if it still runs, and waits until it is gone.
func (p *process) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Errorf("%s: kill pid %d: %v", p.name, p.cmd.Process.Pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		t.Errorf("%s: pid %d still running %s after SIGKILL", p.name, p.cmd.Process.Pid, stopTimeout)
	}
}

// checkRunning fails the test when the process has exited: it must outlive any fault.
func (p *process) checkRunning(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("%s: exited mid-test: %v", p.name, p.err)
	default:
	}
}

// logFile is the path of a JSON log of bosun.
type logFile string

// logLine is one JSON log line of bosun.
type logLine map[string]any

func (l logLine) text(key string) string {
	s, _ := l[key].(string)
	return s
}

// lines returns the JSON lines of the log so far; other lines (a panic, say) are skipped.
func (f logFile) lines(t *testing.T) []logLine {
	t.Helper()
	data, err := os.ReadFile(string(f))
	if err != nil {
		t.Fatal(err)
	}
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}

// count is how many log lines have the message and, when owner is not empty, that owner.
func (f logFile) count(t *testing.T, msg, owner string) int {
	t.Helper()
	n := 0
	for _, l := range f.lines(t) {
		if l.text("msg") == msg && (owner == "" || l.text("owner") == owner) {
			n++
		}
	}
	return n
}

// waitCount waits until the log holds exactly want lines with the message and, when owner is
// not empty, that owner. bosun logs a change only after the API server accepted it (and the
// process may be descheduled in between), so a test that has seen the change in the cluster
// must wait for the line rather than read the log at once. More lines than want fail at once;
// fewer fail when timeout has passed.
func (f logFile) waitCount(t *testing.T, timeout time.Duration, who, msg, owner string, want int) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		switch got := f.count(t, msg, owner); {
		case got > want:
			t.Fatalf("%s logged %d %q lines for owner %q, want %d", who, got, msg, owner, want)
		case got < want:
			return fmt.Errorf("%s logged %d %q lines for owner %q, want %d", who, got, msg, owner, want)
		}
		return nil
	})
}

// waitLogged waits until the log holds a line with the message.
func (f logFile) waitLogged(t *testing.T, timeout time.Duration, who, msg string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if f.count(t, msg, "") == 0 {
			return fmt.Errorf("%s logged no %q line", who, msg)
		}
		return nil
	})
}

// identity is the process's leader election identity, from the first log line that names it.
func (f logFile) identity(t *testing.T) string {
	t.Helper()
	for _, l := range f.lines(t) {
		if id := l.text("identity"); id != "" {
			return id
		}
	}
	return ""
}

// createLog creates <name>.log in a directory of its own that is kept, and named in the
// output, when the test fails.
func createLog(t *testing.T, name string) (*os.File, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "bosun-faults-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log kept in %s", name, dir)
			return
		}
		os.RemoveAll(dir)
	})
	path := filepath.Join(dir, name+".log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return f, path
}

// showLogOnFailure puts the end of a log into a failed test's output.
func showLogOnFailure(t *testing.T, name, path string) {
	if !t.Failed() {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s log: %v", name, err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	tail := lines[max(0, len(lines)-logTailLines):]
	t.Logf("%s log, last %d of %d lines:\n%s", name, len(tail), len(lines), strings.Join(tail, "\n"))
}
