// Package faults proves that bosun survives faults of the control plane and of itself: the API
// server or etcd going away mid-reconcile, a SIGKILL mid-run followed by a restart, and the loss
// of the leader when several replicas run with leader election.
//
// Rules:
//   - One control plane for the package (testenv.Main); every test works in its own namespace
//     and restricts bosun to it.
//   - bosun runs either in-process (cli.Run, for faults of the control plane) or as the real
//     binary built in TestMain (for faults of bosun's own process); every process a test starts
//     is killed in its cleanup.
//   - Polling tolerates errors: the control plane is away on purpose for part of these tests.
package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bosun-dev/bosun/internal/localcluster"
	"github.com/bosun-dev/bosun/internal/testenv"
)

var (
	env *testenv.Env
	// bosunBinary is the real binary, built once by TestMain.
	bosunBinary string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bosun-faults-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "faults: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bosunBinary = filepath.Join(dir, "bosun")
	build := exec.Command("go", "build", "-o", bosunBinary, "github.com/bosun-dev/bosun")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "faults: go build github.com/bosun-dev/bosun: %v\n", err)
		return 1
	}
	return testenv.Main(m, localcluster.Options{ControllerManager: true}, &env)
}
