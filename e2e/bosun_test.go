package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/testenv"
)

var (
	siteGVR        = schema.GroupVersionResource{Group: "example.bosun.dev", Version: "v1", Resource: "sites"}
	widgetGVR      = schema.GroupVersionResource{Group: "e2e.bosun.dev", Version: "v1", Resource: "widgets"}
	configMapGVR   = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secretGVR      = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	saGVR          = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	serviceGVR     = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	deployGVR      = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	statefulSetGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
	probeGVR       = schema.GroupVersionResource{Group: "e2e.bosun.dev", Version: "v1", Resource: "probes"}
	clusterRoleGVR = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
)

const waitTimeout = 30 * time.Second

// bosun is one in-process run of the controller, as `bosun run` runs it.
type bosun struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
	logs   *observer.ObservedLogs
	once   sync.Once
}

// startBosun runs bosun on the config until stop or the end of the test. A non-empty
// namespace restricts it (--namespace), which keeps tests that share the cluster apart.
func startBosun(t *testing.T, config, namespace string) *bosun {
	t.Helper()
	return startBosunAs(t, env.RESTConfig(), config, namespace)
}

// startBosunAs is startBosun with a client configuration of its own.
func startBosunAs(t *testing.T, cfg *rest.Config, config, namespace string) *bosun {
	t.Helper()
	return startBosunWith(t, config, namespace, func(o *cli.RunOptions) { o.RESTConfig = cfg })
}

// startBosunWith is startBosun with options changed by set.
func startBosunWith(t *testing.T, config, namespace string, set func(*cli.RunOptions)) *bosun {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(zapcore.NewTee(core, zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)).Core()))
	ctx, cancel := context.WithCancel(context.Background())
	b := &bosun{t: t, cancel: cancel, done: make(chan error, 1), logs: logs}
	o := cli.RunOptions{
		ConfigPath: config,
		Namespace:  namespace,
		RESTConfig: env.RESTConfig(),
		// Each test is an installation of its own: a bosun without --namespace lets go, at
		// start, only owners of its own installation that its watches do not cover — not
		// those earlier tests left behind with their finalizers.
		Instance:        testInstance(t),
		Log:             log,
		ShutdownTimeout: 10 * time.Second,
	}
	set(&o)
	go func() { b.done <- cli.Run(ctx, o) }()
	t.Cleanup(b.stop)
	return b
}

// testInstance names the test's bosun installation after the test.
func testInstance(t *testing.T) string {
	name := []byte("e2e-" + t.Name())
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			name[i] = '-'
		}
	}
	return strings.TrimRight(string(name[:min(len(name), 200)]), "-")
}

// stop sends the stop signal and waits for a clean exit.
func (b *bosun) stop() {
	b.once.Do(func() {
		b.cancel()
		select {
		case err := <-b.done:
			if err != nil {
				b.t.Errorf("bosun run: %v", err)
			}
		case <-time.After(30 * time.Second):
			b.t.Errorf("bosun did not stop within 30s of the stop signal")
		}
	})
}

// waitReconciled waits until this run reconciled the owner (namespace/name) successfully.
func (b *bosun) waitReconciled(t *testing.T, owner string) {
	t.Helper()
	testenv.Eventually(t, waitTimeout, func() error {
		if b.logs.FilterMessage("reconciled").FilterField(zap.String("owner", owner)).Len() == 0 {
			return fmt.Errorf("%s not reconciled yet", owner)
		}
		return nil
	})
}

// waitLogged waits until this run logged a line with the message and every one of the
// fields at position from or later in its log, and returns that line's position. bosun logs a
// change after the API server accepted it, so a test that saw the change in the cluster waits
// here for the line; and a position orders lines, which counts alone cannot.
func (b *bosun) waitLogged(t *testing.T, from int, msg string, fields ...zap.Field) int {
	t.Helper()
	at := -1
	testenv.Eventually(t, waitTimeout, func() error {
		entries := b.logs.All()
		for i := from; i < len(entries); i++ {
			if entries[i].Message == msg && hasFields(entries[i], fields) {
				at = i
				return nil
			}
		}
		return fmt.Errorf("no %q line %v at or after position %d of the log", msg, fields, from)
	})
	return at
}

func hasFields(e observer.LoggedEntry, fields []zap.Field) bool {
	for _, f := range fields {
		if !slices.ContainsFunc(e.Context, f.Equals) {
			return false
		}
	}
	return true
}

// writeWatch writes a watch config whose templates are the given directory.
func writeWatch(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "watch.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func abs(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func widgetWatch(t *testing.T, templates string) string {
	return writeWatch(t, fmt.Sprintf(`
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
templates: %s
resync: 0s
`, abs(t, templates)))
}

var installOnce sync.Map

// installCRD applies a CRD manifest once per test binary and waits until it is established.
func installCRD(t *testing.T, path, name string) {
	t.Helper()
	if _, done := installOnce.LoadOrStore(name, true); done {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	testenv.ApplyYAML(t, env.RESTConfig(), string(data))
	testenv.WaitCRDEstablished(t, env.RESTConfig(), name)
}

func create(t *testing.T, gvr schema.GroupVersionResource, namespace, manifest string) *unstructured.Unstructured {
	t.Helper()
	objs := testenv.ApplyYAML(t, env.RESTConfig(), manifest)
	if len(objs) != 1 {
		t.Fatalf("want one object in %s", manifest)
	}
	got, err := env.Dynamic.Resource(gvr).Namespace(namespace).Get(context.Background(), objs[0].GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func get(gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	return env.Dynamic.Resource(gvr).Namespace(namespace).Get(context.Background(), name, metav1.GetOptions{})
}

// waitObject waits until the object exists and check accepts it, and returns it.
func waitObject(t *testing.T, gvr schema.GroupVersionResource, namespace, name string, check func(*unstructured.Unstructured) error) *unstructured.Unstructured {
	t.Helper()
	var got *unstructured.Unstructured
	testenv.Eventually(t, waitTimeout, func() error {
		var err error
		if got, err = get(gvr, namespace, name); err != nil {
			return err
		}
		if check != nil {
			return check(got)
		}
		return nil
	})
	return got
}

// waitGone waits until the object no longer exists.
func waitGone(t *testing.T, gvr schema.GroupVersionResource, namespace, name string) {
	t.Helper()
	testenv.Eventually(t, waitTimeout, func() error {
		_, err := get(gvr, namespace, name)
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return err
		default:
			return fmt.Errorf("%s %s/%s still exists", gvr.Resource, namespace, name)
		}
	})
}

func mergePatch(t *testing.T, gvr schema.GroupVersionResource, namespace, name, patch string) {
	t.Helper()
	_, err := env.Dynamic.Resource(gvr).Namespace(namespace).Patch(context.Background(), name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("patch %s %s/%s: %v", gvr.Resource, namespace, name, err)
	}
}

func deleteObject(t *testing.T, gvr schema.GroupVersionResource, namespace, name string) {
	t.Helper()
	if err := env.Dynamic.Resource(gvr).Namespace(namespace).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete %s %s/%s: %v", gvr.Resource, namespace, name, err)
	}
}

// condition returns status, reason and message of the owner's condition of type typ.
func condition(u *unstructured.Unstructured, typ string) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			s, _ := m["status"].(string)
			r, _ := m["reason"].(string)
			msg, _ := m["message"].(string)
			return s, r, msg
		}
	}
	return "", "", ""
}

// waitCondition waits until the owner's condition typ has the status and reason, and
// returns the owner.
func waitCondition(t *testing.T, gvr schema.GroupVersionResource, namespace, name, typ, status, reason string) *unstructured.Unstructured {
	t.Helper()
	return waitObject(t, gvr, namespace, name, func(u *unstructured.Unstructured) error {
		s, r, msg := condition(u, typ)
		if s != status || r != reason {
			return fmt.Errorf("%s/%s: %s=%s (%s: %s), want %s (%s)", namespace, name, typ, s, r, msg, status, reason)
		}
		return nil
	})
}

// waitEvent waits for an Event with the reason about the named object, and returns its note.
func waitEvent(t *testing.T, namespace, name, reason string) string {
	t.Helper()
	var note string
	testenv.Eventually(t, waitTimeout, func() error {
		list, err := env.Clientset.EventsV1().Events(namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Reason == reason {
				note = e.Note
				return nil
			}
		}
		return fmt.Errorf("no Event %s for %s/%s", reason, namespace, name)
	})
	return note
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// countEvents counts the Events with the reason about the named object.
func countEvents(t *testing.T, namespace, name, reason string) int {
	t.Helper()
	list, err := env.Clientset.EventsV1().Events(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			n++
		}
	}
	return n
}

// waitTerminating waits until the object has a deletionTimestamp (a finalizer holds it).
func waitTerminating(t *testing.T, gvr schema.GroupVersionResource, namespace, name string) {
	t.Helper()
	waitObject(t, gvr, namespace, name, func(u *unstructured.Unstructured) error {
		if u.GetDeletionTimestamp() == nil {
			return fmt.Errorf("no deletionTimestamp yet")
		}
		return nil
	})
}
