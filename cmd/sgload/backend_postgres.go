//go:build linux

package main

import (
	"context"
	"errors"

	"sessionguard/server/store"
)

// postgresBackend is a fresh database on a PostgreSQL server.
type postgresBackend struct{ serverURL string }

func (b *postgresBackend) Name() string { return "PostgreSQL" }

func (b *postgresBackend) Prepare(ctx context.Context) (string, error) {
	return "", errors.New("the PostgreSQL store is not in this build yet")
}

func (b *postgresBackend) Open(ctx context.Context) (store.Store, error) {
	return nil, errors.New("the PostgreSQL store is not in this build yet")
}

func (b *postgresBackend) Close() error { return nil }
