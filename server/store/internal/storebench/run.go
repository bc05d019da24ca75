package storebench

import "testing"

// Run runs every store benchmark as a sub-benchmark of b, so each store's
// test package has one BenchmarkStore and the two measure the same list:
// `go test -bench 'Store/ListSessions10k'` picks one, `-bench Store` all.
func Run(b *testing.B, seed Seed, seedAudit SeedAudit) {
	for _, bm := range []struct {
		name string
		run  func(b *testing.B)
	}{
		// The store's share of every authenticated request, for an account
		// with 1,000 and with 10,000 live sessions, under concurrent
		// requests, and while another goroutine writes as fast as it can.
		{"SessionByAccessHash", func(b *testing.B) { SessionByAccessHash(b, seed, 1000) }},
		{"SessionByAccessHash10k", func(b *testing.B) { SessionByAccessHash(b, seed, 10_000) }},
		{"SessionByAccessHashParallel", func(b *testing.B) { SessionByAccessHashParallel(b, seed) }},
		{"SessionByAccessHashUnderWrites", func(b *testing.B) { SessionByAccessHashUnderWrites(b, seed) }},
		// One page of 50 of an account's 1,000 and 10,000 live sessions (and
		// a quarter as many revoked): the first page and one from the middle.
		{"ListSessions", func(b *testing.B) { ListSessions(b, seed, 1000) }},
		{"ListSessions10k", func(b *testing.B) { ListSessions(b, seed, 10_000) }},
		// A search of an account's 10,000 live sessions (first page of
		// 50), and the counts of the first page of GET /v1/sessions.
		{"SearchSessions10k", func(b *testing.B) { SearchSessions(b, seed, 10_000) }},
		{"CountSessions10k", func(b *testing.B) { CountSessions(b, seed, 10_000) }},
		// One page of 50 of an account's 100,000 audit events (among
		// 200,000): the newest and one from the middle.
		{"ListAudit100k", func(b *testing.B) { ListAudit(b, seed, seedAudit, 100_000) }},
		// Writes: one audit event, the once-a-minute touch of an
		// authenticated request, and a token refresh.
		{"AppendAudit", func(b *testing.B) { AppendAudit(b, seed) }},
		{"TouchSession", func(b *testing.B) { TouchSession(b, seed) }},
		{"RotateRefreshToken", func(b *testing.B) { RotateRefreshToken(b, seed) }},
	} {
		b.Run(bm.name, bm.run)
	}
}
