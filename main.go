// Command bosun watches any Kubernetes resource type and keeps, for every object of it, the
// child objects its Go templates render applied in the cluster.
package main

import (
	"fmt"
	"os"

	"github.com/bosun-dev/bosun/internal/cli"
)

func main() {
	if err := cli.NewRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "bosun:", err)
		os.Exit(1)
	}
}
