package app

// Seeding a large account straight into a test server's store, for the
// list benchmarks (lists_bench_test.go) and the large-list tests
// (package app_test, devicelist_test.go): exported here, in a test file,
// for those.

import (
	"context"
	"fmt"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/store/sqlite"
	"sessionguard/server/token"
)

// SeedName is the device name of the i-th seeded session: every tenth is
// a "Kitchen iPad", for searches; the rest "Load device i".
func SeedName(i int) string {
	if i%10 == 0 {
		return fmt.Sprintf("Kitchen iPad %d", i)
	}
	return fmt.Sprintf("Load device %d", i)
}

// SeedIP is the address of the i-th seeded session.
func SeedIP(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }

// SeedSessions adds n live sessions to the account accountID in st, the
// i-th (from 0) last seen i+1 seconds before now, so they list in seeding
// order after the sessions in use. It returns their IDs, in that order.
func SeedSessions(ctx context.Context, st *sqlite.Store, accountID string, n int, now time.Time) ([]string, error) {
	ids := make([]string, n)
	for i := range n {
		s := store.Session{
			ID: token.NewID("ses_"), AccountID: accountID,
			Device: api.Device{ID: fmt.Sprintf("dev_seed_%d", i), Name: SeedName(i),
				Platform: api.PlatformLinux, OS: "Debian 12", Model: "seed", AppVersion: "seed"},
			IP: SeedIP(i), CreatedAt: now.Add(-time.Hour),
			LastSeenAt: now.Add(-time.Duration(i+1) * time.Second), AuthTime: now.Add(-time.Hour),
			ExpiresAt: now.Add(30 * 24 * time.Hour), AbsoluteExpiresAt: now.Add(30 * 24 * time.Hour),
			AccessHash: token.Hash(token.New(token.PrefixAccess)), AccessExpiresAt: now.Add(time.Hour),
		}
		rt := store.RefreshToken{Hash: token.Hash(token.New(token.PrefixRefresh)), SessionID: s.ID,
			IssuedAt: now, ExpiresAt: s.ExpiresAt}
		if err := st.CreateSession(ctx, s, rt); err != nil {
			return nil, fmt.Errorf("seeding session %d: %w", i, err)
		}
		ids[i] = s.ID
	}
	return ids, nil
}

// SeedAudit appends n sign-in events to the account's security log in
// st, 1,000 per call, the oldest first, all before now.
func SeedAudit(ctx context.Context, st *sqlite.Store, accountID string, n int, now time.Time) error {
	const batch = 1000
	events := make([]api.AuditEvent, 0, batch)
	for i := range n {
		events = append(events, api.AuditEvent{ID: token.NewID("evt_"),
			At:   now.Add(-time.Hour).Add(-time.Duration(n-i) * time.Millisecond),
			Type: api.AuditLoginSucceeded, IP: "10.0.0.1", DeviceName: SeedName(i % 64), Detail: "Password"})
		if len(events) == batch || i == n-1 {
			if _, err := st.AppendAudit(ctx, accountID, events...); err != nil {
				return fmt.Errorf("seeding audit events: %w", err)
			}
			events = events[:0]
		}
	}
	return nil
}
