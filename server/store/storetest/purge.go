package storetest

import (
	"fmt"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

// RunPurge runs only the retention (Purge) part of the contract. A store
// whose Purge works in batches runs it again with batches of a few rows,
// so that every kind of deletion takes several.
func RunPurge(t *testing.T, open func(t *testing.T) store.Store) {
	runCases(t, open, purgeContract)
}

// purgeContract is the part of contract that RunPurge runs.
var purgeContract = []testCase{
	{"Purge", testPurge},
	{"Concurrent/Purge", testConcurrentPurge},
	{"Purge/Closures", testPurgeClosures},
}

// Retention epochs. Nothing else the suite writes is older than a few days
// before t0, so a Purge with cutoffs around an epoch deletes only that
// test's records, even in a shared database. A Purge keeps what is newer
// than its cutoffs, and later ones would delete it: each test that runs
// later uses an earlier epoch.
var (
	epochPurge           = t0.AddDate(-10, 0, 0)
	epochConcurrentPurge = t0.AddDate(-20, 0, 0)
)

const day = 24 * time.Hour

// install is a known install of an account.
type install struct {
	accountID string
	hash      []byte
}

// purgeRecords is what one fixture wrote for a Purge at (now, before):
// what it must delete and what it must keep.
type purgeRecords struct {
	now, before time.Time
	want        store.PurgeCounts
	// rotatedOfEnded counts the rotated refresh tokens of the ended
	// sessions: concurrent Purges may count them as RefreshTokens.
	rotatedOfEnded int

	accountID                  string
	sessionsGone, sessionsKept []store.Session
	tokensGone, tokensKept     []store.RefreshToken
	remGone, remKept           []store.Remembered
	mfaGone, mfaKept           []store.MFAToken
	installsGone, installsKept []install
	outboxFrom                 int64 // OutboxHead before the fixture appended
	outboxKept                 []store.OutboxEntry
	outboxHead                 int64
	audit                      []api.AuditEvent
}

// purgeFixture writes records around base for a Purge with before = base
// and now = base + 1h, each kind on both sides of its cutoff and on it.
func (f *fixture) purgeFixture(base time.Time) *purgeRecords {
	f.t.Helper()
	p := &purgeRecords{before: base, now: base.Add(time.Hour)}
	acct := f.account()
	p.accountID = acct.ID
	at := func(d time.Duration) time.Time { return base.Add(d) }

	// session creates a session of acct from created to expires (no
	// install key unless h), with its first refresh token.
	session := func(created, expires time.Time, h []byte) (store.Session, store.RefreshToken) {
		return f.session(acct, func(s *store.Session) {
			s.CreatedAt, s.LastSeenAt, s.AuthTime = created, created, created
			s.ExpiresAt, s.AbsoluteExpiresAt = expires, expires
			s.AccessExpiresAt = created.Add(15 * time.Minute)
			s.InstallHash = h
		})
	}
	// rotate refreshes s at when, keeping its expiry; it returns the
	// token it rotated (as it now is) and the session.
	rotate := func(s *store.Session, live *store.RefreshToken, when time.Time) store.RefreshToken {
		rot := rotation(*s, when)
		rot.ExpiresAt = s.ExpiresAt
		ok(f.t, "RotateRefreshToken", f.s.RotateRefreshToken(f.ctx, rot))
		*s = rotated(*s, rot)
		old := rotatedAt(*live, when)
		*live = rot.New
		return old
	}
	revoke := func(s *store.Session, when time.Time) {
		r := store.Revocation{At: when, Reason: api.ReasonAdmin}
		_, err := f.s.RevokeSession(f.ctx, acct.ID, s.ID, r, store.RevokeEffects{})
		ok(f.t, "RevokeSession", err)
		*s = revoked(*s, r)
	}

	// Ended sessions: gone with every token.
	s1, rt := session(at(-40*day), at(300*day), nil) // revoked before the cutoff
	p.tokensGone = append(p.tokensGone, rotate(&s1, &rt, at(-35*day)), rotate(&s1, &rt, at(-30*day)), rt)
	revoke(&s1, at(-day))
	s2, rt := session(at(-40*day), at(-day), nil) // expired before it
	p.tokensGone = append(p.tokensGone, rotate(&s2, &rt, at(-38*day)), rt)
	s3, rt := session(at(-40*day), at(-2*day), nil) // expired before it, revoked after it
	p.tokensGone = append(p.tokensGone, rt)
	revoke(&s3, at(day))
	p.sessionsGone = []store.Session{s1, s2, s3}
	p.want.Sessions, p.rotatedOfEnded = 3, 3

	// Kept sessions: their tokens rotated before the cutoff go.
	s4, rt := session(at(-40*day), at(300*day), nil) // revoked at the cutoff
	p.tokensKept = append(p.tokensKept, rt)
	revoke(&s4, at(0))
	s5, rt := session(at(-40*day), at(300*day), nil) // revoked after it
	p.tokensGone = append(p.tokensGone, rotate(&s5, &rt, at(-5*day)))
	p.tokensKept = append(p.tokensKept, rt)
	revoke(&s5, at(day))
	s6, rt := session(at(-40*day), at(0), nil) // expires at the cutoff
	p.tokensKept = append(p.tokensKept, rt)
	s7, rt := session(at(-40*day), at(30*time.Minute), nil) // expires between before and now
	p.tokensKept = append(p.tokensKept, rt)
	s8, rt := session(at(-40*day), at(300*day), nil) // live, refreshed now and then
	p.tokensGone = append(p.tokensGone, rotate(&s8, &rt, at(-20*day)), rotate(&s8, &rt, at(-10*day)))
	p.tokensKept = append(p.tokensKept, rotate(&s8, &rt, at(0)), rotate(&s8, &rt, at(time.Hour)), rt)
	p.want.RefreshTokens = 3

	// Known installs: by their last sign-in.
	installGone, installKept, installCutoff := randHash(), randHash(), randHash()
	i1, _ := session(at(-40*day), at(300*day), installGone)
	i2, _ := session(at(-40*day), at(300*day), installKept)
	i3, _ := session(at(day), at(300*day), installKept)
	i4, _ := session(at(-50*day), at(300*day), installKept) // an earlier sign-in recorded late: still last used at +1 day
	i5, _ := session(at(0), at(300*day), installCutoff)
	p.sessionsKept = []store.Session{s4, s5, s6, s7, s8, i1, i2, i3, i4, i5}
	p.installsGone = []install{{acct.ID, installGone}}
	p.installsKept = []install{{acct.ID, installKept}, {acct.ID, installCutoff}}
	p.want.Installs = 1

	// Remembered logins and MFA tokens: expired by now (not before).
	for _, exp := range []time.Time{at(-time.Hour), p.now, p.now.Add(time.Microsecond), at(300 * day)} {
		r := store.Remembered{Hash: randHash(), AccountID: acct.ID, DeviceID: "dev1", DeviceName: "Laptop",
			CreatedAt: at(-2 * day), ExpiresAt: exp, AuthTime: at(-2 * day), InstallHash: randHash()}
		ok(f.t, "CreateRemembered", f.s.CreateRemembered(f.ctx, r))
		// Tokens made before any of them expired, so that creating one
		// sweeps none of the others.
		t := f.mfaToken(acct, at(-2*time.Hour), exp)
		if exp.After(p.now) {
			p.remKept, p.mfaKept = append(p.remKept, r), append(p.mfaKept, t)
		} else {
			p.remGone, p.mfaGone = append(p.remGone, r), append(p.mfaGone, t)
		}
	}
	p.want.Remembered, p.want.MFATokens = 2, 2

	// Outbox entries by when they were written; the newest goes.
	head, err := f.s.OutboxHead(f.ctx)
	ok(f.t, "OutboxHead", err)
	p.outboxFrom = head
	for _, when := range []time.Time{at(0), at(day), at(-day)} {
		e := store.OutboxEntry{At: when, Data: []byte(fmt.Sprintf(`{"purge":%q}`, when))}
		e.Seq, err = f.s.AppendOutbox(f.ctx, when, e.Data)
		ok(f.t, "AppendOutbox", err)
		if !when.Before(base) {
			p.outboxKept = append(p.outboxKept, e)
		}
		p.outboxHead = e.Seq
	}
	p.want.Outbox = 1

	// Audit events are never purged.
	e := f.auditEvent(api.AuditLoginSucceeded, at(-100*day))
	_, err = f.s.AppendAudit(f.ctx, acct.ID, e)
	ok(f.t, "AppendAudit", err)
	p.audit = []api.AuditEvent{e}
	return p
}

// check checks that the purge deleted what it should and kept the rest.
// It consumes the kept remembered logins.
func (p *purgeRecords) check(f *fixture) {
	f.t.Helper()
	for _, s := range p.sessionsGone {
		_, err := f.s.Session(f.ctx, s.ID)
		is(f.t, "ended session "+s.ID, err, store.ErrNotFound)
		_, err = f.s.SessionByAccessHash(f.ctx, s.AccessHash)
		is(f.t, "ended session "+s.ID+" by access hash", err, store.ErrNotFound)
	}
	for _, s := range p.sessionsKept {
		f.checkSession("kept session", s)
	}
	for _, rt := range p.tokensGone {
		_, err := f.s.RefreshToken(f.ctx, rt.Hash)
		is(f.t, fmt.Sprintf("refresh token of %s issued at %s", rt.SessionID, fmtTime(rt.IssuedAt)), err, store.ErrNotFound)
	}
	for _, rt := range p.tokensKept {
		check(f.t, "kept refresh token", f.mustToken(rt.Hash), rt)
	}
	for _, t := range p.mfaGone {
		f.mfaTokenPresent("MFA token expired at "+fmtTime(t.ExpiresAt), false, t)
	}
	for _, t := range p.mfaKept {
		f.mfaTokenPresent("MFA token expiring at "+fmtTime(t.ExpiresAt), true, t)
	}
	for _, i := range p.installsGone {
		f.knownInstall("install last used before the cutoff", i.accountID, i.hash, false)
	}
	for _, i := range p.installsKept {
		f.knownInstall("install used since", i.accountID, i.hash, true)
	}
	got, err := f.s.ReadOutbox(f.ctx, p.outboxFrom, 10)
	ok(f.t, "ReadOutbox", err)
	check(f.t, "outbox entries kept", got, p.outboxKept)
	if head, err := f.s.OutboxHead(f.ctx); err != nil || head != p.outboxHead {
		f.t.Errorf("OutboxHead after purging the newest entry = %d, %v; want %d", head, err, p.outboxHead)
	}
	f.checkLog("after Purge", p.accountID, p.audit...)
	f.mustAccount(p.accountID)
	// DeleteRemembered finds a credential whether or not it expired.
	for _, r := range p.remGone {
		_, err := f.s.DeleteRemembered(f.ctx, r.Hash)
		is(f.t, "remembered login expired at "+fmtTime(r.ExpiresAt), err, store.ErrNotFound)
	}
	for _, r := range p.remKept {
		got, err := f.s.DeleteRemembered(f.ctx, r.Hash)
		ok(f.t, "remembered login expiring at "+fmtTime(r.ExpiresAt), err)
		check(f.t, "kept remembered login", got, r)
	}
}

func testPurge(f *fixture) {
	p := f.purgeFixture(epochPurge)
	got, err := f.s.Purge(f.ctx, p.now.In(zone), p.before.In(zone))
	ok(f.t, "Purge", err)
	check(f.t, "Purge counts", got, p.want)
	// Nothing is left to purge.
	got, err = f.s.Purge(f.ctx, p.now, p.before)
	ok(f.t, "Purge again", err)
	check(f.t, "Purge counts the second time", got, store.PurgeCounts{})
	p.check(f)
}

// testConcurrentPurge: Purges at once (replicas) delete each record once,
// all in all as much as one Purge.
func testConcurrentPurge(f *fixture) {
	p := f.purgeFixture(epochConcurrentPurge)
	const n = 4
	var (
		counts [n]store.PurgeCounts
		errs   [n]error
	)
	barrier.Run(n, func(i int) { counts[i], errs[i] = f.s.Purge(f.ctx, p.now, p.before) })
	var sum store.PurgeCounts
	for i, c := range counts {
		ok(f.t, fmt.Sprintf("Purge racer %d", i), errs[i])
		sum.Sessions += c.Sessions
		sum.RefreshTokens += c.RefreshTokens
		sum.Remembered += c.Remembered
		sum.MFATokens += c.MFATokens
		sum.Installs += c.Installs
		sum.Outbox += c.Outbox
	}
	// A racer done with ended sessions may purge rotated tokens of one
	// another racer is still deleting.
	if extra := sum.RefreshTokens - p.want.RefreshTokens; extra >= 0 && extra <= p.rotatedOfEnded {
		sum.RefreshTokens = p.want.RefreshTokens
	}
	check(f.t, "Purge counts of all racers", sum, p.want)
	p.check(f)
}
