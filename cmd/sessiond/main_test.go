package main

import (
	"os"
	"testing"

	"sessionguard/server/store/postgres/pgtest"
)

// TestMain points the user data directory (where sessiond keeps its
// secrets key for PostgreSQL databases, and its default database) at a
// temporary directory, so tests never write to the real one, and closes the
// PostgreSQL server the tests share.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sessiond-test-data-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", dir)
	code := pgtest.M(m).Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
