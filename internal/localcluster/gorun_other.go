//go:build !linux

package localcluster

// DieWithGoRun has no portable equivalent outside Linux; there, stop the cluster with
// Ctrl-C or the down command.
func DieWithGoRun() error { return nil }
