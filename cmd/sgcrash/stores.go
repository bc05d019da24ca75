package main

import (
	"context"
	"path/filepath"

	"sessionguard/server/store/postgres/pgtest"
)

// storeKind is one kind of database sessiond runs on. prepare makes a new,
// empty database and returns what `sessiond serve --db` takes, and a
// cleanup to run when the tool is done with it.
type storeKind struct {
	name    string
	prepare func(ctx context.Context, dir string) (db string, cleanup func(), err error)
}

// storeKinds lists every kind the tool can run on, in the order it runs them.
var storeKinds = []storeKind{
	{"sqlite", func(_ context.Context, dir string) (string, func(), error) {
		return filepath.Join(dir, "sessiond.db"), func() {}, nil
	}},
	// A throwaway PostgreSQL server of its own (only sessiond is killed,
	// never PostgreSQL), with a fresh database.
	{"postgres", func(ctx context.Context, _ string) (string, func(), error) {
		c, err := pgtest.Start(pgtest.Options{})
		if err != nil {
			return "", nil, err
		}
		u, err := pgtest.CreateDatabase(ctx, c.URL("postgres"))
		if err != nil {
			_ = c.Close()
			return "", nil, err
		}
		return u, func() { _ = c.Close() }, nil
	}},
}

func findStore(name string) (storeKind, bool) {
	for _, k := range storeKinds {
		if k.name == name {
			return k, true
		}
	}
	return storeKind{}, false
}
