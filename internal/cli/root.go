package cli

import (
	"github.com/spf13/cobra"
)

// NewRootCommand returns the bosun command with its subcommands.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "bosun",
		Short: "bosun keeps, for every object of a watched kind, the children its templates render",
		Long: `bosun watches any Kubernetes resource type, renders Go templates for every object
of it and keeps the resulting child objects applied with server-side apply: it patches them
when the object changes, prunes what is no longer rendered, and deletes them with the object.`,
		Version:       currentBuild().Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCommand(), newRenderCommand(), newCheckCommand(), newDiffCommand(),
		newRBACCommand(), newUninstallCommand(), newImportCommand(), newVersionCommand())
	root.AddCommand(newGetCommand(), newExplainCommand())
	return root
}
