package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bosun-dev/bosun/internal/localcluster"
)

// startTimeout bounds the control plane's start-up in Main.
const startTimeout = 3 * time.Minute

// Env is the control plane of a test package and clients for it, all with admin rights.
type Env struct {
	Cluster   *localcluster.Cluster
	Clientset kubernetes.Interface
	Dynamic   dynamic.Interface
	opts      localcluster.Options
}

// Main starts a control plane with the options, points *env at it, runs the tests and stops
// the control plane. Call it from TestMain:
//
//	var env *testenv.Env
//
//	func TestMain(m *testing.M) {
//		os.Exit(testenv.Main(m, localcluster.Options{}, &env))
//	}
//
// Options.Dir defaults to a temporary dir and Options.Log to stderr, which go test shows only
// for a failing package or with -v. It returns the exit code for os.Exit: 1 when the control
// plane does not start (for instance because binaries are missing) or does not stop cleanly.
func Main(m *testing.M, o localcluster.Options, env **Env) int {
	stderr := prefixWriter{w: os.Stderr, prefix: "testenv: "}
	if o.Log == nil {
		o.Log = stderr
	}
	created := o.Dir == ""
	if created {
		dir, err := os.MkdirTemp("", "bosun-testenv-")
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		o.Dir = dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := localcluster.Start(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "start control plane: %v\n", err)
		var missing *localcluster.MissingBinariesError
		if errors.As(err, &missing) && created {
			os.RemoveAll(o.Dir) // nothing ran, so there are no logs to keep
		} else {
			fmt.Fprintf(stderr, "state and logs kept in %s\n", o.Dir)
		}
		return 1
	}
	e, err := newEnv(c, o)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitCode(1, c.Stop(), stderr, o.Dir)
	}
	*env = e
	return exitCode(m.Run(), c.Stop(), stderr, o.Dir)
}

// Start starts a control plane of its own for one test, stopped when the test ends — for a
// test that needs a cluster unlike its package's (another feature gate, say). Options.Dir
// defaults to a temporary dir, kept when the test fails.
func Start(t *testing.T, o localcluster.Options) *Env {
	t.Helper()
	return startForTest(t, "", o, true)
}

// startForTest starts a control plane that lives as long as t: the test's own if name is
// empty, else the workload cluster name, whose progress lines are prefixed with it. An empty
// Options.Dir is a new temporary dir. The dir is kept when the test fails and otherwise
// removed if it is such a new one or removeGiven is true.
func startForTest(t testing.TB, name string, o localcluster.Options, removeGiven bool) *Env {
	t.Helper()
	what, prefix, pattern := "control plane", "testenv: ", "bosun-testenv-"
	if name != "" {
		what, prefix, pattern = "workload cluster "+name, prefix+name+": ", pattern+name+"-"
	}
	if o.Log == nil {
		o.Log = prefixWriter{w: os.Stderr, prefix: prefix}
	}
	remove := removeGiven
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", pattern)
		if err != nil {
			t.Fatal(err)
		}
		o.Dir, remove = dir, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := localcluster.Start(ctx, o)
	if err != nil {
		t.Fatalf("start %s (state and logs in %s): %v", what, o.Dir, err)
	}
	e, err := newEnv(c, o)
	if err != nil {
		_ = c.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop %s: %v", what, err)
		}
		if t.Failed() {
			t.Logf("%s state and logs kept in %s", what, o.Dir)
			return
		}
		if remove {
			os.RemoveAll(o.Dir)
		}
	})
	return e
}

func newEnv(c *localcluster.Cluster, o localcluster.Options) (*Env, error) {
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return nil, fmt.Errorf("clientset: %w", err)
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	return &Env{Cluster: c, Clientset: cs, Dynamic: dyn, opts: o}, nil
}

// exitCode folds the stop error into the tests' exit code and removes the state dir only
// when everything passed, so a failure's logs stay around.
func exitCode(code int, stopErr error, stderr io.Writer, dir string) int {
	if stopErr != nil {
		fmt.Fprintf(stderr, "stop control plane: %v\n", stopErr)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		fmt.Fprintf(stderr, "state and logs kept in %s\n", dir)
		return code
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintf(stderr, "remove %s: %v\n", dir, err)
	}
	return code
}

// RESTConfig returns a copy of the admin client config.
func (e *Env) RESTConfig() *rest.Config { return e.Cluster.RESTConfig() }

// CreateNamespace creates a namespace named prefix-<random> and deletes it when the test
// ends (a test may delete it first). With kube-controller-manager running it also waits for the namespace's "default"
// ServiceAccount, without which the API server rejects pods.
func (e *Env) CreateNamespace(t testing.TB, prefix string) string {
	t.Helper()
	ns, err := e.Clientset.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("Namespace/%s-*: create: %v", prefix, err)
	}
	t.Cleanup(func() {
		// Without kube-controller-manager the namespace stays Terminating; that is harmless
		// in a cluster that lives only as long as the test package.
		err := e.Clientset.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("Namespace/%s: delete: %v", ns.Name, err)
		}
	})
	if e.opts.ControllerManager {
		// Pods need the namespace's default ServiceAccount. kube-controller-manager creates it,
		// but after a fault test restarted the API server or etcd its informers may still be in
		// client-go's relist backoff (up to 30 s): create it here instead of waiting for that.
		_, err := e.Clientset.CoreV1().ServiceAccounts(ns.Name).Create(context.Background(), &corev1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: "default"},
		}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("ServiceAccount/%s/default: create: %v", ns.Name, err)
		}
	}
	return ns.Name
}

// prefixWriter prefixes each write, which localcluster makes one line at a time.
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
