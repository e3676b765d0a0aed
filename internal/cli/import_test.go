package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bosun-dev/bosun/config"
)

const (
	importDir             = "testdata/import"
	importHelmOperatorDir = importDir + "/helm-operator"
	importLostromosDir    = importDir + "/lostromos"
)

var importEnvFlags = []string{"--env", "IMAGE_REPOSITORY=quay.io/acme/nginx", "--env", "RELATED_IMAGE_NGINX=quay.io/acme/nginx:1.27"}

// The watches import prints, and its notes, against golden files: testdata/import/NAME.yaml
// (stdout) and NAME.stderr.
func TestImportPrintsWatchesAndNotes(t *testing.T) {
	tests := []struct {
		name, golden string
		env          map[string]string
		args         []string
	}{
		{
			name:   "helm-operator watches with their environment given",
			golden: "helm-operator",
			args:   append([]string{"import", "helm-operator", importHelmOperatorDir + "/watches.yaml"}, importEnvFlags...),
		},
		{
			name:   "helm-operator watches with the environment taken from the shell",
			golden: "helm-operator",
			env:    map[string]string{"IMAGE_REPOSITORY": "quay.io/acme/nginx", "RELATED_IMAGE_NGINX": "quay.io/acme/nginx:1.27"},
			args:   []string{"import", "helm-operator", importHelmOperatorDir + "/watches.yaml", "--expand-env"},
		},
		{
			name:   "a Lostromos config of templates, the kind read from the CRD",
			golden: "lostromos-templates",
			args:   []string{"import", "lostromos", importLostromosDir + "/config.yaml", "--crd", importLostromosDir + "/crd.yml"},
		},
		{
			name:   "Lostromos flags only, as lostromos start took them",
			golden: "lostromos-flags",
			args: []string{"import", "lostromos", "--crd-name", "characters", "--crd-group", "stable.nicolerenee.io",
				"--templates", importLostromosDir + "/templates", "--kind", "Character", "--nop"},
		},
		{
			name:   "a flag wins over the Lostromos config, as in lostromos start",
			golden: "lostromos-flag-over-config",
			args:   []string{"import", "lostromos", importLostromosDir + "/config.yaml", "--kind", "Character", "--crd-namespace", "pixar", "--crd-filter", ""},
		},
		{
			name:   "a Lostromos config of a Helm chart through Tiller",
			golden: "lostromos-helm",
			args:   []string{"import", "lostromos", importLostromosDir + "/helm-config.yaml", "--kind", "Character"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			stdout, stderr, code := bosun(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, filepath.Join(importDir, tt.golden+".yaml"), stdout)
			golden(t, filepath.Join(importDir, tt.golden+".stderr"), stderr)
		})
	}
}

func TestImportRefusesWithFileAndLine(t *testing.T) {
	tests := []struct {
		name string
		// unset are environment variables the shell must not have.
		unset []string
		args  []string
		want  string
	}{
		{
			name: "an environment variable nobody gives",
			args: []string{"import", "helm-operator", importHelmOperatorDir + "/watches.yaml", "--env", "RELATED_IMAGE_NGINX=nginx:1.27"},
			want: `bosun: testdata/import/helm-operator/watches.yaml:7: overrideValues: image.repository: "$IMAGE_REPOSITORY" names the environment variable IMAGE_REPOSITORY, which helm-operator took from its own environment at start; bosun expands none: give its value from the operator's Deployment with --env IMAGE_REPOSITORY=VALUE, or --expand-env to take it from this shell
`,
		},
		{
			name:  "an environment variable the shell does not have either",
			unset: []string{"IMAGE_REPOSITORY"},
			args:  []string{"import", "helm-operator", importHelmOperatorDir + "/watches.yaml", "--expand-env", "--env", "RELATED_IMAGE_NGINX=nginx:1.27"},
			want: `bosun: testdata/import/helm-operator/watches.yaml:7: overrideValues: image.repository: "$IMAGE_REPOSITORY" names the environment variable IMAGE_REPOSITORY, which helm-operator took from its own environment at start; bosun expands none: give its value from the operator's Deployment with --env IMAGE_REPOSITORY=VALUE (this shell has none)
`,
		},
		{
			name: "every problem of a watches.yaml at once",
			args: []string{"import", "helm-operator", importHelmOperatorDir + "/bad-watches.yaml"},
			want: `bosun: testdata/import/helm-operator/bad-watches.yaml:1: kind: missing (helm-operator requires it)
testdata/import/helm-operator/bad-watches.yaml:5: overrideValues: replicaCount: want a string (helm-operator refused anything else): quote it
testdata/import/helm-operator/bad-watches.yaml:6: reconcilePeriod: time: invalid duration "soon"
testdata/import/helm-operator/bad-watches.yaml:10: chart: ` + importAbsPath(t, importHelmOperatorDir+"/helm-charts/nope") + `: no such file or directory (paths are read relative to testdata/import/helm-operator; see --paths-from)
testdata/import/helm-operator/bad-watches.yaml:11: maxConcurrentReconciles: want at least 1
testdata/import/helm-operator/bad-watches.yaml:13: selector: "Maybe" is not a valid label selector operator
testdata/import/helm-operator/bad-watches.yaml:15: watchDependentResources: want true or false
`,
		},
		{
			name: "YAML that does not parse",
			args: []string{"import", "helm-operator", importHelmOperatorDir + "/broken.yaml"},
			want: "bosun: testdata/import/helm-operator/broken.yaml:3: mapping values are not allowed in this context\n",
		},
		{
			name: "a watches.yaml that is not a list",
			args: []string{"import", "helm-operator", importHelmOperatorDir + "/not-a-list.yaml"},
			want: "bosun: testdata/import/helm-operator/not-a-list.yaml:1: want a list of watches, as helm-operator's watches.yaml holds\n",
		},
		{
			name: "a bad --env",
			args: []string{"import", "helm-operator", importHelmOperatorDir + "/watches.yaml", "--env", "IMAGE_REPOSITORY"},
			want: "bosun: --env \"IMAGE_REPOSITORY\": want NAME=VALUE\n",
		},
		{
			name: "Lostromos' plural without a kind",
			args: []string{"import", "lostromos", importLostromosDir + "/config.yaml"},
			want: `bosun: testdata/import/lostromos/config.yaml:5: crd.name: "characters" is the CRD's plural; a bosun watch names its kind: give --kind (e.g. --kind Character), or --crd with the CRD's manifest
`,
		},
		{
			name: "a Lostromos setting lostromos start required",
			args: []string{"import", "lostromos", importLostromosDir + "/no-group.yaml", "--kind", "Character"},
			want: "bosun: testdata/import/lostromos/no-group.yaml: crd.group: missing (lostromos start required it: --crd-group, or crd.group in the config)\n",
		},
		{
			name: "a CRD of another version",
			args: []string{"import", "lostromos", importLostromosDir + "/config.yaml", "--crd", importLostromosDir + "/crd.yml", "--crd-version", "v2"},
			want: "bosun: testdata/import/lostromos/config.yaml:5: crd.name: testdata/import/lostromos/crd.yml: the CRD characters.stable.nicolerenee.io has no version v2 (crd.version)\n",
		},
		{
			name: "a kind that is not the CRD's",
			args: []string{"import", "lostromos", importLostromosDir + "/config.yaml", "--crd", importLostromosDir + "/crd.yml", "--kind", "Fish"},
			want: "bosun: testdata/import/lostromos/config.yaml:5: crd.name: --kind Fish, but testdata/import/lostromos/crd.yml says Character\n",
		},
		{
			name: "a Lostromos template bosun cannot render the same",
			args: []string{"import", "lostromos", "--crd-name", "characters", "--crd-group", "g", "--kind", "Character", "--templates", importDir},
			want: "bosun: --templates: templates: " + importAbsPath(t, importDir) + ": no *.tmpl files (Lostromos executed the first *.tmpl file of its templates directory)\n",
		},
		{
			name: "a Lostromos config in TOML",
			args: []string{"import", "lostromos", "lostromos.toml"},
			want: "bosun: lostromos.toml: only YAML and JSON Lostromos configs are read\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range tt.unset {
				t.Setenv(name, "") // restored after the test
				os.Unsetenv(name)
			}
			stdout, stderr, code := bosun(t, "", tt.args...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if diff := cmp.Diff(tt.want, stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

func importAbsPath(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// With --out, each watch is a file bosun run loads, nothing goes to stdout, and the files'
// watches render what the tools rendered: helm-operator's values overridden, Lostromos'
// templates unchanged (the objects of its example, testdata/import/NAME-render.yaml).
func TestImportOutWritesWatchFilesThatRender(t *testing.T) {
	tests := []struct {
		name, owner, golden string
		args                []string
		// files are the files written, first the one written first.
		files []string
	}{
		{
			name:   "helm-operator",
			args:   append([]string{"import", "helm-operator", importHelmOperatorDir + "/watches.yaml"}, importEnvFlags...),
			files:  []string{"nginx.yaml", "memcached.yaml"},
			owner:  importHelmOperatorDir + "/nginx.yaml",
			golden: "helm-operator-render",
		},
		{
			name:   "Lostromos",
			args:   []string{"import", "lostromos", importLostromosDir + "/config.yaml", "--kind", "Character"},
			files:  []string{"characters.yaml"},
			owner:  importLostromosDir + "/cr_nemo.yml",
			golden: "lostromos-render",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "watches")
			stdout, stderr, code := bosun(t, "", append(tt.args, "--out", dir)...)
			if code != 0 || stdout != "" {
				t.Fatalf("exit %d, stdout %q, want 0 and nothing: %s", code, stdout, stderr)
			}
			for _, f := range tt.files {
				if !strings.Contains(stderr, "wrote "+filepath.Join(dir, f)+"\n") {
					t.Errorf("stderr does not say it wrote %s:\n%s", f, stderr)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if diff := cmp.Diff(tt.files, got, cmpopts.SortSlices(strings.Compare)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			watches, err := config.Load(dir)
			if err != nil {
				t.Fatalf("bosun would not load the imported watches: %v", err)
			}
			var watch string
			for _, w := range watches {
				if w.GVK.Kind == readOwnerKind(t, tt.owner) {
					watch = w.File
				}
			}
			stdout, stderr, code = bosun(t, "", "render", "-c", watch, "-f", tt.owner)
			if code != 0 {
				t.Fatalf("render: exit %d: %s", code, stderr)
			}
			golden(t, filepath.Join(importDir, tt.golden+".yaml"), stdout)

			// A second import does not replace the files.
			_, stderr, code = bosun(t, "", append(tt.args, "--out", dir)...)
			want := "bosun: " + filepath.Join(dir, tt.files[0]) + ": exists; not replaced (remove it to import again)\n"
			if code != 1 || !strings.HasSuffix(stderr, want) {
				t.Errorf("second import: exit %d, stderr %q, want 1 and %q", code, stderr, want)
			}
		})
	}
}

func readOwnerKind(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, ok := strings.CutPrefix(l, "kind: "); ok {
			return strings.TrimSpace(k)
		}
	}
	t.Fatalf("%s: no kind", path)
	return ""
}
