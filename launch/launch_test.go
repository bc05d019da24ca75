package launch

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
	"sessionguard/server/servertest"
)

func newLauncher(t *testing.T, server string) (*Launcher, *platform.MemoryPrefs) {
	t.Helper()
	prefs := platform.NewMemoryPrefs()
	l, err := New(Config{DataDir: t.TempDir(), Prefs: prefs, Server: server, Version: Version, Secrets: platform.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background(), true) })
	return l, prefs
}

func TestEmbeddedServerAndDemo(t *testing.T) {
	ctx := context.Background()
	l, prefs := newLauncher(t, "")
	if !l.FirstRun() || l.Saved() != localServer {
		t.Fatalf("fresh launcher: first run %v, saved %q", l.FirstRun(), l.Saved())
	}
	core, err := l.Use(ctx, l.Saved())
	if err != nil {
		t.Fatal(err)
	}
	if !l.Embedded() || l.FirstRun() || prefs.String(PrefServer) != localServer {
		t.Fatalf("after Use: embedded %v, first run %v, pref %q", l.Embedded(), l.FirstRun(), prefs.String(PrefServer))
	}
	user, pass, err := l.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := core.SignIn(ctx, user, pass, false); err != nil {
		t.Fatal(err)
	}
	if err := core.LoadDevices(ctx); err != nil {
		t.Fatal(err)
	}
	s := core.Snapshot()
	if s.State != app.StateSignedIn || len(s.Devices) != 6 || s.Devices[0].Device.AppVersion != Version {
		t.Fatalf("demo: %v, %d devices, first %+v", s.State, len(s.Devices), s.Devices[0].Device)
	}
	// Seeding twice is harmless.
	if _, _, err := l.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestChooseChecksTheServer(t *testing.T) {
	ctx := context.Background()
	l, prefs := newLauncher(t, "")
	notSessiond := httptest.NewServer(http.NotFoundHandler())
	defer notSessiond.Close()
	nothing := httptest.NewServer(http.NotFoundHandler())
	nothingURL := nothing.URL
	nothing.Close() // nothing listens there any more
	for _, tc := range []struct {
		name, address string
		want          error
		suggestion    string
	}{
		{"answers 404", notSessiond.URL, client.ErrNotSessiond, ""},
		{"nothing listens", nothingURL, client.ErrOffline, ""},
		{"plain http elsewhere", "http://sessions.example.com", client.ErrInsecureServer, "https://sessions.example.com"},
		{"bare host name", "sessions.example.com", client.ErrInvalidURL, "https://sessions.example.com"},
		{"bare host and port", "sessions.example.com:8443", client.ErrInvalidURL, "https://sessions.example.com:8443"},
		{"not an address", "ftp://x", client.ErrInvalidURL, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, err := l.Choose(ctx, tc.address)
			if !errors.Is(err, tc.want) || core != nil {
				t.Fatalf("Choose(%q) = %v, %v; want %v", tc.address, core, err, tc.want)
			}
			got := ""
			if ae, ok := errors.AsType[*client.AddressError](err); ok {
				got = ae.Suggestion
			}
			if got != tc.suggestion {
				t.Fatalf("suggestion for %q: %q, want %q", tc.address, got, tc.suggestion)
			}
			if app.DescribeServerCheck(tc.address, err) == "" {
				t.Fatalf("no words for %v", err)
			}
			if prefs.String(PrefServer) != "" {
				t.Fatal("a refused server was remembered")
			}
		})
	}
	// A real sessiond (the embedded one, reached by URL as a remote would be).
	if _, err := l.Use(ctx, ""); err != nil {
		t.Fatal(err)
	}
	url := l.URL()
	remote, rprefs := newLauncher(t, url)
	if remote.Saved() != url {
		t.Fatalf("override: saved %q", remote.Saved())
	}
	if _, err := remote.Choose(ctx, url+"/"); err != nil {
		t.Fatal(err)
	}
	if remote.Embedded() || remote.URL() != url || rprefs.String(PrefServer) != url {
		t.Fatalf("remote: embedded %v url %q pref %q", remote.Embedded(), remote.URL(), rprefs.String(PrefServer))
	}
	if _, _, err := remote.SeedDemo(ctx); err == nil {
		t.Fatal("demo seeded on a remote server")
	}
	// The saved server is used as it is at start, even when it does not
	// answer: the app shows it offline.
	if _, err := remote.Use(ctx, nothingURL); err != nil {
		t.Fatalf("Use of a silent saved server: %v", err)
	}
}

// TestClearAppDataDeletesLocalAccounts: with this device's own server,
// "clear app data" deletes its database and key, so the account no
// longer exists; the next start on this device is a new, empty server.
func TestClearAppDataDeletesLocalAccounts(t *testing.T) {
	ctx := context.Background()
	l, prefs := newLauncher(t, "")
	core, err := l.Choose(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := core.SignUp(ctx, "ana", "violet-harbor-lantern", "violet-harbor-lantern", true); err != nil {
		t.Fatal(err)
	}
	if !l.HasLocalAccounts() {
		t.Fatal("no local database after signing up")
	}
	rep, err := core.ClearAppData(ctx)
	if err != nil || !rep.LocalAccountsDeleted || rep.SessionsEnded != 1 {
		t.Fatalf("ClearAppData = %+v, %v", rep, err)
	}
	for _, f := range l.localFiles() {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind: %v", filepath.Base(f), err)
		}
	}
	if !l.FirstRun() || prefs.String(PrefServer) != "" {
		t.Fatal("not back to the first run")
	}
	core, err = l.Choose(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := core.SignIn(ctx, "ana", "violet-harbor-lantern", false); !errors.Is(err, client.ErrInvalidCredentials) {
		t.Fatalf("the old account signs in after clearing app data: %v", err)
	}
	// Deleting again, with nothing there, is no error.
	if deleted, err := l.DeleteLocalAccounts(); err != nil || !deleted {
		// the new, empty server made a database again
		t.Fatalf("second delete = %v, %v", deleted, err)
	}
	if deleted, err := l.DeleteLocalAccounts(); err != nil || deleted {
		t.Fatalf("delete with nothing left = %v, %v", deleted, err)
	}
}

func TestNoDataDir(t *testing.T) {
	if _, err := New(Config{Prefs: platform.NewMemoryPrefs()}); err == nil {
		t.Fatal("no data dir accepted")
	}
}

// TestAccountsMixEmbeddedAndRemote: an account on this device's own
// server and one on a remote sessiond, side by side from one launcher;
// both come back after a restart, and Clear app data ends the remote one
// on its server and deletes the embedded one with its database.
func TestAccountsMixEmbeddedAndRemote(t *testing.T) {
	ctx := context.Background()
	remote := servertest.Start(t)
	dir, prefs, secrets := t.TempDir(), platform.NewMemoryPrefs(), platform.NewMemory()
	open := func() (*Launcher, *app.Accounts) {
		l, err := New(Config{DataDir: dir, Prefs: prefs, Version: Version, Secrets: secrets})
		if err != nil {
			t.Fatal(err)
		}
		m := l.OpenAccounts()
		if err := m.Load(); err != nil {
			t.Fatal(err)
		}
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return l, m
	}
	waitShown := func(m *app.Accounts, user string) app.AccountEntry {
		t.Helper()
		for range 1000 {
			if e, ok := m.Snapshot().Active(); ok && e.Account.Username == user && !e.Starting {
				return e
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s never shown: %+v", user, m.Snapshot())
		return app.AccountEntry{}
	}
	const pass = "violet-harbor-lantern"
	l, m := open()
	if err := m.Current().SignUp(ctx, "ana", pass, pass, true); err != nil {
		t.Fatal(err)
	}
	if e := waitShown(m, "ana"); e.Server != app.ServerLocal {
		t.Fatalf("ana on %q, want this device's server", e.Server)
	}
	if err := m.Add(); err != nil {
		t.Fatal(err)
	}
	url, err := l.Check(ctx, remote.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.UseServer(ctx, url); err != nil {
		t.Fatal(err)
	}
	if err := m.Current().SignUp(ctx, "bob", pass, pass, true); err != nil {
		t.Fatal(err)
	}
	waitShown(m, "bob")
	m.Close(ctx)
	l.Close(ctx, true)

	l, m = open()
	defer l.Close(ctx, true)
	defer m.Close(ctx)
	waitShown(m, "bob")
	if got := m.Snapshot().Accounts; len(got) != 2 || got[0].Account.Username != "ana" {
		t.Fatalf("after a restart: %+v", got)
	}
	rep, err := m.ClearAppData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SessionsEnded != 2 || !rep.LocalAccountsDeleted {
		t.Fatalf("clear app data: %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(dir, "sessiond.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("this device's database left: %v", err)
	}
}
