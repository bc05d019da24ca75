package server_test

import (
	"strings"
	"testing"
	"time"

	"sessionguard/api"
)

// codesLeft asks GET /v1/mfa/recovery-codes.
func (e *env) codesLeft(token string) int {
	e.t.Helper()
	var st api.RecoveryCodesStatus
	e.do("GET", "/v1/mfa/recovery-codes", token, nil).wantOK(e.t, 200, &st)
	return st.Remaining
}

// TestRecoveryCodesLeftAndRegenerate: the count of unused codes, and new
// codes (behind step-up) that replace every earlier one, on both stores.
func TestRecoveryCodesLeftAndRegenerate(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		e.signUp("ana")
		self := e.login("ana", "Laptop", true)

		// Two-step off: none, and none to make.
		if n := e.codesLeft(self.AccessToken); n != 0 {
			t.Fatalf("%d codes left with two-step off", n)
		}
		e.do("POST", "/v1/mfa/recovery-codes", self.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)

		secret, first := e.turnOnTOTP(self.AccessToken)
		if n := e.codesLeft(self.AccessToken); n != 10 {
			t.Fatalf("%d codes left after turning two-step on, want 10", n)
		}
		e.finishLogin(e.startLogin("ana", "Phone", false), first[0]).wantOK(t, 200, nil)
		if n := e.codesLeft(self.AccessToken); n != 9 {
			t.Fatalf("%d codes left after one was used, want 9", n)
		}

		// New codes need a recent password proof (the count does not).
		e.clock.Advance(11 * time.Minute)
		var tok api.Tokens
		e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: self.RefreshToken}).wantOK(t, 200, &tok)
		if n := e.codesLeft(tok.AccessToken); n != 9 {
			t.Fatalf("%d codes left, want 9", n)
		}
		e.do("POST", "/v1/mfa/recovery-codes", tok.AccessToken, nil).wantError(t, 403, api.CodeReauthRequired)
		if n := count(e.auditTypes(tok.AccessToken), api.AuditRecoveryCodesRegenerated); n != 0 {
			t.Fatalf("%d mfa.recovery_codes_regenerated events before any was made", n)
		}
		e.do("POST", "/v1/reauth", tok.AccessToken, api.ReauthRequest{Password: testPassword, Code: e.code(secret, 0)}).wantOK(t, 200, nil)

		var fresh api.RecoveryCodesResponse
		e.do("POST", "/v1/mfa/recovery-codes", tok.AccessToken, nil).wantOK(t, 200, &fresh)
		if len(fresh.RecoveryCodes) != 10 {
			t.Fatalf("%d new codes, want 10", len(fresh.RecoveryCodes))
		}
		seen := map[string]bool{}
		for _, c := range append(first, fresh.RecoveryCodes...) {
			if !recoveryCodeShape.MatchString(c) || seen[c] {
				t.Fatalf("code %q is malformed or repeated", c)
			}
			seen[c] = true
		}
		if n := e.codesLeft(tok.AccessToken); n != 10 {
			t.Fatalf("%d codes left after new ones, want 10", n)
		}
		ev := e.lastAudit(tok.AccessToken, api.AuditRecoveryCodesRegenerated)
		if ev.SessionID != self.Session.ID || ev.DeviceName != "Laptop" || !strings.Contains(ev.Detail, "10 new recovery codes") ||
			!strings.Contains(ev.Detail, "9 unused") {
			t.Errorf("mfa.recovery_codes_regenerated event = %+v", ev)
		}

		// The earlier codes, used or not, no longer sign in; the new ones do.
		for _, old := range []string{first[0], first[1], first[9]} {
			e.finishLogin(e.startLogin("ana", "Tablet", false), old).wantError(t, 401, api.CodeInvalidCredentials)
		}
		e.finishLogin(e.startLogin("ana", "Tablet", false), fresh.RecoveryCodes[3]).wantOK(t, 200, nil)
		if n := e.codesLeft(tok.AccessToken); n != 9 {
			t.Fatalf("%d codes left after a new one was used, want 9", n)
		}

		// Once more: the set before is gone too.
		var again api.RecoveryCodesResponse
		e.do("POST", "/v1/mfa/recovery-codes", tok.AccessToken, nil).wantOK(t, 200, &again)
		e.finishLogin(e.startLogin("ana", "Tablet", false), fresh.RecoveryCodes[4]).wantError(t, 401, api.CodeInvalidCredentials)
		e.finishLogin(e.startLogin("ana", "Tablet", false), again.RecoveryCodes[0]).wantOK(t, 200, nil)

		// Two-step off: no codes left, none to make.
		e.do("POST", "/v1/mfa/totp/disable", tok.AccessToken, nil).wantOK(t, 204, nil)
		if n := e.codesLeft(tok.AccessToken); n != 0 {
			t.Fatalf("%d codes left after two-step was turned off", n)
		}
		e.do("POST", "/v1/mfa/recovery-codes", tok.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
		if n := count(e.auditTypes(tok.AccessToken), api.AuditRecoveryCodesRegenerated); n != 2 {
			t.Errorf("%d mfa.recovery_codes_regenerated events, want 2", n)
		}
	})
}

// TestRecoveryCodesNeedASession: both calls are for signed-in sessions.
func TestRecoveryCodesNeedASession(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	gone := e.login("ana", "Laptop", false)
	e.do("POST", "/v1/logout", gone.AccessToken, api.LogoutRequest{}).wantOK(t, 200, nil)
	for _, method := range []string{"GET", "POST"} {
		e.do(method, "/v1/mfa/recovery-codes", "", nil).wantError(t, 401, api.CodeInvalidToken)
		e.do(method, "/v1/mfa/recovery-codes", gone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
	}
	e.do("DELETE", "/v1/mfa/recovery-codes", "", nil).wantError(t, 405, api.CodeMethodNotAllowed)
}
