package renderer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Each name a Lostromos template could call on its dot (a tmpl.CustomResource there), with what
// Lostromos rendered for it. The golden case testdata/lostromos-templates-render-unchanged
// renders whole Lostromos-style files.
func TestLostromosNamesRenderAsUnderLostromos(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"GetField returns a string field", `{{ .GetField "spec" "image" }}`, "nginx"},
		{"GetField walks nested maps", `{{ .GetField "spec" "nested" "a" "b" }}`, "deep"},
		{"GetField reads metadata", `{{ .GetField "metadata" "name" }}/{{ .GetField "metadata" "namespace" }}`, "web/team-a"},
		{"GetField of a missing field is empty", `[{{ .GetField "Something" "made" "up" }}]`, "[]"},
		{"GetField below a string is empty", `[{{ .GetField "spec" "image" "tag" }}]`, "[]"},
		{"GetField of a number is empty, as Lostromos' string assertion made it", `[{{ .GetField "spec" "replicas" }}]`, "[]"},
		{"GetField of a map is empty", `[{{ .GetField "spec" }}]`, "[]"},
		{"GetField of null is empty", `[{{ .GetField "spec" "nothing" }}]`, "[]"},
		{"GetField without fields is empty", `[{{ .GetField }}]`, "[]"},
		{"GetField of an empty string is empty", `[{{ .GetField "spec" "empty" }}]`, "[]"},
		{"GetField pipes into functions", `{{ .GetField "spec" "image" | upper }}`, "NGINX"},
		{"GetField tests in if", `{{ if .GetField "spec" "nope" }}yes{{ else }}no{{ end }}`, "no"},
		{"Name is the owner's name, as Lostromos' Name method", `{{ .Name }}`, "web"},
		{"Resource.GetName", `{{ .Resource.GetName }}`, "web"},
		{"Resource.GetNamespace", `{{ .Resource.GetNamespace }}`, "team-a"},
		{"Resource.GetLabels", `{{ index .Resource.GetLabels "team" }}`, "a"},
		{"Resource.GetUID", `{{ .Resource.GetUID }}`, "0b7a0d6e-0000-4000-8000-000000000002"},
		{"Resource.GetKind and GetAPIVersion", `{{ .Resource.GetKind }} {{ .Resource.GetAPIVersion }}`, "Site example.bosun.dev/v1alpha1"},
		{"Resource.Object is the object", `{{ .Resource.Object.spec.image }}`, "nginx"},
		{"the methods survive a {{template}} call", `{{ define "x" }}{{ .GetField "spec" "image" }}{{ end }}{{ template "x" . }}`, "nginx"},
		{"the methods survive include", `{{ define "x" }}{{ .Resource.GetName }}{{ end }}{{ include "x" . }}`, "web"},
		{"$ keeps them inside with", `{{ with .Spec }}{{ $.GetField "spec" "image" }}{{ end }}`, "nginx"},
		{"bosun's own data is unchanged", `{{ .Spec.image }} {{ hasKey . "Spec" }} {{ .Labels.team }}`, "nginx true a"},
		{"the dot is still a map for sprig", `{{ keys (pick . "Name" "Kind") | sortAlpha | join "," }}`, "Kind,Name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := execText(t, tc.text, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s rendered %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

// Lostromos' own data tree rendered "<no value>" for an absent key; bosun's data fails instead
// (see missing.go), also through .Resource.Object. GetField is the Lostromos way to test.
func TestLostromosAbsentObjectKeyFailsLikeBosunData(t *testing.T) {
	_, err := execText(t, `{{ .Resource.Object.spec.nope }}`, Options{})
	if err == nil || !strings.Contains(err.Error(), ".Resource.Object.spec.nope is absent or null") {
		t.Errorf("err = %v, want the absent value named", err)
	}
}

// Lostromos' example: 0_base.tmpl calls the two other files between separators.
var lostromosExample = map[string]string{
	"0_base.tmpl": "---\n\n{{ template \"configmap.yaml.tmpl\" .}}\n\n---\n\n{{ template \"deployment.yaml.tmpl\" .}}\n",
	"configmap.yaml.tmpl": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .GetField "metadata" "name"  }}-configmap
data:
  by: {{ .GetField "spec" "image"  }}
`,
	"deployment.yaml.tmpl": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .GetField "metadata" "name"  }}-nginx
spec:
  replicas: 1
`,
}

func withFiles(base map[string]string, files map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range files {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

func TestLostromosTemplatesLayout(t *testing.T) {
	for _, tc := range []struct {
		name                string
		files               map[string]string
		calls, want, unused []string
		err                 string
	}{
		{
			name:  "a first file that only calls the others is replaced by them",
			files: lostromosExample,
			calls: []string{"configmap.yaml.tmpl", "deployment.yaml.tmpl"},
			want:  []string{"configmap.yaml.tmpl", "deployment.yaml.tmpl"},
		},
		{
			name:  "a single file renders on its own",
			files: map[string]string{"deployment.yaml.tmpl": lostromosExample["deployment.yaml.tmpl"]},
			want:  []string{"deployment.yaml.tmpl"},
		},
		{
			name:   "files the first file does not call were never rendered",
			files:  withFiles(lostromosExample, map[string]string{"0_base.tmpl": "{{ template \"configmap.yaml.tmpl\" . }}", "service.yaml.tmpl": "kind: Service\n"}),
			calls:  []string{"configmap.yaml.tmpl"},
			want:   []string{"configmap.yaml.tmpl"},
			unused: []string{"deployment.yaml.tmpl", "service.yaml.tmpl"},
		},
		{
			name:   "only the first of several files rendered when none calls another",
			files:  withFiles(lostromosExample, map[string]string{"0_base.tmpl": ""}),
			want:   []string{"configmap.yaml.tmpl"},
			unused: []string{"deployment.yaml.tmpl"},
		},
		{
			name: "files that only define templates are kept for their defines",
			files: map[string]string{
				"a.tmpl":       "kind: ConfigMap\nmetadata: {name: {{ template \"name\" . }}}\n",
				"helpers.tmpl": "{{ define \"name\" }}{{ .GetField \"metadata\" \"name\" }}-cm{{ end }}\n",
			},
			want: []string{"a.tmpl", "helpers.tmpl"},
		},
		{
			name:  "other files than *.tmpl, and subdirectories, are not Lostromos templates",
			files: map[string]string{"a.tmpl": "kind: A\n", "b.yaml": "kind: B\n", "sub/c.tmpl": "kind: C\n"},
			want:  []string{"a.tmpl"},
		},
		{
			name:  "a first file with output of its own that calls a file cannot be rendered the same",
			files: withFiles(lostromosExample, map[string]string{"0_base.tmpl": "# objects\nkind: List\n{{ template \"configmap.yaml.tmpl\" . }}"}),
			err:   `DIR/0_base.tmpl:3:12: {{template "configmap.yaml.tmpl"}} calls a file by the name Lostromos gave it; bosun names a file's template by its path: wrap the file in a {{define}} and call that`,
		},
		{
			name:  "a called file that calls a file by name cannot be rendered the same",
			files: withFiles(lostromosExample, map[string]string{"deployment.yaml.tmpl": "{{ if true }}{{ template \"configmap.yaml.tmpl\" . }}{{ end }}"}),
			err:   `DIR/deployment.yaml.tmpl:1:25: {{template "configmap.yaml.tmpl"}} calls a file by the name Lostromos gave it`,
		},
		{
			name:  "a file called twice",
			files: withFiles(lostromosExample, map[string]string{"0_base.tmpl": "{{ template \"configmap.yaml.tmpl\" . }}\n---\n{{ template \"configmap.yaml.tmpl\" . }}"}),
			err:   "DIR/0_base.tmpl:3:12: calls configmap.yaml.tmpl a second time; bosun renders a file once",
		},
		{
			name: "a define in a file whose own output Lostromos never rendered",
			files: map[string]string{
				"a.tmpl": "{{ template \"name\" . }}",
				"b.tmpl": "kind: B\n{{ define \"name\" }}x{{ end }}",
			},
			err: `DIR/a.tmpl:1:12: "name" is defined in DIR/b.tmpl, which also has output of its own that Lostromos never rendered`,
		},
		{
			name:  "no *.tmpl files",
			files: map[string]string{"a.yaml": "kind: A\n"},
			err:   "DIR: no *.tmpl files (Lostromos executed the first *.tmpl file of its templates directory)",
		},
		{
			name:  "a template Lostromos could not parse either",
			files: map[string]string{"a.tmpl": "{{ upper .Name }}"},
			err:   `DIR: template: a.tmpl:1: function "upper" not defined`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTemplates(t, tc.files)
			l, err := LostromosTemplates(dir)
			if tc.err != "" {
				if got := errString(errorText(err, dir)); !strings.Contains(got, tc.err) {
					t.Fatalf("err = %q, want it to contain %q", got, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			base := func(paths []string) []string {
				var out []string
				for _, p := range paths {
					out = append(out, strings.TrimPrefix(p, dir+string(filepath.Separator)))
				}
				return out
			}
			if diff := cmp.Diff(tc.calls, base(l.Calls)); diff != "" {
				t.Errorf("Calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, base(l.Files)); diff != "" {
				t.Errorf("Files (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.unused, base(l.Unused)); diff != "" {
				t.Errorf("Unused (-want +got):\n%s", diff)
			}
			if _, err := New(l.Files, Options{}); err != nil {
				t.Errorf("New(Files): %v", err)
			}
		})
	}
}

// The files of the layout render what Lostromos applied from its example directory: the
// ConfigMap and the Deployment of 0_base.tmpl, in that order.
func TestLostromosExampleDirectoryRendersItsObjects(t *testing.T) {
	dir := writeTemplates(t, lostromosExample)
	l, err := LostromosTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(l.Files, Options{})
	if err != nil {
		t.Fatal(err)
	}
	children, err := r.Render(context.Background(), testOwner(t))
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
data:
  by: nginx
kind: ConfigMap
metadata:
  name: web-configmap
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-nginx
spec:
  replicas: 1
`
	if diff := cmp.Diff(want, marshalStream(t, children)); diff != "" {
		t.Errorf("children (-want +got):\n%s", diff)
	}
}
