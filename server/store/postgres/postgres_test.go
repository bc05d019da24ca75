package postgres

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"sessionguard/server/store"
	"sessionguard/server/store/postgres/pgtest"
	"sessionguard/server/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(pgtest.M(m)) }

// openURL opens a Store on url, closed when t ends.
func openURL(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openTemp opens a Store on a new, empty database.
func openTemp(t testing.TB) *Store {
	t.Helper()
	return openURL(t, pgtest.NewDatabase(t))
}

// TestContract runs the suite with a new database per subtest.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// TestContractSharedDatabase runs the suite on one database shared by
// every subtest, as a long-lived server's database is; every subtest opens
// (and so migrates) it again.
func TestContractSharedDatabase(t *testing.T) {
	url := pgtest.NewDatabase(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openURL(t, url) })
}

// TestContractReplicas runs the suite through three Stores on one
// database, each call going to the next of them in turn, as requests of
// one client are spread over sessiond replicas: the concurrency subtests
// race calls from separate pools, with nothing shared in this process.
func TestContractReplicas(t *testing.T) {
	url := pgtest.NewDatabase(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return newReplicas(openURL(t, url), openURL(t, url), openURL(t, url))
	})
}

// TestContractQueryExecModes runs the suite without pgx's per-connection
// statement cache, as behind PgBouncer's transaction pooling.
func TestContractQueryExecModes(t *testing.T) {
	for _, mode := range []string{"exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			url := pgtest.NewDatabase(t) + "&default_query_exec_mode=" + mode
			storetest.Run(t, func(t *testing.T) store.Store { return openURL(t, url) })
		})
	}
}

func TestPersistence(t *testing.T) {
	storetest.RunPersistence(t, func(t *testing.T, url string) store.Store { return openURL(t, url) },
		pgtest.NewDatabase(t))
}

// TestOpenUnavailable: a server that is not there gives ErrUnavailable
// within the connect timeout; a URL that does not parse gives an error
// that is not ErrUnavailable.
func TestOpenUnavailable(t *testing.T) {
	ctx := context.Background()
	if s, err := Open(ctx, "postgres://postgres@127.0.0.1:1/x?sslmode=disable"); !errors.Is(err, store.ErrUnavailable) {
		if s != nil {
			s.Close()
		}
		t.Errorf("Open(nothing listening) = %v, want ErrUnavailable", err)
	}
	for _, url := range []string{"postgres://x:y@host:notaport/db", "mysql://x", "host=a port=b"} {
		s, err := Open(ctx, url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", url)
			continue
		}
		if errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Open(%q) = %v, want a configuration error, not ErrUnavailable", url, err)
		}
	}
}

// TestPurgeInBatches runs the retention contract with batches of two rows,
// so that every kind of deletion takes several transactions, on one
// database and through replicas.
func TestPurgeInBatches(t *testing.T) {
	defer func(n int) { purgeBatch = n }(purgeBatch)
	purgeBatch = 2
	storetest.RunPurge(t, func(t *testing.T) store.Store { return openTemp(t) })
	url := pgtest.NewDatabase(t)
	t.Run("replicas", func(t *testing.T) {
		storetest.RunPurge(t, func(t *testing.T) store.Store {
			return newReplicas(openURL(t, url), openURL(t, url))
		})
	})
}
