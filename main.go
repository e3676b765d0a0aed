// Command bosun watches any Kubernetes resource type and keeps, for every object of it, the
// child objects its Go templates render applied in the cluster.
package main

import (
	"context"
	"os"

	"github.com/bosun-dev/bosun/internal/cli"
)

func main() {
	os.Exit(cli.Execute(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
