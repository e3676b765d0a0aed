package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/testenv"
	"github.com/bosun-dev/bosun/watcher"
)

// bosun's Helm chart, deploy/chart/bosun, installed with the helm CLI of BOSUN_TOOLS_DIR. The
// cluster's kwok node runs no containers, so the pods become Running and Ready without an image;
// bosun itself runs in-process as the pod would: as the chart's ServiceAccount, on the files the
// pod mounts, with the pod's arguments.
const (
	chartInstallDir      = "../deploy/chart/bosun"
	chartInstallExamples = chartInstallDir + "/ci/examples-values.yaml"
	chartInstallRelease  = "bosun-e2e"
	chartInstallTimeout  = "2m"
)

func TestChartInstallRunsBosunAsItsServiceAccountAndUpgradeRollsThePods(t *testing.T) {
	helm := chartInstallHelm(t)
	installExampleCRDs(t)
	for _, tc := range []struct {
		mode     string
		replicas int32
	}{{"single", 1}, {"ha", 2}, {"sharded", 3}} {
		t.Run(tc.mode, func(t *testing.T) { chartInstallCheck(t, helm, tc.mode, tc.replicas) })
	}
}

// chartInstallCheck installs the chart with the example watches in the mode, for owners in a
// namespace of their own, runs bosun as its pods would and upgrades the watches.
func chartInstallCheck(t *testing.T, helm, mode string, replicas int32) {
	ns := env.CreateNamespace(t, "chart")
	owners := env.CreateNamespace(t, "chart-owners")
	ctx := context.Background()
	// bosun's pods pass the restricted Pod Security Standard: in such a namespace the
	// ReplicaSet could create no pods otherwise, and helm install --wait would time out.
	if _, err := env.Clientset.CoreV1().Namespaces().Patch(ctx, ns, "application/merge-patch+json",
		[]byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("Namespace/%s: label: %v", ns, err)
	}

	set := []string{"--set", "mode=" + mode, "--set", "watchNamespace=" + owners, "--set", "image.tag=dev"}
	chartInstallRun(t, helm, append([]string{"install", chartInstallRelease, chartInstallDir, "--namespace", ns,
		"--values", chartInstallExamples, "--wait", "--timeout", chartInstallTimeout}, set...)...)
	t.Cleanup(func() {
		chartInstallRun(t, helm, "uninstall", chartInstallRelease, "--namespace", ns, "--wait", "--timeout", chartInstallTimeout)
	})
	d := chartInstallDeployment(t, ns)
	if d.Status.ReadyReplicas != replicas {
		t.Errorf("Deployment/%s/%s: %d replicas ready after helm install --wait, want the %d of mode %s", ns, d.Name, d.Status.ReadyReplicas, replicas, mode)
	}

	b := chartInstallStartBosun(t, ns, d)
	create(t, siteGVR, owners, fmt.Sprintf("apiVersion: example.bosun.dev/v1\nkind: Site\nmetadata: {name: hello, namespace: %s}\nspec: {message: Hello}\n", owners))
	create(t, characterGVR, owners, fmt.Sprintf("apiVersion: stable.example.bosun.dev/v1\nkind: Character\nmetadata: {name: nemo, namespace: %s}\nspec: {name: Nemo}\n", owners))
	create(t, configMapGVR, owners, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop, namespace: %s, labels: {bosun.dev/expose: \"true\"}}\ndata: {app: shop, port: \"8080\"}\n", owners))
	// Ready needs the children applied and read back healthy, and the status written.
	waitCondition(t, siteGVR, owners, "hello", watcher.ConditionReady, "True", watcher.ReasonReady)
	waitCondition(t, characterGVR, owners, "nemo", watcher.ConditionApplied, "True", watcher.ReasonApplied)
	waitObject(t, serviceGVR, owners, "shop-exposed", nil)
	waitObject(t, deployGVR, owners, "hello", chartInstallImage("nginx:1.27"))
	// The failure of an owner is recorded as an Event: the Role lets bosun write them.
	create(t, configMapGVR, owners, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken, namespace: %s, labels: {bosun.dev/expose: \"true\"}}\ndata: {port: \"8080\"}\n", owners))
	waitEvent(t, owners, "broken", watcher.ReasonRenderFailed)

	// An upgrade that changes a watch rolls the pods: a new checksum, a new ReplicaSet.
	before := chartInstallReplicaSets(t, ns)
	changed := chartInstallChangedExamples(t, "nginx:1.27", "nginx:1.28")
	chartInstallRun(t, helm, append([]string{"upgrade", chartInstallRelease, chartInstallDir, "--namespace", ns,
		"--values", changed, "--wait", "--timeout", chartInstallTimeout}, set...)...)
	upgraded := chartInstallDeployment(t, ns)
	sum := upgraded.Spec.Template.Annotations["checksum/config"]
	if old := d.Spec.Template.Annotations["checksum/config"]; sum == "" || sum == old {
		t.Fatalf("checksum/config of the pod template %q before the upgrade, %q after: want a new one", old, sum)
	}
	testenv.Eventually(t, waitTimeout, func() error {
		for _, rs := range chartInstallReplicaSets(t, ns) {
			if before[rs.Name] == nil && rs.Spec.Template.Annotations["checksum/config"] == sum && rs.Status.ReadyReplicas == replicas {
				return nil
			}
		}
		return fmt.Errorf("no new ReplicaSet with checksum/config %s and %d ready replicas yet", sum, replicas)
	})

	// The new pods run bosun on the new watches: the Site's Deployment follows.
	b.stop()
	b = chartInstallStartBosun(t, ns, upgraded)
	waitObject(t, deployGVR, owners, "hello", chartInstallImage("nginx:1.28"))
	waitCondition(t, siteGVR, owners, "hello", watcher.ConditionReady, "True", watcher.ReasonReady)

	// Uninstalling as docs/install.md says: bosun scaled to 0, then bosun uninstall on the
	// release's watch configs, laid out from helm get values; helm uninstall follows (cleanup).
	scale, err := env.Clientset.AppsV1().Deployments(ns).GetScale(ctx, chartInstallRelease, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 0
	if _, err := env.Clientset.AppsV1().Deployments(ns).UpdateScale(ctx, chartInstallRelease, scale, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("Deployment/%s/%s: scale to 0: %v", ns, chartInstallRelease, err)
	}
	b.stop()
	config := chartInstallConfigOfRelease(t, chartInstallRun(t, helm, "get", "values", chartInstallRelease, "--namespace", ns, "--all", "--output", "json"))
	var out, errOut bytes.Buffer
	if code := cli.Execute(ctx, []string{"uninstall", "--config", filepath.Join(config, "watches"), "--namespace", owners,
		"--kubeconfig", env.Cluster.KubeconfigPath()}, nil, &out, &errOut); code != 0 {
		t.Fatalf("bosun uninstall: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	waitGone(t, configMapGVR, owners, "hello-content")
	if site, err := get(siteGVR, owners, "hello"); err != nil || len(site.GetFinalizers()) > 0 {
		t.Errorf("Site/%s/hello after bosun uninstall: finalizers %v (%v), want none", owners, site.GetFinalizers(), err)
	}
}

// chartInstallConfigOfRelease lays the watches and files of a release's values (helm get
// values --all --output json) out as its pods mount them below /etc/bosun, as docs/install.md's
// jq commands do, and returns the directory.
func chartInstallConfigOfRelease(t *testing.T, valuesJSON []byte) string {
	t.Helper()
	var values struct {
		Watches map[string]any    `json:"watches"`
		Files   map[string]string `json:"files"`
	}
	if err := json.Unmarshal(valuesJSON, &values); err != nil {
		t.Fatalf("helm get values: %v", err)
	}
	dir := t.TempDir()
	write := func(path, content string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, w := range values.Watches {
		content, ok := w.(string)
		if !ok { // a watch given as a map: its JSON is YAML too
			b, err := json.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			content = string(b)
		}
		write(filepath.Join(dir, "watches", name), content)
	}
	for path, content := range values.Files {
		write(filepath.Join(dir, filepath.FromSlash(path)), content)
	}
	return dir
}

// chartInstallStartBosun runs bosun as a pod of the Deployment d would: the ConfigMaps it
// mounts written where it mounts them (below a temporary root), its arguments, and the
// identity of its ServiceAccount with nothing but the chart's RBAC.
func chartInstallStartBosun(t *testing.T, namespace string, d *appsv1.Deployment) *bosun {
	t.Helper()
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	root := t.TempDir()
	ctx := context.Background()
	for _, m := range c.VolumeMounts {
		var cm *corev1.ConfigMapVolumeSource
		for _, v := range pod.Volumes {
			if v.Name == m.Name {
				cm = v.ConfigMap
			}
		}
		if cm == nil {
			t.Fatalf("volume %s: not a ConfigMap; the test knows no other", m.Name)
		}
		got, err := env.Clientset.CoreV1().ConfigMaps(namespace).Get(ctx, cm.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("ConfigMap/%s/%s: %v", namespace, cm.Name, err)
		}
		for name, content := range got.Data {
			path := filepath.Join(root, m.MountPath, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The arguments as the kubelet expands them, parsed as bosun run parses them: a flag the
	// chart starts to pass needs a line here.
	if len(c.Args) == 0 || c.Args[0] != "run" {
		t.Fatalf("args %q: want bosun run", c.Args)
	}
	var args []string
	for _, a := range c.Args[1:] {
		args = append(args, strings.ReplaceAll(a, "$(POD_NAMESPACE)", namespace))
	}
	var (
		o        cli.RunOptions
		le       cli.LeaderElection
		ignored  string
		fs       = pflag.NewFlagSet("run", pflag.ContinueOnError)
		duration = func(name string, p *time.Duration, v time.Duration) { fs.DurationVar(p, name, v, "") }
	)
	fs.StringVar(&o.ConfigPath, "config", "", "")
	fs.StringVar(&o.Namespace, "namespace", "", "")
	fs.BoolVar(&le.Enabled, "leader-elect", false, "")
	fs.StringVar(&le.Namespace, "leader-election-namespace", "", "")
	fs.StringVar(&le.Name, "leader-election-id", "bosun", "")
	duration("leader-election-lease-duration", &le.LeaseDuration, 15*time.Second)
	duration("leader-election-renew-deadline", &le.RenewDeadline, 10*time.Second)
	duration("leader-election-retry-period", &le.RetryPeriod, 2*time.Second)
	fs.BoolVar(&o.Sharding, "sharding", false, "")
	// Served by the pod, not by the test (other tests' bosuns share the machine's ports).
	for _, name := range []string{"metrics-addr", "health-addr", "log-format", "log-level"} {
		fs.StringVar(&ignored, name, "", "")
	}
	if err := fs.Parse(args); err != nil {
		t.Fatalf("bosun run %q: %v", args, err)
	}
	if !filepath.IsAbs(o.ConfigPath) {
		t.Fatalf("--config %s: want the absolute path of a mount", o.ConfigPath)
	}

	sa := pod.ServiceAccountName
	cfg := env.RESTConfig()
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + namespace + ":" + sa,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}
	return startBosunWith(t, filepath.Join(root, o.ConfigPath), o.Namespace, func(run *cli.RunOptions) {
		run.RESTConfig = cfg
		run.LeaderElection = le
		run.Sharding = o.Sharding
		// In the pod, the installation is named after the Lease in the pod's namespace.
		run.Instance = namespace + "/" + le.Name
	})
}

// chartInstallHelm is the helm CLI of BOSUN_TOOLS_DIR.
func chartInstallHelm(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BOSUN_TOOLS_DIR")
	if dir == "" {
		t.Fatal("BOSUN_TOOLS_DIR is not set: the chart install tests need the helm CLI; run hack/build-tools.sh and set BOSUN_TOOLS_DIR to the directory it prints (hack/test.sh does both)")
	}
	helm := filepath.Join(dir, "helm")
	if _, err := os.Stat(helm); err != nil {
		t.Fatalf("no helm CLI in BOSUN_TOOLS_DIR: %v; run hack/build-tools.sh, which builds it from hack/tools/helm", err)
	}
	return helm
}

// chartInstallRun runs the helm CLI against the package's cluster, failing the test if it
// fails, and returns its standard output.
func chartInstallRun(t *testing.T, helm string, args ...string) []byte {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helm, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+env.Cluster.KubeconfigPath(),
	)
	start := time.Now()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	t.Logf("helm %s (%s)", args[0], time.Since(start).Round(time.Millisecond))
	return out
}

func chartInstallDeployment(t *testing.T, namespace string) *appsv1.Deployment {
	t.Helper()
	d, err := env.Clientset.AppsV1().Deployments(namespace).Get(context.Background(), chartInstallRelease, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Deployment/%s/%s: %v", namespace, chartInstallRelease, err)
	}
	return d
}

// chartInstallReplicaSets are the ReplicaSets of the release's Deployment, by name.
func chartInstallReplicaSets(t *testing.T, namespace string) map[string]*appsv1.ReplicaSet {
	t.Helper()
	list, err := env.Clientset.AppsV1().ReplicaSets(namespace).List(context.Background(), metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/name=bosun,app.kubernetes.io/instance=" + chartInstallRelease,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*appsv1.ReplicaSet{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out
}

// chartInstallChangedExamples writes the chart's example values with old replaced by new in the
// sites watch, and returns the file.
func chartInstallChangedExamples(t *testing.T, old, new string) string {
	t.Helper()
	var values struct {
		Watches map[string]string `json:"watches"`
		Files   map[string]string `json:"files"`
	}
	if err := yaml.UnmarshalStrict([]byte(readFile(t, chartInstallExamples)), &values); err != nil {
		t.Fatal(err)
	}
	site := values.Watches["sites.yaml"]
	if !strings.Contains(site, old) {
		t.Fatalf("the sites watch of %s does not name %s:\n%s", chartInstallExamples, old, site)
	}
	values.Watches["sites.yaml"] = strings.ReplaceAll(site, old, new)
	b, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// chartInstallImage accepts a Deployment whose first container runs image.
func chartInstallImage(image string) func(*unstructured.Unstructured) error {
	return func(u *unstructured.Unstructured) error {
		containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		if len(containers) == 0 {
			return fmt.Errorf("Deployment/%s/%s has no containers", u.GetNamespace(), u.GetName())
		}
		if got := containers[0].(map[string]any)["image"]; got != image {
			return fmt.Errorf("Deployment/%s/%s runs %v, want %s", u.GetNamespace(), u.GetName(), got, image)
		}
		return nil
	}
}
