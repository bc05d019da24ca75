package app_test

import (
	"errors"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/platform"
)

// endedClosure waits until the revoker's list of ended sessions shows the
// session id with its closure in state.
func (d *device) endedClosure(id, state string) api.Session {
	d.t.Helper()
	if err := d.app.LoadEnded(ctx); err != nil {
		d.t.Fatal(err)
	}
	var got api.Session
	d.waitFor("the closure of "+id+" "+state, func(s app.Snapshot) bool {
		for _, e := range s.Ended {
			if e.ID == id && e.Closure != nil && e.Closure.State == state {
				got = e
				return true
			}
		}
		return false
	})
	return got
}

// wantErased checks that the install keeps nothing of its one account:
// no keyring item (not even the install key), no saved account or
// username, no cached list.
func (d *device) wantErased(when string) {
	d.t.Helper()
	if keys := d.allSecretKeys(); len(keys) != 0 {
		d.t.Errorf("%s: %s: keyring items left %v", d.name, when, keys)
	}
	for _, k := range []string{app.PrefSavedAccounts, app.PrefLastUsername, app.PrefResumeAccount} {
		if v := d.prefs.String(k); v != "" {
			d.t.Errorf("%s: %s: preference %s = %q", d.name, when, k, v)
		}
	}
	if _, err := os.Stat(d.cache); !errors.Is(err, os.ErrNotExist) {
		d.t.Errorf("%s: %s: cache left (%v)", d.name, when, err)
	}
}

// anaOnLaptopAndPhone signs ana in on her laptop and on a phone (made
// with opts) and returns the phone's session as the laptop lists it.
func anaOnLaptopAndPhone(t *testing.T, opts ...deviceOpt) (*backend, *device, *device, string) {
	t.Helper()
	b := newBackend(t)
	laptop := b.device("Ana's Laptop")
	laptop.signUp("ana", true)
	phone := b.device("Pixel 8", opts...)
	phone.signIn("ana", true)
	id := idOf(t, laptop.waitFor("the phone listed", func(s app.Snapshot) bool { return len(s.Devices) == 2 }), "Pixel 8")
	return b, laptop, phone, id
}

// TestRemoteEraseLiveDevice: the owner logs the phone out with erase;
// the phone, listening, wipes everything and confirms, and the owner sees
// the receipt.
func TestRemoteEraseLiveDevice(t *testing.T) {
	_, laptop, phone, id := anaOnLaptopAndPhone(t)

	start := time.Now()
	if err := laptop.app.RevokeDevice(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if r := laptop.snap().LastRevoke; r == nil || !r.Erase || len(r.IDs) != 1 || r.IDs[0] != id {
		t.Fatalf("last revoke %+v", r)
	}
	s := phone.waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if n := s.Notice; n == nil || !n.Erased || n.ByDeviceName != "Ana's Laptop" || s.PrefillUsername != "" {
		t.Fatalf("phone's notice %+v, prefill %q", n, s.PrefillUsername)
	}
	phone.wantErased("after the remote erase")
	e := laptop.endedClosure(id, api.ClosureConfirmed)
	if !e.Closure.EraseRequested || !e.Closure.Erased || e.Closure.ConfirmedAt == nil {
		t.Fatalf("closure %+v", e.Closure)
	}
	t.Logf("revoke → receipt seen by the revoker in %v", time.Since(start))
	// Nothing waits to be sent once the phone has the server's answer.
	phone.waitFor("no receipt pending", func(app.Snapshot) bool { return phone.prefs.String(app.PrefPendingReceipts) == "" })
}

// TestRemoteLogoutWithoutErase: a plain remote log out is confirmed too;
// the phone keeps what is not the account's tokens.
func TestRemoteLogoutWithoutErase(t *testing.T) {
	_, laptop, phone, id := anaOnLaptopAndPhone(t)
	if err := laptop.app.RevokeDevice(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	s := phone.waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if s.Notice == nil || s.Notice.Erased || s.PrefillUsername != "ana" {
		t.Fatalf("notice %+v, prefill %q", s.Notice, s.PrefillUsername)
	}
	phone.wantNothingSaved("after the remote log out")
	if keys := phone.allSecretKeys(); !slices.Equal(keys, slices.Sorted(slices.Values([]string{app.SecretInstallKey, app.SecretProofKey}))) {
		t.Fatalf("keyring after a log out without erase: %v", keys)
	}
	if e := laptop.endedClosure(id, api.ClosureConfirmed); e.Closure.EraseRequested || e.Closure.Erased {
		t.Fatalf("closure %+v", e.Closure)
	}
}

// TestRemoteEraseOfflineDeviceADayLater: the phone is off when it is
// logged out; started a day later, its first call learns it, erases and
// confirms.
func TestRemoteEraseOfflineDeviceADayLater(t *testing.T) {
	b, laptop, phone, id := anaOnLaptopAndPhone(t)
	phone.close()
	if err := laptop.app.RevokeDevice(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if e := laptop.endedClosure(id, api.ClosurePending); !e.Closure.EraseRequested {
		t.Fatalf("pending closure %+v", e.Closure)
	}
	b.clock.Advance(24 * time.Hour)
	phone.open()
	s := phone.waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if s.Notice == nil || !s.Notice.Erased {
		t.Fatalf("notice %+v", s.Notice)
	}
	phone.wantErased("a day later")
	laptop.endedClosure(id, api.ClosureConfirmed)
}

// TestReceiptSurvivesACrash: the phone wipes, then cannot send its
// receipt (it quits, or the network drops); at its next start it sends
// it.
func TestReceiptSurvivesACrash(t *testing.T) {
	noReceipts := func(o *opening) {
		o.intercept(func(r *http.Request, _ []byte) (*http.Response, error) {
			if r.URL.Path == "/v1/closures" {
				return nil, errors.New("the app was killed before its receipt left")
			}
			return nil, nil
		})
	}
	_, laptop, phone, id := anaOnLaptopAndPhone(t, noReceipts)
	if err := laptop.app.RevokeDevice(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	phone.waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	phone.close() // waits for the receipt's attempt
	if phone.prefs.String(app.PrefPendingReceipts) == "" {
		t.Fatal("no receipt kept after it could not be sent")
	}
	phone.wantErased("after the wipe, before the receipt")
	if e := laptop.endedClosure(id, api.ClosurePending); e.Closure.Erased {
		t.Fatalf("confirmed before any receipt: %+v", e.Closure)
	}
	phone.open() // a normal start: the receipt goes out
	laptop.endedClosure(id, api.ClosureConfirmed)
	phone.waitFor("the receipt sent", func(app.Snapshot) bool { return phone.prefs.String(app.PrefPendingReceipts) == "" })
}

// TestRemoteEraseKeepsOtherAccounts: with another account saved on the
// install, erase wipes only this account's items.
func TestRemoteEraseKeepsOtherAccounts(t *testing.T) {
	b := newBackend(t)
	laptop := b.device("Ana's Laptop")
	laptop.signUp("ana", true)
	phone := b.device("Pixel 8")
	phone.signUp("cleo", false)
	phone.logOut(true) // cleo's "Continue as"
	phone.signIn("ana", true)
	id := idOf(t, laptop.waitFor("the phone listed", func(s app.Snapshot) bool { return len(s.Devices) == 2 }), "Pixel 8")
	if err := laptop.app.RevokeDevice(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	s := phone.waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if len(s.SavedAccounts) != 1 || s.SavedAccounts[0].Username != "cleo" {
		t.Fatalf("saved accounts %+v", s.SavedAccounts)
	}
	keys := phone.secretKeys()
	if len(keys) != 1 || keys[0] != "remembered:"+s.SavedAccounts[0].AccountID {
		t.Fatalf("keyring %v", keys)
	}
	laptop.endedClosure(id, api.ClosureConfirmed)
}

// TestRemoteEraseRealKeyring: the erased items are gone from the OS
// keyring (gnome-keyring under scripts/with-keyring.sh).
func TestRemoteEraseRealKeyring(t *testing.T) {
	if os.Getenv("SESSIONGUARD_KEYRING_TEST") != "1" {
		t.Skip("needs a Secret Service: run under scripts/with-keyring.sh (make test does)")
	}
	b := newBackend(t)
	laptop := b.device("Ana's Laptop")
	laptop.signUp("ana", true)
	prefs := platform.NewMemoryPrefs()
	store, err := platform.OpenSecretStore(t.TempDir(), prefs)
	if err != nil {
		t.Fatalf("keyring unavailable under with-keyring.sh: %v", err)
	}
	phone := &device{t: t, name: "Pixel 8", secrets: store, prefs: prefs, cache: t.TempDir() + "/cache", url: b.url}
	phone.open()
	phone.signIn("ana", true)
	acct := phone.snap().Account.ID
	for _, k := range []string{"refresh:" + acct, app.SecretInstallKey, app.SecretProofKey} {
		if _, err := keyring.Get(platform.KeyringService, k); err != nil {
			t.Fatalf("%s not in the OS keyring before: %v", k, err)
		}
	}
	id := idOf(t, laptop.waitFor("the phone listed", func(s app.Snapshot) bool { return len(s.Devices) == 2 }), "Pixel 8")
	if err := laptop.app.RevokeDevice(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	phone.waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	for _, k := range []string{"refresh:" + acct, app.SecretInstallKey, app.SecretProofKey} {
		if _, err := keyring.Get(platform.KeyringService, k); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("%s still in the OS keyring after the erase: %v", k, err)
		}
	}
	laptop.endedClosure(id, api.ClosureConfirmed)
}
