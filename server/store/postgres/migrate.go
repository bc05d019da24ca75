package postgres

import (
	"context"
	"embed"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sessionguard/server/store/internal/migrations"
)

// migrationFiles holds the schema, one file per version, named
// NNNN_description.sql. A file is applied once, in one transaction (with
// its Go step, if goSteps has one), and never edited after release: a
// change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is returned when the database carries migrations this
// build does not know, i.e. it was migrated by a newer sessiond.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this build")

// migrateLockKey is the pg_advisory_lock key Migrate holds while it
// migrates ("sessiond" in ASCII). Advisory locks are per database, so
// databases sharing a server do not wait for each other.
const migrateLockKey int64 = 0x73657373696f6e64

// schema is the embedded migrations, read when the package initialises
// (a build whose files do not parse, or skip a version, panics there).
var schema = migrations.MustLoad("postgres", migrationFiles, "migrations")

// LatestVersion is the schema version this build migrates to (at least 1).
func LatestVersion() int { return schema.Latest() }

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer     NOT NULL PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Migrate applies every embedded migration the database lacks, each in its
// own transaction, and records it in schema_migrations. It holds a
// pg_advisory_lock on one connection meanwhile, so replicas starting at the
// same time migrate one after another: the first applies what is missing,
// the others find it applied. It is idempotent, and returns ErrSchemaTooNew
// if the database is ahead of this build. Open calls it.
func (s *Store) Migrate(ctx context.Context) error {
	var conn *pgxpool.Conn
	err := s.run(ctx, "migrate", func(ctx context.Context) (err error) {
		conn, err = s.pool.Acquire(ctx)
		return err
	})
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return s.wrap(ctx, "migrate: lock", err)
	}
	defer func() {
		// Unlocking can only fail with the connection; closing it ends
		// the session, which releases the lock too.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrateLockKey); err != nil {
			conn.Conn().Close(uctx)
		}
	}()
	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		return s.wrap(ctx, "migrate", err)
	}
	for _, m := range schema.Files() {
		if err := s.apply(ctx, conn.Conn(), m); err != nil {
			return err
		}
	}
	v, err := version(ctx, conn)
	if err != nil {
		return s.wrap(ctx, "schema version", err)
	}
	return schema.CheckVersion(v, ErrSchemaTooNew)
}

// apply applies m, and then its Go step if it has one, in one transaction,
// unless schema_migrations says it was.
func (s *Store) apply(ctx context.Context, conn *pgx.Conn, m migrations.File) error {
	op := "migrate " + m.Name
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var applied bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM schema_migrations WHERE version = $1)`,
			m.Version).Scan(&applied); err != nil || applied {
			return err
		}
		// No arguments: the simple protocol, which runs every statement
		// of the file.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		if step := goSteps[m.Version]; step != nil {
			if err := step(ctx, tx); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
		return err
	})
	return s.wrap(ctx, op, err)
}

// querier is what version needs of a pool or a connection.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func version(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if sqlState(err) == "42P01" { // undefined_table: nothing applied
		return 0, nil
	}
	return v, err
}

// Version returns the database's schema version: the highest migration
// applied, 0 for a new database.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.run(ctx, "schema version", func(ctx context.Context) (err error) {
		v, err = version(ctx, s.pool)
		return err
	})
	return v, err
}

// MigrateURL brings the database at url up to LatestVersion and reports
// the versions before and after, and closes it again. (`sessiond migrate`
// does not call it: it migrates by opening the store, as every command
// does.)
func MigrateURL(ctx context.Context, url string) (from, to int, err error) {
	s, err := open(ctx, url, Options{MaxConns: 2})
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	return migrations.Upgrade(ctx, s)
}
