// Package sqlite implements store.Store on one SQLite database file, with the
// pure Go driver modernc.org/sqlite, in WAL mode.
//
// # Durability
//
// Connections run with synchronous=FULL unless Options say NORMAL. In WAL
// mode NORMAL syncs the WAL only at checkpoints: a committed transaction
// survives the process being killed, but not a power loss or an OS crash,
// which may roll the last commits back. Those commits are what the server
// has acknowledged: a revoke, a log-out, a password or two-step change, an
// audit event. Rolled back, a revoked token would work again. FULL syncs
// the WAL at every commit, so an acknowledged write survives power loss
// too, at the cost of one fsync per write transaction. NORMAL is for those
// who accept the risk for the speed.
//
// # Files
//
// The database holds password hashes and TOTP secrets, so Open creates the
// file readable and writable by its owner only (0600) and tightens an
// existing file, and its -wal and -shm files, to that. SQLite creates the
// -wal and -shm files with the database file's mode.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"sessionguard/server/store"
)

// BusyTimeout is how long a connection waits for another process's write
// lock before failing with store.ErrUnavailable.
const BusyTimeout = 5 * time.Second

// Store is a store.Store on a SQLite file. It keeps two connection pools on
// the file: one connection for writes, so that writers queue in Go rather
// than in SQLite's busy-wait loop, and several read-only connections, which
// WAL mode lets run alongside the writer. Every write transaction begins
// IMMEDIATE, so it holds the write lock from its first statement.
type Store struct {
	path  string
	write *sql.DB // exactly one connection
	read  *sql.DB // query_only connections
	st    *stmts

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Options tune a Store. The zero value is the default.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "FULL" (the default,
	// when empty) or "NORMAL" (see the package doc); case does not
	// matter. Anything else is an error.
	Synchronous string
}

// synchronous returns o's synchronous setting, validated and upper case.
func (o Options) synchronous() (string, error) {
	switch v := strings.ToUpper(o.Synchronous); v {
	case "":
		return "FULL", nil
	case "FULL", "NORMAL":
		return v, nil
	}
	return "", fmt.Errorf("sqlite: synchronous %q: want FULL or NORMAL", o.Synchronous)
}

// Open opens the database file at path with the default Options (see
// OpenWith).
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith opens the database file at path, creating it (mode 0600) if
// needed, and brings its schema up to date (see Migrate). The caller must
// Close the Store.
func OpenWith(ctx context.Context, path string, o Options) (*Store, error) {
	s, err := open(ctx, path, o)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	st, err := prepare(ctx, s.read, s.write)
	if err != nil {
		s.Close()
		return nil, s.wrap("prepare statements", err)
	}
	s.st = st
	return s, nil
}

// open connects both pools without touching the schema.
func open(ctx context.Context, path string, o Options) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") || strings.Contains(path, ":memory:") {
		return nil, fmt.Errorf("sqlite: %q is not a database file path", path)
	}
	syncMode, err := o.synchronous()
	if err != nil {
		return nil, err
	}
	if err := ownerOnly(path); err != nil {
		return nil, unavailable(fmt.Sprintf("open %s", path), err)
	}
	write, err := sql.Open("sqlite", dsn(path, syncMode, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	read, err := sql.Open("sqlite", dsn(path, syncMode, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(0)

	s := &Store{path: path, write: write, read: read}
	// The write pool goes first: its first connection switches the file
	// (which ownerOnly created, if it was new) to WAL, which read
	// connections then find in place.
	if err := write.PingContext(ctx); err != nil {
		s.Close()
		return nil, unavailable(fmt.Sprintf("open %s", path), err)
	}
	if err := read.PingContext(ctx); err != nil {
		s.Close()
		return nil, unavailable(fmt.Sprintf("open %s", path), err)
	}
	return s, nil
}

// fileMode is the mode of the database file and of its -wal and -shm
// files.
const fileMode fs.FileMode = 0o600

// ownerOnly creates the database file at path with fileMode if it does
// not exist, so that SQLite, which creates the -wal and -shm files with
// the database file's mode, never makes any of them readable by others;
// and tightens an existing database file, -wal and -shm to fileMode. What
// is not a regular file is left for SQLite to refuse.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue // not there (or not a file): nothing to tighten
		}
		if perm := fi.Mode().Perm(); perm&^fileMode != 0 {
			if err := os.Chmod(p, perm&fileMode); err != nil {
				return err
			}
		}
	}
	return nil
}

// dsn builds the driver's data source name. The pragmas travel in the DSN so
// every connection either pool opens gets them.
func dsn(path, synchronous string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	if readOnly {
		// journal_mode is a property of the file, already set by the writer.
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Path returns the database file the Store was opened on.
func (s *Store) Path() string { return s.path }

// Ping checks that both pools can reach the database file.
func (s *Store) Ping(ctx context.Context) error {
	var v int64
	if err := s.read.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&v); err != nil {
		return s.wrap("ping", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return s.wrap("ping", err)
	}
	return nil
}

// Close releases the database. It is safe to call more than once; every
// later call returns the first call's result, and every other method
// returns an error wrapping store.ErrUnavailable after it.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		// Keep the query planner's statistics fresh; best effort.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s.write.ExecContext(ctx, "PRAGMA optimize")
		cancel()
		s.closeErr = errors.Join(s.read.Close(), s.write.Close())
	})
	return s.closeErr
}

// wrap adds the operation to err and marks failures to reach the database
// with store.ErrUnavailable. Context errors stay as they are.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() || isUnavailable(err) {
		return unavailable(op, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func unavailable(op string, err error) error {
	return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrUnavailable, err)
}

// isUnavailable reports whether err means the database cannot be used at
// all right now, as opposed to a problem with one request.
func isUnavailable(err error) bool {
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM,
			sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOLFS:
			return true
		}
		return false
	}
	// database/sql does not export its "database is closed" error.
	return strings.Contains(err.Error(), "sql: database is closed")
}

// notFound turns sql.ErrNoRows into store.ErrNotFound.
func (s *Store) notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return s.wrap(op, err)
}

// micros and fromMicros convert between time.Time and the stored INTEGER
// unix microseconds. Times come back in UTC, truncated to the microsecond.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// secs and fromSecs convert between a rule's time.Duration and its stored
// INTEGER whole seconds (a fraction of a second is dropped).
func secs(d time.Duration) int64 { return int64(d / time.Second) }

func fromSecs(n int64) time.Duration { return time.Duration(n) * time.Second }

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
