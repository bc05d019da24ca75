package launch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
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

func TestUseRemoteServer(t *testing.T) {
	ctx := context.Background()
	// A server that is not sessiond is refused with a clear error.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	defer other.Close()
	l, prefs := newLauncher(t, "")
	if _, err := l.Use(ctx, other.URL); err == nil {
		t.Fatal("a non-sessiond server was accepted")
	}
	if prefs.String(PrefServer) != "" {
		t.Fatal("a refused server was remembered")
	}
	// Plain http to a non-loopback host is refused before any request.
	if _, err := l.Use(ctx, "http://sessions.example.com"); !errors.Is(err, client.ErrInsecureServer) {
		t.Fatalf("insecure server: %v", err)
	}
	// A real sessiond (the embedded one, reached by URL as a remote would be).
	if _, err := l.Use(ctx, ""); err != nil {
		t.Fatal(err)
	}
	url := l.URL()
	remote, _ := newLauncher(t, url)
	if remote.Saved() != url {
		t.Fatalf("override: saved %q", remote.Saved())
	}
	if _, err := remote.Use(ctx, url); err != nil {
		t.Fatal(err)
	}
	if remote.Embedded() || remote.URL() != url {
		t.Fatalf("remote: embedded %v url %q", remote.Embedded(), remote.URL())
	}
	if _, _, err := remote.SeedDemo(ctx); err == nil {
		t.Fatal("demo seeded on a remote server")
	}
}

func TestNoDataDir(t *testing.T) {
	if _, err := New(Config{Prefs: platform.NewMemoryPrefs()}); err == nil {
		t.Fatal("no data dir accepted")
	}
}
