package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/server/store/storetest"
)

// dpopMigration is the version of the migration that adds device-bound
// sessions (issue 21).
const dpopMigration = 9

// TestMigrateUpgradesAVersion8Database applies the migrations before
// device-bound sessions, writes an account, a session and a chained audit
// event the way that schema had them, then opens the file with this
// build: the session is kept, unbound (JKT ""), and works as before; the
// first refusal without a key is marked once and its event chained after
// the old one; a bound session can be created beside it.
func TestMigrateUpgradesAVersion8Database(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v8.db")
	old, err := open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms := schema.Files()
	if len(ms) < dpopMigration || !strings.Contains(ms[dpopMigration-1].Name, "dpop") {
		t.Fatalf("migration %d is not the DPoP one: %v", dpopMigration, ms)
	}
	if _, err := old.write.ExecContext(ctx, createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:dpopMigration-1] {
		if err := old.apply(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := old.Version(ctx); err != nil || v != dpopMigration-1 {
		t.Fatalf("version before the upgrade = %d, %v", v, err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	login := auditchain.Link(nil, api.AuditEvent{ID: "evt_1", At: now.Add(-time.Hour), Type: api.AuditLoginSucceeded,
		IP: "192.0.2.1", SessionID: "ses_1", DeviceName: "Laptop"})
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO accounts (id, username, password_hash, created_at) VALUES ('acc_1', 'ana', '$argon2id$x', 1)`, nil},
		{`INSERT INTO sessions (id, account_id, device_id, device_name, created_at, last_seen_at, auth_time, expires_at,
				absolute_expires_at, access_hash, access_expires_at, install_hash)
			VALUES ('ses_1', 'acc_1', 'dev_1', 'Laptop', ?1, ?1, ?1, ?2, ?2, x'01', ?2, x'02')`,
			[]any{micros(now.Add(-time.Hour)), micros(now.Add(24 * time.Hour))}},
		{`INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at) VALUES (x'03', 'ses_1', ?1, ?2)`,
			[]any{micros(now.Add(-time.Hour)), micros(now.Add(24 * time.Hour))}},
		{`INSERT INTO audit_events (account_id, id, at, type, ip,
				loc_city, loc_region, loc_country, loc_country_code,
				session_id, device_name, target_session_id, target_device_name, detail,
				account_seq, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, auditArgs("acc_1", login)},
		{`INSERT INTO audit_heads (account_id, seq, hash, at) VALUES ('acc_1', ?, ?, ?)`,
			[]any{login.Seq, login.Hash, micros(login.At)}},
	} {
		if _, err := old.write.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s := openPath(t, path)
	if v, err := s.Version(ctx); err != nil || v != LatestVersion() {
		t.Fatalf("version after the upgrade = %d, %v; want %d", v, err, LatestVersion())
	}
	storetest.UpgradedToBound(t, s, login, now)
}
