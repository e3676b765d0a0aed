package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bosun-dev/bosun/applier"
	"github.com/bosun-dev/bosun/internal/cli"
)

func TestDiffShowsWhatBosunWouldChange(t *testing.T) {
	installCRD(t, "../examples/site/crd.yaml", "sites.example.bosun.dev")
	ns := env.CreateNamespace(t, "diff")
	b := startBosun(t, "../examples/site/watch.yaml", ns)
	siteYAML := func(name, message string) string {
		return fmt.Sprintf("apiVersion: example.bosun.dev/v1\nkind: Site\nmetadata: {name: %s, namespace: %s}\nspec: {message: %q, replicas: 2}\n", name, ns, message)
	}
	site := create(t, siteGVR, ns, siteYAML("hello", "Hello"))
	b.waitReconciled(t, ns+"/hello")
	// From here on nothing may change the children but the test: bosun would prune the stray
	// child below at once.
	b.stop()

	diff := func(t *testing.T, owners string) (stdout, stderr string, code int) {
		t.Helper()
		file := filepath.Join(t.TempDir(), "owners.yaml")
		if err := os.WriteFile(file, []byte(owners), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code = cli.Execute(context.Background(), []string{"diff", "-c", "../examples/site/watch.yaml", "-f", file,
			"--kubeconfig", env.Cluster.KubeconfigPath()}, nil, &out, &errOut)
		return out.String(), errOut.String(), code
	}
	hello := "Site/" + ns + "/hello"

	t.Run("the owner as it is applied shows no difference", func(t *testing.T) {
		stdout, stderr, code := diff(t, siteYAML("hello", "Hello"))
		if code != 0 || stdout != "" || stderr != hello+": 3 unchanged\n" {
			t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})

	t.Run("a changed owner shows the changed fields of its children", func(t *testing.T) {
		stdout, stderr, code := diff(t, siteYAML("hello", "Changed"))
		if code != 1 || stderr != hello+": 2 to configure, 1 unchanged\n" {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		for _, want := range []string{
			"--- live/ConfigMap/" + ns + "/hello-content\n+++ bosun/ConfigMap/" + ns + "/hello-content\n",
			"-    <html><body><h1>Hello</h1></body></html>\n",
			"+    <html><body><h1>Changed</h1></body></html>\n",
			// The pods restart on a new page: the template hashes the message.
			"--- live/Deployment/" + ns + "/hello\n+++ bosun/Deployment/" + ns + "/hello\n",
			"-        example.bosun.dev/content-hash: ",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("diff lacks %q:\n%s", want, stdout)
			}
		}
		if strings.Contains(stdout, "Service/") {
			t.Errorf("the unchanged Service shows in the diff:\n%s", stdout)
		}
	})

	t.Run("a child that is no longer rendered would be pruned", func(t *testing.T) {
		create(t, configMapGVR, ns, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata:
  name: hello-stray
  namespace: %s
  labels: {%s: %s, %s: %s}
data: {left: over}
`, ns, applier.LabelManagedBy, applier.ManagedByValue, applier.LabelOwnerUID, site.GetUID()))
		stdout, stderr, code := diff(t, siteYAML("hello", "Hello"))
		if code != 1 || stderr != hello+": 1 to prune, 3 unchanged\n" {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		if want := "--- live/ConfigMap/" + ns + "/hello-stray\n+++ /dev/null\n"; !strings.HasPrefix(stdout, want) || !strings.Contains(stdout, "-  left: over\n") {
			t.Errorf("diff does not start with %q and delete the data:\n%s", want, stdout)
		}
		deleteObject(t, configMapGVR, ns, "hello-stray")
	})

	t.Run("an owner that does not exist yet shows its children in full", func(t *testing.T) {
		stdout, stderr, code := diff(t, siteYAML("fresh", "New"))
		fresh := "Site/" + ns + "/fresh"
		if code != 1 || !strings.Contains(stderr, fresh+" does not exist in the cluster: rendered with a placeholder UID\n") ||
			!strings.HasSuffix(stderr, fresh+": 3 to create\n") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		for _, want := range []string{
			"--- /dev/null\n+++ bosun/ConfigMap/" + ns + "/fresh-content\n",
			"+    <html><body><h1>New</h1></body></html>\n",
			"--- /dev/null\n+++ bosun/Service/" + ns + "/fresh\n",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("diff lacks %q:\n%s", want, stdout)
			}
		}
	})
}

// TestDiffOnAChartWatch: diff renders a chart watch with the cluster's capabilities, as run does.
func TestDiffOnAChartWatch(t *testing.T) {
	installCRD(t, "../examples/site/crd.yaml", "sites.example.bosun.dev")
	ns := env.CreateNamespace(t, "diff-chart")
	b := startBosun(t, "../examples/site-chart/watch.yaml", ns)
	siteYAML := func(message string) string {
		return fmt.Sprintf("apiVersion: example.bosun.dev/v1\nkind: Site\nmetadata: {name: hello, namespace: %s}\nspec: {message: %q, replicas: 2}\n", ns, message)
	}
	create(t, siteGVR, ns, siteYAML("Hello"))
	b.waitReconciled(t, ns+"/hello")
	b.stop()
	for _, tc := range []struct {
		message, wantStderr string
		wantCode            int
	}{
		{"Hello", "Site/" + ns + "/hello: 3 unchanged\n", 0},
		{"Changed", "Site/" + ns + "/hello: 2 to configure, 1 unchanged\n", 1},
	} {
		file := filepath.Join(t.TempDir(), "owners.yaml")
		if err := os.WriteFile(file, []byte(siteYAML(tc.message)), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := cli.Execute(context.Background(), []string{"diff", "-c", "../examples/site-chart/watch.yaml", "-f", file,
			"--kubeconfig", env.Cluster.KubeconfigPath()}, nil, &out, &errOut)
		if code != tc.wantCode || errOut.String() != tc.wantStderr {
			t.Errorf("message %q: exit %d, stderr %q; want %d, %q\nstdout:\n%s", tc.message, code, errOut.String(), tc.wantCode, tc.wantStderr, out.String())
		}
	}
}

// TestDiffOverAWatchsOwners: without -f, diff compares every owner of the watch in the
// cluster with what the watch's templates render now — a template change's preview — and
// names only the owners that would change.
func TestDiffOverAWatchsOwners(t *testing.T) {
	installCRD(t, "testdata/widget/crd.yaml", "widgets.e2e.bosun.dev")
	ns := env.CreateNamespace(t, "diff-all")
	b := startBosun(t, widgetWatch(t, "testdata/widget/templates-v1"), ns)
	for _, name := range []string{"a", "b", "c"} {
		create(t, widgetGVR, ns, fmt.Sprintf("apiVersion: e2e.bosun.dev/v1\nkind: Widget\nmetadata: {name: %s, namespace: %s}\nspec: {color: red}\n", name, ns))
		b.waitReconciled(t, ns+"/"+name)
	}
	b.stop()
	diff := func(templates string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := cli.Execute(context.Background(), []string{"diff", "-c", widgetWatch(t, templates), "-n", ns,
			"--kubeconfig", env.Cluster.KubeconfigPath()}, nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := diff("testdata/widget/templates-v1"); code != 0 || errOut != "diff: 0 of 3 owners of watch watch would change\n" {
		t.Errorf("same templates: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	code, out, errOut := diff("testdata/widget/templates-v2")
	if code != 1 || !strings.HasSuffix(errOut, "diff: 3 of 3 owners of watch watch would change\n") || strings.Count(errOut, "Widget/"+ns+"/") != 3 {
		t.Errorf("new templates: exit %d, stderr %q; want 1 and a line per owner", code, errOut)
	}
	if !strings.Contains(out, "Widget") && !strings.Contains(out, ns) {
		t.Errorf("new templates: no diff printed:\n%s", out)
	}
}
