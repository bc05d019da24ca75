package storetest

import (
	"fmt"
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
	var last int64
	for i, p := range plan {
		seq, err := f.s.AppendAudit(f.ctx, p.account.ID, p.event)
		ok(f.t, "AppendAudit", err)
		if i > 0 && seq <= last {
			f.t.Errorf("AppendAudit #%d: Seq %d after %d, want increasing", i, seq, last)
		}
		last = seq
		rec := store.AuditRecord{Seq: seq, AccountID: p.account.ID, Event: p.event}
		if p.account.ID == acct.ID {
			mine = append([]store.AuditRecord{rec}, mine...)
		} else {
			theirs = append([]store.AuditRecord{rec}, theirs...)
		}
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
		{"before a seq of another account", acct.ID, theirs[0].Seq, 100, mine[2:]},
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
