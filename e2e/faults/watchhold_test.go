package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bosun-dev/bosun/internal/testenv"
)

const (
	// heldDownThreshold is bosun's --watch-down-threshold in the test: /readyz must fail
	// once the held watch has been down that long.
	heldDownThreshold = 3 * time.Second
	// recreateTarget is how soon after the watch comes back a child deleted while it was
	// held should be back; recreateTimeout is what the test allows (it logs the figure).
	recreateTarget  = 10 * time.Second
	recreateTimeout = 20 * time.Second
)

// TestChildDeletedWhileItsWatchWasHeld holds bosun's ConfigMap watch in a proxy (the owners'
// watch and every write pass) while owners are created and children deleted, then lets the
// watch come back with "too old resource version", as after an outage. Its relist only
// brings keys, not the deletions of children bosun created while blind, so bosun must requeue
// the owners of that kind and not trust what it created meanwhile: both the deleted child it
// had seen and the one created during the hold are re-created. /readyz fails while the watch
// is down longer than the threshold, and passes again after.
func TestChildDeletedWhileItsWatchWasHeld(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "watchhold")
	v := newView(t, ns)
	proxy := startAPIProxy(t)
	health := freeAddr(t)
	b := startProcess(t, "bosun", bosunArgs(writeWatch(t, 2), ns,
		"--kubeconfig", proxy.kubeconfig, "--health-addr", health, "--watch-down-threshold", heldDownThreshold.String()))

	early := ownerNames("w", 3)
	createOwners(t, ns, early)
	waitConverged(t, v, len(early), waitTimeout, b)
	waitReady(t, health, true, "")

	proxy.hold(configMapWatch)
	held := time.Now()
	late := ownerNames("late", 3)
	createOwners(t, ns, late)
	waitConverged(t, v, len(early)+len(late), waitTimeout, b)
	waitReady(t, health, false, "configmaps")
	t.Logf("/readyz failed %s after the ConfigMap watch was held (threshold %s)", time.Since(held).Round(100*time.Millisecond), heldDownThreshold)
	// The watchdog ticks on its own (every quarter of the threshold): wait for its line while
	// the watch is still held.
	b.WaitLogged(t, waitTimeout, "bosun", "watch down longer than the threshold; /readyz fails until it is back")

	// One child bosun saw before the hold, one it created blind.
	gone := map[string]types.UID{}
	for _, name := range []string{early[0] + "-a", late[0] + "-a"} {
		gone[name] = deleteChild(t, ns, name)
	}
	proxy.release()
	took := waitRecreated(t, b, ns, gone)
	t.Logf("both deleted children re-created %s after the watch came back (target %s)", took.Round(100*time.Millisecond), recreateTarget)
	if took > recreateTarget {
		t.Errorf("children re-created %s after the watch came back, want within %s", took.Round(100*time.Millisecond), recreateTarget)
	}
	waitReady(t, health, true, "")
	waitConverged(t, v, len(early)+len(late), waitTimeout, b)
}

// waitRecreated waits until each ConfigMap exists again with another UID than the one it was
// deleted with, and returns how long that took from the moment of the call.
func waitRecreated(t *testing.T, b runner, namespace string, deleted map[string]types.UID) time.Duration {
	t.Helper()
	start := time.Now()
	testenv.Eventually(t, recreateTimeout, func() error {
		b.CheckRunning(t)
		var errs []error
		for name, uid := range deleted {
			cm, err := env.Clientset.CoreV1().ConfigMaps(namespace).Get(context.Background(), name, metav1.GetOptions{})
			switch {
			case err != nil:
				errs = append(errs, err)
			case cm.UID == uid:
				errs = append(errs, fmt.Errorf("ConfigMap/%s/%s: still the deleted one", namespace, name))
			}
		}
		return errors.Join(errs...)
	})
	return time.Since(start)
}

// configMapWatch matches a watch (or a watch-list) of ConfigMaps.
func configMapWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return strings.HasSuffix(r.URL.Path, "/configmaps") && (w == "true" || w == "1")
}

// freeAddr returns a 127.0.0.1 address with a port free at the time of the call.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReady waits until bosun's /readyz at addr answers ok (ready) or fails with a body that
// contains want.
func waitReady(t *testing.T, addr string, ready bool, want string) {
	t.Helper()
	client := &http.Client{Timeout: requestTimeout}
	testenv.Eventually(t, waitTimeout, func() error {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		switch ok := resp.StatusCode == http.StatusOK; {
		case ok != ready:
			return fmt.Errorf("/readyz: %d %s", resp.StatusCode, body)
		case !strings.Contains(string(body), want):
			return fmt.Errorf("/readyz: %d %q lacks %q", resp.StatusCode, body, want)
		}
		return nil
	})
}

var clusterRoleGVR = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}

// clusterRoleOrConfigMapWatch matches bosun's ConfigMap and ClusterRole watches.
func clusterRoleOrConfigMapWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return (strings.HasSuffix(r.URL.Path, "/configmaps") || strings.HasSuffix(r.URL.Path, "/clusterroles")) && (w == "true" || w == "1")
}

// TestOwnerDeletedWhileItsChildWatchesWereHeld: an owner whose children bosun created while
// their watches were held — one in the owner's namespace, one in another, one cluster-scoped —
// is deleted before the watches come back. The garbage collector takes the first; bosun finds
// the other two with label-selected requests (its caches never saw them) and deletes them, so
// the owner goes without waiting for the watches or leaving anything to the orphan sweep.
func TestOwnerDeletedWhileItsChildWatchesWereHeld(t *testing.T) {
	installWidgetCRD(t)
	ns := env.CreateNamespace(t, "beyond")
	far := env.CreateNamespace(t, "beyond-far")
	templates, err := filepath.Abs("testdata/far-children")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "watch.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(`
name: widgets
watch: {group: e2e.bosun.dev, version: v1, kind: Widget}
templates: %s
values: {far: %s}
children: {namespaces: [%s], clusterScoped: true}
resync: 0s
`, templates, far, far)), 0o644); err != nil {
		t.Fatal(err)
	}
	proxy := startAPIProxy(t)
	b := startProcess(t, "bosun", bosunArgs(path, ns, "--kubeconfig", proxy.kubeconfig))
	clusterRoles := env.Dynamic.Resource(clusterRoleGVR)
	ctx := context.Background()

	// A first owner gets every child watch open and synced.
	createOwners(t, ns, []string{"seed"})
	testenv.Eventually(t, waitTimeout, func() error {
		_, err := clusterRoles.Get(ctx, ns+"-seed", metav1.GetOptions{})
		return err
	})
	proxy.hold(clusterRoleOrConfigMapWatch)
	defer proxy.release()

	createOwners(t, ns, []string{"blind"})
	children := []struct {
		get  func() error
		what string
	}{
		{func() error {
			_, err := env.Dynamic.Resource(configMapGVR).Namespace(far).Get(ctx, "blind-far", metav1.GetOptions{})
			return err
		}, "ConfigMap " + far + "/blind-far"},
		{func() error { _, err := clusterRoles.Get(ctx, ns+"-blind", metav1.GetOptions{}); return err }, "ClusterRole " + ns + "-blind"},
	}
	for _, c := range children {
		testenv.Eventually(t, waitTimeout, c.get)
	}
	if err := env.Dynamic.Resource(widgetGVR).Namespace(ns).Delete(ctx, "blind", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range children {
		testenv.Eventually(t, waitTimeout, func() error {
			if err := c.get(); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s still there while the watches are held (err %v)", c.what, err)
			}
			return nil
		})
	}
	testenv.Eventually(t, waitTimeout, func() error {
		if _, err := env.Dynamic.Resource(widgetGVR).Namespace(ns).Get(ctx, "blind", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("owner blind still there (err %v)", err)
		}
		return nil
	})
	b.CheckRunning(t)
}
