package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// Closures: revocations issue closure tokens and record erase requests;
// a receipt (ConfirmClosure) spends every token of its session, once;
// GET /v1/sessions?state=ended reads ListEndedSessions.

// closureHashes is a store.ClosureFunc that hands out a fixed random hash
// per session, the same on every call, and remembers them.
type closureHashes struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newClosureHashes() *closureHashes { return &closureHashes{m: map[string][]byte{}} }

func (c *closureHashes) fn(id string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.m[id]; ok {
		return h
	}
	h := randHash()
	c.m[id] = h
	return h
}

// of is the hash handed out for session id (nil if none was).
func (c *closureHashes) of(id string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[id]
}

// receiptEvent is a store.SessionAuditFunc whose event names the session
// it was given (TargetSessionID, TargetDeviceName) and whether it had a
// receipt before (Detail).
func (f *fixture) receiptEvent() (store.SessionAuditFunc, func(before store.Session) api.AuditEvent) {
	base := f.auditEvent(api.AuditSessionClosureConfirmed, t0.Add(2*time.Hour).In(zone))
	want := func(before store.Session) api.AuditEvent {
		e := base
		e.TargetSessionID, e.TargetDeviceName = before.ID, before.Device.Name
		e.Detail = "had a receipt: no"
		if before.Receipt != nil {
			e.Detail = "had a receipt: yes"
		}
		return e
	}
	return func(before store.Session) api.AuditEvent { return want(before) }, want
}

// testClosureRoundTrip: a revocation's erase request and a receipt are
// stored and read back with the session, CreateSession included.
func testClosureRoundTrip(f *fixture) {
	acct := f.account()
	r := store.Revocation{At: t0.In(zone), Reason: api.ReasonRemoteLogout, BySessionID: "ses_by", ByDeviceName: "Laptop", Erase: true}
	pending, prt := f.newSession(acct, func(s *store.Session) { s.Revoked = &r })
	ok(f.t, "CreateSession(revoked, erase asked)", f.s.CreateSession(f.ctx, pending, prt))
	f.checkSession("revoked session with an erase request", pending)
	confirmed, crt := f.newSession(acct, func(s *store.Session) {
		s.Revoked = &r
		s.Receipt = &store.Receipt{At: t0.Add(300 * time.Millisecond).In(zone), Erased: true}
	})
	ok(f.t, "CreateSession(revoked, confirmed)", f.s.CreateSession(f.ctx, confirmed, crt))
	f.checkSession("revoked session with a receipt", confirmed)
	// A live session has neither.
	live, _ := f.session(acct, nil)
	if got := f.mustSession(live.ID); got.Revoked != nil || got.Receipt != nil {
		f.t.Errorf("live session: Revoked %+v, Receipt %+v; want neither", got.Revoked, got.Receipt)
	}
}

// testClosureTokens: a revocation with a ClosureFunc gives the ended
// session its first token; a receipt with it records Receipt, spends it
// and appends the event, once; Closed confirms at once and issues none.
func testClosureTokens(f *fixture) {
	acct := f.account()
	actor, _ := f.session(acct, nil)
	target, _ := f.session(acct, nil)
	other, _ := f.session(acct, nil)
	hashes := newClosureHashes()
	r := revocation(t0.Add(time.Hour).In(zone), actor)
	r.Erase = true
	got, err := f.s.RevokeSession(f.ctx, acct.ID, target.ID, r, store.RevokeEffects{Closure: hashes.fn})
	ok(f.t, "RevokeSession with a closure", err)
	want := revoked(target, r)
	check(f.t, "RevokeSession result", got, want)
	h := hashes.of(target.ID)
	if h == nil {
		f.t.Fatal("RevokeSession never asked the ClosureFunc for the ended session's hash")
	}

	// A wrong hash confirms nothing.
	_, err = f.s.ConfirmClosure(f.ctx, randHash(), t0.Add(2*time.Hour), true, nil)
	is(f.t, "ConfirmClosure(unknown hash)", err, store.ErrNotFound)
	_, err = f.s.ConfirmClosure(f.ctx, nil, t0.Add(2*time.Hour), true, nil)
	is(f.t, "ConfirmClosure(nil hash)", err, store.ErrNotFound)
	f.checkSession("after refused receipts", want)
	f.checkLog("after refused receipts", acct.ID)

	audit, wantEvent := f.receiptEvent()
	at := t0.Add(time.Hour + 250*time.Millisecond).In(zone)
	confirmed, err := f.s.ConfirmClosure(f.ctx, h, at, true, audit)
	ok(f.t, "ConfirmClosure", err)
	want.Receipt = &store.Receipt{At: at, Erased: true}
	check(f.t, "ConfirmClosure result", confirmed, want)
	f.checkSession("confirmed session", want)
	f.checkLog("after the receipt", acct.ID, wantEvent(revoked(target, r)))

	// Single use: again, nothing changes.
	_, err = f.s.ConfirmClosure(f.ctx, h, at.Add(time.Minute), false, audit)
	is(f.t, "ConfirmClosure(spent)", err, store.ErrNotFound)
	f.checkSession("after a spent receipt", want)
	f.checkLog("after a spent receipt", acct.ID, wantEvent(revoked(target, r)))
	is(f.t, "IssueClosureToken(confirmed)", f.s.IssueClosureToken(f.ctx, target.ID, randHash(), at), store.ErrConflict)
	f.checkSession("bystander", other)

	// Closed: confirmed at the revocation's time, erased as asked; no
	// token, whatever the ClosureFunc says.
	self := store.Revocation{At: t0.Add(3 * time.Hour), Reason: api.ReasonLogout, BySessionID: actor.ID, ByDeviceName: actor.Device.Name, Erase: true}
	got, err = f.s.RevokeSession(f.ctx, acct.ID, actor.ID, self, store.RevokeEffects{Closed: true, Closure: hashes.fn})
	ok(f.t, "RevokeSession(closed)", err)
	wantSelf := revoked(actor, self)
	wantSelf.Receipt = &store.Receipt{At: self.At, Erased: true}
	check(f.t, "RevokeSession(closed) result", got, wantSelf)
	f.checkSession("session closed by itself", wantSelf)
	if h := hashes.of(actor.ID); h != nil {
		_, err = f.s.ConfirmClosure(f.ctx, h, at, false, nil)
		is(f.t, "ConfirmClosure(token of a closed revocation)", err, store.ErrNotFound)
	}
	is(f.t, "IssueClosureToken(closed)", f.s.IssueClosureToken(f.ctx, actor.ID, randHash(), at), store.ErrConflict)

	// A revocation without a ClosureFunc: pending, with no token until one
	// is issued.
	plain, _ := f.session(acct, nil)
	pr := store.Revocation{At: t0.Add(4 * time.Hour), Reason: api.ReasonAdmin, ByDeviceName: "Server administrator"}
	_, err = f.s.RevokeSession(f.ctx, acct.ID, plain.ID, pr, store.RevokeEffects{})
	ok(f.t, "RevokeSession without a closure", err)
	f.checkSession("revoked without a closure", revoked(plain, pr))
}

// testIssueClosureToken: tokens are issued to revoked sessions whose
// closure waits, at most MaxClosureTokens kept (the newest); any one of
// them confirms, and spends them all.
func testIssueClosureToken(f *fixture) {
	acct := f.account()
	live, _ := f.session(acct, nil)
	target, _ := f.session(acct, nil)
	at := t0.Add(time.Hour)
	is(f.t, "IssueClosureToken(unknown session)", f.s.IssueClosureToken(f.ctx, f.id("ses"), randHash(), at), store.ErrNotFound)
	is(f.t, "IssueClosureToken(live session)", f.s.IssueClosureToken(f.ctx, live.ID, randHash(), at), store.ErrConflict)
	f.checkSession("live session after a refused token", live)

	r := revocation(at, live)
	_, err := f.s.RevokeSession(f.ctx, acct.ID, target.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	var issued [][]byte
	for i := range store.MaxClosureTokens + 3 {
		h := randHash()
		// Some share an issue time: the newest are kept all the same.
		ok(f.t, "IssueClosureToken", f.s.IssueClosureToken(f.ctx, target.ID, h, at.Add(time.Duration(i/2)*time.Minute)))
		issued = append(issued, h)
	}
	want := revoked(target, r)
	f.checkSession("after issuing", want)
	for i, h := range issued[:3] {
		_, err := f.s.ConfirmClosure(f.ctx, h, at, false, nil)
		if !is(f.t, "ConfirmClosure(dropped token)", err, store.ErrNotFound) {
			f.t.Logf("token %d of %d was kept", i, len(issued))
		}
	}
	f.checkSession("after receipts with dropped tokens", want)
	recent := issued[3:]
	rt := at.Add(time.Hour)
	_, err = f.s.ConfirmClosure(f.ctx, recent[2], rt, false, nil)
	ok(f.t, "ConfirmClosure(kept token)", err)
	want.Receipt = &store.Receipt{At: rt}
	f.checkSession("after the receipt", want)
	for _, h := range recent {
		_, err := f.s.ConfirmClosure(f.ctx, h, rt.Add(time.Minute), true, nil)
		is(f.t, "ConfirmClosure(a token of a confirmed closure)", err, store.ErrNotFound)
	}
	f.checkSession("after late receipts", want)
}

// testClosureRevokeOthers: RevokeOtherSessions and ChangePassword give
// each session they end a token of its own, which confirms that session
// only; the erase request goes with every one of them.
func testClosureRevokeOthers(f *fixture) {
	for _, how := range []string{"RevokeOtherSessions", "ChangePassword"} {
		acct, foreign := f.account(), f.account()
		keep, _ := f.session(acct, nil)
		var others []store.Session
		for range 3 {
			s, _ := f.session(acct, nil)
			others = append(others, s)
		}
		stranger, _ := f.session(foreign, nil)
		hashes := newClosureHashes()
		r := store.Revocation{At: t0.Add(time.Hour), Reason: api.ReasonLogoutOthers, BySessionID: keep.ID, ByDeviceName: keep.Device.Name, Erase: true}
		var (
			ended []store.Session
			err   error
		)
		if how == "RevokeOtherSessions" {
			ended, err = f.s.RevokeOtherSessions(f.ctx, acct.ID, keep.ID, r, store.RevokeEffects{Closure: hashes.fn})
		} else {
			r.Reason, r.Erase = api.ReasonPasswordChanged, false
			ended, _, err = f.s.ChangePassword(f.ctx, store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash,
				NewHash: "changed", KeepSessionID: keep.ID, Revoke: &r, Closure: hashes.fn})
		}
		ok(f.t, how, err)
		if len(ended) != len(others) {
			f.t.Fatalf("%s ended %d sessions, want %d", how, len(ended), len(others))
		}
		if hashes.of(keep.ID) != nil || hashes.of(stranger.ID) != nil {
			f.t.Errorf("%s asked for a closure token of a session it did not end", how)
		}
		// Confirm the middle one: only it gets the receipt.
		at := t0.Add(2 * time.Hour)
		got, err := f.s.ConfirmClosure(f.ctx, hashes.of(others[1].ID), at, r.Erase, nil)
		ok(f.t, how+": ConfirmClosure", err)
		if got.ID != others[1].ID {
			f.t.Errorf("%s: the token of %s confirmed %s", how, others[1].ID, got.ID)
		}
		for i, s := range others {
			want := revoked(s, r)
			if i == 1 {
				want.Receipt = &store.Receipt{At: at, Erased: r.Erase}
			}
			f.checkSession(how+": ended session", want)
		}
		f.checkSession(how+": kept session", keep)
		f.checkSession(how+": other account's session", stranger)
		// The others' tokens still work, each for its own session.
		for _, i := range []int{0, 2} {
			got, err := f.s.ConfirmClosure(f.ctx, hashes.of(others[i].ID), at, false, nil)
			ok(f.t, how+": ConfirmClosure of another ended session", err)
			if got.ID != others[i].ID {
				f.t.Errorf("%s: the token of %s confirmed %s", how, others[i].ID, got.ID)
			}
		}
	}
}

// testConfirmClosureRollBack: a receipt whose transaction fails (its
// context cancelled inside it) records nothing, spends nothing and
// writes no event.
func testConfirmClosureRollBack(f *fixture) {
	acct := f.account()
	target, _ := f.session(acct, nil)
	hashes := newClosureHashes()
	r := store.Revocation{At: t0, Reason: api.ReasonRemoteLogout}
	_, err := f.s.RevokeSession(f.ctx, acct.ID, target.ID, r, store.RevokeEffects{Closure: hashes.fn})
	ok(f.t, "RevokeSession", err)
	ctx, cancel := context.WithCancel(f.ctx)
	audit, wantEvent := f.receiptEvent()
	_, err = f.s.ConfirmClosure(ctx, hashes.of(target.ID), t0.Add(time.Second), true, func(before store.Session) api.AuditEvent {
		cancel()
		return audit(before)
	})
	cancel()
	if err == nil {
		f.t.Fatal("ConfirmClosure committed although its context was cancelled inside the transaction")
	}
	f.checkSession("after a failed receipt", revoked(target, r))
	f.checkLog("after a failed receipt", acct.ID)
	_, err = f.s.ConfirmClosure(f.ctx, hashes.of(target.ID), t0.Add(time.Minute), true, audit)
	ok(f.t, "ConfirmClosure after a failed one", err)
	f.checkLog("after the receipt", acct.ID, wantEvent(revoked(target, r)))
}

// testConcurrentConfirmClosure: of concurrent receipts with the tokens of
// one session, each token sent several times, exactly one succeeds and
// writes its event.
func testConcurrentConfirmClosure(f *fixture) {
	acct := f.account()
	target, _ := f.session(acct, nil)
	hashes := newClosureHashes()
	r := store.Revocation{At: t0, Reason: api.ReasonRemoteLogout}
	_, err := f.s.RevokeSession(f.ctx, acct.ID, target.ID, r, store.RevokeEffects{Closure: hashes.fn})
	ok(f.t, "RevokeSession", err)
	tokens := [][]byte{hashes.of(target.ID)}
	for range 3 {
		h := randHash()
		ok(f.t, "IssueClosureToken", f.s.IssueClosureToken(f.ctx, target.ID, h, t0))
		tokens = append(tokens, h)
	}
	audit, wantEvent := f.receiptEvent()
	const each = 4
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		wins     int
		failures []error
	)
	for i := range len(tokens) * each {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.s.ConfirmClosure(f.ctx, tokens[i%len(tokens)], t0.Add(time.Second), false, audit)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrNotFound):
				failures = append(failures, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range failures {
		f.t.Errorf("ConfirmClosure: %v, want nil or ErrNotFound", err)
	}
	if wins != 1 {
		f.t.Errorf("%d receipts succeeded, want exactly 1", wins)
	}
	want := revoked(target, r)
	want.Receipt = &store.Receipt{At: t0.Add(time.Second)}
	f.checkSession("after concurrent receipts", want)
	f.checkLog("after concurrent receipts", acct.ID, wantEvent(revoked(target, r)))
}

// testListEndedSessions: the account's revoked sessions since the cutoff,
// the most recently ended first (ties by ID, descending), paged by the
// cursor; not live ones, not ones that only expired, not other accounts'.
func testListEndedSessions(f *fixture) {
	acct, other := f.account(), f.account()
	now := t0.Add(40 * day)
	since := now.Add(-30 * day)
	live, _ := f.session(acct, nil)
	f.session(acct, func(s *store.Session) { s.ExpiresAt = t0.Add(35 * day) }) // expired, never revoked
	revokeAt := func(s store.Session, at time.Time) store.Session {
		r := store.Revocation{At: at, Reason: api.ReasonRemoteLogout, BySessionID: live.ID, ByDeviceName: live.Device.Name}
		_, err := f.s.RevokeSession(f.ctx, s.AccountID, s.ID, r, store.RevokeEffects{})
		ok(f.t, "RevokeSession", err)
		return revoked(s, r)
	}
	mk := func(a store.Account, at time.Time) store.Session {
		s, _ := f.session(a, nil)
		return revokeAt(s, at)
	}
	old := mk(acct, since.Add(-time.Second)) // before the cutoff
	atCutoff := mk(acct, since.In(zone))
	e1 := mk(acct, now.Add(-2*day))
	e2 := mk(acct, now.Add(-day))
	e3 := mk(acct, now.Add(-day)) // ties with e2, larger ID: first
	e4 := mk(acct, now.Add(-10*day))
	mk(other, now.Add(-day))
	_ = old

	want := []store.Session{e3, e2, e1, e4, atCutoff}
	got, err := f.s.ListEndedSessions(f.ctx, acct.ID, since, nil, 10)
	ok(f.t, "ListEndedSessions", err)
	if !slices.Equal(ids(got), ids(want)) {
		f.t.Fatalf("ListEndedSessions = %v, want %v", ids(got), ids(want))
	}
	check(f.t, "ListEndedSessions", got, want)

	// Paged by two.
	var paged []string
	var after *store.EndedCursor
	for range 10 {
		page, err := f.s.ListEndedSessions(f.ctx, acct.ID, since, after, 2)
		ok(f.t, "ListEndedSessions page", err)
		paged = append(paged, ids(page)...)
		if len(page) < 2 {
			break
		}
		l := page[len(page)-1]
		after = &store.EndedCursor{RevokedAt: l.Revoked.At, ID: l.ID}
	}
	if !slices.Equal(paged, ids(want)) {
		f.t.Errorf("paged ListEndedSessions = %v, want %v", paged, ids(want))
	}
	if got, err := f.s.ListEndedSessions(f.ctx, acct.ID, since, nil, 0); err != nil || len(got) != 0 {
		f.t.Errorf("ListEndedSessions(limit 0) = %v, %v; want nothing", ids(got), err)
	}
	if got, err := f.s.ListEndedSessions(f.ctx, f.id("acc"), since, nil, 10); err != nil || len(got) != 0 {
		f.t.Errorf("ListEndedSessions(unknown account) = %v, %v; want nothing", ids(got), err)
	}
}

// testPurgeClosures: Purge deletes an ended session's closure tokens with
// it, and keeps those of sessions it keeps. (Purge contract: its own
// epoch, earlier than the other Purge tests'.)
func testPurgeClosures(f *fixture) {
	base := epochPurgeClosures
	acct := f.account()
	mk := func(revokedAt time.Time) (store.Session, []byte) {
		s, _ := f.session(acct, func(s *store.Session) {
			s.CreatedAt, s.LastSeenAt, s.AuthTime = base.Add(-40*day), base.Add(-40*day), base.Add(-40*day)
			s.ExpiresAt, s.AbsoluteExpiresAt, s.AccessExpiresAt = base.Add(300*day), base.Add(300*day), base.Add(-40*day)
		})
		hashes := newClosureHashes()
		_, err := f.s.RevokeSession(f.ctx, acct.ID, s.ID, store.Revocation{At: revokedAt, Reason: api.ReasonRemoteLogout},
			store.RevokeEffects{Closure: hashes.fn})
		ok(f.t, "RevokeSession", err)
		h := randHash()
		ok(f.t, "IssueClosureToken", f.s.IssueClosureToken(f.ctx, s.ID, h, revokedAt))
		return s, hashes.of(s.ID)
	}
	gone, goneHash := mk(base.Add(-day))
	kept, keptHash := mk(base.Add(day))
	_, err := f.s.Purge(f.ctx, base.Add(time.Hour), base)
	ok(f.t, "Purge", err)
	_, err = f.s.Session(f.ctx, gone.ID)
	is(f.t, "Session(purged)", err, store.ErrNotFound)
	_, err = f.s.ConfirmClosure(f.ctx, goneHash, base.Add(time.Hour), false, nil)
	is(f.t, "ConfirmClosure(token of a purged session)", err, store.ErrNotFound)
	got, err := f.s.ConfirmClosure(f.ctx, keptHash, base.Add(time.Hour), false, nil)
	ok(f.t, "ConfirmClosure(token of a kept session)", err)
	if got.ID != kept.ID || got.Receipt == nil {
		f.t.Errorf("ConfirmClosure(kept) = %s with receipt %+v", got.ID, got.Receipt)
	}
}

// epochPurgeClosures is testPurgeClosures' retention epoch: it runs after
// the other Purge tests, so earlier than theirs.
var epochPurgeClosures = t0.AddDate(-30, 0, 0)
