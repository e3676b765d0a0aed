package cli

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCgroupMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v2 := write("v2", "268435456\n")
	unlimited := write("max", "max\n")
	v1unlimited := write("v1", "9223372036854771712\n")
	cases := []struct {
		name  string
		files []string
		want  int64
		ok    bool
	}{
		{"a v2 limit", []string{v2}, 268435456, true},
		{"v2 without a limit", []string{unlimited, v2}, 0, false},
		{"v1 without a limit", []string{v1unlimited}, 0, false},
		{"not in a cgroup: the v1 file when v2 is missing", []string{filepath.Join(dir, "none"), v2}, 268435456, true},
		{"no files", []string{filepath.Join(dir, "none")}, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := cgroupMemoryLimit(tc.files)
			if got != tc.want || ok != tc.ok {
				t.Errorf("cgroupMemoryLimit = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
