package storetest

import (
	"context"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// testCanceledContext: a canceled context fails the call with
// context.Canceled (not ErrNotFound) and changes nothing.
func testCanceledContext(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, nil)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()

	_, err := f.s.Account(ctx, acct.ID)
	is(f.t, "Account(canceled)", err, context.Canceled)
	_, err = f.s.SessionByAccessHash(ctx, s.AccessHash)
	is(f.t, "SessionByAccessHash(canceled)", err, context.Canceled)

	b := store.Account{ID: f.id("acc"), Username: "canceled_" + f.tag, PasswordHash: "x", CreatedAt: t0}
	is(f.t, "CreateAccount(canceled)", f.s.CreateAccount(ctx, b), context.Canceled)
	_, err = f.s.Account(f.ctx, b.ID)
	is(f.t, "Account created under a canceled context", err, store.ErrNotFound)

	_, err = f.s.RevokeSession(ctx, acct.ID, s.ID, store.Revocation{At: t0, Reason: api.ReasonAdmin}, store.RevokeEffects{})
	is(f.t, "RevokeSession(canceled)", err, context.Canceled)
	_, _, err = f.s.ChangePassword(ctx, store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash, NewHash: "new",
		Revoke: &store.Revocation{At: t0, Reason: api.ReasonPasswordChanged}})
	is(f.t, "ChangePassword(canceled)", err, context.Canceled)
	is(f.t, "SetTOTPPending(canceled)", f.s.SetTOTPPending(ctx, acct.ID, secretA), context.Canceled)
	check(f.t, "account after canceled calls", f.mustAccount(acct.ID), acct)
	is(f.t, "RotateRefreshToken(canceled)", f.s.RotateRefreshToken(ctx, rotation(s, t0.Add(time.Minute))), context.Canceled)
	_, err = f.s.FailReauth(ctx, s.ID)
	is(f.t, "FailReauth(canceled)", err, context.Canceled)
	_, err = f.s.RenameSession(ctx, acct.ID, s.ID, "Renamed", nil)
	is(f.t, "RenameSession(canceled)", err, context.Canceled)
	f.checkSession("session after canceled calls", s)
	_, err = f.s.ReplaceRecoveryCodes(ctx, acct.ID, [][]byte{randHash()}, nil)
	is(f.t, "ReplaceRecoveryCodes(canceled)", err, context.Canceled)

	head := f.outboxHead()
	_, err = f.s.AppendOutbox(ctx, t0, []byte("x"))
	is(f.t, "AppendOutbox(canceled)", err, context.Canceled)
	if h := f.outboxHead(); h != head {
		f.t.Errorf("OutboxHead after a canceled AppendOutbox = %d, want %d", h, head)
	}
	_, err = f.s.Purge(ctx, t0, t0)
	is(f.t, "Purge(canceled)", err, context.Canceled)
	_, err = f.s.ListEndedSessions(ctx, acct.ID, t0, nil, 10)
	is(f.t, "ListEndedSessions(canceled)", err, context.Canceled)
	is(f.t, "IssueClosureToken(canceled)", f.s.IssueClosureToken(ctx, s.ID, randHash(), t0), context.Canceled)
	_, err = f.s.ConfirmClosure(ctx, randHash(), t0, false, nil)
	is(f.t, "ConfirmClosure(canceled)", err, context.Canceled)
	_, err = f.s.RewriteTOTPSecrets(ctx, func(v string) (string, bool, error) { return v + "x", true, nil })
	is(f.t, "RewriteTOTPSecrets(canceled)", err, context.Canceled)
}

// testClosed: after Close every call fails with ErrUnavailable, and Close
// may be called again.
func testClosed(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, nil)
	ok(f.t, "Close", f.s.Close())

	cases := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return f.s.Ping(f.ctx) }},
		{"Account", func() error { _, err := f.s.Account(f.ctx, acct.ID); return err }},
		{"SessionByAccessHash", func() error { _, err := f.s.SessionByAccessHash(f.ctx, s.AccessHash); return err }},
		{"CreateAccount", func() error {
			return f.s.CreateAccount(f.ctx, store.Account{ID: f.id("acc"), Username: "late_" + f.tag, CreatedAt: t0})
		}},
		{"TouchSession", func() error {
			return f.s.TouchSession(f.ctx, s.ID, store.Touch{LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)})
		}},
		{"RevokeOtherSessions", func() error {
			_, err := f.s.RevokeOtherSessions(f.ctx, acct.ID, "", store.Revocation{At: t0, Reason: api.ReasonAdmin}, store.RevokeEffects{})
			return err
		}},
		{"ListAudit", func() error { _, err := f.s.ListAudit(f.ctx, acct.ID, 0, 10); return err }},
		{"ChangePassword", func() error {
			_, _, err := f.s.ChangePassword(f.ctx, store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash, NewHash: "x"})
			return err
		}},
		{"EnableTOTP", func() error { return enableErr(f.s.EnableTOTP(f.ctx, acct.ID, secretA, 1, nil)) }},
		{"UseTOTPStep", func() error { _, err := f.s.UseTOTPStep(f.ctx, acct.ID, 1); return err }},
		{"UseRecoveryCode", func() error { _, err := f.s.UseRecoveryCode(f.ctx, acct.ID, randHash()); return err }},
		{"CreateMFAToken", func() error {
			return f.s.CreateMFAToken(f.ctx, store.MFAToken{Hash: randHash(), AccountID: acct.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)})
		}},
		{"MFAToken", func() error { _, err := f.s.MFAToken(f.ctx, randHash(), t0); return err }},
		{"FailReauth", func() error { _, err := f.s.FailReauth(f.ctx, s.ID); return err }},
		{"RenameSession", func() error { _, err := f.s.RenameSession(f.ctx, acct.ID, s.ID, "Renamed", nil); return err }},
		{"MarkDPoPRefused", func() error { _, err := f.s.MarkDPoPRefused(f.ctx, s.ID, f.refusedEvent(s, t0)); return err }},
		{"ReplaceRecoveryCodes", func() error {
			_, err := f.s.ReplaceRecoveryCodes(f.ctx, acct.ID, [][]byte{randHash()}, nil)
			return err
		}},
		{"RecoveryCodesLeft", func() error { _, err := f.s.RecoveryCodesLeft(f.ctx, acct.ID); return err }},
		{"KnownInstall", func() error { _, err := f.s.KnownInstall(f.ctx, acct.ID, s.InstallHash); return err }},
		{"AccountCount", func() error { _, err := f.s.AccountCount(f.ctx); return err }},
		{"RewriteTOTPSecrets", func() error {
			_, err := f.s.RewriteTOTPSecrets(f.ctx, func(v string) (string, bool, error) { return v, false, nil })
			return err
		}},
		{"Purge", func() error { _, err := f.s.Purge(f.ctx, t0, t0); return err }},
		{"ListEndedSessions", func() error { _, err := f.s.ListEndedSessions(f.ctx, acct.ID, t0, nil, 10); return err }},
		{"IssueClosureToken", func() error { return f.s.IssueClosureToken(f.ctx, s.ID, randHash(), t0) }},
		{"ConfirmClosure", func() error { _, err := f.s.ConfirmClosure(f.ctx, randHash(), t0, false, nil); return err }},
		{"AppendOutbox", func() error { _, err := f.s.AppendOutbox(f.ctx, t0, []byte("x")); return err }},
		{"ReadOutbox", func() error { _, err := f.s.ReadOutbox(f.ctx, 0, 10); return err }},
		{"OutboxHead", func() error { _, err := f.s.OutboxHead(f.ctx); return err }},
	}
	for _, tc := range cases {
		is(f.t, tc.name+" after Close", tc.call(), store.ErrUnavailable)
	}
	ok(f.t, "second Close", f.s.Close())
}
