package testenv

import "syscall"

// sysProcAttr has the kernel SIGKILL a subprocess when the test process dies, so a test
// binary that panics or is killed leaves none behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
