//go:build !unix

package main

// raiseFileLimit has nothing to raise where there is no RLIMIT_NOFILE; 0
// leaves connections unbounded by it.
func raiseFileLimit() (uint64, error) { return 0, nil }
