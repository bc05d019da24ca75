package server_test

import (
	"strings"
	"testing"
	"time"

	"sessionguard/api"
)

// rename sends PATCH /v1/sessions/{id} with body.
func (e *env) rename(token, id string, body any) reply {
	e.t.Helper()
	return e.do("PATCH", "/v1/sessions/"+id, token, body)
}

func nameBody(name string) api.UpdateSessionRequest { return api.UpdateSessionRequest{Name: &name} }

// sessionByID finds a session in the caller's list.
func (e *env) sessionByID(token, id string) (api.Session, bool) {
	e.t.Helper()
	for _, s := range e.sessions(token, "?limit=200").Sessions {
		if s.ID == id {
			return s, true
		}
	}
	return api.Session{}, false
}

// TestRenameDevice: any session of the account can be renamed, this
// device's own too, without step-up; the account's streams hear the list
// changed; the rename is audited with the old and the new name; and what
// is said about the device afterwards uses the new name.
func TestRenameDevice(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		e.signUp("ana")
		laptop := e.login("ana", "vm", true)
		phone := e.login("ana", "Phone", true)
		phoneEvents := e.stream(phone.AccessToken)
		laptopEvents := e.stream(laptop.AccessToken)
		// Long after the last password proof: renaming needs none.
		e.clock.Advance(time.Hour)
		var tok api.Tokens
		e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: laptop.RefreshToken}).wantOK(t, 200, &tok)

		var out api.UpdateSessionResponse
		e.rename(tok.AccessToken, phone.Session.ID, nameBody("  Ana's Pixel 8 ")).wantOK(t, 200, &out)
		if out.Session.ID != phone.Session.ID || out.Session.Current || out.Session.Device.Name != "Ana's Pixel 8" {
			t.Fatalf("renamed session = %+v", out.Session)
		}
		want := *phone.Session
		want.Device.Name, want.Current = "Ana's Pixel 8", false
		if got, _ := e.sessionByID(tok.AccessToken, phone.Session.ID); got.Device != want.Device || got.CreatedAt != want.CreatedAt || got.IP != want.IP {
			t.Errorf("listed after rename: %+v, want device %+v", got, want.Device)
		}
		for name, s := range map[string]*stream{"renamed device": phoneEvents, "renaming device": laptopEvents} {
			if ev := s.nextEvent(t); ev.name != api.EventSessionsChanged {
				t.Errorf("%s's stream got %s, want sessions.changed", name, ev.name)
			}
		}
		ev := e.lastAudit(tok.AccessToken, api.AuditSessionRenamed)
		if ev.SessionID != laptop.Session.ID || ev.DeviceName != "vm" || ev.TargetSessionID != phone.Session.ID ||
			ev.TargetDeviceName != "Phone" || !strings.Contains(ev.Detail, "Ana's Pixel 8") {
			t.Errorf("session.renamed event = %+v", ev)
		}

		// This device's own name.
		e.rename(tok.AccessToken, laptop.Session.ID, nameBody("Ana's ThinkPad X1")).wantOK(t, 200, &out)
		if !out.Session.Current || out.Session.Device.Name != "Ana's ThinkPad X1" {
			t.Fatalf("renamed own session = %+v", out.Session)
		}
		var me api.MeResponse
		e.do("GET", "/v1/me", tok.AccessToken, nil).wantOK(t, 200, &me)
		if me.Session.Device.Name != "Ana's ThinkPad X1" {
			t.Errorf("/v1/me device name = %q", me.Session.Device.Name)
		}
		if ev := e.lastAudit(tok.AccessToken, api.AuditSessionRenamed); ev.TargetDeviceName != "vm" || ev.DeviceName != "vm" ||
			ev.TargetSessionID != laptop.Session.ID {
			t.Errorf("session.renamed of the own device = %+v", ev)
		}

		// The same name again changes nothing and logs nothing.
		before := count(e.auditTypes(tok.AccessToken), api.AuditSessionRenamed)
		e.rename(tok.AccessToken, laptop.Session.ID, nameBody("Ana's ThinkPad X1 ")).wantOK(t, 200, &out)
		if n := count(e.auditTypes(tok.AccessToken), api.AuditSessionRenamed); n != before {
			t.Errorf("a rename to the same name was audited (%d events, want %d)", n, before)
		}

		// Later words about the devices use the new names.
		e.reauth(tok.AccessToken, testPassword).wantOK(t, 200, nil)
		e.do("DELETE", "/v1/sessions/"+phone.Session.ID, tok.AccessToken, nil).wantOK(t, 200, nil)
		for {
			if ev := phoneEvents.nextEvent(t); ev.name == api.EventSessionRevoked {
				if !strings.Contains(ev.data, `"by_device_name":"Ana's ThinkPad X1"`) {
					t.Errorf("session.revoked = %s", ev.data)
				}
				break
			}
		}
		got := e.do("GET", "/v1/me", phone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
		if got.Details[api.DetailByDeviceName] != "Ana's ThinkPad X1" {
			t.Errorf("session_revoked details = %v", got.Details)
		}
		if ev := e.lastAudit(tok.AccessToken, api.AuditSessionRevoked); ev.DeviceName != "Ana's ThinkPad X1" || ev.TargetDeviceName != "Ana's Pixel 8" {
			t.Errorf("session.revoked event = %+v", ev)
		}
	})
}

// TestRenameDeviceRefused: bad names and fields are 400 naming the field,
// sessions that are not the account's or have ended are 404, and none of
// it renames anything or writes an event.
func TestRenameDeviceRefused(t *testing.T) {
	e := newEnvSignedUp(t, "ana", "bob")
	self := e.login("ana", "Laptop", true)
	other := e.login("ana", "Phone", false)
	gone := e.login("ana", "Tablet", false)
	e.do("POST", "/v1/logout", gone.AccessToken, api.LogoutRequest{}).wantOK(t, 200, nil)
	bobs := e.login("bob", "Bob's phone", false)
	ok64 := strings.Repeat("é", 64)

	tests := []struct {
		name   string
		id     string
		body   any
		status int
		code   string
		field  string
	}{
		{"empty name", other.Session.ID, `{"name":""}`, 400, api.CodeInvalidRequest, "name"},
		{"blank name", other.Session.ID, `{"name":"   "}`, 400, api.CodeInvalidRequest, "name"},
		{"no name", other.Session.ID, `{}`, 400, api.CodeInvalidRequest, "name"},
		{"null name", other.Session.ID, `{"name":null}`, 400, api.CodeInvalidRequest, "name"},
		{"name not a string", other.Session.ID, `{"name":5}`, 400, api.CodeInvalidRequest, "name"},
		{"65 characters", other.Session.ID, nameBody(ok64 + "x"), 400, api.CodeInvalidRequest, "name"},
		{"control character", other.Session.ID, nameBody("Pixel\u00078"), 400, api.CodeInvalidRequest, "name"},
		{"tab", other.Session.ID, nameBody("Pixel\t8"), 400, api.CodeInvalidRequest, "name"},
		{"bidi override", other.Session.ID, nameBody("Pixel \u202e8"), 400, api.CodeInvalidRequest, "name"},
		{"zero-width space", other.Session.ID, nameBody("Pix\u200bel"), 400, api.CodeInvalidRequest, "name"},
		{"tag character", other.Session.ID, nameBody("Pixel\U000E0041"), 400, api.CodeInvalidRequest, "name"},
		{"line separator", other.Session.ID, nameBody("Pixel\u20288"), 400, api.CodeInvalidRequest, "name"},
		{"negative idle_timeout_s", other.Session.ID, `{"idle_timeout_s":-1}`, 400, api.CodeInvalidRequest, "idle_timeout_s"},
		{"a name with a bad idle_timeout_s", other.Session.ID, `{"name":"Pixel","idle_timeout_s":59}`, 400, api.CodeInvalidRequest, "idle_timeout_s"},
		{"not an object", other.Session.ID, `"Pixel"`, 400, api.CodeInvalidRequest, ""},
		{"empty body", other.Session.ID, ``, 400, api.CodeInvalidRequest, ""},
		{"unknown session", "ses_doesnotexist", nameBody("Pixel"), 404, api.CodeNotFound, ""},
		{"another account's session", bobs.Session.ID, nameBody("Pixel"), 404, api.CodeNotFound, ""},
		{"a logged-out session", gone.Session.ID, nameBody("Pixel"), 404, api.CodeNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := e.rename(self.AccessToken, tc.id, tc.body).wantError(t, tc.status, tc.code)
			if f, _ := got.Details[api.DetailField].(string); f != tc.field {
				t.Errorf("field = %q, want %q (message %q)", f, tc.field, got.Message)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		e.do("PATCH", "/v1/sessions/"+other.Session.ID, self.AccessToken, "name=x", "Content-Type", "text/plain").
			wantError(t, 415, api.CodeUnsupportedMedia)
	})
	t.Run("no token", func(t *testing.T) {
		e.rename("", other.Session.ID, nameBody("Pixel")).wantError(t, 401, api.CodeInvalidToken)
	})
	t.Run("a logged-out caller", func(t *testing.T) {
		e.rename(gone.AccessToken, gone.Session.ID, nameBody("Pixel")).wantError(t, 401, api.CodeSessionRevoked)
	})
	// Nothing was renamed, nothing logged.
	if s, _ := e.sessionByID(self.AccessToken, other.Session.ID); s.Device.Name != "Phone" {
		t.Errorf("name after refused renames = %q", s.Device.Name)
	}
	if n := count(e.auditTypes(self.AccessToken), api.AuditSessionRenamed); n != 0 {
		t.Errorf("%d session.renamed events after refused renames", n)
	}
	if n := count(e.auditTypes(bobs.AccessToken), api.AuditSessionRenamed); n != 0 {
		t.Errorf("%d session.renamed events on the other account", n)
	}

	// 64 characters are fine; an expired session is gone.
	var out api.UpdateSessionResponse
	e.rename(self.AccessToken, other.Session.ID, nameBody(ok64)).wantOK(t, 200, &out)
	if out.Session.Device.Name != ok64 {
		t.Errorf("64-character name came back as %q", out.Session.Device.Name)
	}
	e.clock.Advance(13 * time.Hour) // past the not-remembered session's 12 h
	var tok api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: self.RefreshToken}).wantOK(t, 200, &tok)
	e.rename(tok.AccessToken, other.Session.ID, nameBody("Pixel")).wantError(t, 404, api.CodeNotFound)
}
