package servertest_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"sessionguard/server/servertest"
	"sessionguard/server/store"
	"sessionguard/server/store/sqlite"
)

// wrapped hides the concrete store type, as a PostgreSQL store or a fault
// injecting wrapper would.
type wrapped struct{ store.Store }

func TestStartStore(t *testing.T) {
	tests := []struct {
		name       string
		wrap       func(*sqlite.Store) store.Store
		wantSQLite bool
	}{
		{"sqlite store", func(s *sqlite.Store) store.Store { return s }, true},
		{"other store", func(s *sqlite.Store) store.Store { return wrapped{s} }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			b := servertest.StartStore(t, tc.wrap(st), servertest.NewClock(time.Unix(1e9, 0)))
			if got := b.Store != nil; got != tc.wantSQLite {
				t.Fatalf("Backend.Store set = %v, want %v", got, tc.wantSQLite)
			}
			if tc.wantSQLite && b.DBPath != path {
				t.Fatalf("DBPath = %q, want %q", b.DBPath, path)
			}
			resp, err := b.HTTP.Client().Get(b.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("healthz = %d", resp.StatusCode)
			}
			b.Stop()
			b.Stop() // twice is fine
			// The backend owned the store: it is closed now.
			if err := st.Ping(context.Background()); !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("store after Stop: Ping = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := servertest.NewClock(start)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("after Set: %v", got)
	}
}
