// Command local-cluster runs bosun's local control plane for humans: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok with one fake Node, all on 127.0.0.1.
//
//	go run ./hack/local-cluster up [--dir .local-cluster]     start it and wait; Ctrl-C stops it
//	go run ./hack/local-cluster down [--dir .local-cluster]   stop the one running in dir
//
// The binaries come from hack/build-tools.sh. The state (certificates, etcd data, logs,
// kubeconfig) stays in the dir, so a later up keeps the objects of the previous one; remove
// the dir for a fresh cluster.
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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bosun-dev/bosun/internal/localcluster"
)

const (
	pidFileName = "local-cluster.pid"
	// downTimeout covers the worst case of every component needing SIGKILL.
	downTimeout = 40 * time.Second
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "local-cluster: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "down") {
		return errors.New("usage: local-cluster up|down [--dir .local-cluster]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".local-cluster", "state dir: certificates, etcd data, logs, kubeconfig, pid file")
	noShards := fs.Bool("no-sharded-list-and-watch", false, "start kube-apiserver without the ShardedListAndWatch feature gate (KEP-5866), as most clusters run today")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] == "up" {
		return up(*dir, *noShards, stdout, stderr)
	}
	return down(*dir, stdout)
}

func up(dir string, noShards bool, stdout, stderr io.Writer) error {
	pidFile := filepath.Join(dir, pidFileName)
	if pid, ok := runningPID(pidFile); ok {
		return fmt.Errorf("up: a cluster already runs in %s (pid %d); stop it with: go run ./hack/local-cluster down --dir %s", dir, pid, dir)
	}
	// When started by go run, a SIGKILL of go run must still stop the cluster cleanly.
	if err := localcluster.DieWithGoRun(); err != nil {
		return fmt.Errorf("up: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	c, err := localcluster.Start(ctx, localcluster.Options{
		Dir:                   dir,
		ControllerManager:     true,
		Scheduler:             true,
		Kwok:                  true,
		NoShardedListAndWatch: noShards,
		Log:                   prefixWriter{stderr, "local-cluster: "},
	})
	if err != nil {
		return fmt.Errorf("up: %w", err)
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return errors.Join(fmt.Errorf("up: %w", err), c.Stop())
	}
	defer os.Remove(pidFile)

	fmt.Fprintf(stdout, `
Local control plane is up: Kubernetes %s, one fake node (kwok %s).

  kubectl --kubeconfig %s get ns
  export KUBECONFIG=%s

Logs: %s/*.log
Stop: Ctrl-C here, or: go run ./hack/local-cluster down --dir %s

`, localcluster.KubeVersion, localcluster.KwokVersion, filepath.Join(dir, "kubeconfig"), c.KubeconfigPath(), c.Dir(), dir)

	<-ctx.Done()
	// Signals stay caught until the components are stopped: go run forwards a SIGTERM and
	// then dies, which sends the parent-death SIGTERM as well, and neither may cut the
	// shutdown short. Stop is bounded by its SIGKILL fallback.
	fmt.Fprintln(stderr, "local-cluster: stopping")
	if err := c.Stop(); err != nil {
		return fmt.Errorf("down: %w", err)
	}
	fmt.Fprintln(stderr, "local-cluster: stopped")
	return nil
}

// down signals the up process of dir, which stops its components, and waits until it is gone.
func down(dir string, stdout io.Writer) error {
	pidFile := filepath.Join(dir, pidFileName)
	pid, ok := runningPID(pidFile)
	if !ok {
		os.Remove(pidFile) // stale: that process is gone
		fmt.Fprintf(stdout, "no local cluster running in %s\n", dir)
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("down: pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(downTimeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("down: pid %d still running after %s; its components' logs are in %s", pid, downTimeout, dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(stdout, "local cluster in %s stopped\n", dir)
	return nil
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

type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}
