package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
	"sessionguard/server/servertest"
)

// TestMain checks no goroutine outlives the tests, except go-keyring's
// shared D-Bus session connection, which lives as long as the process.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/godbus/dbus/v5.newConn.func1"),
		goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.(*Conn).inWorker"))
}

// backend is a real sessiond on a real SQLite file, over HTTP.
type backend struct {
	*servertest.Backend
	t     *testing.T
	clock *servertest.Clock
	url   string
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := servertest.Start(t)
	return &backend{Backend: b, t: t, clock: b.Clock, url: b.URL}
}

// stop takes the server down (the app sees it as offline); safe twice.
func (b *backend) stop() { b.Stop() }

// device is one app install: its own keyring, preferences and cache.
type device struct {
	t       *testing.T
	name    string
	secrets app.SecretStore
	prefs   *platform.MemoryPrefs
	cache   string
	api     *client.Client
	app     *app.App
	url     string
}

type deviceOpt func(*app.Config)

func noKeyring(c *app.Config) { c.Secrets, c.KeyringProblem = nil, platform.ErrUnavailable }

func (b *backend) device(name string, opts ...deviceOpt) *device {
	b.t.Helper()
	d := &device{t: b.t, name: name, secrets: platform.NewMemory(), prefs: platform.NewMemoryPrefs(),
		cache: filepath.Join(b.t.TempDir(), "cache"), url: b.url}
	d.open(opts...)
	return d
}

// open starts (or restarts) the app on this install's stored data.
func (d *device) open(opts ...deviceOpt) {
	d.t.Helper()
	c, err := client.New(d.url)
	if err != nil {
		d.t.Fatal(err)
	}
	d.api = c
	cfg := app.Config{
		API: c, Secrets: d.secrets, Prefs: d.prefs, CacheDir: d.cache,
		IsNotFound:    func(err error) bool { return errors.Is(err, platform.ErrNotFound) },
		ClearPrefKeys: []string{platform.PrefInstallID, platform.PrefDeviceName},
		Device:        func() api.Device { return platform.DescribeDevice(d.prefs, "1.0.0-test") },
	}
	if err := platform.SetDeviceName(d.prefs, d.name); err != nil {
		d.t.Fatal(err)
	}
	for _, o := range opts {
		o(&cfg)
	}
	d.app = app.New(cfg)
	d.t.Cleanup(func() { d.close() })
	if err := d.app.Start(context.Background()); err != nil && !errors.Is(err, client.ErrOffline) {
		d.t.Logf("start: %v", err)
	}
}

// close quits the app as a person would.
func (d *device) close() {
	if d.app == nil {
		return
	}
	d.app.Close(context.Background())
	d.api.CloseIdleConnections()
	d.app = nil
}

func (d *device) snap() app.Snapshot { return d.app.Snapshot() }

// waitFor polls the snapshot until cond holds (events arrive asynchronously).
func (d *device) waitFor(what string, cond func(app.Snapshot) bool) app.Snapshot {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := d.snap()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: timed out waiting for %s; state %v, err %q", d.name, what, s.State, s.Err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const password = "violet-harbor-lantern"

func (d *device) signUp(user string, remember bool) {
	d.t.Helper()
	if err := d.app.SignUp(context.Background(), user, password, password, remember); err != nil {
		d.t.Fatalf("%s: sign up: %v", d.name, err)
	}
	d.waitFor("live events", func(s app.Snapshot) bool { return s.State == app.StateSignedIn && s.Live })
}

func (d *device) signIn(user string, remember bool) {
	d.t.Helper()
	if err := d.app.SignIn(context.Background(), user, password, remember); err != nil {
		d.t.Fatalf("%s: sign in: %v", d.name, err)
	}
	d.waitFor("live events", func(s app.Snapshot) bool { return s.State == app.StateSignedIn && s.Live })
}

// secretKeys lists the tokens and saved logins in the install's secret
// store: everything but its install key, which stays as long as the
// install does.
func (d *device) secretKeys() []string {
	d.t.Helper()
	return slices.DeleteFunc(d.allSecretKeys(), func(k string) bool { return k == app.SecretInstallKey })
}

// allSecretKeys lists every item in the install's secret store.
func (d *device) allSecretKeys() []string {
	d.t.Helper()
	keys, err := d.secrets.Keys()
	if err != nil {
		d.t.Fatal(err)
	}
	return keys
}

func deviceNames(list []api.Session) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Device.Name)
	}
	return out
}
