package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

// Writes that go with a change in its transaction: CreateSession's audit
// events, store.RevokeEffects, PasswordChange.Audit.

// auditLog returns the account's whole audit log, oldest first, each
// event without its place in the chain, after checking the chain.
func (f *fixture) auditLog(accountID string) []api.AuditEvent {
	f.t.Helper()
	recs, err := f.s.ListAudit(f.ctx, accountID, 0, 1000)
	ok(f.t, "ListAudit", err)
	chain := f.verifyChain(accountID)
	check(f.t, "ListAudit against AuditSince", recs, recordsOf(accountID, chain))
	var out []api.AuditEvent
	for _, r := range slices.Backward(recs) {
		out = append(out, unchained(r.Event))
	}
	return out
}

// checkLog compares the account's audit log, oldest first, with want.
func (f *fixture) checkLog(what, accountID string, want ...api.AuditEvent) {
	f.t.Helper()
	check(f.t, what+": audit log", f.auditLog(accountID), want)
}

// recorder is a store.AuditFunc whose event says what the store passed it:
// the IDs of the ended sessions in order (TargetSessionID) and the number
// of remembered logins deleted (Detail).
type recorder struct {
	base  api.AuditEvent
	mu    sync.Mutex
	calls int
}

func (f *fixture) recorder(typ string) *recorder {
	return &recorder{base: f.auditEvent(typ, t0.Add(time.Hour).In(zone))}
}

func (r *recorder) fn(ended []store.Session, forgotten int) api.AuditEvent {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	return r.want(ids(ended), forgotten)
}

// want is the event fn makes for ended and forgotten.
func (r *recorder) want(ended []string, forgotten int) api.AuditEvent {
	e := r.base
	e.TargetSessionID = strings.Join(ended, " ")
	e.Detail = fmt.Sprintf("forgot %d", forgotten)
	return e
}

func (r *recorder) called() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// testCreateSessionAudit: CreateSession appends its events, in order, to
// the session's account's log, and a refused insert writes none.
func testCreateSessionAudit(f *fixture) {
	acct, other := f.account(), f.account()
	used, login := f.auditEvent(api.AuditRecoveryCodeUsed, t0.In(zone)), f.auditEvent(api.AuditLoginSucceeded, t0)
	s, rt := f.newSession(acct, nil)
	ok(f.t, "CreateSession with events", f.s.CreateSession(f.ctx, s, rt, used, login))
	f.checkSession("session created with events", s)
	f.checkLog("after CreateSession", acct.ID, used, login)
	f.checkLog("other account, after CreateSession", other.ID)

	// Refused (its refresh token hash is in use): no session, no event.
	dup, dupRT := f.newSession(acct, nil)
	dupRT.Hash = rt.Hash
	if err := f.s.CreateSession(f.ctx, dup, dupRT, f.auditEvent(api.AuditLoginSucceeded, t0)); err == nil {
		f.t.Fatal("CreateSession with a refresh token hash already in use succeeded")
	}
	_, err := f.s.Session(f.ctx, dup.ID)
	is(f.t, "Session(refused)", err, store.ErrNotFound)
	f.checkLog("after a refused CreateSession", acct.ID, used, login)

	// No events: none written.
	plain, plainRT := f.newSession(acct, nil)
	ok(f.t, "CreateSession without events", f.s.CreateSession(f.ctx, plain, plainRT))
	f.checkLog("after CreateSession without events", acct.ID, used, login)
}

// testRevokeSessionEffects: the ended session's device's remembered logins
// go (not its other sessions, not other devices' or accounts' logins) and
// the event made from the ended session and the count is written, with
// the revocation.
func testRevokeSessionEffects(f *fixture) {
	cases := []struct {
		name          string
		forget, audit bool
	}{
		{"forget and audit", true, true},
		{"audit only", false, true},
		{"forget only", true, false},
		{"neither", false, false},
	}
	exp := t0.Add(48 * time.Hour)
	for _, tc := range cases {
		acct, other := f.account(), f.account()
		actor, _ := f.session(acct, nil)
		dev := f.id("dev")
		onDev := func(s *store.Session) { s.Device.ID = dev }
		target, _ := f.session(acct, onDev)
		sibling, _ := f.session(acct, onDev) // another session of the device
		devRems := []store.Remembered{f.remembered(acct, dev, exp), f.remembered(acct, dev, exp)}
		kept := []store.Remembered{f.remembered(acct, actor.Device.ID, exp), f.remembered(other, dev, exp)}
		rec := f.recorder(api.AuditSessionRevoked)
		// KeepDeviceID is RevokeOtherSessions'; RevokeSession ignores it.
		fx := store.RevokeEffects{Forget: tc.forget, KeepDeviceID: dev}
		if tc.audit {
			fx.Audit = rec.fn
		}
		r := revocation(t0.Add(time.Hour), actor)

		got, err := f.s.RevokeSession(f.ctx, acct.ID, target.ID, r, fx)
		ok(f.t, tc.name+": RevokeSession", err)
		check(f.t, tc.name+": RevokeSession result", got, revoked(target, r))
		f.checkSession(tc.name+": revoked session", revoked(target, r))
		var want []api.AuditEvent
		if tc.audit {
			forgotten := 0
			if tc.forget {
				forgotten = len(devRems)
			}
			want = append(want, rec.want([]string{target.ID}, forgotten))
		}
		f.checkLog(tc.name, acct.ID, want...)
		f.checkLog(tc.name+": other account", other.ID)
		f.checkSession(tc.name+": the device's other session", sibling)
		f.checkSession(tc.name+": the actor", actor)
		f.present(tc.name+": the device's remembered logins", !tc.forget, devRems...)
		f.present(tc.name+": other devices' and accounts' remembered logins", true, kept...)
	}
}

// testRevokeSessionEffectsRefused: a revocation refused with ErrRevoked or
// ErrNotFound deletes nothing and writes no event.
func testRevokeSessionEffectsRefused(f *fixture) {
	acct, other := f.account(), f.account()
	actor, _ := f.session(acct, nil)
	gone, _ := f.session(acct, nil)
	r0 := revocation(t0.Add(time.Minute), actor)
	_, err := f.s.RevokeSession(f.ctx, acct.ID, gone.ID, r0, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	foreign, _ := f.session(other, nil)
	exp := t0.Add(48 * time.Hour)
	rems := []store.Remembered{f.remembered(acct, gone.Device.ID, exp), f.remembered(acct, foreign.Device.ID, exp),
		f.remembered(other, foreign.Device.ID, exp)}

	cases := []struct {
		name      string
		accountID string
		id        string
		want      error
	}{
		{"already revoked", acct.ID, gone.ID, store.ErrRevoked},
		{"unknown session", acct.ID, f.id("ses"), store.ErrNotFound},
		{"another account's session", acct.ID, foreign.ID, store.ErrNotFound},
		{"unknown account", f.id("acc"), gone.ID, store.ErrNotFound},
	}
	for _, tc := range cases {
		rec := f.recorder(api.AuditSessionRevoked)
		_, err := f.s.RevokeSession(f.ctx, tc.accountID, tc.id, revocation(t0.Add(time.Hour), actor),
			store.RevokeEffects{Forget: true, Audit: rec.fn})
		is(f.t, "RevokeSession("+tc.name+")", err, tc.want)
	}
	f.checkLog("after refused revocations", acct.ID)
	f.checkLog("other account, after refused revocations", other.ID)
	f.checkSession("session revoked before", revoked(gone, r0))
	f.checkSession("other account's session", foreign)
	f.present("remembered logins after refused revocations", true, rems...)
}

// testRevokeOthersEffects: remembered logins of every device but
// KeepDeviceID go (devices without an ended session too, even when no
// session is ended), and the event made from the ended sessions, in list
// order, and the count is written.
func testRevokeOthersEffects(f *fixture) {
	cases := []struct {
		name   string
		others int
		forget bool
		keep   bool // KeepDeviceID is the kept session's device, not ""
	}{
		{"keep the caller's device", 3, true, true},
		{"no session to end", 0, true, true},
		{"empty KeepDeviceID forgets every device", 2, true, false},
		{"audit only", 2, false, true},
	}
	now := t0.Add(time.Hour)
	exp := now.Add(48 * time.Hour)
	for _, tc := range cases {
		acct, other := f.account(), f.account()
		keep, _ := f.session(acct, nil)
		var targets []string
		var gone []store.Remembered // if forgotten
		for i := range tc.others {
			s, _ := f.session(acct, seenAt(now.Add(-time.Duration(i)*time.Second)))
			targets = append(targets, s.ID) // in list order
			gone = append(gone, f.remembered(acct, s.Device.ID, exp))
		}
		expired, _ := f.session(acct, func(s *store.Session) { s.ExpiresAt = now })
		gone = append(gone, f.remembered(acct, expired.Device.ID, exp), f.remembered(acct, f.id("dev"), exp))
		own := f.remembered(acct, keep.Device.ID, exp)
		foreign := f.remembered(other, f.id("dev"), exp)
		rec := f.recorder(api.AuditSessionsRevokedOthers)
		fx := store.RevokeEffects{Forget: tc.forget, Audit: rec.fn}
		if tc.keep {
			fx.KeepDeviceID = keep.Device.ID
		}
		r := store.Revocation{At: now, Reason: api.ReasonLogoutOthers, BySessionID: keep.ID, ByDeviceName: keep.Device.Name}

		ended, err := f.s.RevokeOtherSessions(f.ctx, acct.ID, keep.ID, r, fx)
		ok(f.t, tc.name+": RevokeOtherSessions", err)
		if !slices.Equal(ids(ended), targets) {
			f.t.Errorf("%s: ended %v, want %v", tc.name, ids(ended), targets)
		}
		forgotten := 0
		switch {
		case tc.forget && tc.keep:
			forgotten = len(gone)
		case tc.forget:
			forgotten = len(gone) + 1
		}
		f.checkLog(tc.name, acct.ID, rec.want(targets, forgotten))
		f.checkLog(tc.name+": other account", other.ID)
		f.checkSession(tc.name+": kept session", keep)
		f.checkSession(tc.name+": expired session", expired)
		f.present(tc.name+": other devices' remembered logins", !tc.forget, gone...)
		f.present(tc.name+": the kept device's remembered login", !tc.forget || tc.keep, own)
		f.present(tc.name+": other account's remembered login", true, foreign)
	}
}

// testEffectsRollBack: a call that fails inside its transaction, after the
// sessions were ended and the logins deleted (the context is cancelled
// while the event is made), leaves nothing of it.
func testEffectsRollBack(f *fixture) {
	cases := []struct {
		name string
		call func(ctx context.Context, acct store.Account, self store.Session, audit store.AuditFunc) error
	}{
		{"RevokeSession", func(ctx context.Context, acct store.Account, self store.Session, audit store.AuditFunc) error {
			_, err := f.s.RevokeSession(ctx, acct.ID, self.ID, store.Revocation{At: t0, Reason: api.ReasonLogout},
				store.RevokeEffects{Forget: true, Audit: audit})
			return err
		}},
		{"RevokeOtherSessions", func(ctx context.Context, acct store.Account, self store.Session, audit store.AuditFunc) error {
			_, err := f.s.RevokeOtherSessions(ctx, acct.ID, self.ID, store.Revocation{At: t0, Reason: api.ReasonLogoutOthers},
				store.RevokeEffects{Forget: true, KeepDeviceID: self.Device.ID, Audit: audit})
			return err
		}},
		{"ChangePassword", func(ctx context.Context, acct store.Account, self store.Session, audit store.AuditFunc) error {
			_, _, err := f.s.ChangePassword(ctx, store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash,
				NewHash: "changed", KeepSessionID: self.ID, Audit: audit,
				Revoke: &store.Revocation{At: t0, Reason: api.ReasonPasswordChanged}})
			return err
		}},
	}
	exp := t0.Add(48 * time.Hour)
	for _, tc := range cases {
		acct := f.account()
		self, _ := f.session(acct, nil)
		others := []store.Session{}
		rems := []store.Remembered{f.remembered(acct, self.Device.ID, exp)}
		for range 2 {
			s, _ := f.session(acct, nil)
			others = append(others, s)
			rems = append(rems, f.remembered(acct, s.Device.ID, exp))
		}
		ctx, cancel := context.WithCancel(f.ctx)
		rec := f.recorder(api.AuditSessionRevoked)
		err := tc.call(ctx, acct, self, func(ended []store.Session, forgotten int) api.AuditEvent {
			cancel()
			return rec.fn(ended, forgotten)
		})
		cancel()
		if err == nil {
			f.t.Errorf("%s: committed although its context was cancelled inside the transaction", tc.name)
		}
		if rec.called() == 0 {
			f.t.Errorf("%s: the AuditFunc was never called", tc.name)
		}
		f.checkLog(tc.name, acct.ID)
		check(f.t, tc.name+": account", f.mustAccount(acct.ID), acct)
		f.checkSession(tc.name+": own session", self)
		for _, s := range others {
			f.checkSession(tc.name+": other session", s)
		}
		f.present(tc.name+": remembered logins", true, rems...)
	}
}

// testConcurrentRevokeSessionEffects: of concurrent revocations of one
// session exactly one writes its effects: one event, the winner's.
func testConcurrentRevokeSessionEffects(f *fixture) {
	acct := f.account()
	target, _ := f.session(acct, nil)
	exp := t0.Add(48 * time.Hour)
	rems := []store.Remembered{f.remembered(acct, target.Device.ID, exp), f.remembered(acct, target.Device.ID, exp)}
	var (
		recs [racers]*recorder
		res  [racers]store.Session
		errs [racers]error
	)
	for i := range recs {
		recs[i] = f.recorder(api.AuditSessionRevoked)
	}
	barrier.Run(racers, func(i int) {
		res[i], errs[i] = f.s.RevokeSession(f.ctx, acct.ID, target.ID, store.Revocation{
			At: t0.Add(time.Duration(i+1) * time.Second), Reason: api.ReasonRemoteLogout,
			BySessionID: fmt.Sprintf("ses_actor_%02d", i), ByDeviceName: fmt.Sprintf("device %02d", i),
		}, store.RevokeEffects{Forget: true, Audit: recs[i].fn})
	})
	winner := f.oneWinner("RevokeSession", errs[:], store.ErrRevoked)
	f.checkLog("after racing revocations", acct.ID, recs[winner].want([]string{target.ID}, len(rems)))
	f.present("the device's remembered logins", false, rems...)
}

// testConcurrentRevokeOthersEffects: concurrent log-outs of all others
// each write their own event, and each remembered login is deleted (and
// counted) by exactly one of them.
func testConcurrentRevokeOthersEffects(f *fixture) {
	acct := f.account()
	const n = 8
	exp := t0.Add(48 * time.Hour)
	var (
		sessions [n]store.Session
		recs     [n]*recorder
		res      [n][]store.Session
		errs     [n]error
		rems     []store.Remembered
	)
	for i := range n {
		sessions[i], _ = f.session(acct, nil)
		recs[i] = f.recorder(api.AuditSessionsRevokedOthers)
		for range 1 + i%3 {
			rems = append(rems, f.remembered(acct, sessions[i].Device.ID, exp))
		}
	}
	barrier.Run(n, func(i int) {
		s := sessions[i]
		res[i], errs[i] = f.s.RevokeOtherSessions(f.ctx, acct.ID, s.ID,
			store.Revocation{At: t0.Add(time.Hour), Reason: api.ReasonLogoutOthers, BySessionID: s.ID, ByDeviceName: s.Device.Name},
			store.RevokeEffects{Forget: true, KeepDeviceID: s.Device.ID, Audit: recs[i].fn})
	})
	byID := map[string]api.AuditEvent{}
	for _, e := range f.auditLog(acct.ID) {
		byID[e.ID] = e
	}
	if len(byID) != n {
		f.t.Errorf("%d events after %d log-outs of all others, want one each", len(byID), n)
	}
	total := 0
	for i := range n {
		ok(f.t, fmt.Sprintf("RevokeOtherSessions racer %d", i), errs[i])
		e, found := byID[recs[i].base.ID]
		if !found {
			f.t.Errorf("racer %d: no event", i)
			continue
		}
		var forgotten int
		if _, err := fmt.Sscanf(e.Detail, "forgot %d", &forgotten); err != nil {
			f.t.Fatalf("racer %d: event detail %q", i, e.Detail)
		}
		total += forgotten
		check(f.t, fmt.Sprintf("racer %d's event", i), e, recs[i].want(ids(res[i]), forgotten))
	}
	if total != len(rems) {
		f.t.Errorf("the log-outs deleted %d remembered logins in all, want %d: each once", total, len(rems))
	}
	f.present("remembered logins after racing log-outs of all others", false, rems...)
}
