package renderer

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Name }}\n"

func TestNewRejectsBadTemplates(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{
			name:    "a parse error names file and line",
			files:   map[string]string{"svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Name\n"},
			wantErr: "template: DIR/svc.yaml:5: unclosed action started at DIR/svc.yaml:4",
		},
		{
			name:    "an unknown function names file and line",
			files:   map[string]string{"sub/cm.yaml": "a: 1\n\nb: {{ nosuch .Name }}\n"},
			wantErr: `template: DIR/sub/cm.yaml:3: function "nosuch" not defined`,
		},
		{
			name: "a helper file producing output",
			files: map[string]string{
				"cm.yaml":      configMap,
				"_helpers.tpl": "{{ define \"x\" }}x{{ end }}\n\nstray: text\n",
			},
			wantErr: "DIR/_helpers.tpl:1:26: helper files may only define templates, found output outside {{define}}",
		},
		{
			name: "a helper file running an action",
			files: map[string]string{
				"cm.yaml":      configMap,
				"_helpers.tpl": "{{ define \"x\" }}x{{ end }}\n{{ $y := 1 }}\n",
			},
			wantErr: "DIR/_helpers.tpl:2:3: helper files may only define templates, found output outside {{define}}",
		},
		{
			name: "a call of an undefined template, even in a branch never taken",
			files: map[string]string{
				"cm.yaml": "{{ if false }}\n{{ template \"nope\" . }}{{ end }}",
			},
			wantErr: `DIR/cm.yaml:2:12: template "nope" is not defined`,
		},
		{
			name:    "no output templates",
			files:   map[string]string{"_helpers.tpl": "{{ define \"x\" }}x{{ end }}\n", "README.md": "not a template"},
			wantErr: "no output templates in DIR",
		},
		{
			name: "a template defined in two files",
			files: map[string]string{
				"_a.tpl":  "{{ define \"labels\" }}a{{ end }}",
				"_b.tpl":  "{{ define \"labels\" }}b{{ end }}",
				"cm.yaml": configMap,
			},
			wantErr: `DIR/_b.tpl: template "labels" is already defined in DIR/_a.tpl`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTemplates(t, tt.files)
			_, err := New([]string{dir}, Options{})
			if diff := cmp.Diff(tt.wantErr, errString(errorText(err, dir))); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRejectsBadPathsAndOptions(t *testing.T) {
	dir := writeTemplates(t, map[string]string{"cm.yaml": configMap})
	tests := []struct {
		name    string
		paths   []string
		opts    Options
		wantErr string
	}{
		{name: "a missing path", paths: []string{filepath.Join(dir, "nope")}, wantErr: "templates: stat DIR/nope: no such file or directory"},
		{name: "a file listed twice", paths: []string{dir, filepath.Join(dir, "cm.yaml")}, wantErr: "template DIR/cm.yaml: listed twice"},
		{name: "values that JSON cannot hold", paths: []string{dir}, opts: Options{Values: map[string]any{"f": func() {}}}, wantErr: "values: json: unsupported type: func()"},
		{name: "a negative output limit", paths: []string{dir}, opts: Options{MaxOutputBytes: -1}, wantErr: "max output bytes -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.paths, tt.opts)
			if diff := cmp.Diff(tt.wantErr, errString(errorText(err, dir))); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewLoadsFilesInLexicalOrderAndSkipsOthers(t *testing.T) {
	dir := writeTemplates(t, map[string]string{
		"b.yaml":             configMap,
		"a.yml":              configMap,
		"sub/c.tmpl":         configMap,
		"sub/_helpers.tpl":   `{{ define "h" }}{{ end }}`,
		"z.tpl":              configMap,
		"notes.txt":          "ignored",
		".hidden.yaml":       "ignored: {{",
		"..data/cm.yaml":     "ignored: {{",
		"..2024_01_01/x.yml": "ignored: {{",
	})
	r, err := New([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dir + "/a.yml", dir + "/b.yaml", dir + "/sub/c.tmpl", dir + "/z.tpl"}
	if diff := cmp.Diff(want, r.Templates()); diff != "" {
		t.Errorf("Templates() (-want +got):\n%s", diff)
	}
}

func TestNewNamesAFileByThePathAsGiven(t *testing.T) {
	dir := writeTemplates(t, map[string]string{"cm.yaml": configMap})
	path := filepath.Join(dir, "cm.yaml")
	r, err := New([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{path}, r.Templates()); diff != "" {
		t.Errorf("Templates() (-want +got):\n%s", diff)
	}
}

func TestRenderErrorsNameTheOutputTemplate(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{
			name: "an error inside an included helper",
			files: map[string]string{
				"_helpers.tpl": "{{ define \"labels\" }}\nteam: {{ fail \"no team\" }}\n{{ end }}",
				"cm.yaml":      "labels: {{ include \"labels\" . }}",
			},
			wantErr: `template: DIR/cm.yaml:1:11: executing "DIR/cm.yaml" at <include "labels" .>: error calling include: template: DIR/_helpers.tpl:2:9: executing "labels" at <fail "no team">: error calling fail: no team`,
		},
		{
			name: "an absent key printed in an included helper names the helper's line",
			files: map[string]string{
				"_helpers.tpl": "{{ define \"labels\" }}\nteam: {{ .Labels.nope }}\n{{ end }}",
				"cm.yaml":      "labels: {{ include \"labels\" . }}",
			},
			wantErr: `template DIR/cm.yaml: template: DIR/_helpers.tpl:2:9: .Labels.nope is absent or null (test an optional value with if or with, or give it a default)`,
		},
		{
			name: "an absent key printed in a called helper",
			files: map[string]string{
				"_helpers.tpl": "{{ define \"labels\" }}\nteam: {{ .Labels.nope }}\n{{ end }}",
				"cm.yaml":      "labels: {{ template \"labels\" . }}",
			},
			wantErr: `template DIR/cm.yaml: template: DIR/_helpers.tpl:2:9: .Labels.nope is absent or null (test an optional value with if or with, or give it a default)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderFiles(t, context.Background(), tt.files, Options{})
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			var rerr *Error
			if !errors.As(err, &rerr) {
				t.Errorf("error %v is not a *renderer.Error", err)
			}
		})
	}
}

func TestRenderRejectsOwnerDataThatIsNotAnObject(t *testing.T) {
	dir := writeTemplates(t, map[string]string{"cm.yaml": configMap})
	r, err := New([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	owner := testOwner(t)
	owner.Object["spec"] = "oops"
	_, err = r.Render(context.Background(), owner)
	if diff := cmp.Diff("owner: spec: want an object, got a string", errString(err)); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	var rerr *Error
	if !errors.As(err, &rerr) {
		t.Errorf("error %v is not a *renderer.Error", err)
	}
}

func TestRenderEnforcesLimits(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		opts    Options
		wantErr string
	}{
		{
			name:    "output over the limit",
			files:   map[string]string{"t.yaml": "{{ range until 1000 }}0123456789{{ end }}"},
			opts:    Options{MaxOutputBytes: 1000},
			wantErr: "template DIR/t.yaml: output exceeds the limit of 1000 bytes",
		},
		{
			name: "output over the limit in total over two templates",
			files: map[string]string{
				"a.yaml": "# {{ repeat 600 \"x\" }}\n",
				"b.yaml": "# {{ repeat 600 \"x\" }}\n",
			},
			opts:    Options{MaxOutputBytes: 1000},
			wantErr: "template DIR/b.yaml: output exceeds the limit of 1000 bytes",
		},
		{
			name:    "an include over the limit",
			files:   map[string]string{"t.yaml": "{{ define \"big\" }}{{ range until 200 }}0123456789{{ end }}{{ end }}{{ $x := include \"big\" . }}"},
			opts:    Options{MaxOutputBytes: 1000},
			wantErr: `template: DIR/t.yaml:1:76: executing "DIR/t.yaml" at <include "big" .>: error calling include: output exceeds the limit of 1000 bytes`,
		},
		{
			name:    "until with a huge count",
			files:   map[string]string{"t.yaml": "{{ range until 1000000000 }}{{ end }}"},
			wantErr: `template: DIR/t.yaml:1:9: executing "DIR/t.yaml" at <until 1000000000>: error calling until: until: 1000000000 elements exceed the limit of 100000`,
		},
		{
			name:    "untilStep with a huge span",
			files:   map[string]string{"t.yaml": "{{ untilStep -9223372036854775808 9223372036854775807 1 }}"},
			wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <untilStep -9223372036854775808 9223372036854775807 1>: error calling untilStep: untilStep: 18446744073709551615 elements exceed the limit of 100000`,
		},
		{
			name:    "seq with a huge count",
			files:   map[string]string{"t.yaml": "{{ seq 100001 }}"},
			wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <seq 100001>: error calling seq: seq: 100001 elements exceed the limit of 100000`,
		},
		{
			name:    "range over a huge integer",
			files:   map[string]string{"t.yaml": "{{ range 1000000000 }}{{ end }}"},
			wantErr: `template: DIR/t.yaml:1:9: executing "DIR/t.yaml" at <range>: error calling range: 1000000000 iterations exceed the limit of 100000`,
		},
		{
			name:    "repeat over the limit",
			files:   map[string]string{"t.yaml": "{{ repeat 1000000000 \"ab\" }}"},
			wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <repeat 1000000000 "ab">: error calling repeat: repeat: 1000000000 copies of 2 bytes exceed the limit of 4194304 bytes`,
		},
		{
			name:    "indent over the limit",
			files:   map[string]string{"t.yaml": "{{ indent 1000000000 \"a\" }}"},
			wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <indent 1000000000 "a">: error calling indent: indent: 1000000000 spaces on 1 lines exceed the limit of 4194304 bytes`,
		},
		{
			name:    "nindent over the limit",
			files:   map[string]string{"t.yaml": "{{ nindent 5000 (repeat 1000 \"\\n\") }}"},
			wantErr: `template: DIR/t.yaml:1:3: executing "DIR/t.yaml" at <nindent 5000 (repeat 1000 "\n")>: error calling nindent: nindent: 5000 spaces on 1001 lines exceed the limit of 4194304 bytes`,
		},
		{
			name:    "endless include recursion",
			files:   map[string]string{"t.yaml": "{{ define \"loop\" }}{{ include \"loop\" . }}{{ end }}{{ include \"loop\" . }}"},
			wantErr: "error calling include: \"loop\": include and tpl nest deeper than 100",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderFiles(t, context.Background(), tt.files, tt.opts)
			var rerr *Error
			if !errors.As(err, &rerr) {
				t.Fatalf("error %v is not a *renderer.Error", err)
			}
			got := errString(err)
			if strings.HasPrefix(tt.wantErr, "error calling") {
				// The full text repeats the include chain a hundred times.
				if !strings.HasSuffix(got, tt.wantErr) {
					t.Errorf("error %q does not end with %q", got, tt.wantErr)
				}
				return
			}
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderStopsRunawayTemplatesWhenTheContextEnds(t *testing.T) {
	// Each of these would run for minutes or hours.
	chain := ""
	for i := range 60 {
		chain += `{{ define "t` + strconv.Itoa(i) + `" }}{{ template "t` + strconv.Itoa(i+1) + `" }}{{ template "t` + strconv.Itoa(i+1) + `" }}{{ end }}`
	}
	chain += `{{ define "t60" }}{{ end }}{{ template "t0" }}`
	tests := []struct {
		name string
		text string
	}{
		{name: "nested loops that write nothing", text: `{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}`},
		{name: "nested integer ranges without function calls", text: `{{ range 100000 }}{{ range 100000 }}{{ range 100000 }}{{ end }}{{ end }}{{ end }}`},
		{name: "an exponential chain of template calls", text: chain},
		{name: "loops that write", text: `{{ range until 100000 }}{{ range until 100000 }}#{{ end }}{{ end }}`},
		{name: "nested includes in loops", text: `{{ define "inner" }}{{ range until 100000 }}{{ end }}{{ end }}{{ range until 100000 }}{{ $x := include "inner" . }}{{ end }}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := renderFiles(t, ctx, map[string]string{"t.yaml": tt.text}, Options{MaxOutputBytes: 1 << 30})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error = %v, want one wrapping context.DeadlineExceeded", err)
			}
			var rerr *Error
			if errors.As(err, &rerr) {
				t.Errorf("error %v is a *renderer.Error, but cancellation is not terminal", err)
			}
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("Render returned %v after the deadline", elapsed)
			}
		})
	}
}

func TestRenderWithAnEndedContextDoesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := renderFiles(t, ctx, map[string]string{"cm.yaml": configMap}, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestRenderLeavesOwnerAndValuesAlone(t *testing.T) {
	text := `{{ $_ := set .Spec "injected" true }}{{ $_ := unset .Labels "team" }}{{ $_ := set .Values "injected" true }}` +
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Name }}\ndata:\n  injected: {{ hasKey .Object.spec \"injected\" | quote }}\n  seen: {{ hasKey .Values \"seen\" | quote }}\n" +
		`{{ $_ := set .Values "seen" true }}`
	dir := writeTemplates(t, map[string]string{"cm.yaml": text})
	values := map[string]any{"nested": map[string]any{"a": "b"}}
	r, err := New([]string{dir}, Options{Values: values})
	if err != nil {
		t.Fatal(err)
	}
	owner := testOwner(t)
	before := owner.DeepCopy()
	for range 2 {
		children, err := r.Render(context.Background(), owner)
		if err != nil {
			t.Fatal(err)
		}
		// The template sees its own change to .Spec in .Object, but never an earlier render's.
		if diff := cmp.Diff(map[string]any{"injected": "true", "seen": "false"}, children[0].Object["data"]); diff != "" {
			t.Errorf("data (-want +got):\n%s", diff)
		}
	}
	if diff := cmp.Diff(before.Object, owner.Object); diff != "" {
		t.Errorf("owner changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"nested": map[string]any{"a": "b"}}, values); diff != "" {
		t.Errorf("values changed (-before +after):\n%s", diff)
	}
}

func TestRenderIsSafeForConcurrentUse(t *testing.T) {
	r := newCaseRenderer(t, siteCase)
	owner := &unstructured.Unstructured{Object: readYAML(t, filepath.Join(siteCase, "owner.yaml"))}
	want, err := r.Render(context.Background(), owner)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				got, err := r.Render(context.Background(), owner)
				if err != nil {
					errs <- err
					return
				}
				if diff := cmp.Diff(want, got); diff != "" {
					errs <- errors.New("concurrent render differs (-want +got):\n" + diff)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestHashChangesWithSourcesAndValuesOnly(t *testing.T) {
	files := map[string]string{"cm.yaml": configMap, "_h.tpl": `{{ define "h" }}{{ end }}`}
	hash := func(files map[string]string, values map[string]any) string {
		t.Helper()
		r, err := New([]string{writeTemplates(t, files)}, Options{Values: values})
		if err != nil {
			t.Fatal(err)
		}
		return r.Hash()
	}
	base := hash(files, map[string]any{"a": 1, "b": "x"})
	if len(base) != 64 {
		t.Errorf("Hash() = %q, want 64 hex digits", base)
	}
	if got := hash(files, map[string]any{"b": "x", "a": 1}); got != base {
		t.Errorf("the same templates and values in another directory hash to %s, want %s", got, base)
	}
	changed := map[string]map[string]any{}
	changed["a changed value"] = map[string]any{"a": 2, "b": "x"}
	for name, values := range changed {
		if got := hash(files, values); got == base {
			t.Errorf("%s: hash did not change", name)
		}
	}
	edited := map[string]string{"cm.yaml": configMap + "# edited\n", "_h.tpl": files["_h.tpl"]}
	if got := hash(edited, map[string]any{"a": 1, "b": "x"}); got == base {
		t.Error("an edited template: hash did not change")
	}
	renamed := map[string]string{"cm2.yaml": configMap, "_h.tpl": files["_h.tpl"]}
	if got := hash(renamed, map[string]any{"a": 1, "b": "x"}); got == base {
		t.Error("a renamed template: hash did not change")
	}
}
