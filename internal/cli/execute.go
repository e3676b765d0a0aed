package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"
)

// errorExitCodeAnnotation on a command sets the exit code of its errors (default 1): diff
// exits 1 for "differences found", like kubectl diff, so its errors exit 2.
const errorExitCodeAnnotation = "bosun.dev/error-exit-code"

// exitCode ends a command with a code and no message of its own: diff found differences, or
// check found problems it has already printed.
type exitCode int

func (c exitCode) Error() string { return "exit status " + strconv.Itoa(int(c)) }

// runError marks an error returned by a command's RunE, as opposed to cobra's own errors about
// flags and arguments, which get a usage hint.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// Execute runs bosun with args (without the program name) and returns the process exit code.
// Errors are printed to stderr as "bosun: <error>"; a mistake in flags or arguments adds a hint
// to the command's --help.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	markRunErrors(root)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	if code, ok := errors.AsType[exitCode](err); ok {
		return int(code)
	}
	if _, ok := errors.AsType[*runError](err); ok {
		fmt.Fprintf(stderr, "bosun: %v\n", err)
	} else {
		fmt.Fprintf(stderr, "bosun: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
	}
	if code, err := strconv.Atoi(cmd.Annotations[errorExitCodeAnnotation]); err == nil {
		return code
	}
	return 1
}

// markRunErrors wraps the RunE of every command so that Execute can tell its errors from
// cobra's.
func markRunErrors(cmd *cobra.Command) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if err := run(c, args); err != nil {
				if _, ok := errors.AsType[exitCode](err); ok {
					return err
				}
				return &runError{err: err}
			}
			return nil
		}
	}
	for _, c := range cmd.Commands() {
		markRunErrors(c)
	}
}
