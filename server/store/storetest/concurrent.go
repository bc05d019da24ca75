package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

const racers = 20

// oneWinner checks that exactly one racer's call to op succeeded and that
// every other failed with lost (what a call that lost the race gets), and
// returns the winner.
func (f *fixture) oneWinner(op string, errs []error, lost error) int {
	f.t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			f.t.Fatalf("%s: racers %d and %d both won", op, winner, i)
		case err == nil:
			winner = i
		default:
			is(f.t, fmt.Sprintf("%s racer %d", op, i), err, lost)
		}
	}
	if winner < 0 {
		f.t.Fatalf("%s: no racer won", op)
	}
	return winner
}

// oneTrue checks that every racer's call to op succeeded and that exactly
// one of them reported true: it used what they raced for.
func (f *fixture) oneTrue(op string, used []bool, errs []error) {
	f.t.Helper()
	winners := 0
	for i := range used {
		ok(f.t, fmt.Sprintf("%s racer %d", op, i), errs[i])
		if used[i] {
			winners++
		}
	}
	if winners != 1 {
		f.t.Errorf("%s: %d racers won, want 1", op, winners)
	}
}

func testConcurrentRevokeSession(f *fixture) {
	acct := f.account()
	target, _ := f.session(acct, nil)
	var rs [racers]store.Revocation
	for i := range rs {
		rs[i] = store.Revocation{
			At:           t0.Add(time.Duration(i+1) * time.Second),
			Reason:       api.ReasonRemoteLogout,
			BySessionID:  fmt.Sprintf("ses_actor_%02d", i),
			ByDeviceName: fmt.Sprintf("device %02d", i),
		}
	}
	var (
		res  [racers]store.Session
		errs [racers]error
	)
	barrier.Run(racers, func(i int) {
		res[i], errs[i] = f.s.RevokeSession(f.ctx, acct.ID, target.ID, rs[i], store.RevokeEffects{})
	})
	winner := f.oneWinner("RevokeSession", errs[:], store.ErrRevoked)
	want := revoked(target, rs[winner])
	for i := range res {
		check(f.t, fmt.Sprintf("RevokeSession racer %d result", i), res[i], want)
	}
	f.checkSession("raced session", want)
}

func testConcurrentRevokeOthers(f *fixture) {
	acct, other := f.account(), f.account()
	const n = 10
	var (
		sessions [n]store.Session
		rs       [n]store.Revocation
		res      [n][]store.Session
		errs     [n]error
	)
	for i := range n {
		sessions[i], _ = f.session(acct, nil)
		rs[i] = store.Revocation{At: t0.Add(time.Hour), Reason: api.ReasonLogoutOthers,
			BySessionID: sessions[i].ID, ByDeviceName: sessions[i].Device.Name}
	}
	bystander, _ := f.session(other, nil)
	barrier.Run(n, func(i int) {
		res[i], errs[i] = f.s.RevokeOtherSessions(f.ctx, acct.ID, sessions[i].ID, rs[i], store.RevokeEffects{})
	})

	// Each session is ended by exactly one call, and every one is ended:
	// whichever call ran first spared only its own session, and a later
	// call ended that one.
	endedBy := map[string]int{}
	for i := range n {
		ok(f.t, fmt.Sprintf("RevokeOtherSessions racer %d", i), errs[i])
		for _, s := range res[i] {
			if j, dup := endedBy[s.ID]; dup {
				f.t.Errorf("session %s ended by racers %d and %d", s.ID, j, i)
			}
			endedBy[s.ID] = i
		}
	}
	for _, s := range sessions {
		i, ended := endedBy[s.ID]
		if !ended {
			f.t.Errorf("session %s not reported as ended", s.ID)
			continue
		}
		f.checkSession(fmt.Sprintf("session ended by racer %d", i), revoked(s, rs[i]))
	}
	f.checkSession("other account's session", bystander)
}

func testConcurrentRotate(f *fixture) {
	acct := f.account()
	s, rt0 := f.session(acct, nil)
	var (
		rots [racers]store.Rotation
		errs [racers]error
	)
	for i := range rots {
		rots[i] = rotation(s, t0.Add(time.Duration(i+1)*time.Second))
	}
	barrier.Run(racers, func(i int) { errs[i] = f.s.RotateRefreshToken(f.ctx, rots[i]) })
	for i, err := range errs {
		ok(f.t, fmt.Sprintf("RotateRefreshToken racer %d", i), err)
	}
	f.checkRotations(s, rt0, rots[:], errs[:], nil)
}

// checkRotations checks the outcome of racing rotations of s (first token
// rt0), of which those with a nil error took place: they happened one after
// another, so each stamped exactly the token live before it, one token is
// live now, and the session carries the access token of the rotation that
// issued it. A refused rotation left no trace.
func (f *fixture) checkRotations(s store.Session, rt0 store.RefreshToken, rots []store.Rotation, errs []error, r *store.Revocation) {
	f.t.Helper()
	tokens := []store.RefreshToken{rt0}
	issuers := []*store.Rotation{nil}
	var stamps []time.Time // IssuedAt of every rotation that took place
	for i, rot := range rots {
		if errs[i] != nil {
			_, err := f.s.RefreshToken(f.ctx, rot.New.Hash)
			is(f.t, fmt.Sprintf("token of refused rotation %d", i), err, store.ErrNotFound)
			continue
		}
		tokens = append(tokens, rot.New)
		issuers = append(issuers, &rots[i])
		stamps = append(stamps, rot.New.IssuedAt)
	}
	live := -1
	var got []time.Time
	for i, want := range tokens {
		rt := f.mustToken(want.Hash)
		if rt.RotatedAt == nil {
			if live >= 0 {
				f.t.Errorf("two live refresh tokens after racing rotations: #%d and #%d", live, i)
			}
			live = i
			check(f.t, "live token", rt, want)
			continue
		}
		got = append(got, *rt.RotatedAt)
		check(f.t, "rotated token", rt, rotatedAt(want, *rt.RotatedAt))
	}
	if live < 0 {
		f.t.Fatal("no live refresh token after racing rotations")
	}
	slices.SortFunc(got, time.Time.Compare)
	slices.SortFunc(stamps, time.Time.Compare)
	check(f.t, "rotation stamps (each rotation stamps exactly one token)", got, stamps)

	want := s
	if rot := issuers[live]; rot != nil {
		want = rotated(s, *rot)
	}
	if r != nil {
		want = revoked(want, *r)
	}
	f.checkSession("session after racing rotations", want)
	for _, rot := range rots {
		if !slices.Equal(rot.AccessHash, want.AccessHash) {
			_, err := f.s.SessionByAccessHash(f.ctx, rot.AccessHash)
			is(f.t, "SessionByAccessHash(superseded access token)", err, store.ErrNotFound)
		}
	}
}

func testConcurrentRevokeWhileRotating(f *fixture) {
	acct := f.account()
	s, rt0 := f.session(acct, nil)
	actor, _ := f.session(acct, nil)
	r := revocation(t0.Add(time.Hour), actor)
	const rotators, readers = 12, 4
	var (
		rots     [rotators]store.Rotation
		errs     [rotators + 1 + readers]error
		stop     = make(chan struct{})
		finished sync.WaitGroup
	)
	for i := range rots {
		rots[i] = rotation(s, t0.Add(time.Duration(i+1)*time.Second))
	}
	finished.Add(rotators + 1)
	barrier.Run(len(errs), func(i int) {
		switch {
		case i < rotators:
			defer finished.Done()
			errs[i] = f.s.RotateRefreshToken(f.ctx, rots[i])
		case i == rotators:
			defer finished.Done()
			_, errs[i] = f.s.RevokeSession(f.ctx, acct.ID, s.ID, r, store.RevokeEffects{})
		case i == rotators+1:
			finished.Wait()
			close(stop)
		default:
			// Readers run alongside the writers and must never fail.
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.s.Session(f.ctx, s.ID); err != nil {
					errs[i] = err
					return
				}
				if _, err := f.s.ListSessions(f.ctx, acct.ID, "", t0, nil, 10); err != nil {
					errs[i] = err
					return
				}
			}
		}
	})
	ok(f.t, "RevokeSession while rotating", errs[rotators])
	for i, err := range errs[rotators+1:] {
		ok(f.t, fmt.Sprintf("reader %d", i), err)
	}
	for i, err := range errs[:rotators] {
		if err != nil && !errors.Is(err, store.ErrRevoked) {
			f.t.Errorf("RotateRefreshToken racer %d: %v, want nil or ErrRevoked", i, err)
		}
	}
	f.checkRotations(s, rt0, rots[:], errs[:rotators], &r)
}

func testConcurrentConsumeRemembered(f *fixture) {
	acct := f.account()
	r := f.remembered(acct, "dev1", t0.Add(time.Hour))
	var (
		res  [racers]store.Remembered
		errs [racers]error
	)
	barrier.Run(racers, func(i int) { res[i], errs[i] = f.s.ConsumeRemembered(f.ctx, r.Hash, t0) })
	winner := f.oneWinner("ConsumeRemembered", errs[:], store.ErrNotFound)
	check(f.t, "ConsumeRemembered winner", res[winner], r)
}

func testConcurrentCreateAccount(f *fixture) {
	name := "racer_" + f.tag
	var (
		accts [racers]store.Account
		errs  [racers]error
	)
	for i := range accts {
		accts[i] = store.Account{ID: f.id("acc"), Username: name, PasswordHash: fmt.Sprintf("hash %d", i), CreatedAt: t0}
	}
	barrier.Run(racers, func(i int) { errs[i] = f.s.CreateAccount(f.ctx, accts[i]) })
	winner := f.oneWinner("CreateAccount", errs[:], store.ErrUsernameTaken)
	got, err := f.s.AccountByUsername(f.ctx, name)
	ok(f.t, "AccountByUsername", err)
	check(f.t, "raced account", got, accts[winner])
}

func testConcurrentAppendAudit(f *fixture) {
	accts := []store.Account{f.account(), f.account()}
	const writers, each = 10, 10
	var (
		recs [writers][each]store.AuditRecord
		errs [writers]error
	)
	for w := range writers {
		for j := range each {
			a := accts[w%2]
			recs[w][j] = store.AuditRecord{AccountID: a.ID, Event: f.auditEvent(api.AuditLoginSucceeded, t0.Add(time.Duration(j)*time.Second))}
		}
	}
	barrier.Run(writers, func(w int) {
		for j := range each {
			seq, err := f.s.AppendAudit(f.ctx, recs[w][j].AccountID, recs[w][j].Event)
			if err != nil {
				errs[w] = err
				return
			}
			recs[w][j].Seq = seq
		}
	})
	want := map[string][]store.AuditRecord{}
	seen := map[string]bool{}
	for w := range writers {
		ok(f.t, fmt.Sprintf("AppendAudit writer %d", w), errs[w])
		for j, rec := range recs[w] {
			k := fmt.Sprint(rec.AccountID, rec.Seq)
			if seen[k] {
				f.t.Errorf("Seq %d of %s handed out twice", rec.Seq, rec.AccountID)
			}
			seen[k] = true
			if j > 0 && rec.Seq <= recs[w][j-1].Seq {
				f.t.Errorf("writer %d: Seq %d after %d, want increasing", w, rec.Seq, recs[w][j-1].Seq)
			}
			want[rec.AccountID] = append(want[rec.AccountID], rec)
		}
	}
	for _, a := range accts {
		w := want[a.ID]
		slices.SortFunc(w, func(x, y store.AuditRecord) int { return cmp.Compare(y.Seq, x.Seq) })
		got, err := f.s.ListAudit(f.ctx, a.ID, 0, 1000)
		ok(f.t, "ListAudit", err)
		// One chain per account, no fork, no gap: Seq 1…n, each linked
		// to the one before, every event there once.
		chain := f.verifyChain(a.ID)
		if len(chain) != len(w) {
			f.t.Errorf("account %s: %d events chained, want %d", a.ID, len(chain), len(w))
		}
		for i := range got {
			got[i].Event = unchained(got[i].Event)
		}
		check(f.t, "ListAudit after racing appends", got, w)
	}
}
