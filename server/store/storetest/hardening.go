package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

// Install keys, re-auth failures, the account count, turning two-step on
// ending saved logins, and rewriting TOTP secrets.

// knownInstall checks KnownInstall's answer for h.
func (f *fixture) knownInstall(what, accountID string, h []byte, want bool) {
	f.t.Helper()
	got, err := f.s.KnownInstall(f.ctx, accountID, h)
	ok(f.t, what+": KnownInstall", err)
	if got != want {
		f.t.Errorf("%s: KnownInstall = %v, want %v", what, got, want)
	}
}

// testInstallHashes: records made without an install key read back with a
// nil InstallHash (not an empty one), those made with one with it.
func testInstallHashes(f *fixture) {
	acct := f.account()
	cases := []struct {
		name string
		h    []byte
	}{
		{"with an install key", randHash()},
		{"without one", nil},
		{"with an empty one", []byte{}},
	}
	for _, tc := range cases {
		s, _ := f.session(acct, func(s *store.Session) { s.InstallHash = tc.h })
		tok := store.MFAToken{Hash: randHash(), AccountID: acct.ID, InstallHash: tc.h, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
		ok(f.t, tc.name+": CreateMFAToken", f.s.CreateMFAToken(f.ctx, tok))
		rem := store.Remembered{Hash: randHash(), AccountID: acct.ID, DeviceID: "dev1", CreatedAt: t0,
			ExpiresAt: t0.Add(time.Hour), AuthTime: t0, InstallHash: tc.h}
		ok(f.t, tc.name+": CreateRemembered", f.s.CreateRemembered(f.ctx, rem))

		reads := []struct {
			what string
			read func() ([]byte, error)
		}{
			{"Session", func() ([]byte, error) { r, err := f.s.Session(f.ctx, s.ID); return r.InstallHash, err }},
			{"SessionByAccessHash", func() ([]byte, error) {
				r, err := f.s.SessionByAccessHash(f.ctx, s.AccessHash)
				return r.InstallHash, err
			}},
			{"MFAToken", func() ([]byte, error) { r, err := f.s.MFAToken(f.ctx, tok.Hash, t0); return r.InstallHash, err }},
			{"ConsumeMFAToken", func() ([]byte, error) {
				r, err := f.s.ConsumeMFAToken(f.ctx, tok.Hash, t0)
				return r.InstallHash, err
			}},
			{"ConsumeRemembered", func() ([]byte, error) {
				r, err := f.s.ConsumeRemembered(f.ctx, rem.Hash, t0)
				return r.InstallHash, err
			}},
		}
		for _, rd := range reads {
			h, err := rd.read()
			ok(f.t, tc.name+": "+rd.what, err)
			switch {
			case len(tc.h) == 0 && h != nil:
				f.t.Errorf("%s: %s reads back InstallHash %x, want nil", tc.name, rd.what, h)
			case len(tc.h) > 0 && !slices.Equal(h, tc.h):
				f.t.Errorf("%s: %s reads back InstallHash %x, want %x", tc.name, rd.what, h, tc.h)
			}
		}
		f.knownInstall(tc.name, acct.ID, tc.h, len(tc.h) > 0)
	}
}

// testKnownInstall: CreateSession records the session's install for its
// account, only in the transaction that stores the session.
func testKnownInstall(f *fixture) {
	acct, other := f.account(), f.account()
	h1, h2 := randHash(), randHash()
	s, rt := f.session(acct, func(s *store.Session) { s.InstallHash = h1 })
	f.session(acct, func(s *store.Session) { s.InstallHash = h1 }) // again: still one install
	f.session(other, func(s *store.Session) { s.InstallHash = nil })

	// Refused (its refresh token hash is in use): the install is not
	// recorded either.
	dup, dupRT := f.newSession(acct, func(s *store.Session) { s.InstallHash = h2 })
	dupRT.Hash = rt.Hash
	if err := f.s.CreateSession(f.ctx, dup, dupRT); err == nil {
		f.t.Fatal("CreateSession with a refresh token hash already in use succeeded")
	}

	cases := []struct {
		name      string
		accountID string
		h         []byte
		want      bool
	}{
		{"the session's install", acct.ID, h1, true},
		{"the same install, another account", other.ID, h1, false},
		{"the install of a refused CreateSession", acct.ID, h2, false},
		{"an install never seen", acct.ID, randHash(), false},
		{"a prefix of a known one", acct.ID, h1[:16], false},
		{"nil", acct.ID, nil, false},
		{"empty", acct.ID, []byte{}, false},
		{"unknown account", f.id("acc"), h1, false},
	}
	for _, tc := range cases {
		f.knownInstall(tc.name, tc.accountID, tc.h, tc.want)
	}
	// Revoking the session does not forget the install.
	_, err := f.s.RevokeSession(f.ctx, acct.ID, s.ID, revocation(t0.Add(time.Hour), s), store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	f.knownInstall("after the session is revoked", acct.ID, h1, true)
}

// testCreateSessionResetsFailures: a new session starts with no re-auth
// failures, whatever the caller's record says.
func testCreateSessionResetsFailures(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, func(s *store.Session) { s.ReauthFailures = 4 })
	s.ReauthFailures = 0
	f.checkSession("session created with ReauthFailures 4", s)
}

func testFailReauth(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, nil)
	other, _ := f.session(acct, nil)
	want := s

	fail := func(what string, n int) {
		f.t.Helper()
		got, err := f.s.FailReauth(f.ctx, s.ID)
		ok(f.t, what, err)
		if got != n {
			f.t.Errorf("%s: FailReauth = %d, want %d", what, got, n)
		}
		want.ReauthFailures = n
		f.checkSession(what, want)
	}
	steps := []struct {
		name string
		do   func()
		n    int // failures after do
	}{
		{"first failure", nil, 1},
		{"second failure", nil, 2},
		{"third failure", nil, 3},
		{"a password proof resets them", func() {
			at := t0.Add(time.Hour)
			ok(f.t, "SetAuthTime", f.s.SetAuthTime(f.ctx, s.ID, at))
			want.AuthTime, want.ReauthFailures = at, 0
			f.checkSession("after SetAuthTime", want)
		}, 1},
		{"counting again", nil, 2},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		fail(st.name, st.n)
	}
	f.checkSession("the account's other session", other)

	r := revocation(t0.Add(2*time.Hour), other)
	_, err := f.s.RevokeSession(f.ctx, acct.ID, s.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	_, err = f.s.FailReauth(f.ctx, s.ID)
	is(f.t, "FailReauth(revoked)", err, store.ErrRevoked)
	f.checkSession("revoked session after FailReauth", revoked(want, r))
	_, err = f.s.FailReauth(f.ctx, f.id("ses"))
	is(f.t, "FailReauth(unknown)", err, store.ErrNotFound)
}

func testConcurrentFailReauth(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, nil)
	var (
		counts [racers]int
		errs   [racers]error
	)
	barrier.Run(racers, func(i int) { counts[i], errs[i] = f.s.FailReauth(f.ctx, s.ID) })
	for i, err := range errs {
		ok(f.t, fmt.Sprintf("FailReauth racer %d", i), err)
	}
	got := slices.Sorted(slices.Values(counts[:]))
	for i, n := range got {
		if n != i+1 {
			f.t.Fatalf("FailReauth racers got counts %v, want 1 … %d once each", got, racers)
		}
	}
	if n := f.mustSession(s.ID).ReauthFailures; n != racers {
		f.t.Errorf("ReauthFailures after %d racers = %d", racers, n)
	}
}

// testAccountCount counts from whatever the database held before: it may
// be shared.
func testAccountCount(f *fixture) {
	before, err := f.s.AccountCount(f.ctx)
	ok(f.t, "AccountCount", err)
	a := f.account()
	f.account()
	f.account()
	dup := store.Account{ID: f.id("acc"), Username: a.Username, PasswordHash: "x", CreatedAt: t0}
	is(f.t, "CreateAccount with a taken username", f.s.CreateAccount(f.ctx, dup), store.ErrUsernameTaken)
	got, err := f.s.AccountCount(f.ctx)
	ok(f.t, "AccountCount", err)
	if got != before+3 {
		f.t.Errorf("AccountCount = %d after adding 3 to %d", got, before)
	}
}

// testEnableTOTPForgets: turning two-step on deletes every remembered
// login of the account, and only when it is turned on.
func testEnableTOTPForgets(f *fixture) {
	acct, other := f.account(), f.account()
	exp := t0.Add(time.Hour)
	rems := []store.Remembered{f.remembered(acct, "dev1", exp), f.remembered(acct, "dev1", exp),
		f.remembered(acct, "dev2", exp), f.remembered(acct, "dev3", t0.Add(-time.Hour))}
	foreign := f.remembered(other, "dev1", exp)
	ok(f.t, "SetTOTPPending", f.s.SetTOTPPending(f.ctx, acct.ID, secretA))

	refused := []struct {
		name      string
		accountID string
		secret    string
		want      error
	}{
		{"a secret that is not the pending one", acct.ID, secretB, store.ErrConflict},
		{"an empty secret", acct.ID, "", store.ErrConflict},
		{"unknown account", f.id("acc"), secretA, store.ErrNotFound},
	}
	for _, tc := range refused {
		is(f.t, "EnableTOTP with "+tc.name, enableErr(f.s.EnableTOTP(f.ctx, tc.accountID, tc.secret, 1, nil)), tc.want)
	}
	// Every present check consumes: make the checked ones again after.
	f.present("remembered logins after refused EnableTOTP", true, rems[:3]...)
	rems = []store.Remembered{f.remembered(acct, "dev1", exp), f.remembered(acct, "dev2", exp), rems[3]}

	forgotten, err := f.s.EnableTOTP(f.ctx, acct.ID, secretA, 1, nil)
	ok(f.t, "EnableTOTP", err)
	if forgotten != len(rems) {
		f.t.Errorf("EnableTOTP forgot %d remembered logins, want %d (expired ones count)", forgotten, len(rems))
	}
	f.present("the account's remembered logins after EnableTOTP", false, rems...)
	f.present("another account's remembered login", true, foreign)

	// While on, a refused enable deletes nothing.
	kept := f.remembered(acct, "dev1", exp)
	is(f.t, "EnableTOTP while on", enableErr(f.s.EnableTOTP(f.ctx, acct.ID, secretA, 2, nil)), store.ErrConflict)
	f.present("remembered login saved while on", true, kept)
}

// A TOTP-secret rewrite of the suite: values of one fixture carry its tag
// so that a rewrite in a shared database changes only those.
func (f *fixture) plainSecret(n int) string { return fmt.Sprintf("plain-%s-%d", f.tag, n) }

func sealed(v string) string { return "sealed:" + v }

func testRewriteTOTPSecrets(f *fixture) {
	mk := func(secret, pending string) store.Account {
		id := f.id("acc")
		a := store.Account{ID: id, Username: "totp_" + id, PasswordHash: "x", CreatedAt: t0,
			MFAEnabled: secret != "", TOTPSecret: secret, TOTPPendingSecret: pending}
		ok(f.t, "CreateAccount", f.s.CreateAccount(f.ctx, a))
		return a
	}
	on := mk(f.plainSecret(1), "")
	pending := mk("", f.plainSecret(2))
	both := mk(f.plainSecret(3), f.plainSecret(4))
	none := mk("", "")
	done := mk(sealed(f.plainSecret(5)), "")
	raced := mk("", f.plainSecret(6))
	replaced := f.plainSecret(7)

	var (
		mu    sync.Mutex
		calls []string
	)
	fn := func(v string) (string, bool, error) {
		if v == "" {
			f.t.Error("RewriteTOTPSecrets passed an empty value")
		}
		if !strings.Contains(v, f.tag) {
			return v, false, nil // another subtest's: unchanged
		}
		mu.Lock()
		calls = append(calls, v)
		mu.Unlock()
		switch {
		case strings.HasPrefix(v, "sealed:"):
			return v, false, nil
		case v == raced.TOTPPendingSecret:
			// Changed after the walk read it: its rewrite must not win.
			ok(f.t, "SetTOTPPending during the walk", f.s.SetTOTPPending(f.ctx, raced.ID, replaced))
		}
		return sealed(v), true, nil
	}
	n, err := f.s.RewriteTOTPSecrets(f.ctx, fn)
	ok(f.t, "RewriteTOTPSecrets", err)
	if n != 4 {
		f.t.Errorf("RewriteTOTPSecrets changed %d values, want 4", n)
	}
	wantCalls := []string{f.plainSecret(1), f.plainSecret(2), f.plainSecret(3), f.plainSecret(4),
		sealed(f.plainSecret(5)), f.plainSecret(6)}
	slices.Sort(calls)
	slices.Sort(wantCalls)
	check(f.t, "values passed to fn", calls, wantCalls)

	sealedAcct := func(a store.Account) store.Account {
		if a.TOTPSecret != "" && !strings.HasPrefix(a.TOTPSecret, "sealed:") {
			a.TOTPSecret = sealed(a.TOTPSecret)
		}
		if a.TOTPPendingSecret != "" {
			a.TOTPPendingSecret = sealed(a.TOTPPendingSecret)
		}
		return a
	}
	for _, a := range []store.Account{on, pending, both, none, done} {
		check(f.t, "account after RewriteTOTPSecrets", f.mustAccount(a.ID), sealedAcct(a))
	}
	raced.TOTPPendingSecret = replaced
	check(f.t, "account whose pending secret changed during the walk", f.mustAccount(raced.ID), raced)

	// An error from fn stops the walk and is returned; that account is
	// left as it was.
	boom := errors.New("cannot seal")
	bad := mk(f.plainSecret(8), "")
	n, err = f.s.RewriteTOTPSecrets(f.ctx, func(v string) (string, bool, error) {
		if v == bad.TOTPSecret {
			return "", false, boom
		}
		return v, false, nil
	})
	is(f.t, "RewriteTOTPSecrets with a failing fn", err, boom)
	if n != 0 {
		f.t.Errorf("RewriteTOTPSecrets with a failing fn changed %d values, want 0", n)
	}
	check(f.t, "account fn failed on", f.mustAccount(bad.ID), bad)
}
