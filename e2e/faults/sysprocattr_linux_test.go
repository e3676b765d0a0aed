package faults

import "syscall"

// sysProcAttr has the kernel SIGKILL a bosun subprocess when the test process dies, so a test
// binary that panics or is killed leaves no bosun behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
