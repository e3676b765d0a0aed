package config

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dnsLabelRule and its siblings are apimachinery's wording, kept here so the
// cases below read as what the user sees.
const (
	dnsLabelRule     = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
	dnsSubdomainRule = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
	dns1035Rule      = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)

// badConfigs maps each fixture in testdata/bad to the exact error Load
// returns for it.
var badConfigs = map[string]string{
	"clusters-invalid.yaml": `testdata/bad/clusters-invalid.yaml: clusters.unreachableTimeout: must be 1s or more, got 10ms
testdata/bad/clusters-invalid.yaml: clusters.selector: unable to parse requirement: found '', expected: ',' or ')'
testdata/bad/clusters-invalid.yaml: clusters: set default or selector, not both: owners that name no cluster go to the default one, or to every cluster the selector matches
testdata/bad/clusters-invalid.yaml: clusters.allowedSelector: unable to parse requirement: found '', expected: ',', ')' or identifier
testdata/bad/clusters-invalid.yaml: clusters.allowed[0]: "eu-[" is not a name pattern (path.Match, as eu-*)
testdata/bad/clusters-invalid.yaml: clusters.allowed[1]: "" is not a name pattern (path.Match, as eu-*)
testdata/bad/clusters-invalid.yaml: clusters.field: "spec..cluster" is not a field path (as spec.cluster)`,
	"empty.yaml": `testdata/bad/empty.yaml: watch: required
testdata/bad/empty.yaml: templates: required`,
	"everything-wrong.yaml": `testdata/bad/everything-wrong.yaml: unknown key "watch.kidn"
testdata/bad/everything-wrong.yaml: unknown key "children.adoptt"
testdata/bad/everything-wrong.yaml: unknown key "colour"
testdata/bad/everything-wrong.yaml: name: "Sites" is not a valid DNS-1123 label: ` + dnsLabelRule + `
testdata/bad/everything-wrong.yaml: watch.version: required
testdata/bad/everything-wrong.yaml: watch.kind: required
testdata/bad/everything-wrong.yaml: namespaces[1]: "kube_system" is not a valid namespace: ` + dnsLabelRule + `
testdata/bad/everything-wrong.yaml: selector: unable to parse requirement: found 'web' expected: '('
testdata/bad/everything-wrong.yaml: templates: testdata/templates/nope: no such file or directory
testdata/bad/everything-wrong.yaml: workers: must be between 1 and 256, got 0
testdata/bad/everything-wrong.yaml: resync: must be 0 (disabled) or at least 30s, got 1s
testdata/bad/everything-wrong.yaml: children.kinds[0]: "deployment.apps": kind "deployment" must start with an upper-case letter, e.g. Deployment
testdata/bad/everything-wrong.yaml: renderTimeout: must be between 100ms and 5m0s, got 1h0m0s`,
	"examples-invalid.yaml": `testdata/bad/examples-invalid.yaml: examples: testdata/examples/nope.yaml: no such file or directory
testdata/bad/examples-invalid.yaml: examples: testdata/examples: is a directory, want a file of owners
testdata/bad/examples-invalid.yaml: examples: testdata/examples/site.yaml: listed twice
testdata/bad/examples-invalid.yaml: examples: empty path`,
	"examples-item-not-a-path.yaml": "testdata/bad/examples-item-not-a-path.yaml: examples[0]: expected a path, got list",
	"examples-not-a-list.yaml":      "testdata/bad/examples-not-a-list.yaml: examples: expected a path or a list of paths, got map",
	"group-and-version-invalid.yaml": `testdata/bad/group-and-version-invalid.yaml: watch.group: "Example_Group" is not a valid API group: ` + dnsSubdomainRule + `
testdata/bad/group-and-version-invalid.yaml: watch.version: "V1" is not a valid API version: ` + dns1035Rule,
	"kind-invalid.yaml":             `testdata/bad/kind-invalid.yaml: watch.kind: "my_site" is not a valid kind: ` + dns1035Rule,
	"missing-version-and-kind.yaml": "testdata/bad/missing-version-and-kind.yaml: watch.version: required\ntestdata/bad/missing-version-and-kind.yaml: watch.kind: required",
	"missing-watch.yaml":            "testdata/bad/missing-watch.yaml: watch: required",
	"name-invalid.yaml":             `testdata/bad/name-invalid.yaml: name: "Web_Sites" is not a valid DNS-1123 label: ` + dnsLabelRule,
	"Name_From_File.yaml":           `testdata/bad/Name_From_File.yaml: name: "Name_From_File" (from the file name) is not a valid DNS-1123 label: ` + dnsLabelRule,
	"namespaces-invalid.yaml": `testdata/bad/namespaces-invalid.yaml: namespaces[1]: "Team_B" is not a valid namespace: ` + dnsLabelRule + `
testdata/bad/namespaces-invalid.yaml: namespaces[2]: duplicate namespace "team-a"`,
	"resync-not-a-duration.yaml":  `testdata/bad/resync-not-a-duration.yaml: resync: invalid duration "10 minutes", want e.g. 90s, 10m or 1h30m`,
	"resync-too-short.yaml":       "testdata/bad/resync-too-short.yaml: resync: must be 0 (disabled) or at least 30s, got 10s",
	"selector-invalid.yaml":       "testdata/bad/selector-invalid.yaml: selector: unable to parse requirement: found '', expected: ',' or ')'",
	"templates-listed-twice.yaml": "testdata/bad/templates-listed-twice.yaml: templates: testdata/templates/site: listed twice",
	"templates-missing.yaml":      "testdata/bad/templates-missing.yaml: templates: required",
	"templates-not-a-list.yaml":   "testdata/bad/templates-not-a-list.yaml: templates: expected a path or a list of paths, got map",
	"templates-path-missing.yaml": "testdata/bad/templates-path-missing.yaml: templates: testdata/templates/nope: no such file or directory",
	"unknown-nested-key.yaml": `testdata/bad/unknown-nested-key.yaml: unknown key "watch.kidn"
testdata/bad/unknown-nested-key.yaml: watch.kind: required`,
	"unknown-top-level-keys.yaml": `testdata/bad/unknown-top-level-keys.yaml: unknown key "replicas"
testdata/bad/unknown-top-level-keys.yaml: unknown key "workerz"`,
	"values-not-a-map.yaml":          "testdata/bad/values-not-a-map.yaml: values: expected a map, got list",
	"watch-not-a-map.yaml":           "testdata/bad/watch-not-a-map.yaml: watch: expected a map, got string",
	"workers-not-a-number.yaml":      "testdata/bad/workers-not-a-number.yaml: workers: expected an integer, got string",
	"workers-too-many.yaml":          "testdata/bad/workers-too-many.yaml: workers: must be between 1 and 256, got 1000",
	"workers-zero.yaml":              "testdata/bad/workers-zero.yaml: workers: must be between 1 and 256, got 0",
	"children-max-out-of-range.yaml": "testdata/bad/children-max-out-of-range.yaml: children.max: must be between 1 and 50000, got 0",
	"yaml-duplicate-key.yaml":        `testdata/bad/yaml-duplicate-key.yaml: yaml: line 4: mapping key "kind" already defined at line 3`,
	"yaml-syntax-unclosed.yaml":      "testdata/bad/yaml-syntax-unclosed.yaml: yaml: line 4: did not find expected ',' or ']'",
	"yaml-syntax.yaml":               "testdata/bad/yaml-syntax.yaml: yaml: line 3: mapping values are not allowed in this context",
	"children-ignore-invalid.yaml": `testdata/bad/children-ignore-invalid.yaml: children.ignore[0].paths[1]: "spec..replicas" has an empty segment; want map keys separated by single dots, e.g. spec.replicas
testdata/bad/children-ignore-invalid.yaml: children.ignore[0].paths[2]: ".spec" has an empty segment; want map keys separated by single dots, e.g. spec.replicas
testdata/bad/children-ignore-invalid.yaml: children.ignore[0].paths[3]: "spec.template.spec.containers[0].image" addresses a list item; only map keys can be ignored
testdata/bad/children-ignore-invalid.yaml: children.ignore[0].paths[4]: "spec.template.spec.containers.0.image" addresses a list item; only map keys can be ignored
testdata/bad/children-ignore-invalid.yaml: children.ignore[0].paths[5]: duplicate path "spec.replicas"
testdata/bad/children-ignore-invalid.yaml: children.ignore[0].paths[6]: empty path
testdata/bad/children-ignore-invalid.yaml: children.ignore[0].paths[7]: "metadata" cannot be ignored: bosun needs to set metadata.name to identify and own the child
testdata/bad/children-ignore-invalid.yaml: children.ignore[0].paths[8]: "metadata.labels" cannot be ignored: bosun needs to set metadata.labels to identify and own the child
testdata/bad/children-ignore-invalid.yaml: children.ignore[1].kind: required
testdata/bad/children-ignore-invalid.yaml: children.ignore[2].kind: kind "deployments" must start with an upper-case letter, e.g. Deployments
testdata/bad/children-ignore-invalid.yaml: children.ignore[2].paths: required, at least one path
testdata/bad/children-ignore-invalid.yaml: children.ignore[3].kind: "Deployment.apps" already has a rule in children.ignore[0]; list its paths there`,
	"children-ignore-wrong-types.yaml": `testdata/bad/children-ignore-wrong-types.yaml: children.ignore[0]: expected a map, got string
testdata/bad/children-ignore-wrong-types.yaml: children.ignore[1].kind: expected a string, got list
testdata/bad/children-ignore-wrong-types.yaml: children.ignore[1].paths: expected a list, got map`,
	"children-kinds-invalid.yaml": `testdata/bad/children-kinds-invalid.yaml: children.kinds[2]: ".apps" has no kind; want Kind.group, e.g. Deployment.apps, or Kind for core kinds, e.g. ConfigMap
testdata/bad/children-kinds-invalid.yaml: children.kinds[3]: "Deployment.v1.apps" has a version; want Kind.group without it, e.g. Deployment.apps, or Kind for core kinds, e.g. ConfigMap
testdata/bad/children-kinds-invalid.yaml: children.kinds[4]: "ConfigMap.v1" has a version; want Kind.group without it, e.g. Deployment.apps, or Kind for core kinds, e.g. ConfigMap
testdata/bad/children-kinds-invalid.yaml: children.kinds[5]: "deployment.apps": kind "deployment" must start with an upper-case letter, e.g. Deployment
testdata/bad/children-kinds-invalid.yaml: children.kinds[6]: "Deploy_ment" is not a valid kind: ` + dns1035Rule + `
testdata/bad/children-kinds-invalid.yaml: children.kinds[7]: "Site.Example_Group": "Example_Group" is not a valid API group: ` + dnsSubdomainRule + `
testdata/bad/children-kinds-invalid.yaml: children.kinds[8]: duplicate kind "ConfigMap"
testdata/bad/children-kinds-invalid.yaml: children.kinds[9]: "" has no kind; want Kind.group, e.g. Deployment.apps, or Kind for core kinds, e.g. ConfigMap`,
	"children-namespaces-invalid.yaml": `testdata/bad/children-namespaces-invalid.yaml: children.namespaces[1]: "Team_B" is not a valid namespace: ` + dnsLabelRule + `
testdata/bad/children-namespaces-invalid.yaml: children.namespaces[2]: duplicate namespace "team-a"
testdata/bad/children-namespaces-invalid.yaml: children.namespaces[3]: "" is not a valid namespace: ` + dnsLabelRule,
	"children-namespaces-star-mixed.yaml": `testdata/bad/children-namespaces-star-mixed.yaml: children.namespaces[1]: "*" allows any namespace and cannot be combined with other namespaces`,
	"children-not-a-map.yaml":             `testdata/bad/children-not-a-map.yaml: children: expected a map, got list`,
	"children-wrong-types.yaml": `testdata/bad/children-wrong-types.yaml: children.namespaces[0]: expected a string, got list
testdata/bad/children-wrong-types.yaml: children.clusterScoped: expected a boolean, got number
testdata/bad/children-wrong-types.yaml: children.kinds: expected a list, got map
testdata/bad/children-wrong-types.yaml: children.adopt: expected a boolean, got string
testdata/bad/children-wrong-types.yaml: children.recreateOnImmutable: expected a boolean, got list
testdata/bad/children-wrong-types.yaml: children.ignore: expected a list, got map`,
	"policy-unknown-keys.yaml": `testdata/bad/policy-unknown-keys.yaml: unknown key "children.ignore[0].path"
testdata/bad/policy-unknown-keys.yaml: unknown key "children.adoptt"
testdata/bad/policy-unknown-keys.yaml: unknown key "status.readyy"
testdata/bad/policy-unknown-keys.yaml: unknown key "safety.maxdeletez"
testdata/bad/policy-unknown-keys.yaml: unknown key "rollout.maxfailure"
testdata/bad/policy-unknown-keys.yaml: children.ignore[0].paths: required, at least one path`,
	"render-timeout-not-a-duration.yaml": `testdata/bad/render-timeout-not-a-duration.yaml: renderTimeout: invalid duration "10 seconds", want e.g. 500ms, 10s or 1m`,
	"render-timeout-too-long.yaml":       `testdata/bad/render-timeout-too-long.yaml: renderTimeout: must be between 100ms and 5m0s, got 10m0s`,
	"render-timeout-too-short.yaml":      `testdata/bad/render-timeout-too-short.yaml: renderTimeout: must be between 100ms and 5m0s, got 10ms`,
	"rollout-out-of-range.yaml": `testdata/bad/rollout-out-of-range.yaml: rollout.maxInFlight: must be 0 (the default) or more, got -1
testdata/bad/rollout-out-of-range.yaml: rollout.maxFailures: must be 1 or more, got 0`,
	"safety-not-numbers.yaml": `testdata/bad/safety-not-numbers.yaml: safety.maxDeletes: expected an integer, got string
testdata/bad/safety-not-numbers.yaml: safety.maxDeletePercent: expected an integer, got string`,
	"safety-out-of-range.yaml": `testdata/bad/safety-out-of-range.yaml: safety.maxDeletes: must be 0 (no limit) or more, got -1
testdata/bad/safety-out-of-range.yaml: safety.maxDeletePercent: must be between 1 and 100 (no limit), got 0`,
	"safety-percent-over-100.yaml": `testdata/bad/safety-percent-over-100.yaml: safety.maxDeletePercent: must be between 1 and 100 (no limit), got 101`,
	"status-invalid.yaml": `testdata/bad/status-invalid.yaml: status.enabled: must be auto, true or false, got "on"
testdata/bad/status-invalid.yaml: status.ready: must be healthy or applied, got "ready"`,
	"status-wrong-types.yaml": `testdata/bad/status-wrong-types.yaml: status.ready: expected a string, got boolean
testdata/bad/status-wrong-types.yaml: status.enabled: expected auto, true or false, got number`,
}

func TestLoadReportsEveryProblemOfABadConfig(t *testing.T) {
	fixtures, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(fixtures) != len(badConfigs) {
		t.Errorf("testdata/bad has %d fixtures, badConfigs expects %d: every fixture needs its error", len(fixtures), len(badConfigs))
	}
	for _, fixture := range fixtures {
		name := filepath.Base(fixture)
		t.Run(name, func(t *testing.T) {
			want, ok := badConfigs[name]
			if !ok {
				t.Fatalf("no expected error for %s in badConfigs", fixture)
			}
			assertLoadError(t, fixture, want)
		})
	}
}

func TestLoadReportsProblemsAcrossFilesAndPaths(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string
	}{
		{
			name: "a missing path is reported without the syscall",
			path: "testdata/nope.yaml",
			want: "testdata/nope.yaml: no such file or directory",
		},
		{
			name: "a directory without configs is an error",
			path: "testdata/dirs/no-yaml",
			want: "testdata/dirs/no-yaml: no *.yaml or *.yml files in directory",
		},
		{
			name: "two files may not define the same watch name",
			path: "testdata/dirs/duplicate-names",
			want: `duplicate watch name "sites" in testdata/dirs/duplicate-names/a.yaml and testdata/dirs/duplicate-names/b.yaml`,
		},
		{
			name: "every bad file of a directory is reported, not just the first",
			path: "testdata/dirs/two-bad-files",
			want: `testdata/dirs/two-bad-files/a.yaml: workers: must be between 1 and 256, got 0
testdata/dirs/two-bad-files/b.yaml: watch.kind: required`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertLoadError(t, tt.path, tt.want)
		})
	}
}

func assertLoadError(t *testing.T, path, want string) {
	t.Helper()
	watches, err := Load(path)
	if err == nil {
		t.Fatalf("Load(%q) = %v, want error:\n%s", path, watches, want)
	}
	if watches != nil {
		t.Errorf("Load(%q) returned watches %v along with its error", path, watches)
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("Load(%q) error mismatch (-want +got):\n%s", path, diff)
	}
}
