//go:build !linux

package localcluster

import "syscall"

// sysProcAttr puts a child in its own process group, so stopping it also stops anything it
// spawned and a Ctrl-C in the terminal reaches only the parent, which stops the children in
// order. Without Linux's Pdeathsig, a parent killed with SIGKILL leaves its children running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
