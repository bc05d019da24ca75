package server_test

import (
	"testing"
	"time"

	"sessionguard/api"
)

// logoutRemember logs a session out with "remember login info".
func (e *env) logoutRemember(l api.Login) string {
	e.t.Helper()
	var out api.LogoutResponse
	e.do("POST", "/v1/logout", l.AccessToken, api.LogoutRequest{Remember: true, RefreshToken: l.RefreshToken}).wantOK(e.t, 200, &out)
	if out.RememberedCredential == "" || out.RememberedExpiresAt == nil {
		e.t.Fatalf("logout with remember gave no credential: %+v", out)
	}
	return out.RememberedCredential
}

func (e *env) rememberedLogin(cred, deviceName string) reply {
	return e.do("POST", "/v1/login/remembered", "", api.RememberedLoginRequest{Credential: cred, Device: device(deviceName)})
}

func TestRememberedLogin(t *testing.T) {
	tests := []struct {
		name string
		// end does something after the credential is issued; it returns
		// whether the credential must still work.
		end func(e *env, cred string, self api.Login) bool
	}{
		{"single use", func(e *env, cred string, _ api.Login) bool {
			e.rememberedLogin(cred, "Friend's laptop").wantOK(e.t, 200, nil)
			return false
		}},
		{"forget", func(e *env, cred string, _ api.Login) bool {
			e.do("POST", "/v1/remembered/forget", "", api.ForgetRememberedRequest{Credential: cred}).wantOK(e.t, 204, nil)
			return false
		}},
		{"log out of all others", func(e *env, _ string, self api.Login) bool {
			e.do("DELETE", "/v1/sessions?scope=others", self.AccessToken, nil).wantOK(e.t, 200, nil)
			return false
		}},
		{"another device is closed remotely", func(e *env, _ string, self api.Login) bool {
			tv := e.login("ana", "TV", false)
			e.do("DELETE", "/v1/sessions/"+tv.Session.ID, self.AccessToken, nil).wantOK(e.t, 200, nil)
			return true
		}},
		{"presented by another install", func(e *env, cred string, _ api.Login) bool {
			e.rememberedLogin(cred, "Thief's PC").wantError(e.t, 401, api.CodeInvalidCredentials)
			return false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvSignedUp(t, "ana")
			phone := e.login("ana", "Phone", true)
			friend := e.login("ana", "Friend's laptop", false)
			cred := e.logoutRemember(friend)
			stillWorks := tc.end(e, cred, phone)
			r := e.rememberedLogin(cred, "Friend's laptop")
			if stillWorks {
				var l api.Login
				r.wantOK(t, 200, &l)
				if l.Session.Device.Name != "Friend's laptop" || l.Account.Username != "ana" {
					t.Fatalf("remembered login = %+v", l)
				}
				return
			}
			r.wantError(t, 401, api.CodeInvalidCredentials)
		})
	}
}

func TestRememberedLoginEndedByRemoteRevokeOfThatDevice(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	phone := e.login("ana", "Phone", true)
	// The laptop saves its login info at log out, then signs in with it.
	cred := e.logoutRemember(e.login("ana", "Laptop", false))
	var again api.Login
	e.rememberedLogin(cred, "Laptop").wantOK(t, 200, &again)
	cred = e.logoutRemember(again)
	// Signed in once more with the password; the saved login stays.
	laptop := e.login("ana", "Laptop", false)
	// Closed remotely from the phone: the laptop must enter the password again.
	e.do("DELETE", "/v1/sessions/"+laptop.Session.ID, phone.AccessToken, nil).wantOK(t, 200, nil)
	e.rememberedLogin(cred, "Laptop").wantError(t, 401, api.CodeInvalidCredentials)

	types := e.auditTypes(phone.AccessToken)
	for _, want := range []string{api.AuditRememberedLoginCreated, api.AuditRememberedLoginUsed, api.AuditLogout, api.AuditSessionRevoked} {
		if !contains(types, want) {
			t.Errorf("audit %v lacks %s", types, want)
		}
	}
}

func TestForgetIsIdempotentAndAudited(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	phone := e.login("ana", "Phone", false)
	cred := e.logoutRemember(e.login("ana", "Laptop", false))
	for range 2 {
		e.do("POST", "/v1/remembered/forget", "", api.ForgetRememberedRequest{Credential: cred}).wantOK(t, 204, nil)
	}
	e.do("POST", "/v1/remembered/forget", "", api.ForgetRememberedRequest{}).wantError(t, 400, api.CodeInvalidRequest)
	if types := e.auditTypes(phone.AccessToken); !contains(types, api.AuditRememberedLoginForgotten) {
		t.Errorf("audit %v lacks remembered_login.forgotten", types)
	}
}

// A saved login is not a password proof: the new session inherits the
// saving session's auth_time, so step-up still asks for the password.
func TestRememberedLoginDoesNotRenewAuthTime(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	phone := e.login("ana", "Phone", true)
	laptop := e.login("ana", "Laptop", false)
	signedIn := e.clock.Now()
	e.clock.Advance(11 * time.Minute)
	var tok api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: laptop.RefreshToken}).wantOK(t, 200, &tok)
	laptop.AccessToken = tok.AccessToken
	cred := e.logoutRemember(laptop)
	var l api.Login
	e.rememberedLogin(cred, "Laptop").wantOK(t, 200, &l)
	if !l.Session.AuthTime.Equal(signedIn) {
		t.Fatalf("auth_time = %v, want the original sign-in %v", l.Session.AuthTime, signedIn)
	}
	e.do("DELETE", "/v1/sessions/"+phone.Session.ID, l.AccessToken, nil).wantError(t, 403, api.CodeReauthRequired)
}
