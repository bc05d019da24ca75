package storetest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// auditEvent returns an event with every field set.
func (f *fixture) auditEvent(typ string, at time.Time) api.AuditEvent {
	id := f.id("evt")
	return api.AuditEvent{
		ID:               id,
		At:               at,
		Type:             typ,
		IP:               "198.51.100.4",
		Location:         api.Location{City: "Osaka", Region: "Ōsaka", Country: "Japan", CountryCode: "JP"},
		SessionID:        "ses_actor_" + id,
		DeviceName:       "Phone " + id,
		TargetSessionID:  "ses_target_" + id,
		TargetDeviceName: "Tablet " + id,
		Detail:           "detail of " + id,
	}
}

func testAudit(f *fixture) {
	acct, other := f.account(), f.account()

	sparse := api.AuditEvent{ID: f.id("evt"), At: t0, Type: api.AuditLoginFailed, IP: "192.0.2.1"}
	plan := []struct {
		account store.Account
		event   api.AuditEvent
	}{
		{acct, f.auditEvent(api.AuditLoginSucceeded, t0.In(zone))},
		{other, f.auditEvent(api.AuditLoginSucceeded, t0)},
		{acct, sparse},
		{acct, f.auditEvent(api.AuditSessionRevoked, t0.Add(time.Minute))},
		{other, f.auditEvent(api.AuditLogout, t0.Add(time.Minute))},
		// Out of time order: the log is in append order.
		{acct, f.auditEvent(api.AuditSessionsRevokedOthers, t0.Add(-time.Hour))},
		{acct, f.auditEvent(api.AuditRememberedLoginCreated, t0.Add(2*time.Minute))},
	}
	var mine, theirs []store.AuditRecord // newest first
	for _, p := range plan {
		seq, err := f.s.AppendAudit(f.ctx, p.account.ID, p.event)
		ok(f.t, "AppendAudit", err)
		// Each account's log is numbered from 1 and chained by the rule,
		// computed here independently (refChain).
		own := &theirs
		if p.account.ID == acct.ID {
			own = &mine
		}
		prevSeq, prevHash := int64(0), api.GenesisHash
		if len(*own) > 0 {
			prevSeq, prevHash = (*own)[0].Seq, (*own)[0].Event.Hash
		}
		e := refChain(prevSeq, prevHash, p.event)[0]
		if seq != e.Seq {
			f.t.Errorf("AppendAudit for %s: Seq %d, want %d", p.account.ID, seq, e.Seq)
		}
		*own = append([]store.AuditRecord{{Seq: e.Seq, AccountID: p.account.ID, Event: e}}, *own...)
	}

	cases := []struct {
		name      string
		account   string
		beforeSeq int64
		limit     int
		want      []store.AuditRecord
	}{
		{"all", acct.ID, 0, 100, mine},
		{"exact limit", acct.ID, 0, len(mine), mine},
		{"first page", acct.ID, 0, 2, mine[:2]},
		{"second page", acct.ID, mine[1].Seq, 2, mine[2:4]},
		{"last page", acct.ID, mine[3].Seq, 2, mine[4:]},
		{"after the last", acct.ID, mine[4].Seq, 2, nil},
		{"before seq 3", acct.ID, 3, 100, mine[3:]},
		{"other account", other.ID, 0, 100, theirs},
		{"unknown account", f.id("acc"), 0, 100, nil},
	}
	for _, tc := range cases {
		got, err := f.s.ListAudit(f.ctx, tc.account, tc.beforeSeq, tc.limit)
		ok(f.t, tc.name, err)
		check(f.t, fmt.Sprintf("ListAudit %s", tc.name), got, tc.want)
	}

	// Paging to the end sees every event once.
	var all []store.AuditRecord
	var before int64
	for page := 0; page <= len(mine); page++ {
		p, err := f.s.ListAudit(f.ctx, acct.ID, before, 3)
		ok(f.t, "ListAudit page", err)
		all = append(all, p...)
		if len(p) < 3 {
			break
		}
		before = p[len(p)-1].Seq
	}
	check(f.t, "ListAudit pages joined", all, mine)
}

// testAuditChain: several events in one append, AuditSince, the heads, and
// the walks that `sessiond audit verify` reads.
func testAuditChain(f *fixture) {
	acct, other, empty := f.account(), f.account(), f.account()
	if seq, err := f.s.AppendAudit(f.ctx, acct.ID); err != nil || seq != 0 {
		f.t.Errorf("AppendAudit of nothing: %d, %v; want 0, nil", seq, err)
	}
	var mine []api.AuditEvent
	for round := range 3 {
		batch := []api.AuditEvent{f.auditEvent(api.AuditLoginSucceeded, t0.Add(time.Duration(round)*time.Hour).In(zone))}
		if round == 1 {
			// Control characters, quotes and non-ASCII: the canonical
			// form's escaping is part of the rule.
			odd := f.auditEvent(api.AuditSessionRenamed, t0.Add(90*time.Minute))
			odd.DeviceName = "Ana's \"phone\"\t\u0001 \u2028 ☎ é"
			odd.TargetDeviceName, odd.TargetSessionID = "", ""
			batch = append(batch, odd, f.auditEvent(api.AuditLogout, t0.Add(95*time.Minute).Add(123456789)))
		}
		prevSeq, prevHash := int64(0), api.GenesisHash
		if len(mine) > 0 {
			prevSeq, prevHash = mine[len(mine)-1].Seq, mine[len(mine)-1].Hash
		}
		want := refChain(prevSeq, prevHash, batch...)
		seq, err := f.s.AppendAudit(f.ctx, acct.ID, batch...)
		ok(f.t, "AppendAudit", err)
		if seq != want[len(want)-1].Seq {
			f.t.Errorf("AppendAudit of %d events: Seq %d, want %d", len(batch), seq, want[len(want)-1].Seq)
		}
		mine = append(mine, want...)
		_, err = f.s.AppendAudit(f.ctx, other.ID, f.auditEvent(api.AuditLogout, t0))
		ok(f.t, "AppendAudit other", err)
	}
	got := f.verifyChain(acct.ID)
	check(f.t, "the chained log", got, mine)
	f.verifyChain(other.ID)

	for _, tc := range []struct {
		name         string
		after, limit int
		want         []api.AuditEvent
	}{
		{"from the start", 0, 100, mine},
		{"a page", 1, 2, mine[1:3]},
		{"the last", len(mine) - 1, 10, mine[len(mine)-1:]},
		{"past the end", len(mine), 10, nil},
		{"no limit", 0, 0, nil},
	} {
		page, err := f.s.AuditSince(f.ctx, acct.ID, int64(tc.after), tc.limit)
		ok(f.t, "AuditSince "+tc.name, err)
		check(f.t, "AuditSince "+tc.name, page, tc.want)
	}
	head, err := f.s.AuditHead(f.ctx, empty.ID)
	ok(f.t, "AuditHead", err)
	check(f.t, "AuditHead of an empty log", head, api.AuditHead{AccountID: empty.ID, Hash: api.GenesisHash})

	// The walks see every account this test wrote, in account order, each
	// account's events in Seq order.
	var walked []string
	count := map[string]int64{}
	err = f.s.WalkAudit(f.ctx, func(accountID string, e api.AuditEvent) error {
		if n := len(walked); n == 0 || walked[n-1] != accountID {
			walked = append(walked, accountID)
		}
		count[accountID]++
		if e.Seq != count[accountID] {
			return fmt.Errorf("account %s: Seq %d in place %d", accountID, e.Seq, count[accountID])
		}
		return nil
	})
	ok(f.t, "WalkAudit", err)
	if !slices.IsSorted(walked) || len(walked) != len(slices.Compact(slices.Clone(walked))) {
		f.t.Errorf("WalkAudit: accounts %v, want each once, in order", walked)
	}
	if count[acct.ID] != int64(len(mine)) || count[other.ID] != 3 || count[empty.ID] != 0 {
		f.t.Errorf("WalkAudit counts %d, %d, %d; want %d, 3, 0", count[acct.ID], count[other.ID], count[empty.ID], len(mine))
	}
	heads := map[string]api.AuditHead{}
	var order []string
	ok(f.t, "WalkAuditHeads", f.s.WalkAuditHeads(f.ctx, func(h api.AuditHead) error {
		heads[h.AccountID] = h
		order = append(order, h.AccountID)
		return nil
	}))
	if !slices.IsSorted(order) {
		f.t.Errorf("WalkAuditHeads: accounts %v, want in order", order)
	}
	check(f.t, "walked head", heads[acct.ID], api.AuditHead{AccountID: acct.ID, Seq: mine[len(mine)-1].Seq, Hash: mine[len(mine)-1].Hash, At: mine[len(mine)-1].At})
	if _, ok := heads[empty.ID]; ok {
		f.t.Errorf("WalkAuditHeads: a head for an account with no events")
	}
	stop := errors.New("stop")
	if err := f.s.WalkAudit(f.ctx, func(string, api.AuditEvent) error { return stop }); !errors.Is(err, stop) {
		f.t.Errorf("WalkAudit: fn's error came back as %v", err)
	}
}
