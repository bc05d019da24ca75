package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
)

var ctx = context.Background()

func TestRememberMeSurvivesRestart(t *testing.T) {
	b := newBackend(t)
	d := b.device("Ana's laptop")
	d.signUp("ana", true)
	keys := d.secretKeys()
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "refresh:") {
		t.Fatalf("keyring holds %v, want one refresh token", keys)
	}
	first, _ := d.secrets.Get(keys[0])
	sessionID := d.snap().Session.ID
	d.close()

	d.open()
	s := d.snap()
	if s.State != app.StateSignedIn || s.Account.Username != "ana" || !s.Remember || s.Session.ID != sessionID {
		t.Fatalf("after restart: %v %+v", s.State, s.Account)
	}
	// The silent sign-in rotated the refresh token and stored the new one.
	if now, _ := d.secrets.Get(keys[0]); now == first || now == "" {
		t.Fatal("the stored refresh token was not rotated")
	}
}

func TestWithoutRememberMeQuitLogsOut(t *testing.T) {
	b := newBackend(t)
	phone := b.device("Phone")
	phone.signUp("ana", true)
	laptop := b.device("Friend's laptop")
	laptop.signIn("ana", false)
	if keys := laptop.secretKeys(); len(keys) != 0 {
		t.Fatalf("remember off but the keyring holds %v", keys)
	}
	laptop.close()
	laptop.open()
	if s := laptop.snap(); s.State != app.StateSignedOut || s.PrefillUsername != "ana" {
		t.Fatalf("after restart without remember: %v, prefill %q", s.State, s.PrefillUsername)
	}
	// The quit ended the session on the server: the phone no longer lists it.
	if err := phone.app.LoadDevices(ctx); err != nil {
		t.Fatal(err)
	}
	if names := deviceNames(phone.snap().Devices); !slices.Equal(names, []string{"Phone"}) {
		t.Fatalf("phone lists %v after the laptop quit", names)
	}
}

// TestTwoDevices is the heart of it: A closes B, B is told who did it.
func TestTwoDevices(t *testing.T) {
	b := newBackend(t)
	a := b.device("Ana's Laptop")
	a.signUp("ana", true)
	bdev := b.device("Pixel 8")
	bdev.signIn("ana", true)

	// A learns of B's sign-in live (login alert and the list).
	s := a.waitFor("login alert", func(s app.Snapshot) bool { return s.Alert != nil })
	if s.Alert.Session.Device.Name != "Pixel 8" {
		t.Fatalf("alert about %q", s.Alert.Session.Device.Name)
	}
	s = a.waitFor("B in the list", func(s app.Snapshot) bool { return len(s.Devices) == 2 })
	if names := deviceNames(s.Devices); names[0] != "Ana's Laptop" || !s.Devices[0].Current {
		t.Fatalf("list %v: this device must be first and marked", names)
	}

	if err := a.app.RevokeDevice(ctx, s.Devices[1].ID, false); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if r := a.snap().LastRevoke; r == nil || r.DeviceName != "Pixel 8" {
		t.Fatalf("last revoke = %+v", r)
	}
	got := bdev.waitFor("signed out by A", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if got.Notice == nil || got.Notice.ByDeviceName != "Ana's Laptop" || got.Notice.Reason != api.ReasonRemoteLogout {
		t.Fatalf("B's notice = %+v", got.Notice)
	}
	if got.Notice.At.IsZero() || got.Notice.Username != "ana" {
		t.Fatalf("B's notice lacks when/who: %+v", got.Notice)
	}
	if keys := bdev.secretKeys(); len(keys) != 0 {
		t.Fatalf("B's keyring still holds %v", keys)
	}
	// B does not come back at restart.
	bdev.close()
	bdev.open()
	if s := bdev.snap(); s.State != app.StateSignedOut {
		t.Fatalf("B after restart: %v", s.State)
	}
	a.waitFor("list without B", func(s app.Snapshot) bool { return len(s.Devices) == 1 })
}

func TestRememberLoginInfoAndContinueAs(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", false)
	d.logOut(true)
	s := d.snap()
	if s.State != app.StateSignedOut || len(s.SavedAccounts) != 1 || s.SavedAccounts[0].Username != "ana" {
		t.Fatalf("after log out with remember: %v %+v", s.State, s.SavedAccounts)
	}
	if s.SavedAccounts[0].ExpiresAt.Before(time.Now().Add(80 * 24 * time.Hour)) {
		t.Fatalf("saved login expires %v, want ~90 days", s.SavedAccounts[0].ExpiresAt)
	}
	// Survives a restart, then one tap signs in.
	d.close()
	d.open()
	s = d.snap()
	if len(s.SavedAccounts) != 1 {
		t.Fatalf("saved accounts after restart: %+v", s.SavedAccounts)
	}
	if err := d.app.ContinueAs(ctx, s.SavedAccounts[0].AccountID, false); err != nil {
		t.Fatal(err)
	}
	s = d.snap()
	if s.State != app.StateSignedIn || s.Account.Username != "ana" || len(s.SavedAccounts) != 0 {
		t.Fatalf("after continue as: %v %+v saved %v", s.State, s.Account, s.SavedAccounts)
	}
	// Plain log out leaves nothing saved.
	d.logOut(false)
	d.wantNothingSaved("after plain log out")
}

func TestRemotelyClosedDeviceNeedsThePassword(t *testing.T) {
	b := newBackend(t)
	phone := b.device("Phone")
	phone.signUp("ana", true)
	laptop := b.device("Laptop")
	laptop.signIn("ana", false)
	saved, cred := laptop.saveLogin()
	if err := laptop.app.ContinueAs(ctx, saved.AccountID, false); err != nil {
		t.Fatal(err)
	}
	id := laptop.snap().Session.ID
	if err := phone.app.LoadDevices(ctx); err != nil {
		t.Fatal(err)
	}
	if err := phone.app.RevokeDevice(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	s := laptop.waitFor("closed remotely", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if len(s.SavedAccounts) != 0 || s.Notice == nil {
		t.Fatalf("laptop after remote close: saved %v notice %+v", s.SavedAccounts, s.Notice)
	}
	// Even a copy of an old saved login is refused by the server.
	if _, err := laptop.api.LoginRemembered(ctx, api.RememberedLoginRequest{Credential: cred,
		Device: api.Device{ID: "x", Name: "Laptop"}}); err == nil {
		t.Fatal("an old saved login still works")
	}
}

func TestStepUpThenFinish(t *testing.T) {
	b := newBackend(t)
	a := b.device("Laptop")
	a.signUp("ana", true)
	other := b.device("Tablet")
	other.signIn("ana", true)
	third := b.device("TV")
	third.signIn("ana", false)
	a.waitFor("three devices", func(s app.Snapshot) bool { return len(s.Devices) == 3 })
	b.staleProof()

	devs := a.snap().Devices
	tablet := devs[slices.IndexFunc(devs, func(s api.Session) bool { return s.Device.Name == "Tablet" })]
	err := a.app.RevokeDevice(ctx, tablet.ID, false)
	if !errors.Is(err, app.ErrReauthRequired) {
		t.Fatalf("revoke without step-up: %v", err)
	}
	s := a.snap()
	if s.Pending == nil || s.Pending.Kind != app.KindRevokeOne || s.Pending.DeviceName != tablet.Device.Name {
		t.Fatalf("pending = %+v", s.Pending)
	}
	if err := a.app.Reauthenticate(ctx, "not-my-password", ""); err == nil {
		t.Fatal("wrong password accepted")
	}
	if s := a.snap(); s.FieldErrors["password"] == "" || s.Pending == nil {
		t.Fatalf("after wrong password: fields %v pending %+v", s.FieldErrors, s.Pending)
	}
	if err := a.app.Reauthenticate(ctx, password, ""); err != nil {
		t.Fatal(err)
	}
	s = a.snap()
	if s.Pending != nil || s.LastRevoke == nil || s.LastRevoke.DeviceName != tablet.Device.Name {
		t.Fatalf("after re-auth: pending %+v last %+v", s.Pending, s.LastRevoke)
	}
	other.waitFor("tablet closed", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })

	// Within the window now: log out of all others needs no password.
	n, err := a.app.RevokeOthers(ctx, false)
	if err != nil || n != 1 {
		t.Fatalf("revoke others = %d, %v", n, err)
	}
	if s := a.snap(); len(s.Devices) != 1 || s.LastRevoke.Count != 1 {
		t.Fatalf("after revoke others: %v %+v", deviceNames(s.Devices), s.LastRevoke)
	}
	third.waitFor("TV closed", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if r := third.snap().Notice; r == nil || r.Reason != api.ReasonLogoutOthers || r.ByDeviceName != "Laptop" {
		t.Fatalf("TV notice = %+v", r)
	}
}

func TestDevicePaging(t *testing.T) {
	b := newBackend(t)
	c := b.client() // other devices need no app, just a sign-in
	if _, err := c.CreateAccount(ctx, api.CreateAccountRequest{Username: "ana", Password: password}); err != nil {
		t.Fatal(err)
	}
	// Signed in before the app is: it learns of them from the list (of
	// sign-ins while it runs, from their events).
	for i := range 205 {
		dev := api.Device{ID: fmt.Sprintf("dev-%d", i), Name: fmt.Sprintf("Device %d", i), Platform: api.PlatformAndroid}
		if _, err := c.Login(ctx, api.LoginRequest{Username: "ana", Password: password, Device: dev}); err != nil {
			t.Fatal(err)
		}
	}
	a := b.device("Main")
	a.signIn("ana", false)
	if err := a.app.LoadDevices(ctx); err != nil {
		t.Fatal(err)
	}
	s := a.snap()
	if len(s.Devices) != 200 || s.DevicesCursor == "" { // the server's largest page
		t.Fatalf("first page: %d devices, cursor %q", len(s.Devices), s.DevicesCursor)
	}
	if err := a.app.LoadMoreDevices(ctx); err != nil {
		t.Fatal(err)
	}
	if s := a.snap(); len(s.Devices) != 206 || s.DevicesCursor != "" {
		t.Fatalf("after more: %d devices, cursor %q", len(s.Devices), s.DevicesCursor)
	}
}

func TestRemoveSavedAccountForgetsOnServer(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", false)
	saved, cred := d.saveLogin()
	if err := d.app.RemoveSavedAccount(ctx, saved.AccountID); err != nil {
		t.Fatal(err)
	}
	d.wantNothingSaved("after remove")
	if s := d.snap(); s.Err != "" {
		t.Fatalf("after remove: err %q", s.Err)
	}
	// The server forgot it too: the credential no longer signs in.
	_, err := d.api.LoginRemembered(ctx, api.RememberedLoginRequest{Credential: cred, Device: api.Device{ID: "x"}})
	if !errors.Is(err, client.ErrInvalidCredentials) {
		t.Fatalf("forgotten credential: %v", err)
	}
}

// noStream is a device whose event stream never connects, as when a
// proxy holds it: revocation must then be noticed on the next call.
func noStream(o *opening) {
	o.intercept(func(r *http.Request, _ []byte) (*http.Response, error) {
		if r.URL.Path != "/v1/events" {
			return nil, nil
		}
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
}

func TestRevocationNoticedOnNextCallWithoutStream(t *testing.T) {
	b := newBackend(t)
	phone := b.device("Phone")
	phone.signUp("ana", true)
	laptop := b.device("Laptop", noStream)
	if err := laptop.app.SignIn(ctx, "ana", password, true); err != nil {
		t.Fatal(err)
	}
	id := laptop.snap().Session.ID
	if _, err := phone.api.RevokeSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	// The next call notices: this one, or the app's own background refresh
	// if it got there first (then this call finds the device signed out).
	if err := laptop.app.LoadDevices(ctx); !errors.Is(err, client.ErrSessionRevoked) && !errors.Is(err, app.ErrNotSignedIn) {
		t.Fatalf("next call after revoke: %v", err)
	}
	s := laptop.waitFor("signed out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if s.State != app.StateSignedOut || s.Notice == nil || s.Notice.ByDeviceName != "Phone" || len(laptop.secretKeys()) != 0 {
		t.Fatalf("after the next call: %v notice %+v keys %v", s.State, s.Notice, laptop.secretKeys())
	}
}
