package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
	"sessionguard/server"
	"sessionguard/server/servertest"
)

// storedProofKey is the proof key in the install's secret store, read
// back and parsed; nil when there is none.
func (d *device) storedProofKey() *dpop.Key {
	d.t.Helper()
	v, err := d.secrets.Get(app.SecretProofKey)
	if errors.Is(err, platform.ErrNotFound) {
		return nil
	}
	if err != nil {
		d.t.Fatalf("proof key in the secret store: %v", err)
	}
	k, err := dpop.ParseKey(v)
	if err != nil {
		d.t.Fatalf("the stored proof key does not parse: %v", err)
	}
	return k
}

// boundTo is the thumbprint the server bound the device's session to
// ("" for an unbound one), read from its store.
func (b *backend) boundTo(sessionID string) string {
	b.t.Helper()
	s, err := b.DB.Session(context.Background(), sessionID)
	if err != nil {
		b.t.Fatal(err)
	}
	return s.JKT
}

// wantBound checks that the device's session is bound to the key in its
// secret store, as the server and the device's own list say.
func (d *device) wantBound(b *backend) string {
	d.t.Helper()
	s := d.waitFor("its own session listed", func(s app.Snapshot) bool { return len(s.Devices) > 0 && s.Devices[0].Current })
	k := d.storedProofKey()
	switch {
	case k == nil:
		d.t.Fatalf("%s: no proof key in the secret store", d.name)
	case !s.Session.Bound || !s.Devices[0].Bound:
		d.t.Fatalf("%s: session bound %v, in its own list %v", d.name, s.Session.Bound, s.Devices[0].Bound)
	case d.app.ProofKeyThumbprint() != k.Thumbprint():
		d.t.Fatalf("%s: the app uses key %s, the store holds %s", d.name, d.app.ProofKeyThumbprint(), k.Thumbprint())
	case b.boundTo(s.Session.ID) != k.Thumbprint():
		d.t.Fatalf("%s: the server bound the session to %q, the key is %s", d.name, b.boundTo(s.Session.ID), k.Thumbprint())
	}
	return k.Thumbprint()
}

// dpopRefusals are the session.dpop_refused events in the device's
// security activity (LoadActivity).
func (d *device) dpopRefusals() []api.AuditEvent {
	d.t.Helper()
	if err := d.app.LoadActivity(ctx); err != nil {
		d.t.Fatal(err)
	}
	var out []api.AuditEvent
	for _, e := range d.snap().Activity {
		if e.Type == api.AuditDPoPRefused {
			out = append(out, e)
		}
	}
	return out
}

// TestCopiedTokensRefusedDeviceKeepsWorking: the app signs in bound to
// the key in its secret store; its refresh and access tokens copied to
// a client without the key (or with another key) are refused 401
// invalid_token, reason dpop, while the device goes on as if nothing
// happened (its calls, its refresh, its live stream), and the owner's
// other device finds one session.dpop_refused in Security activity. On
// both stores.
func TestCopiedTokensRefusedDeviceKeepsWorking(t *testing.T) {
	for _, store := range []struct {
		name string
		open func(t *testing.T) *backend
	}{{"sqlite", newBackend}, {"postgres", newPostgresBackend}} {
		t.Run(store.name, func(t *testing.T) { copiedTokensRefused(t, store.open(t)) })
	}
}

func copiedTokensRefused(t *testing.T, b *backend) {
	laptop := b.device("Laptop")
	laptop.signUp("ana", true)
	phone := b.device("Pixel 8")
	phone.signIn("ana", true)
	phoneKey := phone.wantBound(b)
	if laptopKey := laptop.wantBound(b); laptopKey == phoneKey {
		t.Fatal("two installs share a proof key")
	}
	phoneSession := phone.snap().Session.ID

	refreshOnly := func(t api.Tokens) api.Tokens { return api.Tokens{RefreshToken: t.RefreshToken} }
	accessOnly := func(t api.Tokens) api.Tokens { return api.Tokens{AccessToken: t.AccessToken} }
	tests := []struct {
		name string
		key  *dpop.Key
		copy func(api.Tokens) api.Tokens // what is copied off the phone
		call func(c *client.Client) error
	}{
		{"refresh token, no key", nil, refreshOnly,
			func(c *client.Client) error { _, err := c.Refresh(ctx); return err }},
		{"access token, no key", nil, accessOnly,
			func(c *client.Client) error { _, err := c.Sessions(ctx, 0, ""); return err }},
		{"access token, another key", mustKey(t), accessOnly,
			func(c *client.Client) error { _, err := c.Me(ctx); return err }},
		{"refresh token, another key", mustKey(t), refreshOnly,
			func(c *client.Client) error { _, err := c.Refresh(ctx); return err }},
		{"event stream, no key", nil, accessOnly,
			func(c *client.Client) error { return c.Events(ctx, nil, nil) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			thief := b.client()
			thief.SetProofKey(tc.key)
			thief.SetTokens(tc.copy(phone.api.Tokens())) // the phone's current ones
			err := tc.call(thief)
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized || ce.Code != api.CodeInvalidToken ||
				!errors.Is(err, client.ErrDPoP) {
				t.Fatalf("copied %s: %v, want 401 invalid_token reason dpop", tc.name, err)
			}
			// The device: its next call, its refresh, its stream.
			if err := phone.app.LoadDevices(ctx); err != nil {
				t.Fatalf("the device's next call: %v", err)
			}
			if _, err := phone.api.Refresh(ctx); err != nil {
				t.Fatalf("the device's refresh: %v", err)
			}
			if s := phone.snap(); s.State != app.StateSignedIn || !s.Live || s.Err != "" || s.Notice != nil {
				t.Fatalf("the device after the copy was refused: %v live %v err %q notice %+v", s.State, s.Live, s.Err, s.Notice)
			}
		})
	}
	// Its stream is live: a sign-in elsewhere shows at once.
	tablet := b.device("Tab S9")
	tablet.signIn("ana", false)
	phone.waitFor("the tablet's alert", func(s app.Snapshot) bool {
		return s.Alert != nil && s.Alert.Session.Device.Name == "Tab S9"
	})

	// Refused five times, audited once, for the phone's session.
	refused := laptop.dpopRefusals()
	if len(refused) != 1 {
		t.Fatalf("%d session.dpop_refused events, want 1: %+v", len(refused), refused)
	}
	if e := refused[0]; e.TargetSessionID != phoneSession || e.SessionID != phoneSession || e.DeviceName != "Pixel 8" {
		t.Fatalf("session.dpop_refused %+v, want the phone's session", e)
	}
	if s := phone.snap(); s.State != app.StateSignedIn {
		t.Fatalf("the phone: %v", s.State)
	}
}

func mustKey(t *testing.T) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestEverySignInPathBound: password, two-step code, saved login
// ("Continue as"), approval by a signed-in device, link code and
// sign-up all bind the new session to the install's one key.
func TestEverySignInPathBound(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", false)
	key := d.wantBound(b)
	check := func(path string) {
		t.Helper()
		d.waitFor(path+": signed in", func(s app.Snapshot) bool { return s.State == app.StateSignedIn })
		if got := d.wantBound(b); got != key {
			t.Fatalf("%s: bound to %s, want the install's key %s", path, got, key)
		}
	}
	check("sign-up")

	d.logOut(true)
	if err := d.app.ContinueAs(ctx, d.snap().SavedAccounts[0].AccountID, false); err != nil {
		t.Fatal(err)
	}
	check("continue as")

	d.logOut(false)
	d.signIn("ana", false)
	check("password")

	secret := d.turnOnTwoStep(b)
	d.logOut(false)
	b.nextCode()
	if err := d.app.SignIn(ctx, "ana", password, false); err != nil || d.snap().State != app.StateNeedsSecondFactor {
		t.Fatalf("sign in with two-step on: %v, %v", err, d.snap().State)
	}
	if err := d.app.SubmitSecondFactor(ctx, b.code(secret)); err != nil {
		t.Fatal(err)
	}
	check("two-step")

	// A link code approved on another device.
	phone := b.device("Phone")
	b.nextCode()
	if err := phone.app.SignIn(ctx, "ana", password, false); err != nil {
		t.Fatal(err)
	}
	if err := phone.app.SubmitSecondFactor(ctx, b.code(secret)); err != nil {
		t.Fatal(err)
	}
	phone.waitFor("signed in", func(s app.Snapshot) bool { return s.State == app.StateSignedIn })
	d.logOut(false)
	if err := d.app.StartLink(ctx, false); err != nil {
		t.Fatal(err)
	}
	code := d.waitFor("a link code", func(s app.Snapshot) bool { return s.LinkCode != nil }).LinkCode.UserCode
	if err := phone.app.ApproveLink(ctx, code); errors.Is(err, app.ErrReauthRequired) {
		if err := phone.app.Reauthenticate(ctx, password, b.code(secret)); err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
	check("link code")

	// Approval of a new sign-in by a signed-in device.
	if err := phone.app.SetApproveNewDevices(ctx, true); errors.Is(err, app.ErrReauthRequired) {
		b.nextCode()
		if err := phone.app.Reauthenticate(ctx, password, b.code(secret)); err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
	phone.waitFor("approval on", func(s app.Snapshot) bool { return s.Settings != nil && s.Settings.ApproveNewDevices })
	fresh := b.device("New laptop")
	b.nextCode()
	if err := fresh.app.SignIn(ctx, "ana", password, false); err != nil {
		t.Fatal(err)
	}
	if err := fresh.app.SubmitSecondFactor(ctx, b.code(secret)); err != nil {
		t.Fatal(err)
	}
	wait := fresh.waitFor("waiting for approval", func(s app.Snapshot) bool { return s.Approval != nil })
	req := phone.waitFor("the request", func(s app.Snapshot) bool { return len(s.ApprovalRequests) > 0 }).ApprovalRequests[0]
	if err := phone.app.DecideApproval(ctx, req.ID, true, wait.Approval.Number); err != nil {
		t.Fatal(err)
	}
	fresh.waitFor("approved", func(s app.Snapshot) bool { return s.State == app.StateSignedIn })
	fresh.wantBound(b)
}

// TestClearAppDataMakesANewKey: "Clear app data" deletes the proof key
// (from the store and from memory): the next sign-in makes another, with
// another thumbprint.
func TestClearAppDataMakesANewKey(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	old := d.wantBound(b)
	if _, err := d.app.ClearAppData(ctx); err != nil {
		t.Fatal(err)
	}
	if k := d.storedProofKey(); k != nil {
		t.Fatal("the proof key survived clear app data")
	}
	if got := d.app.ProofKeyThumbprint(); got != "" {
		t.Fatalf("the app still holds key %s", got)
	}
	d.signIn("ana", true) // the same process: nothing is read back from before
	if fresh := d.wantBound(b); fresh == old {
		t.Fatal("the sign-in after clear app data used the old key")
	}
}

// TestRemoteEraseDeletesTheKey: a remote log out with erase deletes the
// proof key with the rest; one without erase keeps it, so the next
// sign-in is bound to the same key.
func TestRemoteEraseDeletesTheKey(t *testing.T) {
	for _, erase := range []bool{true, false} {
		t.Run(fmt.Sprintf("erase=%v", erase), func(t *testing.T) {
			b, laptop, phone, id := anaOnLaptopAndPhone(t)
			old := phone.wantBound(b)
			if err := laptop.app.RevokeDevice(ctx, id, erase); err != nil {
				t.Fatal(err)
			}
			phone.waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
			stored := phone.storedProofKey()
			switch {
			case erase && (stored != nil || phone.app.ProofKeyThumbprint() != ""):
				t.Fatal("the proof key survived the remote erase")
			case !erase && (stored == nil || stored.Thumbprint() != old || phone.app.ProofKeyThumbprint() != old):
				t.Fatal("a remote log out without erase lost the proof key")
			}
			phone.signIn("ana", false)
			if got := phone.wantBound(b); (got == old) == erase {
				t.Fatalf("key after signing in again: %s (was %s, erase %v)", got, old, erase)
			}
		})
	}
}

// proofStore is a secret store whose proof key item misbehaves.
type proofStore struct {
	*platform.Memory
	mu     *sync.Mutex
	getErr *error
}

func (s proofStore) Get(key string) (string, error) {
	s.mu.Lock()
	err := *s.getErr
	s.mu.Unlock()
	if key == app.SecretProofKey && err != nil {
		return "", err
	}
	return s.Memory.Get(key)
}

// requestLog counts the device's requests by "METHOD /path".
type requestLog struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *requestLog) recording(o *opening) {
	o.intercept(func(r *http.Request, _ []byte) (*http.Response, error) {
		l.mu.Lock()
		if l.n == nil {
			l.n = map[string]int{}
		}
		l.n[r.Method+" "+r.URL.Path]++
		l.mu.Unlock()
		return nil, nil
	})
}

func (l *requestLog) count(route string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[route]
}

// TestKeyLostAtStart: a remembered sign-in whose proof key is gone when
// the app starts (the keyring wiped, or the item damaged) is refused by
// the server; the app says so once and is signed out, without looping,
// and the next sign-in binds to a new key. A key that cannot be read
// (the keyring locked) is not replaced, and the saved sign-in is not even
// tried: the server would take it for a stolen token.
func TestKeyLostAtStart(t *testing.T) {
	locked := fmt.Errorf("%w: the keyring is locked", platform.ErrUnavailable)
	tests := []struct {
		name    string
		damage  func(store *platform.Memory) error
		getErr  error
		wantErr string
		tried   bool // the saved sign-in was sent to the server
	}{
		{name: "deleted", damage: func(s *platform.Memory) error { return s.Delete(app.SecretProofKey) },
			wantErr: "that key is gone", tried: true},
		{name: "damaged", damage: func(s *platform.Memory) error { return s.Set(app.SecretProofKey, "not a key") },
			wantErr: "that key is gone", tried: true},
		{name: "unreadable", getErr: locked, wantErr: "keyring is locked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			laptop := b.device("Laptop")
			laptop.signUp("ana", true)
			mem := platform.NewMemory()
			var mu sync.Mutex
			var getErr error
			store := proofStore{Memory: mem, mu: &mu, getErr: &getErr}
			withStore := func(o *opening) { o.Secrets = store }
			d := b.device("Phone", withStore)
			d.secrets = store
			d.signIn("ana", true)
			old := d.wantBound(b)
			stored, _ := mem.Get(app.SecretProofKey)
			d.close()
			if tc.damage != nil {
				if err := tc.damage(mem); err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			getErr = tc.getErr
			mu.Unlock()

			var log requestLog
			d.open(withStore, log.recording)
			s := d.snap()
			if s.State != app.StateSignedOut || !strings.Contains(s.Err, tc.wantErr) || s.Notice != nil {
				t.Fatalf("start: %v err %q notice %+v", s.State, s.Err, s.Notice)
			}
			if n := log.count("POST /v1/token/refresh"); (n == 1) != tc.tried || n > 1 {
				t.Fatalf("%d refreshes at start, tried %v", n, tc.tried)
			}
			time.Sleep(100 * time.Millisecond) // nothing more goes out
			if n := log.count("POST /v1/token/refresh"); n > 1 {
				t.Fatalf("%d refreshes: a loop", n)
			}
			if got := len(laptop.dpopRefusals()); got != map[bool]int{true: 1, false: 0}[tc.tried] {
				t.Fatalf("%d session.dpop_refused events", got)
			}
			if tc.getErr != nil {
				if v, _ := mem.Get(app.SecretProofKey); v != stored {
					t.Fatal("an unreadable proof key was overwritten")
				}
			}

			// Signing in again binds to the key the app now holds.
			d.signIn("ana", true)
			if got := d.app.ProofKeyThumbprint(); got == old && tc.getErr == nil {
				t.Fatal("the lost key came back")
			}
			mu.Lock()
			getErr = nil
			mu.Unlock()
			if tc.getErr == nil {
				d.wantBound(b)
			}
		})
	}
}

// TestKeyLostWhileSignedIn: a signed-in device whose key is refused
// (as if another key had replaced it) is signed out with the notice
// saying why (reason dpop), once.
func TestKeyLostWhileSignedIn(t *testing.T) {
	b := newBackend(t)
	d := b.device("Phone")
	d.signUp("ana", true)
	d.api.SetProofKey(mustKey(t)) // the key the session is bound to is gone
	// Refused (ErrDPoP), or signed out already by the app's own
	// background work, which found the same.
	if err := d.app.LoadDevices(ctx); !errors.Is(err, client.ErrDPoP) && !errors.Is(err, app.ErrNotSignedIn) {
		t.Fatalf("a call with another key: %v", err)
	}
	s := d.waitFor("signed out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if s.Notice == nil || s.Notice.Reason != api.ReasonDPoP || s.Notice.Username != "ana" {
		t.Fatalf("notice %+v", s.Notice)
	}
	d.wantNothingSaved("after its key was refused")
}

// TestRequireBoundServer: a server that takes device-bound sign-ins only
// (--require-bound) signs the app in as ever; a client without a key is
// refused with a message saying why, and nothing is signed in.
func TestRequireBoundServer(t *testing.T) {
	sb := servertest.Start(t, func(c *server.Config) { c.RequireBound = true })
	b := &backend{Backend: sb, t: t, clock: sb.Clock, url: sb.URL}
	d := b.device("Laptop")
	d.signUp("ana", false)
	d.wantBound(b)

	plain := b.client()
	_, err := plain.Login(ctx, api.LoginRequest{Username: "ana", Password: password,
		Device: api.Device{ID: "script", Name: "Script"}})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || !errors.Is(err, client.ErrInvalidProof) || ce.Message == "" {
		t.Fatalf("an unbound sign-in on a bound-only server: %v", err)
	}
	if err := d.app.LoadDevices(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(d.snap().Devices); n != 1 {
		t.Fatalf("%d sessions, want the laptop's only", n)
	}
}

// TestUnboundClientStillWorks: on a server without --require-bound, a
// client without a key (an older app, a script) signs in unbound and
// works with Bearer tokens, refresh included, beside bound devices.
func TestUnboundClientStillWorks(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", false)
	plain := b.client()
	l, err := plain.Login(ctx, api.LoginRequest{Username: "ana", Password: password,
		Device: api.Device{ID: "script", Name: "Script"}})
	if err != nil {
		t.Fatal(err)
	}
	if l.Session.Bound {
		t.Fatal("a sign-in without a proof is bound")
	}
	plain.SetTokens(l.Tokens())
	if _, err := plain.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	me, err := plain.Me(ctx)
	if err != nil || me.Session.Bound {
		t.Fatalf("unbound Me: %+v, %v", me.Session, err)
	}
	s := d.waitFor("the script listed", func(s app.Snapshot) bool { return len(s.Devices) == 2 })
	for _, dev := range s.Devices {
		if dev.Bound != (dev.Device.Name == "Laptop") {
			t.Fatalf("%s: bound %v", dev.Device.Name, dev.Bound)
		}
	}
}

// TestProofKeyInRealStores: the proof key lives in the platform's
// secret store — the OS keyring (gnome-keyring under
// scripts/with-keyring.sh) on desktops, the app's private file store on
// phones —, survives a restart there (the remembered session resumes,
// bound to the same thumbprint), and "clear app data" deletes it.
func TestProofKeyInRealStores(t *testing.T) {
	for _, tc := range realSecretStores {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			prefs, dir := platform.NewMemoryPrefs(), t.TempDir()
			store, err := tc.open(t, dir, prefs)
			if err != nil {
				t.Fatalf("secret store: %v", err)
			}
			d := &device{t: t, clock: b.clock, name: "Desktop", secrets: store, prefs: prefs, url: b.url}
			d.open()
			d.signUp("ana", true)
			key := d.wantBound(b)
			if tc.osKey {
				v, err := keyring.Get(platform.KeyringService, app.SecretProofKey)
				if err != nil {
					t.Fatalf("proof key in the OS keyring: %v", err)
				}
				if k, err := dpop.ParseKey(v); err != nil || k.Thumbprint() != key {
					t.Fatalf("the OS keyring's proof key: %v, %v", k, err)
				}
			}

			// A restart reads the same store afresh, and the remembered
			// session resumes with the key.
			d.close()
			if d.secrets, err = tc.open(t, dir, prefs); err != nil {
				t.Fatal(err)
			}
			d.open()
			d.waitFor("resumed and live", func(s app.Snapshot) bool { return s.State == app.StateSignedIn && s.Live })
			if got := d.wantBound(b); got != key {
				t.Fatalf("after a restart bound to %s, want %s", got, key)
			}

			if _, err := d.app.ClearAppData(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := d.secrets.Get(app.SecretProofKey); !errors.Is(err, platform.ErrNotFound) {
				t.Fatalf("proof key after clear app data: %v", err)
			}
			if tc.osKey {
				if _, err := keyring.Get(platform.KeyringService, app.SecretProofKey); !errors.Is(err, keyring.ErrNotFound) {
					t.Fatalf("proof key in the OS keyring after clear app data: %v", err)
				}
			}
		})
	}
}

// TestAccountsShareTheInstallKey: one proof key per install: accounts on
// two servers are bound to the same key, and both resume after a
// restart. When the key is gone at a restart, the cores starting side by
// side make one new key between them (not one each, the last stored
// over the other's), and both accounts leave with the reason.
func TestAccountsShareTheInstallKey(t *testing.T) {
	a, b := newBackend(t), newBackend(t)
	phone := newInstall(t, "Ana's Pixel", nil)
	phone.open(a.url)
	ana := phone.signUp("ana", true)
	phone.add(b.url)
	bob := phone.signUp("bob", true)
	jkt := func(be *backend, e app.AccountEntry) string {
		t.Helper()
		page, err := be.DB.ListSessions(ctx, e.Account.ID, "", be.clock.Now(), nil, 10)
		if err != nil || len(page) != 1 {
			t.Fatalf("sessions of %s: %v, %v", e.Account.Username, page, err)
		}
		return page[0].JKT
	}
	v, err := phone.secrets.Get(app.SecretProofKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := dpop.ParseKey(v)
	if err != nil {
		t.Fatal(err)
	}
	if ja, jb := jkt(a, ana), jkt(b, bob); ja != key.Thumbprint() || jb != key.Thumbprint() {
		t.Fatalf("bound to %q and %q, the install's key is %s", ja, jb, key.Thumbprint())
	}
	phone.close()
	phone.open(a.url)
	phone.waitFor("both back", func(s app.AccountsSnapshot) bool {
		return len(s.Accounts) == 2 && !s.Accounts[0].Starting && !s.Accounts[1].Starting
	})

	// The key gone: each core's refresh at start carries a proof; all by
	// the one new key, which is the one stored.
	phone.close()
	if err := phone.secrets.Delete(app.SecretProofKey); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	used := map[string]bool{}
	phone.seen = func(r *http.Request) {
		if r.URL.Path != "/v1/token/refresh" {
			return
		}
		c, err := dpop.Check(r.Header.Get(dpop.Header), dpop.Request{Method: r.Method, Host: r.URL.Host, Path: r.URL.EscapedPath()}, time.Now())
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			used["error: "+err.Error()] = true
			return
		}
		used[c.JKT] = true
	}
	phone.open(a.url)
	// Both leave with the reason: one in a notice, the one shown last on
	// its own sign-in screen.
	s := phone.waitFor("both gone", func(s app.AccountsSnapshot) bool { return len(s.Accounts) == 0 && len(s.Notices) == 1 })
	said := []string{s.Notices[0].Message, phone.core().Snapshot().Err}
	for _, msg := range said {
		if !strings.Contains(msg, "that key is gone") {
			t.Fatalf("what the person reads: %q", said)
		}
	}
	v, err = phone.secrets.Get(app.SecretProofKey)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := dpop.ParseKey(v)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(used) != 1 || !used[fresh.Thumbprint()] || fresh.Thumbprint() == key.Thumbprint() {
		t.Fatalf("refreshes at start by %v; stored key %s (old %s)", used, fresh.Thumbprint(), key.Thumbprint())
	}
}
