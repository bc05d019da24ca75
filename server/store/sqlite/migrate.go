package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"time"

	"sessionguard/server/store/internal/migrations"
)

// migrationFiles holds the schema, one file per version, named
// NNNN_description.sql. A file is applied once, in one transaction, and
// never edited after release: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is returned when the database carries migrations this
// build does not know, i.e. it was migrated by a newer sessiond.
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this build")

// schema is the embedded migrations, read when the package initialises
// (a build whose files do not parse, or skip a version, panics there).
var schema = migrations.MustLoad("sqlite", migrationFiles, "migrations")

// LatestVersion is the schema version this build migrates to (at least 1).
func LatestVersion() int { return schema.Latest() }

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`

// Migrate applies every embedded migration the database lacks, each in its
// own IMMEDIATE transaction, and records it in schema_migrations. It is
// idempotent and safe against another process migrating the same file at
// the same time. It returns ErrSchemaTooNew if the database is ahead of
// this build. Open calls it.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, createMigrationsTable); err != nil {
		return s.wrap("migrate", err)
	}
	for _, m := range schema.Files() {
		if err := s.apply(ctx, m); err != nil {
			return err
		}
	}
	v, err := s.Version(ctx)
	if err != nil {
		return err
	}
	return schema.CheckVersion(v, ErrSchemaTooNew)
}

func (s *Store) apply(ctx context.Context, m migrations.File) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("migrate "+m.Name, err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.Version).Scan(&one)
	if err == nil {
		return nil // already applied, perhaps by another process just now
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return s.wrap("migrate "+m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return s.wrap("migrate "+m.Name, err)
	}
	if step := goSteps[m.Version]; step != nil {
		if err := step(ctx, tx); err != nil {
			return s.wrap("migrate "+m.Name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, micros(time.Now())); err != nil {
		return s.wrap("migrate "+m.Name, err)
	}
	return s.wrap("migrate "+m.Name, tx.Commit())
}

// Version returns the database's schema version: the highest migration
// applied, 0 for a new file.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		// No table yet: nothing applied.
		var n int
		if err2 := s.write.QueryRowContext(ctx,
			`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err2 == nil && n == 0 {
			return 0, nil
		}
		return 0, s.wrap("schema version", err)
	}
	return v, nil
}

// MigrateFile brings the database file at path up to LatestVersion and
// reports the versions before and after, and closes it again. (`sessiond
// migrate` does not call it: it migrates by opening the store, as every
// command does.)
func MigrateFile(ctx context.Context, path string) (from, to int, err error) {
	s, err := open(ctx, path, Options{})
	if err != nil {
		return 0, 0, err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	return migrations.Upgrade(ctx, s)
}
