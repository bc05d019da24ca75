package storetest

import (
	"fmt"
	"time"

	"sessionguard/api"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

// Base32 TOTP secrets the suite stores; any string would do.
const (
	secretA = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	secretB = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
)

// mfaToken creates an MFA token of acct.
func (f *fixture) mfaToken(acct store.Account, created, expires time.Time) store.MFAToken {
	f.t.Helper()
	id := f.id("dev")
	t := store.MFAToken{
		Hash:      randHash(),
		AccountID: acct.ID,
		Device: api.Device{ID: id, Name: "Tablet " + id, Platform: api.PlatformIOS, OS: "iPadOS 18",
			Model: "iPad Air", AppVersion: "1.2.3"},
		Remember:    true,
		InstallHash: randHash(),
		CreatedAt:   created,
		ExpiresAt:   expires,
	}
	ok(f.t, "CreateMFAToken", f.s.CreateMFAToken(f.ctx, t))
	return t
}

// mfaTokenPresent reports whether t can still be found, without consuming it.
func (f *fixture) mfaTokenPresent(what string, want bool, t store.MFAToken) {
	f.t.Helper()
	got, err := f.s.MFAToken(f.ctx, t.Hash, t.CreatedAt)
	switch {
	case want && err != nil:
		f.t.Errorf("%s: MFA token gone: %v", what, err)
	case want:
		check(f.t, what, got, t)
	default:
		is(f.t, what, err, store.ErrNotFound)
	}
}

// mustAccount reads an account, failing the test if it cannot.
func (f *fixture) mustAccount(id string) store.Account {
	f.t.Helper()
	a, err := f.s.Account(f.ctx, id)
	ok(f.t, "Account("+id+")", err)
	return a
}

// enableTOTP turns two-step verification on for acct with recovery codes
// hashes and returns the account as it now is.
func (f *fixture) enableTOTP(acct store.Account, secret string, step int64, hashes [][]byte) store.Account {
	f.t.Helper()
	ok(f.t, "SetTOTPPending", f.s.SetTOTPPending(f.ctx, acct.ID, secret))
	_, err := f.s.EnableTOTP(f.ctx, acct.ID, secret, step, hashes)
	ok(f.t, "EnableTOTP", err)
	acct.MFAEnabled, acct.TOTPSecret, acct.TOTPPendingSecret = true, secret, ""
	return acct
}

// enableErr is the error of an EnableTOTP call that is expected to be
// refused: a refused call that reports remembered logins deleted is an
// error too (one that is not the expected error).
func enableErr(forgotten int, err error) error {
	if err != nil && forgotten != 0 {
		return fmt.Errorf("refused (%v), yet reports %d remembered logins deleted", err, forgotten)
	}
	return err
}

func testChangePassword(f *fixture) {
	cases := []struct {
		name   string
		revoke bool
	}{
		{"other devices stay signed in", false},
		{"other devices are logged out", true},
	}
	for _, tc := range cases {
		acct, other := f.account(), f.account()
		self, _ := f.session(acct, nil)
		live1, _ := f.session(acct, func(s *store.Session) { s.LastSeenAt = t0.Add(3 * time.Minute) })
		live2, _ := f.session(acct, func(s *store.Session) { s.LastSeenAt = t0.Add(2 * time.Minute) })
		expired, _ := f.session(acct, func(s *store.Session) { s.ExpiresAt = t0.Add(time.Minute) })
		gone, _ := f.session(acct, nil)
		earlier := revocation(t0.Add(time.Minute), self)
		_, err := f.s.RevokeSession(f.ctx, acct.ID, gone.ID, earlier, store.RevokeEffects{})
		ok(f.t, tc.name+": RevokeSession", err)
		gone = revoked(gone, earlier)
		foreign, _ := f.session(other, nil)
		exp := t0.Add(time.Hour)
		rems := []store.Remembered{f.remembered(acct, self.Device.ID, exp), f.remembered(acct, "dev2", exp), f.remembered(acct, "dev3", exp)}
		foreignRem := f.remembered(other, "dev2", exp)
		tok := f.mfaToken(acct, t0, t0.Add(5*time.Minute))
		foreignTok := f.mfaToken(other, t0, t0.Add(5*time.Minute))

		rec := f.recorder(api.AuditPasswordChanged)
		c := store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash, NewHash: "$argon2id$new$" + acct.ID, KeepSessionID: self.ID,
			Audit: rec.fn}
		r := store.Revocation{At: t0.Add(10 * time.Minute), Reason: api.ReasonPasswordChanged, BySessionID: self.ID, ByDeviceName: self.Device.Name}
		if tc.revoke {
			c.Revoke = &r
		}
		ended, forgotten, err := f.s.ChangePassword(f.ctx, c)
		ok(f.t, tc.name+": ChangePassword", err)
		if forgotten != len(rems) {
			f.t.Errorf("%s: ChangePassword forgot %d remembered logins, want %d", tc.name, forgotten, len(rems))
		}
		want := acct
		want.PasswordHash = c.NewHash
		check(f.t, tc.name+": account after ChangePassword", f.mustAccount(acct.ID), want)
		f.present(tc.name+": remembered logins of the account (this device's too)", false, rems...)
		f.present(tc.name+": other account's remembered login", true, foreignRem)
		f.mfaTokenPresent(tc.name+": MFA token of the account", false, tok)
		f.mfaTokenPresent(tc.name+": other account's MFA token", true, foreignTok)
		f.checkSession(tc.name+": the changing session", self)
		f.checkSession(tc.name+": a session revoked before", gone)
		f.checkSession(tc.name+": an expired session", expired)
		f.checkSession(tc.name+": other account's session", foreign)
		// The event, made from what the transaction did, is written with it.
		f.checkLog(tc.name, acct.ID, rec.want(ids(ended), len(rems)))
		f.checkLog(tc.name+": other account", other.ID)
		if tc.revoke {
			check(f.t, tc.name+": ended sessions", ended, []store.Session{revoked(live1, r), revoked(live2, r)})
			f.checkSession(tc.name+": other session 1", revoked(live1, r))
			f.checkSession(tc.name+": other session 2", revoked(live2, r))
		} else {
			if len(ended) != 0 {
				f.t.Errorf("%s: ChangePassword without Revoke ended %v", tc.name, ids(ended))
			}
			f.checkSession(tc.name+": other session 1", live1)
			f.checkSession(tc.name+": other session 2", live2)
		}
	}
}

func testChangePasswordRefused(f *fixture) {
	acct := f.account()
	self, _ := f.session(acct, nil)
	otherSession, _ := f.session(acct, nil)
	rem := f.remembered(acct, "dev2", t0.Add(time.Hour))
	tok := f.mfaToken(acct, t0, t0.Add(5*time.Minute))
	r := store.Revocation{At: t0.Add(time.Minute), Reason: api.ReasonPasswordChanged, BySessionID: self.ID}

	cases := []struct {
		name string
		c    store.PasswordChange
		want error
	}{
		{"stale old hash", store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash + "x", NewHash: "new", Revoke: &r, KeepSessionID: self.ID}, store.ErrConflict},
		{"unknown account", store.PasswordChange{AccountID: f.id("acc"), OldHash: acct.PasswordHash, NewHash: "new", Revoke: &r}, store.ErrNotFound},
	}
	for _, tc := range cases {
		tc.c.Audit = f.recorder(api.AuditPasswordChanged).fn
		ended, n, err := f.s.ChangePassword(f.ctx, tc.c)
		is(f.t, tc.name, err, tc.want)
		if len(ended) != 0 || n != 0 {
			f.t.Errorf("%s: refused change reports %d ended, %d forgotten", tc.name, len(ended), n)
		}
	}
	// Nothing changed, no event.
	f.checkLog("after refused changes", acct.ID)
	check(f.t, "account after refused changes", f.mustAccount(acct.ID), acct)
	f.checkSession("session after refused changes", otherSession)
	f.mfaTokenPresent("MFA token after refused changes", true, tok)
	f.present("remembered login after refused changes", true, rem)
}

func testTOTPLifecycle(f *fixture) {
	acct, other := f.account(), f.account()
	step := int64(1_000_000)

	// Setup may be repeated; each replaces the pending secret.
	ok(f.t, "SetTOTPPending", f.s.SetTOTPPending(f.ctx, acct.ID, secretA))
	ok(f.t, "SetTOTPPending again", f.s.SetTOTPPending(f.ctx, acct.ID, secretB))
	want := acct
	want.TOTPPendingSecret = secretB
	check(f.t, "account with a pending secret", f.mustAccount(acct.ID), want)

	// Only the current pending secret can be enabled.
	is(f.t, "EnableTOTP with a replaced secret", enableErr(f.s.EnableTOTP(f.ctx, acct.ID, secretA, step, nil)), store.ErrConflict)
	is(f.t, "EnableTOTP with an empty secret", enableErr(f.s.EnableTOTP(f.ctx, acct.ID, "", step, nil)), store.ErrConflict)
	is(f.t, "EnableTOTP for an account with nothing pending", enableErr(f.s.EnableTOTP(f.ctx, other.ID, "", step, nil)), store.ErrConflict)
	check(f.t, "account after refused EnableTOTP", f.mustAccount(acct.ID), want)

	codes := [][]byte{randHash(), randHash(), randHash()}
	_, err := f.s.EnableTOTP(f.ctx, acct.ID, secretB, step, codes)
	ok(f.t, "EnableTOTP", err)
	want.MFAEnabled, want.TOTPSecret, want.TOTPPendingSecret = true, secretB, ""
	check(f.t, "account with two-step verification on", f.mustAccount(acct.ID), want)
	got, err := f.s.AccountByUsername(f.ctx, acct.Username)
	ok(f.t, "AccountByUsername", err)
	check(f.t, "AccountByUsername with two-step verification on", got, want)
	check(f.t, "other account", f.mustAccount(other.ID), other)
	if n, err := f.s.RecoveryCodesLeft(f.ctx, acct.ID); err != nil || n != len(codes) {
		f.t.Errorf("RecoveryCodesLeft = %d, %v; want %d", n, err, len(codes))
	}

	// The confirming step counts as used.
	if used, err := f.s.UseTOTPStep(f.ctx, acct.ID, step); err != nil || used {
		f.t.Errorf("UseTOTPStep(the enabling step) = %v, %v; want false (a replay)", used, err)
	}
	if used, err := f.s.UseTOTPStep(f.ctx, acct.ID, step+1); err != nil || !used {
		f.t.Errorf("UseTOTPStep(next step) = %v, %v; want true", used, err)
	}

	// While on: no new setup, no second enable.
	is(f.t, "SetTOTPPending while on", f.s.SetTOTPPending(f.ctx, acct.ID, secretA), store.ErrConflict)
	is(f.t, "EnableTOTP while on", enableErr(f.s.EnableTOTP(f.ctx, acct.ID, secretB, step, nil)), store.ErrConflict)
	check(f.t, "account after refused setup", f.mustAccount(acct.ID), want)

	// Off: secrets, codes and MFA tokens are gone.
	tok := f.mfaToken(acct, t0, t0.Add(5*time.Minute))
	wasOn, err := f.s.DisableTOTP(f.ctx, acct.ID)
	if err != nil || !wasOn {
		f.t.Errorf("DisableTOTP = %v, %v; want true", wasOn, err)
	}
	check(f.t, "account after DisableTOTP", f.mustAccount(acct.ID), acct)
	if n, err := f.s.RecoveryCodesLeft(f.ctx, acct.ID); err != nil || n != 0 {
		f.t.Errorf("RecoveryCodesLeft after DisableTOTP = %d, %v; want 0", n, err)
	}
	if used, err := f.s.UseRecoveryCode(f.ctx, acct.ID, codes[0]); err != nil || used {
		f.t.Errorf("UseRecoveryCode after DisableTOTP = %v, %v; want false", used, err)
	}
	f.mfaTokenPresent("MFA token after DisableTOTP", false, tok)
	wasOn, err = f.s.DisableTOTP(f.ctx, acct.ID)
	if err != nil || wasOn {
		f.t.Errorf("DisableTOTP again = %v, %v; want false", wasOn, err)
	}

	// Off with only a pending secret: it is cleared, and nothing was on.
	ok(f.t, "SetTOTPPending after DisableTOTP", f.s.SetTOTPPending(f.ctx, acct.ID, secretA))
	wasOn, err = f.s.DisableTOTP(f.ctx, acct.ID)
	if err != nil || wasOn {
		f.t.Errorf("DisableTOTP with only a pending secret = %v, %v; want false", wasOn, err)
	}
	check(f.t, "account after clearing the pending secret", f.mustAccount(acct.ID), acct)

	// On again, with new codes; the old step stays used (steps only grow).
	fresh := [][]byte{randHash()}
	want = f.enableTOTP(acct, secretA, step-10, fresh)
	check(f.t, "account on again", f.mustAccount(acct.ID), want)
	if used, err := f.s.UseTOTPStep(f.ctx, acct.ID, step+1); err != nil || used {
		f.t.Errorf("UseTOTPStep(step used before DisableTOTP) = %v, %v; want false", used, err)
	}
	if n, err := f.s.RecoveryCodesLeft(f.ctx, acct.ID); err != nil || n != 1 {
		f.t.Errorf("RecoveryCodesLeft after enabling again = %d, %v; want 1", n, err)
	}

	unknown := f.id("acc")
	is(f.t, "SetTOTPPending(unknown account)", f.s.SetTOTPPending(f.ctx, unknown, secretA), store.ErrNotFound)
	is(f.t, "EnableTOTP(unknown account)", enableErr(f.s.EnableTOTP(f.ctx, unknown, secretA, step, nil)), store.ErrNotFound)
	_, err = f.s.DisableTOTP(f.ctx, unknown)
	is(f.t, "DisableTOTP(unknown account)", err, store.ErrNotFound)
}

func testTOTPStep(f *fixture) {
	acct, other := f.account(), f.account()
	steps := []struct {
		step int64
		want bool
	}{
		{58_000_000, true},
		{58_000_000, false}, // the same code again
		{57_999_999, false}, // an older code after a newer one
		{58_000_001, true},
		{58_000_003, true},
		{58_000_002, false},
	}
	for _, s := range steps {
		got, err := f.s.UseTOTPStep(f.ctx, acct.ID, s.step)
		ok(f.t, fmt.Sprintf("UseTOTPStep(%d)", s.step), err)
		if got != s.want {
			f.t.Errorf("UseTOTPStep(%d) = %v, want %v", s.step, got, s.want)
		}
	}
	// Steps are per account.
	if got, err := f.s.UseTOTPStep(f.ctx, other.ID, 58_000_000); err != nil || !got {
		f.t.Errorf("UseTOTPStep on another account = %v, %v; want true", got, err)
	}
	_, err := f.s.UseTOTPStep(f.ctx, f.id("acc"), 1)
	is(f.t, "UseTOTPStep(unknown account)", err, store.ErrNotFound)
}

func testRecoveryCodes(f *fixture) {
	acct, other := f.account(), f.account()
	codes := [][]byte{randHash(), randHash(), randHash()}
	f.enableTOTP(acct, secretA, 1, codes)
	f.enableTOTP(other, secretB, 1, [][]byte{codes[0]}) // the same digest on another account

	use := func(what string, a store.Account, h []byte, want bool) {
		f.t.Helper()
		got, err := f.s.UseRecoveryCode(f.ctx, a.ID, h)
		ok(f.t, what, err)
		if got != want {
			f.t.Errorf("%s: UseRecoveryCode = %v, want %v", what, got, want)
		}
	}
	use("first use", acct, codes[1], true)
	use("second use", acct, codes[1], false)
	use("unknown code", acct, randHash(), false)
	use("another code", acct, codes[0], true)
	use("the same digest on the other account", other, codes[0], true)
	use("the other account's code, used up", other, codes[0], false)
	use("unknown account", store.Account{ID: f.id("acc")}, codes[2], false)
	if n, err := f.s.RecoveryCodesLeft(f.ctx, acct.ID); err != nil || n != 1 {
		f.t.Errorf("RecoveryCodesLeft = %d, %v; want 1", n, err)
	}

	// Enabling again replaces every code.
	_, err := f.s.DisableTOTP(f.ctx, acct.ID)
	ok(f.t, "DisableTOTP", err)
	fresh := [][]byte{randHash(), randHash()}
	f.enableTOTP(acct, secretB, 2, fresh)
	use("a code of the earlier set", acct, codes[2], false)
	use("a code of the new set", acct, fresh[1], true)
}

func testMFAToken(f *fixture) {
	acct, other := f.account(), f.account()
	expires := t0.Add(5 * time.Minute)
	tok := f.mfaToken(acct, t0.In(zone), expires.In(zone))
	want := tok
	want.CreatedAt, want.ExpiresAt = t0, expires

	cases := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"at creation", t0, true},
		{"a microsecond before expiry", expires.Add(-time.Microsecond), true},
		{"at expiry", expires, false},
		{"after expiry", expires.Add(time.Hour), false},
	}
	for _, tc := range cases {
		got, err := f.s.MFAToken(f.ctx, tok.Hash, tc.now.In(zone))
		if tc.ok {
			ok(f.t, "MFAToken "+tc.name, err)
			check(f.t, "MFAToken "+tc.name, got, want)
		} else {
			is(f.t, "MFAToken "+tc.name, err, store.ErrNotFound)
		}
	}
	_, err := f.s.MFAToken(f.ctx, randHash(), t0)
	is(f.t, "MFAToken(unknown)", err, store.ErrNotFound)

	// Consuming: single use, and only before expiry.
	got, err := f.s.ConsumeMFAToken(f.ctx, tok.Hash, t0)
	ok(f.t, "ConsumeMFAToken", err)
	check(f.t, "ConsumeMFAToken", got, want)
	_, err = f.s.ConsumeMFAToken(f.ctx, tok.Hash, t0)
	is(f.t, "ConsumeMFAToken a second time", err, store.ErrNotFound)
	f.mfaTokenPresent("consumed token", false, tok)
	late := f.mfaToken(acct, t0, expires)
	_, err = f.s.ConsumeMFAToken(f.ctx, late.Hash, expires)
	is(f.t, "ConsumeMFAToken at expiry", err, store.ErrNotFound)

	// A new token sweeps the account's expired ones, and only those.
	live := f.mfaToken(acct, t0.Add(-time.Minute), t0.Add(4*time.Minute))
	old := f.mfaToken(acct, t0.Add(-10*time.Minute), t0.Add(-5*time.Minute))
	othersOld := f.mfaToken(other, t0.Add(-10*time.Minute), t0.Add(-5*time.Minute))
	f.mfaTokenPresent("expired token before the sweep", true, old)
	f.mfaToken(acct, t0, expires)
	f.mfaTokenPresent("expired token after the sweep", false, old)
	f.mfaTokenPresent("live token after the sweep", true, live)
	f.mfaTokenPresent("other account's expired token", true, othersOld)
}

func testConcurrentUseTOTPStep(f *fixture) {
	acct := f.account()
	var (
		used [racers]bool
		errs [racers]error
	)
	barrier.Run(racers, func(i int) { used[i], errs[i] = f.s.UseTOTPStep(f.ctx, acct.ID, 42) })
	f.oneTrue("UseTOTPStep(42)", used[:], errs[:])
}

func testConcurrentUseRecoveryCode(f *fixture) {
	acct := f.account()
	h := randHash()
	f.enableTOTP(acct, secretA, 1, [][]byte{h, randHash()})
	var (
		used [racers]bool
		errs [racers]error
	)
	barrier.Run(racers, func(i int) { used[i], errs[i] = f.s.UseRecoveryCode(f.ctx, acct.ID, h) })
	f.oneTrue("UseRecoveryCode", used[:], errs[:])
}

func testConcurrentConsumeMFAToken(f *fixture) {
	acct := f.account()
	tok := f.mfaToken(acct, t0, t0.Add(5*time.Minute))
	var errs [racers]error
	barrier.Run(racers, func(i int) { _, errs[i] = f.s.ConsumeMFAToken(f.ctx, tok.Hash, t0) })
	f.oneWinner("ConsumeMFAToken", errs[:], store.ErrNotFound)
}

func testConcurrentChangePassword(f *fixture) {
	acct := f.account()
	var (
		ended [racers][]store.Session
		errs  [racers]error
	)
	sessions := make([]store.Session, 5)
	for i := range sessions {
		sessions[i], _ = f.session(acct, nil)
	}
	barrier.Run(racers, func(i int) {
		r := store.Revocation{At: t0.Add(time.Minute), Reason: api.ReasonPasswordChanged}
		ended[i], _, errs[i] = f.s.ChangePassword(f.ctx, store.PasswordChange{AccountID: acct.ID,
			OldHash: acct.PasswordHash, NewHash: fmt.Sprintf("new hash %d", i), Revoke: &r})
	})
	winner := f.oneWinner("ChangePassword (from one hash)", errs[:], store.ErrConflict)
	if got := f.mustAccount(acct.ID).PasswordHash; got != fmt.Sprintf("new hash %d", winner) {
		f.t.Errorf("password hash = %q, want the winner's", got)
	}
	if len(ended[winner]) != len(sessions) {
		f.t.Errorf("winner ended %d sessions, want %d", len(ended[winner]), len(sessions))
	}
}
