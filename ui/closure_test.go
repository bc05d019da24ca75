package ui

// Closure you can verify (issue 15), as the screens show it: the erase
// choice in every remote log out's confirmation, the live receipt in the
// dialog after it, Recently logged out in Login activity, and the closed
// device's notice.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
)

// endedView is a Recently logged out row as a person reads it.
type endedView struct {
	name, where, system, how, status string
	importance                       widget.Importance // the status line's
	r                                *endedRow
	pos                              fyne.Position
}

// endedRows lists the visible Recently logged out rows, top to bottom.
// Call on the loop.
func (s *screen) endedRows() []endedView {
	var out []endedView
	for _, it := range s.items() {
		r, ok := it.o.(*endedRow)
		if !ok || it.overlay {
			continue
		}
		v := endedView{name: r.name.Text, where: r.where.Text, system: r.system.Text, how: r.how.Text, r: r, pos: it.pos}
		if r.status.Visible() {
			v.status, v.importance = r.status.Text, r.status.Importance
		}
		out = append(out, v)
	}
	return out
}

// waitEnded waits until Recently logged out shows exactly want (name,
// how, status; a row a line, newest first).
func (s *screen) waitEnded(want ...[3]string) {
	s.t.Helper()
	s.waitFor(fmt.Sprintf("Recently logged out %q", want), func() bool {
		rows := s.endedRows()
		if len(rows) != len(want) {
			return false
		}
		for i, r := range rows {
			if [3]string{r.name, r.how, r.status} != want[i] {
				return false
			}
		}
		return true
	})
}

// eraseCheck is the erase box of the open confirmation. Call on the loop.
func (s *screen) eraseCheck(many bool) *keyCheck {
	found := s.find(func(it item) bool { c, ok := it.o.(*keyCheck); return ok && it.overlay && c.Text == eraseLabel(many) })
	if len(found) != 1 {
		s.fail("%d boxes %q; the dialog says:\n%s", len(found), eraseLabel(many), strings.Join(s.texts(), "\n"))
	}
	return found[0].o.(*keyCheck)
}

// wantEraseOffered checks the open confirmation offers erase (for one
// device or many), unticked, explained, with the focus on it.
func (s *screen) wantEraseOffered(many bool) {
	s.t.Helper()
	s.do(func() {
		c := s.eraseCheck(many)
		if c.Checked {
			s.fail("%q is ticked by default", c.Text)
		}
		if s.win.Canvas().Focused() != c {
			s.fail("the confirmation opens with %T focused, not the erase box", s.win.Canvas().Focused())
		}
	})
	if msg := s.dialogText(); !strings.Contains(msg, eraseExplain(many)) {
		s.t.Errorf("the confirmation does not explain erase:\n%s", msg)
	}
}

// statusLabel is the dialog's label whose text is txt. Call on the loop.
func (s *screen) statusLabel(txt string) *widget.Label {
	found := s.find(func(it item) bool { l, ok := it.o.(*widget.Label); return ok && it.overlay && l.Text == txt })
	if len(found) == 0 {
		s.fail("no dialog line %q; the screen shows:\n%s", txt, strings.Join(s.texts(), "\n"))
	}
	return found[len(found)-1].o.(*widget.Label)
}

// endedOn waits until d's core lists session id as ended, and returns it.
func endedOn(d *device, id string) api.Session {
	d.t.Helper()
	var out api.Session
	d.waitCore("session "+id+" in Ended", func(s app.Snapshot) bool {
		var ok bool
		out, ok = findEnded(s, id)
		return ok
	})
	return out
}

// TestEraseReceiptGoesLive is the journey with two app instances:
// the laptop logs the phone out with erase while the phone's app is
// closed. The dialog says it waits for the device, without alarm; Recently
// logged out lists it the same way. When the phone's app starts (42 s
// later) it learns of it, erases, and confirms: the laptop's open dialog
// and its list turn to "Confirmed closed at 09:41:42 (42 s), data erased",
// and the phone says who erased it.
func TestEraseReceiptGoesLive(t *testing.T) {
	b, e := withAna(t)
	pd, ld := b.device(phone), b.device(laptop)
	ls := e.open(ld, e.defaultInfo())
	ls.logIn("ana")
	ls.waitLive()
	ps := e.open(pd, e.defaultInfo())
	ps.logIn("ana")
	ps.waitLive()
	phoneID := ps.d.core.Snapshot().Session.ID

	ls.waitText("New sign-in on Pixel 8")
	ls.tap("Yes, it was me")
	ls.openLoginActivity()
	ls.waitRows("Ana's Laptop", "Pixel 8")
	ls.waitText(endedEmpty)

	ps.close() // the phone's app is not running: no one hears of it yet
	ls.tap("Pixel 8")
	ls.tap("Log out this device")
	ls.waitDialog("Log out Pixel 8?")
	ls.wantEraseOffered(false)
	ls.typeText(" ") // the box has the focus: Space ticks it
	ls.do(func() {
		if !ls.eraseCheck(false).Checked {
			ls.fail("Space did not tick the erase box")
		}
	})
	ls.tap("Log out")

	ls.waitDialog(closureWaiting)
	if msg := ls.dialogText(); !strings.Contains(msg, "Pixel 8 was logged out. It will need your password to log in again. "+
		"Its Sessionguard data for this account is erased once it hears of it.") {
		t.Fatalf("the Done dialog says:\n%s", msg)
	}
	ls.do(func() {
		if imp := ls.statusLabel(closureWaiting).Importance; imp != widget.LowImportance {
			t.Errorf("waiting for the receipt shows with importance %v, want low (not a failure)", imp)
		}
	})
	ls.waitEnded([3]string{"Pixel 8", "Logged out from this device · Today 09:41", closureWaiting})
	if c := endedOn(ld, phoneID).Closure; c == nil || !c.EraseRequested || c.State != api.ClosurePending {
		t.Fatalf("closure before the phone starts: %+v", c)
	}

	// The phone's app starts 42 s later: it learns, erases, confirms.
	b.clock.Advance(42 * time.Second)
	pd.build()
	ps = e.open(pd, e.defaultInfo())
	ps.waitText("This device was logged out and its Sessionguard data erased by Ana's Laptop at 09:41 today. " +
		"If that wasn't you, log in and change your password.")
	if keys := pd.secretKeys(); len(keys) != 0 {
		t.Errorf("the phone's keyring still holds %v", keys)
	}
	ps.do(func() {
		if got := ps.entry("Username").Text; got != "" {
			t.Errorf("the erased phone still fills in the username %q", got)
		}
	})

	const confirmed = "Confirmed closed at 09:41:42 (42 s), data erased"
	ls.waitDialog(confirmed) // the dialog left open follows the receipt
	ls.do(func() {
		if imp := ls.statusLabel(confirmed).Importance; imp != widget.SuccessImportance {
			t.Errorf("the confirmed receipt shows with importance %v, want success", imp)
		}
	})
	if ls.shows(closureWaiting) {
		t.Error("the dialog still says it is waiting")
	}
	ls.tap("OK")
	ls.waitNoDialog()
	ls.waitEnded([3]string{"Pixel 8", "Logged out from this device · Today 09:41", confirmed})
}

// TestEraseChoiceDefaults: every remote log out's confirmation offers
// erase, off by default, worded for one device or several; the choice
// travels with the log out; the dialog after it lists each device's
// receipt. "No, secure my account" (a device that is not the person's)
// erases without asking, and a live device confirms at once.
func TestEraseChoiceDefaults(t *testing.T) {
	t.Run("confirmations", func(t *testing.T) {
		_, d, s, others := threeDevices(t)

		// One device, from its page.
		s.tap("Pixel 8")
		s.tap("Log out this device")
		s.waitDialog("Log out Pixel 8?")
		s.wantEraseOffered(false)
		s.press(fyne.KeyEscape)
		s.waitNoDialog()
		s.press(fyne.KeyEscape)
		s.waitText("Where you're logged in")

		// All other devices.
		s.tap("Log out of all other devices")
		s.waitDialog("Log out of all other devices?")
		s.wantEraseOffered(true)
		s.tap("Cancel")
		s.waitNoDialog()

		// One ticked device reads as one.
		s.tick("Galaxy Tab")
		s.tap("Log out 1 selected device")
		s.waitDialog("Log out 1 device?")
		s.wantEraseOffered(false)
		s.tap("Cancel")
		s.waitNoDialog()

		// Two ticked devices, with erase.
		s.tick("Pixel 8")
		s.tap("Log out 2 selected devices")
		s.waitDialog("Log out 2 devices?")
		s.wantEraseOffered(true)
		s.tap(eraseLabel(true))
		s.tap("Log out 2")
		s.waitDialog("2 devices were logged out")
		if msg := s.dialogText(); !strings.Contains(msg, "Their Sessionguard data for this account is erased once each hears of it.") {
			t.Errorf("the Done dialog does not say they erase:\n%s", msg)
		}
		// These two are no apps: they never confirm, and that is no failure.
		s.waitDialog("Galaxy Tab: " + closureWaiting)
		s.waitDialog("Pixel 8: " + closureWaiting)
		for name, c := range others {
			if _, err := c.Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
				t.Errorf("%s after the log out: %v", name, err)
			}
		}
		snap := d.waitCore("both ended", func(s app.Snapshot) bool { return len(s.Ended) == 2 })
		for _, x := range snap.Ended {
			if x.Closure == nil || !x.Closure.EraseRequested {
				t.Errorf("%s ended without erase: %+v", x.Device.Name, x.Closure)
			}
		}
		s.tap("OK")
		s.waitNoDialog()
	})

	t.Run("unticked", func(t *testing.T) {
		_, d, s, _ := threeDevices(t)
		s.tap("Log out of all other devices")
		s.waitDialog("Log out of all other devices?")
		s.tap("Log out all")
		s.waitDialog("2 other devices were logged out.")
		if s.shows("Sessionguard data for this account is erased") {
			t.Error("the Done dialog speaks of erase that was not asked for")
		}
		// "All other devices" counts the receipts: none will come here.
		s.waitDialog("2 logged out — 0 confirmed, 2 waiting. Their access already fails.")
		snap := d.waitCore("both ended", func(s app.Snapshot) bool { return len(s.Ended) == 2 })
		for _, x := range snap.Ended {
			if x.Closure == nil || x.Closure.EraseRequested {
				t.Errorf("%s ended with erase though the box was not ticked: %+v", x.Device.Name, x.Closure)
			}
		}
	})

	t.Run("No, secure my account", func(t *testing.T) {
		b, e := withAna(t)
		ld := b.device(laptop)
		ls := e.open(ld, e.defaultInfo())
		ls.logIn("ana")
		ls.waitLive()
		td := b.device(tablet)
		ts := e.open(td, e.defaultInfo())
		ts.logIn("ana")
		ts.waitLive()

		ls.waitText("New sign-in on Galaxy Tab near Porto, Portugal — was this you?")
		ls.tap("No, secure my account")
		ls.waitDialog("Galaxy Tab was logged out.")
		if msg := ls.dialogText(); !strings.Contains(msg, "Its Sessionguard data for this account is erased once it hears of it.") {
			t.Errorf("the Done dialog does not say it erases:\n%s", msg)
		}
		// The tablet is live: it hears, erases and confirms at once.
		ts.waitText("This device was logged out and its Sessionguard data erased by Ana's Laptop at 09:41 today.")
		ls.waitDialog("Confirmed closed at 09:41:00 (0 ms), data erased")
		ls.waitText("Choose a password you don't use anywhere else")
		ls.tap("OK")
		ls.waitNoDialog()
	})
}

// TestRecentlyLoggedOut: Login activity's Recently logged out says when
// nothing ended, then lists each ended device with who ended it and why in
// plain words, and its receipt, newest first; at a phone's width and a
// desktop's, nothing that identifies a device is cut off.
func TestRecentlyLoggedOut(t *testing.T) {
	b, e := withAna(t)
	stop := b.srv.StartBackground() // delivers the administrator's events
	defer stop()
	d := b.device(laptop)
	s := e.open(d, e.defaultInfo())
	s.logIn("ana")
	s.waitLive()
	s.openLoginActivity()
	s.waitText(endedEmpty)
	s.do(func() {
		if n := len(s.endedRows()); n != 0 {
			s.fail("%d rows under the empty state", n)
		}
	})

	// 09:42: the server administrator logs every device out, this one
	// too, which confirms at once; it logs in again.
	b.clock.Advance(time.Minute)
	if _, err := b.srv.AdminLogoutAll(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	s.waitText("You were logged out by the server administrator")
	s.logIn("ana")
	s.waitLive()
	s.openLoginActivity()

	office := spec{api.Device{ID: "install-office", Name: "Office PC", Platform: api.PlatformWindows, OS: "Windows 11", Model: "OptiPlex 7010"}, "203.0.113.10"}
	work := spec{api.Device{ID: "install-work", Name: "Work PC", Platform: api.PlatformLinux, OS: "Fedora 41"}, "198.51.100.20"}
	ipad := spec{api.Device{ID: "install-ipad", Name: "Old iPad", Platform: api.PlatformIOS, OS: "iPadOS 17", Model: "iPad Air"}, "192.0.2.30"}
	tabAPI, _ := b.signInElsewhere(tablet, "ana")
	phoneAPI, phoneLogin := b.signInElsewhere(phone, "ana")
	_, officeLogin := b.signInElsewhere(office, "ana")
	workAPI, _ := b.signInElsewhere(work, "ana")
	b.signInElsewhere(ipad, "ana")
	s.waitFor("six devices", func() bool { return len(s.rows()) == 6 })

	// 09:43: the tablet logs itself out.
	b.clock.Advance(time.Minute)
	if _, err := tabAPI.Logout(ctx, false); err != nil {
		t.Fatal(err)
	}
	// 09:44: the phone logs the office PC out.
	b.clock.Advance(time.Minute)
	if _, err := phoneAPI.RevokeSession(ctx, officeLogin.Session.ID); err != nil {
		t.Fatal(err)
	}
	// 09:45: someone guesses passwords on the work PC.
	b.clock.Advance(time.Minute)
	var err error
	for range 5 {
		_, err = workAPI.Reauth(ctx, api.ReauthRequest{Password: "guess"})
	}
	if !errors.Is(err, client.ErrSessionRevoked) {
		t.Fatalf("the fifth guess: %v", err)
	}
	// 09:46: this device logs the phone out.
	b.clock.Advance(time.Minute)
	if err := d.core.RevokeDevice(ctx, phoneLogin.Session.ID, false); err != nil {
		t.Fatal(err)
	}
	s.waitDialog("Pixel 8 was logged out.")
	s.tap("OK")
	s.waitNoDialog()
	// 09:47: this device changes the password, which logs the iPad out.
	b.clock.Advance(time.Minute)
	if _, err := d.core.ChangePassword(ctx, password, "a-brand-new-passphrase", "a-brand-new-passphrase", "", true); err != nil {
		t.Fatal(err)
	}
	s.settle()

	waiting := closureWaiting
	s.waitEnded(
		[3]string{"Old iPad", "Logged out when the password was changed on this device · Today 09:47", waiting},
		[3]string{"Pixel 8", "Logged out from this device · Today 09:46", waiting},
		[3]string{"Work PC", "Logged out after too many wrong passwords · Today 09:45", waiting},
		[3]string{"Office PC", "Logged out by Pixel 8 · Today 09:44", waiting},
		[3]string{"Galaxy Tab", "Logged itself out · Today 09:43", ""},
		[3]string{"Ana's Laptop", "Logged out by the server administrator · Today 09:42", "Confirmed closed at 09:42:00 (0 ms)"},
	)
	s.do(func() {
		for _, r := range s.endedRows() {
			want := widget.LowImportance // waiting: neutral, never red
			if r.status != waiting {
				want = widget.SuccessImportance
			}
			if r.status != "" && r.importance != want {
				t.Errorf("%s: status %q with importance %v, want %v", r.name, r.status, r.importance, want)
			}
		}
		if got := s.endedRows()[0]; got.where != "Porto, Portugal · 192.0.2.30" || got.system != "iPadOS 17 · iPad Air" {
			t.Errorf("the iPad's row: %q, %q", got.where, got.system)
		}
	})
	if s.shows(endedEmpty) {
		t.Error("the empty state shows with rows")
	}

	for _, size := range []fyne.Size{fyne.NewSize(440, 760), fyne.NewSize(360, 740), fyne.NewSize(1280, 800)} {
		s.do(func() { s.win.Resize(size) })
		s.do(func() {
			rows := s.endedRows()
			if len(rows) != 6 {
				s.fail("%v: %d rows", size, len(rows))
			}
			for _, r := range rows {
				for _, l := range []*widget.Label{r.r.name, r.r.where, r.r.system, r.r.how, r.r.status} {
					if l.Visible() && !drawnWhole(l) {
						t.Errorf("%v: %s: %q is drawn as %q", size, r.name, l.Text, drawn(l))
					}
				}
				top, bottom, right := r.pos.Y, r.pos.Y+r.r.Size().Height, r.pos.X+r.r.Size().Width
				walk(r.r, r.pos.Subtract(r.r.Position()), nil, false, func(it item) {
					if l, ok := it.o.(*widget.Label); ok && l.Text != "" {
						if it.pos.Y < top-0.5 || it.pos.Y+l.Size().Height > bottom+0.5 || it.pos.X+l.Size().Width > right+0.5 {
							t.Errorf("%v: %s: %q at %v %v lies outside its row", size, r.name, l.Text, it.pos, l.Size())
						}
					}
				})
				if right > size.Width+0.5 {
					t.Errorf("%v: %s: the row reaches x=%v", size, r.name, right)
				}
			}
		})
	}
}

// TestRecentlyLoggedOutPages: past a page of ended sessions, the rest
// come with "Show more logged-out devices".
func TestRecentlyLoggedOutPages(t *testing.T) {
	b, _, _, s := signedIn(t)
	const n = 52 // the server's page is 50
	for i := range n {
		sp := phone
		sp.ID = fmt.Sprintf("install-phone-%d", i)
		sp.Name = fmt.Sprintf("Phone %d", i)
		c, _ := b.signInElsewhere(sp, "ana")
		if _, err := c.Logout(ctx, false); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(time.Second) // newest first, in a known order
	}
	s.openLoginActivity()
	s.waitFor("a page of ended sessions", func() bool { return len(s.endedRows()) == 50 })
	s.tap("Show more logged-out devices")
	s.waitFor("all ended sessions", func() bool { return len(s.endedRows()) == n })
	s.waitGone("Show more logged-out devices")
	var names []string
	s.do(func() {
		for _, r := range s.endedRows() {
			names = append(names, r.name)
		}
	})
	seen := map[string]bool{}
	for _, name := range names {
		seen[name] = true
	}
	if names[0] != fmt.Sprintf("Phone %d", n-1) || names[n-1] != "Phone 0" || len(seen) != n {
		t.Errorf("rows out of order or twice: %q", names)
	}
}

// TestAccountNoticeErased: with several accounts, an account erased from
// elsewhere leaves with a notice that says so.
func TestAccountNoticeErased(t *testing.T) {
	local, _, _, md, s := anaAndBob(t, fyne.NewSize(440, 760))
	md.waitLiveAccount("ana")
	revokeLaptopFromPhone(t, local, "ana", true)
	s.waitDialog("ana (this device) was logged out and its Sessionguard data on this device erased by Pixel 8 at 09:41 today. " +
		"If that wasn't you, log in again and change its password.")
	s.tap("OK")
	s.waitNoDialog()
}

func TestClosureWords(t *testing.T) {
	now := epoch // 14 Mar 2030, 09:41
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	ended := func(reason string, c *api.Closure) api.Session {
		return api.Session{ID: "ses_phone", Device: api.Device{Name: "Pixel 8"}, RevokedAt: at(-10 * time.Minute), RevokeReason: reason,
			RevokedBySessionID: "ses_laptop", RevokedByDeviceName: "Ana's Laptop", Closure: c}
	}
	confirmed := func(after time.Duration, asked, erased bool) *api.Closure {
		return &api.Closure{State: api.ClosureConfirmed, EraseRequested: asked, Erased: erased, ConfirmedAt: at(-10*time.Minute + after)}
	}
	pending := &api.Closure{State: api.ClosurePending, EraseRequested: true}

	// Receipts: waiting reads neutral; confirmed with the time to the
	// second, the delay, and what became of the data.
	for _, tc := range []struct {
		name string
		s    api.Session
		want string
		imp  widget.Importance
	}{
		{"waiting", ended(api.ReasonRemoteLogout, pending), closureWaiting, widget.LowImportance},
		{"erased", ended(api.ReasonRemoteLogout, confirmed(300*time.Millisecond, true, true)),
			"Confirmed closed at 09:31:00 (0.3 s), data erased", widget.SuccessImportance},
		{"not erased", ended(api.ReasonLogoutOthers, confirmed(42*time.Second, true, false)),
			"Confirmed closed at 09:31:42 (42 s), data not erased", widget.MediumImportance},
		{"no erase asked", ended(api.ReasonRemoteLogout, confirmed(5*time.Minute, false, false)),
			"Confirmed closed at 09:36:00 (5 min)", widget.SuccessImportance},
		{"days later", ended(api.ReasonRemoteLogout, confirmed(50*time.Hour, true, true)),
			"Confirmed closed at 11:31:00 on 16 Mar (2 days), data erased", widget.SuccessImportance},
		{"ended itself", ended(api.ReasonLogout, confirmed(0, false, false)), "", widget.LowImportance},
		{"live", api.Session{}, "", widget.LowImportance},
	} {
		got, imp := closureStatus(tc.s, now)
		if got != tc.want || (got != "" && imp != tc.imp) {
			t.Errorf("%s: %q (%v), want %q (%v)", tc.name, got, imp, tc.want, tc.imp)
		}
		if imp == widget.DangerImportance || imp == widget.WarningImportance {
			t.Errorf("%s: a receipt reads as a problem (%v)", tc.name, imp)
		}
	}
	if got := clockSeconds(now.Add(-24*time.Hour+3*time.Second), now); got != "09:41:03 yesterday" {
		t.Errorf("yesterday: %q", got)
	}

	// Who ended it, and why, in plain words.
	admin := ended(api.ReasonAdmin, nil)
	admin.RevokedBySessionID, admin.RevokedByDeviceName = "", "Server administrator"
	noOne := func(reason string) api.Session {
		s := ended(reason, nil)
		s.RevokedBySessionID, s.RevokedByDeviceName = "", ""
		return s
	}
	sameName := ended(api.ReasonRemoteLogout, nil)
	sameName.RevokedByDeviceName = "pixel 8"
	for _, tc := range []struct {
		name string
		s    api.Session
		self string
		want string
	}{
		{"by another device", ended(api.ReasonRemoteLogout, nil), "ses_tablet", "Logged out by Ana's Laptop · Today 09:31"},
		{"all others, by another device", ended(api.ReasonLogoutOthers, nil), "ses_tablet", "Logged out by Ana's Laptop · Today 09:31"},
		{"from here", ended(api.ReasonRemoteLogout, nil), "ses_laptop", "Logged out from this device · Today 09:31"},
		{"by a device of the same name", sameName, "ses_tablet", "Logged out by another device named pixel 8 · Today 09:31"},
		{"by a device not known", noOne(api.ReasonRemoteLogout), "", "Logged out from another device · Today 09:31"},
		{"itself", ended(api.ReasonLogout, nil), "ses_laptop", "Logged itself out · Today 09:31"},
		{"wrong passwords", noOne(api.ReasonReauthFailed), "", "Logged out after too many wrong passwords · Today 09:31"},
		{"password changed", ended(api.ReasonPasswordChanged, nil), "ses_tablet", "Logged out when the password was changed on Ana's Laptop · Today 09:31"},
		{"password changed here", ended(api.ReasonPasswordChanged, nil), "ses_laptop", "Logged out when the password was changed on this device · Today 09:31"},
		{"password changed, by whom not known", noOne(api.ReasonPasswordChanged), "", "Logged out when the password was changed · Today 09:31"},
		{"server administrator", admin, "", "Logged out by the server administrator · Today 09:31"},
		{"token reused", noOne(api.ReasonRefreshTokenReuse), "", "Logged out because its sign-in token was used from somewhere else · Today 09:31"},
		{"expired", noOne(api.ReasonExpired), "", "Its session expired · Today 09:31"},
	} {
		if got := endedHow(tc.s, tc.self, now); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestRevokeStatus: the dialog after a remote log out follows each
// device's receipt, and for "all other devices" counts them, from the
// newest such log out made here, never from an older list.
func TestRevokeStatus(t *testing.T) {
	now := epoch
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	self := &api.Session{ID: "ses_laptop"}
	other := func(id string, revoked time.Duration, c *api.Closure) api.Session {
		return api.Session{ID: id, Device: api.Device{Name: id}, RevokedAt: at(revoked), RevokeReason: api.ReasonLogoutOthers,
			RevokedBySessionID: "ses_laptop", Closure: c}
	}
	done := func(erased bool) *api.Closure {
		return &api.Closure{State: api.ClosureConfirmed, EraseRequested: true, Erased: erased, ConfirmedAt: at(time.Second)}
	}
	wait := &api.Closure{State: api.ClosurePending, EraseRequested: true}
	r := app.RevokeResult{Count: 3, Erase: true}
	texts := func(lines []revokeLine) []string {
		var out []string
		for _, l := range lines {
			out = append(out, l.text)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		ended []api.Session
		want  string
	}{
		{"not loaded yet", nil, "3 logged out — 0 confirmed, 3 waiting. Their access already fails."},
		{"an older log out only", []api.Session{other("a", -time.Hour, done(true)), other("b", -time.Hour, done(true)), other("c", -2*time.Hour, done(true))},
			"3 logged out — 0 confirmed, 3 waiting. Their access already fails."},
		{"some in", []api.Session{other("a", 0, done(true)), other("b", 0, wait), other("c", 0, done(true)), other("d", -time.Hour, done(true))},
			"3 logged out — 2 confirmed, 1 waiting. Their access already fails."},
		{"all in", []api.Session{other("a", 0, done(true)), other("b", 0, done(true)), other("c", 0, done(true))},
			"3 logged out — all confirmed, data erased"},
		{"all in, one kept its data", []api.Session{other("a", 0, done(true)), other("b", 0, done(false)), other("c", 0, done(true))},
			"3 logged out — all confirmed, data erased on 2 of 3"},
	} {
		got := texts(revokeStatus(r, app.Snapshot{Session: self, Ended: tc.ended}, now))
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}

	// Chosen devices: a line each, named.
	several := app.RevokeResult{Count: 2, Names: []string{"Pixel 8", "Galaxy Tab"}, IDs: []string{"p", "g"}, Erase: true}
	snap := app.Snapshot{Session: self, Ended: []api.Session{{ID: "g", RevokedAt: at(0), RevokeReason: api.ReasonRemoteLogout, Closure: done(true)}}}
	want := []string{"Pixel 8: " + closureWaiting, "Galaxy Tab: Confirmed closed at 09:41:01 (1.0 s), data erased"}
	if got := texts(revokeStatus(several, snap, now)); !slices.Equal(got, want) {
		t.Errorf("several: %q, want %q", got, want)
	}
	// One device: its line alone.
	one := app.RevokeResult{DeviceName: "Galaxy Tab", Count: 1, IDs: []string{"g"}}
	if got := texts(revokeStatus(one, snap, now)); !slices.Equal(got, []string{"Confirmed closed at 09:41:01 (1.0 s), data erased"}) {
		t.Errorf("one: %q", got)
	}
	// Nothing logged out (every one failed): no status.
	if got := revokeStatus(app.RevokeResult{Failed: []app.RevokeFailure{{DeviceName: "x", Reason: "offline"}}}, snap, now); len(got) != 0 {
		t.Errorf("none logged out: %+v", got)
	}
}

func TestRevokedNoticeErased(t *testing.T) {
	now := epoch
	for _, tc := range []struct {
		n    app.RemoteLogout
		self string
		want string
	}{
		{app.RemoteLogout{ByDeviceName: "Ana's Laptop", At: now, Reason: api.ReasonRemoteLogout, Erased: true}, "Pixel 8",
			"This device was logged out and its Sessionguard data erased by Ana's Laptop at 09:41 today. If that wasn't you, log in and change your password."},
		{app.RemoteLogout{ByDeviceName: "vm", At: now, Reason: api.ReasonLogoutOthers, Erased: true}, "vm",
			"This device was logged out and its Sessionguard data erased by another device named vm, at 09:41 today. If that wasn't you, log in and change your password."},
		{app.RemoteLogout{At: now, Reason: api.ReasonRemoteLogout, Erased: true}, "vm",
			"This device was logged out and its Sessionguard data erased at 09:41 today. If that wasn't you, log in and change your password."},
	} {
		if got := revokedNotice(&tc.n, tc.self, now); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
	n := app.AccountNotice{Username: "ana", Server: "https://sessions.example.com",
		Logout: &app.RemoteLogout{ByDeviceName: "Pixel 8", At: now, Reason: api.ReasonRemoteLogout, Erased: true}}
	if got, want := accountNotice(n, "Ana's Laptop", now), "ana (sessions.example.com) was logged out and its Sessionguard data on this device erased by Pixel 8 at 09:41 today. "+
		"If that wasn't you, log in again and change its password."; got != want {
		t.Errorf("accounts:\n got %q\nwant %q", got, want)
	}
}

// TestClosureConfirmedSentence: Security activity says what the closed
// device confirmed, erased or not.
func TestClosureConfirmedSentence(t *testing.T) {
	ev := api.AuditEvent{Type: api.AuditSessionClosureConfirmed, At: epoch, SessionID: "ses_phone", DeviceName: "Pixel 8",
		TargetSessionID: "ses_phone", TargetDeviceName: "Pixel 8", IP: "198.51.100.20",
		Detail: "Confirmed it was logged out; its Sessionguard data for this account erased (0.3 s after the log out)"}
	if got, want := activityWhat(ev, "ses_laptop"), "Pixel 8 confirmed it was logged out and erased its Sessionguard data"; got != want {
		t.Errorf("erased: %q, want %q", got, want)
	}
	ev.Detail = "Confirmed it was logged out; its Sessionguard data was not erased (42 s after the log out)"
	if got, want := activityWhat(ev, "ses_laptop"), "Pixel 8 confirmed it was logged out"; got != want {
		t.Errorf("not erased: %q, want %q", got, want)
	}
}
