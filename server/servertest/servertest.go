// Package servertest starts a real sessiond for tests of other packages:
// the server library on a temporary SQLite file, over HTTP, with a
// settable clock.
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
// password hashing (passwd.Fast), the given clock, and keep-alive comments
// rare enough not to disturb tests that read streams.
func Config(c *Clock) server.Config {
	fast := passwd.Fast
	return server.Config{OpenRegistration: true, Password: &fast, Now: c.Now, KeepAlive: time.Hour}
}

// Backend is a running test server.
type Backend struct {
	Server *server.Server
	HTTP   *httptest.Server
	Store  *sqlite.Store
	Clock  *Clock
	// URL is the server's base address; DBPath its database file.
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
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("servertest: open store: %v", err)
	}
	cfg := Config(c)
	for _, o := range opts {
		o(&cfg)
	}
	b := &Backend{Store: st, Clock: c, DBPath: path, Server: server.New(st, cfg)}
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
		_ = b.Store.Close()
	})
}
