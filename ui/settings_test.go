package ui

import (
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
	"sessionguard/launch"
)

// signedIn is a window signed in to ana on the laptop, live.
func signedIn(t *testing.T, opts ...deviceOpt) (*backend, *env, *device, *screen) {
	t.Helper()
	b, e := withAna(t)
	d := b.device(laptop, opts...)
	s := e.open(d, e.defaultInfo())
	s.logIn("ana")
	s.waitLive()
	return b, e, d, s
}

func TestHomeMenuOpensSettings(t *testing.T) {
	_, _, _, s := signedIn(t)
	for _, want := range []string{"Sessionguard", "A", "ana", "Logged in on Ana's Laptop", "Login activity",
		"Only this device is logged in to your account.", "Where you're logged in"} {
		if !s.shows(want) {
			t.Errorf("home does not show %q", want)
		}
	}
	s.tapIcon(theme.MenuIcon())
	s.waitText("Security activity")
	s.do(func() {
		if got := drawn(s.label("This device")); got != "This device" {
			t.Errorf("the Server entry shows %q, want This device", got)
		}
	})
	s.tapIcon(theme.NavigateBackIcon())
	s.waitText("Logged in on Ana's Laptop")
	s.tap("Settings") // the button under the card goes to the same place
	s.waitText("Security activity")
}

func TestSettingsHasNoDeadEntries(t *testing.T) {
	_, _, _, s := signedIn(t)
	s.tap("Settings")
	s.waitText("Security activity")
	s.do(func() {
		for _, label := range []string{"Security activity", "Change password", "Two-step verification"} {
			found := s.find(func(it item) bool { b := asButton(it.o); return b != nil && b.Text == label })
			if len(found) != 1 || asButton(found[0].o).Disabled() {
				t.Errorf("%q: want one enabled entry, found %d", label, len(found))
			}
		}
		if len(s.find(func(it item) bool { l, ok := it.o.(*widget.Label); return ok && l.Text == "Coming soon" })) != 0 {
			t.Error("an entry is still marked Coming soon")
		}
		// No dead buttons: every enabled button does something.
		for _, it := range s.items() {
			if b := asButton(it.o); b != nil && !b.Disabled() && b.OnTapped == nil {
				t.Errorf("button %q is enabled but has no action", b.Text)
			}
		}
	})
}

func TestSettingsEntriesOpenSomething(t *testing.T) {
	_, e, _, s := signedIn(t)
	s.tap("Settings")
	for _, tc := range []struct {
		entry  string
		dialog bool
		want   string
	}{
		{"Login activity", false, "Where you're logged in"},
		{"Security activity", false, "newest first."},
		{"Change password", false, "Choose a password you don't use anywhere else"},
		{"Two-step verification", false, "Two-step verification: Off"},
		{"Server", true, "This device keeps your account: Sessionguard runs its own server here, with its data in " + e.defaultInfo().DataDir + "."},
		{"About", false, "See every place your account is logged in"},
		{"Log out", true, "Log out of ana?"},
		{"Clear app data…", true, "Delete your account and clear app data?"},
	} {
		t.Run(tc.entry, func(t *testing.T) {
			s.t = t
			s.waitText("Security activity")
			s.tap(tc.entry)
			if tc.dialog {
				s.waitDialog(tc.want)
			} else {
				s.waitText(tc.want)
			}
			s.press(fyne.KeyEscape) // closes the dialog, or goes back
			s.waitNoDialog()
			s.waitText("Security activity")
		})
	}
	s.t = t
}

func TestLogOutDialog(t *testing.T) {
	_, _, d, s := signedIn(t)
	s.tap("Settings")
	s.tap("Log out")
	s.waitDialog("Log out of ana?")
	msg := s.dialogText()
	for _, want := range []string{"You can log back in at any time.", "Remember login info",
		"Next time, tap your account to log in on this device without your password."} {
		if !strings.Contains(msg, want) {
			t.Errorf("the log-out dialog does not say %q:\n%s", want, msg)
		}
	}
	s.tap("Cancel")
	s.waitNoDialog()
	if d.core.Snapshot().State != app.StateSignedIn {
		t.Fatal("Cancel logged out")
	}
	s.tap("Log out")
	s.waitDialog("Log out of ana?")
	s.tap("Log out")
	s.waitText("Log in to Sessionguard")
	if s.shows("Continue as ana") {
		t.Fatal("a plain log out saved the account")
	}
	s.do(func() {
		if got := s.entry("Username").Text; got != "ana" {
			t.Errorf("username after log out = %q, want ana", got)
		}
		if got := s.entry("Password").Text; got != "" {
			t.Errorf("the password is still in the form after log out")
		}
	})
}

func TestClearAppData(t *testing.T) {
	b, e := withAna(t)
	d := b.device(laptop)
	s := e.open(d, e.defaultInfo())
	// A saved login, then a remembered sign-in: two keyring items (and
	// the install key).
	s.logIn("ana")
	s.logOut(true)
	s.waitText("Continue as ana")
	s.logIn("ana")
	s.waitLive()
	if keys := d.secretKeys(); len(keys) != 2 {
		t.Fatalf("keyring before clearing: %v", keys)
	}

	s.tap("Settings")
	s.tap("Clear app data…")
	s.waitDialog("Delete your account and clear app data?")
	if msg := s.dialogText(); !strings.Contains(msg, "removes all Sessionguard data from this device") ||
		!strings.Contains(msg, "Your account lives on this device: ana will be deleted") {
		t.Fatalf("the confirm dialog says:\n%s", msg)
	}
	s.tap("Cancel")
	s.waitNoDialog()
	if len(d.secretKeys()) != 2 {
		t.Fatal("Cancel cleared data")
	}

	s.tap("Clear app data…")
	s.waitDialog("Delete your account and clear app data?")
	release := b.hold("POST /v1/logout")
	s.tap("Delete and clear")
	s.waitText("Clearing app data…") // progress while the server is told
	release()
	s.waitDialog("App data cleared")
	msg := s.dialogText()
	for _, want := range []string{"Sessionguard's data was removed from this device.",
		"• Sessions ended on the server: 1", "• Saved logins forgotten: 1", "• Keyring items deleted: 4"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the summary does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "Couldn't be ended") {
		t.Errorf("the summary reports failures:\n%s", msg)
	}
	s.tap("OK")
	s.waitNoDialog()
	s.waitText("Log in to Sessionguard")
	if s.shows("Continue as ana") {
		t.Fatal("the saved account survived clearing app data")
	}
	s.do(func() {
		if got := s.entry("Username").Text; got != "" {
			t.Errorf("username after clearing = %q, want empty", got)
		}
	})
	if keys := d.allSecretKeys(); len(keys) != 0 {
		t.Fatalf("keyring after clearing: %v", keys)
	}
	if keys := d.prefs.Keys(); len(keys) != 0 {
		t.Fatalf("preferences after clearing: %v", keys)
	}
}

func TestClearAppDataOffline(t *testing.T) {
	b, _, _, s := signedIn(t)
	b.stop()
	s.waitText("Sessionguard's server on this device isn't answering.")
	s.tap("Settings")
	s.tap("Clear app data…")
	s.waitDialog("Delete your account and clear app data?")
	s.tap("Delete and clear")
	s.waitDialog("App data cleared")
	msg := s.dialogText()
	for _, want := range []string{"• Sessions ended on the server: 0",
		"Couldn't be ended on the server", "This device's session for ana (Can't reach the server."} {
		if !strings.Contains(msg, want) {
			t.Errorf("the offline summary does not say %q:\n%s", want, msg)
		}
	}
	s.tap("OK")
	s.waitText("Log in to Sessionguard")
}

func TestOfflineBanner(t *testing.T) {
	b, _, d, s := signedIn(t)
	b.signInElsewhere(phone, "ana")
	s.openLoginActivity()
	s.waitText("Pixel 8")
	s.do(func() {
		if s.button("Log out of all other devices").Disabled() {
			s.fail("Log out of all other devices is disabled online")
		}
	})

	b.stop()
	s.waitText("Sessionguard's server on this device isn't answering. Last updated today 09:4") // the last answer, a moment ago
	s.waitText("Actions that need the server are paused.")
	s.waitText("Offline: this is the last known list. Logging devices out needs the server.")
	if !s.shows("Pixel 8") {
		t.Fatal("the last known list is gone offline")
	}
	s.do(func() {
		if !s.button("Log out of all other devices").Disabled() {
			t.Error("Log out of all other devices is enabled offline")
		}
	})
	s.tap("Pixel 8")
	s.waitText("IP address")
	s.do(func() {
		if !s.button("Log out this device").Disabled() {
			t.Error("Log out this device is enabled offline")
		}
	})
	if !d.core.Snapshot().Offline {
		t.Fatal("the core is not offline")
	}
}

// TestAbout checks About shows the app's name, version and build as
// FyneApp.toml declares them (launch.Compiled is kept equal to it by
// launch's tests), the server and the data folder.
func TestAbout(t *testing.T) {
	_, e, _, s := signedIn(t)
	s.tap("Settings")
	s.tap("About")
	info := e.defaultInfo()
	m := launch.Compiled()
	if info.Name != m.Name || info.Version != m.Version || info.Build != m.Build || m.Build < 1 {
		t.Fatalf("test info %+v does not carry the app's metadata %+v", info, m)
	}
	for _, want := range []string{"Version", m.Version, "Build", strconv.Itoa(m.Build),
		"Server", "This device (" + info.Server + ")", "Data", info.DataDir} {
		s.waitText(want)
	}
	s.do(func() {
		for _, want := range []string{m.Name, m.Version, strconv.Itoa(m.Build)} {
			if got := drawn(s.label(want)); got != want {
				t.Errorf("About draws %q, want %q", got, want)
			}
		}
	})
}

// TestAboutShowsPackagedMetadata: what main passes (Fyne's metadata from
// fyne package) is what About shows, not a constant.
func TestAboutShowsPackagedMetadata(t *testing.T) {
	b, e := withAna(t)
	info := e.defaultInfo()
	info.Name, info.Version, info.Build = "Sessionguard Beta", "2.3.4", 57
	s := e.open(b.device(laptop), info)
	s.logIn("ana")
	s.tap("Settings")
	s.tap("About")
	s.waitText("Sessionguard Beta")
	s.do(func() {
		for _, want := range []string{"Sessionguard Beta", "2.3.4", "57"} {
			if got := drawn(s.label(want)); got != want {
				t.Errorf("About draws %q, want %q", got, want)
			}
		}
	})
}

func TestServerEntryShowsRemoteServer(t *testing.T) {
	b, e := withAna(t)
	info := e.defaultInfo()
	info.Embedded = false
	s := e.open(b.device(laptop), info)
	s.waitText("Server: " + b.url)
	s.logIn("ana")
	s.tap("Settings")
	s.waitText("Security activity")
	s.do(func() {
		host := strings.TrimPrefix(b.url, "http://")
		if got := drawn(s.label(host)); got != host {
			t.Errorf("the Server entry shows %q, want %q", got, host)
		}
	})
	s.tap("Server")
	s.waitDialog("Your account is on " + b.url + ".")
	s.tap("OK")
	s.waitNoDialog()
}

func TestEscapeClosesDialogsAndGoesBack(t *testing.T) {
	b, _, d, s := signedIn(t)
	b.signInElsewhere(phone, "ana")

	// A dialog first, then the page.
	s.tap("Settings")
	s.tap("Log out")
	s.waitDialog("Log out of ana?")
	s.press(fyne.KeyEscape)
	s.waitNoDialog()
	if !s.shows("Security activity") || d.core.Snapshot().State != app.StateSignedIn {
		t.Fatalf("Escape on the dialog did more than close it:\n%s", s.visibleText())
	}

	// Page by page back to home.
	s.tap("Login activity")
	s.waitText("Pixel 8")
	s.tap("Pixel 8")
	s.waitText("Log out this device")
	for _, step := range []struct{ want, gone string }{
		{"Log out of all other devices", "Log out this device"},
		{"Security activity", "Log out of all other devices"},
		{"Logged in on Ana's Laptop", "Security activity"},
	} {
		s.press(fyne.KeyEscape)
		s.waitText(step.want)
		s.waitGone(step.gone)
	}
	s.press(fyne.KeyEscape) // nothing further back than home
	s.waitText("Logged in on Ana's Laptop")
}

func TestLoginActivityShortcut(t *testing.T) {
	_, _, _, s := signedIn(t)
	// Ctrl+L (⌘L) with nothing focused reaches the window's shortcuts.
	s.do(func() {
		s.win.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{
			KeyName: fyne.KeyL, Modifier: fyne.KeyModifierShortcutDefault})
	})
	s.waitText("Where you're logged in")
	s.waitText("Log out of all other devices")
	// Escape returns to where the person came from: home, not Settings.
	s.press(fyne.KeyEscape)
	s.waitGone("Log out of all other devices")
	s.waitText("Logged in on")
}
