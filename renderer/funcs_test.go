package renderer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTemplateFunctions(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    string
		wantErr string
	}{
		// Helm-compatible functions added by this package.
		{name: "toYaml renders without a trailing newline", text: `{{ toYaml .Spec.nested }}`, want: "a:\n  b: deep"},
		{name: "toYaml of a list", text: `{{ list "a" 1 | toYaml }}`, want: "- a\n- 1"},
		{name: "fromYaml decodes a mapping with int64 numbers", text: `{{ $m := fromYaml "a: 1\nb: [x]" }}{{ $m.a }} {{ kindOf $m.a }} {{ index $m.b 0 }}`, want: "1 int64 x"},
		{name: "fromYaml of empty text is an empty map", text: `{{ fromYaml "" | len }}`, want: "0"},
		{name: "fromYaml of bad YAML fails", text: `{{ fromYaml "a: [" }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <fromYaml "a: [">: error calling fromYaml: yaml: line 1: did not find expected node content`},
		{name: "fromYaml of a list fails", text: `{{ fromYaml "- a" }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <fromYaml "- a">: error calling fromYaml: json: cannot unmarshal array into Go value of type map[string]interface {}`},
		{name: "fromYaml of a duplicated key fails", text: `{{ fromYaml "a: 1\na: 2" }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <fromYaml "a: 1\na: 2">: error calling fromYaml: yaml: unmarshal errors:` + "\n" + `  line 2: key "a" already set in map`},
		{name: "fromYamlArray decodes a list", text: `{{ fromYamlArray "- a\n- b" | join "," }}`, want: "a,b"},
		{name: "fromYamlArray of a mapping fails", text: `{{ fromYamlArray "a: 1" }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <fromYamlArray "a: 1">: error calling fromYamlArray: json: cannot unmarshal object into Go value of type []interface {}`},
		{name: "fromJson decodes an object", text: `{{ (fromJson "{\"a\": 2.5}").a }}`, want: "2.5"},
		{name: "fromJson of bad JSON fails", text: `{{ fromJson "{" }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <fromJson "{">: error calling fromJson: unexpected end of JSON input`},
		{name: "fromJsonArray decodes a list", text: `{{ fromJsonArray "[1, 2, 3]" | len }}`, want: "3"},
		{name: "fromJsonArray of an object fails", text: `{{ fromJsonArray "{}" }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <fromJsonArray "{}">: error calling fromJsonArray: json: cannot unmarshal object into Go value of type []interface {}`},
		{name: "toJson renders compact JSON", text: `{{ toJson .Spec.nested }}`, want: `{"a":{"b":"deep"}}`},
		{name: "toJson fails on what JSON cannot hold", text: `{{ toJson (float64 "NaN") }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <toJson (float64 "NaN")>: error calling toJson: json: unsupported value: NaN`},
		{name: "required passes a value through", text: `{{ required "need image" .Spec.image }}`, want: "nginx"},
		{name: "required fails on an empty string", text: `{{ required "spec.empty is required" .Spec.empty }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <required "spec.empty is required" .Spec.empty>: error calling required: spec.empty is required`},
		{name: "required fails on null", text: `{{ required "spec.nothing is required" .Spec.nothing }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <required "spec.nothing is required" .Spec.nothing>: error calling required: spec.nothing is required`},
		{name: "include renders a defined template", text: `{{ define "x" }}<{{ .Name }}>{{ end }}{{ include "x" . | upper }}`, want: "<WEB>"},
		{name: "include recurses down to a base case", text: `{{ define "count" }}{{ if gt . 0 }}{{ . }}{{ include "count" (sub . 1) }}{{ end }}{{ end }}{{ include "count" 5 }}`, want: "54321"},
		{name: "include of an unknown template fails", text: `{{ include "nope" . }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <include "nope" .>: error calling include: template: no template "nope" associated with template ""`},
		{name: "tpl renders a string as a template", text: `{{ tpl "{{ .Name }}-{{ .Spec.replicas }}" . }}`, want: "web-2"},
		{name: "tpl reports a printed absent key", text: `{{ tpl "{{ .Nme }}" . }}`, wantErr: `template DIR/t.yaml: template: tpl:1:3: .Nme is absent or null (test an optional value with if or with, or give it a default)`},
		{name: "tpl reports a parse error", text: `{{ tpl "{{ nope }}" . }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <tpl "{{ nope }}" .>: error calling tpl: template: tpl:1: function "nope" not defined`},
		{name: "fail stops the render with its message", text: `{{ fail "replicas must be positive" }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <fail "replicas must be positive">: error calling fail: replicas must be positive`},
		{name: "b64dec decodes", text: `{{ "aGVsbG8=" | b64dec }}`, want: "hello"},
		{name: "b64dec fails on bad input instead of returning the error text", text: `{{ "!!" | b64dec }}`, wantErr: `template: DIR/t.yaml:1:10: executing "DIR/t.yaml" at <b64dec>: error calling b64dec: illegal base64 data at input byte 0`},
		{name: "atoi fails on bad input instead of returning 0", text: `{{ atoi "x1" }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <atoi "x1">: error calling atoi: strconv.Atoi: parsing "x1": invalid syntax`},
		{name: "regexMatch fails on a bad pattern instead of returning false", text: `{{ regexMatch "(" "x" }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <regexMatch "(" "x">: error calling regexMatch: error parsing regexp: missing closing ): ` + "`(`"},

		// Deterministic functions only.
		{name: "env is not available", text: `{{ env "HOME" }}`, wantErr: `template: DIR/t.yaml:1: function "env" not defined`},
		{name: "expandenv is not available", text: `{{ expandenv "$HOME" }}`, wantErr: `template: DIR/t.yaml:1: function "expandenv" not defined`},
		{name: "now is not available", text: `{{ now }}`, wantErr: `template: DIR/t.yaml:1: function "now" not defined`},
		{name: "randInt is not available", text: `{{ randInt 1 2 }}`, wantErr: `template: DIR/t.yaml:1: function "randInt" not defined`},

		// sprig functions templates rely on.
		{name: "default replaces an empty value", text: `{{ .Spec.empty | default "fallback" }}`, want: "fallback"},
		{name: "default keeps a set value", text: `{{ .Spec.image | default "fallback" }}`, want: "nginx"},
		{name: "quote", text: `{{ .Spec.image | quote }} {{ 2 | quote }}`, want: `"nginx" "2"`},
		{name: "indent pads every line", text: `{{ "a\nb" | indent 2 }}`, want: "  a\n  b"},
		{name: "nindent starts with a newline", text: `{{ "a\nb" | nindent 2 }}`, want: "\n  a\n  b"},
		{name: "b64enc", text: `{{ "hello" | b64enc }}`, want: "aGVsbG8="},
		{name: "sha256sum", text: `{{ "abc" | sha256sum }}`, want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{name: "dict builds a map", text: `{{ $d := dict "a" 1 "b" "two" }}{{ $d.b }} {{ len $d }}`, want: "two 2"},
		{name: "list builds a list", text: `{{ list 1 2 3 | len }} {{ list "x" "y" | last }}`, want: "3 y"},
		{name: "dig finds a nested value", text: `{{ dig "nested" "a" "b" "none" .Spec }}`, want: "deep"},
		{name: "dig falls back to its default", text: `{{ dig "nested" "x" "none" .Spec }}`, want: "none"},
		{name: "hasKey", text: `{{ hasKey .Spec "image" }} {{ hasKey .Spec "nope" }}`, want: "true false"},
		{name: "until counts from zero", text: `{{ until 3 }} {{ until -2 }}`, want: "[0 1 2] [0 -1]"},
		{name: "untilStep steps", text: `{{ untilStep 0 10 3 }} {{ untilStep 5 0 -2 }} {{ untilStep 0 5 -1 }}`, want: "[0 3 6 9] [5 3 1] []"},
		{name: "untilStep near the largest int stops instead of overflowing", text: `{{ untilStep 9223372036854775806 9223372036854775807 10 }}`, want: "[9223372036854775806]"},
		{name: "seq counts like the shell", text: `{{ seq 3 }}|{{ seq 5 3 }}|{{ seq 0 2 6 }}|{{ seq 6 -2 0 }}|{{ seq 6 2 0 }}`, want: "1 2 3|5 4 3|0 2 4 6|6 4 2 0|"},
		{name: "repeat", text: `{{ repeat 3 "ab" }}`, want: "ababab"},
		{name: "range over a small integer", text: `{{ range 3 }}{{ . }}{{ end }}`, want: "012"},
		{name: "range with index and element", text: `{{ range $i, $v := list "a" "b" }}{{ $i }}{{ $v }}{{ end }}`, want: "0a1b"},
		{name: "range over nothing takes else", text: `{{ range .Spec.nothing }}x{{ else }}none{{ end }}`, want: "none"},
		{name: "template without data gets a nil dot", text: `{{ define "isnil" }}{{ if . }}set{{ else }}nil{{ end }}{{ end }}{{ template "isnil" }} {{ template "isnil" .Name }}`, want: "nil set"},
		{name: "break and continue still work", text: `{{ range until 10 }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}`, want: "013"},

		// Data and missing keys.
		{name: "owner fields", text: `{{ .APIVersion }} {{ .Kind }} {{ .Namespace }}/{{ .Name }} {{ .UID }} {{ .Generation }} {{ kindOf .Generation }} {{ .Labels.team }} {{ len .Annotations }} {{ len .Status }} {{ len .Data }} {{ .Object.spec.image }}`, want: "example.bosun.dev/v1alpha1 Site team-a/web 0b7a0d6e-0000-4000-8000-000000000002 7 int64 a 0 0 0 nginx"},
		{name: "index yields nil for an absent key, so default applies", text: `{{ index .Values "port" | default 8080 }}`, want: "8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := execText(t, tt.text, Options{})
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValuesAreCaseSensitive(t *testing.T) {
	got, err := execText(t, `{{ .Values.imageTag }} {{ .Values.ImageTag }} {{ .Values.n }} {{ kindOf .Values.n }}`, Options{
		Values: map[string]any{"imageTag": "lower", "ImageTag": "upper", "n": 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("lower upper 3 int64", got); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}
