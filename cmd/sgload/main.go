// Command sgload measures sessiond under load on one machine: authenticated
// request throughput and latency, revoke-to-event and revoke-to-receipt
// latency with thousands of connected event streams, memory per stream, large list pages, the cost of
// sign-in, GET /v1/me latency under a flood of bad sign-ins, and what
// durable writes cost (SQLite synchronous=FULL against NORMAL). It seeds a fresh SQLite or PostgreSQL database through
// the store package, runs sessiond as a child process on a loopback port
// (reading its CPU and memory from /proc), and prints a Markdown report.
// The figures and the commands that produced them are in
// docs/PERFORMANCE.md; `make load` runs the full measurement.
//
// Usage:
//
//	sgload [--db sqlite,postgres] [--streams 1000,10000] [flags]
//
// Run "sgload -h" for every flag. It runs on Linux only.
package main

import (
	"context"
	"os"

	"sessionguard/cmd/internal/cli"
)

func main() {
	cli.Main(func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}
