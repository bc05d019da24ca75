package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
	"sessionguard/server/store/postgres/pgtest"
	"sessionguard/server/store/storetest"
)

// dpopMigration is the version of the migration that adds device-bound
// sessions (issue 21).
const dpopMigration = 8

// TestMigrateUpgradesAVersion7Database applies the migrations before
// device-bound sessions, writes an account, a session and a chained audit
// event the way that schema had them, then opens the database with this
// build: the session is kept, unbound (JKT ""), and works as before; the
// first refusal without a key is marked once and its event chained after
// the old one; a bound session can be created beside it.
func TestMigrateUpgradesAVersion7Database(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	old, err := open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms := schema.Files()
	if len(ms) < dpopMigration || !strings.Contains(ms[dpopMigration-1].Name, "dpop") {
		t.Fatalf("migration %d is not the DPoP one: %v", dpopMigration, ms)
	}
	conn, err := old.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:dpopMigration-1] {
		if err := old.apply(ctx, conn.Conn(), m); err != nil {
			t.Fatal(err)
		}
	}
	conn.Release()
	if v, err := old.Version(ctx); err != nil || v != dpopMigration-1 {
		t.Fatalf("version before the upgrade = %d, %v", v, err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, q := range []string{
		`INSERT INTO accounts (id, username, password_hash, created_at) VALUES ('acc_1', 'ana', '$argon2id$x', now())`,
		`INSERT INTO sessions (id, account_id, device_id, device_name, created_at, last_seen_at, auth_time, expires_at,
				absolute_expires_at, access_hash, access_expires_at, install_hash)
			VALUES ('ses_1', 'acc_1', 'dev_1', 'Laptop', now() - interval '1 hour', now() - interval '1 hour',
				now() - interval '1 hour', now() + interval '1 day', now() + interval '1 day', '\x01', now(), '\x02')`,
		`INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at) VALUES ('\x03', 'ses_1', now(), now() + interval '1 day')`,
	} {
		if _, err := old.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// The old schema's audit log, written as that build wrote it.
	login := api.AuditEvent{ID: "evt_1", At: now.Add(-time.Hour), Type: api.AuditLoginSucceeded, IP: "192.0.2.1",
		SessionID: "ses_1", DeviceName: "Laptop"}
	if err := pgx.BeginFunc(ctx, old.pool, func(tx pgx.Tx) error { return appendAuditTx(ctx, tx, "acc_1", login) }); err != nil {
		t.Fatal(err)
	}
	login = auditchain.Link(nil, login)
	old.Close()

	s := openURL(t, url)
	checkMigrated(t, s)
	storetest.UpgradedToBound(t, s, login, now)
}

// TestMarkDPoPRefusedAcrossReplicas races marks of one session from
// separate Stores (replicas, each with its own pool) on one database:
// exactly one reports first, whichever replica it ran on, and the log
// holds one event.
func TestMarkDPoPRefusedAcrossReplicas(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	const n = 10
	var stores [n]*Store
	for i := range stores {
		stores[i] = openURL(t, url)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := stores[0].CreateAccount(ctx, store.Account{ID: "acc_1", Username: "ana", PasswordHash: "x", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		id := "ses_" + string(rune('a'+round))
		ses := store.Session{ID: id, AccountID: "acc_1", CreatedAt: now, LastSeenAt: now, AuthTime: now,
			ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour), AccessHash: []byte(id),
			AccessExpiresAt: now.Add(time.Minute), JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
		if err := stores[0].CreateSession(ctx, ses, store.RefreshToken{Hash: []byte("rt" + id), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var (
			firsts [n]bool
			errs   [n]error
		)
		barrier.Run(n, func(i int) {
			firsts[i], errs[i] = stores[i].MarkDPoPRefused(ctx, id, api.AuditEvent{ID: "evt", At: now, Type: api.AuditDPoPRefused,
				SessionID: id, TargetSessionID: id})
		})
		won := 0
		for i := range firsts {
			if errs[i] != nil {
				t.Errorf("round %d, replica %d: %v", round, i, errs[i])
			}
			if firsts[i] {
				won++
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d replicas marked the session first, want 1", round, won)
		}
	}
	events, err := stores[0].AuditSince(ctx, "acc_1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 {
		t.Errorf("%d events after 5 rounds, want 5 (one per session)", len(events))
	}
	v := auditchain.NewVerifier("acc_1")
	for _, e := range events {
		if err := v.Add(e); err != nil {
			t.Error(err)
		}
	}
}
