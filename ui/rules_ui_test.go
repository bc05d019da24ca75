package ui

// Device rules through the test driver, on a real sessiond (issue 16).

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/server"
)

var (
	lobbyPC = spec{api.Device{ID: "install-lobby", Name: "Hotel lobby PC", Platform: api.PlatformWindows,
		OS: "Windows 11", Model: "Dell OptiPlex", AppVersion: "1.0.0"}, "192.0.2.40"}
	ipad = spec{api.Device{ID: "install-ipad", Name: "iPad", Platform: api.PlatformIOS,
		OS: "iPadOS 18", Model: "iPad Air", AppVersion: "1.0.0"}, "198.51.100.50"}
)

// The icons of the header's buttons, looked up once: looking a theme's icon
// up on the test's goroutine while the UI loop draws races with it.
var (
	iconRefresh = theme.ViewRefreshIcon()
	iconBack    = theme.NavigateBackIcon()
)

// keepRemembered lets remembered sessions go unused for longer than the
// default 30 days, so that devices can be months old.
func keepRemembered(c *server.Config) { c.RememberIdleTTL = 400 * app.Day }

// signInOnce signs in from sp without "remember me" (a session of 12
// hours), returning its client.
func (b *backend) signInOnce(sp spec, username string) *client.Client {
	b.t.Helper()
	c, err := client.New(b.url, client.WithHTTPClient(&http.Client{Transport: &forwarded{ip: sp.IP, rt: &http.Transport{}}}))
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(c.CloseIdleConnections)
	l, err := c.Login(ctx, api.LoginRequest{Username: username, Password: password, Device: sp.Device})
	if err != nil {
		b.t.Fatal(err)
	}
	c.SetTokens(l.Tokens())
	return c
}

// choiceIcon is the radio icon of the choice labelled label on the
// inactivity page. Call on the loop.
func (s *screen) choiceIcon(label string) string {
	b := s.button(label)
	if b.Icon == nil {
		return ""
	}
	return b.Icon.Name()
}

// TestInactivitySetting: Settings → Log out inactive devices shows the
// setting, the devices each choice would log out next, and saves with the
// password when the proof is stale; the row shows the new setting, after
// a reload too.
func TestInactivitySetting(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(440, 760), fyne.NewSize(1280, 800)} {
		t.Run(sizeName(size), func(t *testing.T) {
			b := newBackend(t, keepRemembered)
			e := newEnv(t, b)
			b.account("ana")
			b.signInElsewhere(ipad, "ana")
			b.clock.Advance(time.Minute)
			b.signInElsewhere(lobbyPC, "ana") // used a minute later: listed first
			b.clock.Advance(95 * app.Day)
			d := b.device(laptop)
			s := e.openWindow(d, e.defaultInfo(), size)
			if err := d.core.Start(ctx); err != nil {
				t.Fatal(err)
			}
			s.logIn("ana")
			s.waitLive()
			s.tap("Settings")
			s.waitFor("the setting", func() bool { return s.ui.settings.inactive.Text == "Never" })

			s.tap("Log out inactive devices")
			s.waitText("Now: Never.")
			if f := s.focusName(); f != "Never" {
				t.Errorf("focused when the page opens: %q, want the choice selected", f)
			}
			s.do(func() {
				if got := s.choiceIcon("Never"); got != theme.RadioButtonCheckedIcon().Name() {
					t.Errorf("Never is not selected: %s", got)
				}
				if s.button("Save").Disabled() == false {
					t.Error("Save is enabled before anything was chosen")
				}
			})
			s.tap("After 3 months")
			s.waitText("2 devices haven't been used for 3 months: Hotel lobby PC, iPad. They are logged out within a minute of saving.")
			s.tap("After 6 months")
			s.waitText("No device has been unused that long.")
			// The keyboard: Enter picks the focused choice.
			s.do(func() { s.win.Canvas().Focus(s.ui.inactivity.choices[3]) }) // After 3 months
			s.press(fyne.KeyReturn)
			s.waitText("2 devices haven't been used for 3 months")
			s.do(func() {
				if got := s.choiceIcon("After 3 months"); got != theme.RadioButtonCheckedIcon().Name() {
					t.Errorf("After 3 months is not selected: %s", got)
				}
				if got := s.choiceIcon("After 6 months"); got != theme.RadioButtonIcon().Name() {
					t.Errorf("After 6 months is still selected: %s", got)
				}
			})

			b.staleProof()
			s.tap("Save")
			s.waitDialog("Confirm it's you")
			s.waitDialog("change when inactive devices are logged out")
			s.enter(password)
			s.waitNoDialog()
			s.waitFor("Settings with the new setting", func() bool {
				return s.ui.page == pageSettings && s.ui.settings.inactive.Text == "After 3 months"
			})
			if st := d.core.Snapshot().Settings; st == nil || st.AutoLogoutInactiveAfterS != int(90*app.Day/time.Second) {
				t.Errorf("the core's settings: %+v", st)
			}

			// Read again from the server, by another install of the app.
			_, other := e.anaOn(phone)
			other.tap("Settings")
			other.waitFor("the setting read from the server", func() bool { return other.ui.settings.inactive.Text == "After 3 months" })

			s.tap("Log out inactive devices")
			s.waitText("Now: After 3 months.")
			s.do(func() {
				if !s.button("Save").Disabled() {
					t.Error("Save is enabled with the setting unchanged")
				}
			})
			s.press(fyne.KeyEscape)
			s.waitText("Two-step verification")

			// Login activity shows the account's rule on this device's row.
			s.tap("Login activity")
			s.waitFor("the rule on this device's row", func() bool {
				for _, r := range s.rows() {
					if r.name == laptop.Name {
						return r.rule == "Logs out after 3 months unused"
					}
				}
				return false
			})
		})
	}
}

// TestInactivitySettingOffline: with the server gone the setting is
// unknown, and the page says so instead of showing Never.
func TestInactivitySettingOffline(t *testing.T) {
	b, e := withAna(t)
	_, s := e.anaOn(laptop)
	s.waitLive()
	b.stop()
	s.waitText("Actions that need the server are paused.")
	// The setting was read at sign-in: offline it shows as last known.
	s.tap("Settings")
	s.waitFor("Never", func() bool { return s.ui.settings.inactive.Text == "Never" })
	s.tap("Log out inactive devices")
	s.waitText("Last known: Never. Offline: changing it needs the server.")
	s.tap("After 1 week")
	s.do(func() {
		if !s.button("Save").Disabled() {
			t.Error("Save is enabled offline")
		}
	})
}

// chooseRule opens the rule choice of the device shown and picks label.
func (s *screen) chooseRule(label string) {
	s.t.Helper()
	s.do(func() {
		sel := s.find(func(it item) bool { _, ok := it.o.(*keySelect); return ok })
		if len(sel) == 0 {
			s.fail("no rule choice; the screen shows:\n%s", strings.Join(s.texts(), "\n"))
		}
		test.Tap(sel[len(sel)-1].o.(*keySelect))
	})
	s.tap(label)
}

// TestDeviceRule: a device's own rule, chosen in its details, shows there
// and on its row; a rule the server refuses shows its reason under the
// choice.
func TestDeviceRule(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(440, 760), fyne.NewSize(1280, 800)} {
		t.Run(sizeName(size), func(t *testing.T) {
			b, d, s, others := threeDevicesAt(t, size)
			s.tap("Pixel 8")
			s.waitText("Log out if unused for")
			s.chooseRule("1 day")
			s.waitText("Logs out after 1 day unused.")
			phoneID := ""
			for _, dev := range d.core.Snapshot().Devices {
				if dev.Device.Name == phone.Name {
					phoneID = dev.ID
					if dev.IdleTimeoutS != int(app.Day/time.Second) {
						t.Errorf("the phone's rule in the core: %d s", dev.IdleTimeoutS)
					}
				}
			}
			me, err := others[phone.Name].Sessions(ctx, 50, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range me.Sessions {
				if x.ID == phoneID && x.IdleTimeoutS != int(app.Day/time.Second) {
					t.Errorf("the phone's rule on the server: %d s", x.IdleTimeoutS)
				}
			}
			if size.Width < splitAt {
				s.press(fyne.KeyEscape)
				s.waitText("Where you're logged in")
			}
			s.waitFor("the rule on the phone's row", func() bool {
				for _, r := range s.rows() {
					if r.name == phone.Name {
						return r.rule == "Logs out after 1 day unused"
					}
				}
				return false
			})
			s.do(func() {
				for _, r := range s.rows() {
					if r.name != phone.Name && r.rule != "" {
						t.Errorf("%s shows a rule: %q", r.name, r.rule)
					}
					if size.Width >= splitAt && r.r.Size().Height > 64 {
						t.Errorf("%s: row %v tall with a rule, want at most 64", r.name, r.r.Size().Height)
					}
					if !drawnWhole(r.r.name) {
						t.Errorf("%s: the name is cut: %q", r.name, drawn(r.r.name))
					}
				}
			})

			// A device signed in without "remember me" lasts 12 hours: a
			// day is longer than it lasts, and the server says so.
			kiosk := spec{api.Device{ID: "install-kiosk", Name: "Library PC", Platform: api.PlatformWindows, OS: "Windows 10"}, "192.0.2.41"}
			b.signInOnce(kiosk, "ana")
			s.tapIcon(iconRefresh)
			s.waitFor("the library's row", func() bool {
				return slices.ContainsFunc(s.rows(), func(r row) bool { return r.name == kiosk.Name })
			})
			s.do(func() { test.Tap(s.rowNamed(kiosk.Name)) })
			s.waitText("Log out this device")
			s.chooseRule("1 day")
			var msg string
			s.waitFor("the refusal under the choice", func() bool {
				sel := s.find(func(it item) bool { _, ok := it.o.(*keySelect); return ok })
				for _, it := range s.items() {
					if l, ok := it.o.(*widget.Label); ok && l.Importance == widget.DangerImportance && l.Text != "" && len(sel) > 0 && it.pos.Y > sel[len(sel)-1].pos.Y {
						msg = l.Text
						return true
					}
				}
				return false
			})
			if want := "Library PC stays logged in for only 12 hours, less than 1 day: it logs out before such a rule could apply."; msg != want {
				t.Errorf("the refusal reads %q, want %q", msg, want)
			}
			s.do(func() {
				sel := s.find(func(it item) bool { _, ok := it.o.(*keySelect); return ok })
				if got := sel[len(sel)-1].o.(*keySelect).Selected; got != "Never" {
					t.Errorf("after the refusal the choice shows %q, want the rule it has (Never)", got)
				}
			})
			if slices.ContainsFunc(d.core.Snapshot().Devices, func(x api.Session) bool { return x.Device.Name == kiosk.Name && x.IdleTimeoutS != 0 }) {
				t.Error("the refused rule was kept")
			}
		})
	}
}

// TestInactiveNoticeNextCall: this device, given a rule of its own in its
// details, goes unused for longer; its next request is refused, and the
// sign-in screen says why.
func TestInactiveNoticeNextCall(t *testing.T) {
	b, d, s, _ := threeDevices(t)
	s.tap("Ana's Laptop")
	s.waitText("Log out (this device)")
	s.chooseRule("1 day")
	s.waitText("Logs out after 1 day unused.")
	s.tapIcon(iconBack)
	s.waitFor("this device's row with its rule", func() bool {
		for _, r := range s.rows() {
			if r.name == laptop.Name {
				return r.rule == "Logs out after 1 day unused"
			}
		}
		return false
	})
	b.clock.Advance(25 * time.Hour) // 13:41 tomorrow
	s.tapIcon(iconRefresh)
	s.waitText("You were logged out")
	s.waitText("This device was logged out at 13:41 today because it wasn't used for 1 day.")
	if st := d.core.Snapshot(); st.Notice == nil || st.Notice.Reason != api.ReasonInactive {
		t.Errorf("the core's notice: %+v", st.Notice)
	}
}

// TestInactiveSweep: devices nobody uses are ended by the server's sweep
// even though they never call again: this one hears it on its event
// stream and says why; the device that set the rule reads in Security
// activity what happened, and the ended device shows under Recently
// logged out.
func TestInactiveSweep(t *testing.T) {
	b := newBackend(t, keepRemembered)
	e := newEnv(t, b)
	b.account("ana")
	b.signInElsewhere(lobbyPC, "ana") // 09:41, then never again
	b.clock.Advance(time.Hour)
	_, admin := e.anaOn(laptop) // 10:41: sets the account's rule
	admin.waitLive()
	_, kiosk := e.anaOn(ipad) // the iPad in the app: it will go unused
	kiosk.waitLive()
	kiosk.tap("Settings") // reads the account's settings
	kiosk.waitFor("the setting", func() bool { return kiosk.ui.settings.inactive.Text == "Never" })
	kiosk.press(fyne.KeyEscape)

	admin.tap("Settings")
	admin.tap("Log out inactive devices")
	admin.waitText("Now: Never.")
	admin.tap("After 1 week")
	admin.waitText("No device has been unused that long.")
	admin.tap("Save")
	admin.waitFor("the setting saved", func() bool { return admin.ui.settings.inactive.Text == "After 1 week" })
	kiosk.waitFor("the iPad knowing the rule", func() bool {
		st := kiosk.d.core.Snapshot().Settings
		return st != nil && st.AutoLogoutInactiveAfterS == int(7*app.Day/time.Second)
	})

	// The laptop is used every few days; the iPad and the lobby PC are
	// not, for a week and a day.
	admin.tap("Security activity")
	admin.waitText("newest first")
	b.clock.Advance(4 * app.Day)
	admin.tapIcon(iconRefresh)
	admin.settle()
	b.clock.Advance(4 * app.Day) // 22 Mar, 10:41
	admin.tapIcon(iconRefresh)
	admin.settle()
	if _, err := b.srv.SweepInactive(ctx); err != nil {
		t.Fatal(err)
	}
	kiosk.waitText("You were logged out")
	kiosk.waitText("This device was logged out at 10:41 today because it wasn't used for 1 week.")

	admin.tapIcon(iconRefresh)
	admin.waitFor("the sweep in Security activity", func() bool {
		rows := admin.activityRows()
		return slices.Contains(rows, "Hotel lobby PC was logged out after 1 week unused · On the server · Today 10:41") &&
			slices.Contains(rows, "iPad was logged out after 1 week unused · On the server · Today 10:41")
	})
	var rows []string
	admin.do(func() { rows = admin.activityRows() })
	if !slices.ContainsFunc(rows, func(r string) bool {
		return strings.HasPrefix(r, "You changed when inactive devices are logged out: after 1 week · Lisbon, Portugal")
	}) {
		t.Errorf("Security activity lacks the change of setting:\n%s", strings.Join(rows, "\n"))
	}
	admin.press(fyne.KeyEscape)
	admin.tap("Login activity")
	admin.waitFor("the ended devices", func() bool {
		got := admin.visibleText()
		return strings.Count(got, "Logged out after going unused · Today 10:41") == 2
	})
}

// TestRuleChoiceKeys: the rule's choice opens with Enter, its menu closes
// with Escape, and Escape on the choice itself goes back, like every
// other control.
func TestRuleChoiceKeys(t *testing.T) {
	if phoneBuild {
		t.Skip("keyboard only: a phone has no Escape key, and its choices take no keyboard focus")
	}
	_, _, s, _ := threeDevices(t)
	s.tap("Pixel 8")
	s.waitText("Log out if unused for")
	focusChoice := func() {
		s.do(func() {
			sel := s.find(func(it item) bool { _, ok := it.o.(*keySelect); return ok })
			if len(sel) != 1 {
				s.fail("%d rule choices", len(sel))
			}
			s.win.Canvas().Focus(sel[0].o.(*keySelect))
		})
	}
	focusChoice()
	s.press(fyne.KeyReturn)
	s.waitFor("the choices open, with the focus", func() bool {
		if len(s.win.Canvas().Overlays().List()) != 1 {
			return false
		}
		_, onSelect := s.win.Canvas().Focused().(*keySelect)
		return s.win.Canvas().Focused() != nil && !onSelect
	})
	s.press(fyne.KeyEscape)
	s.waitNoDialog()
	s.do(func() {
		if s.ui.page != pageDevice {
			t.Errorf("Escape in the open choices left the page (%v)", s.ui.page)
		}
	})
	focusChoice()
	s.press(fyne.KeyEscape)
	s.waitText("Where you're logged in")
}
