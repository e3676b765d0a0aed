// Package e2e runs bosun's real run loop against a real control plane (etcd, kube-apiserver
// and kube-controller-manager built from pinned modules by hack/build-tools.sh).
package e2e

import (
	"os"
	"testing"

	"github.com/bosun-dev/bosun/internal/localcluster"
	"github.com/bosun-dev/bosun/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, localcluster.Options{ControllerManager: true, Scheduler: true, Kwok: true}, &env))
}
