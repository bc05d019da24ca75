package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/server/internal/barrier"
	"sessionguard/server/store/internal/migratetest"
	"sessionguard/server/store/postgres/pgtest"
)

// TestMigrateConcurrentReplicas starts several replicas on one new
// database at the same moment: each Open migrates, the advisory lock lets
// one of them create the schema, and the others find it done.
func TestMigrateConcurrentReplicas(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const replicas = 8
	var (
		stores [replicas]*Store
		errs   [replicas]error
	)
	barrier.Run(replicas, func(i int) { stores[i], errs[i] = Open(t.Context(), url) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Open: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	checkMigrated(t, stores[0])
}

// checkMigrated checks that s's database is at LatestVersion with one
// schema_migrations row per migration.
func checkMigrated(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != LatestVersion() {
		t.Errorf("schema_migrations has %d rows, want %d", n, LatestVersion())
	}
	if v, err := s.Version(ctx); err != nil || v != LatestVersion() {
		t.Errorf("Version = %d, %v; want %d", v, err, LatestVersion())
	}
}

func TestMigrateIdempotent(t *testing.T) {
	url := pgtest.NewDatabase(t)
	migratetest.Idempotent(t, "MigrateURL", LatestVersion(),
		func(ctx context.Context) (int, int, error) { return MigrateURL(ctx, url) },
		func(ctx context.Context) (*Store, error) { return Open(ctx, url) },
		checkMigrated)
}

func TestVersionOfNewDatabase(t *testing.T) {
	s, err := open(t.Context(), pgtest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Version(t.Context()); err != nil || v != 0 {
		t.Errorf("Version of a new database = %d, %v; want 0", v, err)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	url := pgtest.NewDatabase(t)
	migratetest.RefusesNewerSchema(t, func(ctx context.Context) (*Store, error) { return Open(ctx, url) },
		func(s *Store) error {
			_, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_the_future')`, LatestVersion()+1)
			return err
		}, ErrSchemaTooNew)
}

// TestMigrateWaitsForTheLock: while another session holds the migration
// lock, Open waits (here until its context ends); once the lock is free it
// migrates.
func TestMigrateWaitsForTheLock(t *testing.T) {
	url := pgtest.NewDatabase(t)
	holder, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	if _, err := holder.Exec(t.Context(), `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if s, err := Open(ctx, url); !errors.Is(err, context.DeadlineExceeded) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open while the migration lock is held: %v, want context.DeadlineExceeded", err)
	}
	if _, err := holder.Exec(t.Context(), `SELECT pg_advisory_unlock($1)`, migrateLockKey); err != nil {
		t.Fatal(err)
	}
	checkMigrated(t, openURL(t, url))
}

// TestEmbeddedMigrations: the embedded set loaded when the package
// initialised, which checks that it parses, starts at 1 and has no holes
// (migrations.MustLoad, tested in its package), and LatestVersion is its
// last version.
func TestEmbeddedMigrations(t *testing.T) {
	if n := len(schema.Files()); n == 0 || LatestVersion() != n {
		t.Fatalf("embedded migrations: %d files, LatestVersion %d", n, LatestVersion())
	}
}

// TestMigrateUpgradesAVersion1Database applies only 0001, writes an
// account, a session and a remembered login the way that schema had them,
// then opens the database with this build: the upgrade keeps them, with
// no install key and no re-auth failures, and the new parts work.
func TestMigrateUpgradesAVersion1Database(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	old, err := open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms := schema.Files()
	if len(ms) < 2 {
		t.Fatalf("migrations: %d, want at least 2", len(ms))
	}
	conn, err := old.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	if err := old.apply(ctx, conn.Conn(), ms[0]); err != nil {
		t.Fatal(err)
	}
	conn.Release()
	for _, q := range []string{
		`INSERT INTO accounts (id, username, password_hash, created_at) VALUES ('acc_1', 'ana', '$argon2id$x', now())`,
		`INSERT INTO sessions (id, account_id, created_at, last_seen_at, auth_time, expires_at, absolute_expires_at, access_hash, access_expires_at)
			VALUES ('ses_1', 'acc_1', now(), now(), now(), now() + interval '1 day', now() + interval '1 day', '\x01', now())`,
		`INSERT INTO remembered_logins (hash, account_id, device_id, created_at, expires_at, auth_time)
			VALUES ('\x02', 'acc_1', 'dev', now(), now() + interval '1 day', now())`,
	} {
		if _, err := old.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s := openURL(t, url)
	checkMigrated(t, s)
	ses, err := s.Session(ctx, "ses_1")
	if err != nil {
		t.Fatalf("session after the upgrade: %v", err)
	}
	if ses.InstallHash != nil || ses.ReauthFailures != 0 {
		t.Errorf("session after the upgrade: InstallHash %x, ReauthFailures %d; want nil, 0", ses.InstallHash, ses.ReauthFailures)
	}
	if n, err := s.FailReauth(ctx, "ses_1"); err != nil || n != 1 {
		t.Errorf("FailReauth on the upgraded database = %d, %v; want 1", n, err)
	}
	if n, err := s.AccountCount(ctx); err != nil || n != 1 {
		t.Errorf("AccountCount on the upgraded database = %d, %v; want 1", n, err)
	}
	rem, err := s.DeleteRemembered(ctx, []byte{2})
	if err != nil || rem.InstallHash != nil {
		t.Errorf("remembered login after the upgrade: InstallHash %x, %v; want nil", rem.InstallHash, err)
	}
	if seq, err := s.AppendOutbox(ctx, time.Now(), []byte("x")); err != nil || seq != 1 {
		t.Errorf("AppendOutbox on the upgraded database = %d, %v; want 1", seq, err)
	}
}
