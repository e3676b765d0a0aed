package localcluster

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
)

// controllers are the kube-controller-manager controllers a workload on the local cluster
// needs. Left out: cloud, node IPAM, volumes and certificate signing, which have nothing to
// act on without real nodes and storage, and HPA, which needs a metrics API.
var controllers = []string{
	"serviceaccount-token-controller",
	"serviceaccount-controller",
	"root-ca-certificate-publisher-controller",
	"namespace-controller",
	"garbage-collector-controller",
	"resourcequota-controller",
	"deployment-controller",
	"replicaset-controller",
	"replicationcontroller-controller",
	"statefulset-controller",
	"daemonset-controller",
	"job-controller",
	"cronjob-controller",
	"ttl-after-finished-controller",
	"disruption-controller",
	"endpoints-controller",
	"endpointslice-controller",
	"endpointslice-mirroring-controller",
	"service-cidr-controller",
	"node-lifecycle-controller",
	"taint-eviction-controller",
	"pod-garbage-collector-controller",
	"clusterrole-aggregation-controller",
}

// minimalControllers are what a cluster that holds objects but runs no pods needs: deleting a
// namespace deletes what is in it, and dependents go after their owners.
var minimalControllers = []string{
	"namespace-controller",
	"garbage-collector-controller",
}

// Annotation and value that mark the fake Node kwok manages.
const (
	KwokNodeAnnotation = "kwok.x-k8s.io/node"
	KwokNodeValue      = "fake"
	KwokNodeName       = "kwok-node-0"
)

// ports are the loopback ports of one cluster, fixed for its lifetime so a restarted
// component comes back where its clients expect it.
type ports struct {
	etcdClient, etcdPeer, apiServer, controllerManager, scheduler, kwok int
}

func pickPorts() (ports, error) {
	var ps [6]int
	seen := map[int]bool{}
	for i := range ps {
		for {
			p, err := freePort()
			if err != nil {
				return ports{}, fmt.Errorf("pick free port: %w", err)
			}
			if !seen[p] {
				seen[p] = true
				ps[i] = p
				break
			}
		}
	}
	return ports{ps[0], ps[1], ps[2], ps[3], ps[4], ps[5]}, nil
}

// freePort asks the kernel for a free port. Another process can take it before the
// component binds it; the kernel hands out ports in a way that makes that rare, and a lost
// race shows as a component failing to start with "address already in use" in its log.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func loopbackURL(scheme string, port int) string {
	return scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

func (c *Cluster) etcdArgs() []string {
	client, peer := loopbackURL("http", c.ports.etcdClient), loopbackURL("http", c.ports.etcdPeer)
	args := []string{
		"--name=bosun",
		"--data-dir=" + filepath.Join(c.dir, "etcd"),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=bosun=" + peer,
		"--log-level=warn",
	}
	if !c.opts.Fsync {
		args = append(args, "--unsafe-no-fsync")
	}
	return args
}

func (c *Cluster) apiServerArgs() []string {
	gates := "ShardedListAndWatch=true"
	if c.opts.NoShardedListAndWatch {
		gates = "ShardedListAndWatch=false"
	}
	return []string{
		"--feature-gates=" + gates,
		"--etcd-servers=" + loopbackURL("http", c.ports.etcdClient),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// The endpoint reconciler refuses a loopback address; nothing in the cluster needs
		// the endpoints of the "kubernetes" Service anyway, since no pod really runs.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + strconv.Itoa(c.ports.apiServer),
		"--tls-cert-file=" + c.pki.servingCert(),
		"--tls-private-key-file=" + c.pki.servingKey(),
		"--client-ca-file=" + c.pki.caCert(),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + c.pki.saPub(),
		"--service-account-signing-key-file=" + c.pki.saKey(),
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		"--cert-dir=" + filepath.Join(c.dir, "apiserver-certs"),
		"--profiling=false",
		// Without a grace period for watches, a SIGTERM leaves kube-apiserver waiting on the
		// open watches of kube-controller-manager (and of any controller under test) until
		// stopGrace runs out and it is killed; with one it closes them and exits in about a
		// second, which is what a test that restarts it wants.
		"--shutdown-watch-termination-grace-period=1s",
	}
}

// componentArgs are the flags kube-controller-manager and kube-scheduler share: the admin
// kubeconfig for everything and a loopback health port with a self-signed certificate.
func (c *Cluster) componentArgs(name string, port int) []string {
	return []string{
		"--kubeconfig=" + c.kubeconfig,
		"--authentication-kubeconfig=" + c.kubeconfig,
		"--authorization-kubeconfig=" + c.kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(c.dir, name+"-certs"),
		"--leader-elect=false",
		// The defaults (20 QPS for kube-controller-manager) make thousands of Deployments
		// wait minutes for their ReplicaSets and pods; clusters that run at that scale raise
		// them too. Benchmarks must measure bosun, not a throttled controller-manager.
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
	}
}

func (c *Cluster) controllerManagerArgs() []string {
	return append(c.componentArgs(KubeControllerManager, c.ports.controllerManager),
		"--controllers="+strings.Join(c.controllers(), ","),
		"--service-account-private-key-file="+c.pki.saKey(),
		"--root-ca-file="+c.pki.caCert(),
		"--use-service-account-credentials=false",
		"--concurrent-deployment-syncs=20",
		"--concurrent-replicaset-syncs=20",
	)
}

func (c *Cluster) controllers() []string {
	if c.opts.MinimalControllers {
		return minimalControllers
	}
	return controllers
}

func (c *Cluster) schedulerArgs() []string {
	return c.componentArgs(KubeScheduler, c.ports.scheduler)
}

func (c *Cluster) kwokArgs() []string {
	args := []string{
		"--kubeconfig=" + c.kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=" + KwokNodeValue,
		"--server-address=" + net.JoinHostPort("127.0.0.1", strconv.Itoa(c.ports.kwok)),
		"--node-ip=127.0.0.1",
		// The default /24 runs out after 254 pods.
		"--cidr=10.244.0.0/16",
	}
	for _, s := range kwokStages {
		args = append(args, "--config="+filepath.Join(c.binDir, kwokStagesDir, s))
	}
	return args
}

// kwokEnv points HOME into the state dir: kwok also loads ~/.kwok/kwok.yaml when it exists,
// and a developer's own kwok setup must not change the cluster.
func (c *Cluster) kwokEnv() []string {
	return []string{"HOME=" + filepath.Join(c.dir, "kwok-home")}
}
