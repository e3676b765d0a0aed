package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	siteWatch   = "../../examples/site/watch.yaml"
	siteOwner   = "../../examples/site/site.yaml"
	deployWatch = "../../examples/deploy/config/watches"
)

func TestRenderPrintsTheChildrenOfOwners(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stdin  string
		golden string
	}{
		{
			name:   "the site example renders its children as the templates wrote them",
			args:   []string{"render", "--config", siteWatch, "-f", siteOwner},
			golden: "testdata/render/site.yaml",
		},
		{
			name:   "with labels the children are shown as bosun applies them, in apply order",
			args:   []string{"render", "--config", siteWatch, "-f", siteOwner, "--with-labels"},
			golden: "testdata/render/site-with-labels.yaml",
		},
		{
			name: "owners come from stdin and several files, lists are flattened, -n fills in namespaces",
			args: []string{"render", "-c", siteWatch, "-f", "-", "-f", siteOwner, "-n", "team-a"},
			stdin: `apiVersion: v1
kind: List
items:
  - apiVersion: example.bosun.dev/v1
    kind: Site
    metadata: {name: listed, namespace: team-b}
    spec: {message: from a list, port: 8080}
---
# comments only
---
{"apiVersion": "example.bosun.dev/v1", "kind": "Site", "metadata": {"name": "json"}, "spec": {"message": "JSON"}}
`,
			golden: "testdata/render/stdin-and-files.yaml",
		},
		{
			name:   "a chart watch renders like helm template: the release is the owner",
			args:   []string{"render", "-c", "../../examples/site-chart/watch.yaml", "-f", siteOwner, "--kube-version", "v1.37.2"},
			golden: "testdata/render/site-chart.yaml",
		},
		{
			name:   "an owner that names its cluster renders for it; --cluster renders for another",
			args:   []string{"render", "-c", "../../examples/clusters/watch.yaml", "-f", "testdata/render/pinned-sites.yaml", "--with-labels"},
			golden: "testdata/render/clusters.yaml",
		},
		{
			name:   "--cluster and --cluster-label are what templates see as .Cluster",
			args:   []string{"render", "-c", "../../examples/clusters/watch.yaml", "-f", "../../examples/clusters/sites.yaml", "--cluster", "eu-1", "--cluster-label", "region=eu"},
			golden: "testdata/render/clusters-eu-1.yaml",
		},
		{
			name:   "--kube-version and --api-versions are what a chart sees as .Capabilities",
			args:   []string{"render", "-c", "testdata/capabilities/watch.yaml", "-f", siteOwner, "--kube-version", "v1.31.4", "-a", "example.com/v1", "--api-versions", "example.com/v1/Gadget"},
			golden: "testdata/render/capabilities.yaml",
		},
		{
			name:   "a directory of watches renders with the one named by --watch",
			args:   []string{"render", "-c", deployWatch, "--watch", "characters", "-f", "../../examples/character/nemo.yaml"},
			golden: "testdata/render/character.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := bosun(t, tt.stdin, tt.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			golden(t, tt.golden, stdout)
		})
	}
}

func TestRenderExplainsWhatIsWrong(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  result
	}{
		{
			name: "an owner of another kind than the watch's",
			args: []string{"render", "-c", siteWatch, "-f", "../../examples/character/nemo.yaml"},
			want: result{Code: 1, Stderr: "bosun: ../../examples/character/nemo.yaml: document 1: Character/nemo is apiVersion stable.example.bosun.dev/v1, kind Character, but watch sites watches apiVersion example.bosun.dev/v1, kind Site\n"},
		},
		{
			name: "a missing owner file",
			args: []string{"render", "-c", siteWatch, "-f", "nope.yaml"},
			want: result{Code: 1, Stderr: "bosun: nope.yaml: no such file or directory\n"},
		},
		{
			name: "a missing config",
			args: []string{"render", "-c", "nope/watch.yaml", "-f", siteOwner},
			want: result{Code: 1, Stderr: "bosun: nope/watch.yaml: no such file or directory\n"},
		},
		{
			name: "a directory of several watches without --watch",
			args: []string{"render", "-c", deployWatch, "-f", siteOwner},
			want: result{Code: 1, Stderr: "bosun: ../../examples/deploy/config/watches holds 3 watches (characters, exposed-configmaps, sites): choose one with --watch\n"},
		},
		{
			name: "a --watch that names no watch",
			args: []string{"render", "-c", deployWatch, "--watch", "site", "-f", siteOwner},
			want: result{Code: 1, Stderr: `bosun: ../../examples/deploy/config/watches: no watch named "site"; it holds characters, exposed-configmaps, sites` + "\n"},
		},
		{
			name:  "a document without a name",
			args:  []string{"render", "-c", siteWatch, "-f", "-"},
			stdin: "---\n# first\n---\napiVersion: example.bosun.dev/v1\nkind: Site\n",
			want:  result{Code: 1, Stderr: "bosun: stdin: document 2: missing metadata.name\n"},
		},
		{
			name:  "a document that is not an object",
			args:  []string{"render", "-c", siteWatch, "-f", "-"},
			stdin: "- a list\n",
			want:  result{Code: 1, Stderr: "bosun: stdin: document 1: want an object, got a list\n"},
		},
		{
			name:  "a duplicated key",
			args:  []string{"render", "-c", siteWatch, "-f", "-"},
			stdin: "kind: Site\nkind: Site\n",
			want:  result{Code: 1, Stderr: "bosun: stdin: document 1: yaml: unmarshal errors:\n  line 2: key \"kind\" already set in map\n"},
		},
		{
			name:  "an empty file",
			args:  []string{"render", "-c", siteWatch, "-f", "-"},
			stdin: "# nothing\n",
			want:  result{Code: 1, Stderr: "bosun: stdin: no objects\n"},
		},
		{
			name:  "a template that fails names the owner, template and line",
			args:  []string{"render", "-c", siteWatch, "-f", "-"},
			stdin: "apiVersion: example.bosun.dev/v1\nkind: Site\nmetadata: {name: quiet, namespace: web}\nspec: {}\n",
			want:  result{Code: 1, Stderr: `bosun: stdin: document 1: Site/web/quiet: render: template: ../../templates/site/configmap.yaml:9:23: .Spec.message is absent or null (test an optional value with if or with, or give it a default)` + "\n"},
		},
		{
			name:  "an owner the watch's selector leaves out renders with a note",
			args:  []string{"render", "-c", "../../examples/expose/watch.yaml", "-f", "-"},
			stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop, namespace: web}\ndata: {app: shop}\n",
			want: result{
				Stdout: "---\n# owner: ConfigMap/web/shop\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop-exposed\nspec:\n  ports:\n  - port: 80\n  selector:\n    app: shop\n",
				Stderr: `note: stdin: document 1: ConfigMap/web/shop does not match the selector "bosun.dev/expose=true" of watch exposed-configmaps: bosun would not render it` + "\n",
			},
		},
		{
			name: "an unknown flag gets a hint to the help",
			args: []string{"render", "-c", siteWatch, "-f", siteOwner, "--colour"},
			want: result{Code: 1, Stderr: "bosun: unknown flag: --colour\nRun 'bosun render --help' for usage.\n"},
		},
		{
			name: "a missing required flag gets a hint to the help",
			args: []string{"render", "-c", siteWatch},
			want: result{Code: 1, Stderr: "bosun: required flag(s) \"filename\" not set\nRun 'bosun render --help' for usage.\n"},
		},
		{
			name: "an unknown command gets a suggestion and a hint",
			args: []string{"rnder"},
			want: result{Code: 1, Stderr: "bosun: unknown command \"rnder\" for \"bosun\"\n\nDid you mean this?\n\trender\n\nRun 'bosun --help' for usage.\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got result
			got.Stdout, got.Stderr, got.Code = bosun(t, tt.stdin, tt.args...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("bosun %v (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}
