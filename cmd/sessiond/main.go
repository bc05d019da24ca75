// Command sessiond is Sessionguard's account server: it owns accounts,
// sessions, tokens, the audit trail and the live event stream.
package main

import (
	"context"
	"os"

	"sessionguard/cmd/internal/cli"
)

func main() {
	cli.Main(func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr) })
}
