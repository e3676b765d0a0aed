package renderer

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// absent is the end of the message of a printed nil.
const absent = " is absent or null (test an optional value with if or with, or give it a default)"

// Templates test optional fields as Helm charts do: an absent key is nil (testOwner has no
// spec.color, spec.items or spec.a, and no values).
func TestAbsentKeysCanBeTested(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "if on an absent key takes else", text: `{{ if .Spec.color }}on{{ else }}off{{ end }}`, want: "off"},
		{name: "if on an absent value", text: `{{ if .Values.feature }}on{{ else }}off{{ end }}`, want: "off"},
		{name: "if on an absent top-level field", text: `{{ if .Nme }}on{{ else }}off{{ end }}`, want: "off"},
		{name: "if on an absent key of a nested map", text: `{{ if .Spec.nested.a.x }}on{{ else }}off{{ end }}`, want: "off"},
		{name: "with on an absent key takes else", text: `{{ with .Spec.color }}color: {{ . }}{{ else }}none{{ end }}`, want: "none"},
		{name: "with on a present key", text: `{{ with .Spec.nested }}{{ .a.b }}{{ end }}`, want: "deep"},
		{name: "else with chains", text: `{{ with .Spec.color }}{{ . }}{{ else with .Spec.image }}{{ . }}{{ end }}`, want: "nginx"},
		{name: "default on an absent key, piped", text: `{{ .Spec.color | default "blue" }}`, want: "blue"},
		{name: "default on an absent key, as an argument", text: `{{ default 1 .Spec.count }}`, want: "1"},
		{name: "default keeps a present key", text: `{{ .Spec.replicas | default 1 }}`, want: "2"},
		{name: "default on null", text: `{{ .Spec.nothing | default "x" }}`, want: "x"},
		{name: "a deliberately empty default", text: `[{{ .Spec.color | default "" }}]`, want: "[]"},
		{name: "a default from the values, itself absent, then a literal", text: `{{ .Spec.color | default .Values.color | default "blue" }}`, want: "blue"},
		{name: "hasKey", text: `{{ hasKey .Spec "color" }}`, want: "false"},
		{name: "dig", text: `{{ dig "color" "blue" .Spec }} {{ dig "a" "b" "none" .Spec }}`, want: "blue none"},
		{name: "eq and ne compare nil with anything", text: `{{ eq .Spec.color "red" }} {{ ne .Spec.color "red" }}`, want: "false true"},
		{name: "and in a condition", text: `{{ if and .Spec.image .Spec.color }}both{{ else }}not both{{ end }}`, want: "not both"},
		{name: "and guards a nested field", text: `{{ if and .Spec.a .Spec.a.b }}set{{ else }}unset{{ end }}`, want: "unset"},
		{name: "or falls back", text: `{{ or .Spec.color "blue" }}`, want: "blue"},
		{name: "not", text: `{{ if not .Spec.color }}unset{{ end }}`, want: "unset"},
		{name: "empty", text: `{{ empty .Spec.color }}`, want: "true"},
		{name: "coalesce", text: `{{ coalesce .Spec.color .Values.color "blue" }}`, want: "blue"},
		{name: "ternary on hasKey", text: `{{ ternary "set" "unset" (hasKey .Spec "color") }}`, want: "unset"},
		{name: "index of an absent key with default", text: `{{ index .Spec "color" | default "blue" }}`, want: "blue"},
		{name: "range over an absent key takes else", text: `{{ range .Spec.items }}x{{ else }}no items{{ end }}`, want: "no items"},
		{name: "a variable holding an absent key can be tested", text: `{{ $c := .Spec.color }}{{ if $c }}{{ $c }}{{ else }}none{{ end }}`, want: "none"},
		{name: "a variable assigned an absent key", text: `{{ $c := "red" }}{{ $c = .Spec.color }}{{ $c | default "none" }}`, want: "none"},
		{name: "toYaml prints null for an absent key", text: `{{ toYaml .Spec.color }} {{ toJson .Spec.color }}`, want: "null null"},
		{name: "quote of a present key", text: `{{ .Spec.image | quote }} {{ squote .Spec.image }} {{ quote "a" 1 }}`, want: `"nginx" 'nginx' "a" "1"`},
		{name: "a string function on a default", text: `{{ .Spec.color | default "blue" | upper }}`, want: "BLUE"},
		{name: "include of a helper that tests", text: `{{ define "color" }}{{ with .Spec.color }}{{ . }}{{ else }}blue{{ end }}{{ end }}{{ include "color" . }}`, want: "blue"},
		{name: "tpl text that defaults", text: `{{ tpl "{{ .Spec.color | default \"blue\" }}" . }}`, want: "blue"},
		{name: "false, zero and empty values print as before", text: `[{{ .Spec.empty }}] {{ $z := 0 }}{{ $z }} {{ $f := false }}{{ $f }} {{ $l := list }}{{ $l }} {{ $m := dict }}{{ $m }}`, want: "[] 0 false [] map[]"},
		{name: "the guard's variable does not touch the template's", text: `{{ $v := "mine" }}{{ .Name }} {{ $v }}{{ range $k, $v := .Spec.nested }} {{ $k }}={{ $v }}{{ end }}`, want: "web mine a=map[b:deep]"},
		{name: "template called without data tests its nil dot", text: `{{ define "x" }}{{ . | default "none" }}{{ end }}{{ template "x" }}`, want: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := execText(t, tt.text, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

// Printing nil is an error that names the file, line and expression: a child never gets
// "<no value>" or nothing where a value belongs.
func TestPrintingAnAbsentKeyFails(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		wantErr string
	}{
		{name: "a typo", text: "message: {{ .Spec.mesage }}", wantErr: "template: DIR/t.yaml:1:12: .Spec.mesage" + absent},
		{name: "the line of the action", text: "a: 1\n\nmessage: {{ .Spec.mesage }}\n", wantErr: "template: DIR/t.yaml:3:12: .Spec.mesage" + absent},
		{name: "an absent value", text: `{{ .Values.port }}`, wantErr: "template: DIR/t.yaml:1:3: .Values.port" + absent},
		{name: "an absent top-level field", text: `{{ .Nme }}`, wantErr: "template: DIR/t.yaml:1:3: .Nme" + absent},
		{name: "a key that is present but null", text: `{{ .Spec.nothing }}`, wantErr: "template: DIR/t.yaml:1:3: .Spec.nothing" + absent},
		{name: "a key absent from a nested map", text: `{{ .Spec.nested.a.x }}`, wantErr: "template: DIR/t.yaml:1:3: .Spec.nested.a.x" + absent},
		{name: "index of an absent key", text: `{{ index .Spec "color" }}`, wantErr: `template: DIR/t.yaml:1:3: index .Spec "color"` + absent},
		{name: "a default that is absent too", text: `{{ .Spec.color | default .Values.color }}`, wantErr: "template: DIR/t.yaml:1:3: .Spec.color | default .Values.color" + absent},
		{name: "and yielding its nil operand", text: `{{ and .Spec.image .Spec.color }}`, wantErr: "template: DIR/t.yaml:1:3: and .Spec.image .Spec.color" + absent},
		{name: "a variable holding an absent key", text: `{{ $c := .Spec.color }}color: {{ $c }}`, wantErr: "template: DIR/t.yaml:1:33: $c" + absent},
		{name: "inside range", text: `{{ range list (dict "name" "a") (dict) }}{{ .name }},{{ end }}`, wantErr: "template: DIR/t.yaml:1:44: .name" + absent},
		{name: "inside if", text: `{{ if .Spec.image }}{{ .Spec.color }}{{ end }}`, wantErr: "template: DIR/t.yaml:1:23: .Spec.color" + absent},
		{name: "a nil dot", text: `{{ define "x" }}{{ . }}{{ end }}{{ template "x" }}`, wantErr: "template: DIR/t.yaml:1:19: ." + absent},
		{name: "piped into quote", text: `message: {{ .Spec.mesage | quote }}`, wantErr: "template: DIR/t.yaml:1:12: .Spec.mesage" + absent},
		{name: "piped into squote after a default", text: `{{ .Spec.color | default .Values.color | squote }}`, wantErr: "template: DIR/t.yaml:1:17: .Spec.color | default .Values.color" + absent},
		{name: "piped into a string function", text: `{{ .Spec.mesage | upper | quote }}`, wantErr: "template: DIR/t.yaml:1:3: .Spec.mesage" + absent},
		{name: "piped into a string function in a condition", text: `{{ if .Spec.mesage | lower | eq "x" }}{{ end }}`, wantErr: "template: DIR/t.yaml:1:6: .Spec.mesage" + absent},
		{name: "piped into a function in a parenthesized argument", text: `{{ printf "%s" (.Spec.mesage | trim) }}`, wantErr: "template: DIR/t.yaml:1:16: .Spec.mesage" + absent},
		{name: "an argument of quote", text: `{{ quote "a" .Spec.mesage }}`, wantErr: "template: DIR/t.yaml:1:18: .Spec.mesage" + absent},
		{name: "an argument of a string function", text: `{{ upper .Spec.mesage }}`, wantErr: "template: DIR/t.yaml:1:14: .Spec.mesage" + absent},
		{name: "an argument of a string function in a condition", text: `{{ if contains "x" $.Spec.mesage }}{{ end }}`, wantErr: "template: DIR/t.yaml:1:20: $.Spec.mesage" + absent},
		{name: "a parenthesized argument of quote", text: `{{ $m := dict }}{{ quote (index $m "x") }}`, wantErr: "template: DIR/t.yaml:1:26: index $m \"x\"" + absent},
		{name: "a literal nil quoted", text: `{{ quote nil }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <quote nil>: error calling quote: quote: a value` + absent},
		{name: "required on an absent key", text: `{{ required "spec.color is required" .Spec.color }}`, wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <required "spec.color is required" .Spec.color>: error calling required: spec.color is required`},
		{name: "tpl text", text: `{{ tpl "a\n{{ .Nme }}" . }}`, wantErr: "template DIR/t.yaml: template: tpl:2:3: .Nme" + absent},
		// As in Helm: a field of an absent map is an error even when tested; use dig, with or and.
		{name: "a field of an absent map", text: `{{ .Spec.a.b }}`, wantErr: `template: DIR/t.yaml:1:8: executing "DIR/t.yaml" at <.Spec.a.b>: nil pointer evaluating interface {}.b`},
		{name: "a field of an absent map in a condition", text: `{{ if .Spec.a.b }}{{ end }}`, wantErr: `template: DIR/t.yaml:1:11: executing "DIR/t.yaml" at <.Spec.a.b>: nil pointer evaluating interface {}.b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := execText(t, tt.text, Options{})
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if got != "" {
				t.Errorf("output = %q, want none", got)
			}
		})
	}
}

func TestRenderReportsAPrintedAbsentKeyAsError(t *testing.T) {
	files := map[string]string{
		"_helpers.tpl": "{{ define \"msg\" }}\n{{ .Spec.mesage }}\n{{ end }}",
		"cm.yaml":      configMap + "data:\n  message: {{ include \"msg\" . | trim | quote }}\n",
	}
	_, err := renderFiles(t, context.Background(), files, Options{})
	if diff := cmp.Diff("template DIR/cm.yaml: template: DIR/_helpers.tpl:2:3: .Spec.mesage"+absent, errString(err)); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.Template == "" {
		t.Fatalf("error %v is not a *renderer.Error naming the template", err)
	}
	if want := rerr.Template[len(rerr.Template)-len("/cm.yaml"):]; want != "/cm.yaml" {
		t.Errorf("Error.Template = %q, want the output template", rerr.Template)
	}
}
