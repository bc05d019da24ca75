package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sessionguard/server"
	"sessionguard/server/pgbus"
	"sessionguard/server/store"
	"sessionguard/server/store/postgres"
	"sessionguard/server/store/sqlite"
)

// envDB names the environment variable --db defaults to, so a PostgreSQL
// URL with a password need not appear on the command line.
const envDB = "SESSIOND_DB"

const dbFlagHelp = "SQLite database file, or a postgres:// URL for several replicas (default $" + envDB + " or the user data directory)"

// database is an open store and what else its kind brings.
type database struct {
	store.Store
	// name is the path or the URL without its password, for messages.
	name string
	// pgURL is set for PostgreSQL: replicas on it share events through
	// LISTEN/NOTIFY.
	pgURL string
}

// isPostgres tells a PostgreSQL URL from a SQLite path.
func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// defaultDB is $SESSIOND_DB or sessiond.db in the user's data directory.
func defaultDB() string {
	if v := os.Getenv(envDB); v != "" {
		return v
	}
	return defaultDBPath()
}

// openStore opens (and migrates) the database spec names. synchronous is
// SQLite's synchronous setting ("full" or "normal"; "" is full).
func openStore(ctx context.Context, spec, synchronous string) (*database, error) {
	if spec == "" {
		return nil, usageError{"--db is empty"}
	}
	if isPostgres(spec) {
		u, err := url.Parse(spec)
		if err != nil {
			return nil, usageError{"--db is not a valid postgres:// URL"}
		}
		name := redactURL(u)
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		st, err := postgres.Open(octx, spec)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", name, err)
		}
		return &database{Store: st, name: name, pgURL: spec}, nil
	}
	opts := sqlite.Options{Synchronous: "FULL"}
	switch strings.ToLower(synchronous) {
	case "", "full":
	case "normal":
		opts.Synchronous = "NORMAL"
	default:
		return nil, usageError{`--sqlite-synchronous must be "full" or "normal"`}
	}
	if err := os.MkdirAll(filepath.Dir(spec), 0o700); err != nil {
		return nil, err
	}
	st, err := sqlite.OpenWith(ctx, spec, opts)
	if err != nil {
		return nil, err
	}
	return &database{Store: st, name: spec}, nil
}

// redactURL is a database URL fit for logs: the password masked wherever
// libpq lets it stand (user info, or the password and sslpassword query
// parameters).
func redactURL(u *url.URL) string {
	c := *u
	if q := c.Query(); q.Has("password") || q.Has("sslpassword") {
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.Redacted()
}

// version is the database's schema version.
func (d *database) version(ctx context.Context) (int, error) {
	v, ok := d.Store.(interface {
		Version(context.Context) (int, error)
	})
	if !ok {
		return 0, fmt.Errorf("%s: this store does not report a schema version", d.name)
	}
	return v.Version(ctx)
}

// connectReplicas joins srv to the other replicas on the same PostgreSQL
// database, so a revoke on any of them reaches streams on all. It returns a
// function that leaves again. With SQLite there is one replica: nothing to do.
func (d *database) connectReplicas(ctx context.Context, srv *server.Server, log *slog.Logger) (func(), error) {
	if d.pgURL == "" {
		return func() {}, nil
	}
	bus, err := pgbus.New(d.pgURL, srv, pgbus.Config{Logger: log})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := bus.WaitReady(wctx); err != nil {
		_ = bus.Close()
		return nil, fmt.Errorf("listening for other replicas' events: %w", err)
	}
	srv.SetBus(bus)
	return func() { _ = bus.Close() }, nil
}
