package storetest

import (
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

func testSessionRoundTrip(f *fixture) {
	acct := f.account()
	cases := []struct {
		name string
		mod  func(*store.Session)
	}{
		{"remembered, full device and location", nil},
		{"not remembered, nothing known about the place, no install key", func(s *store.Session) {
			s.Remember = false
			s.InstallHash = nil
			s.Location = api.Location{}
			s.IP = "2001:db8::1"
			s.Device = api.Device{ID: "dev_" + s.ID, Name: "Desktop", Platform: api.PlatformLinux}
			s.ExpiresAt = t0.Add(12 * time.Hour)
			s.AbsoluteExpiresAt = s.ExpiresAt
		}},
		{"bound to a device key", func(s *store.Session) { s.JKT = jkt() }},
		{"times in another zone", func(s *store.Session) {
			s.LastSeenAt = s.LastSeenAt.In(zone)
			s.AuthTime = s.AuthTime.In(zone)
			s.ExpiresAt = s.ExpiresAt.In(zone)
			s.AbsoluteExpiresAt = s.AbsoluteExpiresAt.In(zone)
			s.AccessExpiresAt = s.AccessExpiresAt.In(zone)
		}},
	}
	for _, tc := range cases {
		s, rt := f.session(acct, tc.mod)
		if len(s.InstallHash) > 0 {
			f.knownInstall(tc.name+": install of the session", acct.ID, s.InstallHash, true)
		}

		got, err := f.s.Session(f.ctx, s.ID)
		ok(f.t, tc.name+": Session", err)
		check(f.t, tc.name+": Session", got, s)

		got, err = f.s.SessionByAccessHash(f.ctx, s.AccessHash)
		ok(f.t, tc.name+": SessionByAccessHash", err)
		check(f.t, tc.name+": SessionByAccessHash", got, s)

		gotRT, err := f.s.RefreshToken(f.ctx, rt.Hash)
		ok(f.t, tc.name+": RefreshToken", err)
		check(f.t, tc.name+": RefreshToken", gotRT, rt)
	}
}

func testSessionNotFound(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, nil)
	unknown := f.id("ses")
	newRT := store.RefreshToken{Hash: randHash(), SessionID: unknown, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}

	cases := []struct {
		name string
		call func() error
	}{
		{"Session", func() error { _, err := f.s.Session(f.ctx, unknown); return err }},
		{"SessionByAccessHash", func() error { _, err := f.s.SessionByAccessHash(f.ctx, randHash()); return err }},
		{"RefreshToken", func() error { _, err := f.s.RefreshToken(f.ctx, randHash()); return err }},
		{"TouchSession", func() error {
			return f.s.TouchSession(f.ctx, unknown, store.Touch{LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)})
		}},
		{"SetAuthTime", func() error { return f.s.SetAuthTime(f.ctx, unknown, t0) }},
		{"RotateRefreshToken", func() error {
			return f.s.RotateRefreshToken(f.ctx, store.Rotation{
				SessionID: unknown, New: newRT, AccessHash: randHash(),
				AccessExpiresAt: t0.Add(time.Hour), LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour),
			})
		}},
	}
	for _, tc := range cases {
		is(f.t, tc.name+"(unknown)", tc.call(), store.ErrNotFound)
	}
	_, err := f.s.RefreshToken(f.ctx, newRT.Hash)
	is(f.t, "RefreshToken inserted by a refused rotation", err, store.ErrNotFound)
	f.checkSession("bystander session", s)
}

// testCreateSessionAtomic: a session whose first refresh token cannot be
// stored (its hash is taken) is not stored either.
func testCreateSessionAtomic(f *fixture) {
	acct := f.account()
	a, rtA := f.session(acct, nil)

	b := a
	b.ID = f.id("ses")
	b.AccessHash = randHash()
	rtB := rtA
	rtB.SessionID = b.ID
	if err := f.s.CreateSession(f.ctx, b, rtB); err == nil {
		f.t.Fatal("CreateSession with a refresh token hash already in use succeeded")
	}
	_, err := f.s.Session(f.ctx, b.ID)
	is(f.t, "Session(half-created)", err, store.ErrNotFound)
	_, err = f.s.SessionByAccessHash(f.ctx, b.AccessHash)
	is(f.t, "SessionByAccessHash(half-created)", err, store.ErrNotFound)
	check(f.t, "first session's refresh token", f.mustToken(rtA.Hash), rtA)
	f.checkSession("first session", a)
}

func testTouchSession(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, nil)
	other, _ := f.session(acct, nil)

	touch := store.Touch{
		LastSeenAt: t0.Add(2 * time.Hour).In(zone),
		ExpiresAt:  t0.Add(31 * 24 * time.Hour),
		IP:         "198.51.100.23",
		Location:   api.Location{City: "Lyon", Region: "Auvergne-Rhône-Alpes", Country: "France", CountryCode: "FR"},
	}
	ok(f.t, "TouchSession", f.s.TouchSession(f.ctx, s.ID, touch))
	want := s
	want.LastSeenAt, want.ExpiresAt, want.IP, want.Location = touch.LastSeenAt, touch.ExpiresAt, touch.IP, touch.Location
	f.checkSession("touched session", want)
	f.checkSession("other session", other)

	// An unknown place is recorded as unknown, not kept from before.
	touch2 := store.Touch{LastSeenAt: t0.Add(3 * time.Hour), ExpiresAt: touch.ExpiresAt, IP: "192.0.2.1"}
	ok(f.t, "TouchSession without location", f.s.TouchSession(f.ctx, s.ID, touch2))
	want.LastSeenAt, want.IP, want.Location = touch2.LastSeenAt, touch2.IP, api.Location{}
	f.checkSession("touched again", want)

	// A revoked session is not touched.
	r := revocation(t0.Add(4*time.Hour), other)
	_, err := f.s.RevokeSession(f.ctx, acct.ID, s.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	is(f.t, "TouchSession(revoked)", f.s.TouchSession(f.ctx, s.ID, store.Touch{
		LastSeenAt: t0.Add(5 * time.Hour), ExpiresAt: t0.Add(40 * 24 * time.Hour), IP: "192.0.2.99",
	}), store.ErrRevoked)
	f.checkSession("revoked session after TouchSession", revoked(want, r))
}

func testSetAuthTime(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, nil)
	other, _ := f.session(acct, nil)

	at := t0.Add(90 * time.Minute).In(zone)
	ok(f.t, "SetAuthTime", f.s.SetAuthTime(f.ctx, s.ID, at))
	want := s
	want.AuthTime = at
	f.checkSession("session after SetAuthTime", want)
	f.checkSession("other session", other)

	r := revocation(t0.Add(2*time.Hour), other)
	_, err := f.s.RevokeSession(f.ctx, acct.ID, s.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	is(f.t, "SetAuthTime(revoked)", f.s.SetAuthTime(f.ctx, s.ID, t0.Add(3*time.Hour)), store.ErrRevoked)
	f.checkSession("revoked session after SetAuthTime", revoked(want, r))
}
