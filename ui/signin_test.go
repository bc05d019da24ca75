package ui

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/server"
	"sessionguard/server/ratelimit"
)

// setField replaces the text of the field with placeholder hint, as
// selecting all and typing does.
func (s *screen) setField(hint, text string) {
	s.t.Helper()
	s.do(func() { s.entry(hint).SetText("") })
	s.typeInto(hint, text)
}

func TestSignInFieldErrors(t *testing.T) {
	b, e := withAna(t)
	s := e.open(b.device(laptop), e.defaultInfo())
	s.waitText("Log in to Sessionguard")

	for _, tc := range []struct {
		name, username, password string
		field, want              string
	}{
		{"empty username", "", "anything", "Username", "Enter your username."},
		{"blank username", "   ", "anything", "Username", "Enter your username."},
		{"empty password", "ana", "", "Password", "Enter your password."},
		{"wrong password", "ana", "not-the-password", "Password", "Wrong username or password."},
		{"unknown user", "nobody", password, "Password", "Wrong username or password."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			s.setField("Username", tc.username)
			s.setField("Password", tc.password)
			s.tap("Log in")
			s.settle()
			s.waitUnder(tc.field, tc.want)
			// Still on the sign-in form, ready for another try.
			if !s.shows("Log in to Sessionguard") {
				t.Fatalf("left the sign-in screen:\n%s", s.visibleText())
			}
			s.do(func() {
				if s.button("Log in").Disabled() || s.entry("Username").Disabled() {
					t.Error("the form stays disabled after the error")
				}
			})
		})
	}
	s.t = t
	// The right password clears the errors and signs in.
	s.setField("Username", "ana")
	s.setField("Password", password)
	s.tap("Log in")
	s.waitText("Logged in on Ana's Laptop")
	if s.shows("Wrong username or password.") {
		t.Fatal("the error is still shown after signing in")
	}
}

func TestSignInShowsProgressWhileWaiting(t *testing.T) {
	b, e := withAna(t)
	s := e.open(b.device(laptop), e.defaultInfo())
	release := b.hold("POST /v1/login")
	s.setField("Username", "ana")
	s.setField("Password", password)
	s.tap("Log in")

	s.waitFor("the progress bar", func() bool {
		return len(s.find(func(it item) bool { _, ok := it.o.(*widget.ProgressBarInfinite); return ok })) == 1
	})
	s.do(func() {
		for _, hint := range []string{"Username", "Password"} {
			if !s.entry(hint).Disabled() {
				t.Errorf("%s can be edited while signing in", hint)
			}
		}
		if !s.button("Log in").Disabled() {
			t.Error("Log in can be tapped again while signing in")
		}
	})
	release()
	s.waitText("Logged in on Ana's Laptop")
}

func TestSignInRateLimited(t *testing.T) {
	b := newBackend(t, func(c *server.Config) {
		c.AccountFailures = ratelimit.Config{Burst: 3, Window: 15 * time.Minute}
	})
	e := newEnv(t, b)
	b.account("ana")
	s := e.open(b.device(laptop), e.defaultInfo())
	s.setField("Username", "ana")
	for range 3 {
		s.setField("Password", "not-the-password")
		s.tap("Log in")
		s.settle()
		s.waitUnder("Password", "Wrong username or password.")
	}
	s.setField("Password", "not-the-password-either")
	s.tap("Log in")
	s.settle()
	s.waitText("Too many failed attempts. Try again in 15 minutes.")
	msg := s.visibleText()
	if !regexp.MustCompile(`Try again in 15 minutes\. \(you can try again at \d\d:\d\d:\d\d\)`).MatchString(msg) {
		t.Fatalf("the rate-limit message does not say when to try again:\n%s", msg)
	}
	// Even the right password waits.
	s.setField("Password", password)
	s.tap("Log in")
	s.settle()
	s.waitText("Too many failed attempts.")
	if s.shows("Logged in on") {
		t.Fatal("signed in while rate limited")
	}
}

func TestSignUp(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	b.account("taken")
	s := e.open(b.device(laptop), e.defaultInfo())
	s.tap("Don't have an account? Sign up")
	s.waitText("Create your account")
	if s.shows("Try the demo") {
		t.Error("sign-up offers the demo")
	}

	for _, tc := range []struct {
		name                        string
		username, password, confirm string
		field, want                 string
	}{
		{"no username", "", password, password, "Username", "Choose a username."},
		{"short password", "ben", "short", "short", "Password", "Use at least 8 characters."},
		{"mismatch", "ben", password, password + "s", "Confirm password", "The passwords don't match."},
		{"weak password from the server", "ben", "password1", "password1", "Password", "Password is too common and easy to guess."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			s.setField("Username", tc.username)
			s.setField("Password", tc.password)
			s.setField("Confirm password", tc.confirm)
			s.tap("Sign up")
			s.settle()
			s.waitUnder(tc.field, tc.want)
		})
	}
	s.t = t
	t.Run("username taken", func(t *testing.T) {
		s.t = t
		s.setField("Username", "taken")
		s.setField("Password", password)
		s.setField("Confirm password", password)
		s.tap("Sign up")
		s.waitText("That username is taken. Choose another.")
	})
	s.t = t

	s.setField("Username", "ben")
	s.setField("Password", password)
	s.setField("Confirm password", password)
	s.tap("Sign up")
	s.waitText("Logged in on Ana's Laptop")
	s.waitText("ben")
}

func TestSignUpToggleBackToLogIn(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	s := e.open(b.device(laptop), e.defaultInfo())
	s.tap("Don't have an account? Sign up")
	s.tap("Sign up") // empty form: an error to clear
	s.waitText("Choose a username.")
	s.tap("Have an account? Log in")
	s.waitText("Log in to Sessionguard")
	if s.shows("Choose a username.") {
		t.Fatal("the sign-up error is still shown on the log-in form")
	}
	s.do(func() {
		if n := len(s.find(func(it item) bool {
			e, ok := it.o.(*widget.Entry)
			return ok && e.PlaceHolder == "Confirm password"
		})); n != 0 {
			t.Error("the log-in form shows Confirm password")
		}
	})
}

func TestRememberMe(t *testing.T) {
	for _, tc := range []struct {
		name     string
		remember bool
	}{
		{"checked: signed in again after a restart", true},
		{"unchecked: the password is needed again", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, e := withAna(t)
			d := b.device(laptop)
			s := e.open(d, e.defaultInfo())
			s.waitText("Log in to Sessionguard")
			s.do(func() {
				c := s.rememberCheck()
				if !c.Checked || c.Disabled() {
					s.fail("Remember me: checked %v, disabled %v; want checked and enabled", c.Checked, c.Disabled())
				}
				if !tc.remember {
					test.Tap(c)
				}
			})
			s.logIn("ana")
			if keys := d.secretKeys(); (len(keys) == 1) != tc.remember {
				t.Fatalf("keyring holds %v with Remember me %v", keys, tc.remember)
			}

			s.close()
			d.build()
			s = e.open(d, e.defaultInfo())
			if tc.remember {
				s.waitText("Logged in on Ana's Laptop")
				return
			}
			s.waitText("Log in to Sessionguard")
			s.do(func() {
				if got := s.entry("Username").Text; got != "ana" {
					t.Errorf("username field = %q, want it filled with ana", got)
				}
			})
			if got := s.focusedHint(); got != "Password" {
				t.Errorf("focus on %q: the password field should have the focus when the username is known", got)
			}
		})
	}
}

// rememberCheck is the "Remember me" box. Call on the loop.
func (s *screen) rememberCheck() *widget.Check {
	found := s.find(func(it item) bool { c := asCheck(it.o); return c != nil && c.Text == "Remember me" })
	if len(found) != 1 {
		s.fail("%d Remember me boxes", len(found))
	}
	return asCheck(found[0].o)
}

func TestNoKeyring(t *testing.T) {
	b, e := withAna(t)
	d := b.device(laptop, noKeyring)
	s := e.open(d, e.defaultInfo())
	s.waitText("No secure storage (keyring) was found on this device, so you'll need to log in each time Sessionguard starts.")
	s.do(func() {
		c := s.rememberCheck()
		if c.Checked || !c.Disabled() {
			t.Errorf("Remember me: checked %v, disabled %v; want unchecked and disabled", c.Checked, c.Disabled())
		}
		test.Tap(c)
		if c.Checked {
			t.Error("a disabled Remember me could be checked")
		}
	})
	s.logIn("ana")
	s.tap("Settings")
	s.tap("Log out")
	s.waitDialog("Log out of ana?")
	if msg := s.dialogText(); !strings.Contains(msg, "Login info can't be remembered: No secure storage (keyring) was found") {
		t.Fatalf("the log-out dialog does not say why login info can't be remembered:\n%s", msg)
	}
	s.do(func() {
		found := s.find(func(it item) bool { c := asCheck(it.o); return c != nil && c.Text == "Remember login info" })
		if len(found) != 1 || !asCheck(found[0].o).Disabled() {
			t.Error("Remember login info is not disabled without a keyring")
		}
	})
	s.tap("Log out")
	s.waitText("Log in to Sessionguard")
	if s.shows("Continue as") {
		t.Fatal("an account was saved without a keyring")
	}
}

func TestSavedAccounts(t *testing.T) {
	_, e := withAna(t)
	d, s := e.anaOn(laptop)

	logOutRemembering := func() {
		t.Helper()
		s.logOut(true)
		s.waitText("Continue as ana")
		s.waitText("or log in with your password")
	}

	// Log out with "Remember login info": one tap signs in again.
	logOutRemembering()
	s.tap("Continue as ana")
	s.waitText("Logged in on Ana's Laptop")

	// Remove it: confirm first, and "Cancel" keeps it.
	logOutRemembering()
	s.tapIcon(theme.DeleteIcon())
	s.waitDialog("Remove ana?")
	if msg := s.dialogText(); !strings.Contains(msg, "You will need the password to log in to ana on this device again.") {
		t.Fatalf("the remove dialog says:\n%s", msg)
	}
	s.tap("Cancel")
	s.waitNoDialog()
	if !s.shows("Continue as ana") {
		t.Fatal("Cancel removed the saved account")
	}
	s.tapIcon(theme.DeleteIcon())
	s.waitDialog("Remove ana?")
	s.tap("Remove")
	s.waitGone("Continue as ana")
	if keys := d.secretKeys(); len(keys) != 0 {
		t.Fatalf("keyring still holds %v after removing the saved account", keys)
	}
	if s.shows("or log in with your password") {
		t.Fatal("the saved-accounts section is still shown")
	}
}

func TestEnterSubmitsForms(t *testing.T) {
	t.Run("log in", func(t *testing.T) {
		b, e := withAna(t)
		s := e.open(b.device(laptop), e.defaultInfo())
		s.waitText("Log in to Sessionguard")
		if got := s.focusedHint(); got != "Username" {
			t.Fatalf("focus at start: %q, want Username", got)
		}
		s.enter("ana")
		if got := s.focusedHint(); got != "Password" {
			t.Fatalf("Enter in Username moved the focus to %q, want Password", got)
		}
		s.enter(password)
		s.waitText("Logged in on Ana's Laptop")
	})
	t.Run("sign up", func(t *testing.T) {
		b := newBackend(t)
		e := newEnv(t, b)
		s := e.open(b.device(laptop), e.defaultInfo())
		s.tap("Don't have an account? Sign up")
		s.typeInto("Username", "ben")
		s.press(fyne.KeyReturn)
		s.enter(password)
		if got := s.focusedHint(); got != "Confirm password" {
			t.Fatalf("Enter in Password moved the focus to %q, want Confirm password", got)
		}
		s.enter(password)
		s.waitText("Logged in on Ana's Laptop")
	})
}

// serverChoice is a UseServer hook on test backends, as main provides.
type serverChoice struct {
	e    *env
	b    *backend
	mu   sync.Mutex
	urls []string
	wg   sync.WaitGroup

	tryDemo func() (string, string, error)
}

func (c *serverChoice) use(url string) (*app.App, Info, error) {
	c.mu.Lock()
	c.urls = append(c.urls, url)
	c.mu.Unlock()
	info := c.e.defaultInfo()
	info.TryDemo = c.tryDemo
	if url != "" {
		if _, err := client.New(url); err != nil {
			return nil, Info{}, err
		}
		info.Embedded, info.Server = false, url
	}
	d := c.b.device(laptop)
	c.wg.Add(1)
	go func() { defer c.wg.Done(); _ = d.core.Start(ctx) }() // as main does
	return d.core, info, nil
}

func TestFirstRunServerChoice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remote bool
		server string // shown under the sign-in form
	}{
		{"this device", false, "Server: this device"},
		{"a Sessionguard server", true, "Server: http://127.0.0.1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			e := newEnv(t, b)
			choice := &serverChoice{e: e, b: b, tryDemo: func() (string, string, error) { return "", "", errors.New("unused") }}
			t.Cleanup(choice.wg.Wait)
			info := e.defaultInfo()
			info.FirstRun, info.UseServer, info.TryDemo = true, choice.use, choice.tryDemo
			s := e.open(b.device(laptop), info)
			s.waitText("Where is your account?")
			s.do(func() {
				if !s.entry("https://sessions.example.com").Disabled() {
					t.Error("the address can be typed with This device chosen")
				}
			})
			if tc.remote {
				s.tap("A Sessionguard server")
				if got := s.focusedHint(); got != "https://sessions.example.com" {
					t.Fatalf("choosing a server focused %q, want the address", got)
				}
				s.tap("Continue")
				s.waitText("Enter the server's address.")
				s.typeInto("https://sessions.example.com", "http://sessions.example.com")
				s.press(fyne.KeyReturn)
				s.waitText("That address isn't secure: plain http:// only works for a server on this computer. Use https://sessions.example.com.")
				s.setField("https://sessions.example.com", b.url)
			}
			s.tap("Continue")
			s.waitText("Log in to Sessionguard")
			s.waitText(tc.server)
			if got := s.shows("Try the demo"); got == tc.remote {
				t.Errorf("Try the demo shown = %v on %s", got, tc.name)
			}
			want := []string{""}
			if tc.remote {
				want = []string{"http://sessions.example.com", b.url}
			}
			choice.mu.Lock()
			got := slices.Clone(choice.urls)
			choice.mu.Unlock()
			if !slices.Equal(got, want) {
				t.Errorf("UseServer called with %q, want %q", got, want)
			}
			// The new core works: sign in through it.
			b.account("ana")
			s.logIn("ana")
		})
	}
}

func TestTryTheDemo(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	info := e.defaultInfo()
	info.TryDemo = b.tryDemo
	s := e.open(b.device(laptop), info)
	s.tap("Try the demo")
	s.waitText("Logged in on Ana's Laptop")
	s.waitText("6 devices are logged in to your account.")
	s.openLoginActivity()
	for _, name := range []string{"Ana's Pixel 8", "Work laptop", "iPad", "MacBook Air", "Hotel lobby PC"} {
		s.waitText(name)
	}
}

func TestTryTheDemoHiddenOrFailing(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	fail := func() (string, string, error) { return "", "", errors.New("disk full") }
	for _, tc := range []struct {
		name     string
		tryDemo  func() (string, string, error)
		embedded bool
		shown    bool
	}{
		{"no hook", nil, true, false},
		{"remote server", fail, false, false},
		{"this device", fail, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := e.defaultInfo()
			info.TryDemo, info.Embedded = tc.tryDemo, tc.embedded
			s := e.openWindow(b.device(laptop), info, fyne.NewSize(440, 760))
			s.t = t
			if err := s.d.core.Start(ctx); err != nil {
				t.Fatal(err)
			}
			s.waitText("Log in to Sessionguard")
			if got := s.shows("Try the demo"); got != tc.shown {
				t.Fatalf("Try the demo shown = %v, want %v", got, tc.shown)
			}
			if tc.shown {
				s.tap("Try the demo")
				s.waitText("The demo could not be set up: disk full")
			}
			s.close()
		})
	}
}

func TestLoggedOutNoticeDismiss(t *testing.T) {
	b, e := withAna(t)
	d, s := e.anaOn(laptop)
	s.waitLive()
	other, _ := b.signInElsewhere(phone, "ana")
	id := d.core.Snapshot().Session.ID
	if _, err := other.RevokeSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	s.waitText("You were logged out")
	s.waitText("You were logged out by Pixel 8 at 09:41 today. If that wasn't you, log in and change your password.")
	s.tap("Dismiss")
	s.waitGone("You were logged out")
	if d.core.Snapshot().State != app.StateSignedOut {
		t.Fatal("not signed out")
	}
}
