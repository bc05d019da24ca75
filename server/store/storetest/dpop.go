package storetest

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

// Device-bound sessions (issue 21): Session.JKT, and MarkDPoPRefused.

// jkt returns a new stand-in key thumbprint: 43 base64url characters, as
// a JWK SHA-256 thumbprint is.
func jkt() string { return base64.RawURLEncoding.EncodeToString(randHash()) }

// boundTo binds a session to the key with thumbprint k.
func boundTo(k string) func(*store.Session) {
	return func(s *store.Session) { s.JKT = k }
}

// refusedEvent is the event a server writes when the bound session s is
// used without its key.
func (f *fixture) refusedEvent(s store.Session, at time.Time) api.AuditEvent {
	return api.AuditEvent{
		ID:              f.id("evt"),
		At:              at,
		Type:            api.AuditDPoPRefused,
		IP:              "198.51.100.23",
		Location:        api.Location{City: "Lyon", Region: "Auvergne-Rhône-Alpes", Country: "France", CountryCode: "FR"},
		SessionID:       s.ID,
		DeviceName:      s.Device.Name,
		TargetSessionID: s.ID,
		Detail:          "Its token was used without the key on its device (no proof)",
	}
}

// testBoundSessionReads: a session's key thumbprint (JKT) is stored by
// CreateSession and comes back from every call that returns a session,
// through every change the session can go through; an unbound session's
// stays "". Each step compares whole sessions, JKT included.
func testBoundSessionReads(f *fixture) {
	acct := f.account()
	seen := func(d time.Duration) func(*store.Session) {
		return func(s *store.Session) { s.LastSeenAt = t0.Add(d) }
	}
	both := func(a, b func(*store.Session)) func(*store.Session) {
		return func(s *store.Session) { a(s); b(s) }
	}
	k1, k2 := jkt(), jkt()
	bound, _ := f.session(acct, both(boundTo(k1), seen(4*time.Minute)))
	// A second session of the same key (a second sign-in of the install).
	sameKey, _ := f.session(acct, both(boundTo(k1), seen(3*time.Minute)))
	other, _ := f.session(acct, both(boundTo(k2), seen(2*time.Minute)))
	unbound, _ := f.session(acct, seen(time.Minute))
	idle, _ := f.session(acct, both(boundTo(jkt()), func(s *store.Session) {
		s.LastSeenAt, s.IdleTimeout = t0, 30*time.Minute
	}))
	if unbound.JKT != "" {
		f.t.Fatalf("the fixture's session is bound (%q)", unbound.JKT)
	}

	// Point reads.
	for _, s := range []store.Session{bound, sameKey, other, unbound, idle} {
		f.checkSession("Session "+s.JKT, s)
		got, err := f.s.SessionByAccessHash(f.ctx, s.AccessHash)
		ok(f.t, "SessionByAccessHash", err)
		check(f.t, "SessionByAccessHash "+s.JKT, got, s)
	}

	// Lists and searches, in list order (LastSeenAt descending).
	lists := []struct {
		name string
		call func() ([]store.Session, error)
		want []store.Session
	}{
		{"ListSessions", func() ([]store.Session, error) {
			return f.s.ListSessions(f.ctx, acct.ID, "", t0, nil, 10)
		}, []store.Session{bound, sameKey, other, unbound, idle}},
		{"ListSessions after a cursor", func() ([]store.Session, error) {
			return f.s.ListSessions(f.ctx, acct.ID, bound.ID, t0, &store.SessionCursor{LastSeenAt: sameKey.LastSeenAt, ID: sameKey.ID}, 10)
		}, []store.Session{other, unbound, idle}},
		{"SearchSessions", func() ([]store.Session, error) {
			return f.s.SearchSessions(f.ctx, acct.ID, "", t0, other.Device.Name, nil, 10)
		}, []store.Session{other}},
	}
	for _, l := range lists {
		got, err := l.call()
		ok(f.t, l.name, err)
		check(f.t, l.name, got, l.want)
	}

	// Changes keep the key.
	rot := rotation(bound, t0.Add(10*time.Minute))
	ok(f.t, "RotateRefreshToken", f.s.RotateRefreshToken(f.ctx, rot))
	bound = rotated(bound, rot)
	f.checkSession("rotated bound session", bound)
	ok(f.t, "TouchSession", f.s.TouchSession(f.ctx, sameKey.ID, store.Touch{
		LastSeenAt: t0.Add(11 * time.Minute), ExpiresAt: sameKey.ExpiresAt, IP: "192.0.2.44", Location: sameKey.Location}))
	sameKey.LastSeenAt, sameKey.IP = t0.Add(11*time.Minute), "192.0.2.44"
	f.checkSession("touched bound session", sameKey)
	got, err := f.s.RenameSession(f.ctx, acct.ID, other.ID, "Renamed", nil)
	ok(f.t, "RenameSession", err)
	other = renamed(other, "Renamed")
	check(f.t, "RenameSession result", got, other)
	rule := time.Hour
	got, err = f.s.UpdateSession(f.ctx, acct.ID, other.ID, store.SessionUpdate{IdleTimeout: &rule}, nil)
	ok(f.t, "UpdateSession", err)
	other.IdleTimeout = rule
	check(f.t, "UpdateSession result", got, other)

	// Ends: each returns the session with its key.
	sweep := store.Revocation{At: t0.Add(40 * time.Minute), Reason: api.ReasonInactive}
	ended, err := f.s.EndIdleSessions(f.ctx, store.IdleSweep{Revocation: sweep, AccountID: acct.ID, SessionID: idle.ID, Limit: 1})
	ok(f.t, "EndIdleSessions", err)
	idle = revoked(idle, sweep)
	check(f.t, "EndIdleSessions result", ended, []store.Session{idle})

	r := revocation(t0.Add(time.Hour), unbound)
	closure := randHash()
	got, err = f.s.RevokeSession(f.ctx, acct.ID, bound.ID, r, store.RevokeEffects{
		Closure: func(string) []byte { return closure }})
	ok(f.t, "RevokeSession", err)
	bound = revoked(bound, r)
	check(f.t, "RevokeSession result", got, bound)
	_, err = f.s.RevokeSession(f.ctx, acct.ID, bound.ID, r, store.RevokeEffects{})
	is(f.t, "RevokeSession again", err, store.ErrRevoked)
	receipt := store.Receipt{At: t0.Add(2 * time.Hour), Erased: true}
	got, err = f.s.ConfirmClosure(f.ctx, closure, receipt.At, receipt.Erased, nil)
	ok(f.t, "ConfirmClosure", err)
	bound.Receipt = &receipt
	check(f.t, "ConfirmClosure result", got, bound)

	ended, _, err = f.s.ChangePassword(f.ctx, store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash,
		NewHash: acct.PasswordHash + "2", Revoke: &r})
	ok(f.t, "ChangePassword", err)
	sameKey, other, unbound = revoked(sameKey, r), revoked(other, r), revoked(unbound, r)
	check(f.t, "ChangePassword's ended sessions", ended, []store.Session{sameKey, other, unbound})

	endedList, err := f.s.ListEndedSessions(f.ctx, acct.ID, t0, nil, 10)
	ok(f.t, "ListEndedSessions", err)
	// Revoked at one instant (r) but idle before: ID descending, then idle.
	check(f.t, "ListEndedSessions", endedList, []store.Session{unbound, other, sameKey, bound, idle})

	// RevokeOtherSessions' results carry the key too.
	acct2 := f.account()
	keep, _ := f.session(acct2, nil)
	b2, _ := f.session(acct2, boundTo(k2))
	r2 := revocation(t0.Add(time.Hour), keep)
	out, err := f.s.RevokeOtherSessions(f.ctx, acct2.ID, keep.ID, r2, store.RevokeEffects{})
	ok(f.t, "RevokeOtherSessions", err)
	check(f.t, "RevokeOtherSessions result", out, []store.Session{revoked(b2, r2)})
	f.checkSession("kept unbound session", keep)
}

// testMarkDPoPRefused: the first refusal of a bound session is noted and
// its event appended to the session's account's log, chained after what
// was there; later ones for the session write nothing and report false;
// another session is noted on its own; an unknown session is
// store.ErrNotFound. Nothing else of any session changes: it is not a
// revocation.
func testMarkDPoPRefused(f *fixture) {
	acct, other := f.account(), f.account()
	k := jkt()
	bound, _ := f.session(acct, boundTo(k))
	sibling, _ := f.session(acct, boundTo(k))
	actor, _ := f.session(acct, nil)
	gone, _ := f.session(acct, boundTo(jkt()))
	r := revocation(t0.Add(time.Minute), actor)
	_, err := f.s.RevokeSession(f.ctx, acct.ID, gone.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	gone = revoked(gone, r)
	foreign, _ := f.session(other, boundTo(jkt()))

	// The log has an event already: the mark's is chained after it.
	login := f.auditEvent(api.AuditLoginSucceeded, t0)
	_, err = f.s.AppendAudit(f.ctx, acct.ID, login)
	ok(f.t, "AppendAudit", err)
	logs := map[string][]api.AuditEvent{acct.ID: {login}}

	steps := []struct {
		name    string
		s       store.Session
		want    bool
		wantErr error
	}{
		{"first use without the key", bound, true, nil},
		{"the same session again", bound, false, nil},
		{"the same session, later still", bound, false, nil},
		{"another session of the same key", sibling, true, nil},
		{"a revoked session", gone, true, nil},
		{"unknown session", store.Session{ID: f.id("ses"), AccountID: acct.ID}, false, store.ErrNotFound},
		{"another account's session", foreign, true, nil},
		{"that one again", foreign, false, nil},
	}
	for i, st := range steps {
		e := f.refusedEvent(st.s, t0.Add(time.Duration(i+2)*time.Minute).In(zone))
		first, err := f.s.MarkDPoPRefused(f.ctx, st.s.ID, e)
		if st.wantErr != nil {
			is(f.t, st.name+": MarkDPoPRefused", err, st.wantErr)
		} else {
			ok(f.t, st.name+": MarkDPoPRefused", err)
		}
		if first != st.want {
			f.t.Errorf("%s: MarkDPoPRefused = %v, want %v", st.name, first, st.want)
		}
		if st.want {
			logs[st.s.AccountID] = append(logs[st.s.AccountID], e)
		}
		// checkLog checks the chain with the independent checker.
		f.checkLog(st.name, acct.ID, logs[acct.ID]...)
		f.checkLog(st.name+": other account", other.ID, logs[other.ID]...)
	}
	for _, s := range []store.Session{bound, sibling, actor, gone, foreign} {
		f.checkSession("after the marks", s)
	}
	// The marked session goes on working.
	rot := rotation(bound, t0.Add(time.Hour))
	ok(f.t, "RotateRefreshToken of a marked session", f.s.RotateRefreshToken(f.ctx, rot))
	f.checkSession("marked session after a rotation", rotated(bound, rot))
	if first, err := f.s.MarkDPoPRefused(f.ctx, bound.ID, f.refusedEvent(bound, t0.Add(2*time.Hour))); err != nil || first {
		f.t.Errorf("MarkDPoPRefused after a rotation = %v, %v; want false (once per session)", first, err)
	}
	f.checkLog("after all", acct.ID, logs[acct.ID]...)
}

// testMarkDPoPRefusedCanceled: a call under a canceled context fails with
// context.Canceled and writes nothing: neither the mark (the next call is
// still the first) nor the event.
func testMarkDPoPRefusedCanceled(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, boundTo(jkt()))
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	_, err := f.s.MarkDPoPRefused(ctx, s.ID, f.refusedEvent(s, t0))
	is(f.t, "MarkDPoPRefused(canceled)", err, context.Canceled)
	f.checkLog("after a canceled mark", acct.ID)
	e := f.refusedEvent(s, t0.Add(time.Minute))
	first, err := f.s.MarkDPoPRefused(f.ctx, s.ID, e)
	ok(f.t, "MarkDPoPRefused", err)
	if !first {
		f.t.Error("MarkDPoPRefused after a canceled one = false, want true: the canceled call left its mark")
	}
	f.checkLog("after the mark", acct.ID, e)
}

// testConcurrentMarkDPoPRefused: of concurrent marks of one session (on
// several replicas, for PostgreSQL's), exactly one reports first, and the
// log holds its event alone.
func testConcurrentMarkDPoPRefused(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, boundTo(jkt()))
	var (
		events [racers]api.AuditEvent
		firsts [racers]bool
		errs   [racers]error
	)
	for i := range events {
		events[i] = f.refusedEvent(s, t0.Add(time.Duration(i)*time.Millisecond))
	}
	barrier.Run(racers, func(i int) { firsts[i], errs[i] = f.s.MarkDPoPRefused(f.ctx, s.ID, events[i]) })
	f.oneTrue("MarkDPoPRefused", firsts[:], errs[:])
	for i, first := range firsts {
		if first {
			f.checkLog("after racing marks", acct.ID, events[i])
		}
	}
	f.checkSession("session after racing marks", s)
}

// UpgradedToBound checks a store just upgraded to device-bound sessions
// (issue 21) from a schema that held account acc_1, its session ses_1
// (device "Laptop", access hash 0x01) and the chained event login: the
// session is kept, unbound (JKT ""), and works as before (a touch, a
// rotation); the first refusal without a key is marked once and its event
// chained after login; a bound session can be created beside it. now is
// the time the schema's rows were written around.
func UpgradedToBound(t *testing.T, s store.Store, login api.AuditEvent, now time.Time) {
	t.Helper()
	ctx := t.Context()
	ses, err := s.Session(ctx, "ses_1")
	if err != nil {
		t.Fatalf("session after the upgrade: %v", err)
	}
	if ses.JKT != "" || ses.Device.Name != "Laptop" || ses.Revoked != nil {
		t.Errorf("session after the upgrade: JKT %q, name %q, revoked %v; want unbound, Laptop, live", ses.JKT, ses.Device.Name, ses.Revoked)
	}
	byHash, err := s.SessionByAccessHash(ctx, []byte{1})
	if err != nil || byHash.ID != "ses_1" || byHash.JKT != "" {
		t.Errorf("SessionByAccessHash after the upgrade = %s %q, %v", byHash.ID, byHash.JKT, err)
	}
	list, err := s.ListSessions(ctx, "acc_1", "", now, nil, 10)
	if err != nil || len(list) != 1 || list[0].JKT != "" {
		t.Errorf("ListSessions after the upgrade = %+v, %v; want ses_1, unbound", list, err)
	}
	// It works as before: a touch, a rotation.
	if err := s.TouchSession(ctx, "ses_1", store.Touch{LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		t.Errorf("TouchSession after the upgrade: %v", err)
	}
	if err := s.RotateRefreshToken(ctx, store.Rotation{SessionID: "ses_1",
		New:        store.RefreshToken{Hash: []byte{4}, SessionID: "ses_1", IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)},
		AccessHash: []byte{5}, AccessExpiresAt: now.Add(15 * time.Minute), LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour),
	}); err != nil {
		t.Errorf("RotateRefreshToken after the upgrade: %v", err)
	}

	// Marked once; the event chains after the one written before.
	refused := api.AuditEvent{ID: "evt_2", At: now, Type: api.AuditDPoPRefused, SessionID: "ses_1", TargetSessionID: "ses_1",
		DeviceName: "Laptop", Detail: "Its token was used without the key on its device (no proof)"}
	for i, want := range []bool{true, false} {
		if first, err := s.MarkDPoPRefused(ctx, "ses_1", refused); err != nil || first != want {
			t.Errorf("MarkDPoPRefused %d after the upgrade = %v, %v; want %v", i, first, err, want)
		}
	}
	events, err := s.AuditSince(ctx, "acc_1", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []api.AuditEvent{login, auditchain.Link(&login, refused)}; len(events) != 2 ||
		events[0].Hash != want[0].Hash || events[1].Hash != want[1].Hash || events[1].Seq != 2 {
		t.Errorf("log after the upgrade = %+v, want %+v", events, want)
	}
	v := auditchain.NewVerifier("acc_1")
	for _, e := range events {
		if err := v.Add(e); err != nil {
			t.Error(err)
		}
	}
	head, err := s.AuditHead(ctx, "acc_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CheckHead(head); err != nil {
		t.Error(err)
	}

	// A bound session beside the old one.
	bound := ses
	bound.ID, bound.AccessHash, bound.JKT = "ses_2", []byte{6}, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	bound.InstallHash = nil
	if err := s.CreateSession(ctx, bound, store.RefreshToken{Hash: []byte{7}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, "ses_2"); err != nil || got.JKT != bound.JKT {
		t.Errorf("bound session on the upgraded store: JKT %q, %v; want %q", got.JKT, err, bound.JKT)
	}
}
