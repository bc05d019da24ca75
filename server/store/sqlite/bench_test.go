package sqlite

import (
	"crypto/rand"
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
// (their access hashes in the same order), and revoked ones besides.
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
	hashes := make([][]byte, 0, n)
	for i := range n + n/4 {
		h := make([]byte, 32)
		rand.Read(h)
		ses := store.Session{
			ID: fmt.Sprintf("ses_%06d", i), AccountID: acct.ID,
			Device:    api.Device{ID: fmt.Sprintf("dev_%d", i), Name: "Pixel 9 Pro", Platform: api.PlatformAndroid, OS: "Android 16", Model: "Pixel 9 Pro", AppVersion: "1.4.2"},
			IP:        "203.0.113.7",
			Location:  api.Location{City: "Zürich", Region: "Zurich", Country: "Switzerland", CountryCode: "CH"},
			CreatedAt: base, LastSeenAt: base.Add(-time.Duration(i) * time.Second), AuthTime: base,
			ExpiresAt: base.Add(24 * time.Hour), AbsoluteExpiresAt: base.Add(24 * time.Hour),
			Remember: true, AccessHash: h, AccessExpiresAt: base.Add(15 * time.Minute),
		}
		rt := store.RefreshToken{Hash: make([]byte, 32), IssuedAt: base, ExpiresAt: base.Add(time.Hour)}
		rand.Read(rt.Hash)
		if err := s.CreateSession(ctx, ses, rt); err != nil {
			b.Fatal(err)
		}
		if i >= n {
			if _, err := s.RevokeSession(ctx, acct.ID, ses.ID, store.Revocation{At: base, Reason: api.ReasonLogout}); err != nil {
				b.Fatal(err)
			}
			continue
		}
		hashes = append(hashes, h)
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

// BenchmarkSessionByAccessHashParallel is the same under concurrent
// requests.
func BenchmarkSessionByAccessHashParallel(b *testing.B) {
	s, _, hashes := benchStore(b, 1000)
	ctx := b.Context()
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
}

// BenchmarkSessionByAccessHashUnderWrites looks sessions up while another
// goroutine writes as fast as it can: WAL readers never wait for the writer.
func BenchmarkSessionByAccessHashUnderWrites(b *testing.B) {
	s, _, hashes := benchStore(b, 1000)
	ctx := b.Context()
	stop := make(chan struct{})
	done := make(chan int)
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
