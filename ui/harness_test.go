package ui

// The harness: a real sessiond on a temporary SQLite file, real app cores
// (in-memory secret stores and preferences) and the Fyne test driver, with
// helpers that find widgets by the text a person sees, tap and type.
//
// Threading. Under the test driver fyne.Do and fyne.DoAndWait run the
// function at once on the calling goroutine, so they serialise nothing:
// a core goroutine rendering a snapshot would race the test reading the
// widgets (and two core goroutines would race each other). The harness
// therefore puts a driver in front of the test app whose DoFromGoroutine
// hands the function to one goroutine, uiLoop, that plays Fyne's main
// goroutine: fyne.Do queues, fyne.DoAndWait queues and waits, exactly as
// the real driver does. Every test action and every read of a widget goes
// through screen.do, which runs on that loop. The ui package is unchanged
// by this: it still only calls fyne.Do.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"go.uber.org/goleak"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/launch"
	"sessionguard/platform"
	"sessionguard/server"
	"sessionguard/server/servertest"
	"sessionguard/server/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var ctx = context.Background()

// goleakOptions are the goroutines allowed to outlive the tests: go-keyring's
// shared D-Bus connection (as in app/), which lives as long as the process.
var goleakOptions = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/godbus/dbus/v5.newConn.func1"),
	goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.(*Conn).inWorker"),
}

// TestMain pins the time zone (times on screen are local), keeps Fyne's
// font cache out of $HOME, and checks no goroutine outlives the tests.
func TestMain(m *testing.M) {
	time.Local = time.UTC
	if os.Getenv("XDG_CACHE_HOME") == "" {
		dir, err := os.MkdirTemp("", "ui-test-cache")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Setenv("XDG_CACHE_HOME", dir)
		defer os.RemoveAll(dir)
	}
	goleak.VerifyTestMain(m, goleakOptions...)
}

// epoch is the server's (and the UI's) pinned "now" at the start of each
// test, so times on screen are the same on every run.
var epoch = time.Date(2030, time.March, 14, 9, 41, 0, 0, time.UTC)

const password = "violet-harbor-lantern"

// ---------------------------------------------------------------- server

// places is the test GeoIP database.
var places = map[string]api.Location{
	"203.0.113.10":  {City: "Lisbon", Region: "Lisbon", Country: "Portugal", CountryCode: "PT"},
	"198.51.100.20": {City: "Berlin", Region: "Berlin", Country: "Germany", CountryCode: "DE"},
	"192.0.2.30":    {City: "Porto", Region: "Porto", Country: "Portugal", CountryCode: "PT"},
}

type locator struct{}

func (locator) Locate(ip netip.Addr) api.Location { return places[ip.String()] }

// backend is a real sessiond on a real SQLite file, over HTTP. The app's
// requests come through a trusted proxy (X-Forwarded-For), so each test
// device has its own IP address and place.
type backend struct {
	t     *testing.T
	srv   *server.Server
	http  *httptest.Server
	st    *sqlite.Store
	clock *servertest.Clock
	url   string

	holdMu sync.Mutex
	holds  map[string]chan struct{} // "METHOD /path" → closed on release
}

func newBackend(t *testing.T, opts ...func(*server.Config)) *backend {
	t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sessiond.db"))
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{t: t, st: st, clock: servertest.NewClock(epoch), holds: map[string]chan struct{}{}}
	cfg := servertest.Config(b.clock)
	cfg.Locator = locator{}
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for _, o := range opts {
		o(&cfg)
	}
	b.srv = server.New(st, cfg)
	b.http = httptest.NewServer(b.gate(b.srv.Handler()))
	b.url = b.http.URL
	nowFunc = b.clock.Now // the UI's clock is the server's
	t.Cleanup(func() {
		b.stop()
		nowFunc = time.Now
	})
	return b
}

// withAna starts a test: a server with the account ana, and the Fyne app.
func withAna(t *testing.T) (*backend, *env) {
	t.Helper()
	b := newBackend(t)
	e := newEnv(t, b)
	b.account("ana")
	return b, e
}

// staleProof moves the server's clock past the re-authentication window:
// the next step-up action asks for the password.
func (b *backend) staleProof() { b.clock.Advance(11 * time.Minute) }

// stop takes the server down (the app sees it as offline); safe twice.
func (b *backend) stop() {
	if b.http == nil {
		return
	}
	b.srv.Close()
	b.http.Close()
	_ = b.st.Close()
	b.http = nil
}

// gate holds requests that match a hold until it is released.
func (b *backend) gate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.holdMu.Lock()
		ch := b.holds[r.Method+" "+r.URL.Path]
		b.holdMu.Unlock()
		if ch != nil {
			select {
			case <-ch:
			case <-r.Context().Done():
			}
		}
		h.ServeHTTP(w, r)
	})
}

// hold makes requests to route ("POST /v1/login") wait until the returned
// release is called (at the latest when the test ends).
func (b *backend) hold(route string) (release func()) {
	ch := make(chan struct{})
	b.holdMu.Lock()
	b.holds[route] = ch
	b.holdMu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			b.holdMu.Lock()
			delete(b.holds, route)
			b.holdMu.Unlock()
			close(ch)
		})
	}
	b.t.Cleanup(release)
	return release
}

// tryDemo is main's "Try the demo" hook on b: the demo account, made on
// the server, and its credentials.
func (b *backend) tryDemo() (username, password string, err error) {
	if _, err := b.srv.SeedDemo(ctx); err != nil {
		return "", "", err
	}
	return server.DemoUsername, server.DemoPassword, nil
}

// account creates an account directly on the server.
func (b *backend) account(username string) {
	b.t.Helper()
	if _, err := b.srv.CreateAccount(ctx, username, password); err != nil {
		b.t.Fatal(err)
	}
}

// ---------------------------------------------------------------- devices

// spec is a test device: what it tells the server, and where it is.
type spec struct {
	api.Device
	IP string
}

var (
	laptop = spec{api.Device{ID: "install-laptop", Name: "Ana's Laptop", Platform: api.PlatformLinux,
		OS: "Debian GNU/Linux 12", Model: "ThinkPad X1 Carbon", AppVersion: "1.0.0"}, "203.0.113.10"}
	phone = spec{api.Device{ID: "install-phone", Name: "Pixel 8", Platform: api.PlatformAndroid,
		OS: "Android 15", Model: "Google Pixel 8", AppVersion: "1.0.0"}, "198.51.100.20"}
	tablet = spec{api.Device{ID: "install-tablet", Name: "Galaxy Tab", Platform: api.PlatformAndroid,
		OS: "Android 14", Model: "Galaxy Tab S9", AppVersion: "1.0.0"}, "192.0.2.30"}
)

// forwarded is a transport that says which address a request comes from,
// as a reverse proxy in front of sessiond would.
type forwarded struct {
	ip string
	rt *http.Transport
}

func (f *forwarded) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.ip)
	return f.rt.RoundTrip(r)
}

func (f *forwarded) CloseIdleConnections() { f.rt.CloseIdleConnections() }

// device is one app install: its own keyring, preferences and cache.
type device struct {
	t       *testing.T
	b       *backend
	spec    spec
	secrets *platform.Memory // nil: no keyring
	prefs   *platform.MemoryPrefs
	cache   string
	api     *client.Client
	core    *app.App
}

type deviceOpt func(*device)

// noKeyring is a device without a working keyring (Linux without a
// Secret Service).
func noKeyring(d *device) { d.secrets = nil }

// device makes an install on b; its core is built but not started.
func (b *backend) device(s spec, opts ...deviceOpt) *device {
	b.t.Helper()
	d := &device{t: b.t, b: b, spec: s, secrets: platform.NewMemory(), prefs: platform.NewMemoryPrefs(),
		cache: filepath.Join(b.t.TempDir(), "cache")}
	for _, o := range opts {
		o(d)
	}
	d.build()
	return d
}

// build makes a fresh core (and client) on this install's stored data, as
// when the app starts again.
func (d *device) build() {
	d.t.Helper()
	c, err := client.New(d.b.url, client.WithHTTPClient(&http.Client{
		Transport: &forwarded{ip: d.spec.IP, rt: &http.Transport{}}}))
	if err != nil {
		d.t.Fatal(err)
	}
	cfg := app.Config{
		API: c, Prefs: d.prefs, CacheDir: d.cache, Now: d.b.clock.Now,
		IsNotFound:    func(err error) bool { return errors.Is(err, platform.ErrNotFound) },
		ClearPrefKeys: []string{platform.PrefInstallID, platform.PrefDeviceName},
		Device:        func() api.Device { return d.spec.Device },
	}
	if d.secrets != nil {
		cfg.Secrets = d.secrets
	} else {
		cfg.KeyringProblem = platform.ErrUnavailable
	}
	d.api, d.core = c, app.New(cfg)
	core, api := d.core, d.api
	d.t.Cleanup(func() {
		core.Close(ctx)
		api.CloseIdleConnections()
	})
}

// secretKeys lists the tokens and saved logins the install keeps in its
// keyring: everything but its install key and its proof key (issue 21),
// which stay as long as the install does.
func (d *device) secretKeys() []string {
	d.t.Helper()
	return slices.DeleteFunc(d.allSecretKeys(), func(k string) bool { return k == app.SecretInstallKey || k == app.SecretProofKey })
}

// allSecretKeys lists every item in the install's keyring.
func (d *device) allSecretKeys() []string {
	d.t.Helper()
	if d.secrets == nil {
		return nil
	}
	keys, err := d.secrets.Keys()
	if err != nil {
		d.t.Fatal(err)
	}
	return keys
}

// waitCore polls the core until cond holds.
func (d *device) waitCore(what string, cond func(app.Snapshot) bool) app.Snapshot {
	d.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		s := d.core.Snapshot()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: timed out waiting for %s; state %v, err %q", d.spec.Name, what, s.State, s.Err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signInElsewhere signs in to username from s's device without any app
// (a browser, another phone), returning its client for later calls.
func (b *backend) signInElsewhere(s spec, username string) (*client.Client, api.Login) {
	b.t.Helper()
	c, err := client.New(b.url, client.WithHTTPClient(&http.Client{
		Transport: &forwarded{ip: s.IP, rt: &http.Transport{}}}))
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(c.CloseIdleConnections)
	l, err := c.Login(ctx, api.LoginRequest{Username: username, Password: password, Device: s.Device, Remember: true})
	if err != nil {
		b.t.Fatal(err)
	}
	c.SetTokens(l.Tokens())
	return c, l
}

// ---------------------------------------------------------------- Fyne

// uiLoop is the test's stand-in for Fyne's main goroutine.
type uiLoop struct {
	mu      sync.Mutex
	queue   []func()
	closed  bool
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	gid     uint64
	dropped atomic.Int32
}

func startLoop() *uiLoop {
	l := &uiLoop{wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan struct{})
	go l.run(ready)
	<-ready
	return l
}

func (l *uiLoop) run(ready chan struct{}) {
	defer close(l.done)
	l.gid = goid()
	close(ready)
	for {
		l.mu.Lock()
		q := l.queue
		l.queue = nil
		closed := l.closed
		l.mu.Unlock()
		for _, fn := range q {
			fn()
		}
		if len(q) > 0 {
			continue
		}
		if closed {
			return
		}
		select {
		case <-l.wake:
		case <-l.quit:
		}
	}
}

// post queues fn; false once the loop has stopped.
func (l *uiLoop) post(fn func()) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.dropped.Add(1)
		return false
	}
	l.queue = append(l.queue, fn)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return true
}

// onLoop reports whether the caller runs on the loop: a fyne.DoAndWait
// from the loop itself must run at once, as it does on Fyne's main
// goroutine, since waiting for the loop there would wait forever.
func (l *uiLoop) onLoop() bool { return goid() == l.gid }

// uiFailure is a test failure found on the loop (see screen.fail).
type uiFailure string

// call runs fn on the loop and waits for it. A panic in fn comes back as
// the error, and the loop goes on.
func (l *uiLoop) call(fn func()) error {
	if l.onLoop() {
		fn()
		return nil
	}
	done := make(chan error, 1)
	ok := l.post(func() {
		defer func() {
			switch r := recover().(type) {
			case nil:
				done <- nil
			case uiFailure:
				done <- errors.New(string(r))
			default:
				done <- fmt.Errorf("panic on the UI loop: %v\n%s", r, allStacks())
			}
		}()
		fn()
	})
	if !ok {
		return errors.New("the UI loop has stopped")
	}
	select {
	case err := <-done:
		return err
	case <-time.After(waitLimit):
		return errors.New("the UI loop is stuck:\n" + allStacks())
	}
}

// stop runs what is queued and ends the loop.
func (l *uiLoop) stop() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
}

// goid is the calling goroutine's id. Go offers no API for it, so, like
// Fyne's own driver (internal/async.goroutineID), it is read from the
// first line of the goroutine's stack trace: "goroutine 42 [running]:".
func goid() uint64 {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	s = strings.TrimPrefix(s, "goroutine ")
	id, _ := strconv.ParseUint(s[:strings.IndexByte(s, ' ')], 10, 64)
	return id
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// loopDriver is the test driver with Fyne's real threading: work from
// other goroutines runs on the loop.
type loopDriver struct {
	fyne.Driver
	loop *uiLoop
}

func (d *loopDriver) DoFromGoroutine(fn func(), wait bool) {
	if wait {
		if err := d.loop.call(fn); err != nil {
			panic(err)
		}
		return
	}
	d.loop.post(fn) // queued even from the loop itself, like the real driver
}

type loopApp struct {
	fyne.App
	drv *loopDriver

	mu    sync.Mutex
	notes []fyne.Notification // OS notifications sent, oldest first
}

func (a *loopApp) Driver() fyne.Driver { return a.drv }

// SendNotification records the notification instead of showing it.
func (a *loopApp) SendNotification(n *fyne.Notification) {
	a.mu.Lock()
	a.notes = append(a.notes, *n)
	a.mu.Unlock()
}

// notifications are the OS notifications sent so far.
func (e *env) notifications() []fyne.Notification {
	e.la.mu.Lock()
	defer e.la.mu.Unlock()
	return slices.Clone(e.la.notes)
}

// env is one test's Fyne app and UI loop.
type env struct {
	t    *testing.T
	b    *backend
	app  fyne.App
	la   *loopApp
	loop *uiLoop
}

// newEnv starts the test app on b. Call it after newBackend and before
// making devices, so the cleanups run in the right order: windows, then
// cores, then the loop, then the server.
func newEnv(t *testing.T, b *backend) *env {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(Theme()) // as main does
	e := &env{t: t, b: b, app: a, loop: startLoop()}
	e.la = &loopApp{App: a, drv: &loopDriver{Driver: a.Driver(), loop: e.loop}}
	fyne.SetCurrentApp(e.la)
	t.Cleanup(func() {
		_ = waitUIGoroutines(t)
		e.loop.stop()
		if n := e.loop.dropped.Load(); n > 0 {
			t.Logf("%d calls reached the UI after the windows closed", n)
		}
	})
	return e
}

// waitUIGoroutines waits for the goroutines the UI started for actions;
// false if some are still running after waitLimit. They are found by the
// functions they run in a dump of every goroutine's stack: the ui
// package starts them with a plain go statement and keeps no count, and a
// test must not make it keep one.
func waitUIGoroutines(t *testing.T) bool {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		stacks := allStacks()
		if !strings.Contains(stacks, "sessionguard/ui.(*UI).run.func") &&
			!strings.Contains(stacks, "sessionguard/ui.(*signInScreen).onDemo.func") {
			return true
		}
		if time.Now().After(deadline) {
			t.Errorf("UI goroutines still running:\n%s", stacks)
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// defaultInfo is what main passes for this device's own server.
func (e *env) defaultInfo() Info {
	m := launch.Compiled() // what main shows for a build without Fyne metadata
	return Info{Name: m.Name, Version: m.Version, Build: m.Build, Server: e.b.url, Embedded: true, DataDir: "/home/ana/.local/share/sessionguard"}
}

// screen is one window showing the UI for one device.
type screen struct {
	t   *testing.T
	e   *env
	d   *device
	win fyne.Window
	ui  *UI

	closed bool
}

// close quits the app as a person would: window, then core.
func (s *screen) close() {
	s.t.Helper()
	if s.closed {
		return
	}
	s.closed = true
	s.do(func() {
		s.ui.Stop()
		s.win.Close()
	})
	s.d.core.Close(ctx)
	s.d.api.CloseIdleConnections()
}

// open shows dev's window (440×760, as main does) and starts its core.
func (e *env) open(d *device, info Info) *screen {
	e.t.Helper()
	s := e.openWindow(d, info, fyne.NewSize(440, 760))
	if err := d.core.Start(ctx); err != nil {
		e.t.Logf("%s: start: %v", d.spec.Name, err)
	}
	return s
}

// openWindow shows the window without starting the core.
func (e *env) openWindow(d *device, info Info, size fyne.Size) *screen {
	e.t.Helper()
	s := &screen{t: e.t, e: e, d: d}
	s.do(func() {
		s.win = e.app.NewWindow(d.spec.Name)
		s.win.Resize(size)
		s.ui = New(s.win, d.core, info)
		s.ui.Start()
		s.win.Show()
	})
	e.t.Cleanup(func() {
		if s.closed {
			return
		}
		s.closed = true
		_ = e.loop.call(func() {
			s.ui.Stop()
			s.win.Close()
		})
	})
	return s
}

// ---------------------------------------------------------------- finding

const waitLimit = 10 * time.Second

// do runs fn on the UI loop: the only way tests touch widgets. Inside fn,
// report fatal problems with s.fail, never t.Fatal (which would end the
// loop's goroutine instead of the test's).
func (s *screen) do(fn func()) {
	s.t.Helper()
	if err := s.e.loop.call(fn); err != nil {
		s.t.Fatal(err)
	}
}

// fail ends the current s.do with a test failure. Call on the loop.
func (s *screen) fail(format string, args ...any) {
	panic(uiFailure(fmt.Sprintf(format, args...)))
}

// relayout lays out o's whole tree again at its current size, as the real
// driver does before it paints a frame. (The test canvas lays out only on
// resize, so a label that was just shown would still sit where it was
// hidden.)
func relayout(o fyne.CanvasObject) {
	switch x := o.(type) {
	case *fyne.Container:
		if x.Layout != nil {
			x.Layout.Layout(x.Objects, x.Size())
		}
		for _, c := range x.Objects {
			relayout(c)
		}
	case fyne.Widget:
		r := test.WidgetRenderer(x)
		r.Layout(x.Size())
		for _, c := range r.Objects() {
			relayout(c)
		}
	}
}

// frame brings the window's layout up to date. Call on the loop.
func (s *screen) frame() {
	if c := s.win.Content(); c != nil {
		relayout(c)
	}
	for _, o := range s.win.Canvas().Overlays().List() {
		relayout(o)
	}
}

// item is a visible object with its absolute position and its ancestors.
type item struct {
	o       fyne.CanvasObject
	pos     fyne.Position
	parents []fyne.CanvasObject // outermost first
	overlay bool                // in a dialog or pop-up
}

// children are what o draws: a container's objects, a widget's renderer's.
func children(o fyne.CanvasObject) []fyne.CanvasObject {
	switch x := o.(type) {
	case *fyne.Container:
		return x.Objects
	case fyne.Widget:
		return test.WidgetRenderer(x).Objects()
	}
	return nil
}

func walk(o fyne.CanvasObject, at fyne.Position, parents []fyne.CanvasObject, overlay bool, visit func(item)) {
	if o == nil || !o.Visible() {
		return
	}
	pos := at.Add(o.Position())
	visit(item{o: o, pos: pos, parents: parents, overlay: overlay})
	kids := children(o)
	if len(kids) == 0 {
		return
	}
	next := append(slices.Clip(parents), o)
	for _, c := range kids {
		walk(c, pos, next, overlay, visit)
	}
}

// items lists what is visible now: the window's content, then its overlays
// (dialogs) from the bottom up. Call on the loop.
func (s *screen) items() []item {
	s.frame()
	var out []item
	add := func(it item) { out = append(out, it) }
	walk(s.win.Content(), fyne.Position{}, nil, false, add)
	for _, o := range s.win.Canvas().Overlays().List() {
		walk(o, fyne.Position{}, nil, true, add)
	}
	return out
}

// text is what a person reads on o (empty for objects without text).
func text(o fyne.CanvasObject) string {
	switch x := o.(type) {
	case *widget.Label:
		return x.Text
	case *widget.Button:
		return x.Text
	case *keyButton:
		return x.Text
	case *widget.Check:
		return x.Text
	case *keyCheck:
		return x.Text
	case *widget.Card:
		return strings.TrimSpace(x.Title + "\n" + x.Subtitle)
	case *widget.Entry:
		if x.Password {
			return ""
		}
		return x.Text
	case *dialogEntry:
		return text(&x.Entry)
	case *widget.Hyperlink:
		return x.Text
	case *canvas.Text:
		return x.Text
	}
	return ""
}

// texts is every visible text, in tree order: a widget's text once, not
// again for the canvas.Text that draws it. Call on the loop.
func (s *screen) texts() []string {
	var out []string
	for _, it := range s.items() {
		if t := text(it.o); t != "" && !drawnForWidget(it) {
			out = append(out, t)
		}
	}
	return out
}

// drawnForWidget reports whether it is a canvas.Text drawing the text of a
// widget above it.
func drawnForWidget(it item) bool {
	if _, ok := it.o.(*canvas.Text); !ok {
		return false
	}
	for _, p := range it.parents {
		if text(p) != "" {
			return true
		}
	}
	return false
}

// drawn is the text actually drawn for o, after truncation ("Lisbon, …"):
// the canvas.Text objects under it. Call on the loop.
func drawn(o fyne.CanvasObject) string {
	var out []string
	walk(o, fyne.Position{}, nil, false, func(it item) {
		if t, ok := it.o.(*canvas.Text); ok && t.Text != "" {
			out = append(out, t.Text)
		}
	})
	return strings.Join(out, " ")
}

// label is the visible label whose text is txt. Call on the loop.
func (s *screen) label(txt string) *widget.Label {
	found := s.find(func(it item) bool { l, ok := it.o.(*widget.Label); return ok && l.Text == txt })
	if len(found) == 0 {
		s.fail("no label %q; the screen shows:\n%s", txt, strings.Join(s.texts(), "\n"))
	}
	return found[len(found)-1].o.(*widget.Label)
}

// visibleText is everything readable on screen now, one text a line.
func (s *screen) visibleText() string {
	var out []string
	s.do(func() { out = s.texts() })
	return strings.Join(out, "\n")
}

func (s *screen) shows(sub string) bool {
	return strings.Contains(s.visibleText(), sub)
}

// waitText waits until some visible text contains sub.
func (s *screen) waitText(sub string) {
	s.t.Helper()
	s.waitFor("text "+strconv.Quote(sub), func() bool { return strings.Contains(strings.Join(s.texts(), "\n"), sub) })
}

// waitGone waits until no visible text contains sub.
func (s *screen) waitGone(sub string) {
	s.t.Helper()
	s.waitFor("no text "+strconv.Quote(sub), func() bool { return !strings.Contains(strings.Join(s.texts(), "\n"), sub) })
}

// settle waits until the actions the UI started (a tap on Log in runs
// the sign-in on a goroutine) are over and what they changed is drawn.
// Then the screen shows the outcome of the last tap, not of the one
// before, even when both would show the same text.
func (s *screen) settle() {
	s.t.Helper()
	if !waitUIGoroutines(s.t) {
		s.t.FailNow()
	}
	s.do(func() {}) // runs after everything they posted
}

// waitFor polls cond on the UI loop until it holds.
func (s *screen) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		var ok bool
		s.do(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: timed out waiting for %s; the screen shows:\n%s", s.d.spec.Name, what, s.visibleText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// find returns the visible items matching match. Call on the loop.
func (s *screen) find(match func(item) bool) []item {
	var out []item
	for _, it := range s.items() {
		if match(it) {
			out = append(out, it)
		}
	}
	return out
}

// button is the visible button labelled label (the top-most one when a
// dialog covers the window). Call on the loop.
func (s *screen) button(label string) *widget.Button {
	found := s.find(func(it item) bool { b := asButton(it.o); return b != nil && b.Text == label })
	if len(found) == 0 {
		s.fail("no button %q; the screen shows:\n%s", label, strings.Join(s.texts(), "\n"))
	}
	return asButton(found[len(found)-1].o)
}

// asCheck is the Check o is, or embeds (keyCheck); nil if none.
func asCheck(o any) *widget.Check {
	switch x := o.(type) {
	case *widget.Check:
		return x
	case *keyCheck:
		return &x.Check
	}
	return nil
}

// asButton is the Button o is, or embeds (keyButton); nil if none.
func asButton(o any) *widget.Button {
	switch x := o.(type) {
	case *widget.Button:
		return x
	case *keyButton:
		return &x.Button
	}
	return nil
}

// tap taps the visible, enabled button labelled label, or else the
// tappable thing (a list row) showing text containing label.
func (s *screen) tap(label string) {
	s.t.Helper()
	s.do(func() {
		var target fyne.Tappable
		for _, it := range s.items() {
			if b := asButton(it.o); b != nil && b.Text == label {
				if b.Disabled() {
					s.fail("button %q is disabled", label)
				}
				target = it.o.(fyne.Tappable)
			}
		}
		for _, exact := range []bool{true, false} {
			if target != nil {
				break
			}
			for _, it := range s.items() {
				t := text(it.o)
				if t == "" || (exact && t != label) || !strings.Contains(t, label) {
					continue
				}
				if tp, ok := it.o.(fyne.Tappable); ok {
					target = tp
					continue
				}
				for i := len(it.parents) - 1; i >= 0; i-- {
					if tp, ok := it.parents[i].(fyne.Tappable); ok {
						target = tp
						break
					}
				}
			}
		}
		if target == nil {
			s.fail("nothing to tap labelled %q; the screen shows:\n%s", label, strings.Join(s.texts(), "\n"))
		}
		test.Tap(target)
	})
}

// tapIcon taps the visible button showing only icon (the top-most one).
func (s *screen) tapIcon(icon fyne.Resource) {
	s.t.Helper()
	s.do(func() {
		found := s.find(func(it item) bool {
			b := asButton(it.o)
			return b != nil && b.Text == "" && b.Icon != nil && b.Icon.Name() == icon.Name()
		})
		if len(found) == 0 {
			s.fail("no icon button %s; the screen shows:\n%s", icon.Name(), strings.Join(s.texts(), "\n"))
		}
		test.Tap(found[len(found)-1].o.(fyne.Tappable))
	})
}

// asEntry is the Entry o is, or embeds; nil if none.
func asEntry(o any) *widget.Entry {
	switch x := o.(type) {
	case *widget.Entry:
		return x
	case *dialogEntry:
		return &x.Entry
	}
	return nil
}

// field is the visible entry with placeholder hint (top-most), as the
// focusable widget and as its Entry. Call on the loop.
func (s *screen) field(hint string) (fyne.Focusable, *widget.Entry) {
	found := s.find(func(it item) bool { e := asEntry(it.o); return e != nil && e.PlaceHolder == hint })
	if len(found) == 0 {
		s.fail("no field %q; the screen shows:\n%s", hint, strings.Join(s.texts(), "\n"))
	}
	o := found[len(found)-1].o
	return o.(fyne.Focusable), asEntry(o)
}

// entry is the visible entry with placeholder hint. Call on the loop.
func (s *screen) entry(hint string) *widget.Entry {
	_, e := s.field(hint)
	return e
}

// typeInto clicks into the field with placeholder hint and types text.
func (s *screen) typeInto(hint, text string) {
	s.t.Helper()
	s.do(func() {
		f, e := s.field(hint)
		if e.Disabled() {
			s.fail("field %q is disabled", hint)
		}
		s.win.Canvas().Focus(f)
		for _, r := range text {
			f.TypedRune(r)
		}
	})
}

// typeText types into whatever has the focus, as a keyboard does.
func (s *screen) typeText(text string) {
	s.t.Helper()
	s.do(func() {
		f := s.win.Canvas().Focused()
		if f == nil {
			s.fail("typing %q with nothing focused", text)
		}
		for _, r := range text {
			f.TypedRune(r)
		}
	})
}

// enter types text into whatever has the focus and presses Return, as a
// person answering a dialog's field does.
func (s *screen) enter(text string) {
	s.t.Helper()
	s.typeText(text)
	s.press(fyne.KeyReturn)
}

// press sends a key as the desktop driver does: to the focused widget, or
// else to the window's handler.
func (s *screen) press(key fyne.KeyName) {
	s.t.Helper()
	s.do(func() {
		ev := &fyne.KeyEvent{Name: key}
		if f := s.win.Canvas().Focused(); f != nil {
			f.TypedKey(ev)
		} else if h := s.win.Canvas().OnTypedKey(); h != nil {
			h(ev)
		}
	})
}

// place is where the visible object showing exactly txt is, and its size.
// Call on the loop.
func (s *screen) place(txt string) (fyne.Position, fyne.Size, bool) {
	for _, it := range s.items() {
		if text(it.o) == txt && !drawnForWidget(it) {
			return it.pos, it.o.Size(), true
		}
	}
	return fyne.Position{}, fyne.Size{}, false
}

// fieldPlace is where the visible entry with placeholder hint is.
// Call on the loop.
func (s *screen) fieldPlace(hint string) (fyne.Position, fyne.Size, bool) {
	for _, it := range s.items() {
		if e := asEntry(it.o); e != nil && e.PlaceHolder == hint {
			return it.pos, it.o.Size(), true
		}
	}
	return fyne.Position{}, fyne.Size{}, false
}

// waitUnder waits until msg shows directly under the field with
// placeholder hint: below it, and above the next field.
func (s *screen) waitUnder(hint, msg string) {
	s.t.Helper()
	s.waitFor(strconv.Quote(msg)+" under "+hint, func() bool {
		epos, esize, ok := s.fieldPlace(hint)
		if !ok {
			return false
		}
		mpos, _, ok := s.place(msg)
		if !ok {
			return false
		}
		if mpos.Y < epos.Y+esize.Height {
			return false
		}
		for _, it := range s.items() {
			if e := asEntry(it.o); e != nil && e.PlaceHolder != hint && it.pos.Y > epos.Y && it.pos.Y < mpos.Y {
				return false // another field in between
			}
		}
		return true
	})
}

// focusedHint is the placeholder of the focused entry ("" if none).
func (s *screen) focusedHint() string {
	var hint string
	s.do(func() {
		if f := s.win.Canvas().Focused(); f != nil {
			if e := asEntry(f); e != nil {
				hint = e.PlaceHolder
			}
		}
	})
	return hint
}

// dialogs is the number of dialogs open.
func (s *screen) dialogs() int {
	var n int
	s.do(func() {
		for _, o := range s.win.Canvas().Overlays().List() {
			if o.Visible() {
				n++
			}
		}
	})
	return n
}

// dialogText is the text of the top-most dialog.
func (s *screen) dialogText() string {
	var out []string
	s.do(func() {
		list := s.win.Canvas().Overlays().List()
		if len(list) == 0 {
			return
		}
		walk(list[len(list)-1], fyne.Position{}, nil, true, func(it item) {
			if t := text(it.o); t != "" {
				out = append(out, t)
			}
		})
	})
	return strings.Join(out, "\n")
}

// waitDialog waits for a dialog whose text contains sub.
func (s *screen) waitDialog(sub string) {
	s.t.Helper()
	s.waitFor("a dialog with "+strconv.Quote(sub), func() bool {
		list := s.win.Canvas().Overlays().List()
		if len(list) == 0 {
			return false
		}
		found := false
		walk(list[len(list)-1], fyne.Position{}, nil, true, func(it item) {
			found = found || strings.Contains(text(it.o), sub)
		})
		return found
	})
}

// waitNoDialog waits until every dialog has closed.
func (s *screen) waitNoDialog() {
	s.t.Helper()
	s.waitFor("no dialog", func() bool { return len(s.win.Canvas().Overlays().List()) == 0 })
}

// ---------------------------------------------------------------- journeys

// logIn signs in with the password form as a person would.
func (s *screen) logIn(username string) {
	s.t.Helper()
	s.waitText("Log in to Sessionguard")
	s.do(func() { s.entry("Username").SetText("") })
	s.typeInto("Username", username)
	s.typeInto("Password", password)
	s.tap("Log in")
	s.waitText("Logged in on " + s.d.spec.Name)
}

// logOut logs out from Settings as a person would, ticking "Remember login
// info" when remember.
func (s *screen) logOut(remember bool) {
	s.t.Helper()
	s.tap("Settings")
	s.tap("Log out")
	s.waitDialog("Log out of ana?")
	if remember {
		s.tap("Remember login info")
	}
	s.tap("Log out")
}

// anaOn opens a window for a new install of sp (opts: its options) and
// logs ana in.
func (e *env) anaOn(sp spec, opts ...deviceOpt) (*device, *screen) {
	e.t.Helper()
	d := e.b.device(sp, opts...)
	s := e.open(d, e.defaultInfo())
	s.logIn("ana")
	return d, s
}

// waitLive waits until the home screen says the live stream is up.
func (s *screen) waitLive() {
	s.t.Helper()
	s.waitText("• Live")
}

// openLoginActivity goes home → Settings → Login activity.
func (s *screen) openLoginActivity() {
	s.t.Helper()
	s.tap("Settings")
	s.tap("Login activity")
	s.waitText("Where you're logged in")
}

// openSettingsPage goes home → Settings → entry and waits for want.
func (s *screen) openSettingsPage(entry, want string) {
	s.t.Helper()
	s.tap("Settings")
	s.tap(entry)
	s.waitText(want)
}

// golden compares the window with testdata/name (markup), rewriting it
// with -update.
func (s *screen) golden(name string) {
	s.t.Helper()
	s.do(func() {
		s.frame()
		if *update {
			path := filepath.Join("testdata", name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				s.fail("%v", err)
			}
			if err := os.WriteFile(path, []byte(test.RenderToMarkup(s.win.Canvas())), 0o644); err != nil {
				s.fail("%v", err)
			}
		}
		test.AssertRendersToMarkup(s.t, name, s.win.Canvas())
	})
}
