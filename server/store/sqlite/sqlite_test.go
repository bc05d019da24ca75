package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
	"sessionguard/server/store/internal/migratetest"
	"sessionguard/server/store/internal/storebench"
	"sessionguard/server/store/storetest"
)

// openPath opens a Store on the file at path, closed when t ends.
func openPath(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openTemp opens a Store on a new file.
func openTemp(t *testing.T) *Store {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "sessiond.db"))
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// TestContractSharedFile runs the suite on one file shared by every
// subtest, as a long-lived server's database is.
func TestContractSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	storetest.Run(t, func(t *testing.T) store.Store { return openPath(t, path) })
}

// TestPurgeInBatches runs the retention contract with batches of two rows,
// so that every kind of deletion takes several transactions.
func TestPurgeInBatches(t *testing.T) {
	defer func(n int) { purgeBatch = n }(purgeBatch)
	purgeBatch = 2
	storetest.RunPurge(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestPersistence(t *testing.T) {
	storetest.RunPersistence(t, func(t *testing.T, path string) store.Store { return openPath(t, path) },
		filepath.Join(t.TempDir(), "persist.db"))
}

func TestMigrateIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	migratetest.Idempotent(t, "MigrateFile", LatestVersion(),
		func(ctx context.Context) (int, int, error) { return MigrateFile(ctx, path) },
		func(ctx context.Context) (*Store, error) { return Open(ctx, path) },
		func(t *testing.T, s *Store) {
			var n int
			if err := s.write.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != LatestVersion() {
				t.Errorf("schema_migrations has %d rows, want %d", n, LatestVersion())
			}
		})
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	migratetest.RefusesNewerSchema(t, func(ctx context.Context) (*Store, error) { return Open(ctx, path) },
		func(s *Store) error {
			_, err := s.write.ExecContext(t.Context(), `INSERT INTO schema_migrations VALUES (?, 'from_the_future', 0)`, LatestVersion()+1)
			return err
		}, ErrSchemaTooNew)
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

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	pools := []struct {
		name      string
		db        *sql.DB
		conns     int
		queryOnly int64
	}{
		{"write", s.write, 1, 0},
		{"read", s.read, 3, 1}, // several at once, so new ones get opened
	}
	for _, p := range pools {
		var conns []*sql.Conn
		for range p.conns {
			c, err := p.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		want := map[string]any{
			"busy_timeout": BusyTimeout.Milliseconds(),
			"foreign_keys": int64(1),
			"synchronous":  int64(2), // FULL
			"journal_mode": "wal",
			"query_only":   p.queryOnly,
		}
		for i, c := range conns {
			for pragma, w := range want {
				var got any
				if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatalf("%s pool: PRAGMA %s: %v", p.name, pragma, err)
				}
				if got != w {
					t.Errorf("%s pool, connection %d: PRAGMA %s = %v (%T), want %v", p.name, i, pragma, got, got, w)
				}
			}
		}
		for _, c := range conns {
			c.Close()
		}
	}
	// The read pool refuses writes.
	if _, err := s.read.ExecContext(ctx, `DELETE FROM accounts`); err == nil {
		t.Error("read pool accepted a write")
	}
}

// TestWriteTransactionsAreImmediate proves that BeginTx on the write pool
// takes SQLite's write lock at once: another connection cannot begin a
// write while the transaction is open, before it has run any statement.
func TestWriteTransactionsAreImmediate(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	other, err := sql.Open("sqlite", s.path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tryWrite := func() error {
		c, err := other.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, "ROLLBACK")
		return err
	}
	if err := tryWrite(); err != nil {
		t.Fatalf("write lock with no transaction open: %v", err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = tryWrite()
	if !isUnavailable(err) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("write lock while a write transaction is open: %v, want SQLITE_BUSY", err)
	}
	tx.Rollback()
	if err := tryWrite(); err != nil {
		t.Errorf("write lock after rollback: %v", err)
	}
}

// TestQueryPlans checks that the hot queries use their indexes and never
// sort in a temporary B-tree.
func TestQueryPlans(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	cases := []struct {
		name, query string
		args        []any
		index       string
	}{
		{"SessionByAccessHash", `SELECT ` + columns.Session + ` FROM sessions WHERE access_hash = ?`, []any{[]byte{1}}, "sessions_access_hash"},
		{"ListSessions", `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listSessionsWhere +
			` ORDER BY last_seen_at DESC, id DESC LIMIT ?4`, []any{"a", 0, "x", 50}, "sessions_live_by_account"},
		{"ListSessions after", `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listSessionsWhere +
			` AND (last_seen_at, id) < (?4, ?5) ORDER BY last_seen_at DESC, id DESC LIMIT ?6`, []any{"a", 0, "x", 0, "y", 50}, "sessions_live_by_account"},
		// A search filters the account's live sessions in list order; a
		// count reads them all, but only them.
		{"SearchSessions", searchSessionsSQL, []any{"a", 0, "x", 50, "%k%"}, "sessions_live_by_account"},
		{"SearchSessions after", searchSessionsAfterSQL, []any{"a", 0, "x", 0, "y", 50, "%k%"}, "sessions_live_by_account"},
		{"CountSessions", countSessionsSQL(""), []any{"a", 0, "x", 0}, "sessions_live_by_account"},
		{"CountSessions matching", countSessionsSQL(matchWhere("?5")), []any{"a", 0, "x", 0, "%k%"}, "sessions_live_by_account"},
		{"RevokeOtherSessions", `UPDATE sessions SET revoked_at = 1 WHERE account_id = ? AND id <> ? AND revoked_at IS NULL`, []any{"a", "b"}, "sessions_live_by_account"},
		{"ListAudit", `SELECT ` + columns.Audit + ` FROM audit_events WHERE account_id = ? AND account_seq < ? ORDER BY account_seq DESC LIMIT ?`, []any{"a", 10, 50}, "audit_events_chain"},
		{"AuditSince", `SELECT ` + columns.Audit + ` FROM audit_events WHERE account_id = ? AND account_seq > ? ORDER BY account_seq LIMIT ?`, []any{"a", 10, 50}, "audit_events_chain"},
		{"RotateTokens", `UPDATE refresh_tokens SET rotated_at = 1 WHERE session_id = ? AND rotated_at IS NULL`, []any{"a"}, "refresh_tokens_live"},
		{"DeleteRememberedForDevice", `DELETE FROM remembered_logins WHERE account_id = ? AND device_id = ?`, []any{"a", "b"}, "remembered_logins_account_device"},
		{"SweepMFATokens", `DELETE FROM mfa_tokens WHERE account_id = ? AND expires_at <= ?`, []any{"a", 0}, "mfa_tokens_account"},
		{"UseRecoveryCode", `DELETE FROM recovery_codes WHERE account_id = ? AND hash = ?`, []any{"a", []byte{1}}, "PRIMARY KEY"},
		{"MFAToken", `SELECT ` + columns.MFAToken + ` FROM mfa_tokens WHERE hash = ? AND expires_at > ?`, []any{[]byte{1}, 0}, "PRIMARY KEY"},
		{"KnownInstall", `SELECT count(*) FROM known_installs WHERE account_id = ? AND install_hash = ?`, []any{"a", []byte{1}}, "PRIMARY KEY"},
		{"ReadOutbox", `SELECT ` + columns.Outbox + ` FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?`, []any{0, 10}, "INTEGER PRIMARY KEY"},
		{"ListEndedSessions", `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listEndedWhere +
			` ORDER BY revoked_at DESC, id DESC LIMIT ?3`, []any{"a", 0, 50}, "sessions_ended_by_account"},
		{"ListEndedSessions after", `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listEndedWhere +
			` AND (revoked_at, id) < (?3, ?4) ORDER BY revoked_at DESC, id DESC LIMIT ?5`, []any{"a", 0, 5, "y", 50}, "sessions_ended_by_account"},
		{"ConfirmClosure's session", `SELECT ` + columns.Session + ` FROM sessions
			WHERE id = (SELECT session_id FROM closure_tokens WHERE hash = ?)`, []any{[]byte{1}}, "sqlite_autoindex_closure_tokens_1"},
		{"ConfirmClosure's spent tokens", `DELETE FROM closure_tokens WHERE session_id = ?`, []any{"a"}, "closure_tokens_session"},
		{"IssueClosureToken's trim", `DELETE FROM closure_tokens WHERE session_id = ?1 AND seq NOT IN (
			SELECT seq FROM closure_tokens WHERE session_id = ?1 ORDER BY seq DESC LIMIT ?2)`, []any{"a", 8}, "closure_tokens_session"},
		// The inactivity sweeper reads the due sessions alone; ending one
		// session, or one account's, reads only it.
		{"EndIdleSessions", `SELECT id FROM sessions WHERE ` + idleDue + ` ORDER BY idle_deadline LIMIT ?2`,
			[]any{0, 100}, "sessions_idle_due"},
		{"EndIdleSessions of a session", `SELECT id FROM sessions WHERE id = ?2 AND (?3 = '' OR account_id = ?3) AND ` + idleDue,
			[]any{0, "a", "b"}, "sqlite_autoindex_sessions_1"},
		{"EndIdleSessions of an account", `SELECT id FROM sessions WHERE account_id = ?2 AND ` + idleDue + ` LIMIT ?3`,
			[]any{0, "a", 100}, "sessions_"},
		{"SetSettings' copy", `UPDATE sessions SET account_idle_timeout_s = ?1
			WHERE account_id = ?2 AND revoked_at IS NULL AND account_idle_timeout_s <> ?1`, []any{0, "a"}, "sessions_live_by_account"},
		// Purge: every batch is a range of an index on the time it
		// compares, so a batch reads about as many rows as it deletes.
		{"Purge ended sessions' tokens", purgeEndedTokensSQL, []any{0, 10}, "sessions_ended"},
		{"Purge ended sessions' tokens, by session", purgeEndedTokensSQL, []any{0, 10}, "refresh_tokens_session"},
		{"Purge ended sessions", purgeEndedSessionsSQL, []any{0, 10}, "sessions_ended"},
		{"Purge rotated tokens", purgeRotatedSQL, []any{0, 10}, "refresh_tokens_rotated"},
		{"Purge remembered logins", purgeRememberedSQL, []any{0, 10}, "remembered_logins_expires"},
		{"Purge MFA tokens", purgeMFATokensSQL, []any{0, 10}, "mfa_tokens_expires"},
		{"Purge known installs", purgeInstallsSQL, []any{0, 10}, "known_installs_last_used"},
		{"Purge outbox", purgeOutboxSQL, []any{0, 10}, "outbox_at"},
	}
	for _, tc := range cases {
		rows, err := s.write.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, tc.index) || strings.Contains(p, "TEMP B-TREE") || scansTable(plan) {
			t.Errorf("%s: plan %q, want a search on %s, no sort and no table scan", tc.name, p, tc.index)
		}
	}
}

// scansTable reports whether a query plan reads a whole table of the
// schema (a SCAN of a subquery's result is fine).
func scansTable(plan []string) bool {
	for _, step := range plan {
		name, ok := strings.CutPrefix(step, "SCAN ")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		switch name {
		case "accounts", "sessions", "refresh_tokens", "remembered_logins", "audit_events",
			"recovery_codes", "mfa_tokens", "known_installs", "outbox", "closure_tokens":
			return true
		}
	}
	return false
}

func TestOpenUnavailable(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	cases := map[string]string{
		"missing directory": filepath.Join(dir, "no", "such", "dir", "x.db"),
		"a directory":       dir,
	}
	notADB := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(notADB, []byte(strings.Repeat("not a database ", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases["not a database"] = notADB
	for name, path := range cases {
		s, err := Open(ctx, path)
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) succeeded", name)
			continue
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Open(%s) = %v, want ErrUnavailable", name, err)
		}
	}
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := Open(ctx, path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// TestCloseWhileBusy closes the store under running requests: each fails
// or succeeds, none hangs or panics.
func TestCloseWhileBusy(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 8)
	for i := range 8 {
		go func() {
			for {
				var err error
				if i%2 == 0 {
					_, err = s.Account(ctx, "nobody")
				} else {
					_, err = s.AppendAudit(ctx, "acc", storebench.AuditEvent())
				}
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					done <- err
					return
				}
			}
		}()
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range 8 {
		if err := <-done; !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("request after Close: %v, want ErrUnavailable", err)
		}
	}
}

// TestMigrateUpgradesAVersion1Database applies only 0001, writes an account
// and a session the way that schema had them, then opens the file with this
// build: the upgrade keeps both, with two-step verification off.
func TestMigrateUpgradesAVersion1Database(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v1.db")
	old, err := open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms := schema.Files()
	if len(ms) < 2 {
		t.Fatalf("migrations: %d, want at least 2", len(ms))
	}
	if _, err := old.write.ExecContext(ctx, createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	if err := old.apply(ctx, ms[0]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO accounts (id, username, password_hash, created_at, mfa_enabled) VALUES ('acc_1', 'ana', '$argon2id$x', 1, 0)`,
		`INSERT INTO sessions (id, account_id, created_at, last_seen_at, auth_time, expires_at, absolute_expires_at, access_hash, access_expires_at)
			VALUES ('ses_1', 'acc_1', 1, 1, 1, 9999999999999999, 9999999999999999, x'01', 2)`,
	} {
		if _, err := old.write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := old.Version(ctx); err != nil || v != 1 {
		t.Fatalf("version before the upgrade = %d, %v", v, err)
	}
	old.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open on a version 1 database: %v", err)
	}
	defer s.Close()
	if v, err := s.Version(ctx); err != nil || v != LatestVersion() {
		t.Fatalf("version after the upgrade = %d, %v; want %d", v, err, LatestVersion())
	}
	a, err := s.AccountByUsername(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "acc_1" || a.PasswordHash != "$argon2id$x" || a.MFAEnabled || a.TOTPSecret != "" || a.TOTPPendingSecret != "" {
		t.Fatalf("account after the upgrade = %+v", a)
	}
	ses, err := s.Session(ctx, "ses_1")
	if err != nil {
		t.Fatalf("session after the upgrade: %v", err)
	}
	if ses.InstallHash != nil || ses.ReauthFailures != 0 {
		t.Errorf("session after the upgrade: InstallHash %x, ReauthFailures %d; want nil, 0", ses.InstallHash, ses.ReauthFailures)
	}
	// The new parts work on the upgraded file.
	if used, err := s.UseTOTPStep(ctx, "acc_1", 5); err != nil || !used {
		t.Fatalf("UseTOTPStep on the upgraded file = %v, %v", used, err)
	}
	if n, err := s.FailReauth(ctx, "ses_1"); err != nil || n != 1 {
		t.Errorf("FailReauth on the upgraded file = %d, %v; want 1", n, err)
	}
	if seq, err := s.AppendOutbox(ctx, time.Now(), []byte("x")); err != nil || seq != 1 {
		t.Errorf("AppendOutbox on the upgraded file = %d, %v; want 1", seq, err)
	}
}

// TestSynchronous: FULL by default, so that a commit is on disk before it
// is acknowledged; NORMAL when asked for; anything else refused before the
// file is touched.
func TestSynchronous(t *testing.T) {
	cases := []struct {
		name string
		o    Options
		want int64 // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{
		{"default", Options{}, 2},
		{"FULL", Options{Synchronous: "FULL"}, 2},
		{"NORMAL", Options{Synchronous: "NORMAL"}, 1},
		{"normal, lower case", Options{Synchronous: "normal"}, 1},
	}
	for _, tc := range cases {
		s, err := OpenWith(t.Context(), filepath.Join(t.TempDir(), "sync.db"), tc.o)
		if err != nil {
			t.Fatalf("%s: OpenWith: %v", tc.name, err)
		}
		for name, db := range map[string]*sql.DB{"write": s.write, "read": s.read} {
			var got int64
			if err := db.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s: PRAGMA synchronous on the %s pool = %d, want %d", tc.name, name, got, tc.want)
			}
		}
		s.Close()
	}
	for _, bad := range []string{"OFF", "EXTRA", "0", "full please"} {
		path := filepath.Join(t.TempDir(), "bad.db")
		if s, err := OpenWith(t.Context(), path, Options{Synchronous: bad}); err == nil {
			s.Close()
			t.Errorf("OpenWith(synchronous %q) succeeded", bad)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("OpenWith(synchronous %q) left a file: %v", bad, err)
		}
	}
}
