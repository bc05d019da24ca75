package pgtest

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"
)

var shared struct {
	once    sync.Once
	url     string
	err     error
	cluster *Cluster
}

// Runner is what TestMain runs: *testing.M.
type Runner interface{ Run() int }

// M wraps a package's *testing.M so that Run also closes the shared server
// when the tests are done (instead of leaving it to die with the process):
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(pgtest.M(m)) }
func M(m Runner) Runner { return runner{m} }

type runner struct{ m Runner }

func (r runner) Run() int {
	code := r.m.Run()
	if shared.cluster != nil {
		_ = shared.cluster.Close()
	}
	return code
}

// serverURL is the superuser URL of the server this process's tests share:
// $SESSIONGUARD_TEST_POSTGRES, or a throwaway cluster started on first use
// that lives as long as the process.
func serverURL() (string, error) {
	shared.once.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			shared.url = u
			return
		}
		c, err := Start(Options{})
		if err != nil {
			shared.err = err
			return
		}
		shared.cluster, shared.url = c, c.URL("postgres")
	})
	return shared.url, shared.err
}

// NewDatabase returns the URL of a new, empty database for t on the shared
// server. Without PostgreSQL it skips t, or fails it when
// $SESSIONGUARD_REQUIRE_POSTGRES is 1.
func NewDatabase(t testing.TB) string {
	t.Helper()
	u, err := serverURL()
	if err != nil {
		unavailable(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := CreateDatabase(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// NewCluster starts a private cluster for t (for tests that stop and
// restart PostgreSQL), closed when t ends. Without PostgreSQL it skips t,
// or fails it when $SESSIONGUARD_REQUIRE_POSTGRES is 1.
func NewCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	c, err := Start(opts)
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" || !errors.Is(err, ErrNoPostgres) {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Skipf("PostgreSQL tests skipped: %v", err)
}
