package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// sysProcAttr has the kernel kill bosun when the harness dies, so an interrupted run leaves
// nothing behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// dieWithParent asks for SIGTERM when the parent dies if the parent is go run, so killing
// go run stops the clusters (as hack/local-cluster does).
func dieWithParent() error {
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
