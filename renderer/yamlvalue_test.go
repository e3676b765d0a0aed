package renderer

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	yamlv2 "go.yaml.in/yaml/v2"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// viaJSON is the decode jsonValue stands in for: YAML to JSON text, JSON to values.
func viaJSON(doc []byte, toJSON func([]byte) ([]byte, error)) (any, error) {
	j, err := toJSON(doc)
	if err != nil {
		return nil, err
	}
	var v any
	err = utiljson.Unmarshal(j, &v)
	return v, err
}

// TestJSONValueIsTheJSONRoundTrip decodes every YAML document of the repository's test data and
// examples, and the corner cases of YAML scalars, both ways and wants the same values and errors.
func TestJSONValueIsTheJSONRoundTrip(t *testing.T) {
	docs := map[string][]byte{}
	for i, d := range []string{
		"a: 1\nb: 1.0\nc: 2.5\nd: -0.0\ne: 1e20\nf: 1e21\ng: 1e-7\nh: 0.000001\ni: 123456789012345678901234",
		"big: 9223372036854775807\nbigger: 9223372036854775808\nhuge: 18446744073709551615\nneg: -9223372036854775808\nf: 4611686018427387904.0\nfl: 9007199254740993.0",
		"hex: 0x1F\noct: 0o17\nold: 017\nunder: 1_000\nsexa: 190:20:30\nplus: +12",
		"t: 2001-12-14t21:59:43.10-05:00\nd: 2002-12-14\nyes: yes\nno: no\non: on\noff: off\ny: y\nn: ~\nnull: null\nempty:",
		"1: int key\n2.5: float key\ntrue: bool key\n~: null key",
		"? [a, b]\n: complex key",
		".inf: key\nv: .inf",
		"nan: .nan",
		"bin: !!binary aGVsbG8=\nbad: \"\\xff\\xfeok\"\n\"\\xff\": bad key",
		"anchors: &a {x: 1}\nmerged:\n  <<: *a\n  y: [1, 2.0, '3', {z: null}]",
		"dup: 1\ndup: 2",
		"- a\n- b",
		"just text",
		"",
		"{\"json\": [1, 2.50, 1e3, true, null, {\"k\": \"v\"}]}",
		"s: !!str 1.0\nf: !!float 3\ni: !!int \"7\"",
		"bad: [unclosed",
	} {
		docs["case "+string(rune('A'+i))] = []byte(d)
	}
	for _, root := range []string{"testdata", "../examples", "../templates", "../e2e", "../hack/bench/testdata"} {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".json")) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i, doc := range splitDocuments(data) {
				docs[path+"#"+string(rune('0'+i%10))+strings.Repeat("'", i/10)] = doc
			}
			return nil
		})
	}
	if len(docs) < 100 {
		t.Fatalf("only %d documents found: the corpus is missing", len(docs))
	}
	for name, doc := range docs {
		for _, mode := range []struct {
			name      string
			toJSON    func([]byte) ([]byte, error)
			unmarshal unmarshalYAML
		}{
			{"strict", yaml.YAMLToJSONStrict, yamlv2.UnmarshalStrict},
			{"lenient", yaml.YAMLToJSON, yamlv2.Unmarshal},
		} {
			want, wantErr := viaJSON(doc, mode.toJSON)
			var y any
			gotErr := mode.unmarshal(doc, &y)
			var got any
			if gotErr == nil {
				got, gotErr = jsonValue(y)
			}
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
				t.Errorf("%s (%s): error %v, want %v", name, mode.name, gotErr, wantErr)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (%s):\n got %#v\nwant %#v", name, mode.name, got, want)
			}
		}
	}
}
