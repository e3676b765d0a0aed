package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	pidFileName = "local-cluster.pid"
	// downTimeout covers the worst case of every component needing SIGKILL.
	downTimeout = 40 * time.Second
)

// down signals the up processes of dir and of the workload clusters under it (usually one
// process runs them all), which stop their components, and waits until they are gone.
func down(dir string, stdout io.Writer) error {
	dirs := append([]string{dir}, workloadDirs(dir)...)
	var pids []int
	var stopped []string
	for _, d := range dirs {
		pidFile := filepath.Join(d, pidFileName)
		pid, ok := runningPID(pidFile)
		if !ok {
			os.Remove(pidFile) // stale: that process is gone
			continue
		}
		if !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
		stopped = append(stopped, d)
	}
	if len(pids) == 0 {
		fmt.Fprintf(stdout, "no local cluster running in %s\n", dir)
		return nil
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("down: pid %d: %w", pid, err)
		}
	}
	deadline := time.Now().Add(downTimeout)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("down: pid %d still running after %s; its components' logs are in %s", pid, downTimeout, dir)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, d := range stopped {
		fmt.Fprintf(stdout, "local cluster in %s stopped\n", d)
	}
	return nil
}

// workloadDirs lists the dirs under <dir>/clusters, where up puts workload clusters.
func workloadDirs(dir string) []string {
	entries, err := os.ReadDir(filepath.Join(dir, clustersDirName))
	if err != nil {
		return nil // none were ever started
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(dir, clustersDirName, e.Name()))
		}
	}
	return dirs
}

// runningPID reads the pid file and says whether that process is still a local-cluster.
func runningPID(pidFile string) (int, bool) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0, false
	}
	// Where /proc exists, make sure the pid was not reused by an unrelated process.
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && !strings.Contains(string(cmdline), "local-cluster") {
		return 0, false
	}
	return pid, true
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
