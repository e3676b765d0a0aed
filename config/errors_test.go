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
	"empty.yaml": `testdata/bad/empty.yaml: watch: required
testdata/bad/empty.yaml: templates: required`,
	"everything-wrong.yaml": `testdata/bad/everything-wrong.yaml: unknown key "watch.kidn"
testdata/bad/everything-wrong.yaml: unknown key "colour"
testdata/bad/everything-wrong.yaml: name: "Sites" is not a valid DNS-1123 label: ` + dnsLabelRule + `
testdata/bad/everything-wrong.yaml: watch.version: required
testdata/bad/everything-wrong.yaml: watch.kind: required
testdata/bad/everything-wrong.yaml: namespaces[1]: "kube_system" is not a valid namespace: ` + dnsLabelRule + `
testdata/bad/everything-wrong.yaml: selector: unable to parse requirement: found 'web' expected: '('
testdata/bad/everything-wrong.yaml: templates: testdata/templates/nope: no such file or directory
testdata/bad/everything-wrong.yaml: workers: must be between 1 and 256, got 0
testdata/bad/everything-wrong.yaml: resync: must be 0 (disabled) or at least 30s, got 1s`,
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
	"values-not-a-map.yaml":     "testdata/bad/values-not-a-map.yaml: values: expected a map, got list",
	"watch-not-a-map.yaml":      "testdata/bad/watch-not-a-map.yaml: watch: expected a map, got string",
	"workers-not-a-number.yaml": "testdata/bad/workers-not-a-number.yaml: workers: expected an integer, got string",
	"workers-too-many.yaml":     "testdata/bad/workers-too-many.yaml: workers: must be between 1 and 256, got 1000",
	"workers-zero.yaml":         "testdata/bad/workers-zero.yaml: workers: must be between 1 and 256, got 0",
	"yaml-duplicate-key.yaml":   `testdata/bad/yaml-duplicate-key.yaml: yaml: line 4: mapping key "kind" already defined at line 3`,
	"yaml-syntax-unclosed.yaml": "testdata/bad/yaml-syntax-unclosed.yaml: yaml: line 4: did not find expected ',' or ']'",
	"yaml-syntax.yaml":          "testdata/bad/yaml-syntax.yaml: yaml: line 3: mapping values are not allowed in this context",
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
