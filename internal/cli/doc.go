// Package cli is bosun's command line: it parses flags, loads the watch configs and templates
// (failing before it touches the cluster when any of them is bad), builds the clients and the
// logger, and runs the watcher until a stop signal.
package cli
