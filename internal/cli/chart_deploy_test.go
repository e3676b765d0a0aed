package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/internal/kinds"
)

// bosun's Helm chart, deploy/chart/bosun. Two of its files are generated here (go test
// ./internal/cli -update): templates/_kinds.tpl from bosun's table of built-in kinds, and
// ci/examples-values.yaml from examples/deploy/config. The tests render the chart with the helm
// CLI that hack/build-tools.sh builds into BOSUN_TOOLS_DIR.
const (
	chartDir          = "../../deploy/chart/bosun"
	chartKindsFile    = chartDir + "/templates/_kinds.tpl"
	chartExamplesFile = chartDir + "/ci/examples-values.yaml"
)

func TestChartKindsAreBosunsTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("{{- /* Generated from internal/kinds and bosun rbac's commonChildKinds by go test ./internal/cli -update; do not edit. */ -}}\n\n")
	b.WriteString("{{- /* bosun.builtinKinds: the built-in kinds bosun knows without a cluster, \"Kind.group\" (\"Kind\" for core kinds) → resource, scope, status subresource. */ -}}\n")
	b.WriteString("{{- define \"bosun.builtinKinds\" -}}\n")
	all := kinds.All()
	slices.SortFunc(all, func(a, b kinds.Kind) int { return strings.Compare(a.GroupKind.String(), b.GroupKind.String()) })
	for _, k := range all {
		fmt.Fprintf(&b, "%s: {resource: %s, clusterScoped: %t, status: %t}\n", k.GroupKind, k.Resource, k.ClusterScoped, k.StatusSubresource)
	}
	b.WriteString("{{- end }}\n\n")
	b.WriteString("{{- /* bosun.commonChildKinds: the children's kinds of a watch without children.kinds. */ -}}\n")
	b.WriteString("{{- define \"bosun.commonChildKinds\" -}}\n")
	for _, gk := range commonChildKinds {
		fmt.Fprintf(&b, "- %s\n", gk)
	}
	b.WriteString("{{- end }}\n")
	golden(t, chartKindsFile, b.String())
}

func TestChartExampleValuesHoldTheFilesOfConfig(t *testing.T) {
	values := chartValuesOf(t, deployConfigDir, deployConfigMaps[1:]...)
	y, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	header := "# The example watches of examples/deploy/config/ as values of this chart: with them, helm install\n" +
		"# is kubectl apply -k examples/deploy/overlays/<mode> (mode: single, ha or sharded).\n" +
		"# Generated from examples/deploy/config/ by go test ./internal/cli -update; do not edit.\n"
	golden(t, chartExamplesFile, header+string(y))
}

// chartValuesOf are values that hold the watch configs of root/watches and the files of the
// directories dirs below root, at the paths base/deployment.yaml mounts them.
func chartValuesOf(t *testing.T, root string, dirs ...struct{ name, dir string }) map[string]any {
	t.Helper()
	files := map[string]string{}
	for _, d := range dirs {
		for name, content := range readDir(t, filepath.Join(root, d.dir)) {
			files[d.dir+"/"+name] = content
		}
	}
	values := map[string]any{"watches": readDir(t, filepath.Join(root, "watches"))}
	if len(files) > 0 {
		values["files"] = files
	}
	return values
}

func TestChartLintsStrictWithEveryValuesFileOfCI(t *testing.T) {
	helm := chartHelm(t)
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no values files in %s/ci: %v", chartDir, err)
	}
	for _, f := range files {
		for _, mode := range []string{"single", "ha", "sharded"} {
			t.Run(filepath.Base(f)+" "+mode, func(t *testing.T) {
				t.Parallel()
				out, err := chartHelmRun(t, helm, "lint", "--strict", chartDir, "--values", f, "--set", "mode="+mode)
				if err != nil {
					t.Errorf("helm lint --strict %s --values %s --set mode=%s: %v\n%s", chartDir, f, mode, err, out)
				}
			})
		}
	}
	// helm lint renders in lint mode, where fail only logs: the chart's defaults, which name no
	// watches, lint clean although helm install refuses them (TestChartRefusesSettingsThatCannotWork).
	t.Run("the defaults", func(t *testing.T) {
		t.Parallel()
		if out, err := chartHelmRun(t, helm, "lint", "--strict", chartDir); err != nil {
			t.Errorf("helm lint --strict %s: %v\n%s", chartDir, err, out)
		}
	})
}

// chartOverlays are the settings of the chart that stand for each overlay of examples/deploy.
var chartOverlays = map[string][]string{
	"single":  {"--set", "mode=single"},
	"ha":      {"--set", "mode=ha"},
	"sharded": {"--set", "mode=sharded"},
}

// chartOverlayDifferences are the objects of an overlay the chart does not make, and why.
var chartOverlayDifferences = map[string]string{
	"Namespace//bosun": "a chart does not make its release namespace (helm install --create-namespace, and a label for Pod Security: docs/install.md)",
}

// chartOnlyLabels are the labels the chart puts on its objects that the kustomize base has no
// use for: Helm's conventions and the release's name.
var chartOnlyLabels = []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version"}

func TestChartRendersWhatEachKustomizeOverlayDeploys(t *testing.T) {
	helm := chartHelm(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("comparing the chart with the overlays needs kubectl (kubectl kustomize): %v", err)
	}
	overlays, err := filepath.Glob(filepath.Join(deployDir, "overlays", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range overlays {
		names = append(names, filepath.Base(o))
	}
	if want := slices.Sorted(maps.Keys(chartOverlays)); !slices.Equal(want, names) {
		t.Errorf("examples/deploy/overlays holds %v, the chart stands for %v: a new overlay needs its chart settings here", names, want)
	}
	used := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(chartOverlays)) {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(kubectl, "kustomize", filepath.Join(deployDir, "overlays", name))
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("kubectl kustomize: %v\n%s", err, stderr.String())
			}
			want := chartObjectsByKey(t, chartDecode(t, stdout.Bytes()))
			args := append([]string{"--values", chartExamplesFile, "--set", "image.tag=dev"}, chartOverlays[name]...)
			got := chartObjectsByKey(t, chartTemplate(t, helm, "bosun", "bosun", nil, args...))
			for key := range want {
				if _, ok := got[key]; ok {
					continue
				}
				if chartOverlayDifferences[key] == "" {
					t.Errorf("%s: the overlay deploys it, the chart does not", key)
				}
				used[key] = true
				delete(want, key)
			}
			for key := range got {
				if _, ok := want[key]; !ok {
					t.Errorf("%s: the chart makes it, the overlay does not", key)
				}
			}
			for _, key := range slices.Sorted(maps.Keys(want)) {
				if g, ok := got[key]; ok {
					if diff := cmp.Diff(want[key], g); diff != "" {
						t.Errorf("%s (-kustomize +chart):\n%s", key, diff)
					}
				}
			}
		})
	}
	for key, why := range chartOverlayDifferences {
		if !used[key] {
			t.Errorf("allowed difference %s (%s) no longer occurs: remove it", key, why)
		}
	}
}

// chartObjectsByKey keys the objects by Kind/namespace/name, without the chart's own labels and
// the checksum annotation of the pod template.
func chartObjectsByKey(t *testing.T, objs []*unstructured.Unstructured) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, obj := range objs {
		key := obj.GetKind() + "/" + obj.GetNamespace() + "/" + obj.GetName()
		if _, dup := out[key]; dup {
			t.Errorf("%s rendered twice", key)
		}
		dropChartLabels(obj.Object)
		if annotations, ok, _ := unstructured.NestedStringMap(obj.Object, "spec", "template", "metadata", "annotations"); ok {
			delete(annotations, "checksum/config")
			if len(annotations) == 0 {
				unstructured.RemoveNestedField(obj.Object, "spec", "template", "metadata", "annotations")
			} else if err := unstructured.SetNestedStringMap(obj.Object, annotations, "spec", "template", "metadata", "annotations"); err != nil {
				t.Fatal(err)
			}
		}
		out[key] = obj.Object
	}
	return out
}

// dropChartLabels removes chartOnlyLabels from every labels and matchLabels map below v.
func dropChartLabels(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if m, ok := child.(map[string]any); ok && (k == "labels" || k == "matchLabels") {
				for _, l := range chartOnlyLabels {
					delete(m, l)
				}
			}
			dropChartLabels(child)
		}
	case []any:
		for _, child := range v {
			dropChartLabels(child)
		}
	}
}

// chartRBACCase is a set of watch configs with the flags of bosun rbac and the values of the
// chart that stand for the same installation.
type chartRBACCase struct {
	name string
	// config is bosun rbac's --config; values are the chart's (watches, files, ...).
	config string
	values map[string]any
	flags  []string
	set    []string
}

func TestChartRBACIsWhatBosunRBACPrints(t *testing.T) {
	helm := chartHelm(t)
	examples := chartValuesOf(t, deployConfigDir)
	chartRoot := chartWatchOfTestChart(t)
	guesses := chartGuessingWatch(t)
	tests := []chartRBACCase{
		{name: "the example watches with leader election", config: deployConfigDir + "/watches", values: examples,
			set: []string{"mode=ha"}},
		{name: "the example watches, sharded", config: deployConfigDir + "/watches", values: examples,
			flags: []string{"--sharding"}, set: []string{"mode=sharded"}},
		{name: "the example watches for one namespace", config: deployConfigDir + "/watches", values: examples,
			flags: []string{"--namespace", "team-a", "--service-account-namespace", "bosun"}, set: []string{"mode=ha", "watchNamespace=team-a"}},
		{name: "a watch without children.kinds gets the common kinds", config: siteWatch, values: chartWatchValues(t, siteWatch),
			set: []string{"mode=ha"}},
		{name: "cluster-scoped children of a watch for one namespace, and a Lease of another name", config: "testdata/rbac/cluster-children.yaml",
			values: chartWatchValues(t, "testdata/rbac/cluster-children.yaml"),
			flags:  []string{"-n", "team-a", "--service-account-namespace", "bosun", "--leader-election-id", "tenants"},
			set:    []string{"mode=ha", "watchNamespace=team-a", "leaderElection.id=tenants"}},
		{name: "cluster-scoped kinds the child policy refuses", config: "testdata/rbac/no-cluster-scoped.yaml",
			values: chartWatchValues(t, "testdata/rbac/no-cluster-scoped.yaml"), set: []string{"mode=ha"}},
		{name: "a watch with workload clusters", config: "testdata/rbac/workload.yaml",
			values: chartWatchValues(t, "testdata/rbac/workload.yaml"), set: []string{"mode=ha"}},
		{name: "a watch with workload clusters, single: the cluster Secrets without the Lease", config: "testdata/rbac/workload.yaml",
			values: chartWatchValues(t, "testdata/rbac/workload.yaml"), set: []string{"mode=single"}},
		{name: "a chart watch that installs the CRDs of its chart and subchart", config: filepath.Join(chartRoot, "watches"),
			values: chartTreeValues(t, chartRoot), set: []string{"mode=ha"}},
		{name: "kinds that are not built in: the plurals guessed", config: filepath.Join(guesses, "watches"),
			values: chartTreeValues(t, guesses), set: []string{"mode=sharded"}, flags: []string{"--sharding"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := bosun(t, "", append([]string{"rbac", "-c", tt.config}, tt.flags...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("bosun rbac: exit %d, stderr:\n%s", code, stderr)
			}
			want := chartRBACOf(t, chartDecode(t, []byte(stdout)))
			if slices.Contains(tt.set, "mode=single") {
				chartDropLeaderElection(want)
			}
			var args []string
			for _, s := range tt.set {
				args = append(args, "--set", s)
			}
			got := chartRBACOf(t, chartTemplate(t, helm, "bosun", "bosun", tt.values, args...))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("RBAC (-bosun rbac +chart):\n%s", diff)
			}
		})
	}
}

// chartRBACOf keys the RBAC objects among objs by Kind/namespace/name, without their labels.
// The chart's Role for the Leases is named after the mode; bosun rbac's is <name>-leader-election.
func chartRBACOf(t *testing.T, objs []*unstructured.Unstructured) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, obj := range objs {
		if obj.GroupVersionKind().Group != rbacv1.GroupName {
			continue
		}
		unstructured.RemoveNestedField(obj.Object, "metadata", "labels")
		for _, suffix := range []string{"-sharding", "-clusters"} {
			if base, ok := strings.CutSuffix(obj.GetName(), suffix); ok && obj.GetNamespace() != "" {
				obj.SetName(base + "-leader-election")
				if obj.GetKind() == "RoleBinding" {
					if err := unstructured.SetNestedField(obj.Object, obj.GetName(), "roleRef", "name"); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		out[obj.GetKind()+"/"+obj.GetNamespace()+"/"+obj.GetName()] = obj.Object
	}
	return out
}

// chartDropLeaderElection removes the rules on Leases from bosun rbac's objects, which a single
// replica does not take, and the Role and binding they leave empty.
func chartDropLeaderElection(objs map[string]map[string]any) {
	for key, obj := range objs {
		if !strings.HasPrefix(key, "Role/") {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(obj, "rules")
		var kept []any
		for _, r := range rules {
			if groups, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "apiGroups"); !slices.Contains(groups, "coordination.k8s.io") {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			delete(objs, key)
			delete(objs, "RoleBinding/"+strings.TrimPrefix(key, "Role/"))
			continue
		}
		_ = unstructured.SetNestedSlice(obj, kept, "rules")
	}
}

// chartWatchValues are values with the watch config file as the one watch.
func chartWatchValues(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"watches": map[string]string{filepath.Base(file): string(b)}}
}

// chartTreeValues are values with the files of a directory laid out as /etc/bosun: the watch
// configs in watches/, every other file below it in files.
func chartTreeValues(t *testing.T, root string) map[string]any {
	t.Helper()
	watches, files := map[string]string{}, map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if dir, name := filepath.Split(rel); dir == "watches/" {
			watches[name] = string(b)
		} else {
			files[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"watches": watches, "files": files}
}

// chartWatchOfTestChart lays out a watch of e2e's test chart, which has a CRD in crds/ and a
// subchart, as /etc/bosun would hold it: watches/app.yaml and charts/app/.
func chartWatchOfTestChart(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	src := "../../e2e/testdata/charts/app"
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return chartWriteFile(filepath.Join(root, "charts", "app", rel), string(b))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chartWriteFile(filepath.Join(root, "watches", "app.yaml"), "name: apps\nwatch: {group: e2e.bosun.dev, version: v1, kind: App}\nchart: ../charts/app\nchildren:\n  kinds: [ConfigMap, Secret, Deployment.apps, Gadget.e2e.bosun.dev]\n"); err != nil {
		t.Fatal(err)
	}
	return root
}

// chartGuessingWatch lays out watches of kinds that are not built in, whose plurals bosun
// guesses: every rule of pluralize, owners without status, and a core kind.
func chartGuessingWatch(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for path, content := range map[string]string{
		"templates/x/empty.yaml": "",
		"watches/policy.yaml":    "watch: {group: x.example.com, version: v1, kind: Policy}\ntemplates: ../templates/x\nstatus: {enabled: false}\nchildren:\n  kinds: [Box.x.example.com, Match.x.example.com, Mesh.x.example.com, Quiz.x.example.com, Bus.x.example.com, Key.x.example.com, Y.x.example.com, Service]\n",
		"watches/secret.yml":     "Name: secrets\nWatch: {Version: v1, Kind: Secret}\nTemplates: ../templates/x\nChildren:\n  ClusterScoped: true\n  Kinds: [Namespace, Proxy.x.example.com]\n",
		"watches/README.md":      "Not a watch config: bosun reads *.yaml and *.yml only.\n",
	} {
		if err := chartWriteFile(filepath.Join(root, path), content); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func chartWriteFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

func TestChartTakesResourcesAndMoreRulesFromValues(t *testing.T) {
	helm := chartHelm(t)
	values := chartValuesOf(t, deployConfigDir)
	values["watchNamespace"] = "team-a"
	values["rbac"] = map[string]any{
		// Site served as a cluster-scoped "websites": its rules leave the namespace's Role.
		"resources":         map[string]any{"Site.example.bosun.dev": map[string]any{"resource": "websites", "clusterScoped": true}},
		"extraRules":        []any{map[string]any{"apiGroups": []string{""}, "resources": []string{"secrets"}, "verbs": []string{"get"}}},
		"extraClusterRules": []any{map[string]any{"apiGroups": []string{""}, "resources": []string{"nodes"}, "verbs": []string{"list"}}},
	}
	rules := map[string][]rbacv1.PolicyRule{}
	for _, obj := range chartTemplate(t, helm, "bosun", "bosun", values) {
		if obj.GetKind() == "ClusterRole" || obj.GetKind() == "Role" {
			var r rbacv1.ClusterRole
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, &r, true); err != nil {
				t.Fatal(err)
			}
			rules[obj.GetKind()+"/"+obj.GetNamespace()+"/"+obj.GetName()] = r.Rules
		}
	}
	rule := func(group, resource string, verbs ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{resource}, Verbs: verbs}
	}
	want := []rbacv1.PolicyRule{
		rule("example.bosun.dev", "websites", "get", "list", "watch", "patch"),
		rule("example.bosun.dev", "websites/status", "patch"),
		rule("example.bosun.dev", "websites/finalizers", "update"),
		rule("", "nodes", "list"),
	}
	if diff := cmp.Diff(want, rules["ClusterRole//bosun"]); diff != "" {
		t.Errorf("ClusterRole (-want +got):\n%s", diff)
	}
	local := rules["Role/team-a/bosun"]
	if len(local) == 0 || !cmp.Equal(local[len(local)-1], rule("", "secrets", "get")) {
		t.Errorf("Role/team-a/bosun does not end with rbac.extraRules: %v", local)
	}
	for _, r := range local {
		if slices.Contains(r.APIGroups, "example.bosun.dev") {
			t.Errorf("Role/team-a/bosun has a rule for Sites, which rbac.resources made cluster-scoped: %v", r)
		}
	}
}

func TestChartValuesAreDocumented(t *testing.T) {
	var schema chartSchema
	if err := yaml.Unmarshal([]byte(chartReadFile(t, chartDir+"/values.schema.json")), &schema); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	var values map[string]any
	if err := yaml.Unmarshal([]byte(chartReadFile(t, chartDir+"/values.yaml")), &values); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	delete(schema.Properties, "global") // a parent chart's, not the chart's
	leaves := map[string]any{}          // the schema's leaves, with their defaults in values.yaml
	var walk func(prefix string, s chartSchema, v map[string]any)
	walk = func(prefix string, s chartSchema, v map[string]any) {
		for name, p := range s.Properties {
			value, ok := v[name]
			if !ok {
				t.Errorf("values.schema.json has %s%s, values.yaml does not", prefix, name)
			}
			if len(p.Properties) > 0 {
				m, _ := value.(map[string]any)
				walk(prefix+name+".", p, m)
				continue
			}
			leaves[prefix+name] = value
		}
	}
	walk("", schema, values)

	// The rows of the table under "### Values": keys in the first column, the default in the second.
	doc := chartReadFile(t, "../../docs/install.md")
	_, table, ok := strings.Cut(doc, "### Values\n")
	if !ok {
		t.Fatal("docs/install.md has no ### Values section")
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) < 3 {
			continue
		}
		for _, m := range codeRe.FindAllStringSubmatch(cells[0], -1) {
			key := m[1]
			if documented[key] {
				t.Errorf("docs/install.md documents %s twice", key)
			}
			documented[key] = true
			value, ok := leaves[key]
			if !ok {
				t.Errorf("docs/install.md documents %s, which values.schema.json does not have", key)
				continue
			}
			if want, scalar := chartDefault(value); scalar && cells[1] != want {
				t.Errorf("docs/install.md: %s defaults to %s, not %s", key, want, cells[1])
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(leaves)) {
		if !documented[key] {
			t.Errorf("value %s is not in the table of docs/install.md", key)
		}
	}
}

// chartSchema is what TestChartValuesAreDocumented reads of values.schema.json.
type chartSchema struct {
	Properties map[string]chartSchema `json:"properties"`
}

// chartDefault is a scalar default as the values table writes it, and false for the rest.
func chartDefault(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "`null`", true
	case string:
		if v == "" {
			return "`\"\"`", true
		}
		return "`" + v + "`", true
	case bool, float64, int64:
		return fmt.Sprintf("`%v`", v), true
	}
	return "", false
}

func chartReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestChartRefusesSettingsThatCannotWork(t *testing.T) {
	helm := chartHelm(t)
	watch := chartValuesFile(t, map[string]any{"watches": map[string]string{"w.yaml": "watch: {version: v1, kind: ConfigMap}\ntemplates: ../templates/w\n"}})
	tests := []struct {
		name   string
		values string // YAML over the one watch of watch
		want   string
	}{
		{name: "no watches", values: "watches: null",
			want: "no watches: set watches (file name → watch config), or mount a ConfigMap of them at /etc/bosun/watches with existingConfigMaps; see docs/install.md"},
		{name: "two replicas without leader election", values: "replicas: 2",
			want: "replicas: 2, but mode single runs one replica without leader election (two would reconcile the same owners): set mode to ha or sharded"},
		{name: "a mode that does not exist", values: "mode: active",
			want: "at '/mode': value must be one of 'single', 'ha', 'sharded'"},
		{name: "a file outside any directory", values: "files: {x.yaml: a}",
			want: `files: "x.yaml": want a clean relative path with a directory, such as templates/site/deployment.yaml`},
		{name: "a file that climbs out of /etc/bosun", values: "files: {templates/../../x.yaml: a}",
			want: `files: "templates/../../x.yaml": want a clean relative path with a directory`},
		{name: "a file among the watches", values: "files: {watches/x.yaml: a}",
			want: "files: watches/x.yaml: watches/ holds values.watches; put watch configs there"},
		{name: "a file name a ConfigMap cannot hold", values: "files: {templates/w/a b.yaml: a}",
			want: "files: templates/w/a b.yaml: a ConfigMap key takes only letters, digits, '-', '_' and '.'"},
		{name: "a file that is not text", values: "files: {templates/w/x.yaml: {a: b}}",
			want: "at '/files/templates~1w~1x.yaml': got object, want string"},
		{name: "two directories that make one ConfigMap name", values: "files: {templates/a_b/x.yaml: a, templates/a-b/x.yaml: a}",
			want: "files: directories templates/a-b and templates/a_b make the same ConfigMap name: rename one"},
		{name: "an existing ConfigMap where the watches go", values: "existingConfigMaps: [{name: mine, mountPath: /etc/bosun/watches}]",
			want: "existingConfigMaps mounts a ConfigMap at /etc/bosun/watches, where the watches of values.watches go: use one or the other"},
		{name: "an existing ConfigMap over the files", values: "files: {templates/w/x.yaml: a}\nexistingConfigMaps: [{name: mine, mountPath: /etc/bosun/templates}]",
			want: "existingConfigMaps: mine at /etc/bosun/templates would hide the files of templates/w (mounted at /etc/bosun/templates/w): mount it elsewhere"},
		{name: "both limits of the PodDisruptionBudget", values: "mode: ha\npodDisruptionBudget: {minAvailable: 1, maxUnavailable: 1}",
			want: "podDisruptionBudget: set minAvailable or maxUnavailable, not both"},
		{name: "a watch that is not YAML", values: "watches: {bad.yaml: 'a: [b'}",
			want: "watches: bad.yaml: not YAML"},
		{name: "a watch without a kind", values: "watches: {w.yaml: 'watch: {version: v1}'}",
			want: "watches: w.yaml: watch.kind is missing"},
		{name: "a value the chart does not have", values: "replica: 2",
			want: "additional properties 'replica' not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			over := filepath.Join(chartTempDir(t), "over.yaml")
			if err := os.WriteFile(over, []byte(tt.values), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := chartHelmRun(t, helm, "template", "bosun", chartDir, "--namespace", "bosun", "--values", watch, "--values", over)
			if err == nil {
				t.Fatalf("helm template rendered:\n%s", out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("helm template failed with\n%s\nwant it to say %q", out, tt.want)
			}
		})
	}
}

func TestChartRendersOptionalObjectsOnlyWhereTheyWork(t *testing.T) {
	helm := chartHelm(t)
	monitoring := []string{"--api-versions", "monitoring.coreos.com/v1", "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor", "--api-versions", "monitoring.coreos.com/v1/PodMonitor"}
	tests := []struct {
		name string
		args []string
		want []string // Kind/name of the objects besides ConfigMaps, ServiceAccount, RBAC and Deployment
	}{
		{name: "single: nothing else", want: nil},
		{name: "ha with one replica: no PodDisruptionBudget that would block every drain", args: []string{"--set", "mode=ha", "--set", "replicas=1"}},
		{name: "sharded with its PodDisruptionBudget", args: []string{"--set", "mode=sharded"}, want: []string{"PodDisruptionBudget/bosun"}},
		{name: "monitors asked for where the cluster does not serve them", args: []string{"--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.podMonitor.enabled=true"}},
		{name: "monitors where the cluster serves them", args: append([]string{"--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.podMonitor.enabled=true"}, monitoring...),
			want: []string{"PodMonitor/bosun", "Service/bosun-metrics", "ServiceMonitor/bosun"}},
		{name: "no monitors without metrics", args: append([]string{"--set", "metrics.enabled=false", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.podMonitor.enabled=true"}, monitoring...)},
		{name: "the metrics Service alone", args: []string{"--set", "metrics.service.enabled=true"}, want: []string{"Service/bosun-metrics"}},
		{name: "a NetworkPolicy", args: []string{"--set", "networkPolicy.enabled=true", "--set", "networkPolicy.metricsFrom[0].podSelector.matchLabels.app=prometheus"},
			want: []string{"NetworkPolicy/bosun"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs := chartTemplate(t, helm, "bosun", "bosun", nil, append([]string{"--values", chartExamplesFile}, tt.args...)...)
			var got []string
			for _, obj := range objs {
				switch obj.GetKind() {
				case "ConfigMap", "ServiceAccount", "Deployment", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
				default:
					got = append(got, obj.GetKind()+"/"+obj.GetName())
				}
				chartDecodeTyped(t, obj)
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChartRollsThePodsWhenTheWatchesOrFilesChange(t *testing.T) {
	helm := chartHelm(t)
	checksum := func(args ...string) string {
		objs := chartTemplate(t, helm, "bosun", "bosun", nil, append([]string{"--values", chartExamplesFile}, args...)...)
		for _, obj := range objs {
			if obj.GetKind() == "Deployment" {
				v, _, _ := unstructured.NestedString(obj.Object, "spec", "template", "metadata", "annotations", "checksum/config")
				return v
			}
		}
		t.Fatal("no Deployment")
		return ""
	}
	base := checksum()
	if base == "" {
		t.Fatal("the pod template has no checksum/config annotation")
	}
	if again := checksum("--set", "mode=ha"); again != base {
		t.Errorf("checksum/config changed with the mode (%s, %s): it should cover the watches and files only", base, again)
	}
	watch := chartValuesFile(t, map[string]any{"watches": map[string]string{"extra.yaml": "watch: {version: v1, kind: Secret}\n"}})
	if w := checksum("--values", watch); w == base {
		t.Error("checksum/config did not change with a new watch")
	}
	template := chartValuesFile(t, map[string]any{"files": map[string]string{"templates/site/extra.yaml": "x: y\n"}})
	if f := checksum("--values", template); f == base {
		t.Error("checksum/config did not change with a new template")
	}
}

// chartDecodeTyped decodes a rendered object strictly into its API type, so that a misspelt field
// fails here rather than at install. Kinds without a Go type here (the monitors) are skipped.
func chartDecodeTyped(t *testing.T, obj *unstructured.Unstructured) {
	t.Helper()
	var into any
	switch obj.GetKind() {
	case "ConfigMap":
		into = &corev1.ConfigMap{}
	case "Service":
		into = &corev1.Service{}
	case "ServiceAccount":
		into = &corev1.ServiceAccount{}
	case "Deployment":
		into = &appsv1.Deployment{}
	case "PodDisruptionBudget":
		into = &policyv1.PodDisruptionBudget{}
	case "NetworkPolicy":
		into = &networkingv1.NetworkPolicy{}
	case "ClusterRole", "Role":
		into = &rbacv1.ClusterRole{}
	case "ClusterRoleBinding", "RoleBinding":
		into = &rbacv1.ClusterRoleBinding{}
	default:
		return
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, into, true); err != nil {
		t.Errorf("%s/%s: %v", obj.GetKind(), obj.GetName(), err)
	}
}

// chartHelm is the helm CLI of BOSUN_TOOLS_DIR.
func chartHelm(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BOSUN_TOOLS_DIR")
	if dir == "" {
		t.Fatal("BOSUN_TOOLS_DIR is not set: the chart tests need the helm CLI; run hack/build-tools.sh and set BOSUN_TOOLS_DIR to the directory it prints (hack/test.sh does both)")
	}
	helm := filepath.Join(dir, "helm")
	if _, err := os.Stat(helm); err != nil {
		t.Fatalf("no helm CLI in BOSUN_TOOLS_DIR: %v; run hack/build-tools.sh, which builds it from hack/tools/helm", err)
	}
	return helm
}

// chartHelmCommand is the helm CLI with a home of its own and no cluster.
func chartHelmCommand(t *testing.T, helm string, args ...string) *exec.Cmd {
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

// chartHelmRun runs the helm CLI and returns what it printed to stdout and stderr together.
func chartHelmRun(t *testing.T, helm string, args ...string) (string, error) {
	t.Helper()
	out, err := chartHelmCommand(t, helm, args...).CombinedOutput()
	return string(out), err
}

// chartTemplate renders the chart as helm template does, with values (if not nil) as a values
// file before args, and decodes the objects.
func chartTemplate(t *testing.T, helm, release, namespace string, values map[string]any, args ...string) []*unstructured.Unstructured {
	t.Helper()
	all := []string{"template", release, chartDir, "--namespace", namespace}
	if values != nil {
		all = append(all, "--values", chartValuesFile(t, values))
	}
	all = append(all, args...)
	cmd := chartHelmCommand(t, helm, all...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(all, " "), err, stderr.String())
	}
	return chartDecode(t, stdout.Bytes())
}

func chartValuesFile(t *testing.T, values map[string]any) string {
	t.Helper()
	b, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(chartTempDir(t), "values.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// chartTempDir is a temporary directory whose path helm can take: t.TempDir is named after the
// test, and helm splits --values at commas.
func chartTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bosun-chart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// chartDecode decodes a stream of YAML documents, skipping empty ones.
func chartDecode(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode: %v\n%s", err, data)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
	return objs
}
