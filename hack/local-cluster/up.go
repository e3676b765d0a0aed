package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/bosun-dev/bosun/internal/localcluster"
)

const (
	// clustersDirName holds the workload clusters' dirs inside the hub's.
	clustersDirName = "clusters"
	hubName         = "hub"
)

// upConfig is what up runs, from the flags.
type upConfig struct {
	dir           string
	clusters      int
	namespace     string
	workloadNodes bool
	noShards      bool
}

// member is one cluster up runs: the hub first, then the workload clusters.
type member struct {
	name string
	// errPrefix names the cluster in errors, unless the hub runs alone.
	errPrefix string
	dir       string
	opts      localcluster.Options
	cluster   *localcluster.Cluster
}

func up(cfg upConfig, stdout, stderr io.Writer) error {
	if cfg.clusters < 1 {
		return fmt.Errorf("up: --clusters %d: want at least 1, the hub", cfg.clusters)
	}
	members := plan(cfg, stderr)
	for _, m := range members {
		if pid, ok := runningPID(filepath.Join(m.dir, pidFileName)); ok {
			return fmt.Errorf("up: a cluster already runs in %s (pid %d); stop it with: go run ./hack/local-cluster down --dir %s", m.dir, pid, cfg.dir)
		}
	}
	// When started by go run, a SIGKILL of go run must still stop the clusters cleanly.
	if err := localcluster.DieWithGoRun(); err != nil {
		return fmt.Errorf("up: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	// One after the other: a cluster binds its ports before the next picks free ones, and on
	// two cores starting them side by side saves little.
	for _, m := range members {
		c, err := localcluster.Start(ctx, m.opts)
		if err != nil {
			return errors.Join(fmt.Errorf("up: %s%w", m.errPrefix, err), stopAll(members))
		}
		m.cluster = c
	}
	// Every dir gets the pid, so down finds this process from any of them and a second up
	// cannot start on the same state.
	for _, m := range members {
		pidFile := filepath.Join(m.dir, pidFileName)
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return errors.Join(fmt.Errorf("up: %w", err), stopAll(members))
		}
		defer os.Remove(pidFile)
	}
	if err := putClusterSecrets(ctx, members[0].cluster, members[1:], cfg.namespace, stderr); err != nil {
		return errors.Join(fmt.Errorf("up: %w", err), stopAll(members))
	}

	fmt.Fprintf(stdout, `
Local control plane is up: Kubernetes %s, one fake node (kwok %s).
%s
  kubectl --kubeconfig %s get ns
  export KUBECONFIG=%s

Logs: %s
Stop: Ctrl-C here, or: go run ./hack/local-cluster down --dir %s

`, localcluster.KubeVersion, localcluster.KwokVersion, clusterList(cfg, members), filepath.Join(cfg.dir, "kubeconfig"),
		members[0].cluster.KubeconfigPath(), logGlobs(members), cfg.dir)

	<-ctx.Done()
	// Signals stay caught until the components are stopped: go run forwards a SIGTERM and
	// then dies, which sends the parent-death SIGTERM as well, and neither may cut the
	// shutdown short. Stop is bounded by its SIGKILL fallback.
	fmt.Fprintln(stderr, "local-cluster: stopping")
	if err := stopAll(members); err != nil {
		return fmt.Errorf("down: %w", err)
	}
	fmt.Fprintln(stderr, "local-cluster: stopped")
	return nil
}

// plan lists the clusters to run: the hub in dir as it always was, then the workload clusters.
func plan(cfg upConfig, stderr io.Writer) []*member {
	hubPrefix := ""
	if cfg.clusters > 1 {
		hubPrefix = hubName + ": "
	}
	members := []*member{{
		name:      hubName,
		errPrefix: hubPrefix,
		dir:       cfg.dir,
		opts: localcluster.Options{
			Dir:                   cfg.dir,
			ControllerManager:     true,
			Scheduler:             true,
			Kwok:                  true,
			NoShardedListAndWatch: cfg.noShards,
			Log:                   prefixWriter{stderr, "local-cluster: "},
		},
	}}
	for i := 1; i < cfg.clusters; i++ {
		name := "workload-" + strconv.Itoa(i)
		dir := filepath.Join(cfg.dir, clustersDirName, name)
		o := localcluster.WorkloadOptions(dir)
		if cfg.workloadNodes {
			o = members[0].opts
			o.Dir = dir
		}
		o.NoShardedListAndWatch = cfg.noShards
		o.Log = prefixWriter{stderr, "local-cluster: " + name + ": "}
		members = append(members, &member{name: name, errPrefix: name + ": ", dir: dir, opts: o})
	}
	return members
}

// stopAll stops the clusters that were started, the workload clusters first.
func stopAll(members []*member) error {
	var errs []error
	for _, m := range slices.Backward(members) {
		if m.cluster == nil {
			continue
		}
		if err := m.cluster.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("%s%w", m.errPrefix, err))
		}
	}
	return errors.Join(errs...)
}

// clusterList names every cluster and its kubeconfig, when there is more than the hub.
func clusterList(cfg upConfig, members []*member) string {
	if len(members) == 1 {
		return ""
	}
	var b strings.Builder
	kind := "etcd, kube-apiserver and kube-controller-manager with the namespace and garbage-collector controllers, no nodes"
	if cfg.workloadNodes {
		kind = "like the hub, one fake node each"
	}
	fmt.Fprintf(&b, "\nWorkload clusters: %s; their kubeconfigs are in the hub as Secrets in namespace %s.\n\n", kind, cfg.namespace)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, m := range members {
		row := "  " + m.name + "\t" + m.cluster.KubeconfigPath()
		if m.name != hubName {
			row += "\tSecret " + cfg.namespace + "/" + m.name
		}
		fmt.Fprintln(w, row)
	}
	w.Flush()
	return b.String()
}

// logGlobs are where the components' logs are.
func logGlobs(members []*member) string {
	hub := filepath.Join(members[0].cluster.Dir(), "*.log")
	if len(members) == 1 {
		return hub
	}
	return hub + ", " + filepath.Join(members[0].cluster.Dir(), clustersDirName, "*", "*.log")
}
