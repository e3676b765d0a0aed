package localcluster

import "syscall"

// sysProcAttr puts a child in its own process group, so stopping it also stops anything it
// spawned and a Ctrl-C in the terminal reaches only the parent, which stops the children in
// order. Pdeathsig has the kernel kill the child when the thread that started it dies, which
// for a Go program means when the process dies (the runtime ends a thread only when a
// goroutine exits while locked to it): a killed test leaves no servers behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
