package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadAcceptsStatusEnabledAsBooleanOrString(t *testing.T) {
	tests := []struct {
		name    string
		enabled string
		want    StatusMode
	}{
		{name: "an unset value means auto", enabled: "", want: StatusAuto},
		{name: "an empty status means auto", enabled: "status: {}", want: StatusAuto},
		{name: "auto is auto", enabled: "status: {enabled: auto}", want: StatusAuto},
		{name: "the boolean true turns status on", enabled: "status: {enabled: true}", want: StatusOn},
		{name: "the boolean false turns status off", enabled: "status: {enabled: false}", want: StatusOff},
		{name: `the string "true" turns status on`, enabled: `status: {enabled: "true"}`, want: StatusOn},
		{name: `the string "false" turns status off`, enabled: `status: {enabled: "false"}`, want: StatusOff},
	}
	templates, err := filepath.Abs("testdata/templates/site")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "status.yaml")
			config := "watch: {version: v1, kind: ConfigMap}\ntemplates: " + templates + "\n" + tt.enabled + "\n"
			if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			w, err := LoadFile(file)
			if err != nil {
				t.Fatalf("LoadFile(%q): %v", file, err)
			}
			if diff := cmp.Diff(tt.want, w.Status.Enabled); diff != "" {
				t.Errorf("status.enabled mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
