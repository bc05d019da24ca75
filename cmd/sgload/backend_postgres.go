//go:build linux

package main

import (
	"context"
	"fmt"

	"sessionguard/server/store"
	"sessionguard/server/store/postgres"
	"sessionguard/server/store/postgres/pgtest"
)

// postgresBackend is a fresh database on a PostgreSQL server: the one
// --postgres-url names, or a throwaway cluster (initdb in a temporary
// directory, loopback port, fsync on) that Close removes.
type postgresBackend struct {
	serverURL string
	workers   int
	cluster   *pgtest.Cluster
	dbURL     string
}

func (b *postgresBackend) Name() string { return "PostgreSQL" }

func (b *postgresBackend) Prepare(ctx context.Context) (string, error) {
	if b.serverURL == "" {
		c, err := pgtest.Start(pgtest.Options{Durable: true})
		if err != nil {
			return "", fmt.Errorf("starting a throwaway PostgreSQL (or pass --postgres-url): %w", err)
		}
		b.cluster, b.serverURL = c, c.URL("postgres")
	}
	u, err := pgtest.CreateDatabase(ctx, b.serverURL)
	if err != nil {
		return "", err
	}
	b.dbURL = u
	return u, nil
}

func (b *postgresBackend) Open(ctx context.Context) (store.Store, error) {
	return postgres.OpenOptions(ctx, b.dbURL, postgres.Options{MaxConns: int32(max(b.workers, 4))})
}

func (b *postgresBackend) Close() error {
	if b.cluster != nil {
		return b.cluster.Close()
	}
	return nil
}
