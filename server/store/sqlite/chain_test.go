package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"sessionguard/api"
	"sessionguard/api/auditchain"
)

// TestMigrateChainsExistingAudit: a version 7 database with events of two
// accounts, interleaved, more than one batch of them, is migrated: each
// account's events are numbered in the order they were written, chained by
// the rule, and its head recorded; appends go on from there.
func TestMigrateChainsExistingAudit(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v7.db")
	old, err := open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.write.ExecContext(ctx, createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	for _, m := range schema.Files() {
		if m.Version > 7 {
			break
		}
		if err := old.apply(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	const n = chainBatch + 37 // across a batch boundary
	accounts := []string{"acc_b", "acc_a", "acc_c"}
	for i := range n {
		acct := accounts[i%2]
		if i == n-1 {
			acct = accounts[2] // an account with one event
		}
		if _, err := old.write.ExecContext(ctx, `INSERT INTO audit_events (account_id, id, at, type, ip, device_name, detail)
			VALUES (?, ?, ?, 'login.succeeded', '203.0.113.9', 'Ana''s "Pixel"', ?)`,
			acct, fmt.Sprintf("evt_%04d", i), int64(1_700_000_000_000_000+i), fmt.Sprintf("event %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open on a version 7 database: %v", err)
	}
	defer s.Close()
	want := map[string]int64{"acc_a": n / 2, "acc_b": n/2 + n%2 - 1, "acc_c": 1}
	for acct, count := range want {
		v := auditchain.NewVerifier(acct)
		var prevID string
		err := s.WalkAudit(ctx, func(a string, e api.AuditEvent) error {
			if a != acct {
				return nil
			}
			if e.ID <= prevID {
				return fmt.Errorf("event %s after %s: not in the order written", e.ID, prevID)
			}
			prevID = e.ID
			return v.Add(e)
		})
		if err != nil {
			t.Fatalf("%s: %v", acct, err)
		}
		head, err := s.AuditHead(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.CheckHead(head); err != nil {
			t.Errorf("%s: %v", acct, err)
		}
		if v.Count() != count {
			t.Errorf("%s: %d events chained, want %d", acct, v.Count(), count)
		}
	}
	// Appends go on from the migrated head.
	seq, err := s.AppendAudit(ctx, "acc_c", api.AuditEvent{ID: "evt_new", Type: api.AuditLogout})
	if err != nil || seq != 2 {
		t.Fatalf("AppendAudit after the migration = %d, %v; want 2", seq, err)
	}
	recs, err := s.ListAudit(ctx, "acc_c", 0, 10)
	if err != nil || len(recs) != 2 || recs[0].Event.PrevHash != recs[1].Event.Hash {
		t.Fatalf("acc_c after an append: %+v, %v", recs, err)
	}
	// The index now refuses a second event with one number.
	if _, err := s.write.ExecContext(context.Background(), `INSERT INTO audit_events (account_id, id, at, type, account_seq)
		VALUES ('acc_c', 'evt_fork', 1, 'logout', 2)`); err == nil {
		t.Error("a second event 2 of acc_c was accepted")
	}
}
