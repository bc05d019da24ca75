package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
)

// install is one app install running several accounts (app.Accounts):
// one secret store, one set of preferences, one cache, and a core per
// account on whichever server it is.
type install struct {
	t       *testing.T
	name    string
	secrets app.SecretStore
	prefs   *platform.MemoryPrefs
	cache   string
	m       *app.Accounts
	clients []*client.Client
	// seen, when set, sees every request of every core on its way out.
	seen func(*http.Request)
}

// seeing is a transport that shows each request to seen first.
type seeing struct {
	seen func(*http.Request)
	rt   http.RoundTripper
}

func (s seeing) RoundTrip(r *http.Request) (*http.Response, error) {
	s.seen(r)
	return s.rt.RoundTrip(r)
}

func newInstall(t *testing.T, name string, secrets app.SecretStore) *install {
	t.Helper()
	if secrets == nil {
		secrets = platform.NewMemory()
	}
	in := &install{t: t, name: name, secrets: secrets, prefs: platform.NewMemoryPrefs(), cache: filepath.Join(t.TempDir(), "cache")}
	if err := platform.SetDeviceName(in.prefs, name); err != nil {
		t.Fatal(err)
	}
	return in
}

// open starts (or restarts) the app on the install's stored data; server
// is where a first account is added.
func (in *install) open(server string) {
	in.t.Helper()
	in.m = app.NewAccounts(app.AccountsConfig{
		Open: func(srv, slot string) (*app.App, error) {
			var rt http.RoundTripper = &http.Transport{}
			if in.seen != nil {
				rt = seeing{seen: in.seen, rt: rt}
			}
			c, err := client.New(srv, client.WithHTTPClient(&http.Client{Transport: rt}))
			if err != nil {
				return nil, err
			}
			in.clients = append(in.clients, c)
			cache := in.cache
			if slot != "" {
				cache = filepath.Join(cache, slot)
			}
			return app.New(app.Config{API: c, Secrets: in.secrets, Prefs: in.prefs, CacheDir: cache,
				IsNotFound:    func(err error) bool { return errors.Is(err, platform.ErrNotFound) },
				ClearPrefKeys: []string{platform.PrefInstallID, platform.PrefDeviceName},
				Device:        func() api.Device { return platform.DescribeDevice(in.prefs, "1.0.0-test") },
				Server:        srv, Slot: slot}), nil
		},
		Prefs: in.prefs, Secrets: in.secrets, Server: server, CacheDir: in.cache,
	})
	if err := in.m.Load(); err != nil {
		in.t.Fatal(err)
	}
	if err := in.m.Start(ctx); err != nil && !errors.Is(err, client.ErrOffline) {
		in.t.Logf("start: %v", err)
	}
	in.t.Cleanup(in.close)
}

// close quits the app as a person would.
func (in *install) close() {
	if in.m == nil {
		return
	}
	in.m.Close(context.Background())
	for _, c := range in.clients {
		c.CloseIdleConnections()
	}
	in.m, in.clients = nil, nil
}

// core is the core on screen.
func (in *install) core() *app.App { return in.m.Current() }

// waitFor polls the switcher until cond holds.
func (in *install) waitFor(what string, cond func(app.AccountsSnapshot) bool) app.AccountsSnapshot {
	in.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := in.m.Snapshot()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("%s: timed out waiting for %s; accounts %+v", in.name, what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signUp makes an account on the sign-in screen's server and waits until
// it is in the switcher, shown and live.
func (in *install) signUp(user string, remember bool) app.AccountEntry {
	in.t.Helper()
	if err := in.core().SignUp(ctx, user, password, password, remember); err != nil {
		in.t.Fatalf("%s: sign up %s: %v", in.name, user, err)
	}
	return in.shown(user)
}

// shown waits until user's account is the one shown, signed in and live.
func (in *install) shown(user string) app.AccountEntry {
	in.t.Helper()
	s := in.waitFor(user+" shown and live", func(s app.AccountsSnapshot) bool {
		e, ok := s.Active()
		return ok && e.Account.Username == user && e.Live
	})
	e, _ := s.Active()
	return e
}

// add opens the sign-in screen for one more account on server.
func (in *install) add(server string) {
	in.t.Helper()
	if err := in.m.Add(); err != nil {
		in.t.Fatal(err)
	}
	if _, err := in.m.UseServer(ctx, server); err != nil {
		in.t.Fatal(err)
	}
}

func usernames(s app.AccountsSnapshot) []string {
	var out []string
	for _, e := range s.Accounts {
		out = append(out, e.Account.Username)
	}
	return out
}

// tokenKeys lists the install's token items (not its install key, nor
// its proof key).
func (in *install) tokenKeys() []string {
	in.t.Helper()
	keys, err := in.secrets.Keys()
	if err != nil {
		in.t.Fatal(err)
	}
	keys = slices.DeleteFunc(keys, installItem)
	slices.Sort(keys)
	return keys
}

// TestAccountsOnTwoServers: two accounts on two servers side by side,
// switched without waiting, each guarded in the background, and back
// after a restart.
func TestAccountsOnTwoServers(t *testing.T) {
	a, b := newBackend(t), newBackend(t)
	phone := newInstall(t, "Ana's Pixel", nil)
	phone.open(a.url)
	ana := phone.signUp("ana", true)
	phone.add(b.url)
	if s := phone.m.Snapshot(); !s.Adding || len(s.Accounts) != 1 {
		t.Fatalf("adding: %+v", s)
	}
	bob := phone.signUp("bob", true)
	if ana.Server != a.url || bob.Server != b.url {
		t.Fatalf("servers: ana %q, bob %q", ana.Server, bob.Server)
	}
	if got := usernames(phone.m.Snapshot()); !slices.Equal(got, []string{"ana", "bob"}) {
		t.Fatalf("switcher %v", got)
	}
	// One keyring item per server + account.
	want := []string{"refresh:" + ana.Account.ID + "@" + a.url, "refresh:" + bob.Account.ID + "@" + b.url}
	slices.Sort(want)
	if got := phone.tokenKeys(); !slices.Equal(got, want) {
		t.Fatalf("keyring items %v, want %v", got, want)
	}

	// Switching is instant: ana's core is signed in with her list already.
	if err := phone.m.Switch(ana.Slot); err != nil {
		t.Fatal(err)
	}
	if s := phone.core().Snapshot(); s.State != app.StateSignedIn || s.Account.Username != "ana" || len(s.Devices) == 0 {
		t.Fatalf("after switching to ana: %v %+v, %d devices", s.State, s.Account, len(s.Devices))
	}

	// bob is in the background: a new sign-in to his account shows as an
	// alert on his entry, not on ana's screen.
	laptop := b.device("Bob's laptop")
	laptop.signIn("bob", false)
	s := phone.waitFor("an alert on bob", func(s app.AccountsSnapshot) bool {
		return len(s.Accounts) == 2 && s.Accounts[1].Alerts == 1
	})
	if al := s.Accounts[1].LastAlert; al == nil || al.Session.Device.Name != "Bob's laptop" {
		t.Fatalf("bob's alert %+v", al)
	}
	if s.Accounts[0].Alerts != 0 || phone.core().Snapshot().Alert != nil {
		t.Fatalf("ana was alerted for bob's sign-in: %+v", s.Accounts[0])
	}

	// Restart: both accounts come back, ana shown as before.
	phone.close()
	phone.open(a.url)
	phone.waitFor("both accounts back", func(s app.AccountsSnapshot) bool {
		return len(s.Accounts) == 2 && !s.Accounts[0].Starting && !s.Accounts[1].Starting
	})
	phone.shown("ana")

	// bob logs the phone out from his laptop: bob leaves the switcher and
	// the person is told which account, by which device.
	var phoneSession string
	for _, d := range laptop.waitFor("the phone in bob's list", func(s app.Snapshot) bool {
		return len(s.Devices) == 2
	}).Devices {
		if !d.Current {
			phoneSession = d.ID
		}
	}
	if err := laptop.app.RevokeDevice(ctx, phoneSession, false); err != nil {
		t.Fatal(err)
	}
	s = phone.waitFor("bob gone", func(s app.AccountsSnapshot) bool { return len(s.Accounts) == 1 })
	if len(s.Notices) != 1 || s.Notices[0].Username != "bob" || s.Notices[0].Logout == nil ||
		s.Notices[0].Logout.ByDeviceName != "Bob's laptop" || s.Notices[0].Server != b.url {
		t.Fatalf("notice %+v", s.Notices)
	}
	if e, _ := s.Active(); e.Account.Username != "ana" || phone.core().Snapshot().State != app.StateSignedIn {
		t.Fatalf("ana not shown after bob left: %+v", s)
	}
	if got := phone.tokenKeys(); len(got) != 1 || !strings.HasPrefix(got[0], "refresh:"+ana.Account.ID) {
		t.Fatalf("bob's token left in the keyring: %v", got)
	}
}

// TestLogOutOfAllAccounts: "Log out of all accounts" with "Remember login
// info" leaves one "Continue as" per account, each on its own server.
func TestLogOutOfAllAccounts(t *testing.T) {
	a, b := newBackend(t), newBackend(t)
	phone := newInstall(t, "Ana's Pixel", nil)
	phone.open(a.url)
	ana := phone.signUp("ana", true)
	phone.add(b.url)
	bob := phone.signUp("bob", false)

	out := phone.m.LogOutAll(ctx, map[string]bool{ana.Account.ID: true, bob.Account.ID: true})
	if len(out) != 2 {
		t.Fatalf("outcomes %+v", out)
	}
	for _, o := range out {
		if !o.Remembered || o.Problem != "" {
			t.Errorf("%s: %+v", o.Username, o)
		}
	}
	s := phone.m.Snapshot()
	if len(s.Accounts) != 0 || len(s.LastLogoutAll) != 2 {
		t.Fatalf("after log out of all: %+v", s)
	}
	snap := phone.core().Snapshot()
	if snap.State != app.StateSignedOut || len(snap.SavedAccounts) != 2 {
		t.Fatalf("sign-in screen: %v, saved %+v", snap.State, snap.SavedAccounts)
	}
	servers := map[string]string{}
	for _, sa := range snap.SavedAccounts {
		servers[sa.Username] = sa.Server
	}
	if servers["ana"] != a.url || servers["bob"] != b.url {
		t.Fatalf("saved accounts' servers %v", servers)
	}
	want := []string{"remembered:" + ana.Account.ID + "@" + a.url, "remembered:" + bob.Account.ID + "@" + b.url}
	slices.Sort(want)
	if got := phone.tokenKeys(); !slices.Equal(got, want) {
		t.Fatalf("keyring after log out of all: %v, want %v", got, want)
	}
	// Both sessions ended on their servers.
	a.wantNoSessions(ana.Account.ID)
	b.wantNoSessions(bob.Account.ID)
	// One tap on bob's entry signs bob in on his own server, though the
	// sign-in screen was on ana's.
	var bobSaved app.SavedAccount
	for _, sa := range snap.SavedAccounts {
		if sa.Username == "bob" {
			bobSaved = sa
		}
	}
	if err := phone.m.ContinueAs(ctx, bobSaved, false); err != nil {
		t.Fatal(err)
	}
	if e := phone.shown("bob"); e.Server != b.url {
		t.Fatalf("bob back on %q", e.Server)
	}
}

// TestLogOutOfAllAccountsServerDown: one server does not answer; the
// other account is logged out there, and nothing of either is left here.
func TestLogOutOfAllAccountsServerDown(t *testing.T) {
	a, b := newBackend(t), newBackend(t)
	phone := newInstall(t, "Ana's Pixel", nil)
	phone.open(a.url)
	ana := phone.signUp("ana", true)
	phone.add(b.url)
	phone.signUp("bob", true)
	b.stop()

	out := phone.m.LogOutAll(ctx, nil)
	byName := map[string]app.LogoutOutcome{}
	for _, o := range out {
		byName[o.Username] = o
	}
	if o := byName["ana"]; o.Problem != "" || o.Remembered {
		t.Errorf("ana: %+v", o)
	}
	if o := byName["bob"]; !strings.Contains(o.Problem, "server could not be told") {
		t.Errorf("bob: %+v", o)
	}
	if got := phone.tokenKeys(); len(got) != 0 {
		t.Fatalf("tokens left after log out of all: %v", got)
	}
	if s := phone.m.Snapshot(); len(s.Accounts) != 0 {
		t.Fatalf("accounts left: %+v", s.Accounts)
	}
	a.wantNoSessions(ana.Account.ID)
}

// TestAccountsRefused: the same account twice, and an eleventh account.
func TestAccountsRefused(t *testing.T) {
	a := newBackend(t)
	phone := newInstall(t, "Ana's Pixel", nil)
	phone.open(a.url)
	phone.signUp("ana", false)
	phone.add(a.url)
	err := phone.core().SignIn(ctx, "ANA", password, false)
	var fe *app.FieldError
	if !errors.As(err, &fe) || fe.Field != "username" || !strings.Contains(fe.Message, "already logged in as ana") {
		t.Fatalf("ana twice: %v", err)
	}
	if s := phone.core().Snapshot(); !strings.Contains(s.FieldErrors["username"], "already logged in") {
		t.Fatalf("the sign-in screen does not say so: %v", s.FieldErrors)
	}
	for i := 2; i <= app.MaxAccounts; i++ {
		phone.signUp(fmt.Sprintf("user%02d", i), false)
		if i < app.MaxAccounts {
			phone.add(a.url)
		}
	}
	if s := phone.m.Snapshot(); len(s.Accounts) != app.MaxAccounts || s.CanAdd() {
		t.Fatalf("%d accounts, can add %v", len(s.Accounts), s.CanAdd())
	}
	if err := phone.m.Add(); !errors.Is(err, app.ErrTooManyAccounts) {
		t.Fatalf("an eleventh: %v", err)
	}
}

// TestAccountsSavedSignInRefused: an account whose server no longer takes
// its stored token drops out at start, and says why.
func TestAccountsSavedSignInRefused(t *testing.T) {
	a, b := newBackend(t), newBackend(t)
	phone := newInstall(t, "Ana's Pixel", nil)
	phone.open(a.url)
	phone.signUp("ana", true)
	phone.add(b.url)
	bob := phone.signUp("bob", true)
	phone.close()
	// The stored token is damaged (or the server was restored from a
	// backup without it): the server refuses it.
	if err := phone.secrets.Set("refresh:"+bob.Account.ID+"@"+b.url, "sgr_"+strings.Repeat("x", 43)); err != nil {
		t.Fatal(err)
	}
	phone.open(a.url)
	s := phone.waitFor("bob dropped", func(s app.AccountsSnapshot) bool {
		return len(s.Accounts) == 1 && len(s.Notices) == 1
	})
	if n := s.Notices[0]; n.Username != "bob" || !strings.Contains(n.Message, "no longer valid") {
		t.Fatalf("notice %+v", n)
	}
	phone.shown("ana")
}

// TestAccountsClearAppData: Clear app data ends every account's session
// on its own server and leaves nothing here.
func TestAccountsClearAppData(t *testing.T) {
	a, b := newBackend(t), newBackend(t)
	phone := newInstall(t, "Ana's Pixel", nil)
	phone.open(a.url)
	ana := phone.signUp("ana", true)
	phone.add(b.url)
	bob := phone.signUp("bob", true)
	rep, err := phone.m.ClearAppData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SessionsEnded != 2 || len(rep.NotEnded) != 0 {
		t.Fatalf("report %+v", rep)
	}
	if keys, _ := phone.secrets.Keys(); len(keys) != 0 {
		t.Fatalf("keyring after clear app data: %v", keys)
	}
	for _, k := range []string{app.PrefAccounts, app.PrefActiveSlot, app.PrefSavedAccounts} {
		if v := phone.prefs.String(k); v != "" {
			t.Errorf("%s = %q after clear app data", k, v)
		}
	}
	if _, err := os.Stat(phone.cache); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cache left: %v", err)
	}
	a.wantNoSessions(ana.Account.ID)
	b.wantNoSessions(bob.Account.ID)
	if s := phone.m.Snapshot(); len(s.Accounts) != 0 || phone.core().Snapshot().State != app.StateSignedOut {
		t.Fatalf("after clear app data: %+v, %v", s, phone.core().Snapshot().State)
	}
}

// TestAccountsMigrateOneAccount: an install from before several accounts
// (one remembered sign-in, one saved login, unscoped items) comes back
// signed in, with its "Continue as" entry working.
func TestAccountsMigrateOneAccount(t *testing.T) {
	a := newBackend(t)
	old := a.device("Ana's Pixel")
	old.signUp("cleo", false)
	cleo, _ := old.saveLogin() // remembered:<id>, unscoped
	old.signUp("ana", true)    // refresh:<id>, unscoped; PrefResumeAccount
	old.close()
	in := &install{t: t, name: "Ana's Pixel", secrets: old.secrets, prefs: old.prefs, cache: old.cache}
	in.open(a.url)
	in.shown("ana")
	saved := in.core().Snapshot().SavedAccounts
	if len(saved) != 1 || saved[0].Server != a.url {
		t.Fatalf("saved accounts %+v", saved)
	}
	if err := in.m.Add(); err != nil {
		t.Fatal(err)
	}
	if err := in.m.ContinueAs(ctx, saved[0], false); err != nil {
		t.Fatal(err)
	}
	in.shown(cleo.Username)
}

// TestAccountsRealKeyring: one item per account in the OS keyring
// (gnome-keyring under scripts/with-keyring.sh), all gone after "Log out
// of all accounts" without remembering, and after Clear app data.
func TestAccountsRealKeyring(t *testing.T) {
	if os.Getenv("SESSIONGUARD_KEYRING_TEST") != "1" {
		t.Skip("needs a Secret Service: run under scripts/with-keyring.sh (make test does)")
	}
	a, b := newBackend(t), newBackend(t)
	prefs := platform.NewMemoryPrefs()
	store, err := platform.OpenSecretStore(t.TempDir(), prefs)
	if err != nil {
		t.Fatalf("keyring unavailable under with-keyring.sh: %v", err)
	}
	phone := newInstall(t, "Ana's Pixel", store)
	phone.prefs = prefs
	if err := platform.SetDeviceName(prefs, "Ana's Pixel"); err != nil {
		t.Fatal(err)
	}
	phone.open(a.url)
	ana := phone.signUp("ana", true)
	phone.add(b.url)
	bob := phone.signUp("bob", true)
	items := []string{"refresh:" + ana.Account.ID + "@" + a.url, "refresh:" + bob.Account.ID + "@" + b.url}
	for _, k := range items {
		if tok, err := keyring.Get(platform.KeyringService, k); err != nil || !strings.HasPrefix(tok, "sgr_") {
			t.Fatalf("%s in the OS keyring: %q, %v", k, tok, err)
		}
	}
	gone := func(when string) {
		t.Helper()
		for _, k := range items {
			if _, err := keyring.Get(platform.KeyringService, k); !errors.Is(err, keyring.ErrNotFound) {
				t.Errorf("%s: %s still in the OS keyring: %v", when, k, err)
			}
		}
	}
	phone.m.LogOutAll(ctx, nil)
	gone("after log out of all accounts")

	if _, err := phone.m.UseServer(ctx, a.url); err != nil {
		t.Fatal(err)
	}
	if err := phone.core().SignIn(ctx, "ana", password, true); err != nil {
		t.Fatal(err)
	}
	phone.shown("ana")
	phone.add(b.url)
	if err := phone.core().SignIn(ctx, "bob", password, true); err != nil {
		t.Fatal(err)
	}
	phone.shown("bob")
	if _, err := phone.m.ClearAppData(ctx); err != nil {
		t.Fatal(err)
	}
	gone("after clear app data")
	if keys, _ := store.Keys(); len(keys) != 0 {
		t.Fatalf("keyring items left after clear app data: %v", keys)
	}
}

// wantNoSessions checks, in the server's database, that the account has
// no live session left.
func (b *backend) wantNoSessions(accountID string) {
	b.t.Helper()
	list, err := b.DB.ListSessions(ctx, accountID, "", b.clock.Now(), nil, 10)
	if err != nil {
		b.t.Fatal(err)
	}
	if len(list) != 0 {
		b.t.Errorf("%s: %d live sessions of %s", b.url, len(list), accountID)
	}
}

// TestAccountsRemoveSavedOnAnotherServer: a "Continue as" entry of
// another server than the sign-in screen's is removed here and forgotten
// by its own server.
func TestAccountsRemoveSavedOnAnotherServer(t *testing.T) {
	a, b := newBackend(t), newBackend(t)
	phone := newInstall(t, "Ana's Pixel", nil)
	phone.open(a.url)
	ana := phone.signUp("ana", false)
	phone.add(b.url)
	bob := phone.signUp("bob", false)
	phone.m.LogOutAll(ctx, map[string]bool{ana.Account.ID: true, bob.Account.ID: true})
	if _, err := phone.m.UseServer(ctx, a.url); err != nil {
		t.Fatal(err)
	}
	var bobSaved app.SavedAccount
	for _, sa := range phone.core().Snapshot().SavedAccounts {
		if sa.Username == "bob" {
			bobSaved = sa
		}
	}
	cred, err := phone.secrets.Get("remembered:" + bob.Account.ID + "@" + b.url)
	if err != nil {
		t.Fatal(err)
	}
	if err := phone.m.RemoveSaved(ctx, bobSaved); err != nil {
		t.Fatal(err)
	}
	if saved := phone.core().Snapshot().SavedAccounts; len(saved) != 1 || saved[0].Username != "ana" {
		t.Fatalf("saved accounts on the sign-in screen: %+v", saved)
	}
	if got := phone.tokenKeys(); len(got) != 1 || !strings.HasPrefix(got[0], "remembered:"+ana.Account.ID) {
		t.Fatalf("keyring: %v", got)
	}
	// bob's server forgot the credential: it no longer signs in.
	if _, err := b.client().LoginRemembered(ctx, api.RememberedLoginRequest{Credential: cred,
		Device: platform.DescribeDevice(platform.NewMemoryPrefs(), "1.0")}); !errors.Is(err, client.ErrInvalidCredentials) && !errors.Is(err, client.ErrInvalidToken) {
		t.Fatalf("the forgotten credential: %v", err)
	}
}
