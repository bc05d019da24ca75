package storetest

import (
	"slices"
	"strings"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

func testRevokeSession(f *fixture) {
	now := t0.Add(time.Hour)
	acct, other := f.account(), f.account()
	actor, _ := f.session(acct, nil)
	target, _ := f.session(acct, nil)
	bystander, _ := f.session(acct, nil)
	foreign, _ := f.session(other, nil)
	r := revocation(now.In(zone), actor)

	// Refused: nothing changes.
	refused := []struct {
		name      string
		accountID string
		id        string
	}{
		{"another account's session", acct.ID, foreign.ID},
		{"own session through another account", other.ID, target.ID},
		{"unknown session", acct.ID, f.id("ses")},
		{"unknown account", f.id("acc"), target.ID},
	}
	for _, tc := range refused {
		_, err := f.s.RevokeSession(f.ctx, tc.accountID, tc.id, r, store.RevokeEffects{})
		is(f.t, "RevokeSession("+tc.name+")", err, store.ErrNotFound)
	}
	for _, s := range []store.Session{actor, target, bystander, foreign} {
		f.checkSession("after refused revocations", s)
	}

	got, err := f.s.RevokeSession(f.ctx, acct.ID, target.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	want := revoked(target, r)
	check(f.t, "RevokeSession result", got, want)
	f.checkSession("revoked session", want)

	// Its access token still finds it, so the caller can say why it ended.
	byHash, err := f.s.SessionByAccessHash(f.ctx, target.AccessHash)
	ok(f.t, "SessionByAccessHash(revoked)", err)
	check(f.t, "SessionByAccessHash(revoked)", byHash, want)

	list, err := f.s.ListSessions(f.ctx, acct.ID, "", now, nil, 10)
	ok(f.t, "ListSessions", err)
	if slices.Contains(ids(list), target.ID) || len(list) != 2 {
		f.t.Errorf("ListSessions after revoke = %v, want %v", ids(list), []string{bystander.ID, actor.ID})
	}

	// Already revoked: ErrRevoked, the session as it is, the first
	// revocation kept.
	again, err := f.s.RevokeSession(f.ctx, acct.ID, target.ID, store.Revocation{
		At: now.Add(time.Minute), Reason: api.ReasonAdmin, BySessionID: bystander.ID, ByDeviceName: "someone else",
	}, store.RevokeEffects{})
	is(f.t, "RevokeSession(already revoked)", err, store.ErrRevoked)
	check(f.t, "RevokeSession(already revoked) result", again, want)
	f.checkSession("twice revoked session", want)

	// A revocation by no session (expiry, admin) round-trips its empty fields.
	sys := store.Revocation{At: now, Reason: api.ReasonExpired}
	got, err = f.s.RevokeSession(f.ctx, acct.ID, bystander.ID, sys, store.RevokeEffects{})
	ok(f.t, "RevokeSession(expired)", err)
	check(f.t, "RevokeSession(expired) result", got, revoked(bystander, sys))

	f.checkSession("actor", actor)
	f.checkSession("other account's session", foreign)
}

func testRevokeOtherSessions(f *fixture) {
	now := t0.Add(time.Hour)
	acct, other, third := f.account(), f.account(), f.account()
	keep, _ := f.session(acct, nil)
	var targets []store.Session
	for i := range 4 {
		s, _ := f.session(acct, seenAt(now.Add(-time.Duration(i)*time.Second)))
		targets = append(targets, s)
	}
	earlier, _ := f.session(acct, nil)
	r0 := store.Revocation{At: now.Add(-time.Hour), Reason: api.ReasonLogout, BySessionID: earlier.ID, ByDeviceName: earlier.Device.Name}
	_, err := f.s.RevokeSession(f.ctx, acct.ID, earlier.ID, r0, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	foreign1, _ := f.session(other, nil)
	foreign2, _ := f.session(other, nil)
	// Expired but never revoked: not live, so not ended and not counted.
	expired, _ := f.session(acct, func(s *store.Session) { s.ExpiresAt = now })

	r := store.Revocation{At: now, Reason: api.ReasonLogoutOthers, BySessionID: keep.ID, ByDeviceName: keep.Device.Name}
	got, err := f.s.RevokeOtherSessions(f.ctx, acct.ID, keep.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeOtherSessions", err)
	byID := func(a, b store.Session) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(got, byID)
	var want []store.Session
	for _, s := range targets {
		want = append(want, revoked(s, r))
	}
	slices.SortFunc(want, byID)
	if !slices.Equal(ids(got), ids(want)) {
		f.t.Fatalf("RevokeOtherSessions ended %v, want %v", ids(got), ids(want))
	}
	check(f.t, "RevokeOtherSessions result", got, want)
	for _, s := range want {
		f.checkSession("revoked by RevokeOtherSessions", s)
	}
	f.checkSession("kept session", keep)
	f.checkSession("expired session", expired)
	f.checkSession("session revoked before", revoked(earlier, r0))
	f.checkSession("other account's session", foreign1)
	f.checkSession("other account's session", foreign2)

	again, err := f.s.RevokeOtherSessions(f.ctx, acct.ID, keep.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeOtherSessions again", err)
	if len(again) != 0 {
		f.t.Errorf("RevokeOtherSessions again ended %v, want none", ids(again))
	}

	// An empty keepID keeps nothing.
	var all []string
	for range 3 {
		s, _ := f.session(third, nil)
		all = append(all, s.ID)
	}
	got, err = f.s.RevokeOtherSessions(f.ctx, third.ID, "", r, store.RevokeEffects{})
	ok(f.t, "RevokeOtherSessions(keep none)", err)
	gotIDs := ids(got)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, all) {
		f.t.Errorf("RevokeOtherSessions(keep none) ended %v, want %v", gotIDs, all)
	}
	f.checkSession("kept session", keep)
}
