package server_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"sessionguard/api"
)

// rawDatabase returns the bytes of the database files (the main file and
// its write-ahead log), as a thief of the disk would see them.
func (e *env) rawDatabase() string {
	e.t.Helper()
	files, _ := filepath.Glob(e.dbPath + "*")
	var raw []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if len(raw) == 0 {
		e.t.Fatal("no database bytes to inspect")
	}
	return string(raw)
}

// code computes the TOTP code of secret at the server's clock plus offset,
// as an authenticator app would.
func (e *env) code(secret string, offset time.Duration) string {
	e.t.Helper()
	c, err := totp.GenerateCode(secret, e.clock.Now().Add(offset))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// turnOnTOTP runs setup and enable for the session and returns the secret
// and the recovery codes. The clock then moves to the next 30-second step,
// so that codes for sign-in are not the (spent) enabling one.
func (e *env) turnOnTOTP(token string) (secret string, recovery []string) {
	e.t.Helper()
	var setup api.TOTPSetupResponse
	e.do("POST", "/v1/mfa/totp/setup", token, nil).wantOK(e.t, 200, &setup)
	var on api.TOTPEnableResponse
	e.do("POST", "/v1/mfa/totp/enable", token, api.TOTPEnableRequest{Code: e.code(setup.Secret, 0)}).wantOK(e.t, 200, &on)
	e.clock.Advance(30 * time.Second)
	return setup.Secret, on.RecoveryCodes
}

// startLogin signs in with the password on an account with two-step
// verification on and returns the mfa_token.
func (e *env) startLogin(username, deviceName string, remember bool) string {
	e.t.Helper()
	var l api.Login
	e.do("POST", "/v1/login", "", api.LoginRequest{Username: username, Password: testPassword,
		Remember: remember, Device: device(deviceName)}).wantOK(e.t, 200, &l)
	if !l.MFARequired || l.MFAToken == "" || l.AccessToken != "" || l.RefreshToken != "" || l.Session != nil || l.Account != nil {
		e.t.Fatalf("login with two-step on = %+v, want only mfa_required and mfa_token", l)
	}
	return l.MFAToken
}

func (e *env) finishLogin(mfaToken, code string) reply {
	e.t.Helper()
	return e.do("POST", "/v1/login/mfa", "", api.MFALoginRequest{MFAToken: mfaToken, Code: code})
}

var recoveryCodeShape = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){5}$`)

func TestTOTPSignIn(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", false)
	events := e.stream(self.AccessToken)

	var setup api.TOTPSetupResponse
	e.do("POST", "/v1/mfa/totp/setup", self.AccessToken, nil).wantOK(t, 200, &setup)
	u, err := url.Parse(setup.OTPAuthURI)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Sessionguard:ana" || q.Get("issuer") != "Sessionguard" ||
		q.Get("secret") != setup.Secret || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("otpauth URI %q for secret %q", setup.OTPAuthURI, setup.Secret)
	}
	if len(setup.Secret) != 32 { // 160 bits in base32
		t.Errorf("secret %q is not 160 bits", setup.Secret)
	}
	var me api.MeResponse
	e.do("GET", "/v1/me", self.AccessToken, nil).wantOK(t, 200, &me)
	if me.Account.MFAEnabled {
		t.Fatal("mfa_enabled before a code confirmed the setup")
	}
	e.loginWith("ana", testPassword, "Phone").wantOK(t, 200, nil) // still the password alone
	if ev := events.nextEvent(t); ev.name != api.EventSessionCreated {
		t.Fatalf("got %s, want session.created", ev.name)
	}
	events.nextEvent(t) // sessions.changed

	e.do("POST", "/v1/mfa/totp/enable", self.AccessToken, api.TOTPEnableRequest{Code: e.code(setup.Secret, 2*time.Minute)}).
		wantError(t, 401, api.CodeInvalidCredentials)
	enablingCode := e.code(setup.Secret, 0)
	var on api.TOTPEnableResponse
	e.do("POST", "/v1/mfa/totp/enable", self.AccessToken, api.TOTPEnableRequest{Code: enablingCode}).wantOK(t, 200, &on)
	if len(on.RecoveryCodes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(on.RecoveryCodes))
	}
	seen := map[string]bool{}
	for _, c := range on.RecoveryCodes {
		if !recoveryCodeShape.MatchString(c) || seen[c] {
			t.Fatalf("recovery code %q is malformed or repeated", c)
		}
		seen[c] = true
	}
	e.do("GET", "/v1/me", self.AccessToken, nil).wantOK(t, 200, &me)
	if !me.Account.MFAEnabled {
		t.Fatal("mfa_enabled is false after enable")
	}
	if ev := e.lastAudit(self.AccessToken, api.AuditMFAEnabled); ev.SessionID != self.Session.ID {
		t.Errorf("mfa.enabled audit = %+v", ev)
	}

	// The password alone no longer signs in: no session, no event.
	tok := e.startLogin("ana", "Pixel 8", true)
	if n := len(e.sessions(self.AccessToken, "").Sessions); n != 2 {
		t.Fatalf("%d sessions after the password step, want 2", n)
	}
	// The code that turned two-step on was spent then.
	e.finishLogin(tok, enablingCode).wantError(t, 401, api.CodeInvalidCredentials)

	e.clock.Advance(30 * time.Second)
	code := e.code(setup.Secret, 0)
	var l api.Login
	e.finishLogin(tok, code).wantOK(t, 200, &l)
	if l.AccessToken == "" || l.RefreshToken == "" || l.Session == nil || l.Account == nil || l.MFARequired ||
		l.Session.Device.Name != "Pixel 8" || !l.Session.Remember || !l.Account.MFAEnabled || !l.Session.AuthTime.Equal(e.clock.Now()) {
		t.Fatalf("login after the second step = %+v", l)
	}
	e.do("GET", "/v1/me", l.AccessToken, nil).wantOK(t, 200, nil)
	if ev := events.nextEvent(t); ev.name != api.EventSessionCreated || !strings.Contains(ev.data, l.Session.ID) {
		t.Fatalf("got %s %s, want session.created for the new session", ev.name, ev.data)
	}
	ev := e.lastAudit(self.AccessToken, api.AuditLoginSucceeded)
	if ev.SessionID != l.Session.ID || ev.Detail != "Password and two-step code; stays signed in" {
		t.Errorf("login.succeeded audit = %+v", ev)
	}

	// The token signs in once, and the code is not accepted again.
	e.finishLogin(tok, e.code(setup.Secret, 30*time.Second)).wantError(t, 401, api.CodeInvalidCredentials)
	e.finishLogin(e.startLogin("ana", "Thief", false), code).wantError(t, 401, api.CodeInvalidCredentials)
	if ev := e.lastAudit(self.AccessToken, api.AuditLoginMFAFailed); ev.DeviceName != "Thief" || ev.SessionID != "" {
		t.Errorf("login.mfa_failed audit = %+v", ev)
	}
}

// TestTOTPClockSkew: a code of the step before or after the server's is
// accepted, once; two steps away is not. After a later step's code, an
// earlier step's code is a replay too.
func TestTOTPClockSkew(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
		ok     bool
	}{
		{"current step", 0, true},
		{"previous step", -30 * time.Second, true},
		{"next step", 30 * time.Second, true},
		{"two steps back", -60 * time.Second, false},
		{"two steps ahead", 60 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvSignedUp(t, "ana")
			secret, _ := e.turnOnTOTP(e.login("ana", "Laptop", false).AccessToken)
			e.clock.Advance(5 * time.Minute)
			code := e.code(secret, tc.offset)
			r := e.finishLogin(e.startLogin("ana", "Phone", false), code)
			if !tc.ok {
				r.wantError(t, 401, api.CodeInvalidCredentials)
				return
			}
			var l api.Login
			r.wantOK(t, 200, &l)
			e.finishLogin(e.startLogin("ana", "Phone", false), code).wantError(t, 401, api.CodeInvalidCredentials)
			if tc.offset > 0 { // the current step's code is older than the one just used
				e.finishLogin(e.startLogin("ana", "Phone", false), e.code(secret, 0)).wantError(t, 401, api.CodeInvalidCredentials)
			}
			// The next step brings a fresh code.
			e.clock.Advance(time.Minute)
			e.finishLogin(e.startLogin("ana", "Phone", false), e.code(secret, 0)).wantOK(t, 200, nil)
		})
	}
}

func TestRecoveryCodes(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", false)
	_, recovery := e.turnOnTOTP(self.AccessToken)

	// Typed loosely: upper case, spaces instead of dashes.
	typed := strings.ToUpper(strings.ReplaceAll(recovery[3], "-", " "))
	var l api.Login
	e.finishLogin(e.startLogin("ana", "Borrowed phone", false), typed).wantOK(t, 200, &l)
	if l.Session == nil || l.Session.Device.Name != "Borrowed phone" {
		t.Fatalf("login with a recovery code = %+v", l)
	}
	used := e.lastAudit(self.AccessToken, api.AuditRecoveryCodeUsed)
	if used.SessionID != l.Session.ID || used.Detail != "Recovery code used to sign in; 9 codes left" {
		t.Errorf("recovery_code.used audit = %+v", used)
	}
	if ev := e.lastAudit(self.AccessToken, api.AuditLoginSucceeded); ev.Detail != "Password and recovery code" {
		t.Errorf("login.succeeded detail = %q", ev.Detail)
	}

	// Used once, never again.
	e.finishLogin(e.startLogin("ana", "Borrowed phone", false), recovery[3]).wantError(t, 401, api.CodeInvalidCredentials)
	if ev := e.auditEvents(self.AccessToken)[0]; ev.Type != api.AuditLoginMFAFailed {
		t.Errorf("newest audit event = %+v, want login.mfa_failed", ev)
	}
	// Codes that look like recovery codes but are not.
	for _, bad := range []string{"0000-0000-0000", recovery[4] + "x", recovery[4][:13], "123-456"} {
		e.finishLogin(e.startLogin("ana", "Borrowed phone", false), bad).wantError(t, 401, api.CodeInvalidCredentials)
	}
	// Another one still works.
	e.finishLogin(e.startLogin("ana", "Borrowed phone", false), recovery[4]).wantOK(t, 200, nil)
}

func TestMFATokenExpiresAndIsBound(t *testing.T) {
	e := newEnvSignedUp(t, "ana", "bob")
	secret, _ := e.turnOnTOTP(e.login("ana", "Laptop", false).AccessToken)
	bobSecret, _ := e.turnOnTOTP(e.login("bob", "Laptop", false).AccessToken)

	tok := e.startLogin("ana", "Phone", false)
	e.clock.Advance(6 * time.Minute)
	got := e.finishLogin(tok, e.code(secret, 0)).wantError(t, 401, api.CodeInvalidCredentials)
	if !strings.Contains(got.Message, "password again") {
		t.Errorf("expired token message %q does not ask for the password", got.Message)
	}
	// A token is bound to its account: Bob's code does not finish Ana's sign-in.
	e.finishLogin(e.startLogin("ana", "Phone", false), e.code(bobSecret, 0)).wantError(t, 401, api.CodeInvalidCredentials)
	e.finishLogin("sgf_unknown", e.code(secret, 0)).wantError(t, 401, api.CodeInvalidCredentials)

	for _, tc := range []struct {
		name  string
		body  string
		field string
	}{
		{"no token", `{"code":"123456"}`, "mfa_token"},
		{"no code", `{"mfa_token":"sgf_x"}`, "code"},
		{"code not a string", `{"mfa_token":"sgf_x","code":123456}`, "code"},
	} {
		got := e.do("POST", "/v1/login/mfa", "", tc.body).wantError(t, 400, api.CodeInvalidRequest)
		if got.Details[api.DetailField] != tc.field {
			t.Errorf("%s: field = %v, want %s", tc.name, got.Details[api.DetailField], tc.field)
		}
	}
}

func TestMFAFailuresAreRateLimited(t *testing.T) {
	e := newEnv(t, limits(3, 100))
	e.signUp("ana")
	self := e.login("ana", "Laptop", false)
	secret, _ := e.turnOnTOTP(self.AccessToken)
	tok := e.startLogin("ana", "Phone", false)
	right := e.code(secret, 0)
	wrong := "000000"
	if wrong == right {
		wrong = "111111"
	}
	for range 3 { // a wrong code does not spend the token: retyping is allowed
		e.finishLogin(tok, wrong).wantError(t, 401, api.CodeInvalidCredentials)
	}
	r := e.finishLogin(tok, right)
	got := r.wantError(t, 429, api.CodeRateLimited)
	if r.header.Get("Retry-After") == "" || got.Details[api.DetailRetryAfterS] == nil {
		t.Errorf("429 without Retry-After: %v %v", r.header, got.Details)
	}
	// The account's sign-in budget is shared with passwords.
	e.loginWith("ana", testPassword, "Phone").wantError(t, 429, api.CodeRateLimited)
	n := count(e.auditTypes(self.AccessToken), api.AuditLoginMFAFailed)
	if n != 3 {
		t.Errorf("%d login.mfa_failed events, want 3", n)
	}
}

func TestReauthWithTOTP(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", false)
	secret, recovery := e.turnOnTOTP(self.AccessToken)
	reauth := func(password, code string) reply {
		return e.do("POST", "/v1/reauth", self.AccessToken, api.ReauthRequest{Password: password, Code: code})
	}
	got := reauth(testPassword, "").wantError(t, 400, api.CodeInvalidRequest)
	if got.Details[api.DetailField] != "code" {
		t.Errorf("missing code: field = %v", got.Details[api.DetailField])
	}
	code := e.code(secret, 0)
	reauth("not-the-password", code).wantError(t, 401, api.CodeInvalidCredentials)
	reauth(testPassword, "000000").wantError(t, 401, api.CodeInvalidCredentials)
	if ev := e.auditEvents(self.AccessToken)[0]; ev.Type != api.AuditReauthFailed || ev.Detail != "Wrong two-step code" {
		t.Errorf("newest audit event = %+v", ev)
	}
	e.clock.Advance(time.Minute)
	var ra api.ReauthResponse
	code = e.code(secret, 0)
	reauth(testPassword, code).wantOK(t, 200, &ra)
	if !ra.AuthTime.Equal(e.clock.Now()) {
		t.Errorf("auth_time = %v, want %v", ra.AuthTime, e.clock.Now())
	}
	reauth(testPassword, code).wantError(t, 401, api.CodeInvalidCredentials) // replay
	reauth(testPassword, recovery[0]).wantOK(t, 200, nil)
	if ev := e.lastAudit(self.AccessToken, api.AuditRecoveryCodeUsed); !strings.Contains(ev.Detail, "9 codes left") {
		t.Errorf("recovery_code.used detail = %q", ev.Detail)
	}
	if ev := e.auditEvents(self.AccessToken)[0]; ev.Type != api.AuditReauthSucceeded || ev.Detail != "Password and recovery code confirmed" {
		t.Errorf("newest audit event = %+v", ev)
	}
}

func TestDisableTOTP(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", false)
	secret, recovery := e.turnOnTOTP(self.AccessToken)

	e.clock.Advance(11 * time.Minute)
	var tok api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: self.RefreshToken}).wantOK(t, 200, &tok)
	e.do("POST", "/v1/mfa/totp/disable", tok.AccessToken, nil).wantError(t, 403, api.CodeReauthRequired)
	e.do("POST", "/v1/reauth", tok.AccessToken, api.ReauthRequest{Password: testPassword, Code: e.code(secret, 0)}).wantOK(t, 200, nil)
	pending := e.startLogin("ana", "Phone", false)
	e.do("POST", "/v1/mfa/totp/disable", tok.AccessToken, nil).wantOK(t, 204, nil)

	var me api.MeResponse
	e.do("GET", "/v1/me", tok.AccessToken, nil).wantOK(t, 200, &me)
	if me.Account.MFAEnabled {
		t.Fatal("mfa_enabled after disable")
	}
	if ev := e.lastAudit(tok.AccessToken, api.AuditMFADisabled); ev.SessionID != self.Session.ID {
		t.Errorf("mfa.disabled audit = %+v", ev)
	}
	// The password alone signs in again; what was pending is void.
	e.login("ana", "Phone", false)
	e.clock.Advance(time.Minute)
	e.finishLogin(pending, e.code(secret, 0)).wantError(t, 401, api.CodeInvalidCredentials)
	e.finishLogin(pending, recovery[0]).wantError(t, 401, api.CodeInvalidCredentials)
	// Off again: nothing to do, nothing audited twice.
	e.do("POST", "/v1/mfa/totp/disable", tok.AccessToken, nil).wantOK(t, 204, nil)
	n := count(e.auditTypes(tok.AccessToken), api.AuditMFADisabled)
	if n != 1 {
		t.Errorf("%d mfa.disabled events, want 1", n)
	}
	// And it can be turned on again, with a new secret.
	secret2, _ := e.turnOnTOTP(tok.AccessToken)
	if secret2 == secret {
		t.Error("setup after disable gave the old secret again")
	}
	e.finishLogin(e.startLogin("ana", "Phone", false), e.code(secret2, 0)).wantOK(t, 200, nil)
}

func TestTOTPSetupRules(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", false)
	enable := func(code string) reply {
		return e.do("POST", "/v1/mfa/totp/enable", l.AccessToken, api.TOTPEnableRequest{Code: code})
	}
	enable("123456").wantError(t, 400, api.CodeInvalidRequest) // nothing set up
	got := e.do("POST", "/v1/mfa/totp/enable", l.AccessToken, `{}`).wantError(t, 400, api.CodeInvalidRequest)
	if got.Details[api.DetailField] != "code" {
		t.Errorf("missing code: field = %v", got.Details[api.DetailField])
	}

	// A second setup replaces the first secret.
	var first, second api.TOTPSetupResponse
	e.do("POST", "/v1/mfa/totp/setup", l.AccessToken, nil).wantOK(t, 200, &first)
	e.do("POST", "/v1/mfa/totp/setup", l.AccessToken, nil).wantOK(t, 200, &second)
	if first.Secret == second.Secret {
		t.Fatal("setup returned the same secret twice")
	}
	enable(e.code(first.Secret, 0)).wantError(t, 401, api.CodeInvalidCredentials)
	enable(e.code(second.Secret, 0)).wantOK(t, 200, nil)

	// While on, setup and enable are refused and change nothing.
	got = e.do("POST", "/v1/mfa/totp/setup", l.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
	if !strings.Contains(got.Message, "already on") {
		t.Errorf("setup while on: %q", got.Message)
	}
	enable(e.code(second.Secret, 30*time.Second)).wantError(t, 400, api.CodeInvalidRequest)
	e.clock.Advance(time.Minute)
	e.finishLogin(e.startLogin("ana", "Phone", false), e.code(second.Secret, 0)).wantOK(t, 200, nil)
}

// TestPasswordChangeVoidsPendingSecondSteps: a half-finished sign-in with
// the old password cannot be finished after the password changed.
func TestPasswordChangeVoidsPendingSecondSteps(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", false)
	secret, _ := e.turnOnTOTP(self.AccessToken)
	pending := e.startLogin("ana", "Stranger", false)
	e.changePassword(self.AccessToken, testPassword, newPassword, false).wantOK(t, 200, nil)
	e.finishLogin(pending, e.code(secret, 0)).wantError(t, 401, api.CodeInvalidCredentials)
}

// TestMFASecretsStayOnTheServer: recovery codes and MFA tokens are stored
// only as hashes, and none of the two-step secrets reaches the log.
func TestMFASecretsStayOnTheServer(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", false)
	secret, recovery := e.turnOnTOTP(self.AccessToken)
	tok := e.startLogin("ana", "Phone", false)
	code := e.code(secret, 0)
	e.finishLogin(tok, code).wantOK(t, 200, nil)
	e.finishLogin(e.startLogin("ana", "Phone", false), recovery[0]).wantOK(t, 200, nil)
	pending := e.startLogin("ana", "Phone", false)
	logs := e.logs.String()
	raw := e.rawDatabase()
	if !strings.Contains(logs, "POST /v1/login/mfa") {
		t.Fatalf("nothing to inspect in the logs: %q", logs)
	}
	for name, s := range map[string]string{"TOTP secret": secret, "mfa_token": tok, "recovery code": recovery[1]} {
		if strings.Contains(logs, s) || strings.Contains(logs, strings.ReplaceAll(s, "-", "")) {
			t.Errorf("%s written to the log", name)
		}
	}
	for name, s := range map[string]string{"mfa_token": pending, "recovery code": recovery[1]} {
		if strings.Contains(raw, s) || strings.Contains(raw, strings.ReplaceAll(s, "-", "")) {
			t.Errorf("%s stored in clear", name)
		}
	}
	// The secret itself must be kept (codes are computed from it), sealed
	// with the server's secrets key: not in the clear, but the sealed
	// form is there, so the search does look at the right bytes.
	if strings.Contains(raw, secret) {
		t.Error("the TOTP secret is stored in the clear")
	}
	if !strings.Contains(raw, "sg1:") {
		t.Error("no sealed secret in the database: the test is not looking at the stored data")
	}
	var me api.MeResponse
	e.do("GET", "/v1/me", self.AccessToken, nil).wantOK(t, 200, &me)
	if b, _ := json.Marshal(me); strings.Contains(string(b), secret) {
		t.Error("GET /v1/me reveals the TOTP secret")
	}
}
