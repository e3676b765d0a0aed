// Command local-cluster runs bosun's local control planes for humans, all on 127.0.0.1: a hub
// with etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with one fake
// Node, and optionally workload clusters beside it.
//
//	go run ./hack/local-cluster up [--dir .local-cluster]     start it and wait; Ctrl-C stops it
//	go run ./hack/local-cluster down [--dir .local-cluster]   stop the one running in dir
//	go run ./hack/local-cluster up --clusters 3               the hub and workload-1, workload-2
//	    [--clusters-namespace default] [--workload-nodes]
//
// With --clusters N, up also starts N-1 workload clusters, workload-1 ... workload-<N-1>, in
// <dir>/clusters/<name>, each with its own kubeconfig there. They are lighter: etcd,
// kube-apiserver and kube-controller-manager with only the namespace and garbage-collector
// controllers, so they hold objects but run no pods; --workload-nodes gives them the hub's full
// set, so their Deployments become Available. Once all run, up writes into the hub, in the
// namespace --clusters-namespace (default "default", created if missing), a Secret per
// workload cluster named after it, labelled bosun.dev/secret-type=cluster and
// bosun.dev/cluster-name=<name>, with its admin kubeconfig (certificates inline) under the key
// "value"; Secrets an earlier up wrote for clusters that no longer run (in any namespace)
// are deleted. down stops the hub and every workload cluster under <dir>/clusters; so does
// Ctrl-C.
//
// The binaries come from hack/build-tools.sh. The state (certificates, etcd data, logs,
// kubeconfig) stays in each cluster's dir, so a later up keeps the objects of the previous one;
// remove the dir for fresh clusters. Ports are picked anew by every up, so kubeconfigs and
// Secrets from an earlier up are stale until the next one rewrites them.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `usage: local-cluster up [--dir .local-cluster] [--clusters N] [--clusters-namespace default] [--workload-nodes] [--no-sharded-list-and-watch]
       local-cluster down [--dir .local-cluster]`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "local-cluster: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "down") {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	var cfg upConfig
	fs.StringVar(&cfg.dir, "dir", ".local-cluster", "state dir of the hub: certificates, etcd data, logs, kubeconfig, pid file; workload clusters are in <dir>/clusters/<name>")
	fs.IntVar(&cfg.clusters, "clusters", 1, "clusters to run: the hub and N-1 workload clusters named workload-1, workload-2, ...")
	fs.StringVar(&cfg.namespace, "clusters-namespace", "default", "namespace of the hub that gets the workload clusters' kubeconfig Secrets (created if missing)")
	fs.BoolVar(&cfg.workloadNodes, "workload-nodes", false, "run workload clusters like the hub, with kube-scheduler, every controller and kwok with a fake Node, so their Deployments become Available")
	fs.BoolVar(&cfg.noShards, "no-sharded-list-and-watch", false, "start kube-apiserver without the ShardedListAndWatch feature gate (KEP-5866), as most clusters run today")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] == "up" {
		return up(cfg, stdout, stderr)
	}
	return down(cfg.dir, stdout)
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
