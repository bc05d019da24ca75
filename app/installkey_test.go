package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
)

// keyRecorder is the server as the app calls it, noting the install key of
// every sign-in request ("login", "mfa", "remembered") across restarts.
type keyRecorder struct {
	mu   sync.Mutex
	sent []sentKey
}

type sentKey struct{ call, key string }

// signInCalls name the sign-in requests by path.
var signInCalls = map[string]string{"/v1/login": "login", "/v1/login/mfa": "mfa", "/v1/login/remembered": "remembered"}

// recording notes the install key of the device's sign-in requests.
func (r *keyRecorder) recording(o *opening) {
	o.intercept(func(req *http.Request, body []byte) (*http.Response, error) {
		if call, ok := signInCalls[req.URL.Path]; ok && req.Method == http.MethodPost {
			var sent struct {
				InstallKey string `json:"install_key"`
			}
			if err := json.Unmarshal(body, &sent); err != nil {
				return nil, err
			}
			r.note(call, sent.InstallKey)
		}
		return nil, nil
	})
}

func (r *keyRecorder) note(call, key string) {
	r.mu.Lock()
	r.sent = append(r.sent, sentKey{call, key})
	r.mu.Unlock()
}

// last returns the last request's call and key, and forgets them all.
func (r *keyRecorder) last(t *testing.T) sentKey {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sent) == 0 {
		t.Fatal("no sign-in request was sent")
	}
	k := r.sent[len(r.sent)-1]
	r.sent = nil
	return k
}

// wantKey checks a sent install key: what the server accepts, and never
// the public device id.
func wantKey(t *testing.T, d *device, got sentKey, call, want string) {
	t.Helper()
	if got.call != call {
		t.Fatalf("last sign-in request %q, want %q", got.call, call)
	}
	if len(got.key) != 43 || strings.ContainsAny(got.key, " +/=") {
		t.Fatalf("%s: install key %q is not 32 random bytes in base64url", call, got.key)
	}
	if got.key == d.prefs.String(platform.PrefInstallID) {
		t.Fatalf("%s: the install key is the public device id", call)
	}
	if want != "" && got.key != want {
		t.Fatalf("%s: install key %q, want %q", call, got.key, want)
	}
}

func (d *device) storedInstallKey() string {
	d.t.Helper()
	v, err := d.secrets.Get(app.SecretInstallKey)
	if err != nil {
		d.t.Fatalf("install key in the secret store: %v", err)
	}
	return v
}

// TestInstallKeySentAndStable: every kind of sign-in sends the install's
// key; it survives restarts and log outs, and "clear app data" replaces it.
func TestInstallKeySentAndStable(t *testing.T) {
	b := newBackend(t)
	rec := &keyRecorder{}
	d := b.device("Laptop", rec.recording)
	d.signUp("ana", false)
	first := rec.last(t)
	wantKey(t, d, first, "login", "")
	if stored := d.storedInstallKey(); stored != first.key {
		t.Fatalf("stored install key %q, sent %q", stored, first.key)
	}
	key := first.key

	// Saved login info: one tap sends the same key.
	d.logOut(true)
	if err := d.app.ContinueAs(ctx, d.snap().SavedAccounts[0].AccountID, false); err != nil {
		t.Fatal(err)
	}
	wantKey(t, d, rec.last(t), "remembered", key)

	// A restart (the session ends: no "Remember me"), then the password.
	d.close()
	d.open(rec.recording)
	d.signIn("ana", false)
	wantKey(t, d, rec.last(t), "login", key)

	// The second step sends it too.
	secret := d.turnOnTwoStep(b)
	d.logOut(false)
	b.nextCode()
	if err := d.app.SignIn(ctx, "ana", password, false); err != nil || d.snap().State != app.StateNeedsSecondFactor {
		t.Fatalf("sign in with two-step on: %v, %v", err, d.snap().State)
	}
	if err := d.app.SubmitSecondFactor(ctx, b.code(secret)); err != nil {
		t.Fatal(err)
	}
	wantKey(t, d, rec.last(t), "mfa", key)

	// Clear app data: a new install from then on.
	if _, err := d.app.ClearAppData(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.secrets.Get(app.SecretInstallKey); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("install key after clear app data: %v", err)
	}
	d.close()
	d.open(rec.recording)
	b.nextCode()
	if err := d.app.SignIn(ctx, "ana", password, false); err != nil {
		t.Fatal(err)
	}
	fresh := rec.last(t)
	wantKey(t, d, fresh, "login", "")
	if fresh.key == key {
		t.Fatal("clear app data kept the install key")
	}
	if stored := d.storedInstallKey(); stored != fresh.key {
		t.Fatalf("stored install key %q, sent %q", stored, fresh.key)
	}
}

// TestInstallKeyWithoutKeyring: without a keyring the key lives as long
// as the process, and nothing new is said about it.
func TestInstallKeyWithoutKeyring(t *testing.T) {
	b := newBackend(t)
	rec := &keyRecorder{}
	d := b.device("Kiosk", noKeyring, rec.recording)
	d.signUp("ana", false)
	first := rec.last(t)
	wantKey(t, d, first, "login", "")
	if s := d.snap(); s.Err != "" {
		t.Fatalf("an error about the install key: %q", s.Err)
	}
	d.logOut(false)
	d.signIn("ana", false)
	wantKey(t, d, rec.last(t), "login", first.key)

	d.close()
	d.open(noKeyring, rec.recording)
	d.signIn("ana", false)
	if k := rec.last(t); k.key == first.key || len(k.key) != 43 {
		t.Fatalf("after a restart without a keyring: %q (was %q)", k.key, first.key)
	}
}

// keyStore is a secret store whose install key item misbehaves.
type keyStore struct {
	*platform.Memory
	getErr, setErr error
}

func (s keyStore) Get(key string) (string, error) {
	if key == app.SecretInstallKey && s.getErr != nil {
		return "", s.getErr
	}
	return s.Memory.Get(key)
}

func (s keyStore) Set(key, value string) error {
	if key == app.SecretInstallKey && s.setErr != nil {
		return s.setErr
	}
	return s.Memory.Set(key, value)
}

// TestInstallKeyStoreProblems: a damaged key is replaced; a store that
// cannot be read is not overwritten; one that cannot be written still
// leaves a key for this process.
func TestInstallKeyStoreProblems(t *testing.T) {
	locked := fmt.Errorf("%w: the keyring is locked", platform.ErrUnavailable)
	tests := []struct {
		name           string
		stored         string // "" = none
		getErr, setErr error
		wantStored     string // "" = the key sent
	}{
		{name: "damaged", stored: "short"},
		{name: "not printable", stored: strings.Repeat("é", 20)},
		{name: "unreadable", stored: strings.Repeat("k", 43), getErr: locked, wantStored: strings.Repeat("k", 43)},
		{name: "unwritable", setErr: locked, wantStored: "-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			rec := &keyRecorder{}
			mem := platform.NewMemory()
			if tc.stored != "" {
				if err := mem.Set(app.SecretInstallKey, tc.stored); err != nil {
					t.Fatal(err)
				}
			}
			d := b.device("Laptop", rec.recording, func(o *opening) {
				o.Secrets = keyStore{Memory: mem, getErr: tc.getErr, setErr: tc.setErr}
			})
			d.signUp("ana", false)
			sent := rec.last(t)
			wantKey(t, d, sent, "login", "")
			stored, err := mem.Get(app.SecretInstallKey)
			switch tc.wantStored {
			case "":
				if stored != sent.key {
					t.Fatalf("stored %q, sent %q", stored, sent.key)
				}
			case "-":
				if !errors.Is(err, platform.ErrNotFound) {
					t.Fatalf("stored %q, %v; want nothing", stored, err)
				}
			default:
				if stored != tc.wantStored {
					t.Fatalf("stored %q, want %q untouched", stored, tc.wantStored)
				}
			}
			// The same key for the rest of the process.
			d.logOut(false)
			d.signIn("ana", false)
			wantKey(t, d, rec.last(t), "login", sent.key)
		})
	}
}

// TestKnownInstallNotLockedOut: once failed sign-ins from elsewhere lock
// strangers out of the account, the install that signed in before still
// gets in with the right password; a new install does not.
func TestKnownInstallNotLockedOut(t *testing.T) {
	b := newBackend(t)
	phone := b.device("Phone")
	phone.signUp("ana", false)
	phone.logOut(false)
	thief := b.client()
	for i := 0; ; i++ {
		_, err := thief.Login(ctx, api.LoginRequest{Username: "ana", Password: fmt.Sprintf("guess-%d", i),
			Device: api.Device{ID: "thief", Name: "Thief"}})
		if errors.Is(err, client.ErrRateLimited) {
			break
		}
		if !errors.Is(err, client.ErrInvalidCredentials) || i > 100 {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	stranger := b.device("New laptop")
	if err := stranger.app.SignIn(ctx, "ana", password, false); !errors.Is(err, client.ErrRateLimited) {
		t.Fatalf("a new install while the account is under attack: %v, want rate limited", err)
	}
	phone.close()
	phone.open() // a restart: the key comes from the secret store
	phone.signIn("ana", false)
}

// TestSavedLoginBoundToInstall: a saved login works with one tap on the
// install that saved it, and nowhere else: a copy presented without that
// install's key is refused, and spent.
func TestSavedLoginBoundToInstall(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  string
	}{
		{"another install's key", strings.Repeat("x", 43)},
		{"no key", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			d := b.device("Laptop")
			d.signUp("ana", false)
			saved, cred := d.saveLogin()
			thief := b.client()
			dev := platform.DescribeDevice(d.prefs, "1.0.0-test") // even the same public device id
			_, err := thief.LoginRemembered(ctx, api.RememberedLoginRequest{Credential: cred, Device: dev, InstallKey: tc.key})
			if !errors.Is(err, client.ErrInvalidCredentials) {
				t.Fatalf("a copied saved login with %s: %v", tc.name, err)
			}
			// Spent: the owner needs the password now, and is told so.
			if err := d.app.ContinueAs(ctx, saved.AccountID, false); err == nil {
				t.Fatal("a saved login presented elsewhere still works here")
			}
			if s := d.snap(); s.State != app.StateSignedOut || len(s.SavedAccounts) != 0 || !strings.Contains(s.Err, "Enter your password") {
				t.Fatalf("after the spent saved login: %v saved %v err %q", s.State, s.SavedAccounts, s.Err)
			}
			d.signIn("ana", false)
		})
	}
}

// TestSavedLoginSurvivesRestartOnItsInstall: the key the saved login is
// bound to comes back from the secret store after a restart.
func TestSavedLoginSurvivesRestartOnItsInstall(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	d.logOut(true)
	d.close()
	d.open()
	s := d.snap()
	if len(s.SavedAccounts) != 1 {
		t.Fatalf("saved accounts after restart: %+v", s.SavedAccounts)
	}
	if err := d.app.ContinueAs(ctx, s.SavedAccounts[0].AccountID, true); err != nil {
		t.Fatalf("continue as after a restart: %v (%q)", err, d.snap().Err)
	}
	if s := d.snap(); s.State != app.StateSignedIn || !s.Remember {
		t.Fatalf("after continue as: %v remember %v", s.State, s.Remember)
	}
}

// realSecretStores are the platform's secret stores, for the tests of
// what an install keeps there: the OS keyring (gnome-keyring under
// scripts/with-keyring.sh; osKey) on desktops, the app's private file
// store on phones.
var realSecretStores = []struct {
	name  string
	open  func(t *testing.T, dir string, prefs platform.Prefs) (app.SecretStore, error)
	osKey bool
}{
	{"OS keyring", func(t *testing.T, dir string, prefs platform.Prefs) (app.SecretStore, error) {
		if os.Getenv("SESSIONGUARD_KEYRING_TEST") != "1" {
			t.Skip("needs a Secret Service: run under scripts/with-keyring.sh (make test does)")
		}
		return platform.OpenSecretStore(dir, prefs)
	}, true},
	{"phone storage", func(_ *testing.T, dir string, _ platform.Prefs) (app.SecretStore, error) {
		return platform.OpenAppStorageSecretStore(dir)
	}, false},
}

// TestInstallKeyInRealStores: the install key lives in the platform's
// secret store — the OS keyring (gnome-keyring under
// scripts/with-keyring.sh) on desktops, the app's private file store on
// phones — survives restarts there, and "clear app data" deletes it.
func TestInstallKeyInRealStores(t *testing.T) {
	for _, tc := range realSecretStores {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			prefs, dir := platform.NewMemoryPrefs(), t.TempDir()
			store, err := tc.open(t, dir, prefs)
			if err != nil {
				t.Fatalf("secret store: %v", err)
			}
			rec := &keyRecorder{}
			d := &device{t: t, name: "Desktop", secrets: store, prefs: prefs, url: b.url}
			d.open(rec.recording)
			d.signUp("ana", false)
			key := rec.last(t).key
			if got := d.storedInstallKey(); got != key {
				t.Fatalf("stored %q, sent %q", got, key)
			}
			if tc.osKey {
				if got, err := keyring.Get(platform.KeyringService, app.SecretInstallKey); err != nil || got != key {
					t.Fatalf("install key in the OS keyring: %q, %v", got, err)
				}
			}

			// A restart reads the same store afresh.
			d.close()
			if d.secrets, err = tc.open(t, dir, prefs); err != nil {
				t.Fatal(err)
			}
			d.open(rec.recording)
			d.signIn("ana", false)
			wantKey(t, d, rec.last(t), "login", key)

			if _, err := d.app.ClearAppData(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := d.secrets.Get(app.SecretInstallKey); !errors.Is(err, platform.ErrNotFound) {
				t.Fatalf("install key after clear app data: %v", err)
			}
			if tc.osKey {
				if _, err := keyring.Get(platform.KeyringService, app.SecretInstallKey); !errors.Is(err, keyring.ErrNotFound) {
					t.Fatalf("install key in the OS keyring after clear app data: %v", err)
				}
			}
		})
	}
}
