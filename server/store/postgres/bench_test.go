package postgres

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/store/internal/storebench"
	"sessionguard/server/store/postgres/pgtest"
)

// The benchmarks mirror server/store/sqlite's, on a throwaway local
// PostgreSQL (fsync off) reached over loopback TCP: every call is at least
// one network round trip, which SQLite does not pay.

// sessionID is the ID of the account's i-th seeded session.
func sessionID(accountID string, i int) string { return fmt.Sprintf("ses_%s_%06d", accountID, i) }

// accessHash is the access token hash of a seeded session.
func accessHash(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// seedSessions gives the account n live sessions, session i last seen i
// seconds before base, then n/4 revoked ones, each with a refresh token
// and bound to a device key (issue 21), in a few statements rather than a
// transaction per session. It returns the live sessions' access hashes in
// list order.
func seedSessions(tb testing.TB, s *Store, accountID string, n int, base time.Time) [][]byte {
	tb.Helper()
	ctx := tb.Context()
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO sessions (id, account_id, device_id, device_name, device_platform, device_os, device_model, device_app_version,
				ip, loc_city, loc_region, loc_country, loc_country_code,
				created_at, last_seen_at, auth_time, expires_at, absolute_expires_at,
				remember, access_hash, access_expires_at, revoked_at, revoke_reason, jkt)
			SELECT id, $1, 'dev_' || i, 'Pixel 9 Pro', 'android', 'Android 16', 'Pixel 9 Pro', '1.4.2',
				'203.0.113.7', 'Zürich', 'Zurich', 'Switzerland', 'CH',
				$2::timestamptz, $2::timestamptz - i * interval '1 second', $2, $2 + interval '24 hours', $2 + interval '24 hours',
				true, sha256(convert_to(id, 'UTF8')), $2 + interval '15 minutes',
				CASE WHEN i >= $3::int THEN $2::timestamptz END, CASE WHEN i >= $3::int THEN 'logout' ELSE '' END,
				'0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I'
			FROM (SELECT i, format('ses_%s_%s', $1::text, lpad(i::text, 6, '0')) AS id
				FROM generate_series(0, $3::int + $3::int / 4 - 1) AS i) AS g`, []any{accountID, base, n}},
		{`INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at)
			SELECT sha256(convert_to('rt_' || id, 'UTF8')), id, created_at, created_at + interval '1 hour'
			FROM sessions WHERE account_id = $1`, []any{accountID}},
		{`ANALYZE sessions, refresh_tokens`, nil},
	} {
		if _, err := s.pool.Exec(ctx, st.q, st.args...); err != nil {
			tb.Fatalf("seed sessions: %v", err)
		}
	}
	hashes := make([][]byte, n)
	for i := range hashes {
		hashes[i] = accessHash(sessionID(accountID, i))
	}
	return hashes
}

// seedAudit appends n events to the account's log and n more to 1,000
// other accounts', interleaved, chained as the store chains them.
func seedAudit(tb testing.TB, s *Store, accountID string, n int, base time.Time) {
	tb.Helper()
	proto := storebench.AuditEvent()
	accounts, events := make([]string, 2*n), make([]api.AuditEvent, 2*n)
	for i := range events {
		accounts[i] = accountID
		if i%2 == 1 {
			accounts[i] = fmt.Sprint("acc_other_", i%1000)
		}
		e := proto
		e.ID, e.At = fmt.Sprint("evt_", i), base.Add(time.Duration(i)*time.Millisecond)
		events[i] = e
	}
	seedEvents(tb, s, accounts, events)
	if _, err := s.pool.Exec(tb.Context(), `ANALYZE audit_events, audit_heads`); err != nil {
		tb.Fatal(err)
	}
}

// seedEvents appends events[i] to the log of accounts[i] the way the
// store appends (chainAuditTx), so the logs verify, but many at a time:
// seedBatch events a transaction.
func seedEvents(tb testing.TB, s *Store, accounts []string, events []api.AuditEvent) {
	tb.Helper()
	const seedBatch = 20_000
	for i := 0; i < len(events); i += seedBatch {
		j := min(i+seedBatch, len(events))
		if err := pgx.BeginFunc(tb.Context(), s.pool, func(tx pgx.Tx) error {
			_, err := chainAuditTx(tb.Context(), tx, accounts[i:j], events[i:j])
			return err
		}); err != nil {
			tb.Fatalf("seed audit: %v", err)
		}
	}
}

// BenchmarkStore runs storebench's benchmarks, the same as the SQLite
// store's, on a PostgreSQL database seeded here (go test -bench 'Store/…').
func BenchmarkStore(b *testing.B) {
	storebench.Run(b, benchStore, func(b *testing.B, s storebench.Seeded, n int) {
		seedAudit(b, s.Store.(*Store), s.Account.ID, n, time.Now())
	})
}

// benchStore returns a store on a new database holding one account with n
// live sessions (their access hashes in list order), and revoked ones
// besides (storebench.Seed).
func benchStore(b *testing.B, n int) storebench.Seeded {
	b.Helper()
	s := openURL(b, pgtest.NewDatabase(b))
	base := time.Now().Truncate(time.Microsecond)
	acct := store.Account{ID: "acc_bench", Username: "bench", PasswordHash: "x", CreatedAt: base}
	if err := s.CreateAccount(b.Context(), acct); err != nil {
		b.Fatal(err)
	}
	hashes := seedSessions(b, s, acct.ID, n, base)
	warm(b, s)
	return storebench.Seeded{Store: s, Account: acct, Hashes: hashes,
		SessionID: func(i int) string { return sessionID(acct.ID, i) }}
}

// warm opens every connection the pool may have, so that no benchmark
// times connection set-up.
func warm(b *testing.B, s *Store) {
	b.Helper()
	conns := make([]*pgxpool.Conn, s.pool.Config().MaxConns)
	for i := range conns {
		c, err := s.pool.Acquire(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Release()
	}
}
