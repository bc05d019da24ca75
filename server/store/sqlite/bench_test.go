package sqlite

import (
	"crypto/rand"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

func auditEventForBench() api.AuditEvent {
	return api.AuditEvent{ID: "evt", At: time.Now(), Type: api.AuditLoginSucceeded, IP: "192.0.2.1",
		SessionID: "ses", DeviceName: "Pixel", Detail: "bench"}
}

// benchStore returns a store holding one account with n live sessions
// (their access hashes in list order), and n/4 revoked ones besides, each
// with a refresh token.
func benchStore(b *testing.B, n int) (*Store, store.Account, [][]byte) {
	b.Helper()
	ctx := b.Context()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	base := time.Now().Truncate(time.Microsecond)
	acct := store.Account{ID: "acc_bench", Username: "bench", PasswordHash: "x", CreatedAt: base}
	if err := s.CreateAccount(ctx, acct); err != nil {
		b.Fatal(err)
	}
	// One transaction for all of them: a transaction per session would
	// make the 10,000-session store take seconds to fill.
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	insSession, insRefresh := tx.StmtContext(ctx, s.st.insertSession), tx.StmtContext(ctx, s.st.insertRefresh)
	hashes := make([][]byte, 0, n)
	for i := range n + n/4 {
		h := make([]byte, 32)
		rand.Read(h)
		var revokedAt sql.NullInt64
		reason := ""
		if i >= n {
			revokedAt, reason = sql.NullInt64{Int64: micros(base), Valid: true}, api.ReasonLogout
		} else {
			hashes = append(hashes, h)
		}
		if _, err := insSession.ExecContext(ctx,
			fmt.Sprintf("ses_%06d", i), acct.ID,
			fmt.Sprintf("dev_%d", i), "Pixel 9 Pro", api.PlatformAndroid, "Android 16", "Pixel 9 Pro", "1.4.2",
			"203.0.113.7", "Zürich", "Zurich", "Switzerland", "CH",
			micros(base), micros(base.Add(-time.Duration(i)*time.Second)), micros(base), micros(base.Add(24*time.Hour)), micros(base.Add(24*time.Hour)),
			1, h, micros(base.Add(15*time.Minute)),
			revokedAt, reason, "", ""); err != nil {
			b.Fatal(err)
		}
		rt := make([]byte, 32)
		rand.Read(rt)
		if _, err := insRefresh.ExecContext(ctx, rt, fmt.Sprintf("ses_%06d", i), micros(base), micros(base.Add(time.Hour)), nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return s, acct, hashes
}

// BenchmarkSessionByAccessHash is the store's share of every authenticated
// request.
func BenchmarkSessionByAccessHash(b *testing.B) {
	s, _, hashes := benchStore(b, 1000)
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

// BenchmarkSessionByAccessHash10k is the same for an account with 10,000
// live sessions.
func BenchmarkSessionByAccessHash10k(b *testing.B) {
	s, _, hashes := benchStore(b, 10_000)
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
// goroutine writes as fast as it can: WAL readers never wait for the writer.
func BenchmarkSessionByAccessHashUnderWrites(b *testing.B) {
	s, _, hashes := benchStore(b, 1000)
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
			if err := s.TouchSession(ctx, fmt.Sprintf("ses_%06d", n%1000), store.Touch{LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
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
	s, acct, _ := benchStore(b, 1000)
	ctx := b.Context()
	now := time.Now()
	first, err := s.ListSessions(ctx, acct.ID, "", now, nil, 500)
	if err != nil || len(first) != 500 {
		b.Fatalf("ListSessions: %d, %v", len(first), err)
	}
	mid := &store.SessionCursor{LastSeenAt: first[499].LastSeenAt, ID: first[499].ID}
	for _, bc := range []struct {
		name   string
		cursor *store.SessionCursor
	}{{"first", nil}, {"middle", mid}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListSessions(ctx, acct.ID, "ses_000000", now, bc.cursor, 50)
				if err != nil || len(page) != 50 {
					b.Fatalf("ListSessions: %d, %v", len(page), err)
				}
			}
		})
	}
}

// BenchmarkListSessions10k reads one page of 50 of an account's 10,000
// live sessions (and 2,500 revoked ones): the first page and one from the
// middle.
func BenchmarkListSessions10k(b *testing.B) {
	const n = 10_000
	s, acct, _ := benchStore(b, n)
	ctx := b.Context()
	now := time.Now()
	var mid *store.SessionCursor
	for seen := 0; seen < n/2; {
		page, err := s.ListSessions(ctx, acct.ID, "", now, mid, 500)
		if err != nil || len(page) != 500 {
			b.Fatalf("ListSessions: %d, %v", len(page), err)
		}
		seen += len(page)
		last := page[len(page)-1]
		mid = &store.SessionCursor{LastSeenAt: last.LastSeenAt, ID: last.ID}
	}
	for _, bc := range []struct {
		name   string
		cursor *store.SessionCursor
	}{{"first", nil}, {"middle", mid}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListSessions(ctx, acct.ID, "ses_000000", now, bc.cursor, 50)
				if err != nil || len(page) != 50 {
					b.Fatalf("ListSessions: %d, %v", len(page), err)
				}
			}
		})
	}
}

// BenchmarkListAudit100k reads one page of 50 of an account's 100,000
// audit events (among 200,000, the others spread over 1,000 accounts): the
// newest and one from the middle.
func BenchmarkListAudit100k(b *testing.B) {
	const n = 100_000
	s, acct, _ := benchStore(b, 1)
	ctx := b.Context()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	ins := tx.StmtContext(ctx, s.st.appendAudit)
	e := auditEventForBench()
	for i := range 2 * n {
		accountID := acct.ID
		if i%2 == 1 {
			accountID = fmt.Sprintf("acc_other_%d", i%1000)
		}
		if _, err := ins.ExecContext(ctx, accountID, fmt.Sprintf("evt_%d", i), micros(e.At.Add(time.Duration(i)*time.Millisecond)), e.Type, e.IP,
			"", "", "", "", e.SessionID, e.DeviceName, "", "", e.Detail); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
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

// BenchmarkTouchSession is the once-a-minute write of an authenticated request.
func BenchmarkTouchSession(b *testing.B) {
	s, _, _ := benchStore(b, 100)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := time.Now()
		if err := s.TouchSession(ctx, fmt.Sprintf("ses_%06d", i%100), store.Touch{LastSeenAt: now, ExpiresAt: now.Add(time.Hour), IP: "192.0.2.1"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
