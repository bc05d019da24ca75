package app_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
)

// TestWrongPasswordsAtReauthLogThisDeviceOut: each wrong password when
// confirming it's you says how many are left; the last one ends this
// device's session (not the others) and the sign-in screen says why.
func TestWrongPasswordsAtReauthLogThisDeviceOut(t *testing.T) {
	b := newBackend(t)
	owner := b.device("Ana's Laptop")
	owner.signUp("ana", true)
	stolen := b.device("Pixel 8")
	stolen.signIn("ana", true)
	stolen.logOut(true) // a saved login too
	stolen.signIn("ana", true)
	stolen.waitFor("two devices", func(s app.Snapshot) bool { return len(s.Devices) == 2 })
	b.staleProof()

	laptop := stolen.snap().Devices[slices.IndexFunc(stolen.snap().Devices, func(s api.Session) bool { return !s.Current })]
	if err := stolen.app.RevokeDevice(ctx, laptop.ID, false); !errors.Is(err, app.ErrReauthRequired) {
		t.Fatalf("revoke without step-up: %v", err)
	}
	for _, want := range []string{
		"That password is not right. 4 attempts left before this device is logged out.",
		"That password is not right. 3 attempts left before this device is logged out.",
		"That password is not right. 2 attempts left before this device is logged out.",
		"That password is not right. Last attempt: one more wrong answer logs this device out.",
	} {
		if err := stolen.app.Reauthenticate(ctx, "guess", ""); !errors.Is(err, client.ErrInvalidCredentials) {
			t.Fatalf("a wrong password: %v", err)
		}
		s := stolen.snap()
		if got := s.FieldErrors["password"]; got != want || s.Pending == nil || s.State != app.StateSignedIn {
			t.Fatalf("after a wrong password: %q (want %q), pending %+v, %v", got, want, s.Pending, s.State)
		}
	}
	err := stolen.app.Reauthenticate(ctx, "guess", "")
	if !errors.Is(err, client.ErrSessionRevoked) {
		t.Fatalf("the fifth wrong password: %v", err)
	}
	s := stolen.waitFor("signed out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if s.Notice == nil || s.Notice.Reason != api.ReasonReauthFailed || s.Pending != nil {
		t.Fatalf("notice %+v pending %+v", s.Notice, s.Pending)
	}
	stolen.wantNothingSaved("the device that was logged out")
	// The owner's laptop is untouched and sees the device go.
	owner.waitFor("Pixel gone", func(s app.Snapshot) bool { return len(s.Devices) == 1 })
	if s := owner.snap(); s.State != app.StateSignedIn {
		t.Fatalf("owner: %v", s.State)
	}
}

// TestReauthFailedLearnedFromTheStream: a thief guessing with this
// device's stolen access token ends its session; the app hears it live.
// The token is bound to the device's key: copied alone, it does not even
// get to guess; the thief needs the key too (malware on the device).
func TestReauthFailedLearnedFromTheStream(t *testing.T) {
	b := newBackend(t)
	d := b.device("Pixel 8")
	d.signUp("ana", true)
	thief := b.client()
	thief.SetTokens(api.Tokens{AccessToken: d.api.Tokens().AccessToken})
	for range 6 {
		if _, err := thief.Reauth(ctx, api.ReauthRequest{Password: "guess"}); !errors.Is(err, client.ErrDPoP) {
			t.Fatalf("a guess with the token alone: %v, want refused for want of the key", err)
		}
	}
	thief.SetProofKey(d.api.ProofKey())
	var err error
	for range 5 {
		_, err = thief.Reauth(ctx, api.ReauthRequest{Password: "guess"})
	}
	if !errors.Is(err, client.ErrSessionRevoked) {
		t.Fatalf("the fifth guess: %v", err)
	}
	s := d.waitFor("signed out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if s.Notice == nil || s.Notice.Reason != api.ReasonReauthFailed || s.Notice.Username != "ana" {
		t.Fatalf("notice %+v", s.Notice)
	}
}

// TestWrongCurrentPasswordCounts: the current password of Change password
// counts like re-authentication.
func TestWrongCurrentPasswordCounts(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	const next = "new-orchid-meadow-77"
	if _, err := d.app.ChangePassword(ctx, "guess", next, next, "", false); err == nil {
		t.Fatal("a wrong current password changed it")
	}
	if got, want := d.snap().FieldErrors["current"], "Your current password is not right. 4 attempts left before this device is logged out."; got != want {
		t.Fatalf("field error %q, want %q", got, want)
	}
}

// recoveryCode is the recovery codes' new form: six groups of four.
var recoveryCode = regexp.MustCompile(`^[0-9a-z]{4}(-[0-9a-z]{4}){5}$`)

// TestTwoStepOnNeedsThePassword: turning two-step on asks for the
// password when the last proof is old, at the start or at the confirming
// code, and then carries on where the person was.
func TestTwoStepOnNeedsThePassword(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	b.staleProof()

	if _, err := d.app.StartTwoStep(ctx); !errors.Is(err, app.ErrReauthRequired) {
		t.Fatalf("setup without step-up: %v", err)
	}
	s := d.snap()
	if s.Pending == nil || s.Pending.Kind != app.KindSetupTwoStep || s.Busy || s.TwoStep != app.TwoStepIdle {
		t.Fatalf("pending %+v busy %v stage %v", s.Pending, s.Busy, s.TwoStep)
	}
	if err := d.app.Reauthenticate(ctx, "guess", ""); err == nil || !strings.Contains(d.snap().FieldErrors["password"], "4 attempts left") {
		t.Fatalf("a wrong password: %v, %v", err, d.snap().FieldErrors)
	}
	if err := d.app.Reauthenticate(ctx, password, ""); err != nil {
		t.Fatal(err)
	}
	s = d.snap()
	setup := d.app.TwoStepSetup()
	if s.Pending != nil || s.TwoStep != app.TwoStepScanning || setup.Secret == "" || !strings.HasPrefix(setup.OTPAuthURI, "otpauth://") {
		t.Fatalf("after the password: pending %+v stage %v setup %+v", s.Pending, s.TwoStep, setup)
	}
	if d.app.RecoveryCodes() != nil {
		t.Fatal("recovery codes before two-step is on")
	}

	// The proof goes stale while the person fetches their phone.
	b.staleProof()
	if _, err := d.app.ConfirmTwoStep(ctx, b.code(setup.Secret)); !errors.Is(err, app.ErrReauthRequired) {
		t.Fatalf("enable without step-up: %v", err)
	}
	if p := d.snap().Pending; p == nil || p.Kind != app.KindEnableTwoStep {
		t.Fatalf("pending %+v", p)
	}
	if err := d.app.Reauthenticate(ctx, password, ""); err != nil {
		t.Fatal(err)
	}
	s = d.snap()
	codes := d.app.RecoveryCodes()
	if !s.Account.MFAEnabled || s.TwoStep != app.TwoStepShowingCodes || s.Pending != nil || len(codes) != 10 {
		t.Fatalf("after the password: mfa %v stage %v pending %+v codes %v", s.Account.MFAEnabled, s.TwoStep, s.Pending, codes)
	}
	for _, c := range codes {
		if !recoveryCode.MatchString(c) {
			t.Errorf("recovery code %q is not six groups of four", c)
		}
	}
	if d.app.TwoStepSetup().Secret != "" {
		t.Fatal("the secret is still held after two-step went on")
	}
	d.app.EndTwoStep()
	if s := d.snap(); s.TwoStep != app.TwoStepIdle || d.app.RecoveryCodes() != nil {
		t.Fatalf("after EndTwoStep: %v %v", s.TwoStep, d.app.RecoveryCodes())
	}
}

// TestTwoStepOnEndsSavedLogins: the server deletes the account's saved
// logins when two-step goes on, and so does the app.
func TestTwoStepOnEndsSavedLogins(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", false)
	d.logOut(true)
	d.signIn("ana", false) // with the password, the saved login stays
	if len(d.snap().SavedAccounts) != 1 {
		t.Fatalf("saved %v", d.snap().SavedAccounts)
	}
	d.turnOnTwoStep(b)
	d.wantNothingSaved("after two-step on")
}

// TestSignOutForgetsTwoStepSecrets: a setup or codes waiting are gone
// after a log out.
func TestSignOutForgetsTwoStepSecrets(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", false)
	if _, err := d.app.StartTwoStep(ctx); err != nil {
		t.Fatal(err)
	}
	d.logOut(false)
	if s := d.snap(); s.TwoStep != app.TwoStepIdle || d.app.TwoStepSetup().Secret != "" {
		t.Fatalf("after log out: stage %v", s.TwoStep)
	}
}

// refusingRemember is a server that will not save login info (as when the
// refresh token sent is not the session's current one).
func refusingRemember(o *opening) {
	o.intercept(func(r *http.Request, body []byte) (*http.Response, error) {
		var req api.LogoutRequest
		if r.URL.Path != "/v1/logout" || json.Unmarshal(body, &req) != nil || !req.Remember {
			return nil, nil
		}
		return answer(r, http.StatusBadRequest, `{"error":{"code":"`+api.CodeInvalidRequest+`",`+
			`"message":"refresh_token is not this session's current refresh token.","details":{"`+api.DetailField+`":"refresh_token"}}}`), nil
	})
}

// TestLogOutWhenLoginInfoIsRefused: the session still ends on the server,
// and the person is told their login info was not saved.
func TestLogOutWhenLoginInfoIsRefused(t *testing.T) {
	b := newBackend(t)
	phone := b.device("Phone")
	phone.signUp("ana", true)
	laptop := b.device("Laptop", refusingRemember)
	laptop.signIn("ana", false)
	phone.waitFor("two devices", func(s app.Snapshot) bool { return len(s.Devices) == 2 })
	laptop.logOut(true)
	s := laptop.snap()
	if s.State != app.StateSignedOut || len(s.SavedAccounts) != 0 || !strings.Contains(s.Err, "could not be saved") {
		t.Fatalf("after log out: %v saved %v err %q", s.State, s.SavedAccounts, s.Err)
	}
	phone.waitFor("laptop gone", func(s app.Snapshot) bool { return len(s.Devices) == 1 })
}

// TestTwoStepResetByAdministratorShows: the server administrator turning
// two-step off (sessiond user reset-mfa) shows on the signed-in device.
func TestTwoStepResetByAdministratorShows(t *testing.T) {
	b := newBackend(t)
	stop := b.Server.StartBackground() // delivers the administrator's events
	defer stop()
	d := b.device("Laptop")
	d.signUp("ana", false)
	d.turnOnTwoStep(b)
	if _, err := b.Server.AdminResetMFA(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	d.waitFor("two-step off", func(s app.Snapshot) bool { return s.Account != nil && !s.Account.MFAEnabled })
}
