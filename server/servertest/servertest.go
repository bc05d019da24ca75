// Package servertest starts a real sessiond for tests of other packages:
// the server library over HTTP with a settable clock, on a temporary SQLite
// file (Start, StartAt) or on any store the test opened (StartStore, e.g.
// PostgreSQL).
package servertest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sessionguard/server"
	"sessionguard/server/passwd"
	"sessionguard/server/store"
	"sessionguard/server/store/sqlite"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Config is a server configuration for tests: open registration, cheap
// password hashing (passwd.Fast), the given clock, keep-alive comments
// rare enough not to disturb tests that read streams, and a fixed secrets
// key.
func Config(c *Clock) server.Config {
	fast := passwd.Fast
	return server.Config{OpenRegistration: true, Password: &fast, Now: c.Now, KeepAlive: time.Hour,
		SecretsKey: SecretsKey, AuditKey: AuditKeySeed}
}

// SecretsKey is the secrets key of every test server, so two-step secrets
// sealed by one test server open in the next on the same database.
var SecretsKey = []byte("sessionguard-test-secrets-key-32")

// AuditKeySeed is the audit signing key (its seed) of every test server,
// so heads signed by one check against the next on the same database.
var AuditKeySeed = []byte("sessionguard-test-audit-key-seed")

// Backend is a running test server.
type Backend struct {
	Server *server.Server
	HTTP   *httptest.Server
	// DB is the store the server runs on, whatever its kind.
	DB store.Store
	// Store is DB when it is a SQLite store, nil otherwise.
	Store *sqlite.Store
	Clock *Clock
	// URL is the server's base address; DBPath its database file (empty
	// when the store is not SQLite).
	URL, DBPath string

	once sync.Once
}

// Start runs a server on a fresh database in t.TempDir(), its clock at the
// current time (to the second). It stops when the test ends.
func Start(t testing.TB, opts ...func(*server.Config)) *Backend {
	t.Helper()
	return StartAt(t, filepath.Join(t.TempDir(), "sessiond.db"), NewClock(time.Now().UTC().Truncate(time.Second)), opts...)
}

// StartAt runs a server on the database at path (new or existing) with
// clock c; opts adjust the configuration.
func StartAt(t testing.TB, path string, c *Clock, opts ...func(*server.Config)) *Backend {
	t.Helper()
	// synchronous=NORMAL: a test's database need not survive a power
	// loss, and a sync per commit would slow every suite that starts a
	// server (the sqlite package tests FULL, sessiond's default).
	st, err := sqlite.OpenWith(context.Background(), path, sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatalf("servertest: open store: %v", err)
	}
	return StartStore(t, st, c, opts...)
}

// StartStore runs a server on st, an open store of any kind, with clock c;
// opts adjust the configuration. The backend takes st over: Stop (run when
// the test ends) closes it, which for PostgreSQL also closes its connection
// pool, so goleak finds nothing left.
func StartStore(t testing.TB, st store.Store, c *Clock, opts ...func(*server.Config)) *Backend {
	t.Helper()
	cfg := Config(c)
	for _, o := range opts {
		o(&cfg)
	}
	b := &Backend{DB: st, Clock: c, Server: server.New(st, cfg)}
	if sq, ok := st.(*sqlite.Store); ok {
		b.Store, b.DBPath = sq, sq.Path()
	}
	b.HTTP = httptest.NewServer(b.Server.Handler())
	b.URL = b.HTTP.URL
	t.Cleanup(b.Stop)
	return b
}

// Stop ends event streams, the HTTP server and the database; clients then
// see the server as unreachable. It is safe to call more than once.
func (b *Backend) Stop() {
	b.once.Do(func() {
		b.Server.Close()
		b.HTTP.Close()
		_ = b.DB.Close()
	})
}
