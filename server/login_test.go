package server_test

import (
	"strconv"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/ratelimit"
)

func limits(acct, ip int) option {
	return func(c *server.Config) {
		c.AccountFailures = ratelimit.Config{Burst: acct, Window: 10 * time.Minute}
		c.IPFailures = ratelimit.Config{Burst: ip, Window: 10 * time.Minute}
	}
}

func loginReq(user, pass string) api.LoginRequest {
	return api.LoginRequest{Username: user, Password: pass, Device: device("Laptop")}
}

func TestFailedSignInsAreRateLimitedPerAccount(t *testing.T) {
	e := newEnv(t, limits(3, 100))
	e.signUp("ana")
	for i := range 3 {
		e.do("POST", "/v1/login", "", loginReq("ana", "wrong-"+strconv.Itoa(i))).wantError(t, 401, api.CodeInvalidCredentials)
	}
	// Locked: even the right password waits.
	r := e.do("POST", "/v1/login", "", loginReq("ana", testPassword))
	got := r.wantError(t, 429, api.CodeRateLimited)
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs <= 0 || secs > 600 {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if got.Details[api.DetailRetryAfterS] != float64(secs) {
		t.Fatalf("details.retry_after_s = %v, header %d", got.Details[api.DetailRetryAfterS], secs)
	}
	// Another account from the same IP is not locked.
	e.signUp("bob")
	e.login("bob", "Laptop", false)
	e.clock.Advance(time.Duration(secs) * time.Second)
	e.login("ana", "Laptop", false)
}

func TestFailedSignInsAreRateLimitedPerIP(t *testing.T) {
	e := newEnv(t, limits(100, 4))
	for i := range 4 { // unknown usernames count against the IP too
		e.do("POST", "/v1/login", "", loginReq("nobody"+strconv.Itoa(i), "whatever-123")).wantError(t, 401, api.CodeInvalidCredentials)
	}
	e.do("POST", "/v1/login", "", loginReq("someone-else", "whatever-123")).wantError(t, 429, api.CodeRateLimited)
}

func TestSuccessfulSignInsAreNotLimited(t *testing.T) {
	e := newEnv(t, limits(2, 2))
	e.signUp("ana")
	for range 10 {
		e.login("ana", "Laptop", false)
	}
}

func TestUnknownUserAnswersLikeWrongPassword(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	wrong := e.do("POST", "/v1/login", "", loginReq("ana", "not-the-password")).wantError(t, 401, api.CodeInvalidCredentials)
	unknown := e.do("POST", "/v1/login", "", loginReq("zed", "not-the-password")).wantError(t, 401, api.CodeInvalidCredentials)
	if wrong.Message != unknown.Message {
		t.Fatalf("messages differ: %q vs %q", wrong.Message, unknown.Message)
	}
	l := e.login("ana", "Laptop", false)
	if types := e.auditTypes(l.AccessToken); !contains(types, api.AuditLoginFailed) || !contains(types, api.AuditLoginSucceeded) {
		t.Fatalf("audit %v", types)
	}
}

func TestSignUp(t *testing.T) {
	tests := []struct {
		name, user, pass string
		status           int
		code, field      string
	}{
		{"ok", "ana", testPassword, 201, "", ""},
		{"upper case is folded", "Bo.Smith", testPassword, 201, "", ""},
		{"taken", "ANA", testPassword, 409, api.CodeUsernameTaken, "username"},
		{"short password", "cy", "short", 400, api.CodeInvalidRequest, "username"},
		{"short password ok user", "cyd", "short", 400, api.CodeWeakPassword, "password"},
		{"common password", "dee", "password123", 400, api.CodeWeakPassword, "password"},
		{"bad username", "a b", testPassword, 400, api.CodeInvalidRequest, "username"},
		{"empty username", "", testPassword, 400, api.CodeInvalidRequest, "username"},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/accounts", "", api.CreateAccountRequest{Username: tc.user, Password: tc.pass})
			if tc.code == "" {
				var out api.CreateAccountResponse
				r.wantOK(t, tc.status, &out)
				if out.Account.ID == "" || out.Account.CreatedAt.IsZero() || out.Account.MFAEnabled {
					t.Fatalf("account = %+v", out.Account)
				}
				return
			}
			got := r.wantError(t, tc.status, tc.code)
			if got.Details[api.DetailField] != tc.field {
				t.Errorf("field = %v, want %q", got.Details[api.DetailField], tc.field)
			}
		})
	}
}

func TestRegistrationClosed(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.OpenRegistration = false })
	e.do("POST", "/v1/accounts", "", api.CreateAccountRequest{Username: "ana", Password: testPassword}).
		wantError(t, 403, api.CodeRegistrationClosed)
	// The CLI path still creates accounts.
	if _, err := e.srv.CreateAccount(t.Context(), "ana", testPassword); err != nil {
		t.Fatal(err)
	}
	e.login("ana", "Laptop", false)
}
