package main

import (
	"syscall"
)

// sysProcAttr has the kernel kill bosun when the harness dies, so an interrupted run leaves
// nothing behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
