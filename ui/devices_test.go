package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
	"sessionguard/client"
)

// row is one device in Login activity as drawn: name, details, activity.
type row struct {
	name, details, active string
	icon                  string
	drawn                 string // the details as drawn, maybe cut short
	y                     float32
}

// rows lists the device rows on screen, top to bottom. Call on the loop.
func (s *screen) rows() []row {
	var out []row
	for _, it := range s.items() {
		c, ok := it.o.(*fyne.Container)
		if !ok || len(c.Objects) != 3 || !slices.ContainsFunc(it.parents, func(p fyne.CanvasObject) bool {
			_, ok := p.(*widget.List)
			return ok
		}) {
			continue
		}
		text, ok := c.Objects[0].(*fyne.Container)
		icon, ok2 := c.Objects[1].(*widget.Icon)
		if !ok || !ok2 || len(text.Objects) != 3 {
			continue
		}
		l := func(i int) string { return text.Objects[i].(*widget.Label).Text }
		out = append(out, row{name: l(0), details: l(1), active: l(2), icon: icon.Resource.Name(),
			drawn: drawn(text.Objects[1]), y: it.pos.Y})
	}
	slices.SortFunc(out, func(a, b row) int { return int(a.y - b.y) })
	return out
}

// waitRows waits until the list shows exactly names, in order.
func (s *screen) waitRows(names ...string) {
	s.t.Helper()
	s.waitFor("rows "+strings.Join(names, ", "), func() bool {
		var got []string
		for _, r := range s.rows() {
			got = append(got, r.name)
		}
		return slices.Equal(got, names)
	})
}

// threeDevices signs ana in on the tablet (09:41), the phone (11:41) and
// then this laptop (12:41), and opens Login activity on the laptop.
func threeDevices(t *testing.T) (*backend, *device, *screen, map[string]*client.Client) {
	t.Helper()
	b, e := withAna(t)
	others := map[string]*client.Client{}
	others[tablet.Name], _ = b.signInElsewhere(tablet, "ana")
	b.clock.Advance(2 * time.Hour)
	others[phone.Name], _ = b.signInElsewhere(phone, "ana")
	b.clock.Advance(time.Hour)
	d, s := e.anaOn(laptop)
	s.waitLive()
	s.waitText("3 devices are logged in to your account. Check the ones you don't recognise.")
	s.openLoginActivity()
	s.waitRows("Ana's Laptop  (this device)", "Pixel 8", "Galaxy Tab")
	return b, d, s, others
}

func TestLoginActivityList(t *testing.T) {
	_, _, s, _ := threeDevices(t)
	want := []row{
		{name: "Ana's Laptop  (this device)", details: "Lisbon, Portugal · 203.0.113.10 · Debian GNU/Linux 12 · ThinkPad X1 Carbon",
			active: "This device · Active now · Logged in 14 Mar 2030, 12:41", icon: iconLaptop.Name()},
		{name: "Pixel 8", details: "Berlin, Germany · 198.51.100.20 · Android 15 · Google Pixel 8",
			active: "Active 1 h ago · Logged in 14 Mar 2030, 11:41", icon: iconPhone.Name()},
		{name: "Galaxy Tab", details: "Porto, Portugal · 192.0.2.30 · Android 14 · Galaxy Tab S9",
			active: "Active 3 h ago · Logged in 14 Mar 2030, 09:41", icon: iconTablet.Name()},
	}
	var got []row
	s.do(func() { got = s.rows() })
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		// What a person reads: the place and IP are drawn, even where the
		// line is cut short at this width.
		place, _, _ := strings.Cut(want[i].details, " · Debian")
		place, _, _ = strings.Cut(place, " · Android")
		if !strings.HasPrefix(got[i].drawn, place) {
			t.Errorf("row %d draws %q: the place and IP %q are cut off", i, got[i].drawn, place)
		}
		got[i].y, got[i].drawn = 0, ""
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if !s.shows("3 devices. Tap one to see details or log it out.") {
		t.Error("the list does not say how many devices there are")
	}
}

func TestDeviceDetail(t *testing.T) {
	_, _, s, _ := threeDevices(t)
	s.tap("Pixel 8")
	s.waitText("Log out this device")
	got := s.visibleText()
	for _, want := range []string{"Device", "Pixel 8", "Active 1 h ago",
		"System", "Android 15 · Google Pixel 8", "Platform", "android", "App version", "1.0.0",
		"Location", "Berlin, Germany", "IP address", "198.51.100.20",
		"Logged in", "14 Mar 2030, 11:41", "Last active", "Stays logged in", "Yes, until 13 Apr 2030, 11:41"} {
		if !strings.Contains(got, want) {
			t.Errorf("the detail does not show %q", want)
		}
	}
	if t.Failed() {
		t.Logf("the detail shows:\n%s", got)
	}

	// This device's detail logs out through the usual dialog, and shows
	// this device's facts, not the last device's.
	s.tapIcon(theme.NavigateBackIcon())
	s.tap("Ana's Laptop  (this device)")
	s.waitText("Log out (this device)")
	got = s.visibleText()
	if !strings.Contains(got, "Debian GNU/Linux 12 · ThinkPad X1 Carbon") || strings.Contains(got, "Android 15") ||
		!strings.Contains(got, "203.0.113.10") || strings.Contains(got, "198.51.100.20") {
		t.Errorf("this device's detail shows another device's facts:\n%s", got)
	}
	s.tap("Log out (this device)")
	s.waitDialog("Log out of ana?")
	s.tap("Cancel")
	s.waitNoDialog()
}

func TestLogOutDevice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		later  time.Duration // after the laptop signed in
		reauth bool
	}{
		{"right after signing in", 0, false},
		{"eleven minutes later: the password first", 11 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, d, s, others := threeDevices(t)
			b.clock.Advance(tc.later)
			s.tap("Pixel 8")
			s.tap("Log out this device")
			s.waitDialog("Log out Pixel 8?")
			if msg := s.dialogText(); !strings.Contains(msg, "Pixel 8 will be logged out right away and will need the password to log in again.") {
				t.Fatalf("the confirm dialog says:\n%s", msg)
			}
			s.tap("Log out")
			if tc.reauth {
				s.waitDialog("Confirm it's you")
				if msg := s.dialogText(); !strings.Contains(msg, "For your security, enter your password to log out Pixel 8.") {
					t.Fatalf("the password dialog says:\n%s", msg)
				}
				if got := s.focusedHint(); got != "Password" {
					t.Errorf("the password dialog focused %q", got)
				}
				s.typeInto("Password", "not-my-password")
				s.tap("Continue")
				s.waitDialog("That password is not right.")
				if n := s.dialogs(); n != 1 {
					t.Fatalf("%d dialogs open after a wrong password, want 1", n)
				}
				// While the password is checked the dialog stays closed.
				release := b.hold("POST /v1/reauth")
				s.typeInto("Password", password)
				s.tap("Continue")
				d.waitCore("checking the password", func(s app.Snapshot) bool { return s.BusyLabel == "Checking your password…" })
				if n := s.dialogs(); n != 0 {
					t.Errorf("%d dialogs open while the password is checked: %s", n, s.dialogText())
				}
				release()
			}
			s.waitDialog("Done")
			msg := s.dialogText()
			if !strings.Contains(msg, "Pixel 8 was logged out. It will need your password to log in again.") ||
				!strings.Contains(msg, "change your password too") {
				t.Fatalf("the Done dialog says:\n%s", msg)
			}
			if n := s.dialogs(); n != 1 {
				t.Fatalf("%d dialogs open with Done, want 1", n)
			}
			s.tap("OK")
			s.waitNoDialog()
			// Back on the list, without it.
			s.waitRows("Ana's Laptop  (this device)", "Galaxy Tab")
			if d.core.Snapshot().LastRevoke != nil {
				t.Error("the result was not dismissed")
			}
			if _, err := others[phone.Name].Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
				t.Fatalf("the phone's session after the log out: %v", err)
			}
		})
	}
}

func TestPasswordDialogKeys(t *testing.T) {
	t.Run("Enter continues", func(t *testing.T) {
		b, _, s, others := threeDevices(t)
		b.staleProof()
		s.tap("Log out of all other devices")
		s.waitDialog("Log out of all other devices?")
		s.tap("Log out all")
		s.waitDialog("Confirm it's you")
		s.enter("not-my-password")
		s.waitDialog("That password is not right.")
		if n := s.dialogs(); n != 1 {
			t.Fatalf("%d dialogs open after a wrong password, want 1", n)
		}
		s.enter(password)
		s.waitDialog("2 other devices were logged out.")
		if n := s.dialogs(); n != 1 {
			t.Fatalf("%d dialogs open with Done, want 1 (the password dialog stayed)", n)
		}
		s.tap("OK")
		s.waitNoDialog()
		for name, c := range others {
			if _, err := c.Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
				t.Errorf("%s after log out of all others: %v", name, err)
			}
		}
	})
	t.Run("Escape cancels", func(t *testing.T) {
		b, d, s, _ := threeDevices(t)
		b.staleProof()
		s.tap("Pixel 8")
		s.tap("Log out this device")
		s.waitDialog("Log out Pixel 8?")
		s.tap("Log out")
		s.waitDialog("Confirm it's you")
		s.press(fyne.KeyEscape)
		s.waitNoDialog()
		s.waitFor("the action dropped", func() bool { return d.core.Snapshot().Pending == nil })
		if !s.shows("Log out this device") {
			t.Fatal("Escape on the password dialog left the device page")
		}
	})
}

func TestLogOutAllOtherDevices(t *testing.T) {
	_, d, s, others := threeDevices(t)
	s.tap("Log out of all other devices")
	s.waitDialog("Log out of all other devices?")
	if msg := s.dialogText(); !strings.Contains(msg, "Every other device logged in to your account (2 shown here) is logged out right away.") {
		t.Fatalf("the confirm dialog says:\n%s", msg)
	}
	s.tap("Cancel")
	s.waitNoDialog()
	s.tap("Log out of all other devices")
	s.tap("Log out all")
	s.waitDialog("2 other devices were logged out.")
	s.tap("OK")
	s.waitNoDialog()
	s.waitRows("Ana's Laptop  (this device)")
	s.waitText("1 device. Tap one to see details or log it out.")
	s.do(func() {
		if !s.button("Log out of all other devices").Disabled() {
			t.Error("Log out of all other devices is enabled with no other device")
		}
	})
	for name, c := range others {
		if _, err := c.Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
			t.Errorf("%s after log out of all others: %v", name, err)
		}
	}
	if st := d.core.Snapshot().State; st != app.StateSignedIn {
		t.Fatalf("this device: %v", st)
	}
}

func TestLiveUpdates(t *testing.T) {
	b, _, _, s := signedIn(t)
	s.openLoginActivity()
	s.waitRows("Ana's Laptop  (this device)")

	// A new sign-in elsewhere appears by itself, with the alert.
	phoneAPI, _ := b.signInElsewhere(phone, "ana")
	s.waitRows("Ana's Laptop  (this device)", "Pixel 8")
	s.waitText("New sign-in on Pixel 8 near Berlin, Germany — was this you?")
	s.tap("Yes, it was me")
	s.waitGone("New sign-in on")

	// "No, secure my account" ends the session at once, then opens
	// Change password.
	b.clock.Advance(time.Minute) // the newest activity is listed first
	tabletAPI, _ := b.signInElsewhere(tablet, "ana")
	s.waitText("New sign-in on Galaxy Tab near Porto, Portugal — was this you?")
	s.waitRows("Ana's Laptop  (this device)", "Galaxy Tab", "Pixel 8")
	s.tap("No, secure my account")
	s.waitDialog("Galaxy Tab was logged out.")
	s.tap("OK")
	s.waitGone("New sign-in on")
	s.waitText("Choose a password you don't use anywhere else")
	s.press(fyne.KeyEscape) // back to the list
	s.waitRows("Ana's Laptop  (this device)", "Pixel 8")
	if _, err := tabletAPI.Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
		t.Fatalf("the tablet after No, secure my account: %v", err)
	}

	// A device that logs out goes from the list by itself.
	if _, err := phoneAPI.Logout(ctx, false); err != nil {
		t.Fatal(err)
	}
	s.waitRows("Ana's Laptop  (this device)")
}

func TestLiveUpdateClosesOpenDetail(t *testing.T) {
	_, _, s, others := threeDevices(t)
	s.tap("Pixel 8")
	s.waitText("Log out this device")
	if _, err := others[phone.Name].Logout(ctx, false); err != nil {
		t.Fatal(err)
	}
	// The page it was on went away: back to the list.
	s.waitRows("Ana's Laptop  (this device)", "Galaxy Tab")
	s.waitGone("Log out this device")
}

// TestTwoDevices is the two-device test: two app instances on one
// server; the laptop closes the phone from Login activity; the phone's
// window shows sign-in with the notice naming the laptop.
func TestTwoDevices(t *testing.T) {
	b, e := withAna(t)
	pd, ld := b.device(phone), b.device(laptop)
	ps := e.open(pd, e.defaultInfo())
	ls := e.open(ld, e.defaultInfo())

	ls.logIn("ana")
	ls.waitLive()
	ls.openLoginActivity()
	ps.logIn("ana")
	ps.waitLive()

	ls.waitText("New sign-in on Pixel 8 near Berlin, Germany — was this you?")
	ls.waitRows("Ana's Laptop  (this device)", "Pixel 8")
	ls.tap("Pixel 8")
	ls.tap("Log out this device")
	ls.waitDialog("Log out Pixel 8?")
	ls.tap("Log out")

	ps.waitText("You were logged out by Ana's Laptop at 09:41. If that wasn't you, log in and change your password.")
	ps.waitText("Log in to Sessionguard")
	ps.golden("signin_notice.xml")
	if keys := pd.secretKeys(); len(keys) != 0 {
		t.Fatalf("the phone's keyring still holds %v", keys)
	}

	ls.waitDialog("Pixel 8 was logged out.")
	ls.tap("OK")
	ls.waitRows("Ana's Laptop  (this device)")

	// The phone signs in again with the password; the notice goes.
	ps.setField("Password", password)
	ps.tap("Log in")
	ps.waitText("Logged in on Pixel 8")
	ls.waitRows("Ana's Laptop  (this device)", "Pixel 8")
}
