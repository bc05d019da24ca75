package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
)

// row is one device in Login activity as drawn.
type row struct {
	group                       string // the title above it
	name, where, system, active string
	rule                        string // the rule drawn ("" when none, or hidden: no room)
	icon                        string
	ticked, tickable            bool
	r                           *deviceRow
	pos                         fyne.Position
}

// rows lists the device rows on screen, top to bottom, each with the
// group title above it. Call on the loop.
func (s *screen) rows() []row {
	var out []row
	group := ""
	for _, it := range s.items() {
		if l, ok := it.o.(*widget.Label); ok && slices.Contains(groups, l.Text) && l.TextStyle.Bold && l.Importance == widget.LowImportance {
			group = l.Text
			continue
		}
		r, ok := it.o.(*deviceRow)
		if !ok {
			continue
		}
		x := row{group: group, name: r.name.Text, where: r.where.Text, active: r.active.Text, icon: r.icon.Resource.Name(),
			ticked: r.tick.checked, tickable: r.tick.Visible(), r: r, pos: it.pos}
		if r.system != nil {
			x.system = r.system.Text
		}
		if r.rule.Visible() {
			x.rule = r.rule.Text
		}
		out = append(out, x)
	}
	return out
}

// rowNamed is the visible row of the device called name. Call on the loop.
func (s *screen) rowNamed(name string) *deviceRow {
	for _, r := range s.rows() {
		if r.name == name {
			return r.r
		}
	}
	s.fail("no row %q; the screen shows:\n%s", name, strings.Join(s.texts(), "\n"))
	return nil
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

// tick taps the tick box of the device called name.
func (s *screen) tick(name string) {
	s.t.Helper()
	s.do(func() { test.Tap(s.rowNamed(name).tick) })
}

// threeDevices signs ana in on the tablet (09:41), the phone (11:41) and
// then this laptop (12:41), and opens Login activity on the laptop.
func threeDevices(t *testing.T) (*backend, *device, *screen, map[string]*client.Client) {
	t.Helper()
	return threeDevicesAt(t, fyne.NewSize(440, 760))
}

// threeDevicesAt is threeDevices in a window of size.
func threeDevicesAt(t *testing.T, size fyne.Size) (*backend, *device, *screen, map[string]*client.Client) {
	t.Helper()
	b, e := withAna(t)
	others := map[string]*client.Client{}
	others[tablet.Name], _ = b.signInElsewhere(tablet, "ana")
	b.clock.Advance(2 * time.Hour)
	others[phone.Name], _ = b.signInElsewhere(phone, "ana")
	b.clock.Advance(time.Hour)
	d := b.device(laptop)
	s := e.openWindow(d, e.defaultInfo(), size)
	if err := d.core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.logIn("ana")
	s.waitLive()
	s.waitText("3 devices are logged in to your account. Check the ones you don't recognise.")
	s.openLoginActivity()
	s.waitRows("Ana's Laptop", "Pixel 8", "Galaxy Tab")
	return b, d, s, others
}

func TestLoginActivityList(t *testing.T) {
	_, _, s, _ := threeDevices(t)
	want := []row{
		{group: "This device", name: "Ana's Laptop", where: "Lisbon, Portugal · 203.0.113.10", system: "Debian GNU/Linux 12 · ThinkPad X1 Carbon · Bound to this device",
			active: "Active now · Logged in Today 12:41", icon: iconLaptop.Name()},
		{group: "Earlier", name: "Pixel 8", where: "Berlin, Germany · 198.51.100.20", system: "Android 15 · Google Pixel 8",
			active: "Active 1 h ago · Logged in Today 11:41", icon: iconPhone.Name(), tickable: true},
		{group: "Earlier", name: "Galaxy Tab", where: "Porto, Portugal · 192.0.2.30", system: "Android 14 · Galaxy Tab S9",
			active: "Active 3 h ago · Logged in Today 09:41", icon: iconTablet.Name(), tickable: true},
	}
	var got []row
	s.do(func() { got = s.rows() })
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		got[i].r, got[i].pos = nil, fyne.Position{}
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if !s.shows("3 devices. Tap one for details; tick several to log them out together.") {
		t.Error("the list does not say how many devices there are")
	}
	s.press(fyne.KeyEscape) // back where Login activity was opened from
	s.waitText("Security activity")
}

// TestActiveNowGroup: a device used in the last minutes is grouped as
// active now, between this device and the others.
func TestActiveNowGroup(t *testing.T) {
	b, _, s, others := threeDevices(t)
	b.clock.Advance(time.Minute)
	if _, err := others[phone.Name].Me(ctx); err != nil { // the phone is used
		t.Fatal(err)
	}
	s.do(func() { s.ui.run(s.d.core.LoadDevices, nil) })
	s.waitFor("the phone active now", func() bool {
		rows := s.rows()
		return len(rows) == 3 && rows[1].name == "Pixel 8" && rows[1].group == "Active now" && rows[1].active == "Active now · Logged in Today 11:41" &&
			rows[2].group == "Earlier"
	})
}

// drawnWhole reports whether label l draws all its text (wrapped lines
// joined), nothing cut off with "…".
func drawnWhole(l *widget.Label) bool {
	return strings.Join(strings.Fields(drawn(l)), " ") == strings.Join(strings.Fields(l.Text), " ")
}

// TestPhoneRowsCutNothing: at phone width (440 and 360) every fact that
// identifies a device — name, place, address, system and model — is drawn
// whole, inside its row.
func TestPhoneRowsCutNothing(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(440, 760), fyne.NewSize(360, 740)} {
		t.Run(sizeName(size), func(t *testing.T) {
			s := demo(t, size)
			s.tap("Try the demo")
			s.waitText("6 devices are logged in to your account.")
			s.openLoginActivity()
			s.waitFor("six rows", func() bool { return len(s.rows()) == 6 })
			s.do(func() {
				for _, r := range s.rows() {
					for _, l := range []*widget.Label{r.r.name, r.r.where, r.r.system, r.r.active, r.r.rule} {
						if !drawnWhole(l) {
							t.Errorf("%s: %q is drawn as %q", r.name, l.Text, drawn(l))
						}
					}
					// Nothing spills out of its row.
					top, bottom := r.pos.Y, r.pos.Y+r.r.Size().Height
					right := r.pos.X + r.r.Size().Width
					walk(r.r, r.pos.Subtract(r.r.Position()), nil, false, func(it item) {
						if l, ok := it.o.(*widget.Label); ok && l.Text != "" {
							if it.pos.Y < top-0.5 || it.pos.Y+l.Size().Height > bottom+0.5 || it.pos.X+l.Size().Width > right+0.5 {
								t.Errorf("%s: %q at %v %v lies outside its row (%v–%v, right %v)", r.name, l.Text, it.pos, l.Size(), top, bottom, right)
							}
						}
					})
					if right > size.Width+0.5 {
						t.Errorf("%s: the row reaches x=%v on a %v-wide phone", r.name, right, size.Width)
					}
				}
				if t.Failed() {
					t.Logf("rows: %+v", s.rows())
				}
			})
		})
	}
}

func sizeName(s fyne.Size) string { return fmt.Sprintf("%vx%v", s.Width, s.Height) }

// TestWideLayout: on a desktop window the list and the chosen device's
// details sit side by side, rows are compact, and the content uses the
// window's width.
func TestWideLayout(t *testing.T) {
	_, _, s, _ := threeDevicesAt(t, fyne.NewSize(1280, 800))
	s.waitText("3 devices. Choose one to see it here; tick several to log them out together.")
	// This device's details show at once, beside the list.
	s.waitText("Log out (this device)")
	s.do(func() {
		rows := s.rows()
		if len(rows) != 3 {
			s.fail("%d rows", len(rows))
		}
		var listRight float32
		for _, r := range rows {
			if h := r.r.Size().Height; h > 64 {
				t.Errorf("%s: row %v tall, want at most 64 on a desktop", r.name, h)
			}
			listRight = max(listRight, r.pos.X+r.r.Size().Width)
			if w := r.r.Size().Width; w < 600 {
				t.Errorf("%s: row %v wide: the list does not use the window", r.name, w)
			}
			if r.system != "" {
				t.Errorf("%s: a wide row has a third line %q", r.name, r.system)
			}
		}
		if rows[0].where != "Lisbon, Portugal · 203.0.113.10 · Debian GNU/Linux 12 · ThinkPad X1 Carbon · Bound to this device" || rows[0].active != "Active now" {
			t.Errorf("wide row: %+v", rows[0])
		}
		pos, _, ok := s.place("Log out (this device)")
		if !ok || pos.X < listRight {
			t.Errorf("the details (at x=%v) are not beside the list (right edge %v)", pos.X, listRight)
		}
		if !drawnWhole(rows[1].r.where) {
			t.Errorf("the phone's facts are cut at 1280: %q", drawn(rows[1].r.where))
		}
	})
	// Choosing another device shows it there, on the same page.
	s.tap("Pixel 8")
	s.waitText("Log out this device")
	got := s.visibleText()
	for _, want := range []string{"Where you're logged in", "Android 15", "Google Pixel 8", "Berlin, Germany", "198.51.100.20", "Today 11:41"} {
		if !strings.Contains(got, want) {
			t.Errorf("after choosing the phone the page lacks %q", want)
		}
	}
	if s.ui.page != pageDevices {
		t.Errorf("choosing a device left Login activity for page %v", s.ui.page)
	}
	s.do(func() {
		if !s.rowNamed("Pixel 8").chosen || s.rowNamed("Ana's Laptop").chosen {
			t.Error("the chosen row is not marked")
		}
	})
	// Back goes where Login activity was opened from, not to another device.
	s.press(fyne.KeyEscape)
	s.waitText("Security activity")
}

// TestWideScreensUseTheWidth: Security activity and a device's page
// are not a phone strip on a desktop.
func TestWideScreensUseTheWidth(t *testing.T) {
	_, _, s, _ := threeDevicesAt(t, fyne.NewSize(1280, 800))
	s.press(fyne.KeyEscape)
	s.tap("Security activity")
	s.waitFor("the activity rows", func() bool { return len(s.activityRows()) >= 3 })
	s.do(func() {
		lists := s.find(func(it item) bool { _, ok := it.o.(*keyList); return ok })
		if len(lists) != 1 || lists[0].o.Size().Width < 1200 {
			s.fail("Security activity's list: %d lists, width %v", len(lists), lists[0].o.Size().Width)
		}
		// A table: one line per event, the place, time and address in
		// columns.
		rows := s.find(func(it item) bool {
			c, ok := it.o.(*fyne.Container)
			return ok && len(c.Objects) == 2 && slices.ContainsFunc(it.parents, func(p fyne.CanvasObject) bool { _, ok := p.(*keyList); return ok }) &&
				func() bool { _, ok := c.Objects[0].(*container.ThemeOverride); return ok }()
		})
		if len(rows) < 3 {
			s.fail("%d activity rows", len(rows))
		}
		for _, r := range rows {
			l := activityLabels(r.o.(*fyne.Container))
			if h := r.o.Size().Height; h > 40 {
				t.Errorf("%q: row %v tall, want one line", l.what.Text, h)
			}
			if l.line2.Visible() || !l.place.Visible() || l.place.Position().X <= l.what.Position().X || l.when.Position().X <= l.place.Position().X {
				t.Errorf("%q: not in columns", l.what.Text)
			}
		}
	})
	var got []string
	s.do(func() { got = s.activityRows() })
	if !slices.Contains(got, "You logged in here · Lisbon, Portugal · Today 12:41 · 203.0.113.10") {
		t.Errorf("the table reads:\n%s", strings.Join(got, "\n"))
	}
}

func TestDeviceDetail(t *testing.T) {
	_, _, s, _ := threeDevices(t)
	s.tap("Pixel 8")
	s.waitText("Log out this device")
	got := s.visibleText()
	for _, want := range []string{"Device", "Pixel 8", "Active 1 h ago",
		"System", "Android 15", "Model", "Google Pixel 8", "Platform", "Android", "App version", "1.0.0",
		"Location", "Berlin, Germany", "IP address", "198.51.100.20",
		"Logged in", "Today 11:41", "Last active", "Stays logged in", "Yes, until 13 Apr, 11:41", "Rename"} {
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
	s.tap("Ana's Laptop")
	s.waitText("Log out (this device)")
	got = s.visibleText()
	if !strings.Contains(got, "This device · Active now") || !strings.Contains(got, "ThinkPad X1 Carbon") || strings.Contains(got, "Android 15") ||
		!strings.Contains(got, "203.0.113.10") || strings.Contains(got, "198.51.100.20") {
		t.Errorf("this device's detail shows another device's facts:\n%s", got)
	}
	s.tap("Log out (this device)")
	s.waitDialog("Log out of ana?")
	s.tap("Cancel")
	s.waitNoDialog()
}

// TestRenameDevice renames another device and then this one from their
// detail pages: every list shows the new name, the renamed device itself
// learns it, and this device keeps its new name for its next sign-in.
func TestRenameDevice(t *testing.T) {
	_, d, s, others := threeDevices(t)
	s.tap("Pixel 8")
	s.tap("Rename")
	s.waitDialog("Rename Pixel 8")
	if got := s.focusedHint(); got != "Device name" {
		t.Fatalf("the rename dialog focused %q", got)
	}
	s.do(func() {
		if e := s.entry("Device name"); e.Text != "Pixel 8" {
			s.fail("the field holds %q, want the current name", e.Text)
		}
	})
	// The old name is selected: typing replaces it. A name must not be
	// empty: said in the dialog, which stays.
	s.typeText("   ")
	s.tap("Save")
	s.waitDialog("Enter a name for the device.")
	s.do(func() {
		f, _ := s.field("Device name")
		s.win.Canvas().Focus(f)
		f.(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutSelectAll{})
	})
	s.typeText("Ana's work phone")
	s.press(fyne.KeyReturn)
	s.waitNoDialog()
	s.waitText("Ana's work phone")
	if s.shows("Enter a name for the device.") {
		t.Error("the old error is still shown")
	}
	me, err := others[phone.Name].Me(ctx)
	if err != nil || me.Session.Device.Name != "Ana's work phone" {
		t.Fatalf("the phone's own name: %q, %v", me.Session.Device.Name, err)
	}
	s.press(fyne.KeyEscape)
	s.waitRows("Ana's Laptop", "Ana's work phone", "Galaxy Tab")

	// This device: the name it will sign in with changes too.
	s.tap("Ana's Laptop")
	s.tap("Rename")
	s.waitDialog("This device also uses it when it logs in again.")
	s.do(func() { s.entry("Device name").SetText("Ana's desk") })
	s.tap("Save")
	s.waitNoDialog()
	s.waitText("Ana's desk")
	if got := d.prefs.String(platform.PrefDeviceName); got != "Ana's desk" {
		t.Errorf("the saved device name is %q", got)
	}
	if got := d.core.Snapshot().Session.Device.Name; got != "Ana's desk" {
		t.Errorf("this session's device is called %q", got)
	}
	// Escape closes the dialog without renaming.
	s.tap("Rename")
	s.waitDialog("Rename Ana's desk")
	s.typeText("xyz")
	s.press(fyne.KeyEscape)
	s.waitNoDialog()
	s.press(fyne.KeyEscape)
	s.waitRows("Ana's desk", "Ana's work phone", "Galaxy Tab")
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
			if msg := s.dialogText(); !strings.Contains(msg, "Pixel 8 (Berlin, Germany) will be logged out right away and will need the password to log in again.") {
				t.Fatalf("the confirm dialog says:\n%s", msg)
			}
			// A destructive action is confirmed with a red button.
			s.do(func() {
				if imp := s.button("Log out").Importance; imp != widget.DangerImportance {
					t.Errorf("the confirm button's importance is %v, want danger (red)", imp)
				}
			})
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
				!strings.Contains(msg, "If you didn't recognise it, change your password too") {
				t.Fatalf("the Done dialog says:\n%s", msg)
			}
			if n := s.dialogs(); n != 1 {
				t.Fatalf("%d dialogs open with Done, want 1", n)
			}
			s.tap("OK")
			s.waitNoDialog()
			// Back on the list, without it.
			s.waitRows("Ana's Laptop", "Galaxy Tab")
			if d.core.Snapshot().LastRevoke != nil {
				t.Error("the result was not dismissed")
			}
			if _, err := others[phone.Name].Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
				t.Fatalf("the phone's session after the log out: %v", err)
			}
		})
	}
}

// TestLogOutSeveral ticks two devices and logs them out together: one
// confirmation, one password for both, one result naming both.
func TestLogOutSeveral(t *testing.T) {
	b, d, s, others := threeDevices(t)
	laptopAPI, _ := b.signInElsewhere(spec{api.Device{ID: "install-mac", Name: "MacBook Air", Platform: api.PlatformMacOS,
		OS: "macOS 14.5", Model: "MacBook Air", AppVersion: "1.0.0"}, "127.0.0.1"}, "ana")
	s.waitRows("Ana's Laptop", "MacBook Air", "Pixel 8", "Galaxy Tab")
	s.do(func() {
		if s.rows()[0].tickable {
			t.Error("this device's row can be ticked")
		}
		if s.rows()[1].where != "This computer · 127.0.0.1" {
			t.Errorf("a loopback sign-in is placed at %q", s.rows()[1].where)
		}
	})
	b.staleProof()
	s.tick("Pixel 8")
	s.waitText("Log out 1 selected device")
	s.tick("Galaxy Tab")
	s.waitText("Log out 2 selected devices")
	s.do(func() {
		if slices.Contains(s.texts(), "Log out of all other devices") {
			t.Error("Log out of all other devices shows beside the selection")
		}
	})
	// Unticking and ticking again.
	s.tick("Galaxy Tab")
	s.waitText("Log out 1 selected device")
	s.tick("Galaxy Tab")
	s.tap("Log out 2 selected devices")
	s.waitDialog("Log out 2 devices?")
	msg := s.dialogText()
	for _, want := range []string{"• Pixel 8 — Berlin, Germany", "• Galaxy Tab — Porto, Portugal", "Each will need the password to log in again,"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the confirm dialog lacks %q:\n%s", want, msg)
		}
	}
	s.do(func() {
		if imp := s.button("Log out 2").Importance; imp != widget.DangerImportance {
			t.Errorf("the confirm button's importance is %v, want danger", imp)
		}
	})
	s.tap("Log out 2")
	s.waitDialog("Confirm it's you")
	if msg := s.dialogText(); !strings.Contains(msg, "enter your password to log out 2 devices.") {
		t.Fatalf("the password dialog says:\n%s", msg)
	}
	s.enter(password)
	s.waitDialog("2 devices were logged out: Pixel 8, Galaxy Tab.")
	if msg := s.dialogText(); !strings.Contains(msg, "If you didn't recognise them") {
		t.Errorf("the result says:\n%s", msg)
	}
	s.tap("OK")
	s.waitNoDialog()
	s.waitRows("Ana's Laptop", "MacBook Air")
	for _, name := range []string{phone.Name, tablet.Name} {
		if _, err := others[name].Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
			t.Errorf("%s after the log out: %v", name, err)
		}
	}
	if _, err := laptopAPI.Me(ctx); err != nil {
		t.Errorf("the unticked Mac was logged out too: %v", err)
	}
	if snap := d.core.Snapshot(); len(snap.SelectedDevices) != 0 {
		t.Errorf("still ticked: %v", snap.SelectedDevices)
	}
	s.waitText("Log out of all other devices")
	// One password proof for both.
	page, err := laptopAPI.Audit(ctx, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	reauths := 0
	for _, e := range page.Events {
		if e.Type == api.AuditReauthSucceeded {
			reauths++
		}
	}
	if reauths != 1 {
		t.Errorf("%d password confirmations for one batch", reauths)
	}
}

// TestLogOutSeveralPartly: when the server goes away during a batch, the
// result says which devices were logged out and which were not, and why;
// those stay ticked.
func TestLogOutSeveralPartly(t *testing.T) {
	b, d, s, others := threeDevices(t)
	s.tick("Pixel 8")
	s.tick("Galaxy Tab")
	s.waitText("Log out 2 selected devices")
	var tabletID string
	for _, dev := range d.core.Snapshot().Devices {
		if dev.Device.Name == tablet.Name {
			tabletID = dev.ID
		}
	}
	release := b.hold("DELETE /v1/sessions/" + tabletID)
	s.tap("Log out 2 selected devices")
	s.tap("Log out 2")
	d.waitCore("the phone logged out", func(s app.Snapshot) bool { return len(s.Devices) == 2 })
	time.Sleep(20 * time.Millisecond)
	b.http.CloseClientConnections() // the tablet's request never gets an answer
	s.waitDialog("Not all devices were logged out")
	msg := s.dialogText()
	for _, want := range []string{"Pixel 8 was logged out.", "Couldn't log out 1 of 2 devices:", "• Galaxy Tab: ", "still ticked"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the result lacks %q:\n%s", want, msg)
		}
	}
	release()
	s.tap("OK")
	s.waitNoDialog()
	if _, err := others[phone.Name].Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
		t.Errorf("the phone after the log out: %v", err)
	}
	if snap := d.core.Snapshot(); !slices.Equal(snap.SelectedDevices, []string{tabletID}) {
		t.Errorf("ticked after the failure: %v, want the tablet", snap.SelectedDevices)
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

// focusName says what has the keyboard focus, as a person would: a
// button's label (or icon), a device row's name.
func (s *screen) focusName() string {
	var out string
	s.do(func() {
		switch f := s.win.Canvas().Focused().(type) {
		case nil:
			out = "nothing"
		case *deviceRow:
			out = "row " + f.name.Text
		case *keyList:
			out = "list"
		case *keySelect:
			out = "choice " + f.Selected
		case *dialogEntry:
			out = "field " + f.PlaceHolder
		default:
			if b := asButton(f); b != nil {
				out = b.Text
				if out == "" && b.Icon != nil {
					out = "icon " + b.Icon.Name()
				}
				return
			}
			out = "something else"
		}
	})
	return out
}

// tab presses Tab as the desktop driver does: the focus goes to the next
// thing that takes it.
func (s *screen) tabKey() {
	s.t.Helper()
	s.do(func() { s.win.Canvas().FocusNext() })
}

// TestLoginActivityKeyboard: Tab goes through Login activity in reading
// order (header, search field, rows, the button below), Enter opens the focused row
// or presses the focused button, Space ticks a row, Escape goes back from
// anywhere, and the focus shows in the theme's focus colour.
func TestLoginActivityKeyboard(t *testing.T) {
	for _, tc := range []struct {
		name string
		size fyne.Size
		tabs []string
	}{
		{"phone", fyne.NewSize(440, 760), []string{"icon " + theme.NavigateBackIcon().Name(), "icon " + theme.ViewRefreshIcon().Name(),
			"field " + searchHint, "row Ana's Laptop", "row Pixel 8", "row Galaxy Tab", "Log out of all other devices"}},
		{"desktop", fyne.NewSize(1280, 800), []string{"icon " + theme.NavigateBackIcon().Name(), "icon " + theme.ViewRefreshIcon().Name(),
			"field " + searchHint, "row Ana's Laptop", "row Pixel 8", "row Galaxy Tab", "Log out of all other devices", "Rename", "choice Never", "Log out (this device)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, d, s, _ := threeDevicesAt(t, tc.size)
			s.waitText("Log out of all other devices")
			if tc.name == "desktop" {
				s.waitText("Log out (this device)")
			}
			s.do(func() { s.win.Canvas().Unfocus() })
			var got []string
			for range tc.tabs {
				s.tabKey()
				got = append(got, s.focusName())
			}
			if !slices.Equal(got, tc.tabs) {
				t.Errorf("Tab order:\n got %q\nwant %q", got, tc.tabs)
			}
			// The focused row shows a ring in the focus colour, which
			// stands out from the page.
			s.do(func() {
				s.win.Canvas().Focus(s.rowNamed("Pixel 8"))
				r := s.rowNamed("Pixel 8")
				if r.ring.StrokeColor != theme.Color(theme.ColorNameFocus) || r.ring.StrokeWidth < 2 {
					t.Errorf("the focused row's ring: %v, %v", r.ring.StrokeColor, r.ring.StrokeWidth)
				}
				bg := theme.Color(theme.ColorNameBackground)
				if c := contrastRatio(over(bg, r.ring.StrokeColor), bg); c < 3 {
					t.Errorf("the focus ring stands out %.2f:1 from the page", c)
				}
				if s.rowNamed("Galaxy Tab").ring.StrokeColor == r.ring.StrokeColor {
					t.Error("an unfocused row has the ring too")
				}
			})
			// Space ticks the focused row, Enter opens it.
			s.press(fyne.KeySpace)
			s.waitText("Log out 1 selected device")
			if sel := d.core.Snapshot().SelectedDevices; len(sel) != 1 {
				t.Fatalf("ticked: %v", sel)
			}
			s.press(fyne.KeySpace)
			s.waitText("Log out of all other devices")
			s.press(fyne.KeyReturn)
			if tc.name == "phone" {
				s.waitText("Log out this device") // the phone's page
				s.waitGone("Where you're logged in")
				s.press(fyne.KeyEscape)
				s.waitText("Where you're logged in")
			} else {
				s.waitText("Log out this device") // beside the list
				if s.ui.page != pageDevices {
					t.Errorf("Enter on a row left the page on a desktop")
				}
			}
			// Enter presses the focused button; Escape closes its dialog.
			s.do(func() {
				s.win.Canvas().Unfocus()
				for range 8 {
					s.win.Canvas().FocusNext()
					if b := asButton(s.win.Canvas().Focused()); b != nil && b.Text == "Log out of all other devices" {
						return
					}
				}
				s.fail("Tab never reached Log out of all other devices")
			})
			s.press(fyne.KeyReturn)
			s.waitDialog("Log out of all other devices?")
			s.press(fyne.KeyEscape)
			s.waitNoDialog()
			// Escape on a focused row goes back (to Settings, where
			// Login activity was opened).
			s.do(func() { s.win.Canvas().Focus(s.rowNamed("Galaxy Tab")) })
			s.press(fyne.KeyEscape)
			s.waitText("Security activity")
		})
	}
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
	if msg := s.dialogText(); !strings.Contains(msg, "If you didn't recognise them") {
		t.Errorf("the result says:\n%s", msg)
	}
	s.tap("OK")
	s.waitNoDialog()
	s.waitRows("Ana's Laptop")
	s.waitText("1 device. Tap one for details; tick several to log them out together.")
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
	s.waitRows("Ana's Laptop")

	// A new sign-in elsewhere appears by itself, with the alert.
	phoneAPI, _ := b.signInElsewhere(phone, "ana")
	s.waitRows("Ana's Laptop", "Pixel 8")
	s.waitText("New sign-in on Pixel 8 near Berlin, Germany — was this you?")
	s.tap("Yes, it was me")
	s.waitGone("New sign-in on")

	// "No, secure my account" ends the session at once, then opens
	// Change password.
	b.clock.Advance(time.Minute) // the newest activity is listed first
	tabletAPI, _ := b.signInElsewhere(tablet, "ana")
	s.waitText("New sign-in on Galaxy Tab near Porto, Portugal — was this you?")
	s.waitRows("Ana's Laptop", "Galaxy Tab", "Pixel 8")
	s.tap("No, secure my account")
	s.waitDialog("Galaxy Tab was logged out.")
	s.tap("OK")
	s.waitGone("New sign-in on")
	s.waitText("Choose a password you don't use anywhere else")
	s.press(fyne.KeyEscape) // back to the list
	s.waitRows("Ana's Laptop", "Pixel 8")
	if _, err := tabletAPI.Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
		t.Fatalf("the tablet after No, secure my account: %v", err)
	}

	// A device that logs out goes from the list by itself.
	if _, err := phoneAPI.Logout(ctx, false); err != nil {
		t.Fatal(err)
	}
	s.waitRows("Ana's Laptop")
}

func TestLiveUpdateClosesOpenDetail(t *testing.T) {
	_, _, s, others := threeDevices(t)
	s.tap("Pixel 8")
	s.waitText("Log out this device")
	if _, err := others[phone.Name].Logout(ctx, false); err != nil {
		t.Fatal(err)
	}
	// The page it was on went away: back to the list.
	s.waitRows("Ana's Laptop", "Galaxy Tab")
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
	ls.waitRows("Ana's Laptop", "Pixel 8")
	ls.tap("Pixel 8")
	ls.tap("Log out this device")
	ls.waitDialog("Log out Pixel 8?")
	ls.tap("Log out")

	ps.waitText("You were logged out by Ana's Laptop")
	ps.waitText("09:41 today")
	ps.waitText("Log in to Sessionguard")
	ps.golden("signin_notice.xml")
	if keys := pd.secretKeys(); len(keys) != 0 {
		t.Fatalf("the phone's keyring still holds %v", keys)
	}

	ls.waitDialog("Pixel 8 was logged out.")
	ls.tap("OK")
	ls.waitRows("Ana's Laptop")

	// The phone signs in again with the password; the notice goes.
	ps.setField("Password", password)
	ps.tap("Log in")
	ps.waitText("Logged in on Pixel 8")
	ls.waitRows("Ana's Laptop", "Pixel 8")
}
