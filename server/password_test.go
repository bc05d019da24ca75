package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
)

const newPassword = "copper-meadow-whistle"

func (e *env) changePassword(token, current, next string, logOutOthers bool) reply {
	e.t.Helper()
	return e.do("POST", "/v1/password", token, api.ChangePasswordRequest{
		CurrentPassword: current, NewPassword: next, LogOutOtherDevices: logOutOthers})
}

func (e *env) loginWith(username, password, deviceName string) reply {
	e.t.Helper()
	return e.do("POST", "/v1/login", "", api.LoginRequest{Username: username, Password: password, Device: device(deviceName)})
}

// auditEvents returns the account's audit trail, newest first.
func (e *env) auditEvents(token string) []api.AuditEvent {
	e.t.Helper()
	var p api.AuditPage
	e.do("GET", "/v1/audit?limit=200", token, nil).wantOK(e.t, 200, &p)
	return p.Events
}

// lastAudit returns the newest audit event of type typ.
func (e *env) lastAudit(token, typ string) api.AuditEvent {
	e.t.Helper()
	for _, ev := range e.auditEvents(token) {
		if ev.Type == typ {
			return ev
		}
	}
	e.t.Fatalf("no %s in the audit trail", typ)
	return api.AuditEvent{}
}

func TestChangePassword(t *testing.T) {
	tests := []struct {
		name         string
		logOutOthers bool
		wantRevoked  int
		wantDetail   string
	}{
		{"other devices stay signed in", false, 0, "Password changed; other devices stay signed in; removed saved login info on 2 devices"},
		{"log out of other devices", true, 2, "Password changed; logged out of 2 other devices; removed saved login info on 2 devices"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvSignedUp(t, "ana")
			// Saved logins on two installs, this one among them.
			friendCred := e.logoutRemember(e.login("ana", "Friend's laptop", false))
			ownCred := e.logoutRemember(e.login("ana", "Laptop", false))
			self := e.login("ana", "Laptop", false)
			phone := e.login("ana", "Phone", true)
			tablet := e.login("ana", "Tablet", false)
			ps, ts := e.stream(phone.AccessToken), e.stream(tablet.AccessToken)

			var n api.RevokedCount
			e.changePassword(self.AccessToken, testPassword, newPassword, tc.logOutOthers).wantOK(t, 200, &n)
			if n.Revoked != tc.wantRevoked {
				t.Fatalf("revoked = %d, want %d", n.Revoked, tc.wantRevoked)
			}
			now := e.clock.Now()

			// The other devices hear of the change first; logged out ones
			// then get session.revoked and their streams close.
			for _, s := range []*stream{ps, ts} {
				ev := s.nextEvent(t)
				if ev.name != api.EventPasswordChanged {
					t.Fatalf("first event %s (%s), want password.changed", ev.name, ev.data)
				}
				var pc api.PasswordChangedEvent
				if err := json.Unmarshal([]byte(ev.data), &pc); err != nil || !pc.At.Equal(now) || pc.ByDeviceName != "Laptop" {
					t.Fatalf("password.changed payload %s (%v)", ev.data, err)
				}
				if tc.logOutOthers {
					ev := s.nextEvent(t)
					if ev.name != api.EventSessionRevoked || !strings.Contains(ev.data, `"reason":"password_changed"`) {
						t.Fatalf("second event %s %s, want session.revoked for password_changed", ev.name, ev.data)
					}
					s.wantClosed(t)
				}
			}

			// The changer stays signed in.
			e.do("GET", "/v1/me", self.AccessToken, nil).wantOK(t, 200, nil)
			for _, other := range []api.Login{phone, tablet} {
				me := e.do("GET", "/v1/me", other.AccessToken, nil)
				refresh := e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: other.RefreshToken})
				if !tc.logOutOthers {
					me.wantOK(t, 200, nil)
					refresh.wantOK(t, 200, nil)
					continue
				}
				for _, r := range []reply{me, refresh} {
					got := r.wantError(t, 401, api.CodeSessionRevoked)
					if got.Details[api.DetailReason] != api.ReasonPasswordChanged || got.Details[api.DetailByDeviceName] != "Laptop" {
						t.Errorf("session_revoked details = %v", got.Details)
					}
				}
			}
			// Every saved login is gone, whether others were logged out or not.
			e.rememberedLogin(friendCred, "Friend's laptop").wantError(t, 401, api.CodeInvalidCredentials)
			e.rememberedLogin(ownCred, "Laptop").wantError(t, 401, api.CodeInvalidCredentials)

			// Only the new password signs in.
			e.loginWith("ana", testPassword, "Laptop").wantError(t, 401, api.CodeInvalidCredentials)
			e.loginWith("ana", newPassword, "Laptop").wantOK(t, 200, nil)

			ev := e.lastAudit(self.AccessToken, api.AuditPasswordChanged)
			if ev.Detail != tc.wantDetail || ev.SessionID != self.Session.ID || ev.DeviceName != "Laptop" {
				t.Errorf("password.changed audit = %+v, want detail %q", ev, tc.wantDetail)
			}
			p := e.sessions(self.AccessToken, "")
			if want := 4 - tc.wantRevoked; len(p.Sessions) != want { // self, phone, tablet, new login
				t.Errorf("%d sessions listed after the change, want %d", len(p.Sessions), want)
			}
		})
	}
}

func TestChangePasswordRefused(t *testing.T) {
	tests := []struct {
		name           string
		current, next  string
		status         int
		code, field    string
		auditedFailure bool
	}{
		{"wrong current password", "not-the-password", newPassword, 401, api.CodeInvalidCredentials, "", true},
		{"weak new password", testPassword, "password123", 400, api.CodeWeakPassword, "new_password", false},
		{"too short", testPassword, "short", 400, api.CodeWeakPassword, "new_password", false},
		{"new password contains the username", testPassword, "ana-is-great-2026", 400, api.CodeWeakPassword, "new_password", false},
		{"same as the current", testPassword, testPassword, 400, api.CodeInvalidRequest, "new_password", false},
		{"no current password", "", newPassword, 400, api.CodeInvalidRequest, "current_password", false},
		{"no new password", testPassword, "", 400, api.CodeInvalidRequest, "new_password", false},
	}
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", false)
	other := e.login("ana", "Phone", false)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := e.changePassword(self.AccessToken, tc.current, tc.next, true).wantError(t, tc.status, tc.code)
			if f, _ := got.Details[api.DetailField].(string); f != tc.field {
				t.Errorf("field = %q, want %q (message %q)", f, tc.field, got.Message)
			}
			if tc.auditedFailure {
				if ev := e.auditEvents(self.AccessToken)[0]; ev.Type != api.AuditReauthFailed || !strings.Contains(ev.Detail, "changing the password") {
					t.Errorf("newest audit event = %+v, want reauth.failed for the password change", ev)
				}
			}
		})
	}
	// Nothing changed: the old password signs in, the other device is on.
	e.loginWith("ana", testPassword, "Laptop").wantOK(t, 200, nil)
	e.do("GET", "/v1/me", other.AccessToken, nil).wantOK(t, 200, nil)
	if contains(e.auditTypes(self.AccessToken), api.AuditPasswordChanged) {
		t.Error("a refused change was audited as password.changed")
	}
}

func TestChangePasswordNeedsStepUp(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", false)
	e.clock.Advance(11 * time.Minute)
	var tok api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: l.RefreshToken}).wantOK(t, 200, &tok)
	e.changePassword(tok.AccessToken, testPassword, newPassword, false).wantError(t, 403, api.CodeReauthRequired)
	e.loginWith("ana", newPassword, "Laptop").wantError(t, 401, api.CodeInvalidCredentials)

	e.do("POST", "/v1/reauth", tok.AccessToken, api.ReauthRequest{Password: testPassword}).wantOK(t, 200, nil)
	e.changePassword(tok.AccessToken, testPassword, newPassword, false).wantOK(t, 200, nil)
	e.loginWith("ana", newPassword, "Laptop").wantOK(t, 200, nil)
}

// A wrong current password at a change counts like a wrong re-auth: the
// session's fifth wrong answer in a row ends it, whichever of the two it
// came from.
func TestChangePasswordWrongCurrentCountsAsReauthFailure(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", false)
	for want := 4; want >= 2; want-- {
		d := e.changePassword(l.AccessToken, "not-the-password", newPassword, false).wantError(t, 401, api.CodeInvalidCredentials)
		if d.Details[api.DetailAttemptsLeft] != float64(want) {
			t.Fatalf("attempts_left = %v, want %d", d.Details[api.DetailAttemptsLeft], want)
		}
	}
	e.do("POST", "/v1/reauth", l.AccessToken, api.ReauthRequest{Password: "still-not-it"}).wantError(t, 401, api.CodeInvalidCredentials)
	d := e.changePassword(l.AccessToken, "not-the-password", newPassword, false).wantError(t, 401, api.CodeSessionRevoked)
	if d.Details[api.DetailReason] != api.ReasonReauthFailed {
		t.Fatalf("details = %v, want reason %s", d.Details, api.ReasonReauthFailed)
	}
	e.loginWith("ana", testPassword, "Laptop").wantOK(t, 200, nil) // the password is unchanged
}
