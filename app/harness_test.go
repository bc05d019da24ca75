package app_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"go.uber.org/goleak"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
	"sessionguard/server/servertest"
	"sessionguard/server/store/postgres"
	"sessionguard/server/store/postgres/pgtest"
)

// TestMain checks no goroutine outlives the tests, except go-keyring's
// shared D-Bus session connection, which lives as long as the process. The
// PostgreSQL server the tests on it share (started on first use by
// pgtest.NewDatabase) is stopped first.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(pgtest.M(m),
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

// newPostgresBackend is newBackend on a fresh PostgreSQL database (skipped
// without PostgreSQL, unless SESSIONGUARD_REQUIRE_POSTGRES=1).
func newPostgresBackend(t *testing.T) *backend {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	b := servertest.StartStore(t, st, servertest.NewClock(time.Now().UTC().Truncate(time.Second)))
	return &backend{Backend: b, t: t, clock: b.Clock, url: b.URL}
}

// stop takes the server down (the app sees it as offline); safe twice.
func (b *backend) stop() { b.Stop() }

// device is one app install: its own keyring, preferences and cache.
type device struct {
	t       *testing.T
	clock   *servertest.Clock // its server's (nil: the server's answers say the real time)
	name    string
	secrets app.SecretStore
	prefs   *platform.MemoryPrefs
	cache   string
	api     *client.Client
	app     *app.App
	url     string
}

// deviceOpt changes how a device's app is made.
type deviceOpt func(*opening)

// opening is a device's app being made: its configuration, and hooks that
// see its requests on their way to the server.
type opening struct {
	app.Config
	hooks []hook
}

// hook sees a request (and its body) before the server does. It answers
// in the server's place with a response or an error, or lets the request
// through with neither.
type hook func(r *http.Request, body []byte) (*http.Response, error)

// intercept adds h to the hooks of the device's requests.
func (o *opening) intercept(h hook) { o.hooks = append(o.hooks, h) }

// interceptor is the device's HTTP transport: its hooks, then the server.
type interceptor struct {
	hooks []hook
	rt    *http.Transport
	// clock, when set, is the server's: its answers' Date says its time,
	// as a real server's says its real clock (the app dates its proofs
	// by it).
	clock func() time.Time
}

func (t *interceptor) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.roundTrip(r)
	if err == nil && t.clock != nil {
		resp.Header.Set("Date", t.clock().UTC().Format(http.TimeFormat))
	}
	return resp, err
}

func (t *interceptor) roundTrip(r *http.Request) (*http.Response, error) {
	if len(t.hooks) == 0 {
		return t.rt.RoundTrip(r)
	}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	for _, h := range t.hooks {
		if resp, err := h(r, body); resp != nil || err != nil {
			return resp, err
		}
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	return t.rt.RoundTrip(r)
}

func (t *interceptor) CloseIdleConnections() { t.rt.CloseIdleConnections() }

// answer is a response in the server's place: status and a JSON body.
func answer(r *http.Request, status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r}
}

func noKeyring(o *opening) { o.Secrets, o.KeyringProblem = nil, platform.ErrUnavailable }

func (b *backend) device(name string, opts ...deviceOpt) *device {
	b.t.Helper()
	d := &device{t: b.t, clock: b.clock, name: name, secrets: platform.NewMemory(), prefs: platform.NewMemoryPrefs(),
		cache: filepath.Join(b.t.TempDir(), "cache"), url: b.url}
	d.open(opts...)
	return d
}

// open starts (or restarts) the app on this install's stored data.
func (d *device) open(opts ...deviceOpt) {
	d.t.Helper()
	o := opening{Config: app.Config{
		Secrets: d.secrets, Prefs: d.prefs, CacheDir: d.cache,
		IsNotFound:    func(err error) bool { return errors.Is(err, platform.ErrNotFound) },
		ClearPrefKeys: []string{platform.PrefInstallID, platform.PrefDeviceName},
		Device:        func() api.Device { return platform.DescribeDevice(d.prefs, "1.0.0-test") },
	}}
	if err := platform.SetDeviceName(d.prefs, d.name); err != nil {
		d.t.Fatal(err)
	}
	for _, opt := range opts {
		opt(&o)
	}
	it := &interceptor{hooks: o.hooks, rt: &http.Transport{}}
	if d.clock != nil {
		it.clock = d.clock.Now
	}
	c, err := client.New(d.url, client.WithHTTPClient(&http.Client{Transport: it}))
	if err != nil {
		d.t.Fatal(err)
	}
	d.api, o.API = c, c
	d.app = app.New(o.Config)
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
// store: everything but its install key and proof key, which stay as
// long as the install does.
func (d *device) secretKeys() []string {
	d.t.Helper()
	return slices.DeleteFunc(d.allSecretKeys(), installItem)
}

// installItem reports whether k is one of the install's own items in the
// secret store, not an account's: its install key and its proof key.
func installItem(k string) bool { return k == app.SecretInstallKey || k == app.SecretProofKey }

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

// logOut logs the device out, saving its login info when remember.
func (d *device) logOut(remember bool) {
	d.t.Helper()
	if err := d.app.LogOut(ctx, remember); err != nil {
		d.t.Fatalf("%s: log out: %v", d.name, err)
	}
}

// saveLogin logs out with "remember login info" and returns the saved
// account and its credential.
func (d *device) saveLogin() (app.SavedAccount, string) {
	d.t.Helper()
	d.logOut(true)
	saved := d.snap().SavedAccounts[0]
	cred, err := d.secrets.Get("remembered:" + saved.AccountID)
	if err != nil {
		d.t.Fatal(err)
	}
	return saved, cred
}

// turnOnTwoStep turns two-step verification on (the password proof being
// fresh) and returns its secret.
func (d *device) turnOnTwoStep(b *backend) string {
	d.t.Helper()
	setup, err := d.app.StartTwoStep(ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	if _, err := d.app.ConfirmTwoStep(ctx, b.code(setup.Secret)); err != nil {
		d.t.Fatal(err)
	}
	return setup.Secret
}

// code is the two-step code for secret now, by the server's clock.
func (b *backend) code(secret string) string {
	c, err := totp.GenerateCode(secret, b.clock.Now())
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// client is a client of b with no app: a browser, a script, a thief.
func (b *backend) client() *client.Client {
	b.t.Helper()
	c, err := client.New(b.url)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(c.CloseIdleConnections)
	return c
}

// wantNothingSaved checks that the device keeps no saved account and no
// token (its install key aside), as after a log out without "remember".
func (d *device) wantNothingSaved(when string) {
	d.t.Helper()
	if s := d.snap(); len(s.SavedAccounts) != 0 || len(d.secretKeys()) != 0 {
		d.t.Fatalf("%s: %s: saved %v, keys %v", d.name, when, s.SavedAccounts, d.secretKeys())
	}
}

// staleProof moves the server's clock past the re-authentication window
// (and the access token's life): the next step-up action asks for the
// password.
func (b *backend) staleProof() { b.clock.Advance(11 * time.Minute) }

// nextCode moves the server's clock to the next two-step code, so that the
// code sent next is not a replay of the last.
func (b *backend) nextCode() { b.clock.Advance(30 * time.Second) }
