// Package storebench is the body of the benchmarks both stores run, so
// that their figures measure the same thing: each store seeds a database
// its own fast way (a Seed) and names the benchmarks in its own test
// package, where `go test -bench` finds them, and this package does the
// timing.
package storebench

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// Seeded is a store holding one account with n live sessions, session i
// last seen i seconds before the others were, then n/4 revoked ones, each
// with a refresh token.
type Seeded struct {
	Store   store.Store
	Account store.Account
	// Hashes are the live sessions' access token hashes, in list order.
	Hashes [][]byte
	// SessionID is the ID of the account's i-th seeded session.
	SessionID func(i int) string
}

// Seed returns a new Seeded store with n live sessions, its clean-up
// registered with b.
type Seed func(b *testing.B, n int) Seeded

// SeedAudit appends n events to the account's log and n more to those of
// 1,000 other accounts, interleaved (the store's own fast way).
type SeedAudit func(b *testing.B, s Seeded, n int)

// AuditEvent is the event the benchmarks write, and seed audit logs with.
func AuditEvent() api.AuditEvent {
	return api.AuditEvent{ID: "evt", At: time.Now(), Type: api.AuditLoginSucceeded, IP: "192.0.2.1",
		SessionID: "ses", DeviceName: "Pixel", Detail: "bench"}
}

// SessionByAccessHash looks the sessions of an account with n live ones
// up by access token hash, one after another: the store's share of every
// authenticated request.
func SessionByAccessHash(b *testing.B, seed Seed, n int) {
	each(b, seed(b, n), func(ctx context.Context, s Seeded, i int) error {
		_, err := s.Store.SessionByAccessHash(ctx, s.Hashes[i%len(s.Hashes)])
		return err
	})
}

// each times call after call of f on s, i counting them from 0.
func each(b *testing.B, s Seeded, f func(ctx context.Context, s Seeded, i int) error) {
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := f(ctx, s, i); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// SessionByAccessHashParallel is SessionByAccessHash (1,000 sessions)
// under concurrent requests.
func SessionByAccessHashParallel(b *testing.B, seed Seed) {
	s := seed(b, 1000)
	b.ReportAllocs()
	b.ResetTimer() // RunParallel benchmarks run from the start: leave set-up out
	b.RunParallel(lookUp(b, s))
}

// SessionByAccessHashUnderWrites is SessionByAccessHashParallel while
// another goroutine touches sessions as fast as it can, reported as
// writes/s.
func SessionByAccessHashUnderWrites(b *testing.B, seed Seed) {
	s := seed(b, 1000)
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
			if err := s.Store.TouchSession(ctx, s.SessionID(n%1000), store.Touch{LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				b.Error(err)
				return
			}
			n++
		}
	}()
	b.ReportAllocs()
	b.RunParallel(lookUp(b, s))
	b.StopTimer()
	close(stop)
	b.ReportMetric(float64(<-done)/b.Elapsed().Seconds(), "writes/s")
}

// lookUp is a RunParallel body that looks s's sessions up by access hash.
func lookUp(b *testing.B, s Seeded) func(*testing.PB) {
	ctx := b.Context()
	return func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Store.SessionByAccessHash(ctx, s.Hashes[i%len(s.Hashes)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	}
}

// ListSessions reads one page of 50 of an account's n live sessions (and
// n/4 revoked ones): the first page and one from the middle.
func ListSessions(b *testing.B, seed Seed, n int) {
	s := seed(b, n)
	ctx := b.Context()
	now := time.Now()
	var mid *store.SessionCursor
	for seen := 0; seen < n/2; {
		page, err := s.Store.ListSessions(ctx, s.Account.ID, "", now, mid, 500)
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
				page, err := s.Store.ListSessions(ctx, s.Account.ID, s.SessionID(0), now, bc.cursor, 50)
				if err != nil || len(page) != 50 {
					b.Fatalf("ListSessions: %d, %v", len(page), err)
				}
			}
		})
	}
}

// ListAudit reads one page of 50 of an account's n audit events (among
// 2n, the others spread over 1,000 accounts): the newest and one from the
// middle.
func ListAudit(b *testing.B, seed Seed, seedAudit SeedAudit, n int) {
	s := seed(b, 1)
	ctx := b.Context()
	seedAudit(b, s, n)
	all, err := s.Store.ListAudit(ctx, s.Account.ID, 0, n)
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
				page, err := s.Store.ListAudit(ctx, s.Account.ID, bc.beforeSeq, 50)
				if err != nil || len(page) != 50 {
					b.Fatalf("ListAudit: %d, %v", len(page), err)
				}
			}
		})
	}
}

// AppendAudit is one audit write.
func AppendAudit(b *testing.B, seed Seed) {
	e := AuditEvent()
	each(b, seed(b, 1), func(ctx context.Context, s Seeded, _ int) error {
		_, err := s.Store.AppendAudit(ctx, s.Account.ID, e)
		return err
	})
}

// TouchSession is the once-a-minute write of an authenticated request,
// over 100 sessions.
func TouchSession(b *testing.B, seed Seed) {
	each(b, seed(b, 100), func(ctx context.Context, s Seeded, i int) error {
		now := time.Now()
		return s.Store.TouchSession(ctx, s.SessionID(i%100), store.Touch{LastSeenAt: now, ExpiresAt: now.Add(time.Hour), IP: "192.0.2.1"})
	})
}

// RotateRefreshToken is a token refresh, over 100 sessions.
func RotateRefreshToken(b *testing.B, seed Seed) {
	each(b, seed(b, 100), func(ctx context.Context, s Seeded, i int) error {
		now := time.Now()
		h := sha256.Sum256(fmt.Appendf(nil, "bench rotation %d", i))
		a := sha256.Sum256(fmt.Appendf(nil, "bench access %d", i))
		return s.Store.RotateRefreshToken(ctx, store.Rotation{
			SessionID:  s.SessionID(i % 100),
			New:        store.RefreshToken{Hash: h[:], IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
			AccessHash: a[:], AccessExpiresAt: now.Add(15 * time.Minute), LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour),
		})
	})
}

// searched seeds an account with n live sessions (see Seeded), every
// 100th of them renamed "Kitchen laptop …" so that a search for "kitchen"
// finds one in a hundred, the rest all "Pixel 9 Pro" in Zürich.
func searched(b *testing.B, seed Seed, n int) (Seeded, int) {
	s := seed(b, n)
	ctx := b.Context()
	rare := 0
	for i := 37; i < n; i += 100 {
		name := fmt.Sprintf("Kitchen laptop %d", i)
		if _, err := s.Store.UpdateSession(ctx, s.Account.ID, s.SessionID(i), store.SessionUpdate{Name: &name}, nil); err != nil {
			b.Fatalf("UpdateSession: %v", err)
		}
		rare++
	}
	return s, rare
}

// SearchSessions reads the first page of 50 of a search of an account's n
// live sessions (and n/4 revoked ones): one every session matches (also
// from the middle of the list), one in a hundred matches (the page reads
// half of them), and one none matches (it reads them all).
func SearchSessions(b *testing.B, seed Seed, n int) {
	s, rare := searched(b, seed, n)
	ctx := b.Context()
	now := time.Now()
	all, err := s.Store.ListSessions(ctx, s.Account.ID, "", now, nil, n)
	if err != nil || len(all) != n {
		b.Fatalf("ListSessions: %d, %v", len(all), err)
	}
	mid := &store.SessionCursor{LastSeenAt: all[n/2].LastSeenAt, ID: all[n/2].ID}
	for _, bc := range []struct {
		name, q string
		cursor  *store.SessionCursor
		want    int
	}{
		{"all", "pixel", nil, 50},
		{"all/middle", "PIXEL", mid, 50},
		{"rare", "kitchen", nil, min(50, rare)},
		{"none", "no such device", nil, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.Store.SearchSessions(ctx, s.Account.ID, s.SessionID(0), now, bc.q, bc.cursor, 50)
				if err != nil || len(page) != bc.want {
					b.Fatalf("SearchSessions(%q): %d, %v", bc.q, len(page), err)
				}
			}
		})
	}
}

// CountSessions counts an account's n live sessions (and n/4 revoked
// ones) as the first page of GET /v1/sessions does: all of them, those
// a search matches one in a hundred of, and those it matches none of.
func CountSessions(b *testing.B, seed Seed, n int) {
	s, rare := searched(b, seed, n)
	ctx := b.Context()
	now := time.Now()
	since := now.Add(-time.Hour) // session i was last seen i seconds before the seeding
	for _, bc := range []struct {
		name, q string
		want    int
	}{
		{"all", "", n - 1},
		{"rare", "kitchen", rare},
		{"none", "no such device", 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := s.Store.CountSessions(ctx, s.Account.ID, s.SessionID(0), now, since, bc.q)
				if err != nil || c.Total != bc.want || (bc.q == "" && !c.Current) {
					b.Fatalf("CountSessions(%q): %+v, %v", bc.q, c, err)
				}
			}
		})
	}
}
