package renderer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The chart equality tests render the public charts vendored in testdata/charts/ (see its
// README.md) with Chart.Render and with the helm CLI that hack/build-tools.sh builds, and
// require the same objects.

const helmTestKubeVersion = "v1.37.2"

// helmCase is one chart rendered with one values file, as
//
//	helm template <release> testdata/charts/<chart> --namespace <namespace> \
//	  --kube-version v1.37.2 --skip-tests [-f testdata/charts/values/<values>.yaml] [--api-versions ...]
//
// and as LoadChart(testdata/charts/<chart>).Render of an owner whose spec is the values file.
type helmCase struct {
	name        string
	chart       string
	values      string // under testdata/charts/values, without .yaml; "" for the chart's defaults
	release     string
	namespace   string
	apiVersions []string
}

var helmCases = []helmCase{
	{name: "ingress-nginx with its defaults", chart: "ingress-nginx", release: "edge", namespace: "ingress"},
	{name: "ingress-nginx with webhook hook Jobs, tpl and an HPA", chart: "ingress-nginx", values: "ingress-nginx-hooks", release: "edge", namespace: "ingress"},
	{name: "ingress-nginx as a DaemonSet with metrics and cert-manager", chart: "ingress-nginx", values: "ingress-nginx-daemonset-metrics", release: "edge", namespace: "ingress"},
	{name: "podinfo with a hook Job for every event", chart: "podinfo", values: "podinfo-hooks", release: "web", namespace: "team-a"},
	{name: "podinfo with Gateway API routes and TLS", chart: "podinfo", values: "podinfo-gateway-tls", release: "web", namespace: "team-a"},
	{name: "grafana with provisioning and tpl", chart: "grafana", values: "grafana-provisioning", release: "dash", namespace: "monitoring"},
	{name: "grafana as a StatefulSet with a VPA the API versions allow", chart: "grafana", values: "grafana-statefulset-vpa", release: "dash", namespace: "monitoring",
		apiVersions: []string{"autoscaling.k8s.io/v1/VerticalPodAutoscaler"}},
	{name: "wordpress with its MariaDB and Memcached subcharts", chart: "wordpress", values: "wordpress-subcharts", release: "blog", namespace: "team-b"},
	{name: "wordpress with both subcharts off", chart: "wordpress", values: "wordpress-external-db", release: "blog", namespace: "team-b"},
	{name: "wordpress on OpenShift, told by the API versions", chart: "wordpress", values: "wordpress-external-db", release: "blog", namespace: "team-b",
		apiVersions: []string{"security.openshift.io/v1"}},
	{name: "helm's subchart test chart with import-values", chart: "helm-subchart", values: "helm-subchart-imports", release: "subs", namespace: "team-c"},
	{name: "helm's subchart test chart with subcharts off by condition and tag", chart: "helm-subchart", values: "helm-subchart-tags", release: "subs", namespace: "team-c"},
	{name: "helm's subchart test chart with extra API versions", chart: "helm-subchart", release: "subs", namespace: "team-c",
		apiVersions: []string{"helm.k8s.io/test", "helm.k8s.io/test2"}},
}

func TestChartRendersWhatHelmTemplatePrints(t *testing.T) {
	helm := helmCLI(t)
	for _, tc := range helmCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", "charts", tc.chart)
			var valuesFile string
			spec := map[string]any{}
			if tc.values != "" {
				valuesFile = filepath.Join("testdata", "charts", "values", tc.values+".yaml")
				spec = readYAML(t, valuesFile)
			}

			want := helmTemplate(t, helm, tc, dir, valuesFile, tc.apiVersions)
			if len(tc.apiVersions) > 0 {
				// The case must depend on the API versions, or it would not test them.
				without := helmTemplate(t, helm, tc, dir, valuesFile, nil)
				if cmp.Equal(objectSet(without), objectSet(want)) {
					t.Fatalf("helm template prints the same with and without --api-versions %s: the case does not exercise them", strings.Join(tc.apiVersions, ","))
				}
			}

			c, err := LoadChart(dir, ChartOptions{KubeVersion: helmTestKubeVersion, APIVersions: tc.apiVersions})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// The owner is decoded like one read from the API server: integers are int64.
			owner := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "example.com/v1",
				"kind":       "Release",
				"metadata": map[string]any{
					"name":      tc.release,
					"namespace": tc.namespace,
					"uid":       "5f0c3c1e-0000-4000-8000-00000000c4a7",
				},
				"spec": spec,
			}}
			got, err := c.Render(ctx, owner)
			if err != nil {
				t.Fatal(err)
			}
			diffObjectSets(t, want, got)
		})
	}
}

// helmCLI returns the path of the helm binary that hack/build-tools.sh builds into
// $BOSUN_TOOLS_DIR, after checking that it is the Helm version the renderer links: the
// comparison only means something between the same versions.
func helmCLI(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BOSUN_TOOLS_DIR")
	if dir == "" {
		t.Fatal("BOSUN_TOOLS_DIR is not set: the chart equality tests need the helm CLI; run hack/build-tools.sh and set BOSUN_TOOLS_DIR to the directory it prints (hack/test.sh does both)")
	}
	helm := filepath.Join(dir, "helm")
	if _, err := os.Stat(helm); err != nil {
		t.Fatalf("no helm CLI in BOSUN_TOOLS_DIR: %v; run hack/build-tools.sh, which builds it from hack/tools/helm", err)
	}
	out, err := helmCommand(t, helm, "version", "--template", "{{.Version}}").Output()
	if err != nil {
		t.Fatalf("%s version: %v", helm, err)
	}
	if linked := linkedHelmVersion(); linked != "" && strings.TrimSpace(string(out)) != linked {
		t.Fatalf("%s is Helm %s, but the renderer links helm.sh/helm/v4 %s: bump hack/tools/helm/go.mod and HELM_VERSION in hack/versions.sh together with go.mod, then run hack/build-tools.sh",
			helm, strings.TrimSpace(string(out)), linked)
	}
	return helm
}

// linkedHelmVersion is the helm.sh/helm/v4 version in this test binary, "" if unknown.
func linkedHelmVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == "helm.sh/helm/v4" {
			if dep.Replace != nil {
				return ""
			}
			return dep.Version
		}
	}
	return ""
}

// helmCommand runs helm with its configuration, cache and data in a temporary directory, so
// that no repository or plugin of the machine's user takes part.
func helmCommand(t *testing.T, helm string, args ...string) *exec.Cmd {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helm, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	return cmd
}

// helmTemplate runs helm template for tc and decodes what it prints.
func helmTemplate(t *testing.T, helm string, tc helmCase, dir, valuesFile string, apiVersions []string) []*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", tc.release, dir, "--namespace", tc.namespace, "--kube-version", helmTestKubeVersion, "--skip-tests"}
	if valuesFile != "" {
		args = append(args, "--values", valuesFile)
	}
	for _, v := range apiVersions {
		args = append(args, "--api-versions", v)
	}
	cmd := helmCommand(t, helm, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	objs, err := decodeHelmOutput(out)
	if err != nil {
		t.Fatalf("helm %s: decoding its output: %v", strings.Join(args, " "), err)
	}
	if len(objs) == 0 {
		t.Fatalf("helm %s printed no objects", strings.Join(args, " "))
	}
	return objs
}

// decodeHelmOutput splits helm template's output into YAML documents and decodes each the way
// the API server's JSON would be (integers as int64), independently of the renderer's decoder.
func decodeHelmOutput(out []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%w in:\n%s", err, doc)
		}
		var obj map[string]any
		if err := utiljson.Unmarshal(j, &obj); err != nil {
			return nil, fmt.Errorf("%w in:\n%s", err, doc)
		}
		if obj == nil { // a document of only comments, such as an empty template's "# Source:"
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: obj})
	}
}

// objectKey identifies an object in a render.
func objectKey(o *unstructured.Unstructured) string {
	return o.GetAPIVersion() + "/" + o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// objectSet groups objects by key; a key rendered twice keeps both, in a fixed order.
func objectSet(objs []*unstructured.Unstructured) map[string][]map[string]any {
	set := map[string][]map[string]any{}
	for _, o := range objs {
		set[objectKey(o)] = append(set[objectKey(o)], o.Object)
	}
	for _, list := range set {
		slices.SortFunc(list, func(a, b map[string]any) int {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			return bytes.Compare(ja, jb)
		})
	}
	return set
}

// diffObjectSets reports every object that helm printed and the renderer did not, or printed
// differently, and the other way round, order aside; and a different count, so that two objects
// with one key cannot stand for one.
func diffObjectSets(t *testing.T, want, got []*unstructured.Unstructured) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("helm template printed %d objects, Render returned %d", len(want), len(got))
	}
	w, g := objectSet(want), objectSet(got)
	var keys []string
	for k := range w {
		keys = append(keys, k)
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case len(g[k]) == 0:
			t.Errorf("%s: printed by helm template, not returned by Render", k)
		case len(w[k]) == 0:
			t.Errorf("%s: returned by Render, not printed by helm template", k)
		default:
			if diff := cmp.Diff(w[k], g[k]); diff != "" {
				t.Errorf("%s (-helm template +Render):\n%s", k, diff)
			}
		}
	}
}
