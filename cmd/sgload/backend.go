//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"

	"sessionguard/server/store"
	"sessionguard/server/store/sqlite"
)

// backend is one store sessiond can run on: it makes a fresh, empty
// database, opens it for seeding, and names it for sessiond's --db.
type backend interface {
	Name() string
	// Prepare makes the database and returns sessiond's --db argument.
	Prepare(ctx context.Context) (string, error)
	// Open opens the prepared database through the store package.
	Open(ctx context.Context) (store.Store, error)
	// Close removes what Prepare made.
	Close() error
}

func newBackend(name string, c *config, tmp string) backend {
	if name == "postgres" {
		return &postgresBackend{serverURL: c.PostgresURL, workers: c.SeedWorkers}
	}
	return &sqliteBackend{dir: filepath.Join(tmp, "sqlite")}
}

// sqliteBackend is a database file in a temporary directory.
type sqliteBackend struct{ dir string }

func (b *sqliteBackend) Name() string { return "SQLite" }

func (b *sqliteBackend) path() string { return filepath.Join(b.dir, "sessiond.db") }

func (b *sqliteBackend) Prepare(ctx context.Context) (string, error) {
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return "", err
	}
	return b.path(), nil
}

// Open opens the file for seeding with synchronous=NORMAL: seeding writes
// each record in a transaction of its own, and FULL (sessiond's default)
// would add an fsync to each of some 130,000 of them. The store is closed
// cleanly before sessiond starts, so nothing seeded can be lost.
func (b *sqliteBackend) Open(ctx context.Context) (store.Store, error) {
	return sqlite.OpenWith(ctx, b.path(), sqlite.Options{Synchronous: "NORMAL"})
}

func (b *sqliteBackend) Close() error { return os.RemoveAll(b.dir) }
