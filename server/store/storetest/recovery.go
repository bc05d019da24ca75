package storetest

import (
	"context"
	"fmt"
	"time"

	"sessionguard/api"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

// New recovery codes: ReplaceRecoveryCodes.

// codesRecorder is a store.CodesAuditFunc whose event says how many codes
// the store reported replaced (Detail).
type codesRecorder struct{ base api.AuditEvent }

func (f *fixture) codesRecorder() *codesRecorder {
	return &codesRecorder{base: f.auditEvent(api.AuditRecoveryCodesRegenerated, t0.Add(time.Hour).In(zone))}
}

func (r *codesRecorder) fn(replaced int) api.AuditEvent { return r.want(replaced) }

func (r *codesRecorder) want(replaced int) api.AuditEvent {
	e := r.base
	e.Detail = fmt.Sprintf("replaced %d", replaced)
	return e
}

// hashes returns n random code hashes.
func hashes(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = randHash()
	}
	return out
}

// codesLeft checks RecoveryCodesLeft.
func (f *fixture) codesLeft(what, accountID string, want int) {
	f.t.Helper()
	n, err := f.s.RecoveryCodesLeft(f.ctx, accountID)
	ok(f.t, what+": RecoveryCodesLeft", err)
	if n != want {
		f.t.Errorf("%s: %d recovery codes left, want %d", what, n, want)
	}
}

// usable reports how many of codes UseRecoveryCode accepts (spending them).
func (f *fixture) usable(accountID string, codes [][]byte) int {
	f.t.Helper()
	n := 0
	for _, h := range codes {
		used, err := f.s.UseRecoveryCode(f.ctx, accountID, h)
		ok(f.t, "UseRecoveryCode", err)
		if used {
			n++
		}
	}
	return n
}

// testReplaceRecoveryCodes: every earlier code, used or not, stops
// working, the new ones work, the count of unused codes replaced goes to
// the event, written with them; nothing else changes.
func testReplaceRecoveryCodes(f *fixture) {
	acct, other := f.account(), f.account()
	first := hashes(3)
	acct = f.enableTOTP(acct, secretA, 1, first)
	f.enableTOTP(other, secretB, 1, [][]byte{first[2]}) // the same digest on another account
	if f.usable(acct.ID, first[:1]) != 1 {
		f.t.Fatal("a first code did not work")
	}

	steps := []struct {
		name         string
		codes        [][]byte
		wantReplaced int
	}{
		{"two unused codes left", hashes(4), 2},
		{"a full set", hashes(10), 4},
		{"none (every code gone)", nil, 10},
		{"after none", hashes(1), 0},
	}
	var (
		log  []api.AuditEvent
		prev = first
	)
	for _, st := range steps {
		rec := f.codesRecorder()
		replaced, err := f.s.ReplaceRecoveryCodes(f.ctx, acct.ID, st.codes, rec.fn)
		ok(f.t, st.name+": ReplaceRecoveryCodes", err)
		if replaced != st.wantReplaced {
			f.t.Errorf("%s: replaced %d codes, want %d", st.name, replaced, st.wantReplaced)
		}
		log = append(log, rec.want(st.wantReplaced))
		f.checkLog(st.name, acct.ID, log...)
		f.codesLeft(st.name, acct.ID, len(st.codes))
		prev = st.codes
	}
	if n := f.usable(acct.ID, first); n != 0 {
		f.t.Errorf("%d codes of the first set still work", n)
	}
	if n := f.usable(acct.ID, prev); n != len(prev) {
		f.t.Errorf("%d of the %d newest codes work", n, len(prev))
	}
	check(f.t, "account after new codes", f.mustAccount(acct.ID), acct)
	f.codesLeft("other account", other.ID, 1)
	f.checkLog("other account", other.ID)

	// Without an event.
	if _, err := f.s.ReplaceRecoveryCodes(f.ctx, acct.ID, hashes(2), nil); err != nil {
		f.t.Fatalf("ReplaceRecoveryCodes without an event: %v", err)
	}
	f.checkLog("after new codes without an event", acct.ID, log...)
	f.codesLeft("after new codes without an event", acct.ID, 2)
}

// testReplaceRecoveryCodesRefused: with two-step verification off (never
// on, only pending, or turned off) or for an unknown account nothing is
// stored and no event written.
func testReplaceRecoveryCodesRefused(f *fixture) {
	never, pending, off := f.account(), f.account(), f.account()
	ok(f.t, "SetTOTPPending", f.s.SetTOTPPending(f.ctx, pending.ID, secretA))
	pending.TOTPPendingSecret = secretA
	f.enableTOTP(off, secretA, 1, hashes(3))
	_, err := f.s.DisableTOTP(f.ctx, off.ID)
	ok(f.t, "DisableTOTP", err)

	cases := []struct {
		name string
		acct store.Account
		want error
	}{
		{"two-step never on", never, store.ErrConflict},
		{"only a pending secret", pending, store.ErrConflict},
		{"two-step turned off", off, store.ErrConflict},
		{"unknown account", store.Account{ID: f.id("acc")}, store.ErrNotFound},
	}
	for _, tc := range cases {
		codes := hashes(2)
		n, err := f.s.ReplaceRecoveryCodes(f.ctx, tc.acct.ID, codes, f.codesRecorder().fn)
		is(f.t, "ReplaceRecoveryCodes("+tc.name+")", err, tc.want)
		if n != 0 {
			f.t.Errorf("%s: refused, yet reports %d codes replaced", tc.name, n)
		}
		f.codesLeft(tc.name, tc.acct.ID, 0)
		if tc.want == store.ErrConflict {
			f.checkLog(tc.name, tc.acct.ID)
			check(f.t, tc.name+": account", f.mustAccount(tc.acct.ID), tc.acct)
		}
	}
}

// testReplaceRecoveryCodesRollBack: a replacement that fails inside its
// transaction (the context is cancelled while the event is made) leaves
// the earlier codes working.
func testReplaceRecoveryCodesRollBack(f *fixture) {
	acct := f.account()
	first := hashes(3)
	f.enableTOTP(acct, secretA, 1, first)
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	rec, called := f.codesRecorder(), 0
	_, err := f.s.ReplaceRecoveryCodes(ctx, acct.ID, hashes(10), func(n int) api.AuditEvent {
		called++
		cancel()
		return rec.fn(n)
	})
	if err == nil {
		f.t.Error("ReplaceRecoveryCodes committed although its context was cancelled inside the transaction")
	}
	if called == 0 {
		f.t.Error("the CodesAuditFunc was never called")
	}
	f.checkLog("after a failed replacement", acct.ID)
	if n := f.usable(acct.ID, first); n != len(first) {
		f.t.Errorf("%d of %d earlier codes work after a failed replacement", n, len(first))
	}
}

// testConcurrentReplaceRecoveryCodes: concurrent replacements run one
// after another: the codes left are exactly one racer's, the first to
// commit counts the codes there were and each later one the set the one
// before left.
func testConcurrentReplaceRecoveryCodes(f *fixture) {
	acct := f.account()
	const initial, each = 5, 3
	f.enableTOTP(acct, secretA, 1, hashes(initial))
	var (
		sets     [racers][][]byte
		recs     [racers]*codesRecorder
		replaced [racers]int
		errs     [racers]error
	)
	for i := range sets {
		sets[i], recs[i] = hashes(each), f.codesRecorder()
	}
	barrier.Run(racers, func(i int) {
		replaced[i], errs[i] = f.s.ReplaceRecoveryCodes(f.ctx, acct.ID, sets[i], recs[i].fn)
	})
	counts := map[int]int{}
	for i, err := range errs {
		ok(f.t, fmt.Sprintf("ReplaceRecoveryCodes racer %d", i), err)
		counts[replaced[i]]++
	}
	if counts[initial] != 1 || counts[each] != racers-1 {
		f.t.Errorf("racers replaced %v (count: racers), want one %d and %d of %d", counts, initial, racers-1, each)
	}
	if n := len(f.auditLog(acct.ID)); n != racers {
		f.t.Errorf("%d events after %d replacements, want one each", n, racers)
	}
	f.codesLeft("after racing replacements", acct.ID, each)
	winners := 0
	for i := range sets {
		switch n := f.usable(acct.ID, sets[i]); n {
		case each:
			winners++
		case 0:
		default:
			f.t.Errorf("%d of racer %d's codes work: a mix of sets", n, i)
		}
	}
	if winners != 1 {
		f.t.Errorf("%d racers' codes work, want 1", winners)
	}
}

// testReplaceRecoveryCodesWhileDisabling: replacements racing a
// DisableTOTP never leave codes behind once two-step verification is off.
func testReplaceRecoveryCodesWhileDisabling(f *fixture) {
	for round := range 5 {
		acct := f.account()
		f.enableTOTP(acct, secretA, 1, hashes(2))
		var errs [racers]error
		barrier.Run(racers, func(i int) {
			if i == racers/2 {
				_, errs[i] = f.s.DisableTOTP(f.ctx, acct.ID)
				return
			}
			_, errs[i] = f.s.ReplaceRecoveryCodes(f.ctx, acct.ID, hashes(2), nil)
		})
		for i, err := range errs {
			switch {
			case i == racers/2:
				ok(f.t, fmt.Sprintf("round %d: DisableTOTP", round), err)
			case err != nil: // after the DisableTOTP
				is(f.t, fmt.Sprintf("round %d: ReplaceRecoveryCodes racer %d", round, i), err, store.ErrConflict)
			}
		}
		f.codesLeft(fmt.Sprintf("round %d, after racing DisableTOTP", round), acct.ID, 0)
	}
}
