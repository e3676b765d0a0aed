package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// processStopTimeout bounds how long a killed or stopped process may take to exit.
const processStopTimeout = 30 * time.Second

// logTailLines is how much of a process's log a failed test shows.
const logTailLines = 60

// Process is a binary a test runs (bosun, as `bosun run ... --log-format json`), with its
// stdout and stderr in a log file the test reads.
type Process struct {
	LogFile
	Name   string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // cmd.Wait's result, set before exited is closed
}

// StartProcess starts binary with args, stdout and stderr to <name>.log; it is SIGKILLed when
// the test ends, if it still runs, and its log's end is shown if the test failed.
func StartProcess(t *testing.T, binary, name string, args []string) *Process {
	t.Helper()
	f, logPath := CreateLog(t, name)
	p := &Process{LogFile: LogFile(logPath), Name: name, cmd: exec.Command(binary, args...), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("%s: start %s: %v", name, binary, err)
	}
	go func() {
		defer close(p.exited)
		p.err = p.cmd.Wait()
		f.Close()
	}()
	t.Cleanup(func() {
		p.Kill(t)
		ShowLogOnFailure(t, name, logPath)
	})
	return p
}

// Kill SIGKILLs the process, if it still runs, and waits until it is gone.
func (p *Process) Kill(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
}

// Stop sends SIGTERM, as Kubernetes does to a pod it stops, and waits until the process is
// gone; it returns the process's exit error.
func (p *Process) Stop(t *testing.T) error {
	t.Helper()
	p.signal(t, syscall.SIGTERM)
	return p.err
}

func (p *Process) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Errorf("%s: %s pid %d: %v", p.Name, sig, p.cmd.Process.Pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(processStopTimeout):
		t.Errorf("%s: pid %d still running %s after %s", p.Name, p.cmd.Process.Pid, processStopTimeout, sig)
	}
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is the process's exit error (nil for status 0), once Exited is closed.
func (p *Process) Err() error {
	<-p.exited
	return p.err
}

// CheckRunning fails the test when the process has exited: it must outlive any fault.
func (p *Process) CheckRunning(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("%s: exited mid-test: %v", p.Name, p.err)
	default:
	}
}

// LogFile is the path of a JSON log of bosun.
type LogFile string

// LogLine is one JSON log line of bosun.
type LogLine map[string]any

// Text is the string value of key, "" if there is none.
func (l LogLine) Text(key string) string {
	s, _ := l[key].(string)
	return s
}

// Lines returns the JSON lines of the log so far; other lines (a panic, say) are skipped.
func (f LogFile) Lines(t *testing.T) []LogLine {
	t.Helper()
	data, err := os.ReadFile(string(f))
	if err != nil {
		t.Fatal(err)
	}
	var out []LogLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l LogLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}

// Count is how many log lines have the message and, when owner is not empty, that owner.
func (f LogFile) Count(t *testing.T, msg, owner string) int {
	t.Helper()
	n := 0
	for _, l := range f.Lines(t) {
		if l.Text("msg") == msg && (owner == "" || l.Text("owner") == owner) {
			n++
		}
	}
	return n
}

// WaitCount waits until the log holds exactly want lines with the message and, when owner is
// not empty, that owner. bosun logs a change only after the API server accepted it (and the
// process may be descheduled in between), so a test that has seen the change in the cluster
// must wait for the line rather than read the log at once. More lines than want fail at once;
// fewer fail when timeout has passed.
func (f LogFile) WaitCount(t *testing.T, timeout time.Duration, who, msg, owner string, want int) {
	t.Helper()
	Eventually(t, timeout, func() error {
		switch got := f.Count(t, msg, owner); {
		case got > want:
			t.Fatalf("%s logged %d %q lines for owner %q, want %d", who, got, msg, owner, want)
		case got < want:
			return fmt.Errorf("%s logged %d %q lines for owner %q, want %d", who, got, msg, owner, want)
		}
		return nil
	})
}

// WaitLogged waits until the log holds a line with the message.
func (f LogFile) WaitLogged(t *testing.T, timeout time.Duration, who, msg string) {
	t.Helper()
	Eventually(t, timeout, func() error {
		if f.Count(t, msg, "") == 0 {
			return fmt.Errorf("%s logged no %q line", who, msg)
		}
		return nil
	})
}

// Identity is the process's leader election or sharding identity, from the first log line
// that names it.
func (f LogFile) Identity(t *testing.T) string {
	t.Helper()
	for _, l := range f.Lines(t) {
		if id := l.Text("identity"); id != "" {
			return id
		}
	}
	return ""
}

// CreateLog creates <name>.log in a directory of its own that is kept, and named in the
// output, when the test fails.
func CreateLog(t *testing.T, name string) (*os.File, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "bosun-test-"+name+"-")
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

// ShowLogOnFailure puts the end of a log into a failed test's output.
func ShowLogOnFailure(t *testing.T, name, path string) {
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

// PeakRSS is the most resident memory the process has held so far (VmHWM), in bytes.
func (p *Process) PeakRSS(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("%s: peak RSS: %v", p.Name, err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err != nil {
				t.Fatalf("%s: peak RSS: %q: %v", p.Name, line, err)
			}
			return kib << 10
		}
	}
	t.Fatalf("%s: peak RSS: no VmHWM in /proc/%d/status", p.Name, p.cmd.Process.Pid)
	return 0
}
