package server_test

import (
	"net/http"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
)

func TestRevokedSessionTokensRejectedAtOnce(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	a := e.login("ana", "Ana's Laptop", true)
	b := e.login("ana", "Pixel 8", true)

	var out api.RevokeSessionResponse
	e.do("DELETE", "/v1/sessions/"+b.Session.ID, a.AccessToken, nil).wantOK(t, 200, &out)
	if out.Session.RevokedAt == nil || out.Session.RevokeReason != api.ReasonRemoteLogout {
		t.Fatalf("revoked session = %+v, want revoked with remote_logout", out.Session)
	}

	for _, tc := range []struct {
		name string
		r    reply
	}{
		{"access token", e.do("GET", "/v1/me", b.AccessToken, nil)},
		{"refresh token", e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: b.RefreshToken})},
		{"event stream", e.do("GET", "/v1/events", b.AccessToken, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.r.wantError(t, http.StatusUnauthorized, api.CodeSessionRevoked)
			if got.Details[api.DetailReason] != api.ReasonRemoteLogout {
				t.Errorf("reason = %v", got.Details[api.DetailReason])
			}
			if got.Details[api.DetailByDeviceName] != "Ana's Laptop" {
				t.Errorf("by_device_name = %v", got.Details[api.DetailByDeviceName])
			}
			at, err := time.Parse(time.RFC3339, got.Details[api.DetailRevokedAt].(string))
			if err != nil || !at.Equal(e.clock.Now().Truncate(time.Second)) {
				t.Errorf("revoked_at = %v (%v), want %v", got.Details[api.DetailRevokedAt], err, e.clock.Now())
			}
		})
	}
	// The revoking device is untouched.
	e.do("GET", "/v1/me", a.AccessToken, nil).wantOK(t, 200, nil)
	if types := e.auditTypes(a.AccessToken); !contains(types, api.AuditSessionRevoked) {
		t.Errorf("audit %v lacks session.revoked", types)
	}
}

func TestRevokeUnknownOrForeignSessionIsNotFound(t *testing.T) {
	e := newEnvSignedUp(t, "ana", "bob")
	ana := e.login("ana", "Laptop", false)
	bo := e.login("bob", "Phone", false)

	for _, id := range []string{bo.Session.ID, "ses_doesnotexist", "x"} {
		e.do("DELETE", "/v1/sessions/"+id, ana.AccessToken, nil).wantError(t, 404, api.CodeNotFound)
	}
	// Nothing changed: Bo is still signed in and Ana's log has no revoke.
	e.do("GET", "/v1/me", bo.AccessToken, nil).wantOK(t, 200, nil)
	if types := e.auditTypes(ana.AccessToken); contains(types, api.AuditSessionRevoked) {
		t.Errorf("audit %v shows a revoke that did not happen", types)
	}
}

func TestRevokeOthersReturnsExactCount(t *testing.T) {
	e := newEnvSignedUp(t, "ana", "bob")
	self := e.login("ana", "Laptop", false)
	var others []api.Login
	for _, n := range []string{"Phone", "Tablet", "Work PC", "TV"} {
		others = append(others, e.login("ana", n, false))
	}
	bo := e.login("bob", "Phone", false)
	// One of the four is already logged out; it must not be counted.
	e.do("POST", "/v1/logout", others[3].AccessToken, api.LogoutRequest{}).wantOK(t, 200, nil)

	var n api.RevokedCount
	e.do("DELETE", "/v1/sessions?scope=others", self.AccessToken, nil).wantOK(t, 200, &n)
	if n.Revoked != 3 {
		t.Fatalf("revoked = %d, want 3", n.Revoked)
	}
	for _, o := range others[:3] {
		e.do("GET", "/v1/me", o.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
	}
	e.do("GET", "/v1/me", self.AccessToken, nil).wantOK(t, 200, nil)
	e.do("GET", "/v1/me", bo.AccessToken, nil).wantOK(t, 200, nil)
	if p := e.sessions(self.AccessToken, ""); len(p.Sessions) != 1 || !p.Sessions[0].Current {
		t.Fatalf("after log out of others the list is %+v", p.Sessions)
	}
	// Again: nothing left to end.
	e.do("DELETE", "/v1/sessions?scope=others", self.AccessToken, nil).wantOK(t, 200, &n)
	if n.Revoked != 0 {
		t.Fatalf("second revoke-others = %d, want 0", n.Revoked)
	}
	e.do("DELETE", "/v1/sessions?scope=all", self.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
}

func TestStepUp(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	a := e.login("ana", "Laptop", true)
	b := e.login("ana", "Phone", true)
	e.clock.Advance(11 * time.Minute) // past the re-auth window
	// keep the access token fresh
	var tok api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: a.RefreshToken}).wantOK(t, 200, &tok)

	e.do("DELETE", "/v1/sessions/"+b.Session.ID, tok.AccessToken, nil).wantError(t, 403, api.CodeReauthRequired)
	e.do("DELETE", "/v1/sessions?scope=others", tok.AccessToken, nil).wantError(t, 403, api.CodeReauthRequired)

	e.do("POST", "/v1/reauth", tok.AccessToken, api.ReauthRequest{Password: "wrong-password-1"}).wantError(t, 401, api.CodeInvalidCredentials)
	e.do("DELETE", "/v1/sessions/"+b.Session.ID, tok.AccessToken, nil).wantError(t, 403, api.CodeReauthRequired)

	var ra api.ReauthResponse
	e.do("POST", "/v1/reauth", tok.AccessToken, api.ReauthRequest{Password: testPassword}).wantOK(t, 200, &ra)
	if !ra.AuthTime.Equal(e.clock.Now()) {
		t.Errorf("auth_time = %v, want %v", ra.AuthTime, e.clock.Now())
	}
	e.do("DELETE", "/v1/sessions/"+b.Session.ID, tok.AccessToken, nil).wantOK(t, 200, nil)

	types := e.auditTypes(tok.AccessToken)
	for _, want := range []string{api.AuditReauthFailed, api.AuditReauthSucceeded, api.AuditSessionRevoked} {
		if !contains(types, want) {
			t.Errorf("audit %v lacks %s", types, want)
		}
	}
	// Logging out one's own session needs no step-up, even later.
	e.clock.Advance(11 * time.Minute)
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: tok.RefreshToken}).wantOK(t, 200, &tok)
	var own api.RevokeSessionResponse
	e.do("DELETE", "/v1/sessions/"+a.Session.ID, tok.AccessToken, nil).wantOK(t, 200, &own)
	if own.Session.RevokeReason != api.ReasonLogout {
		t.Errorf("own revoke reason = %q", own.Session.RevokeReason)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.RefreshGrace = 5 * time.Second })
	e.signUp("ana")
	l := e.login("ana", "Laptop", true)

	var t1 api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: l.RefreshToken}).wantOK(t, 200, &t1)
	if t1.RefreshToken == l.RefreshToken || t1.AccessToken == l.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	e.do("GET", "/v1/me", l.AccessToken, nil).wantError(t, 401, api.CodeInvalidToken)
	e.do("GET", "/v1/me", t1.AccessToken, nil).wantOK(t, 200, nil)

	// A retry of the same refresh within the grace succeeds (the first
	// answer may have been lost) and supersedes the first answer.
	e.clock.Advance(2 * time.Second)
	var t2 api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: l.RefreshToken}).wantOK(t, 200, &t2)
	e.do("GET", "/v1/me", t2.AccessToken, nil).wantOK(t, 200, nil)

	// After the grace, presenting a rotated token is reuse: session ended.
	e.clock.Advance(10 * time.Second)
	got := e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: l.RefreshToken}).
		wantError(t, 401, api.CodeSessionRevoked)
	if got.Details[api.DetailReason] != api.ReasonRefreshTokenReuse {
		t.Fatalf("reason = %v", got.Details[api.DetailReason])
	}
	e.do("GET", "/v1/me", t2.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: t2.RefreshToken}).wantError(t, 401, api.CodeSessionRevoked)

	other := e.login("ana", "Phone", false)
	if types := e.auditTypes(other.AccessToken); !contains(types, api.AuditRefreshReuseDetected) {
		t.Fatalf("audit %v lacks refresh.reuse_detected", types)
	}
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: "sgr_unknown"}).wantError(t, 401, api.CodeInvalidToken)
}

func TestAccessTokenExpiry(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", false)
	e.clock.Advance(16 * time.Minute)
	e.do("GET", "/v1/me", l.AccessToken, nil).wantError(t, 401, api.CodeTokenExpired)
	var tok api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: l.RefreshToken}).wantOK(t, 200, &tok)
	e.do("GET", "/v1/me", tok.AccessToken, nil).wantOK(t, 200, nil)
	// Without "remember me" the session ends 12 h after sign-in.
	e.clock.Advance(12 * time.Hour)
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: tok.RefreshToken}).wantError(t, 401, api.CodeSessionExpired)
}
