package cli

import (
	"regexp"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuildOfPrefersTheLinkerAndFallsBackToTheBuildInfo(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified},
		}}
	}
	tests := []struct {
		name     string
		ver, com string
		info     *debug.BuildInfo
		want     build
	}{
		{
			name: "values set by -ldflags -X win",
			ver:  "v0.2.0", com: "abc123", info: vcs("def456", "true"),
			want: build{Version: "v0.2.0", Commit: "abc123"},
		},
		{
			name: "a build in a clean checkout reports its revision",
			ver:  "dev", com: "unknown", info: vcs("def456", "false"),
			want: build{Version: "dev", Commit: "def456"},
		},
		{
			name: "a build with local changes says so",
			ver:  "dev", com: "unknown", info: vcs("def456", "true"),
			want: build{Version: "dev", Commit: "def456-dirty"},
		},
		{
			name: "go install module@version reports the module version",
			ver:  "dev", com: "unknown", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			want: build{Version: "v1.2.3", Commit: "unknown"},
		},
		{
			name: "without build info the defaults stay",
			ver:  "dev", com: "unknown",
			want: build{Version: "dev", Commit: "unknown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.GoVersion, tt.want.Platform = runtime.Version(), platform
			if diff := cmp.Diff(tt.want, buildOf(tt.ver, tt.com, tt.info)); diff != "" {
				t.Errorf("buildOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionPrintsVersionCommitGoAndPlatform(t *testing.T) {
	stdout, stderr, code := bosun(t, "", "version")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr: %s", code, stderr)
	}
	b := currentBuild()
	want := "version:  " + b.Version + "\ncommit:   " + b.Commit + "\ngo:       " + runtime.Version() + "\nplatform: " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("bosun version (-want +got):\n%s", diff)
	}
	stdout, _, code = bosun(t, "", "--version")
	if code != 0 || !regexp.MustCompile(`^bosun version \S+\n$`).MatchString(stdout) {
		t.Errorf("bosun --version: exit %d, %q", code, stdout)
	}
}
