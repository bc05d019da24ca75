// Package migratetest checks what both stores promise of their schema
// migrations, from each store's tests: migrating is idempotent, and a
// database migrated by a newer build is refused. The stores supply how to
// open and migrate a database and what only they can look at.
package migratetest

import (
	"context"
	"errors"
	"testing"
)

// Store is a store open on a database, as far as its schema goes.
type Store interface {
	// Migrate applies the migrations the database lacks.
	Migrate(ctx context.Context) error
	// Version is the database's schema version.
	Version(ctx context.Context) (int, error)
	Close() error
}

// Idempotent checks migrate (the store's MigrateFile or MigrateURL, named
// name) on a new database: it goes from 0 to latest, then from latest to
// latest. Opened with open (which migrates) and migrated again, twice
// over, the database stays at latest, as Version and check (given the
// open store) say.
func Idempotent[S Store](t *testing.T, name string, latest int, migrate func(context.Context) (from, to int, err error),
	open func(context.Context) (S, error), check func(*testing.T, S)) {
	t.Helper()
	ctx := t.Context()
	from, to, err := migrate(ctx)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if from != 0 || to != latest || to < 1 {
		t.Errorf("%s on a new database: %d → %d, want 0 → %d", name, from, to, latest)
	}
	from, to, err = migrate(ctx)
	if err != nil || from != latest || to != latest {
		t.Errorf("%s again: %d → %d, %v; want %d → %d", name, from, to, err, latest, latest)
	}
	for range 2 {
		s, err := open(ctx)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Errorf("Migrate on an up-to-date database: %v", err)
		}
		if v, err := s.Version(ctx); err != nil || v != latest {
			t.Errorf("Version = %d, %v; want %d", v, err, latest)
		}
		check(t, s)
		s.Close()
	}
}

// RefusesNewerSchema opens a new database (open migrates it), has
// fromTheFuture record a version above this build's, closes it, and
// checks that opening it again fails with tooNew, the store's
// ErrSchemaTooNew.
func RefusesNewerSchema[S Store](t *testing.T, open func(context.Context) (S, error), fromTheFuture func(S) error, tooNew error) {
	t.Helper()
	ctx := t.Context()
	s, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fromTheFuture(s); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := open(ctx); !errors.Is(err, tooNew) {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open on a newer schema: %v, want %v", err, tooNew)
	}
}
