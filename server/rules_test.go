package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
)

// Device rules (issue 16): a device's own inactivity rule, the account's,
// the stricter winning, refusal at the next request, and the sweeper, over
// HTTP with a fake clock.

const (
	hour = time.Hour
	day  = 24 * time.Hour
)

// longAccess keeps access tokens valid across the days a test skips, so
// that the devices need no refresh in between (a refresh is use).
func longAccess(c *server.Config) { c.AccessTTL = 400 * day }

// setRule sends PATCH /v1/sessions/{id} {idle_timeout_s: secs}.
func (e *env) setRule(token, id string, secs int) reply {
	e.t.Helper()
	return e.do("PATCH", "/v1/sessions/"+id, token, api.UpdateSessionRequest{IdleTimeoutS: &secs})
}

// putSettings sends PUT /v1/settings.
func (e *env) putSettings(token string, st api.Settings) reply {
	e.t.Helper()
	return e.do("PUT", "/v1/settings", token, st)
}

// sweep runs the inactivity sweeper once and returns how many sessions it
// ended.
func (e *env) sweep() int {
	e.t.Helper()
	n, err := e.srv.SweepInactive(context.Background())
	if err != nil {
		e.t.Fatalf("SweepInactive: %v", err)
	}
	return n
}

// use makes one request of the session (GET /v1/me), which must succeed.
func (e *env) use(l api.Login) {
	e.t.Helper()
	e.do("GET", "/v1/me", l.AccessToken, nil).wantOK(e.t, 200, nil)
}

// auditsOf returns the account's audit events of type typ about session
// id (its target), newest first.
func (e *env) auditsOf(token, typ, id string) []api.AuditEvent {
	e.t.Helper()
	var out []api.AuditEvent
	for _, ev := range e.auditEvents(token) {
		if ev.Type == typ && ev.TargetSessionID == id {
			out = append(out, ev)
		}
	}
	return out
}

// wantInactive checks a 401 session_revoked for inactivity and returns
// its closure token.
func wantInactive(t *testing.T, r reply) string {
	t.Helper()
	d := r.wantError(t, 401, api.CodeSessionRevoked)
	if d.Details[api.DetailReason] != api.ReasonInactive || d.Details[api.DetailErase] != false ||
		d.Details[api.DetailByDeviceName] != "" {
		t.Fatalf("session_revoked details = %v", d.Details)
	}
	return closureToken(d)
}

// TestDeviceRuleEndsUnusedSessionAtItsNextRequest: a device's own rule,
// set from another device, counts from the session's last request; the
// first request at the deadline is refused and ends the session, with its
// closure token, audited with the rule; every session JSON says the rule.
func TestDeviceRuleEndsUnusedSessionAtItsNextRequest(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t, longAccess)
		e.signUp("ana")
		laptop := e.login("ana", "Ana's Laptop", true)
		hotel := e.login("ana", "Hotel lobby PC", true)

		var out api.UpdateSessionResponse
		e.setRule(laptop.AccessToken, hotel.Session.ID, int(day/time.Second)).wantOK(t, 200, &out)
		if out.Session.IdleTimeoutS != 86400 || out.Session.ID != hotel.Session.ID || out.Session.Current {
			t.Fatalf("PATCH answered %+v", out.Session)
		}
		ev := e.lastAudit(laptop.AccessToken, api.AuditSessionRulesChanged)
		if ev.SessionID != laptop.Session.ID || ev.TargetSessionID != hotel.Session.ID ||
			ev.TargetDeviceName != "Hotel lobby PC" || ev.Detail != "Log out if unused for 1 day" {
			t.Fatalf("session.rules_changed = %+v", ev)
		}
		// The same rule again writes nothing.
		e.setRule(laptop.AccessToken, hotel.Session.ID, 86400).wantOK(t, 200, nil)
		if n := len(e.auditsOf(laptop.AccessToken, api.AuditSessionRulesChanged, hotel.Session.ID)); n != 1 {
			t.Fatalf("%d session.rules_changed events, want 1", n)
		}
		var me api.MeResponse
		e.do("GET", "/v1/me", laptop.AccessToken, nil).wantOK(t, 200, &me)
		if me.Session.IdleTimeoutS != 0 {
			t.Fatalf("the laptop's own rule = %d", me.Session.IdleTimeoutS)
		}

		// Used 12 hours in: the day counts from then.
		e.clock.Advance(12 * hour)
		e.use(hotel)
		e.clock.Advance(day - time.Microsecond)
		if s, ok := e.sessionByID(laptop.AccessToken, hotel.Session.ID); !ok || s.IdleTimeoutS != 86400 {
			t.Fatalf("a microsecond before its deadline the list has %+v, %v", s, ok)
		}
		e.clock.Advance(time.Microsecond)
		if _, ok := e.sessionByID(laptop.AccessToken, hotel.Session.ID); ok {
			t.Fatal("at its deadline the session is still listed")
		}
		r := e.do("GET", "/v1/me", hotel.AccessToken, nil)
		tok := wantInactive(t, r)
		if tok == "" || !strings.Contains(r.errBody(t).Message, "1 day unused") {
			t.Fatalf("refusal %s has no closure token or says no rule", r.body)
		}
		e.do("GET", "/v1/me", hotel.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked) // ended for good
		revs := e.auditsOf(laptop.AccessToken, api.AuditSessionRevoked, hotel.Session.ID)
		if len(revs) != 1 || revs[0].SessionID != hotel.Session.ID || revs[0].DeviceName != "Hotel lobby PC" ||
			revs[0].Detail != "Unused for 1 day: logged out by this device's own rule (inactive)" {
			t.Fatalf("session.revoked events = %+v", revs)
		}
		ended := e.endedSession(laptop.AccessToken, hotel.Session.ID)
		if ended.RevokeReason != api.ReasonInactive || ended.IdleTimeoutS != 86400 || ended.RevokedByDeviceName != "" ||
			ended.RevokedBySessionID != "" || ended.Closure == nil || ended.Closure.State != api.ClosurePending {
			t.Fatalf("ended session = %+v", ended)
		}
		// The device sends its receipt like after any revocation.
		e.confirm(tok, false).wantOK(t, 204, nil)
		if c := e.endedSession(laptop.AccessToken, hotel.Session.ID).Closure; c.State != api.ClosureConfirmed {
			t.Fatalf("closure = %+v", c)
		}
		// Nothing else ended.
		e.use(laptop)
	})
}

// TestAccountRuleAndTheStricterWins: the account's rule applies to every
// session; a device's own rule applies when it is stricter; the sweeper
// ends each silent session at its own deadline, never before.
func TestAccountRuleAndTheStricterWins(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t, longAccess)
		e.signUp("ana")
		laptop := e.login("ana", "Ana's Laptop", true)
		phone := e.login("ana", "Phone A", true)
		tablet := e.login("ana", "Tablet B", true)
		old := e.login("ana", "Old PC C", true)
		e.setRule(laptop.AccessToken, phone.Session.ID, int(day/time.Second)).wantOK(t, 200, nil)
		e.setRule(laptop.AccessToken, tablet.Session.ID, int(30*day/time.Second)).wantOK(t, 200, nil)

		want := api.Settings{AutoLogoutInactiveAfterS: int(7 * day / time.Second), ApproveNewDevices: true}
		var got api.Settings
		e.putSettings(laptop.AccessToken, want).wantOK(t, 200, &got)
		if got != want {
			t.Fatalf("PUT answered %+v, want %+v", got, want)
		}
		got = api.Settings{}
		e.do("GET", "/v1/settings", phone.AccessToken, nil).wantOK(t, 200, &got)
		if got != want {
			t.Fatalf("GET answered %+v, want %+v", got, want)
		}
		ev := e.lastAudit(laptop.AccessToken, api.AuditSettingsChanged)
		if ev.SessionID != laptop.Session.ID ||
			ev.Detail != "Log out devices unused for 1 week (was never); Approval of new devices turned on" {
			t.Fatalf("account.settings_changed = %+v", ev)
		}
		// The phone used the settings call just now: everything counts
		// from here.
		e.use(tablet)
		e.use(old)

		step := func(d time.Duration, wantEnded ...string) {
			t.Helper()
			e.clock.Advance(d)
			e.use(laptop)
			if n := e.sweep(); n != len(wantEnded) {
				t.Fatalf("after %v the sweep ended %d sessions, want %v", d, n, wantEnded)
			}
			for _, id := range wantEnded {
				if s := e.endedSession(laptop.AccessToken, id); s.RevokeReason != api.ReasonInactive {
					t.Fatalf("%s ended with %q", s.Device.Name, s.RevokeReason)
				}
			}
		}
		step(day - time.Second)
		step(time.Second, phone.Session.ID) // its own day
		step(6*day - time.Second)
		step(time.Second, tablet.Session.ID, old.Session.ID) // the account's week before the tablet's month

		for _, c := range []struct {
			l      api.Login
			detail string
		}{
			{phone, "Unused for 1 day: logged out by this device's own rule (inactive)"},
			{tablet, "Unused for 1 week: logged out by the account's rule (inactive)"},
			{old, "Unused for 1 week: logged out by the account's rule (inactive)"},
		} {
			revs := e.auditsOf(laptop.AccessToken, api.AuditSessionRevoked, c.l.Session.ID)
			if len(revs) != 1 || revs[0].Detail != c.detail || revs[0].IP != "" {
				t.Errorf("%s: session.revoked events %+v, want one saying %q", c.l.Session.Device.Name, revs, c.detail)
			}
			// Its next request learns why, with a closure token.
			if tok := wantInactive(t, e.do("GET", "/v1/me", c.l.AccessToken, nil)); tok == "" {
				t.Errorf("%s: no closure token on its next request", c.l.Session.Device.Name)
			}
		}
		e.use(laptop)
	})
}

// TestSilentDeviceEndedWithItsStream: an open event stream is not use,
// nor is opening one; the sweeper ends the silent session at its deadline
// and pushes session.revoked (reason inactive, a closure token, no one
// named) to its streams, which close, and sessions.changed to the
// account's.
func TestSilentDeviceEndedWithItsStream(t *testing.T) {
	for _, mode := range streamModes {
		t.Run(mode.name, func(t *testing.T) {
			e := mode.env(t, longAccess)
			e.signUp("ana")
			laptop := e.login("ana", "Ana's Laptop", true)
			hotel := e.login("ana", "Hotel lobby PC", true)
			e.setRule(laptop.AccessToken, hotel.Session.ID, 3600).wantOK(t, 200, nil)
			watcher := e.stream(laptop.AccessToken)
			first := e.stream(hotel.AccessToken)
			e.clock.Advance(30 * time.Minute)
			second := e.stream(hotel.AccessToken) // a reconnect is not use either
			e.clock.Advance(30*time.Minute - time.Second)
			if n := e.sweep(); n != 0 {
				t.Fatalf("a second early the sweep ended %d", n)
			}
			e.clock.Advance(time.Second)
			if n := e.sweep(); n != 1 {
				t.Fatalf("at the deadline the sweep ended %d, want 1", n)
			}
			var toks []string
			for _, s := range []*stream{first, second} {
				ev := revokedEvent(t, s.nextRevoked(t))
				if ev.Reason != api.ReasonInactive || ev.SessionID != hotel.Session.ID || ev.BySessionID != "" ||
					ev.ByDeviceName != "" || ev.Erase || ev.ClosureToken == "" {
					t.Fatalf("session.revoked = %+v", ev)
				}
				s.wantClosed(t)
				toks = append(toks, ev.ClosureToken)
			}
			if toks[0] != toks[1] {
				t.Fatal("the session's two streams got different closure tokens")
			}
			if ev := watcher.nextEvent(t); ev.name != api.EventSessionsChanged {
				t.Fatalf("the laptop's stream got %+v, want sessions.changed", ev)
			}
			watcher.wantQuiet(t, 100*time.Millisecond)
			if n := len(e.auditsOf(laptop.AccessToken, api.AuditSessionRevoked, hotel.Session.ID)); n != 1 {
				t.Fatalf("%d session.revoked events", n)
			}
			if n := e.sweep(); n != 0 {
				t.Fatalf("a second sweep ended %d more", n)
			}
			e.confirm(toks[0], false).wantOK(t, 204, nil)
		})
	}
}

// TestInactiveSessionCannotRefresh: a refresh of a session past its rule
// is refused and ends it, rather than reviving it.
func TestInactiveSessionCannotRefresh(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	laptop := e.login("ana", "Ana's Laptop", true)
	hotel := e.login("ana", "Hotel lobby PC", true)
	e.setRule(laptop.AccessToken, hotel.Session.ID, 7200).wantOK(t, 200, nil)
	e.clock.Advance(2 * hour)
	r := e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: hotel.RefreshToken})
	if tok := wantInactive(t, r); tok == "" {
		t.Fatalf("no closure token for the session's own refresh token: %s", r.body)
	}
	var tok api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: laptop.RefreshToken}).wantOK(t, 200, &tok)
	if n := len(e.auditsOf(tok.AccessToken, api.AuditSessionRevoked, hotel.Session.ID)); n != 1 {
		t.Fatalf("%d session.revoked events", n)
	}
}

// TestIdleTimeIsExact: a request within a minute of the last written one
// is not written at once, yet it counts: the rule runs from the last
// request, to the microsecond, once the server has written it (which the
// sweeper does first), and before that on the replica that saw it.
func TestIdleTimeIsExact(t *testing.T) {
	e := newEnv(t, longAccess)
	e.signUp("ana")
	laptop := e.login("ana", "Ana's Laptop", true)
	hotel := e.login("ana", "Hotel lobby PC", true)
	kiosk := e.login("ana", "Kiosk", true)
	for _, l := range []api.Login{hotel, kiosk} {
		e.setRule(laptop.AccessToken, l.Session.ID, 3600).wantOK(t, 200, nil)
	}
	t0 := e.clock.Now()
	e.clock.Advance(30 * time.Second)
	e.use(hotel) // within the minute: kept in memory
	e.use(kiosk)
	if s, _ := e.sessionByID(laptop.AccessToken, hotel.Session.ID); !s.LastSeenAt.Equal(t0) {
		t.Fatalf("last_seen_at = %v before the write, want %v", s.LastSeenAt, t0)
	}

	// 1 h 10 s after the sign-in, 59 min 40 s after the last request.
	e.clock.Advance(hour - 20*time.Second)
	e.use(kiosk) // not refused: this replica holds its later use
	if n := e.sweep(); n != 0 {
		t.Fatalf("the sweep ended %d sessions 20 s before the hotel PC's deadline", n)
	}
	if s, _ := e.sessionByID(laptop.AccessToken, hotel.Session.ID); !s.LastSeenAt.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("last_seen_at = %v after the write, want %v", s.LastSeenAt, t0.Add(30*time.Second))
	}
	e.clock.Advance(20*time.Second - time.Microsecond)
	if n := e.sweep(); n != 0 {
		t.Fatalf("a microsecond early the sweep ended %d", n)
	}
	e.clock.Advance(time.Microsecond)
	if n := e.sweep(); n != 1 {
		t.Fatalf("at the deadline the sweep ended %d, want 1", n)
	}
	e.use(kiosk)
}

// TestRulesRefuseBadInput: out-of-range rules name their field; another
// account's session or an ended one is not found; a server minimum below
// the floor is raised to it.
func TestRulesRefuseBadInput(t *testing.T) {
	e := newEnvSignedUp(t, "ana", "bob")
	laptop := e.login("ana", "Ana's Laptop", true)
	hotel := e.login("ana", "Hotel lobby PC", true)
	brief := e.login("ana", "Borrowed phone", false) // 12 hours, not remembered
	gone := e.login("ana", "Gone", true)
	e.do("POST", "/v1/logout", gone.AccessToken, nil).wantOK(t, 200, nil)
	bobs := e.login("bob", "Bob's phone", true)

	for _, tc := range []struct {
		name, id string
		body     any
		status   int
		code     string
		field    string
	}{
		{"negative", hotel.Session.ID, `{"idle_timeout_s":-1}`, 400, api.CodeInvalidRequest, "idle_timeout_s"},
		{"below the minimum", hotel.Session.ID, `{"idle_timeout_s":3599}`, 400, api.CodeInvalidRequest, "idle_timeout_s"},
		{"above a year", hotel.Session.ID, `{"idle_timeout_s":31536001}`, 400, api.CodeInvalidRequest, "idle_timeout_s"},
		{"above the session's lifetime", brief.Session.ID, `{"idle_timeout_s":43201}`, 400, api.CodeInvalidRequest, "idle_timeout_s"},
		{"a fraction", hotel.Session.ID, `{"idle_timeout_s":3600.5}`, 400, api.CodeInvalidRequest, "idle_timeout_s"},
		{"a string", hotel.Session.ID, `{"idle_timeout_s":"1h"}`, 400, api.CodeInvalidRequest, "idle_timeout_s"},
		{"huge", hotel.Session.ID, `{"idle_timeout_s":1e30}`, 400, api.CodeInvalidRequest, "idle_timeout_s"},
		{"nothing to change", hotel.Session.ID, `{}`, 400, api.CodeInvalidRequest, "name"},
		{"another account's session", bobs.Session.ID, `{"idle_timeout_s":3600}`, 404, api.CodeNotFound, ""},
		{"an unknown session", "ses_nope", `{"idle_timeout_s":3600}`, 404, api.CodeNotFound, ""},
		{"an ended session", gone.Session.ID, `{"idle_timeout_s":3600}`, 404, api.CodeNotFound, ""},
	} {
		t.Run("PATCH "+tc.name, func(t *testing.T) {
			d := e.do("PATCH", "/v1/sessions/"+tc.id, laptop.AccessToken, tc.body).wantError(t, tc.status, tc.code)
			if f, _ := d.Details[api.DetailField].(string); f != tc.field {
				t.Errorf("field = %q, want %q (%s)", f, tc.field, d.Message)
			}
		})
	}
	for _, ok := range []struct {
		id   string
		secs int
	}{{brief.Session.ID, 43200}, {hotel.Session.ID, 31536000}, {hotel.Session.ID, 3600}, {hotel.Session.ID, 0}} {
		var out api.UpdateSessionResponse
		e.setRule(laptop.AccessToken, ok.id, ok.secs).wantOK(t, 200, &out)
		if out.Session.IdleTimeoutS != ok.secs {
			t.Errorf("rule %d came back as %d", ok.secs, out.Session.IdleTimeoutS)
		}
	}
	if n := len(e.auditsOf(bobs.AccessToken, api.AuditSessionRulesChanged, bobs.Session.ID)); n != 0 {
		t.Errorf("bob's log has %d session.rules_changed", n)
	}
	if ev := e.lastAudit(laptop.AccessToken, api.AuditSessionRulesChanged); ev.Detail != "Rule removed (was 1 hour)" {
		t.Errorf("last session.rules_changed detail = %q", ev.Detail)
	}

	for _, tc := range []struct{ name, body string }{
		{"negative", `{"auto_logout_inactive_after_s":-1,"approve_new_devices":false}`},
		{"one second", `{"auto_logout_inactive_after_s":1,"approve_new_devices":false}`},
		{"below the minimum", `{"auto_logout_inactive_after_s":3599,"approve_new_devices":false}`},
		{"above a year", `{"auto_logout_inactive_after_s":31536001,"approve_new_devices":false}`},
		{"a string", `{"auto_logout_inactive_after_s":"never","approve_new_devices":false}`},
		{"huge", `{"auto_logout_inactive_after_s":99999999999999999999}`},
	} {
		t.Run("PUT "+tc.name, func(t *testing.T) {
			d := e.do("PUT", "/v1/settings", laptop.AccessToken, tc.body).wantError(t, 400, api.CodeInvalidRequest)
			if f, _ := d.Details[api.DetailField].(string); f != "auto_logout_inactive_after_s" {
				t.Errorf("field = %q (%s)", f, d.Message)
			}
		})
	}
	var st api.Settings
	e.do("GET", "/v1/settings", laptop.AccessToken, nil).wantOK(t, 200, &st)
	if st != (api.Settings{}) {
		t.Fatalf("settings after refused changes = %+v", st)
	}
	e.putSettings(laptop.AccessToken, api.Settings{AutoLogoutInactiveAfterS: 31536000}).wantOK(t, 200, nil)
	e.putSettings(laptop.AccessToken, api.Settings{}).wantOK(t, 200, nil)

	t.Run("server minimum", func(t *testing.T) {
		for _, c := range []struct {
			min        time.Duration
			under, net int
		}{{2 * hour, 7199, 7200}, {time.Minute, 299, 300}} {
			e := newEnv(t, func(cfg *server.Config) { cfg.MinIdleTimeout = c.min })
			e.signUp("ana")
			l := e.login("ana", "Laptop", true)
			e.setRule(l.AccessToken, l.Session.ID, c.under).wantError(t, 400, api.CodeInvalidRequest)
			e.setRule(l.AccessToken, l.Session.ID, c.net).wantOK(t, 200, nil)
			e.putSettings(l.AccessToken, api.Settings{AutoLogoutInactiveAfterS: c.under}).wantError(t, 400, api.CodeInvalidRequest)
			e.putSettings(l.AccessToken, api.Settings{AutoLogoutInactiveAfterS: c.net}).wantOK(t, 200, nil)
		}
	})
}

// TestPutSettingsNeedsStepUpAndActsAtOnce: changing the account's rule
// needs a recent password proof; a stricter rule ends at once the sessions
// it finds unused for longer, pushed to their streams; the same settings
// again write nothing; approve_new_devices is kept as sent.
func TestPutSettingsNeedsStepUpAndActsAtOnce(t *testing.T) {
	e := newEnv(t, longAccess)
	e.signUp("ana")
	laptop := e.login("ana", "Ana's Laptop", true)
	old := e.login("ana", "Old tablet", true)
	tabletStream := e.stream(old.AccessToken)
	e.clock.Advance(10 * day)
	recent := e.login("ana", "New phone", true)
	watcher := e.stream(laptop.AccessToken)

	week := api.Settings{AutoLogoutInactiveAfterS: int(7 * day / time.Second)}
	e.putSettings(laptop.AccessToken, week).wantError(t, 403, api.CodeReauthRequired)
	if got := e.auditTypes(laptop.AccessToken); contains(got, api.AuditSettingsChanged) {
		t.Fatal("a refused change was audited")
	}
	e.reauth(laptop.AccessToken, testPassword).wantOK(t, 200, nil)
	e.putSettings(laptop.AccessToken, week).wantOK(t, 200, nil)

	// The old tablet, unused for 10 days, ended in that call.
	ev := revokedEvent(t, tabletStream.nextRevoked(t))
	if ev.Reason != api.ReasonInactive || ev.ClosureToken == "" {
		t.Fatalf("the old tablet got %+v", ev)
	}
	tabletStream.wantClosed(t)
	if got := watcher.nextEvent(t); got.name != api.EventSessionsChanged {
		t.Fatalf("the laptop's stream got %+v", got)
	}
	if s := e.endedSession(laptop.AccessToken, old.Session.ID); s.RevokeReason != api.ReasonInactive {
		t.Fatalf("old tablet ended with %q", s.RevokeReason)
	}
	e.use(recent)
	if n := e.sweep(); n != 0 {
		t.Fatalf("the sweeper found %d more", n)
	}

	// The same again: nothing written, nothing pushed... but answered.
	var st api.Settings
	e.putSettings(laptop.AccessToken, week).wantOK(t, 200, &st)
	if st != week || count(e.auditTypes(laptop.AccessToken), api.AuditSettingsChanged) != 1 {
		t.Fatalf("a repeated PUT answered %+v and audited %d", st, count(e.auditTypes(laptop.AccessToken), api.AuditSettingsChanged))
	}
	watcher.wantQuiet(t, 100*time.Millisecond)

	// Looser, and the approval flag kept as sent.
	e.putSettings(laptop.AccessToken, api.Settings{ApproveNewDevices: true}).wantOK(t, 200, &st)
	if st != (api.Settings{ApproveNewDevices: true}) {
		t.Fatalf("PUT answered %+v", st)
	}
	if got := watcher.nextEvent(t); got.name != api.EventSessionsChanged {
		t.Fatalf("the laptop's stream got %+v", got)
	}
	if ev := e.lastAudit(laptop.AccessToken, api.AuditSettingsChanged); ev.Detail !=
		"Never log out inactive devices (was 1 week); Approval of new devices turned on" {
		t.Fatalf("detail = %q", ev.Detail)
	}
}

// TestPatchRuleEndsAnAlreadyUnusedDevice: a device rule shorter than the
// time the device has been unused ends it in the same call.
func TestPatchRuleEndsAnAlreadyUnusedDevice(t *testing.T) {
	e := newEnv(t, longAccess)
	e.signUp("ana")
	laptop := e.login("ana", "Ana's Laptop", true)
	old := e.login("ana", "Old tablet", true)
	e.clock.Advance(3 * day)
	var out api.UpdateSessionResponse
	e.setRule(laptop.AccessToken, old.Session.ID, int(day/time.Second)).wantOK(t, 200, &out)
	if out.Session.RevokeReason != api.ReasonInactive || out.Session.RevokedAt == nil || out.Session.IdleTimeoutS != 86400 {
		t.Fatalf("PATCH answered %+v", out.Session)
	}
	wantInactive(t, e.do("GET", "/v1/me", old.AccessToken, nil))
	types := e.auditTypes(laptop.AccessToken)
	if count(types, api.AuditSessionRulesChanged) != 1 || count(types, api.AuditSessionRevoked) != 1 {
		t.Fatalf("audit = %v", types)
	}
}

// TestInactivitySweepAcrossReplicas: two replicas on one PostgreSQL
// database sweep the same idle sessions at once: each session is ended
// once, audited once, and its stream (on either replica) gets one
// session.revoked.
func TestInactivitySweepAcrossReplicas(t *testing.T) {
	r1, r2 := replicaPair(t, longAccess)
	r1.signUp("ana")
	laptop := r1.login("ana", "Ana's Laptop", true)
	const n = 40
	var idle []api.Login
	for i := range n {
		r := r1
		if i%2 == 1 {
			r = r2
		}
		idle = append(idle, r.login("ana", fmt.Sprintf("Device %02d", i), true))
	}
	e := r1
	e.putSettings(laptop.AccessToken, api.Settings{AutoLogoutInactiveAfterS: 3600}).wantOK(t, 200, nil)
	// A stream for every fourth device, on either replica.
	streams := map[string]*stream{}
	for i, l := range idle {
		if i%4 == 0 {
			streams[l.Session.ID] = []*env{r1, r2}[i/4%2].stream(l.AccessToken)
		}
	}
	e.clock.Advance(hour / 2)
	e.use(laptop)
	e.clock.Advance(hour / 2)

	var (
		wg     sync.WaitGroup
		counts [2]int
		errs   [2]error
	)
	for i, r := range []*env{r1, r2} {
		wg.Go(func() { counts[i], errs[i] = r.srv.SweepInactive(context.Background()) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || counts[0]+counts[1] != n {
		t.Fatalf("the replicas ended %v sessions (%v), want %d in all", counts, errs, n)
	}
	t.Logf("replica 1 ended %d, replica 2 ended %d", counts[0], counts[1])
	var got []string
	for _, ev := range e.auditEvents(laptop.AccessToken) {
		if ev.Type == api.AuditSessionRevoked {
			got = append(got, ev.TargetSessionID)
		}
	}
	slices.Sort(got)
	var want []string
	for _, l := range idle {
		want = append(want, l.Session.ID)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("session.revoked events for %d sessions (%v), want one each for %d", len(got), got, len(want))
	}
	for id, s := range streams {
		ev := revokedEvent(t, s.nextRevoked(t))
		if ev.SessionID != id || ev.Reason != api.ReasonInactive || ev.ClosureToken == "" {
			t.Fatalf("stream of %s got %+v", id, ev)
		}
		s.wantClosed(t)
	}
	for _, r := range []*env{r1, r2} {
		if n := r.sweep(); n != 0 {
			t.Fatalf("a later sweep ended %d more", n)
		}
	}
	e.use(laptop)
}

// TestBackgroundRequestsAreNotUse: the app's own requests
// (api.HeaderBackground) do not hold off a rule, unless they come from
// another address than the session's last use: then they are use, and the
// owner's list shows where, so a stolen token can't read quietly from
// elsewhere.
func TestBackgroundRequestsAreNotUse(t *testing.T) {
	e := newEnv(t, longAccess, trustLoopback)
	e.signUp("ana")
	laptop := e.signedIn("ana", "Ana's Laptop", installKey("laptop"), "198.51.100.7")
	phone := e.signedIn("ana", "Pixel 8", installKey("phone"), "203.0.113.24")
	e.setRule(laptop.AccessToken, phone.Session.ID, int(6*hour/time.Second)).wantOK(t, 200, nil)

	// 4 h in, the phone's app reloads by itself from where it is: not use.
	e.clock.Advance(4 * hour)
	e.do("GET", "/v1/sessions", phone.AccessToken, nil, api.HeaderBackground, "1", "X-Forwarded-For", "203.0.113.24").wantOK(t, 200, nil)
	e.clock.Advance(3 * hour)
	e.use(laptop)
	if n := e.sweep(); n != 1 {
		t.Fatalf("the sweep ended %d sessions, want the phone's", n)
	}

	// Another phone: a "background" request from a new address is use, and
	// shows there.
	desk := e.signedIn("ana", "Ana's desk", installKey("laptop"), "198.51.100.7")
	thief := e.signedIn("ana", "Pixel 9", installKey("phone2"), "203.0.113.24")
	e.setRule(desk.AccessToken, thief.Session.ID, int(6*hour/time.Second)).wantOK(t, 200, nil)
	e.clock.Advance(4 * hour)
	e.do("GET", "/v1/sessions", thief.AccessToken, nil, api.HeaderBackground, "1", "X-Forwarded-For", "192.0.2.99").wantOK(t, 200, nil)
	e.clock.Advance(3 * hour)
	e.use(desk)
	if n := e.sweep(); n != 0 {
		t.Fatalf("the sweep ended %d sessions: a request from a new address did not count", n)
	}
	if s, ok := e.sessionByID(desk.AccessToken, thief.Session.ID); !ok || s.IP != "192.0.2.99" {
		t.Fatalf("the owner's list shows %+v, %v; want the new address", s, ok)
	}
}
