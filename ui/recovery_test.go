package ui

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/launch"
	"sessionguard/platform"
)

// launched is the app as main assembles it: a real launcher (this
// device's own server, or a checked remote one), with main's UseServer.
type launched struct {
	t  *testing.T
	l  *launch.Launcher
	wg sync.WaitGroup // cores started by UseServer
}

func newLaunched(t *testing.T) *launched {
	t.Helper()
	l, err := launch.New(launch.Config{DataDir: t.TempDir(), Prefs: platform.NewMemoryPrefs(),
		Secrets: platform.NewMemory(), Version: launch.Version})
	if err != nil {
		t.Fatal(err)
	}
	la := &launched{t: t, l: l}
	t.Cleanup(func() {
		la.wg.Wait()
		l.Close(ctx, true)
	})
	return la
}

// info is what main passes for the launcher's server in use.
func (la *launched) info() Info {
	m := launch.Compiled()
	return Info{Name: m.Name, Version: m.Version, Build: m.Build, Server: la.l.URL(), Embedded: la.l.Embedded(),
		DataDir: "/home/ana/.local/share/sessionguard", LocalAccounts: la.l.HasLocalAccounts(), UseServer: la.use}
}

// use is main's UseServer: checked, then started.
func (la *launched) use(address string) (*app.App, Info, error) {
	c, err := la.l.Choose(ctx, address)
	if err != nil {
		return nil, Info{}, err
	}
	la.wg.Add(1)
	go func() { defer la.wg.Done(); _ = c.Start(ctx) }()
	return c, la.info(), nil
}

// openLaunched shows a window on core (from la) and starts it.
func (e *env) openLaunched(la *launched, core *app.App) *screen {
	e.t.Helper()
	d := &device{t: e.t, spec: laptop, core: core}
	s := e.openWindow(d, la.info(), fyne.NewSize(440, 760))
	if err := core.Start(ctx); err != nil {
		e.t.Logf("start: %v", err)
	}
	return s
}

// TestWrongServerRecovery: a saved server where nothing answers is not a
// dead end. The sign-in screen says it can't be reached and offers
// Change server; an address that answers but not as Sessionguard, one
// where nothing listens and a bare host name are each refused with their
// own words; Escape goes back; a real sessiond is taken and signs in.
func TestWrongServerRecovery(t *testing.T) {
	b, e := withAna(t)
	la := newLaunched(t)
	notSessiond := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notSessiond.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL := gone.URL
	gone.Close()
	host := func(url string) string { return strings.TrimPrefix(url, "http://") }

	core, err := la.l.Use(ctx, goneURL) // saved before, nothing answers there now
	if err != nil {
		t.Fatal(err)
	}
	s := e.openLaunched(la, core)
	s.waitText("Server: " + goneURL)
	s.typeInto("Username", "ana")
	s.typeInto("Password", password)
	s.press(fyne.KeyReturn)
	s.waitText("Can't reach " + host(goneURL) + ". Check your connection, or try again in a moment. If the address is wrong, change the server below.")

	s.tap("Change server")
	s.waitText("Where is your account?")
	if got := s.focusedHint(); got != hintServer {
		t.Fatalf("focus on %q, want the address", got)
	}
	s.do(func() {
		if got := s.entry(hintServer).Text; got != goneURL {
			s.fail("the address shows %q, want the server in use %q", got, goneURL)
		}
	})
	for _, tc := range []struct{ address, want, suggestion string }{
		{notSessiond.URL, host(notSessiond.URL) + " answers, but it isn't a Sessionguard server. Check the address.", ""},
		{goneURL, "Nothing answers at " + host(goneURL) + ". Check the address, and that the server is running.", ""},
		{"sessions.example.com", "Server addresses start with https:// — did you mean https://sessions.example.com?", "Use https://sessions.example.com"},
		{"http://sessions.example.com", "That address isn't secure: plain http:// only works for a server on this computer. Use https://sessions.example.com.", "Use https://sessions.example.com"},
	} {
		s.setField(hintServer, tc.address)
		s.press(fyne.KeyReturn)
		s.waitText(tc.want)
		if got := s.shows("Use https://"); got != (tc.suggestion != "") {
			t.Errorf("%s: suggestion shown = %v", tc.address, got)
		}
		if tc.suggestion != "" && !s.shows(tc.suggestion) {
			t.Errorf("%s: no %q", tc.address, tc.suggestion)
		}
		if la.l.URL() != goneURL {
			t.Fatalf("%s was taken", tc.address)
		}
	}
	// Typing again hides the problem.
	s.typeText("x")
	s.waitGone("Use https://")

	// Escape: back to log in, on the server as it was.
	s.press(fyne.KeyEscape)
	s.waitText("Log in to Sessionguard")
	s.waitText("Server: " + goneURL)

	s.tap("Change server")
	s.setField(hintServer, b.url)
	s.tap("Continue")
	s.waitText("Server: " + b.url)
	s.waitText("Log in to Sessionguard")
	if s.shows("Can't reach") {
		t.Error("the old server's error is still shown")
	}
	s.setField("Password", password)
	s.tap("Log in")
	s.waitText("Only this device is logged in to your account.")
}

// TestClearAppDataThisDevice: with this device's own server, "Clear app
// data" says the account will be deleted, and deletes it: afterwards it
// no longer signs in, and Sessionguard asks where the account is, as on
// the first day.
func TestClearAppDataThisDevice(t *testing.T) {
	b := newBackend(t) // the UI's clock; the account lives on the launcher's own server
	e := newEnv(t, b)
	la := newLaunched(t)
	core, err := la.l.Choose(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	s := e.openLaunched(la, core)
	s.waitText("Server: this device")
	s.tap("Don't have an account? Sign up")
	s.waitText("Create your account")
	s.typeInto("Username", "ana")
	s.typeInto("Password", password)
	s.typeInto("Confirm password", password)
	s.press(fyne.KeyReturn)
	s.waitText("Only this device is logged in to your account.")

	s.tap("Settings")
	s.tap("Clear app data…")
	s.waitDialog("Delete your account and clear app data?")
	msg := s.dialogText()
	for _, want := range []string{"Your account lives on this device: ana will be deleted, with its devices and security activity, and can't be logged in to again.",
		"So will any other account kept here."} {
		if !strings.Contains(msg, want) {
			t.Errorf("the dialog does not say %q:\n%s", want, msg)
		}
	}
	s.tap("Delete and clear")
	s.waitDialog("App data cleared")
	if msg := s.dialogText(); !strings.Contains(msg, "• The accounts kept on this device were deleted") {
		t.Errorf("the summary says:\n%s", msg)
	}
	s.press(fyne.KeyReturn) // OK has the focus
	s.waitNoDialog()
	s.waitText("Where is your account?")
	if s.shows("Back to log in") {
		t.Error("a way back to a server that is gone")
	}
	s.tap("Continue") // This device, a new and empty one
	s.waitText("Log in to Sessionguard")
	s.typeInto("Username", "ana")
	s.typeInto("Password", password)
	s.tap("Log in")
	s.waitText("Wrong username or password.")
	if st := s.ui.snap.State; st != app.StateSignedOut {
		t.Fatalf("state %v after signing in to the deleted account", st)
	}
}

// TestClearAppDataWording: what "Clear app data?" promises, by where the
// account lives.
func TestClearAppDataWording(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        Info
		want, not []string
	}{
		{"this device", Info{Embedded: true, Server: "http://127.0.0.1:4000"},
			[]string{"ana will be deleted", "can't be logged in to again", "So will any other account kept here."}, []string{"stays on"}},
		{"remote", Info{Server: "https://sessions.example.com"},
			[]string{"Your account ana stays on sessions.example.com: log in again here or anywhere with its password."},
			[]string{"deleted", "can't be logged in"}},
		{"remote, with accounts on this device too", Info{Server: "https://sessions.example.com", LocalAccounts: true},
			[]string{"stays on sessions.example.com", "Accounts kept on this device's own server are deleted."}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clearDataText(tc.in, "ana")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not say %q", got, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("%q says %q", got, w)
				}
			}
		})
	}
}

// switchable is a device's network that the test turns off: the server
// refuses connections (it is down) or there is no network at all.
type switchable struct {
	state atomic.Int32 // netOn, netRefused, netNone
	rt    http.RoundTripper
}

const (
	netOn int32 = iota
	netRefused
	netNone
)

func (n *switchable) RoundTrip(r *http.Request) (*http.Response, error) {
	switch n.state.Load() {
	case netRefused:
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	case netNone:
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}
	}
	return n.rt.RoundTrip(r)
}

// TestUnreachableThenRetry: the server stops answering: the banner names
// it, says when the list was last updated, and offers Retry, which brings
// the app back at once once the server answers again.
func TestUnreachableThenRetry(t *testing.T) {
	b, e := withAna(t)
	d := b.device(laptop)
	n := &switchable{rt: &forwarded{ip: laptop.IP, rt: &http.Transport{}}}
	c, err := client.New(b.url, client.WithHTTPClient(&http.Client{Transport: n}))
	if err != nil {
		t.Fatal(err)
	}
	d.api = c
	d.core = app.New(app.Config{API: c, Prefs: d.prefs, Secrets: d.secrets, CacheDir: d.cache, Now: b.clock.Now,
		Device: func() api.Device { return laptop.Device }})
	t.Cleanup(func() { d.core.Close(ctx); c.CloseIdleConnections() })
	info := e.defaultInfo()
	info.Embedded, info.Server = false, "https://sessions.example.com"
	s := e.open(d, info)
	s.logIn("ana")
	s.waitLive()

	n.state.Store(netRefused)
	b.http.CloseClientConnections() // the stream drops, and cannot come back
	s.waitText("Can't reach sessions.example.com. Last updated today 09:4")
	s.waitText("• Not connected")
	if s.shows("You're offline") {
		t.Error("a server that does not answer is called offline")
	}
	n.state.Store(netOn)
	s.tap("Retry")
	s.waitText("• Live")
	s.waitGone("Can't reach")
	if st := d.core.Snapshot(); st.Offline || st.Err != "" {
		t.Fatalf("after Retry: offline %v, err %q", st.Offline, st.Err)
	}

	n.state.Store(netNone)
	b.http.CloseClientConnections()
	s.waitText("You're offline. Last updated today 09:4")
	n.state.Store(netOn)
	s.tap("Retry")
	s.waitGone("You're offline")
}

// TestLinkText: the banner's words for each reason.
func TestLinkText(t *testing.T) {
	now := time.Date(2030, 3, 14, 17, 30, 0, 0, time.UTC)
	remote := Info{Server: "https://sessions.example.com"}
	for _, tc := range []struct {
		s    app.Snapshot
		in   Info
		want string
	}{
		{app.Snapshot{Offline: true, Link: app.LinkOffline, LastUpdated: now.Add(-9 * time.Minute)}, remote,
			"You're offline. Last updated today 17:21. Actions that need the server are paused."},
		{app.Snapshot{Offline: true, Link: app.LinkUnreachable, LastUpdated: now.Add(-24 * time.Hour)}, remote,
			"Can't reach sessions.example.com. Last updated yesterday 17:30. Actions that need the server are paused."},
		{app.Snapshot{Offline: true, Link: app.LinkUnreachable, LastUpdated: time.Date(2029, 11, 21, 9, 41, 0, 0, time.UTC)}, remote,
			"Can't reach sessions.example.com. Last updated 21 Nov 2029, 09:41. Actions that need the server are paused."},
		{app.Snapshot{Offline: true, Link: app.LinkUnreachable}, Info{Server: "http://127.0.0.1:4000", Embedded: true},
			"Sessionguard's server on this device isn't answering. Actions that need the server are paused."},
	} {
		if got := linkText(tc.s, tc.in, now); got != tc.want {
			t.Errorf("linkText = %q\nwant        %q", got, tc.want)
		}
	}
}

// TestLogOutBackToLogIn: after signing up and logging out with "Remember
// login info", the log-in form shows (not sign-up), with Continue as.
func TestLogOutBackToLogIn(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	s := e.open(b.device(laptop), e.defaultInfo())
	s.tap("Don't have an account? Sign up")
	s.typeInto("Username", "ana")
	s.typeInto("Password", password)
	s.typeInto("Confirm password", password)
	s.tap("Sign up")
	s.waitText("Logged in on Ana's Laptop")
	s.logOut(true)
	s.waitText("Continue as ana")
	s.waitText("Log in to Sessionguard")
	if s.shows("Create your account") || s.shows("Confirm password") {
		t.Fatalf("back at sign-up after log out:\n%s", s.visibleText())
	}
}

// TestFixedFieldLosesItsError: an error under a field goes as soon as the
// person changes what is there ("too common" after typing more).
func TestFixedFieldLosesItsError(t *testing.T) {
	_, _, _, s := signedIn(t)
	s.openSettingsPage("Change password", "Choose a password you don't use anywhere else")
	s.typeInto(hintCurrentPassword, password)
	s.typeInto(hintNewPassword, "password12")
	s.typeInto(hintConfirmPassword, "password12")
	s.tap("Change password")
	s.waitUnder(hintNewPassword, "Password is too common and easy to guess.")
	s.typeInto(hintNewPassword, "-violet")
	s.waitGone("too common")
}

// TestTwoStepRecoveryCodes: the page says how many recovery codes are
// left, and makes new ones after the password, shown once like at setup.
// Off, nothing claims it is on: no ✓, and Settings says Off.
func TestTwoStepRecoveryCodes(t *testing.T) {
	b, _, d, s := signedIn(t)
	s.tap("Settings")
	s.waitText("Off")
	s.tap("Two-step verification")
	s.waitText("Two-step verification: Off")
	s.do(func() {
		for _, it := range s.items() {
			if b := asButton(it.o); b != nil && b.Icon != nil && b.Icon.Name() == theme.ConfirmIcon().Name() {
				s.fail("a ✓ on %q with two-step off", b.Text)
			}
		}
	})
	if s.shows("recovery code") {
		t.Error("recovery codes counted with two-step off")
	}

	setup, err := d.core.StartTwoStep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.core.ConfirmTwoStep(ctx, totpCode(t, setup.Secret, b.clock.Now())); err != nil {
		t.Fatal(err)
	}
	first := d.core.RecoveryCodes()
	s.tap("Done")
	s.press(fyne.KeyEscape)
	s.tap("Two-step verification")
	s.waitText("10 recovery codes left")

	b.staleProof()
	s.tap("Make new recovery codes")
	s.waitDialog("every code you have now stops working")
	s.tap("Make new codes")
	s.waitDialog("to make new recovery codes")
	if got := s.focusedHint(); got != "Password" {
		t.Fatalf("the password dialog focuses %q", got)
	}
	s.typeText(password)
	s.typeInto("Code from your authenticator app", totpCode(t, setup.Secret, b.clock.Now()))
	s.press(fyne.KeyReturn)
	s.waitText("Your recovery codes")
	codes := d.core.RecoveryCodes()
	if len(codes) != 10 || codes[0] == first[0] || !s.shows(codes[0]) {
		t.Fatalf("new codes %q (first was %q)", codes, first[0])
	}
	s.tap("Done")
	s.waitText("10 recovery codes left")
}

// TestCodesLeftText: the count in words, for every number.
func TestCodesLeftText(t *testing.T) {
	for n, want := range map[int]string{
		0:  "No recovery codes left. Make new ones, so that you can still log in without your phone.",
		1:  "Only 1 recovery code left. Make new ones before you run out.",
		3:  "Only 3 recovery codes left. Make new ones before you run out.",
		10: "10 recovery codes left, each for one log-in without your phone.",
	} {
		if got := codesLeftText(n); got != want {
			t.Errorf("codesLeftText(%d) = %q, want %q", n, got, want)
		}
	}
}
