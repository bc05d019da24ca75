package storetest

import (
	"context"
	"fmt"
	"time"

	"sessionguard/api"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

// Renaming a device: RenameSession.

// renameRecorder is a store.SessionAuditFunc whose event says what the
// store passed it: the session's ID (TargetSessionID) and its name before
// the rename (TargetDeviceName); Detail is the new name, as the server
// writes it.
type renameRecorder struct {
	base    api.AuditEvent
	newName string
}

func (f *fixture) renameRecorder(newName string) *renameRecorder {
	return &renameRecorder{base: f.auditEvent(api.AuditSessionRenamed, t0.Add(time.Hour).In(zone)), newName: newName}
}

func (r *renameRecorder) fn(before store.Session) api.AuditEvent {
	return r.want(before.ID, before.Device.Name)
}

// want is the event fn makes for a rename of session id from oldName.
func (r *renameRecorder) want(id, oldName string) api.AuditEvent {
	e := r.base
	e.TargetSessionID, e.TargetDeviceName, e.Detail = id, oldName, r.newName
	return e
}

// renamed returns s with its device named name.
func renamed(s store.Session, name string) store.Session {
	s.Device.Name = name
	return s
}

// testRenameSession: the session's device name changes, nothing else of
// it and no other session (the device's other sessions included), and the
// event made from the session as it was is written with the change.
func testRenameSession(f *fixture) {
	acct, other := f.account(), f.account()
	self, _ := f.session(acct, nil)
	dev := f.id("dev")
	onDev := func(s *store.Session) { s.Device.ID = dev }
	target, _ := f.session(acct, onDev)
	sibling, _ := f.session(acct, onDev) // another session of the device
	expired, _ := f.session(acct, func(s *store.Session) { s.ExpiresAt = t0.Add(time.Minute) })
	foreign, _ := f.session(other, nil)

	cases := []struct {
		name   string
		s      *store.Session
		to     string
		audit  bool
		wantEv bool
	}{
		{"another session of the account", &target, "Ana's ThinkPad X1", true, true},
		{"again, from the new name", &target, "Büro-PC — 工作 😀", true, true},
		{"to the name it has", &target, "Büro-PC — 工作 😀", true, true},
		{"the calling session, without an event", &self, "Pixel 8", false, false},
		{"an expired session that is not revoked", &expired, "Old laptop", true, true},
	}
	var log []api.AuditEvent
	for _, tc := range cases {
		rec := f.renameRecorder(tc.to)
		var audit store.SessionAuditFunc
		if tc.audit {
			audit = rec.fn
		}
		before := *tc.s
		got, err := f.s.RenameSession(f.ctx, acct.ID, before.ID, tc.to, audit)
		ok(f.t, tc.name+": RenameSession", err)
		want := renamed(before, tc.to)
		check(f.t, tc.name+": RenameSession result", got, want)
		f.checkSession(tc.name+": renamed session", want)
		*tc.s = want
		if tc.wantEv {
			log = append(log, rec.want(before.ID, before.Device.Name))
		}
		f.checkLog(tc.name, acct.ID, log...)
	}
	f.checkSession("the device's other session", sibling)
	f.checkSession("other account's session", foreign)
	f.checkLog("other account", other.ID)

	// The session read by a later revocation carries the new name.
	r := revocation(t0.Add(2*time.Hour), self)
	got, err := f.s.RevokeSession(f.ctx, acct.ID, target.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeSession of the renamed session", err)
	check(f.t, "revoked renamed session", got, revoked(target, r))
}

// testRenameSessionRefused: a revoked, unknown or foreign session is not
// renamed and no event is written.
func testRenameSessionRefused(f *fixture) {
	acct, other := f.account(), f.account()
	actor, _ := f.session(acct, nil)
	gone, _ := f.session(acct, nil)
	r := revocation(t0.Add(time.Minute), actor)
	_, err := f.s.RevokeSession(f.ctx, acct.ID, gone.ID, r, store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	gone = revoked(gone, r)
	foreign, _ := f.session(other, nil)

	cases := []struct {
		name      string
		accountID string
		id        string
		want      error
	}{
		{"revoked session", acct.ID, gone.ID, store.ErrRevoked},
		{"unknown session", acct.ID, f.id("ses"), store.ErrNotFound},
		{"another account's session", acct.ID, foreign.ID, store.ErrNotFound},
		{"unknown account", f.id("acc"), actor.ID, store.ErrNotFound},
	}
	for _, tc := range cases {
		_, err := f.s.RenameSession(f.ctx, tc.accountID, tc.id, "Renamed", f.renameRecorder("Renamed").fn)
		is(f.t, "RenameSession("+tc.name+")", err, tc.want)
	}
	f.checkLog("after refused renames", acct.ID)
	f.checkLog("other account, after refused renames", other.ID)
	f.checkSession("revoked session", gone)
	f.checkSession("the actor", actor)
	f.checkSession("other account's session", foreign)
}

// testRenameSessionRollBack: a rename that fails inside its transaction
// (the context is cancelled while the event is made) leaves the name and
// the log as they were.
func testRenameSessionRollBack(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, nil)
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	rec, called := f.renameRecorder("Renamed"), 0
	_, err := f.s.RenameSession(ctx, acct.ID, s.ID, "Renamed", func(before store.Session) api.AuditEvent {
		called++
		cancel()
		return rec.fn(before)
	})
	if err == nil {
		f.t.Error("RenameSession committed although its context was cancelled inside the transaction")
	}
	if called == 0 {
		f.t.Error("the SessionAuditFunc was never called")
	}
	f.checkSession("session after a failed rename", s)
	f.checkLog("after a failed rename", acct.ID)
}

// testConcurrentRenameSession: concurrent renames of one session all
// succeed, one after another: each event's old name is the name the rename
// before it left, and the session ends with the last one's.
func testConcurrentRenameSession(f *fixture) {
	acct := f.account()
	s, _ := f.session(acct, nil)
	var (
		recs [racers]*renameRecorder
		errs [racers]error
	)
	for i := range recs {
		recs[i] = f.renameRecorder(fmt.Sprintf("name %02d", i))
	}
	barrier.Run(racers, func(i int) {
		_, errs[i] = f.s.RenameSession(f.ctx, acct.ID, s.ID, recs[i].newName, recs[i].fn)
	})
	for i, err := range errs {
		ok(f.t, fmt.Sprintf("RenameSession racer %d", i), err)
	}
	events := f.auditLog(acct.ID) // in commit order
	if len(events) != racers {
		f.t.Fatalf("%d events after %d renames", len(events), racers)
	}
	name := s.Device.Name
	seen := map[string]bool{}
	for i, e := range events {
		if e.TargetDeviceName != name {
			f.t.Errorf("rename %d started from %q, want %q (the name the one before left)", i, e.TargetDeviceName, name)
		}
		if seen[e.Detail] {
			f.t.Errorf("rename to %q logged twice", e.Detail)
		}
		seen[e.Detail] = true
		name = e.Detail
	}
	f.checkSession("session after racing renames", renamed(s, name))
}
