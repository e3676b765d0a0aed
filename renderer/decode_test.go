package renderer

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRenderRejectsOutputThatIsNotObjects(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		wantErr string
		wantDoc int
	}{
		{
			name:    "a document without metadata.name",
			text:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: Service\nmetadata: {}\n",
			wantErr: "template DIR/t.yaml: document 2: missing metadata.name",
			wantDoc: 2,
		},
		{
			name:    "a document without apiVersion and kind",
			text:    "metadata:\n  name: x\n",
			wantErr: "template DIR/t.yaml: document 1: missing apiVersion; missing kind",
			wantDoc: 1,
		},
		{
			name:    "empty and non-string identity fields",
			text:    "apiVersion: \"\"\nkind: 3\nmetadata:\n  name: [a]\n",
			wantErr: "template DIR/t.yaml: document 1: empty apiVersion; kind is a number, not a string; metadata.name is a list, not a string",
			wantDoc: 1,
		},
		{
			name:    "documents are counted from the first separator when nothing precedes it",
			text:    "# header\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\n---\nkind: Secret\n",
			wantErr: "template DIR/t.yaml: document 3: missing apiVersion; missing metadata.name",
			wantDoc: 3,
		},
		{
			name:    "invalid YAML",
			text:    "apiVersion: v1\nkind: [\n",
			wantErr: "template DIR/t.yaml: document 1: yaml: line 2: did not find expected node content",
			wantDoc: 1,
		},
		{
			name:    "a duplicated key",
			text:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
			wantErr: "template DIR/t.yaml: document 1: yaml: unmarshal errors:\n  line 5: key \"name\" already set in map",
			wantDoc: 1,
		},
		{
			name:    "a document that is a list",
			text:    "- apiVersion: v1\n  kind: ConfigMap\n",
			wantErr: "template DIR/t.yaml: document 1: want an object, got a list",
			wantDoc: 1,
		},
		{
			name:    "a document that is a scalar",
			text:    "---\njust text\n",
			wantErr: "template DIR/t.yaml: document 1: want an object, got a string",
			wantDoc: 1,
		},
		{
			name:    "a document that is null",
			text:    "~\n",
			wantErr: "template DIR/t.yaml: document 1: want an object, got null",
			wantDoc: 1,
		},
		{
			name:    "a List item without a name",
			text:    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: ConfigMap\n",
			wantErr: "template DIR/t.yaml: document 1: item 2: missing metadata.name",
			wantDoc: 1,
		},
		{
			name:    "a List item that is not an object",
			text:    "apiVersion: v1\nkind: List\nitems: [1]\n",
			wantErr: "template DIR/t.yaml: document 1: item 1: want an object, got a number",
			wantDoc: 1,
		},
		{
			name:    "List items that are not a list",
			text:    "apiVersion: v1\nkind: List\nitems: {}\n",
			wantErr: "template DIR/t.yaml: document 1: List items is an object, not a list",
			wantDoc: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderFiles(t, context.Background(), map[string]string{"t.yaml": tt.text}, Options{})
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			var rerr *Error
			if !errors.As(err, &rerr) {
				t.Fatalf("error %v is not a *renderer.Error", err)
			}
			if rerr.Document != tt.wantDoc {
				t.Errorf("Document = %d, want %d", rerr.Document, tt.wantDoc)
			}
		})
	}
}

func TestIsSeparator(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"---", true},
		{"---   ", true},
		{"--- # comment", true},
		{"---\t#comment", true},
		{"---\r", true},
		{"----", false},
		{"---#", false},
		{"--- a: 1", false},
		{" ---", false},
		{"--", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isSeparator([]byte(tt.line)); got != tt.want {
			t.Errorf("isSeparator(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestSplitDocumentsKeepsTextBeforeTheFirstSeparator(t *testing.T) {
	got := splitDocuments([]byte("a: 1\n---\nb: 2\n--- # x\r\nc: 3"))
	want := []string{"a: 1\n", "b: 2\n", "c: 3"}
	gotStrings := make([]string, len(got))
	for i, d := range got {
		gotStrings[i] = string(d)
	}
	if diff := cmp.Diff(want, gotStrings); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
}
