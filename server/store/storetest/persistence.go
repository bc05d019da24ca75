package storetest

import (
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// RunPersistence checks that what a store writes is still there after it is
// closed and the same database is opened again, twice. open opens the
// database named by path (a file, a DSN: whatever the implementation
// takes); it is called three times with the same path, and the suite
// closes each handle before the next open.
func RunPersistence(t *testing.T, open func(t *testing.T, path string) store.Store, path string) {
	f := newFixture(t, open(t, path))

	// First life: write one of everything.
	acct, other := f.account(), f.account()
	mfa := store.Account{ID: f.id("acc"), Username: "mfa_" + f.tag, PasswordHash: "$argon2id$mfa", CreatedAt: t0.In(zone)}
	ok(t, "CreateAccount", f.s.CreateAccount(f.ctx, mfa))
	live, rt0 := f.session(acct, nil)
	rot := rotation(live, t0.Add(20*time.Minute))
	err := f.s.RotateRefreshToken(f.ctx, rot)
	ok(t, "RotateRefreshToken", err)
	live = rotated(live, rot)
	for range 2 {
		n, err := f.s.FailReauth(f.ctx, live.ID)
		ok(t, "FailReauth", err)
		live.ReauthFailures = n
	}
	outboxFrom := f.outboxHead()
	entry := store.OutboxEntry{At: t0, Data: []byte(`{"type":"sessions.changed"}`)}
	entry.Seq, err = f.s.AppendOutbox(f.ctx, entry.At, entry.Data)
	ok(t, "AppendOutbox", err)
	gone, _ := f.session(acct, nil)
	r := revocation(t0.Add(30*time.Minute), live)
	_, err = f.s.RevokeSession(f.ctx, acct.ID, gone.ID, r, store.RevokeEffects{})
	ok(t, "RevokeSession", err)
	gone = revoked(gone, r)
	// A bound session, once refused without its key: the key and the
	// mark survive.
	foreign, _ := f.session(other, boundTo(jkt()))
	refused := f.refusedEvent(foreign, t0.Add(time.Minute))
	if first, err := f.s.MarkDPoPRefused(f.ctx, foreign.ID, refused); err != nil || !first {
		t.Errorf("MarkDPoPRefused = %v, %v; want true", first, err)
	}
	rem := f.remembered(acct, "dev1", t0.Add(90*24*time.Hour))
	codes := [][]byte{randHash(), randHash()}
	mfa = f.enableTOTP(mfa, secretA, 7, codes)
	ok(t, "UseTOTPStep", func() error { _, err := f.s.UseTOTPStep(f.ctx, mfa.ID, 9); return err }())
	pendingTok := f.mfaToken(mfa, t0, t0.Add(5*time.Minute))
	var audit []store.AuditRecord // newest first
	for _, typ := range []string{api.AuditLoginSucceeded, api.AuditSessionRevoked} {
		e := f.auditEvent(typ, t0.Add(time.Minute))
		_, err := f.s.AppendAudit(f.ctx, acct.ID, e)
		ok(t, "AppendAudit", err)
		audit = chainedRecord(audit, acct.ID, e)
	}
	ok(t, "Close", f.s.Close())

	// Second life: everything is there; write some more.
	f.s = open(t, path)
	for _, a := range []store.Account{acct, other, mfa} {
		got, err := f.s.AccountByUsername(f.ctx, a.Username)
		ok(t, "AccountByUsername after reopen", err)
		check(t, "account after reopen", got, a)
	}
	if used, err := f.s.UseTOTPStep(f.ctx, mfa.ID, 9); err != nil || used {
		t.Errorf("UseTOTPStep(step used in the first life) = %v, %v; want false", used, err)
	}
	if used, err := f.s.UseRecoveryCode(f.ctx, mfa.ID, codes[0]); err != nil || !used {
		t.Errorf("UseRecoveryCode after reopen = %v, %v; want true", used, err)
	}
	gotTok, err := f.s.ConsumeMFAToken(f.ctx, pendingTok.Hash, t0)
	ok(t, "ConsumeMFAToken after reopen", err)
	check(t, "MFA token after reopen", gotTok, pendingTok)
	f.checkSession("live session after reopen", live)
	f.checkSession("revoked session after reopen", gone)
	f.checkSession("other account's session after reopen", foreign)
	if first, err := f.s.MarkDPoPRefused(f.ctx, foreign.ID, f.refusedEvent(foreign, t0.Add(2*time.Minute))); err != nil || first {
		t.Errorf("MarkDPoPRefused after reopen = %v, %v; want false (marked in the first life)", first, err)
	}
	f.checkLog("other account after reopen", other.ID, refused)
	got, err := f.s.SessionByAccessHash(f.ctx, live.AccessHash)
	ok(t, "SessionByAccessHash after reopen", err)
	check(t, "SessionByAccessHash after reopen", got, live)
	check(t, "rotated token after reopen", f.mustToken(rt0.Hash), rotatedAt(rt0, rot.New.IssuedAt))
	check(t, "live token after reopen", f.mustToken(rot.New.Hash), rot.New)
	list, err := f.s.ListSessions(f.ctx, acct.ID, "", t0, nil, 10)
	ok(t, "ListSessions after reopen", err)
	check(t, "ListSessions after reopen", list, []store.Session{live})
	gotAudit, err := f.s.ListAudit(f.ctx, acct.ID, 0, 10)
	ok(t, "ListAudit after reopen", err)
	check(t, "ListAudit after reopen", gotAudit, audit)
	f.knownInstall("install of a session after reopen", acct.ID, live.InstallHash, true)
	gotOutbox, err := f.s.ReadOutbox(f.ctx, outboxFrom, 10)
	ok(t, "ReadOutbox after reopen", err)
	check(t, "outbox after reopen", gotOutbox, []store.OutboxEntry{entry})
	if h := f.outboxHead(); h != entry.Seq {
		t.Errorf("OutboxHead after reopen = %d, want %d", h, entry.Seq)
	}

	e := f.auditEvent(api.AuditLogout, t0.Add(time.Hour))
	// The chain goes on across the restart: Seq 3, linked to event 2.
	seq, err := f.s.AppendAudit(f.ctx, acct.ID, e)
	ok(t, "AppendAudit after reopen", err)
	if seq != audit[0].Seq+1 {
		t.Errorf("AppendAudit after reopen: Seq %d, want %d", seq, audit[0].Seq+1)
	}
	audit = chainedRecord(audit, acct.ID, e)
	gotRem, err := f.s.ConsumeRemembered(f.ctx, rem.Hash, t0)
	ok(t, "ConsumeRemembered after reopen", err)
	check(t, "ConsumeRemembered after reopen", gotRem, rem)
	r2 := store.Revocation{At: t0.Add(time.Hour), Reason: api.ReasonLogout, BySessionID: live.ID, ByDeviceName: live.Device.Name}
	_, err = f.s.RevokeSession(f.ctx, acct.ID, live.ID, r2, store.RevokeEffects{})
	ok(t, "RevokeSession after reopen", err)
	ok(t, "Close", f.s.Close())

	// Third life: the second life's writes are there too.
	f.s = open(t, path)
	defer f.s.Close()
	f.checkSession("session revoked in the second life", revoked(live, r2))
	f.checkSession("session revoked in the first life", gone)
	if n, err := f.s.RecoveryCodesLeft(f.ctx, mfa.ID); err != nil || n != 1 {
		t.Errorf("RecoveryCodesLeft in the third life = %d, %v; want 1", n, err)
	}
	_, err = f.s.MFAToken(f.ctx, pendingTok.Hash, t0)
	is(t, "MFA token consumed in the second life", err, store.ErrNotFound)
	_, err = f.s.ConsumeRemembered(f.ctx, rem.Hash, t0)
	is(t, "credential consumed in the second life", err, store.ErrNotFound)
	gotAudit, err = f.s.ListAudit(f.ctx, acct.ID, 0, 10)
	ok(t, "ListAudit in the third life", err)
	check(t, "ListAudit in the third life", gotAudit, audit)
}
