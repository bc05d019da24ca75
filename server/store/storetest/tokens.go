package storetest

import (
	"time"

	"sessionguard/server/store"
)

// rotation returns a refresh of s issued at issued.
func rotation(s store.Session, issued time.Time) store.Rotation {
	return store.Rotation{
		SessionID: s.ID,
		New: store.RefreshToken{
			Hash:      randHash(),
			SessionID: s.ID,
			IssuedAt:  issued,
			ExpiresAt: issued.Add(30 * 24 * time.Hour),
		},
		AccessHash:      randHash(),
		AccessExpiresAt: issued.Add(15 * time.Minute),
		LastSeenAt:      issued,
		ExpiresAt:       issued.Add(30 * 24 * time.Hour),
	}
}

// rotated returns s after rot.
func rotated(s store.Session, rot store.Rotation) store.Session {
	s.AccessHash = rot.AccessHash
	s.AccessExpiresAt = rot.AccessExpiresAt
	s.LastSeenAt = rot.LastSeenAt
	s.ExpiresAt = rot.ExpiresAt
	return s
}

// rotatedAt returns rt rotated at at.
func rotatedAt(rt store.RefreshToken, at time.Time) store.RefreshToken {
	rt.RotatedAt = &at
	return rt
}

func testRotateRefreshToken(f *fixture) {
	acct := f.account()
	s, rt0 := f.session(acct, nil)
	other, otherRT := f.session(acct, nil)

	rot1 := rotation(s, t0.Add(20*time.Minute).In(zone))
	ok(f.t, "RotateRefreshToken", f.s.RotateRefreshToken(f.ctx, rot1))
	check(f.t, "first token after rotation", f.mustToken(rt0.Hash), rotatedAt(rt0, rot1.New.IssuedAt))
	check(f.t, "new token", f.mustToken(rot1.New.Hash), rot1.New)
	want := rotated(s, rot1)
	f.checkSession("rotated session", want)

	_, err := f.s.SessionByAccessHash(f.ctx, s.AccessHash)
	is(f.t, "SessionByAccessHash(replaced access token)", err, store.ErrNotFound)
	got, err := f.s.SessionByAccessHash(f.ctx, rot1.AccessHash)
	ok(f.t, "SessionByAccessHash(new access token)", err)
	check(f.t, "SessionByAccessHash(new access token)", got, want)

	// Again: only the live token is stamped; the older one keeps its time.
	rot2 := rotation(s, t0.Add(40*time.Minute))
	ok(f.t, "RotateRefreshToken again", f.s.RotateRefreshToken(f.ctx, rot2))
	check(f.t, "first token after two rotations", f.mustToken(rt0.Hash), rotatedAt(rt0, rot1.New.IssuedAt))
	check(f.t, "second token", f.mustToken(rot1.New.Hash), rotatedAt(rot1.New, rot2.New.IssuedAt))
	check(f.t, "third token", f.mustToken(rot2.New.Hash), rot2.New)
	f.checkSession("twice rotated session", rotated(s, rot2))
	_, err = f.s.SessionByAccessHash(f.ctx, rot1.AccessHash)
	is(f.t, "SessionByAccessHash(second access token)", err, store.ErrNotFound)

	f.checkSession("other session", other)
	check(f.t, "other session's token", f.mustToken(otherRT.Hash), otherRT)
}

func testRotateRevoked(f *fixture) {
	acct := f.account()
	s, rt0 := f.session(acct, nil)
	actor, _ := f.session(acct, nil)
	rot1 := rotation(s, t0.Add(20*time.Minute))
	ok(f.t, "RotateRefreshToken", f.s.RotateRefreshToken(f.ctx, rot1))
	r := revocation(t0.Add(30*time.Minute), actor)
	_, err := f.s.RevokeSession(f.ctx, acct.ID, s.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)

	rot2 := rotation(s, t0.Add(40*time.Minute))
	is(f.t, "RotateRefreshToken(revoked)", f.s.RotateRefreshToken(f.ctx, rot2), store.ErrRevoked)

	_, err = f.s.RefreshToken(f.ctx, rot2.New.Hash)
	is(f.t, "token of the refused rotation", err, store.ErrNotFound)
	check(f.t, "live token after refused rotation", f.mustToken(rot1.New.Hash), rot1.New)
	check(f.t, "rotated token after refused rotation", f.mustToken(rt0.Hash), rotatedAt(rt0, rot1.New.IssuedAt))
	want := revoked(rotated(s, rot1), r)
	f.checkSession("session after refused rotation", want)
	_, err = f.s.SessionByAccessHash(f.ctx, rot2.AccessHash)
	is(f.t, "SessionByAccessHash(refused access token)", err, store.ErrNotFound)
	got, err := f.s.SessionByAccessHash(f.ctx, rot1.AccessHash)
	ok(f.t, "SessionByAccessHash(access token before refusal)", err)
	check(f.t, "SessionByAccessHash(access token before refusal)", got, want)
}
