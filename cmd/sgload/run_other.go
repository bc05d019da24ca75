//go:build !linux

package main

import (
	"context"
	"fmt"
	"io"
)

// run refuses: sgload reads sessiond's CPU and memory from /proc.
func run(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sgload: runs on Linux only (it reads /proc)")
	return 1
}
