package ui

// Several accounts on one device (issue 14): app.Accounts over two real
// sessiond servers (real SQLite, over HTTP), driven through the window.
// The first server plays this device's own ("local"), the second a remote
// Sessionguard server.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
)

// multiDevice is one install with app.Accounts: one secret store and one
// set of preferences shared by every account's core, as on a real device.
type multiDevice struct {
	t       *testing.T
	spec    spec
	local   *backend // "local": this device's own server
	secrets *platform.Memory
	prefs   *platform.MemoryPrefs
	cache   string
	m       *app.Accounts

	mu      sync.Mutex
	clients []*client.Client
	closed  bool
}

// multi makes an install of sp whose own server is local. Call it after
// newEnv, so that the accounts close before the loop and the servers stop.
func (e *env) multi(sp spec, local *backend) *multiDevice {
	e.t.Helper()
	md := &multiDevice{t: e.t, spec: sp, local: local, secrets: platform.NewMemory(), prefs: platform.NewMemoryPrefs(),
		cache: filepath.Join(e.t.TempDir(), "cache")}
	md.m = app.NewAccounts(app.AccountsConfig{Open: md.open, Prefs: md.prefs, Secrets: md.secrets,
		Server: app.ServerLocal, CacheDir: md.cache})
	e.t.Cleanup(func() {
		md.m.Close(ctx)
		md.mu.Lock()
		md.closed = true
		for _, c := range md.clients {
			c.CloseIdleConnections()
		}
		md.mu.Unlock()
	})
	return md
}

// open is AccountsConfig.Open: a core for server ("local" or a backend's
// address) whose per-account state is kept under slot.
func (md *multiDevice) open(server, slot string) (*app.App, error) {
	addr := server
	if server == app.ServerLocal {
		addr = md.local.url
	}
	c, err := client.New(addr, client.WithHTTPClient(&http.Client{
		Transport: &forwarded{ip: md.spec.IP, rt: &http.Transport{}}}))
	if err != nil {
		return nil, err
	}
	md.mu.Lock()
	if md.closed {
		md.mu.Unlock()
		return nil, errors.New("closed")
	}
	md.clients = append(md.clients, c)
	md.mu.Unlock()
	return app.New(app.Config{
		API: c, Secrets: md.secrets, Prefs: md.prefs, CacheDir: filepath.Join(md.cache, slot), Now: md.local.clock.Now,
		IsNotFound:    func(err error) bool { return errors.Is(err, platform.ErrNotFound) },
		ClearPrefKeys: []string{platform.PrefInstallID, platform.PrefDeviceName},
		Device:        func() api.Device { return md.spec.Device },
		Server:        server, Slot: slot,
	}), nil
}

// useServer is main's Info.UseServer in accounts mode: the sign-in screen
// moves to the server at address ("": this device's own).
func (md *multiDevice) useServer(address string) (*app.App, Info, error) {
	server := address
	if address == "" {
		server = app.ServerLocal
	}
	core, err := md.m.UseServer(ctx, server)
	if err != nil {
		return nil, Info{}, err
	}
	return core, md.info(), nil
}

// info is what main passes with several accounts: the saved server is
// this device's own.
func (md *multiDevice) info() Info {
	return Info{Name: "Sessionguard", Version: "1.0.0", Server: app.ServerLocal, Embedded: true,
		DataDir: "/home/ana/.local/share/sessionguard", UseServer: md.useServer}
}

// waitAccounts polls the accounts until cond holds.
func (md *multiDevice) waitAccounts(what string, cond func(app.AccountsSnapshot) bool) app.AccountsSnapshot {
	md.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		s := md.m.Snapshot()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			md.t.Fatalf("timed out waiting for %s; accounts %+v", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// entry is the signed-in account username, if it is one.
func entryOf(s app.AccountsSnapshot, username string) (app.AccountEntry, bool) {
	i := slices.IndexFunc(s.Accounts, func(e app.AccountEntry) bool { return e.Account.Username == username })
	if i < 0 {
		return app.AccountEntry{}, false
	}
	return s.Accounts[i], true
}

// waitLiveAccount waits until username's event stream is connected, so
// that changes on its server reach it in the background.
func (md *multiDevice) waitLiveAccount(username string) {
	md.t.Helper()
	md.waitAccounts(username+" live", func(s app.AccountsSnapshot) bool {
		e, ok := entryOf(s, username)
		return ok && e.Live
	})
}

// openAccounts loads the accounts and shows them in a window of size.
func (e *env) openAccounts(md *multiDevice, size fyne.Size) *screen {
	e.t.Helper()
	if err := md.m.Load(); err != nil {
		e.t.Fatal(err)
	}
	s := &screen{t: e.t, e: e, d: &device{t: e.t, b: md.local, spec: md.spec}}
	s.do(func() {
		s.win = e.app.NewWindow(md.spec.Name)
		s.win.Resize(size)
		s.ui = NewAccounts(s.win, md.m, md.info())
		s.ui.Start()
		s.win.Show()
	})
	e.t.Cleanup(func() {
		_ = e.loop.call(func() {
			s.ui.Stop()
			s.win.Close()
		})
	})
	if err := md.m.Start(ctx); err != nil {
		e.t.Logf("start: %v", err)
	}
	return s
}

// twoServers starts a test: this device's own server with ana, and a
// remote one with bob.
func twoServers(t *testing.T) (local, remote *backend, e *env) {
	t.Helper()
	local, remote = newBackend(t), newBackend(t)
	e = newEnv(t, local)
	local.account("ana")
	remote.account("bob")
	return local, remote, e
}

// host is how the switcher names a server at url: its host and port.
func host(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

// addAccount adds username on server (a backend's address; "" for this
// device's own) from the account menu, as a person would.
func (s *screen) addAccount(current, username, server string) {
	s.t.Helper()
	s.tap(current) // the account menu
	s.waitDialog("Add account")
	s.tap("Add account")
	s.waitText("Add an account")
	if server != "" {
		s.tap("Change server")
		s.waitText("Where is your account?")
		s.tap("A Sessionguard server")
		s.setField(hintServer, server)
		s.tap("Continue")
		s.waitText("Server: " + server)
		s.waitText("Add an account")
	}
	s.do(func() {
		if got := s.entry("Username").Text; got != "" {
			s.fail("the form for another account is filled with %q", got)
		}
	})
	s.typeInto("Username", username)
	s.typeInto("Password", password)
	s.tap("Log in")
	s.waitText("Logged in on " + s.d.spec.Name)
	s.waitAccountMenu(username)
}

// waitAccountMenu waits until home's account menu names username.
func (s *screen) waitAccountMenu(username string) {
	s.t.Helper()
	s.waitFor("the account menu naming "+username, func() bool {
		return len(s.find(func(it item) bool {
			b, ok := it.o.(*keyButton)
			return ok && b.Text == username && b.IconPlacement == widget.ButtonIconTrailingText
		})) == 1
	})
}

// anaAndBob signs ana in on this device's server, then adds bob on the
// remote one: bob shows, ana is in the background.
func anaAndBob(t *testing.T, size fyne.Size) (local, remote *backend, e *env, md *multiDevice, s *screen) {
	t.Helper()
	local, remote, e = twoServers(t)
	md = e.multi(laptop, local)
	s = e.openAccounts(md, size)
	s.logIn("ana")
	s.waitAccountMenu("ana")
	s.addAccount("ana", "bob", remote.url)
	return local, remote, e, md, s
}

// rowTexts is what the switcher's row for username says, line by line.
func (s *screen) rowTexts(username string) []string {
	var out []string
	s.do(func() {
		for _, it := range s.items() {
			r, ok := it.o.(*accountRow)
			if !ok || r.entry.Account.Username != username {
				continue
			}
			walk(r, fyne.Position{}, nil, true, func(it item) {
				if l, ok := it.o.(*widget.Label); ok && l.Text != "" {
					out = append(out, l.Text)
				}
			})
		}
	})
	return out
}

func TestAccountsAddAndSwitchAccount(t *testing.T) {
	local, remote, e := twoServers(t)
	_ = local
	md := e.multi(laptop, local)
	s := e.openAccounts(md, fyne.NewSize(440, 760))
	s.logIn("ana")
	s.waitAccountMenu("ana")

	// One account: no "Log out of all accounts"; the server is this device.
	s.tap("Settings")
	s.waitText("Security activity")
	if s.shows("Log out of all accounts") {
		t.Error("Log out of all accounts is offered with one account")
	}
	s.do(func() {
		if got := drawn(s.label("This device")); got != "This device" {
			t.Errorf("the Server entry shows %q", got)
		}
	})
	s.press(fyne.KeyEscape)
	s.waitText("Logged in on Ana's Laptop")

	// The account menu: ana, shown now, and Add account.
	s.tap("ana")
	s.waitDialog("Add account")
	if got, want := s.rowTexts("ana"), []string{"ana", "This device", "Shown now"}; !slices.Equal(got, want) {
		t.Errorf("ana's row says %q, want %q", got, want)
	}
	// Add account, then change the mind: Cancel, and Escape, go back to ana.
	s.tap("Add account")
	s.waitText("Add an account")
	s.tap("Cancel")
	s.waitAccountMenu("ana")
	s.tap("ana")
	s.tap("Add account")
	s.waitText("Add an account")
	s.press(fyne.KeyEscape)
	s.waitAccountMenu("ana")

	// bob on the remote server, beside ana.
	s.addAccount("ana", "bob", remote.url)
	bobHost := host(t, remote.url)
	s.tap("Settings")
	s.waitText("Log out of all accounts")
	s.do(func() {
		if got := drawn(s.label(bobHost)); got != bobHost {
			t.Errorf("bob's Server entry shows %q, want %q", got, bobHost)
		}
	})
	s.press(fyne.KeyEscape)
	s.waitAccountMenu("bob")

	s.tap("bob")
	s.waitDialog("Add account")
	if got, want := s.rowTexts("ana"), []string{"ana", "This device", "Tap to switch"}; !slices.Equal(got, want) {
		t.Errorf("ana's row says %q, want %q", got, want)
	}
	if got, want := s.rowTexts("bob"), []string{"bob", bobHost, "Shown now"}; !slices.Equal(got, want) {
		t.Errorf("bob's row says %q, want %q", got, want)
	}
	// Switching is instant: ana's home, from what her core already has.
	release := local.hold("GET /v1/sessions") // nothing may wait for the server
	s.tap("ana")
	s.waitAccountMenu("ana")
	s.waitText("Logged in on Ana's Laptop")
	release()
	// From the keyboard: the menu opens on the account shown; Tab, Enter.
	s.tap("ana")
	s.waitDialog("Add account")
	s.do(func() {
		r, ok := s.win.Canvas().Focused().(*accountRow)
		if !ok || r.entry.Account.Username != "ana" {
			s.fail("the switcher opened with %T focused, want ana's row", s.win.Canvas().Focused())
		}
		s.win.Canvas().FocusNext()
	})
	s.press(fyne.KeyReturn)
	s.waitAccountMenu("bob")
	s.waitNoDialog()

	// Log out of one account: the next one shows.
	s.tap("Settings")
	s.tap("Log out bob")
	s.waitDialog("Log out of bob?")
	s.tap("Log out")
	s.waitAccountMenu("ana")
	s.waitText("Logged in on Ana's Laptop")
	md.waitAccounts("ana alone", func(a app.AccountsSnapshot) bool { return len(a.Accounts) == 1 })
}

func TestAccountsBackgroundAlertBadge(t *testing.T) {
	local, _, e, md, s := anaAndBob(t, fyne.NewSize(440, 760))
	md.waitLiveAccount("ana")
	before := len(e.notifications())

	// Someone signs in to ana (in the background) on a phone in Berlin.
	local.signInElsewhere(phone, "ana")
	md.waitAccounts("an alert for ana", func(a app.AccountsSnapshot) bool {
		x, ok := entryOf(a, "ana")
		return ok && x.Alerts == 1
	})
	// A badge on the account menu, and a notification naming the account.
	s.waitFor("the badge", func() bool {
		return len(s.find(func(it item) bool { a, ok := it.o.(*letterAvatar); return ok && a.text.Text == "1" })) == 1
	})
	notes := e.notifications()[before:]
	if len(notes) != 1 {
		t.Fatalf("notifications: %+v, want one", notes)
	}
	if n := notes[0]; n.Title != "New sign-in to ana's account" ||
		n.Content != "ana (This device): New sign-in on Pixel 8 near Berlin, Germany — was this you? Switch to ana to check." {
		t.Errorf("notification %q: %q", n.Title, n.Content)
	}
	if s.shows("New sign-in on Pixel 8") {
		t.Error("bob's home shows ana's alert")
	}
	s.tap("bob")
	s.waitDialog("Add account")
	if got, want := s.rowTexts("ana"), []string{"ana", "This device", "1 new sign-in"}; !slices.Equal(got, want) {
		t.Errorf("ana's row says %q, want %q", got, want)
	}
	// Switching to ana shows the alert there; the badge goes, and the
	// notification is not sent again.
	s.tap("ana")
	s.waitAccountMenu("ana")
	s.waitText("New sign-in on Pixel 8 near Berlin, Germany — was this you?")
	s.waitFor("no badge", func() bool {
		return len(s.find(func(it item) bool { a, ok := it.o.(*letterAvatar); return ok && a.text.Text == "1" })) == 0
	})
	s.tap("Yes, it was me")
	s.waitGone("New sign-in on")
	if n := len(e.notifications()) - before; n != 1 {
		t.Errorf("%d notifications, want 1", n)
	}
}

func TestAccountsRemoteLogoutOfBackgroundAccount(t *testing.T) {
	local, remote, _, md, s := anaAndBob(t, fyne.NewSize(440, 760))
	md.waitLiveAccount("ana")

	// From ana's phone, the laptop's ana session is logged out.
	revokeLaptopFromPhone(t, local, "ana", false)
	// bob stays; a notice says which account, by which device, when.
	s.waitDialog("ana (this device) was logged out by Pixel 8 at 09:41 today. If that wasn't you, log in again and change its password.")
	if got := s.dialogText(); !strings.Contains(got, "An account was logged out") {
		t.Errorf("the notice is titled: %q", got)
	}
	s.tap("OK")
	s.waitNoDialog()
	md.waitAccounts("the notice dismissed", func(a app.AccountsSnapshot) bool { return len(a.Notices) == 0 })
	s.waitAccountMenu("bob")
	s.tap("bob")
	s.waitDialog("Add account")
	if got := s.rowTexts("ana"); len(got) != 0 {
		t.Errorf("ana is still in the switcher: %q", got)
	}
	if got, want := s.rowTexts("bob"), []string{"bob", host(t, remote.url), "Shown now"}; !slices.Equal(got, want) {
		t.Errorf("bob's row says %q, want %q", got, want)
	}
	s.press(fyne.KeyEscape)
	s.waitNoDialog()
	s.tap("Settings")
	s.waitText("Security activity")
	if s.shows("Log out of all accounts") {
		t.Error("Log out of all accounts is offered with one account left")
	}
}

// logOutAll opens "Log out of all accounts" from Settings.
func (s *screen) openLogOutAll() {
	s.t.Helper()
	s.tap("Settings")
	s.tap("Log out of all accounts")
	s.waitDialog("Log out of all 2 accounts?")
}

// tapCheck taps the top-most check labelled label.
func (s *screen) tapCheck(label string) {
	s.t.Helper()
	s.do(func() {
		found := s.find(func(it item) bool { c := asCheck(it.o); return c != nil && c.Text == label })
		if len(found) == 0 {
			s.fail("no check %q; the screen shows:\n%s", label, strings.Join(s.texts(), "\n"))
		}
		test.Tap(found[len(found)-1].o.(fyne.Tappable))
	})
}

// checked reports whether the check labelled label is ticked.
func (s *screen) checked(label string) (on, partial bool) {
	s.do(func() {
		found := s.find(func(it item) bool { c := asCheck(it.o); return c != nil && c.Text == label })
		if len(found) == 0 {
			s.fail("no check %q; the screen shows:\n%s", label, strings.Join(s.texts(), "\n"))
		}
		c := asCheck(found[len(found)-1].o)
		on, partial = c.Checked, c.Partial
	})
	return on, partial
}

func TestLogOutOfAllAccountsRemember(t *testing.T) {
	local, remote, _, md, s := anaAndBob(t, fyne.NewSize(1280, 800))
	bobHost := host(t, remote.url)
	s.openLogOutAll()
	anaLine, bobLine := "ana", "bob"
	s.waitDialog(bobHost) // each account with its server
	s.waitDialog("This device")
	// One choice for all, on by default, with each account's under it.
	for _, label := range []string{"Remember login info", anaLine, bobLine} {
		if on, _ := s.checked(label); !on {
			t.Errorf("%q is not ticked", label)
		}
	}
	s.tapCheck("Remember login info")
	for _, label := range []string{anaLine, bobLine} {
		if on, _ := s.checked(label); on {
			t.Errorf("%q stayed ticked after unticking all", label)
		}
	}
	s.tapCheck(anaLine)
	if on, partial := s.checked("Remember login info"); on || !partial {
		t.Errorf("with one of two ticked, all is on=%v partial=%v", on, partial)
	}
	s.tapCheck(bobLine)
	if on, partial := s.checked("Remember login info"); !on || partial {
		t.Errorf("with both ticked, all is on=%v partial=%v", on, partial)
	}
	s.tap("Log out of 2 accounts")
	s.waitDialog("ana (this device) — logged out; login info saved for next time.")
	s.waitDialog("bob (" + bobHost + ") — logged out; login info saved for next time.")
	if got := s.dialogText(); !strings.Contains(got, "Logged out of all accounts") {
		t.Errorf("the outcome is titled: %q", got)
	}
	s.tap("OK")
	s.waitNoDialog()
	md.waitAccounts("the outcome dismissed", func(a app.AccountsSnapshot) bool {
		return len(a.LastLogoutAll) == 0 && len(a.Accounts) == 0
	})

	// Sign-in, on bob's server (shown last), offers both: ana says where.
	s.waitText("Log in to Sessionguard")
	s.waitText("Continue as ana")
	s.waitText("Continue as bob")
	s.waitText("On this device")
	s.waitText("Server: " + remote.url)
	if s.shows("Add an account") || s.shows("Cancel") {
		t.Error("the sign-in after logging out of all can be cancelled")
	}
	// Both sessions ended on their servers.
	if n := local.liveSessions(t, "ana"); n != 0 {
		t.Errorf("ana still has %d sessions", n)
	}
	if n := remote.liveSessions(t, "bob"); n != 0 {
		t.Errorf("bob still has %d sessions", n)
	}
	// One tap signs ana back in, on her own server.
	s.tap("Continue as ana")
	s.waitAccountMenu("ana")
	s.waitText("Logged in on Ana's Laptop")
	s.tap("Settings")
	s.waitText("Security activity")
	s.do(func() {
		if got := drawn(s.label("This device")); got != "This device" {
			t.Errorf("ana's Server entry shows %q", got)
		}
	})
}

// liveSessions counts username's live sessions on b.
func (b *backend) liveSessions(t *testing.T, username string) int {
	t.Helper()
	a, err := b.st.AccountByUsername(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	list, err := b.st.ListSessions(ctx, a.ID, "", b.clock.Now(), nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func TestLogOutOfAllAccountsEachOwnChoice(t *testing.T) {
	_, remote, _, _, s := anaAndBob(t, fyne.NewSize(440, 760))
	bobHost := host(t, remote.url)
	s.openLogOutAll()
	s.tapCheck("bob") // remember ana only
	s.tap("Log out of 2 accounts")
	s.waitDialog("ana (this device) — logged out; login info saved for next time.")
	s.waitDialog("bob (" + bobHost + ") — logged out.")
	s.press(fyne.KeyEscape)
	s.waitNoDialog()
	s.waitText("Continue as ana")
	if s.shows("Continue as bob") {
		t.Error("bob's login info was remembered against the choice")
	}
}

func TestAccountsRefuseTheSameAccountTwice(t *testing.T) {
	_, _, e := twoServers(t)
	md := e.multi(laptop, e.b)
	s := e.openAccounts(md, fyne.NewSize(440, 760))
	s.logIn("ana")
	s.waitAccountMenu("ana")
	s.tap("ana")
	s.tap("Add account")
	s.waitText("Add an account")
	s.typeInto("Username", "ana")
	s.typeInto("Password", password)
	s.tap("Log in")
	s.waitUnder("Username", "You're already logged in as ana on this server; switch to it from the account menu.")
	s.tap("Cancel")
	s.waitAccountMenu("ana")
	if n := len(md.m.Snapshot().Accounts); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
}

func TestAccountsCapAtTen(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	md := e.multi(laptop, b)
	s := e.openAccounts(md, fyne.NewSize(440, 760))
	names := make([]string, app.MaxAccounts)
	for i := range names {
		names[i] = fmt.Sprintf("user%d", i)
		b.account(names[i])
	}
	s.logIn(names[0])
	for i := 1; i < len(names); i++ {
		s.addAccount(names[i-1], names[i], "")
	}
	s.tap(names[len(names)-1])
	s.waitDialog("You can add up to 10 accounts on this device; log out of one first.")
	s.do(func() {
		if !s.button("Add account").Disabled() {
			t.Error("Add account is enabled at the cap")
		}
		for _, n := range names {
			if got := drawn(s.label(n)); got != n {
				t.Errorf("the switcher shows %q for %s", got, n)
			}
		}
	})
}

// TestSwitchAccountFitsAPhone: at 440×760 (and 1280×800), the account
// menu, the switcher and the log-out-of-all dialog show every name and
// server whole, inside the window.
func TestSwitchAccountFitsAPhone(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(440, 760), fyne.NewSize(1280, 800)} {
		t.Run(fmt.Sprintf("%vx%v", size.Width, size.Height), func(t *testing.T) {
			local, remote := newBackend(t), newBackend(t)
			e := newEnv(t, local)
			long := "bartholomew.longname-account_x1" // 31 characters
			local.account("ana")
			remote.account(long)
			md := e.multi(laptop, local)
			s := e.openAccounts(md, size)
			s.logIn("ana")
			s.waitAccountMenu("ana")
			s.addAccount("ana", long, remote.url)
			wholeAndInside := func(texts ...string) {
				t.Helper()
				s.do(func() {
					for _, txt := range texts {
						found := s.find(func(it item) bool { l, ok := it.o.(*widget.Label); return ok && l.Text == txt })
						if len(found) == 0 {
							s.fail("no %q; the screen shows:\n%s", txt, strings.Join(s.texts(), "\n"))
						}
						it := found[len(found)-1]
						if got := drawn(it.o); got != txt {
							t.Errorf("%q is drawn as %q", txt, got)
						}
						if it.pos.X < 0 || it.pos.X+it.o.MinSize().Width > size.Width+1 {
							t.Errorf("%q at x %v, %v wide, is outside the %v-wide window", txt, it.pos.X, it.o.MinSize().Width, size.Width)
						}
					}
				})
			}
			s.do(func() {
				found := s.find(func(it item) bool { b, ok := it.o.(*keyButton); return ok && b.Text == long })
				if len(found) != 1 {
					s.fail("no account menu naming %s", long)
				}
				it := found[0]
				if got := drawn(it.o); !strings.Contains(got, long) {
					t.Errorf("the account menu is drawn as %q", got)
				}
				if it.pos.X < 0 || it.pos.X+it.o.Size().Width > size.Width {
					t.Errorf("the account menu at x %v, %v wide, is outside the window", it.pos.X, it.o.Size().Width)
				}
			})
			s.tap(long)
			s.waitDialog("Add account")
			wholeAndInside("ana", "This device", long, host(t, remote.url), "Shown now")
			s.press(fyne.KeyEscape)
			s.waitNoDialog()
			s.openLogOutAll()
			wholeAndInside("This device", host(t, remote.url))
			s.do(func() {
				for _, label := range []string{"ana", long} {
					found := s.find(func(it item) bool { c := asCheck(it.o); return c != nil && c.Text == label })
					if len(found) == 0 {
						s.fail("no check %q", label)
					}
					it := found[0]
					if it.pos.X+it.o.MinSize().Width > size.Width+1 {
						t.Errorf("%q is cut off at the window's edge", label)
					}
				}
			})
		})
	}
}

func TestAccountsClearAppDataEndsAll(t *testing.T) {
	local, remote, _, md, s := anaAndBob(t, fyne.NewSize(440, 760))
	s.tap("Settings")
	s.tap("Clear app data…")
	s.waitDialog("It ends all 2 accounts signed in here, each on its server:\n• ana — This device\n• bob — " + host(t, remote.url))
	s.tap("Clear app data")
	s.waitDialog("App data cleared")
	s.waitText("Where is your account?")
	if n := len(md.m.Snapshot().Accounts); n != 0 {
		t.Errorf("%d accounts left", n)
	}
	if n := local.liveSessions(t, "ana"); n != 0 {
		t.Errorf("ana still has %d sessions", n)
	}
	if n := remote.liveSessions(t, "bob"); n != 0 {
		t.Errorf("bob still has %d sessions", n)
	}
}

// TestLogOutOfAllAccountsWithAServerDown: bob's server does not answer.
// Each account says how its log out went; bob's tokens are gone from this
// device all the same, and the person is told the server keeps the
// session.
func TestLogOutOfAllAccountsWithAServerDown(t *testing.T) {
	_, remote, _, md, s := anaAndBob(t, fyne.NewSize(440, 760))
	bobHost := host(t, remote.url)
	remote.stop()
	s.openLogOutAll()
	s.tap("Log out of 2 accounts")
	s.waitDialog("ana (this device) — logged out; login info saved for next time.")
	s.waitDialog("bob (" + bobHost + ") — logged out. You are logged out on this device, but the server could not be told")
	if got := s.dialogText(); !strings.Contains(got, "Logged out, with problems") {
		t.Errorf("the outcome is titled: %q", got)
	}
	s.tap("OK")
	s.waitText("Continue as ana")
	keys, err := md.secrets.Keys()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "refresh:") {
			t.Errorf("a sign-in token is left in the keyring: %s", k)
		}
	}
}

// TestAccountsLogOutOneWithItsServerDown: logging out the account shown
// while its server does not answer shows the next account, and says that
// the server keeps the session.
func TestAccountsLogOutOneWithItsServerDown(t *testing.T) {
	_, remote, _, _, s := anaAndBob(t, fyne.NewSize(440, 760))
	remote.stop()
	s.tap("Settings")
	s.tap("Log out bob")
	s.waitDialog("Log out of bob?")
	s.tap("Log out")
	s.waitAccountMenu("ana")
	s.waitDialog("You are logged out on this device, but the server could not be told")
	s.tap("OK")
	s.waitNoDialog()
	s.waitText("Logged in on Ana's Laptop")
}

// revokeLaptopFromPhone signs user in on a phone of backend b and, from
// there, logs the laptop's session out (with erase, asking it to erase
// its data).
func revokeLaptopFromPhone(t *testing.T, b *backend, user string, erase bool) {
	t.Helper()
	phoneAPI, _ := b.signInElsewhere(phone, user)
	page, err := phoneAPI.Sessions(ctx, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(page.Sessions, func(x api.Session) bool { return x.Device.Name == laptop.Name })
	if i < 0 {
		t.Fatalf("no laptop session in %+v", page.Sessions)
	}
	if _, err := phoneAPI.RevokeSessionErasing(ctx, page.Sessions[i].ID, erase); err != nil {
		t.Fatal(err)
	}
}
