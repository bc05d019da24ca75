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

// Device rules: UpdateSession, SetSettings, the idle deadline
// (store.Session.IdleDeadline) and EndIdleSessions, RecordUse.

// idleAudit is a store.IdleSweep.Audit whose event names the session it
// was given (TargetSessionID, TargetDeviceName), its rule and how many
// remembered logins went with it (Detail).
func (f *fixture) idleAudit() func(store.Session, int) api.AuditEvent {
	base := f.auditEvent(api.AuditSessionRevoked, t0.Add(3*time.Hour).In(zone))
	return func(e store.Session, forgotten int) api.AuditEvent {
		return idleEvent(base, e, forgotten)
	}
}

func idleEvent(base api.AuditEvent, e store.Session, forgotten int) api.AuditEvent {
	rule, own := e.IdleRule()
	base.TargetSessionID, base.TargetDeviceName = e.ID, e.Device.Name
	base.Detail = fmt.Sprintf("rule %v own %v forgot %d", rule, own, forgotten)
	return base
}

// setSettings sets the account's settings, failing the test if it cannot.
func (f *fixture) setSettings(acct store.Account, st store.Settings) {
	f.t.Helper()
	_, err := f.s.SetSettings(f.ctx, acct.ID, st, nil)
	ok(f.t, "SetSettings", err)
}

// sweep ends acct's sessions due at at, limit per call, until a call ends
// fewer, and returns them sorted by ID.
func (f *fixture) sweep(acct store.Account, at time.Time, limit int) []store.Session {
	f.t.Helper()
	var out []store.Session
	for range 100 {
		got, err := f.s.EndIdleSessions(f.ctx, store.IdleSweep{Revocation: store.Revocation{At: at, Reason: api.ReasonInactive},
			AccountID: acct.ID, Limit: limit})
		ok(f.t, "EndIdleSessions", err)
		out = append(out, got...)
		if len(got) < limit {
			break
		}
	}
	slices.SortFunc(out, func(a, b store.Session) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// testIdleRule: IdleRule and IdleDeadline, the formula the stores compute
// in SQL.
func testIdleRule(f *fixture) {
	base := store.Session{LastSeenAt: t0, ExpiresAt: t0.Add(30 * day)}
	for _, c := range []struct {
		own, account, rule time.Duration
		isOwn              bool
		expires            time.Duration // after LastSeenAt; 0: 30 days
		deadline           bool
	}{
		{0, 0, 0, false, 0, false},
		{day, 0, day, true, 0, true},
		{0, 7 * day, 7 * day, false, 0, true},
		{day, 7 * day, day, true, 0, true},
		{30 * day, 7 * day, 7 * day, false, 0, true},
		{7 * day, 7 * day, 7 * day, true, 0, true},
		{30 * day, 0, 30 * day, true, 0, true},              // due when it expires: the rule says why
		{31 * day, 0, 31 * day, true, 0, false},             // expires first
		{0, 2 * day, 2 * day, false, 12 * time.Hour, false}, // expires first
	} {
		s := base
		s.IdleTimeout, s.AccountIdleTimeout = c.own, c.account
		if c.expires > 0 {
			s.ExpiresAt = t0.Add(c.expires)
		}
		rule, own := s.IdleRule()
		d, has := s.IdleDeadline()
		if rule != c.rule || own != c.isOwn || has != c.deadline || (has && !d.Equal(t0.Add(c.rule))) {
			f.t.Errorf("own %v, account %v, expires %v: IdleRule = %v, %v; IdleDeadline = %v, %v", c.own, c.account, s.ExpiresAt,
				rule, own, d, has)
		}
	}
}

// testSettings: SetSettings replaces the settings, returns the old ones,
// writes its event, and copies the rule into the account's live sessions
// (not its revoked ones, not other accounts'); sessions created later get
// it too; an unknown account is not found and nothing is written.
func testSettings(f *fixture) {
	acct, other := f.account(), f.account()
	got, err := f.s.Account(f.ctx, acct.ID)
	ok(f.t, "Account", err)
	check(f.t, "new account's settings", got.Settings, store.Settings{})
	live, _ := f.session(acct, func(s *store.Session) { s.AccountIdleTimeout = 99 * day }) // ignored
	check(f.t, "created session", f.mustSession(live.ID).AccountIdleTimeout, time.Duration(0))
	gone, _ := f.session(acct, nil)
	_, err = f.s.RevokeSession(f.ctx, acct.ID, gone.ID, revocation(t0.Add(time.Minute), live), store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	foreign, _ := f.session(other, nil)

	st := store.Settings{AutoLogoutInactiveAfter: 7 * day, ApproveNewDevices: true}
	ev := f.auditEvent(api.AuditSettingsChanged, t0.Add(time.Hour))
	var gotBefore []store.Settings
	before, err := f.s.SetSettings(f.ctx, acct.ID, st, func(b store.Settings) api.AuditEvent {
		gotBefore = append(gotBefore, b)
		e := ev
		e.Detail = fmt.Sprintf("was %v %v", b.AutoLogoutInactiveAfter, b.ApproveNewDevices)
		return e
	})
	ok(f.t, "SetSettings", err)
	check(f.t, "SetSettings before", before, store.Settings{})
	if len(gotBefore) == 0 || gotBefore[len(gotBefore)-1] != (store.Settings{}) {
		f.t.Errorf("audit func got %v", gotBefore)
	}
	ev.Detail = "was 0s false"
	f.checkLog("SetSettings", acct.ID, ev)
	got, err = f.s.Account(f.ctx, acct.ID)
	ok(f.t, "Account", err)
	check(f.t, "settings", got.Settings, st)

	check(f.t, "live session's copy", f.mustSession(live.ID).AccountIdleTimeout, 7*day)
	check(f.t, "revoked session's copy", f.mustSession(gone.ID).AccountIdleTimeout, time.Duration(0))
	check(f.t, "other account's session", f.mustSession(foreign.ID).AccountIdleTimeout, time.Duration(0))
	later, _ := f.session(acct, nil)
	check(f.t, "later session's copy", f.mustSession(later.ID).AccountIdleTimeout, 7*day)
	// Kept in whole seconds.
	before, err = f.s.SetSettings(f.ctx, acct.ID, store.Settings{AutoLogoutInactiveAfter: time.Hour + 1500*time.Millisecond}, nil)
	ok(f.t, "SetSettings", err)
	check(f.t, "SetSettings before", before, st)
	check(f.t, "rule in seconds", f.mustSession(later.ID).AccountIdleTimeout, time.Hour+time.Second)

	_, err = f.s.SetSettings(f.ctx, "acc_"+f.tag+"_nobody", st, func(store.Settings) api.AuditEvent {
		return f.auditEvent(api.AuditSettingsChanged, t0)
	})
	is(f.t, "SetSettings of an unknown account", err, store.ErrNotFound)
	f.checkLog("unknown account", "acc_"+f.tag+"_nobody")

	// An account created with settings keeps them.
	a := store.Account{ID: f.id("acc"), Username: "user_" + f.tag + "_set", PasswordHash: "x", CreatedAt: t0,
		Settings: store.Settings{AutoLogoutInactiveAfter: 30 * day}}
	ok(f.t, "CreateAccount", f.s.CreateAccount(f.ctx, a))
	got, err = f.s.Account(f.ctx, a.ID)
	ok(f.t, "Account", err)
	check(f.t, "created with settings", got, a)
}

// testUpdateSession: name and rule change together or alone, the events
// are written in order with the change, nothing else changes; a revoked
// session, another account's or an unknown one changes nothing.
func testUpdateSession(f *fixture) {
	acct, other := f.account(), f.account()
	s, _ := f.session(acct, func(s *store.Session) { s.IdleTimeout = 3 * day })
	check(f.t, "created with a rule", f.mustSession(s.ID).IdleTimeout, 3*day)
	name, rule := "Hotel lobby PC", day
	evs := []api.AuditEvent{f.auditEvent(api.AuditSessionRenamed, t0), f.auditEvent(api.AuditSessionRulesChanged, t0)}
	var seen []store.Session
	got, err := f.s.UpdateSession(f.ctx, acct.ID, s.ID, store.SessionUpdate{Name: &name, IdleTimeout: &rule},
		func(before store.Session) []api.AuditEvent {
			seen = append(seen, before)
			return evs
		})
	ok(f.t, "UpdateSession", err)
	want := s
	want.Device.Name, want.IdleTimeout = name, rule
	check(f.t, "UpdateSession result", got, want)
	f.checkSession("after UpdateSession", want)
	if len(seen) == 0 {
		f.t.Fatal("events func not called")
	}
	check(f.t, "before", seen[len(seen)-1], f.withRule(s, 3*day))
	f.checkLog("UpdateSession", acct.ID, evs...)

	none := time.Duration(0)
	got, err = f.s.UpdateSession(f.ctx, acct.ID, s.ID, store.SessionUpdate{IdleTimeout: &none}, nil)
	ok(f.t, "UpdateSession", err)
	want.IdleTimeout = 0
	check(f.t, "rule removed", got, want)

	foreign, _ := f.session(other, nil)
	for _, c := range []struct {
		what, acct, id string
		want           error
	}{
		{"another account's session", acct.ID, foreign.ID, store.ErrNotFound},
		{"an unknown session", acct.ID, "ses_" + f.tag + "_nope", store.ErrNotFound},
	} {
		_, err := f.s.UpdateSession(f.ctx, c.acct, c.id, store.SessionUpdate{IdleTimeout: &rule}, func(store.Session) []api.AuditEvent {
			return []api.AuditEvent{f.auditEvent(api.AuditSessionRulesChanged, t0)}
		})
		is(f.t, c.what, err, c.want)
	}
	_, err = f.s.RevokeSession(f.ctx, acct.ID, s.ID, revocation(t0.Add(time.Minute), s), store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	_, err = f.s.UpdateSession(f.ctx, acct.ID, s.ID, store.SessionUpdate{IdleTimeout: &rule}, func(store.Session) []api.AuditEvent {
		return []api.AuditEvent{f.auditEvent(api.AuditSessionRulesChanged, t0)}
	})
	is(f.t, "a revoked session", err, store.ErrRevoked)
	f.checkLog("after refused updates", acct.ID, evs...)
	f.checkLog("other account", other.ID)
	check(f.t, "foreign session untouched", f.mustSession(foreign.ID).IdleTimeout, time.Duration(0))
}

func (f *fixture) withRule(s store.Session, d time.Duration) store.Session {
	s.IdleTimeout = d
	return s
}

// testEndIdleSessions: exactly the live sessions whose IdleDeadline is at
// or before the revocation's time end, each with its closure token, its
// device's remembered logins and its own event under its account; the
// limit, the account and the session filters hold.
func testEndIdleSessions(f *fixture) {
	acct, other := f.account(), f.account()
	f.setSettings(acct, store.Settings{AutoLogoutInactiveAfter: 7 * day})
	at := t0.Add(8 * day)
	mk := func(mod func(*store.Session)) store.Session {
		s, _ := f.session(acct, mod)
		return f.mustSession(s.ID)
	}
	seen := func(d time.Duration) func(*store.Session) {
		return func(s *store.Session) { s.LastSeenAt = at.Add(-d) }
	}
	both := func(d, own time.Duration) func(*store.Session) {
		return func(s *store.Session) { s.LastSeenAt, s.IdleTimeout = at.Add(-d), own }
	}
	due := []store.Session{
		mk(seen(7 * day)),                  // the account's rule, exactly at its deadline
		mk(seen(7*day + time.Microsecond)), // a microsecond past
		mk(both(2*day, day)),               // its own, stricter
	}
	notDue := []store.Session{
		mk(seen(7*day - time.Microsecond)), // a microsecond early
		mk(both(6*day, 30*day)),            // the account's week is stricter
		mk(func(s *store.Session) { // expires before the rule ends it
			s.LastSeenAt, s.ExpiresAt = at.Add(-8*day), at.Add(-day-time.Microsecond)
		}),
	}
	gone := mk(seen(9 * day))
	_, err := f.s.RevokeSession(f.ctx, acct.ID, gone.ID, revocation(at.Add(-time.Hour), gone), store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	foreign, _ := f.session(other, both(9*day, day))
	// A remembered login of the first due session's device, and one of a
	// device that keeps its session.
	f.remembered(acct, due[0].Device.ID, at.Add(day))
	kept := f.remembered(acct, notDue[0].Device.ID, at.Add(day))

	rev := store.Revocation{At: at, Reason: api.ReasonInactive}
	closures := newClosureHashes()
	base := f.auditEvent(api.AuditSessionRevoked, t0.Add(3*time.Hour).In(zone))
	sw := store.IdleSweep{Revocation: rev, AccountID: acct.ID, Limit: 2, Forget: true, Closure: closures.fn,
		Audit: func(e store.Session, forgotten int) api.AuditEvent { return idleEvent(base, e, forgotten) }}

	// One session alone, of the wrong account: nothing.
	only := sw
	only.SessionID, only.AccountID = due[2].ID, other.ID
	got, err := f.s.EndIdleSessions(f.ctx, only)
	ok(f.t, "EndIdleSessions of the wrong account", err)
	check(f.t, "ended of the wrong account", ids(got), []string{})
	// One session alone: just it.
	only.AccountID = acct.ID
	got, err = f.s.EndIdleSessions(f.ctx, only)
	ok(f.t, "EndIdleSessions of one session", err)
	check(f.t, "ended alone", ids(got), []string{due[2].ID})
	// The rest, two per call.
	first, err := f.s.EndIdleSessions(f.ctx, sw)
	ok(f.t, "EndIdleSessions", err)
	if len(first) != 2 {
		f.t.Fatalf("first call ended %v, want 2 (the limit)", ids(first))
	}
	rest, err := f.s.EndIdleSessions(f.ctx, sw)
	ok(f.t, "EndIdleSessions", err)
	if len(rest) != 0 {
		f.t.Fatalf("second call ended %v, want none", ids(rest))
	}
	got = append(got, first...)
	byID := map[string]store.Session{}
	for _, g := range got {
		byID[g.ID] = g
	}
	var wantLog []api.AuditEvent
	for i, d := range due {
		g, ok := byID[d.ID]
		if !ok {
			f.t.Errorf("due session %d was not ended", i)
			continue
		}
		want := revoked(d, rev)
		check(f.t, fmt.Sprintf("ended session %d", i), g, want)
		f.checkSession(fmt.Sprintf("ended session %d, read back", i), want)
		if closures.of(d.ID) == nil {
			f.t.Errorf("due session %d got no closure token", i)
		}
	}
	for _, g := range got {
		forgotten := 0
		if g.ID == due[0].ID {
			forgotten = 1
		}
		wantLog = append(wantLog, idleEvent(base, byID[g.ID], forgotten))
	}
	f.checkLog("EndIdleSessions", acct.ID, wantLog...)
	for i, n := range notDue {
		f.checkSession(fmt.Sprintf("session %d not due", i), n)
	}
	if s := f.mustSession(gone.ID); s.Revoked == nil || s.Revoked.Reason != api.ReasonRemoteLogout {
		f.t.Errorf("the revoked session now has %+v", s.Revoked)
	}
	if s := f.mustSession(foreign.ID); s.Revoked != nil {
		f.t.Error("another account's session was ended by an account's sweep")
	}
	// The closure token works; the remembered logins went with their device.
	_, err = f.s.ConfirmClosure(f.ctx, closures.of(due[1].ID), at.Add(time.Second), false, nil)
	ok(f.t, "ConfirmClosure", err)
	n, err := f.s.DeleteRememberedForDevice(f.ctx, acct.ID, due[0].Device.ID)
	ok(f.t, "DeleteRememberedForDevice", err)
	if n != 0 {
		f.t.Errorf("%d remembered logins of an ended device left", n)
	}
	_, err = f.s.ConsumeRemembered(f.ctx, kept.Hash, at)
	ok(f.t, "ConsumeRemembered of a device that keeps its session", err)

	// Without filters: the other account's due session too.
	all, err := f.s.EndIdleSessions(f.ctx, store.IdleSweep{Revocation: rev, Limit: 1000})
	ok(f.t, "EndIdleSessions of every account", err)
	if !slices.ContainsFunc(all, func(s store.Session) bool { return s.ID == foreign.ID }) {
		f.t.Errorf("a sweep of every account missed a due session: %v", ids(all))
	}
	for _, s := range all {
		if s.AccountID == acct.ID {
			f.t.Errorf("session %s ended twice", s.ID)
		}
	}
}

// testIdleDeadlineMoves: every write that moves a session's last use, its
// expiry or its rules moves its deadline: TouchSession, RecordUse (which
// never moves it back), RotateRefreshToken, UpdateSession, SetSettings;
// ListSessions leaves out sessions past their deadline.
func testIdleDeadlineMoves(f *fixture) {
	acct := f.account()
	at := t0.Add(2 * day)
	dueAt := func(s store.Session, when time.Time) bool {
		got, err := f.s.EndIdleSessions(f.ctx, store.IdleSweep{Revocation: store.Revocation{At: when, Reason: api.ReasonInactive},
			AccountID: acct.ID, SessionID: s.ID, Limit: 1})
		ok(f.t, "EndIdleSessions", err)
		return len(got) == 1
	}
	listed := func(s store.Session, when time.Time) bool {
		list, err := f.s.ListSessions(f.ctx, acct.ID, "", when, nil, 100)
		ok(f.t, "ListSessions", err)
		return slices.ContainsFunc(list, func(l store.Session) bool { return l.ID == s.ID })
	}
	rule := func(d time.Duration) func(*store.Session) { return func(s *store.Session) { s.IdleTimeout = d } }

	// Touch: from t0+1m to at-1h; due a day later, not before.
	touched, _ := f.session(acct, rule(day))
	ok(f.t, "TouchSession", f.s.TouchSession(f.ctx, touched.ID, store.Touch{LastSeenAt: at.Add(-time.Hour), ExpiresAt: at.Add(30 * day)}))
	if !listed(touched, at) || dueAt(touched, at.Add(23*time.Hour-time.Microsecond)) {
		f.t.Error("a touched session is due early")
	}
	if listed(touched, at.Add(23*time.Hour)) {
		f.t.Error("a session at its deadline is listed")
	}
	if !dueAt(touched, at.Add(23*time.Hour)) {
		f.t.Error("a touched session is not due at its deadline")
	}

	// RecordUse: forward only; revoked and unknown sessions skipped.
	used, _ := f.session(acct, rule(day))
	other, _ := f.session(acct, rule(day))
	_, err := f.s.RevokeSession(f.ctx, acct.ID, other.ID, revocation(t0.Add(2*time.Minute), used), store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	late, early := t0.Add(10*time.Hour), t0.Add(5*time.Hour)
	ok(f.t, "RecordUse", f.s.RecordUse(f.ctx, []store.Use{
		{SessionID: used.ID, At: late, ExpiresAt: late.Add(30 * day)},
		{SessionID: other.ID, At: late, ExpiresAt: late.Add(30 * day)},
		{SessionID: "ses_" + f.tag + "_nope", At: late, ExpiresAt: late},
	}))
	ok(f.t, "RecordUse", f.s.RecordUse(f.ctx, []store.Use{{SessionID: used.ID, At: early, ExpiresAt: early.Add(time.Hour)}}))
	ok(f.t, "RecordUse of nothing", f.s.RecordUse(f.ctx, nil))
	want := used
	want.LastSeenAt, want.ExpiresAt = late, late.Add(30*day)
	f.checkSession("after RecordUse", want)
	wantOther := revoked(other, revocation(t0.Add(2*time.Minute), used))
	f.checkSession("revoked session after RecordUse", wantOther)
	if dueAt(used, late.Add(day-time.Microsecond)) || !dueAt(used, late.Add(day)) {
		f.t.Error("RecordUse did not move the deadline to the use")
	}

	// Rotation: a refresh is use.
	rotated, rt := f.session(acct, rule(day))
	ok(f.t, "RotateRefreshToken", f.s.RotateRefreshToken(f.ctx, store.Rotation{SessionID: rotated.ID,
		New:        store.RefreshToken{Hash: randHash(), SessionID: rotated.ID, IssuedAt: at, ExpiresAt: at.Add(30 * day)},
		AccessHash: randHash(), AccessExpiresAt: at.Add(time.Hour), LastSeenAt: at, ExpiresAt: at.Add(30 * day)}))
	_ = rt
	if dueAt(rotated, at.Add(day-time.Microsecond)) || !dueAt(rotated, at.Add(day)) {
		f.t.Error("a rotation did not move the deadline")
	}

	// A rule set later, and the account's: the stricter applies at once.
	s, _ := f.session(acct, nil)
	if dueAt(s, t0.Add(300*day)) {
		f.t.Error("a session without a rule is due")
	}
	week := 7 * day
	_, err = f.s.UpdateSession(f.ctx, acct.ID, s.ID, store.SessionUpdate{IdleTimeout: &week}, nil)
	ok(f.t, "UpdateSession", err)
	f.setSettings(acct, store.Settings{AutoLogoutInactiveAfter: 3 * day})
	last := f.mustSession(s.ID).LastSeenAt
	if dueAt(s, last.Add(3*day-time.Microsecond)) || !dueAt(s, last.Add(3*day)) {
		f.t.Error("the account's stricter rule did not set the deadline")
	}
}

// testConcurrentEndIdleSessions: sweeps racing over the same due sessions
// (replicas) end each exactly once, with one event each.
func testConcurrentEndIdleSessions(f *fixture) {
	acct := f.account()
	f.setSettings(acct, store.Settings{AutoLogoutInactiveAfter: day})
	const n = 30
	var want []string
	for range n {
		s, _ := f.session(acct, nil)
		want = append(want, s.ID)
	}
	at := t0.Add(2 * day)
	audit := f.idleAudit()
	var (
		mu    sync.Mutex
		ended []string
	)
	errs := make([]error, 4)
	barrier.Run(len(errs), func(i int) {
		for {
			got, err := f.s.EndIdleSessions(context.Background(), store.IdleSweep{
				Revocation: store.Revocation{At: at, Reason: api.ReasonInactive},
				AccountID:  acct.ID, Limit: 3, Forget: true, Closure: newClosureHashes().fn, Audit: audit})
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			ended = append(ended, ids(got)...)
			mu.Unlock()
			if len(got) < 3 {
				return
			}
		}
	})
	for i, err := range errs {
		ok(f.t, fmt.Sprintf("sweeper %d", i), err)
	}
	// A sweeper that saw none left (others held them) stops early; one
	// more sweep finds any it left.
	ended = append(ended, ids(f.sweep(acct, at, 100))...)
	slices.Sort(ended)
	check(f.t, "ended sessions", ended, want)
	var logged []string
	for _, e := range f.auditLog(acct.ID) {
		if e.Type == api.AuditSessionRevoked {
			logged = append(logged, e.TargetSessionID)
		}
	}
	slices.Sort(logged)
	check(f.t, "session.revoked events", logged, want)
}

// testConcurrentSettingsAndSignIns: sessions created while the account's
// rule changes all end up with the rule that was set last.
func testConcurrentSettingsAndSignIns(f *fixture) {
	acct := f.account()
	const n = 12
	errs := make([]error, 2)
	barrier.Run(2, func(i int) {
		for k := range n {
			if i == 0 {
				s, rt := f.newSession(acct, nil)
				if err := f.s.CreateSession(context.Background(), s, rt); err != nil {
					errs[0] = fmt.Errorf("session %d: %w", k, err)
					return
				}
			} else if _, err := f.s.SetSettings(context.Background(), acct.ID,
				store.Settings{AutoLogoutInactiveAfter: time.Duration(k+1) * time.Hour}, nil); err != nil {
				errs[1] = err
				return
			}
		}
	})
	ok(f.t, "CreateSession", errs[0])
	ok(f.t, "SetSettings", errs[1])
	list, err := f.s.ListSessions(f.ctx, acct.ID, "", t0, nil, 100)
	ok(f.t, "ListSessions", err)
	if len(list) != n {
		f.t.Fatalf("%d sessions listed, want %d", len(list), n)
	}
	for _, s := range list {
		if s.AccountIdleTimeout != n*time.Hour {
			f.t.Errorf("session %s has the account's rule %v, want the last one set, %v", s.ID, s.AccountIdleTimeout, n*time.Hour)
		}
	}
}
