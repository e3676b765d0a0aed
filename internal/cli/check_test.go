package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckReportsEveryWatchAndExample(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want result
	}{
		{
			name: "the examples of the repository pass",
			args: []string{"check", "-c", "../../examples/site/watch.yaml"},
			want: result{Stdout: `ok    sites: ../../examples/site/watch.yaml (3 templates, 1 example)
ok    sites: ../../examples/site/site.yaml (3 objects)
`},
		},
		{
			name: "a directory of watches without examples passes",
			args: []string{"check", "--config", deployWatch},
			want: result{Stdout: `ok    characters: ../../examples/deploy/config/watches/characters.yaml (2 templates, no examples)
ok    exposed-configmaps: ../../examples/deploy/config/watches/exposed-configmaps.yaml (1 template, no examples)
ok    sites: ../../examples/deploy/config/watches/sites.yaml (3 templates, no examples)
`},
		},
		{
			name: "failing examples are reported one by one and the rest still checked",
			args: []string{"check", "-c", "testdata/check/good.yaml"},
			want: result{Code: 1, Stdout: `ok    good: testdata/check/good.yaml (1 template, 6 examples)
ok    good: testdata/check/owners/one.yaml (1 object)
ok    good: testdata/check/owners/two.yaml (2 owners, 2 objects)
FAIL  good: testdata/check/owners/no-message.yaml: document 1: Site/default/quiet: render: template: testdata/check/templates/configmap.yaml:6:14: .Spec.message is absent or null (test an optional value with if or with, or give it a default)
FAIL  good: testdata/check/owners/own-namespace.yaml: document 1: Site/default/greedy: Namespace/greedy: refused: cluster-scoped children are not allowed (children.clusterScoped)
FAIL  good: testdata/check/owners/character.yaml: document 1: Character/nemo is apiVersion stable.example.bosun.dev/v1, kind Character, but watch good watches apiVersion example.bosun.dev/v1, kind Site
FAIL  good: testdata/check/owners/no-name.yaml: document 2: missing metadata.name
`},
		},
		{
			name: "templates that do not parse fail their watch",
			args: []string{"check", "-c", "testdata/check/broken-templates.yaml"},
			want: result{Code: 1, Stdout: `FAIL  broken-templates: testdata/check/broken-templates.yaml: template: testdata/check/templates-broken/configmap.yaml:4: unexpected "}" in operand
`},
		},
		{
			name: "every problem of a config is a line of its own",
			args: []string{"check", "-c", "testdata/check/broken-config.yaml"},
			want: result{Code: 1, Stdout: `FAIL  testdata/check/broken-config.yaml: unknown key "colour"
FAIL  testdata/check/broken-config.yaml: examples: testdata/check/owners/nope.yaml: no such file or directory
`},
		},
		{
			name: "a missing config",
			args: []string{"check", "-c", "nope.yaml"},
			want: result{Code: 1, Stdout: "FAIL  nope.yaml: no such file or directory\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got result
			got.Stdout, got.Stderr, got.Code = bosun(t, "", tt.args...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("bosun %v (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}
