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
	"sessionguard/server/store/internal/storebench"
)

// BenchmarkStore runs storebench's benchmarks, the same as the PostgreSQL
// store's, on SQLite files seeded here (go test -bench 'Store/…').
func BenchmarkStore(b *testing.B) { storebench.Run(b, benchStore, seedAudit) }

// benchStore returns a store holding one account with n live sessions
// (their access hashes in list order), and n/4 revoked ones besides, each
// with a refresh token and bound to a device key (benchJKT).
func benchStore(b *testing.B, n int) storebench.Seeded {
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
			benchSessionID(i), acct.ID,
			fmt.Sprintf("dev_%d", i), "Pixel 9 Pro", api.PlatformAndroid, "Android 16", "Pixel 9 Pro", "1.4.2",
			"203.0.113.7", "Zürich", "Zurich", "Switzerland", "CH",
			micros(base), micros(base.Add(-time.Duration(i)*time.Second)), micros(base), micros(base.Add(24*time.Hour)), micros(base.Add(24*time.Hour)),
			1, h, micros(base.Add(15*time.Minute)), nil, 0,
			revokedAt, reason, "", "", 0, nil, 0, 0, 0, benchJKT); err != nil {
			b.Fatal(err)
		}
		rt := make([]byte, 32)
		rand.Read(rt)
		if _, err := insRefresh.ExecContext(ctx, rt, benchSessionID(i), micros(base), micros(base.Add(time.Hour)), nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return storebench.Seeded{Store: s, Account: acct, Hashes: hashes, SessionID: benchSessionID}
}

// benchJKT is the key thumbprint every seeded session is bound to (issue
// 21): a read of a session reads it too, as for a bound client.
const benchJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

// benchSessionID is the ID of the i-th seeded session.
func benchSessionID(i int) string { return fmt.Sprintf("ses_%06d", i) }

// seedAudit appends the audit events of storebench.ListAudit in one
// transaction.
func seedAudit(b *testing.B, seeded storebench.Seeded, n int) {
	s, ctx := seeded.Store.(*Store), b.Context()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	// Chained per account, in one call each: the events interleave with
	// other accounts' as in storebench.ListAudit's description.
	e := storebench.AuditEvent()
	logs := map[string][]api.AuditEvent{}
	for i := range 2 * n {
		accountID := seeded.Account.ID
		if i%2 == 1 {
			accountID = fmt.Sprintf("acc_other_%d", i%1000)
		}
		ev := e
		ev.ID, ev.At = fmt.Sprintf("evt_%d", i), e.At.Add(time.Duration(i)*time.Millisecond)
		logs[accountID] = append(logs[accountID], ev)
	}
	for accountID, events := range logs {
		if _, err := s.chainTx(ctx, tx, "seed", accountID, events); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
