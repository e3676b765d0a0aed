package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// defaultStartTimeout bounds Start when ctx has no deadline: a cold kube-apiserver on a busy
// two-core machine takes well under a minute, so this only catches hangs.
const defaultStartTimeout = 2 * time.Minute

// Cluster is a running local control plane. Its methods are safe for concurrent use.
type Cluster struct {
	opts       Options
	dir        string // absolute Options.Dir
	binDir     string
	log        io.Writer
	pki        pki
	ports      ports
	kubeconfig string
	restConfig *rest.Config

	mu                                            sync.Mutex
	etcd, apiServer, controllerManager, scheduler *process
	kwok                                          *process
}

// Start runs the control plane the options ask for and returns once it serves: kube-apiserver
// answers /readyz, the other components answer /healthz, and with Kwok the fake Node is Ready.
// ctx bounds only the start-up (two minutes when it has no deadline); the processes run until
// Stop. On error nothing started is left running.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	c := &Cluster{opts: o, binDir: o.ResolveBinDir(), log: o.Log}
	if c.log == nil {
		c.log = io.Discard
	}
	if err := checkBinaries(c.binDir, o.binaries(), o.Kwok); err != nil {
		return nil, err
	}
	if err := c.prepare(); err != nil {
		return nil, err
	}
	if err := c.startAll(ctx); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

// prepare sets up the state dir: certificates, ports and the admin kubeconfig.
func (c *Cluster) prepare() error {
	dir, err := filepath.Abs(c.opts.Dir)
	if err != nil {
		return fmt.Errorf("dir %s: %w", c.opts.Dir, err)
	}
	c.dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dir %s: %w", dir, err)
	}
	if c.pki, err = loadOrCreatePKI(dir); err != nil {
		return err
	}
	if c.ports, err = pickPorts(); err != nil {
		return err
	}
	c.restConfig = &rest.Config{
		Host: loopbackURL("https", c.ports.apiServer),
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   c.pki.caPEM,
			CertData: c.pki.adminCertPEM,
			KeyData:  c.pki.adminKeyPEM,
		},
		// Tests issue bursts of requests; client-side throttling at client-go's default of
		// 5 QPS would only slow them down.
		QPS:   200,
		Burst: 400,
	}
	c.kubeconfig = filepath.Join(dir, "kubeconfig")
	return c.writeKubeconfig()
}

func (c *Cluster) startAll(ctx context.Context) error {
	begin := time.Now()
	if err := c.StartEtcd(ctx); err != nil {
		return err
	}
	if err := c.StartAPIServer(ctx); err != nil {
		return err
	}
	if err := c.startComponents(ctx); err != nil {
		return err
	}
	if c.opts.Kwok {
		if err := c.startKwok(ctx); err != nil {
			return err
		}
	}
	c.logf("control plane ready in %s (kubeconfig %s)", since(begin), c.kubeconfig)
	return nil
}

// startComponents starts kube-controller-manager and kube-scheduler side by side, since
// neither waits for the other.
func (c *Cluster) startComponents(ctx context.Context) error {
	var started []*process
	if c.opts.ControllerManager {
		p, err := c.startProcess(KubeControllerManager, c.controllerManagerArgs(), nil, &c.controllerManager)
		if err != nil {
			return err
		}
		started = append(started, p)
	}
	if c.opts.Scheduler {
		p, err := c.startProcess(KubeScheduler, c.schedulerArgs(), nil, &c.scheduler)
		if err != nil {
			return err
		}
		started = append(started, p)
	}
	healthPort := map[string]int{KubeControllerManager: c.ports.controllerManager, KubeScheduler: c.ports.scheduler}
	for _, p := range started {
		begin := time.Now()
		url := loopbackURL("https", healthPort[p.name]) + "/healthz"
		if err := waitFor(ctx, p, p.name, httpOK(insecureClient(), url, anyBody)); err != nil {
			return err
		}
		c.logf("%s healthy after %s", p.name, since(begin))
	}
	if c.opts.ControllerManager && !c.opts.MinimalControllers {
		// The token and service-account controllers are the first to run; once "default"
		// exists in "default", pods can be created and the other controllers are started.
		// The minimal set has no service-account controller, so there is nothing to wait for.
		begin := time.Now()
		if err := waitFor(ctx, c.controllerManager, "default service account", c.defaultServiceAccount); err != nil {
			return err
		}
		c.logf("%s controllers running after %s", KubeControllerManager, since(begin))
	}
	return nil
}

// StartEtcd starts etcd on its ports with its data dir and waits until it is healthy and, if
// kube-apiserver runs, until kube-apiserver is ready again.
func (c *Cluster) StartEtcd(ctx context.Context) error {
	begin := time.Now()
	p, err := c.startProcess(Etcd, c.etcdArgs(), nil, &c.etcd)
	if err != nil {
		return err
	}
	url := loopbackURL("http", c.ports.etcdClient) + "/health"
	healthy := func(body string) bool { return strings.Contains(body, `"health":"true"`) }
	if err := waitFor(ctx, p, Etcd, httpOK(plainClient(), url, healthy)); err != nil {
		return err
	}
	c.logf("etcd healthy after %s", since(begin))
	c.mu.Lock()
	apiServer := c.apiServer
	c.mu.Unlock()
	if apiServer != nil && !apiServer.exited() {
		return c.waitAPIServer(ctx, apiServer)
	}
	return nil
}

// StopEtcd stops etcd; kube-apiserver keeps running and fails its requests until StartEtcd.
func (c *Cluster) StopEtcd() error { return c.stopProcess(&c.etcd) }

// StartAPIServer starts kube-apiserver on its port with its certificates and waits for /readyz.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	p, err := c.startProcess(KubeAPIServer, c.apiServerArgs(), nil, &c.apiServer)
	if err != nil {
		return err
	}
	return c.waitAPIServer(ctx, p)
}

// StopAPIServer stops kube-apiserver; clients get connection errors until StartAPIServer.
func (c *Cluster) StopAPIServer() error { return c.stopProcess(&c.apiServer) }

func (c *Cluster) waitAPIServer(ctx context.Context, p *process) error {
	begin := time.Now()
	client, err := rest.HTTPClientFor(c.RESTConfig())
	if err != nil {
		return fmt.Errorf("%s: client: %w", KubeAPIServer, err)
	}
	defer client.CloseIdleConnections()
	check := httpOK(client, c.restConfig.Host+"/readyz", func(b string) bool { return b == "ok" })
	if err := waitFor(ctx, p, KubeAPIServer, check); err != nil {
		return err
	}
	c.logf("%s ready after %s at %s", KubeAPIServer, since(begin), c.restConfig.Host)
	return nil
}

// Stop stops every component the cluster started, the last started first, and waits until
// they are gone. The state dir stays.
func (c *Cluster) Stop() error {
	var errs []error
	for _, p := range []**process{&c.kwok, &c.scheduler, &c.controllerManager, &c.apiServer, &c.etcd} {
		errs = append(errs, c.stopProcess(p))
	}
	return errors.Join(errs...)
}

// RESTConfig returns a copy of the admin (system:masters) client config.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.restConfig) }

// Dir is the absolute state dir; the components' logs are <Dir>/<binary>.log.
func (c *Cluster) Dir() string { return c.dir }

// PIDs returns the process ids of the running components by binary name, for callers that
// check that nothing is left behind.
func (c *Cluster) PIDs() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	pids := map[string]int{}
	for _, p := range []*process{c.etcd, c.apiServer, c.controllerManager, c.scheduler, c.kwok} {
		if p != nil && !p.exited() {
			pids[p.name] = p.cmd.Process.Pid
		}
	}
	return pids
}

// startProcess starts a component into *slot, refusing when one already runs there.
func (c *Cluster) startProcess(name string, args, env []string, slot **process) (*process, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := *slot; p != nil && !p.exited() {
		return nil, fmt.Errorf("%s: already running (pid %d)", name, p.cmd.Process.Pid)
	}
	p, err := startProcess(c.dir, name, filepath.Join(c.binDir, name), args, env)
	if err != nil {
		return nil, err
	}
	*slot = p
	c.logf("%s started (pid %d, log %s)", name, p.cmd.Process.Pid, p.logPath)
	return p, nil
}

func (c *Cluster) stopProcess(slot **process) error {
	c.mu.Lock()
	p := *slot
	*slot = nil
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	begin := time.Now()
	if err := p.stop(); err != nil {
		return err
	}
	c.logf("%s stopped after %s", p.name, since(begin))
	return nil
}

func (c *Cluster) logf(format string, args ...any) {
	fmt.Fprintf(c.log, format+"\n", args...)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
