package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and commit are set when the binary is built:
//
//	go build -ldflags "-X github.com/bosun-dev/bosun/internal/cli.version=v0.1.0 \
//	  -X github.com/bosun-dev/bosun/internal/cli.commit=$(git rev-parse HEAD)"
//
// They are package variables only because the linker's -X sets nothing else; nothing assigns
// them at run time.
var (
	version = "dev"
	commit  = "unknown"
)

// build describes the running binary.
type build struct {
	Version   string
	Commit    string
	GoVersion string
	Platform  string
}

// currentBuild is the build of the running binary: what the linker set, else what the Go
// toolchain recorded (the module version of `go install ...@v1.2.3`, the VCS revision of a
// build in a checkout).
func currentBuild() build {
	info, _ := debug.ReadBuildInfo()
	return buildOf(version, commit, info)
}

// buildOf prefers ver and com when the linker set them, and falls back to info (nil if the
// binary has no build info).
func buildOf(ver, com string, info *debug.BuildInfo) build {
	b := build{Version: ver, Commit: com, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info == nil {
		return b
	}
	if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	if b.Commit == "unknown" {
		var rev string
		dirty := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			b.Commit = rev
			if dirty {
				b.Commit += "-dirty"
			}
		}
	}
	return b
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, git commit, Go version and platform of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := currentBuild()
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "version:  %s\ncommit:   %s\ngo:       %s\nplatform: %s\n",
				b.Version, b.Commit, b.GoVersion, b.Platform)
			return err
		},
	}
}
