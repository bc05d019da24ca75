package app_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
)

func TestClearAppData(t *testing.T) {
	b := newBackend(t)
	phone := b.device("Phone")
	phone.signUp("ana", true)
	d := b.device("Shared PC")
	d.signUp("bob", false)
	d.logOut(true) // Bob's saved login stays on the PC
	d.signIn("ana", true)
	if err := d.app.LoadDevices(ctx); err != nil { // writes the cache
		t.Fatal(err)
	}
	if keys := d.secretKeys(); len(keys) != 2 {
		t.Fatalf("before reset the keyring holds %v", keys)
	}
	if _, err := os.Stat(d.cache); err != nil {
		t.Fatalf("no cache to clear: %v", err)
	}
	installID := d.prefs.String(platform.PrefInstallID)

	rep, err := d.app.ClearAppData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Removed: two tokens, the install key and the proof key.
	if rep.SessionsEnded != 1 || rep.SavedLoginsForgotten != 1 || len(rep.NotEnded) != 0 || rep.SecretsRemoved != 4 {
		t.Fatalf("report = %+v", rep)
	}
	s := d.snap()
	if s.State != app.StateSignedOut || len(s.SavedAccounts) != 0 || s.PrefillUsername != "" || s.Account != nil {
		t.Fatalf("after reset: %+v", s)
	}
	if keys := d.allSecretKeys(); len(keys) != 0 {
		t.Fatalf("keyring after reset: %v", keys)
	}
	if left := d.prefs.Keys(); len(left) != 0 {
		t.Fatalf("preferences after reset: %v", left)
	}
	if _, err := os.Stat(d.cache); !os.IsNotExist(err) {
		t.Fatalf("cache dir still there: %v", err)
	}
	// A new install id next time: back to first run.
	d.close()
	d.open()
	if d.prefs.String(platform.PrefInstallID) == installID {
		t.Fatal("install id survived the reset")
	}
	// On the server: the PC's session is gone from Ana's list.
	phone.waitFor("PC gone", func(s app.Snapshot) bool { return len(s.Devices) == 1 })
}

func TestClearAppDataOffline(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	b.stop()
	rep, err := d.app.ClearAppData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.NotEnded) != 1 || !strings.Contains(rep.NotEnded[0], "ana") || !strings.Contains(rep.NotEnded[0], "reach the server") {
		t.Fatalf("offline report = %+v", rep)
	}
	if keys := d.allSecretKeys(); len(keys) != 0 || len(d.prefs.Keys()) != 0 {
		t.Fatalf("offline reset left keys %v prefs %v", keys, d.prefs.Keys())
	}
	if s := d.snap(); s.State != app.StateSignedOut {
		t.Fatalf("state %v", s.State)
	}
}

func TestServerDown(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	b.stop()
	err := d.app.SignIn(ctx, "ana", password, false)
	if !errors.Is(err, client.ErrOffline) {
		t.Fatalf("sign in with the server down: %v", err)
	}
	s := d.snap()
	if s.State != app.StateSignedOut || !s.Offline || s.Link != app.LinkUnreachable || !strings.HasPrefix(s.Err, "Can't reach 127.0.0.1:") {
		t.Fatalf("snapshot: %v offline=%v err=%q", s.State, s.Offline, s.Err)
	}
}

func TestOfflineShowsLastKnownList(t *testing.T) {
	b := newBackend(t)
	other := b.device("Phone")
	other.signUp("ana", true)
	d := b.device("Laptop")
	d.signIn("ana", true)
	d.waitFor("both devices", func(s app.Snapshot) bool { return len(s.Devices) == 2 })
	if err := d.app.LoadDevices(ctx); err != nil {
		t.Fatal(err)
	}
	d.close()
	b.stop()
	d.open()
	s := d.snap()
	if s.State != app.StateSignedIn || !s.Offline || !s.DevicesStale || len(s.Devices) != 2 {
		t.Fatalf("offline start: %v offline=%v stale=%v devices=%v err=%q", s.State, s.Offline, s.DevicesStale, deviceNames(s.Devices), s.Err)
	}
	// Actions that need the server fail with the reason, and nothing is lost.
	if err := d.app.RevokeDevice(ctx, s.Devices[1].ID, false); !errors.Is(err, client.ErrOffline) {
		t.Fatalf("revoke offline: %v", err)
	}
	if s := d.snap(); len(s.Devices) != 2 || !strings.Contains(s.Err, "reach the server") {
		t.Fatalf("after offline revoke: %v %q", deviceNames(s.Devices), s.Err)
	}
}

func TestGarbageAndErrorsFromServer(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"html 502", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprint(w, "<html>Bad gateway</html>")
		}, "unexpected answer (HTTP 502)"},
		{"500 in contract shape", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error":{"code":"internal","message":"Something went wrong on the server."}}`)
		}, "Something went wrong on the server."},
		{"200 with garbage", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"account":`)
		}, "unexpected answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			d := &device{t: t, name: "Laptop", secrets: platform.NewMemory(), prefs: platform.NewMemoryPrefs(), url: srv.URL}
			d.open()
			if err := d.app.SignIn(ctx, "ana", password, true); err == nil {
				t.Fatal("sign-in succeeded against a broken server")
			}
			if s := d.snap(); s.State != app.StateSignedOut || !strings.Contains(s.Err, tc.want) {
				t.Fatalf("state %v, err %q, want %q", s.State, s.Err, tc.want)
			}
			d.close()
		})
	}
}

func TestKeyringUnavailable(t *testing.T) {
	b := newBackend(t)
	d := b.device("Kiosk", noKeyring)
	s := d.snap()
	if s.CanRemember() || !strings.Contains(s.KeyringProblem, "secure storage") {
		t.Fatalf("keyring problem = %q", s.KeyringProblem)
	}
	d.signUp("ana", true) // asks to remember; cannot
	if s := d.snap(); s.State != app.StateSignedIn || s.Remember {
		t.Fatalf("remember = %v with no keyring", s.Remember)
	}
	if err := d.app.LogOut(ctx, true); !errors.Is(err, app.ErrNoSecureStorage) {
		t.Fatalf("remember login info without keyring: %v", err)
	}
}

// failingStore is a keyring that breaks on writes.
type failingStore struct{ *platform.Memory }

func (failingStore) Set(string, string) error {
	return fmt.Errorf("%w: the keyring was locked", platform.ErrUnavailable)
}

func TestKeyringWriteFailsKeepsSessionInMemory(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop", func(o *opening) { o.Secrets = failingStore{platform.NewMemory()} })
	d.signUp("ana", true)
	s := d.snap()
	if s.State != app.StateSignedIn || s.Remember || !strings.Contains(s.Err, "keyring was locked") {
		t.Fatalf("state %v remember %v err %q", s.State, s.Remember, s.Err)
	}
}

func TestCorruptedStoredToken(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	d.close()
	key := d.secretKeys()[0]
	if err := d.secrets.Set(key, "sgr_garbage\x00\xff"); err != nil {
		t.Fatal(err)
	}
	d.open()
	s := d.snap()
	if s.State != app.StateSignedOut || !strings.Contains(s.Err, "no longer valid") || s.PrefillUsername != "ana" {
		t.Fatalf("corrupted token: %v err %q prefill %q", s.State, s.Err, s.PrefillUsername)
	}
	if keys := d.secretKeys(); len(keys) != 0 {
		t.Fatalf("the dead token is still stored: %v", keys)
	}
}

func TestRateLimitSaysWhenToRetry(t *testing.T) {
	b := newBackend(t)
	setup := b.device("Phone")
	setup.signUp("ana", false)
	d := b.device("Laptop")
	var err error
	for range 15 {
		if err = d.app.SignIn(ctx, "ana", "wrong-password", false); errors.Is(err, client.ErrRateLimited) {
			break
		}
	}
	if !errors.Is(err, client.ErrRateLimited) {
		t.Fatalf("never rate limited: %v", err)
	}
	s := d.snap()
	if !strings.Contains(s.Err, "Try again in") || !s.RetryAt.After(time.Now()) {
		t.Fatalf("rate-limit message %q, retry at %v", s.Err, s.RetryAt)
	}
}

func TestValidationErrorsNameTheField(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	tests := []struct {
		name  string
		do    func() error
		field string
	}{
		{"empty username", func() error { return d.app.SignIn(ctx, " ", "x", false) }, "username"},
		{"empty password", func() error { return d.app.SignIn(ctx, "ana", "", false) }, "password"},
		{"short new password", func() error { return d.app.SignUp(ctx, "ana", "short", "short", false) }, "password"},
		{"mismatch", func() error { return d.app.SignUp(ctx, "ana", password, password+"x", false) }, "confirm"},
		{"weak password (server)", func() error { return d.app.SignUp(ctx, "ana", "password123", "password123", false) }, "password"},
		{"bad username (server)", func() error { return d.app.SignUp(ctx, "a b", password, password, false) }, "username"},
		{"wrong password", func() error { return d.app.SignIn(ctx, "nobody", password, false) }, "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); err == nil {
				t.Fatal("no error")
			}
			if s := d.snap(); s.FieldErrors[tc.field] == "" {
				t.Fatalf("field errors %v, err %q: %q not named", s.FieldErrors, s.Err, tc.field)
			}
		})
	}
}

// TestRealKeyring runs a whole journey on the OS keyring (gnome-keyring
// under scripts/with-keyring.sh) and checks the items with go-keyring.
func TestRealKeyring(t *testing.T) {
	if os.Getenv("SESSIONGUARD_KEYRING_TEST") != "1" {
		t.Skip("needs a Secret Service: run under scripts/with-keyring.sh (make test does)")
	}
	b := newBackend(t)
	prefs := platform.NewMemoryPrefs()
	store, err := platform.OpenSecretStore(t.TempDir(), prefs)
	if err != nil {
		t.Fatalf("keyring unavailable under with-keyring.sh: %v", err)
	}
	d := &device{t: t, name: "Desktop", secrets: store, prefs: prefs, url: b.url}
	d.open()
	d.signUp("ana", true)
	acct := d.snap().Account.ID
	tok, err := keyring.Get(platform.KeyringService, "refresh:"+acct)
	if err != nil || !strings.HasPrefix(tok, "sgr_") {
		t.Fatalf("refresh token in the OS keyring: %q, %v", tok, err)
	}
	d.close()
	d.open() // reads it back: silent sign-in
	if s := d.snap(); s.State != app.StateSignedIn {
		t.Fatalf("restart with the OS keyring: %v %q", s.State, s.Err)
	}
	d.logOut(true)
	if _, err := keyring.Get(platform.KeyringService, "remembered:"+acct); err != nil {
		t.Fatalf("saved login not in the OS keyring: %v", err)
	}
	if _, err := d.app.ClearAppData(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"refresh:" + acct, "remembered:" + acct} {
		if _, err := keyring.Get(platform.KeyringService, k); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("%s still in the OS keyring after clear app data: %v", k, err)
		}
	}
}
