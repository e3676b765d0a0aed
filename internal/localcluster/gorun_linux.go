package localcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DieWithGoRun asks the kernel for SIGTERM when the parent dies, if the parent is go run:
// killing go run must not leave the cluster running unseen. Any other parent, such as a
// script that starts the cluster in the background and exits, leaves it running.
func DieWithGoRun() error {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", os.Getppid()))
	if err != nil {
		return nil
	}
	argv := strings.Split(string(cmdline), "\x00")
	if len(argv) < 2 || filepath.Base(argv[0]) != "go" || argv[1] != "run" {
		return nil
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		return fmt.Errorf("prctl PR_SET_PDEATHSIG: %w", errno)
	}
	return nil
}
