package storetest

import (
	"errors"
	"time"

	"sessionguard/api"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

// approval stores a pending sign-in approval (or link, when acct is
// nil) created at t0 that expires at exp.
func (f *fixture) approval(acct *store.Account, exp time.Time, audit ...api.AuditEvent) store.Approval {
	f.t.Helper()
	a := store.Approval{ID: f.id("apr"), Kind: store.ApprovalLogin, TokenHash: randHash(), Number: 42,
		Device:   api.Device{ID: "dev-new", Name: "New Laptop", Platform: "linux", OS: "Debian", Model: "X", AppVersion: "1"},
		Remember: true, InstallHash: randHash(), IP: "203.0.113.9", Location: api.Location{City: "Lisbon", Country: "Portugal"},
		CreatedAt: t0, ExpiresAt: exp, State: store.ApprovalPending}
	if acct != nil {
		a.AccountID = acct.ID
	} else {
		a.Kind, a.CodeHash = store.ApprovalLink, randHash()
	}
	if err := f.s.CreateApproval(f.ctx, a, audit...); err != nil {
		f.t.Fatalf("CreateApproval: %v", err)
	}
	return a
}

func yes(store.Approval) bool { return true }

func testApprovalLifecycle(f *fixture) {
	acct, other := f.account(), f.account()
	ev := f.auditEvent(api.AuditApprovalRequested, t0)
	a := f.approval(&acct, t0.Add(5*time.Minute), ev)
	got, err := f.s.ApprovalByToken(f.ctx, a.TokenHash)
	if err != nil {
		f.t.Fatal(err)
	}
	check(f.t, "ApprovalByToken", got, a)
	if recs, err := f.s.ListAudit(f.ctx, acct.ID, 0, 10); err != nil || len(recs) != 1 {
		f.t.Fatalf("audit with CreateApproval: %v %v", recs, err)
	}
	if _, err := f.s.ApprovalByToken(f.ctx, randHash()); !errors.Is(err, store.ErrNotFound) {
		f.t.Fatalf("unknown token: %v", err)
	}
	if _, err := f.s.ConsumeApproval(f.ctx, a.TokenHash); !errors.Is(err, store.ErrConflict) {
		f.t.Fatalf("consume pending: %v", err)
	}
	// Another account's answer finds nothing.
	if _, err := f.s.DecideApproval(f.ctx, store.ApprovalAnswer{ID: a.ID, AccountID: other.ID, At: t0, Approve: yes}); !errors.Is(err, store.ErrNotFound) {
		f.t.Fatalf("other account: %v", err)
	}
	at := t0.Add(time.Minute)
	dec, err := f.s.DecideApproval(f.ctx, store.ApprovalAnswer{ID: a.ID, AccountID: acct.ID, At: at, Approve: yes,
		BySessionID: "ses_x", ByDevice: "Pixel 8",
		Audit: func(store.Approval) []api.AuditEvent {
			return []api.AuditEvent{f.auditEvent(api.AuditApprovalApproved, at)}
		}})
	if err != nil {
		f.t.Fatal(err)
	}
	want := a
	want.State, want.DecidedAt, want.DecidedBySessionID, want.DecidedByDevice = store.ApprovalApproved, at, "ses_x", "Pixel 8"
	check(f.t, "DecideApproval", dec, want)
	if recs, _ := f.s.ListAudit(f.ctx, acct.ID, 0, 10); len(recs) != 2 {
		f.t.Fatalf("audit with DecideApproval: %d events", len(recs))
	}
	if again, err := f.s.DecideApproval(f.ctx, store.ApprovalAnswer{ID: a.ID, AccountID: acct.ID, At: at}); !errors.Is(err, store.ErrConflict) || again.State != store.ApprovalApproved {
		f.t.Fatalf("second answer: %v %v", again.State, err)
	}
	used, err := f.s.ConsumeApproval(f.ctx, a.TokenHash)
	if err != nil || used.State != store.ApprovalUsed {
		f.t.Fatalf("consume: %v %v", used.State, err)
	}
	if _, err := f.s.ConsumeApproval(f.ctx, a.TokenHash); !errors.Is(err, store.ErrConflict) {
		f.t.Fatalf("consume twice: %v", err)
	}

	// Denial (Approve says no), and expiry.
	d := f.approval(&acct, t0.Add(5*time.Minute))
	no, err := f.s.DecideApproval(f.ctx, store.ApprovalAnswer{ID: d.ID, AccountID: acct.ID, At: at,
		Approve: func(store.Approval) bool { return false }})
	if err != nil || no.State != store.ApprovalDenied {
		f.t.Fatalf("deny: %v %v", no.State, err)
	}
	x := f.approval(&acct, t0.Add(5*time.Minute))
	if late, err := f.s.DecideApproval(f.ctx, store.ApprovalAnswer{ID: x.ID, AccountID: acct.ID, At: t0.Add(5 * time.Minute), Approve: yes}); !errors.Is(err, store.ErrConflict) || late.State != store.ApprovalPending {
		f.t.Fatalf("expired: %v %v", late.State, err)
	}

	// A link: found by code, answered by code, becomes the approver's.
	l := f.approval(nil, t0.Add(10*time.Minute))
	if got, err := f.s.ApprovalByCode(f.ctx, l.CodeHash); err != nil || got.ID != l.ID || got.AccountID != "" {
		f.t.Fatalf("ApprovalByCode: %+v %v", got, err)
	}
	linked, err := f.s.DecideApproval(f.ctx, store.ApprovalAnswer{CodeHash: l.CodeHash, AccountID: acct.ID, At: at, Approve: yes})
	if err != nil || linked.AccountID != acct.ID || linked.State != store.ApprovalApproved {
		f.t.Fatalf("link: %+v %v", linked, err)
	}

	// Purge takes the expired ones.
	n, err := f.s.Purge(f.ctx, t0.Add(time.Hour), t0.Add(-time.Hour))
	if err != nil || n.Approvals < 4 {
		f.t.Fatalf("purge: %+v %v", n, err)
	}
	if _, err := f.s.ApprovalByToken(f.ctx, a.TokenHash); !errors.Is(err, store.ErrNotFound) {
		f.t.Fatalf("purged: %v", err)
	}
}

func testConcurrentDecideApproval(f *fixture) {
	acct := f.account()
	a := f.approval(&acct, t0.Add(5*time.Minute))
	var errs [racers]error
	barrier.Run(racers, func(i int) {
		_, errs[i] = f.s.DecideApproval(f.ctx, store.ApprovalAnswer{ID: a.ID, AccountID: acct.ID, At: t0, Approve: func(store.Approval) bool { return i%2 == 0 }})
	})
	f.oneWinner("DecideApproval", errs[:], store.ErrConflict)
	var cerrs [racers]error
	if got, _ := f.s.ApprovalByToken(f.ctx, a.TokenHash); got.State == store.ApprovalApproved {
		barrier.Run(racers, func(i int) { _, cerrs[i] = f.s.ConsumeApproval(f.ctx, a.TokenHash) })
		f.oneWinner("ConsumeApproval", cerrs[:], store.ErrConflict)
	}
}
