package faults

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"

	"github.com/bosun-dev/bosun/internal/cli"
	"github.com/bosun-dev/bosun/internal/testenv"
)

// stopTimeout bounds how long a stopped bosun may take to exit.
const stopTimeout = 30 * time.Second

// inProcess is bosun's run loop (cli.Run) in the test process, logging JSON to a file.
type inProcess struct {
	testenv.LogFile
	cancel context.CancelFunc
	exited chan struct{}
	err    error // cli.Run's result, set before exited is closed
}

// startInProcess runs bosun on the config, restricted to the namespace, until the test ends.
// client-go's own logs go to the same file, as `bosun run` routes them.
func startInProcess(t *testing.T, config, namespace string) *inProcess {
	t.Helper()
	f, logPath := testenv.CreateLog(t, "bosun")
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.Lock(f), zap.DebugLevel)
	log := zap.New(core)
	klog.SetLogger(zapr.NewLogger(log.Named("client-go")))

	ctx, cancel := context.WithCancel(context.Background())
	b := &inProcess{LogFile: testenv.LogFile(logPath), cancel: cancel, exited: make(chan struct{})}
	go func() {
		defer close(b.exited)
		b.err = cli.Run(ctx, cli.RunOptions{
			ConfigPath:      config,
			Namespace:       namespace,
			RESTConfig:      env.RESTConfig(),
			Log:             log,
			ShutdownTimeout: 10 * time.Second,
		})
	}()
	t.Cleanup(func() {
		b.cancel()
		select {
		case <-b.exited:
			if b.err != nil {
				t.Errorf("bosun run: %v", b.err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("bosun did not stop within %s of the stop signal", stopTimeout)
		}
		klog.ClearLogger()
		f.Close()
		testenv.ShowLogOnFailure(t, "bosun", logPath)
	})
	return b
}

// checkRunning fails the test when bosun's run has returned: it must outlive any fault.
func (b *inProcess) CheckRunning(t *testing.T) {
	t.Helper()
	select {
	case <-b.exited:
		t.Fatalf("bosun's run returned mid-test: %v", b.err)
	default:
	}
}

// bosunArgs are the arguments of `bosun run` on the config, restricted to the namespace. The
// metrics and health endpoints are off: several runs at once would fight over their ports.
func bosunArgs(config, namespace string, extra ...string) []string {
	return append([]string{
		"run",
		"--config", config,
		"--kubeconfig", env.Cluster.KubeconfigPath(),
		"--namespace", namespace,
		"--log-format", "json",
		"--log-level", "debug",
		"--metrics-addr", "0",
		"--health-addr", "0",
	}, extra...)
}

// startProcess starts the bosun binary built by TestMain (testenv.StartProcess).
func startProcess(t *testing.T, name string, args []string) *testenv.Process {
	t.Helper()
	return testenv.StartProcess(t, bosunBinary, name, args)
}
