package postgres

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/store/postgres/pgtest"
)

// The benchmarks mirror server/store/sqlite's, on a throwaway local
// PostgreSQL (fsync off) reached over loopback TCP: every call is at least
// one network round trip, which SQLite does not pay.

func auditEventForBench() api.AuditEvent {
	return api.AuditEvent{ID: "evt", At: time.Now(), Type: api.AuditLoginSucceeded, IP: "192.0.2.1",
		SessionID: "ses", DeviceName: "Pixel", Detail: "bench"}
}

// sessionID is the ID of the account's i-th seeded session.
func sessionID(accountID string, i int) string { return fmt.Sprintf("ses_%s_%06d", accountID, i) }

// accessHash is the access token hash of a seeded session.
func accessHash(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// seedSessions gives the account n live sessions, session i last seen i
// seconds before base, then n/4 revoked ones, each with a refresh token,
// in a few statements rather than a transaction per session. It returns
// the live sessions' access hashes in list order.
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
				remember, access_hash, access_expires_at, revoked_at, revoke_reason)
			SELECT id, $1, 'dev_' || i, 'Pixel 9 Pro', 'android', 'Android 16', 'Pixel 9 Pro', '1.4.2',
				'203.0.113.7', 'Zürich', 'Zurich', 'Switzerland', 'CH',
				$2::timestamptz, $2::timestamptz - i * interval '1 second', $2, $2 + interval '24 hours', $2 + interval '24 hours',
				true, sha256(convert_to(id, 'UTF8')), $2 + interval '15 minutes',
				CASE WHEN i >= $3::int THEN $2::timestamptz END, CASE WHEN i >= $3::int THEN 'logout' ELSE '' END
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
// other accounts', interleaved, in one statement.
func seedAudit(tb testing.TB, s *Store, accountID string, n int, base time.Time) {
	tb.Helper()
	ctx := tb.Context()
	e := auditEventForBench()
	if _, err := s.pool.Exec(ctx, `INSERT INTO audit_events (account_id, id, at, type, ip, session_id, device_name, detail)
		SELECT CASE WHEN i % 2 = 0 THEN $1 ELSE 'acc_other_' || (i % 1000) END,
			'evt_' || i, $2::timestamptz + i * interval '1 millisecond', $3, $4, $5, $6, $7
		FROM generate_series(0, 2 * $8 - 1) AS i`,
		accountID, base, e.Type, e.IP, e.SessionID, e.DeviceName, e.Detail, n); err != nil {
		tb.Fatalf("seed audit: %v", err)
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE audit_events`); err != nil {
		tb.Fatal(err)
	}
}

// benchStore returns a store on a new database holding one account with n
// live sessions (their access hashes in list order), and revoked ones
// besides.
func benchStore(b *testing.B, n int) (*Store, store.Account, [][]byte) {
	b.Helper()
	s := openURL(b, pgtest.NewDatabase(b))
	base := time.Now().Truncate(time.Microsecond)
	acct := store.Account{ID: "acc_bench", Username: "bench", PasswordHash: "x", CreatedAt: base}
	if err := s.CreateAccount(b.Context(), acct); err != nil {
		b.Fatal(err)
	}
	hashes := seedSessions(b, s, acct.ID, n, base)
	warm(b, s)
	return s, acct, hashes
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

// BenchmarkSessionByAccessHash is the store's share of every authenticated
// request.
func BenchmarkSessionByAccessHash(b *testing.B) {
	s, _, hashes := benchStore(b, 1000)
	benchSessionByAccessHash(b, s, hashes)
}

// BenchmarkSessionByAccessHash10k is the same for an account with 10,000
// live sessions.
func BenchmarkSessionByAccessHash10k(b *testing.B) {
	s, _, hashes := benchStore(b, 10_000)
	benchSessionByAccessHash(b, s, hashes)
}

func benchSessionByAccessHash(b *testing.B, s *Store, hashes [][]byte) {
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.SessionByAccessHash(ctx, hashes[i%len(hashes)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSessionByAccessHashParallel is the same under concurrent
// requests.
func BenchmarkSessionByAccessHashParallel(b *testing.B) {
	s, _, hashes := benchStore(b, 1000)
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer() // RunParallel benchmarks run from the start: leave set-up out
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.SessionByAccessHash(ctx, hashes[i%len(hashes)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkSessionByAccessHashUnderWrites looks sessions up while another
// goroutine writes as fast as it can.
func BenchmarkSessionByAccessHashUnderWrites(b *testing.B) {
	s, acct, hashes := benchStore(b, 1000)
	ctx := b.Context()
	stop := make(chan struct{})
	done := make(chan int)
	b.ResetTimer() // RunParallel benchmarks run from the start: leave set-up out
	go func() {
		n := 0
		defer func() { done <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			now := time.Now()
			if err := s.TouchSession(ctx, sessionID(acct.ID, n%1000), store.Touch{LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				b.Error(err)
				return
			}
			n++
		}
	}()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.SessionByAccessHash(ctx, hashes[i%len(hashes)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.StopTimer()
	close(stop)
	b.ReportMetric(float64(<-done)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkListSessions reads one page of 50 of an account's 1,000 live
// sessions (and 250 revoked ones): the first page and one from the middle.
func BenchmarkListSessions(b *testing.B) {
	benchListSessions(b, 1000)
}

// BenchmarkListSessions10k reads one page of 50 of an account's 10,000
// live sessions (and 2,500 revoked ones): the first page and one from the
// middle.
func BenchmarkListSessions10k(b *testing.B) {
	benchListSessions(b, 10_000)
}

func benchListSessions(b *testing.B, n int) {
	s, acct, _ := benchStore(b, n)
	ctx := b.Context()
	now := time.Now()
	var mid *store.SessionCursor
	var cursor *store.SessionCursor
	for seen := 0; seen < n/2; {
		page, err := s.ListSessions(ctx, acct.ID, "", now, cursor, 500)
		if err != nil || len(page) != 500 {
			b.Fatalf("ListSessions: %d, %v", len(page), err)
		}
		seen += len(page)
		last := page[len(page)-1]
		cursor = &store.SessionCursor{LastSeenAt: last.LastSeenAt, ID: last.ID}
		mid = cursor
	}
	for _, bc := range []struct {
		name   string
		cursor *store.SessionCursor
	}{{"first", nil}, {"middle", mid}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListSessions(ctx, acct.ID, sessionID(acct.ID, 0), now, bc.cursor, 50)
				if err != nil || len(page) != 50 {
					b.Fatalf("ListSessions: %d, %v", len(page), err)
				}
			}
		})
	}
}

// BenchmarkListAudit100k reads one page of 50 of an account's 100,000
// audit events (among 200,000): the newest and one from the middle.
func BenchmarkListAudit100k(b *testing.B) {
	s, acct, _ := benchStore(b, 1)
	ctx := b.Context()
	const n = 100_000
	seedAudit(b, s, acct.ID, n, time.Now())
	all, err := s.ListAudit(ctx, acct.ID, 0, n)
	if err != nil || len(all) != n {
		b.Fatalf("ListAudit: %d, %v", len(all), err)
	}
	for _, bc := range []struct {
		name      string
		beforeSeq int64
	}{{"newest", 0}, {"middle", all[n/2].Seq}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListAudit(ctx, acct.ID, bc.beforeSeq, 50)
				if err != nil || len(page) != 50 {
					b.Fatalf("ListAudit: %d, %v", len(page), err)
				}
			}
		})
	}
}

// BenchmarkAppendAudit is one audit write.
func BenchmarkAppendAudit(b *testing.B) {
	s, acct, _ := benchStore(b, 1)
	ctx := b.Context()
	e := auditEventForBench()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AppendAudit(ctx, acct.ID, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTouchSession is the once-a-minute write of an authenticated request.
func BenchmarkTouchSession(b *testing.B) {
	s, acct, _ := benchStore(b, 100)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := time.Now()
		if err := s.TouchSession(ctx, sessionID(acct.ID, i%100), store.Touch{LastSeenAt: now, ExpiresAt: now.Add(time.Hour), IP: "192.0.2.1"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRotateRefreshToken is a token refresh: a four-statement
// transaction holding the session's row lock.
func BenchmarkRotateRefreshToken(b *testing.B) {
	s, acct, _ := benchStore(b, 100)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := time.Now()
		h := sha256.Sum256(fmt.Appendf(nil, "bench rotation %d", i))
		a := sha256.Sum256(fmt.Appendf(nil, "bench access %d", i))
		if err := s.RotateRefreshToken(ctx, store.Rotation{
			SessionID:  sessionID(acct.ID, i%100),
			New:        store.RefreshToken{Hash: h[:], IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
			AccessHash: a[:], AccessExpiresAt: now.Add(15 * time.Minute), LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour),
		}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
