//go:build !linux

package testenv

import "syscall"

// sysProcAttr is nil where there is no parent-death signal: t.Cleanup alone kills the
// subprocesses.
func sysProcAttr() *syscall.SysProcAttr { return nil }
