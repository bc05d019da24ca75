package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
)

func TestActivitySentenceEveryType(t *testing.T) {
	now := time.Date(2030, time.March, 14, 15, 0, 0, 0, time.UTC)
	at := time.Date(2030, time.March, 14, 14, 2, 0, 0, time.UTC)
	lisbon := api.Location{City: "Lisbon", Region: "Lisbon", Country: "Portugal", CountryCode: "PT"}
	ev := func(typ string) api.AuditEvent {
		return api.AuditEvent{Type: typ, At: at, Location: lisbon, SessionID: "ses_laptop", DeviceName: "Ana's Laptop",
			TargetSessionID: "ses_phone", TargetDeviceName: "Pixel 8", Detail: "Renamed to “Work phone”"}
	}
	const where = " · Lisbon, Portugal · Today 14:02"
	cases := map[string]string{
		api.AuditLoginSucceeded:           "Logged in on Ana's Laptop",
		api.AuditLoginFailed:              "Wrong password on Ana's Laptop",
		api.AuditLoginMFAFailed:           "Wrong two-step code on Ana's Laptop",
		api.AuditLogout:                   "Logged out on Ana's Laptop",
		api.AuditSessionRevoked:           "Ana's Laptop logged out Pixel 8",
		api.AuditSessionsRevokedOthers:    "Ana's Laptop logged out all other devices",
		api.AuditSessionRenamed:           "Ana's Laptop renamed Pixel 8 to “Work phone”",
		api.AuditSessionClosureConfirmed:  "Ana's Laptop confirmed it was logged out",
		api.AuditSessionRulesChanged:      "Ana's Laptop set Pixel 8 to log out after 1 week unused",
		api.AuditSettingsChanged:          "Ana's Laptop changed when inactive devices are logged out: after 1 month",
		api.AuditRefreshReuseDetected:     "Old sign-in token reused on Ana's Laptop, so it was logged out",
		api.AuditDPoPRefused:              "A copy of Ana's Laptop's login was tried elsewhere and refused",
		api.AuditReauthSucceeded:          "Password confirmed on Ana's Laptop",
		api.AuditReauthFailed:             "Wrong password when confirming it's you on Ana's Laptop",
		api.AuditPasswordChanged:          "Password changed on Ana's Laptop",
		api.AuditMFAEnabled:               "Two-step verification turned on from Ana's Laptop",
		api.AuditMFADisabled:              "Two-step verification turned off from Ana's Laptop",
		api.AuditRecoveryCodeUsed:         "Recovery code used on Ana's Laptop",
		api.AuditRecoveryCodesRegenerated: "New recovery codes made on Ana's Laptop",
		api.AuditRememberedLoginCreated:   "Login info saved on Ana's Laptop",
		api.AuditRememberedLoginUsed:      "Logged in with saved login info on Ana's Laptop",
		api.AuditRememberedLoginForgotten: "Saved login info removed from Ana's Laptop",
		// Operator commands: done on the server, not from a device.
		// Approvals (issue 17): the event's device asks, its target answers.
		api.AuditApprovalRequested: "Ana's Laptop asked to log in",
		api.AuditApprovalApproved:  "Pixel 8 approved Ana's Laptop's log in",
		api.AuditApprovalDenied:    "A log in from Ana's Laptop was refused on Pixel 8",
		api.AuditDeviceLinked:      "Ana's Laptop was linked with a code from Pixel 8",
		api.AuditAdminResetMFA:     "The server administrator reset two-step verification · On the server · Today 14:02",
		api.AuditAdminLogoutAll:    "The server administrator logged out every device · On the server · Today 14:02",
		api.AuditAdminSetPassword:  "The server administrator set a new password · On the server · Today 14:02",
	}
	// Details of their own (the server's words, see rules_test.go).
	details := map[string]string{
		api.AuditSessionRulesChanged: "Log out if unused for 1 week",
		api.AuditSettingsChanged:     "Log out devices unused for 1 month (was never)",
	}
	for _, typ := range api.AuditTypes {
		want, ok := cases[typ]
		if !ok {
			t.Errorf("no sentence tested for %s", typ)
			continue
		}
		e := ev(typ)
		if d, ok := details[typ]; ok {
			e.Detail = d
		}
		if isAdmin(typ) {
			e.DeviceName, e.TargetDeviceName, e.Location = "Server administrator", "", api.Location{}
		} else {
			want += where
		}
		if got := activitySentence(e, "ses_tablet", now); got != want {
			t.Errorf("%s:\n got %q\nwant %q", typ, got, want)
		}
		if activityIcon(typ) == nil {
			t.Errorf("%s has no icon", typ)
		}
	}
	if len(cases) != len(api.AuditTypes) {
		t.Errorf("%d cases for %d types", len(cases), len(api.AuditTypes))
	}
	for _, typ := range []string{api.AuditAdminResetMFA, api.AuditAdminLogoutAll, api.AuditAdminSetPassword} {
		if activityWarns(typ) || activityIcon(typ).Name() != theme.SettingsIcon().Name() {
			t.Errorf("%s does not get the administrator's icon", typ)
		}
	}
	// A device logged out after too many wrong passwords: said so, with
	// the warning icon (the reason is in the detail), naming it once.
	locked := api.AuditEvent{Type: api.AuditSessionRevoked, At: at, Location: lisbon, SessionID: "ses_phone", DeviceName: "Pixel 8",
		TargetSessionID: "ses_phone", TargetDeviceName: "Pixel 8", Detail: "Logged out after 5 wrong passwords or codes in a row when confirming it was you (reauth_failed)"}
	if got, want := activitySentence(locked, "", now), "Too many wrong passwords on Pixel 8, so it was logged out"+where; got != want {
		t.Errorf("reauth_failed:\n got %q\nwant %q", got, want)
	}
	if eventIcon(locked).Name() != activityIcon(api.AuditLoginFailed).Name() {
		t.Error("a device logged out after wrong passwords does not get the warning icon")
	}
	if eventIcon(ev(api.AuditSessionRevoked)).Name() != theme.LogoutIcon().Name() {
		t.Error("a plain log out gets another icon")
	}
	// Missing names and places, other days, an unknown type.
	bare := api.AuditEvent{Type: api.AuditSessionRevoked, At: at.AddDate(0, 0, -1)}
	if got, want := activitySentence(bare, "", now), "An unknown device logged out a device · Unknown location · Yesterday 14:02"; got != want {
		t.Errorf("bare event: %q, want %q", got, want)
	}
	old := api.AuditEvent{Type: api.AuditLoginSucceeded, At: at.AddDate(0, -4, 0), DeviceName: "X", IP: "192.168.1.20"}
	if got, want := activitySentence(old, "", now), "Logged in on X · Local network · 14 Nov 2029, 14:02"; got != want {
		t.Errorf("last year, private address: %q, want %q", got, want)
	}
	if got, want := activitySentence(api.AuditEvent{Type: "login.teleported", At: at.AddDate(0, 0, -3), DeviceName: "X", IP: "127.0.0.1"}, "", now),
		`Security event "login.teleported" on X · This computer · 11 Mar, 14:02`; got != want {
		t.Errorf("unknown type: %q, want %q", got, want)
	}
	for _, typ := range []string{api.AuditLoginFailed, api.AuditLoginMFAFailed, api.AuditReauthFailed, api.AuditRefreshReuseDetected, api.AuditDPoPRefused} {
		if !activityWarns(typ) || activityIcon(typ).Name() != activityIcon(api.AuditLoginFailed).Name() {
			t.Errorf("%s does not get the warning icon", typ)
		}
	}
	if activityWarns(api.AuditLoginSucceeded) {
		t.Error("a successful sign-in warns")
	}
}

// TestActivityNamesEachDeviceOnce: no sentence names one device twice.
// This device is "here" (or "this device"), and a device acting on
// another of the same name says so.
func TestActivityNamesEachDeviceOnce(t *testing.T) {
	at := epoch
	ev := func(typ, by, bySession, target, targetSession string) api.AuditEvent {
		return api.AuditEvent{Type: typ, At: at, DeviceName: by, SessionID: bySession, TargetDeviceName: target,
			TargetSessionID: targetSession, Detail: "Renamed to “Ana's desk PC”"}
	}
	const self = "ses_here"
	for _, tc := range []struct {
		name string
		e    api.AuditEvent
		want string
	}{
		{"log out from here", ev(api.AuditSessionRevoked, "vm", self, "Pixel 8", "ses_phone"), "You logged out Pixel 8 from here"},
		{"this device logged itself out", ev(api.AuditSessionRevoked, "vm", self, "vm", self), "You logged out here"},
		{"another logged itself out", ev(api.AuditSessionRevoked, "vm", "ses_old", "vm", "ses_old"), "Logged out on vm"},
		{"same names, two devices", ev(api.AuditSessionRevoked, "vm", "ses_a", "vm", "ses_b"), "vm logged out another device named vm"},
		{"names differing in case", ev(api.AuditSessionRevoked, "VM", "ses_a", "vm", "ses_b"), "VM logged out another device named vm"},
		{"signed in here", ev(api.AuditLoginSucceeded, "vm", self, "", ""), "You logged in here"},
		{"all others from here", ev(api.AuditSessionsRevokedOthers, "vm", self, "", ""), "You logged out all other devices from here"},
		{"password changed here", ev(api.AuditPasswordChanged, "vm", self, "", ""), "You changed the password here"},
		{"renamed here", ev(api.AuditSessionRenamed, "vm", self, "vm", self), "You renamed this device to “Ana's desk PC”"},
		{"renamed elsewhere", ev(api.AuditSessionRenamed, "vm", "ses_a", "vm", "ses_a"), "vm was renamed to “Ana's desk PC”"},
		{"renamed this device from elsewhere", ev(api.AuditSessionRenamed, "Pixel 8", "ses_phone", "vm", self), "Pixel 8 renamed this device to “Ana's desk PC”"},
		{"renamed another from here", ev(api.AuditSessionRenamed, "vm", self, "Pixel 8", "ses_phone"), "You renamed Pixel 8 to “Ana's desk PC” from here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := activityWhat(tc.e, self); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// activityRows is Security activity as drawn: "what · where" per row, top
// to bottom. Call on the loop.
func (s *screen) activityRows() []string {
	type r struct {
		text string
		y    float32
	}
	var out []r
	for _, it := range s.items() {
		c, ok := it.o.(*fyne.Container)
		if !ok || len(c.Objects) != 2 || !slices.ContainsFunc(it.parents, func(p fyne.CanvasObject) bool { _, ok := p.(*keyList); return ok }) {
			continue
		}
		if _, ok := c.Objects[0].(*container.ThemeOverride); !ok {
			continue
		}
		if _, isIcon := c.Objects[1].(*widget.Icon); !isIcon {
			continue
		}
		// What a person reads: the second line, or the columns.
		l := activityLabels(c)
		text := l.what.Text + " · " + l.line2.Text
		if !l.line2.Visible() {
			text = l.what.Text + " · " + joinGiven(" · ", l.place.Text, l.when.Text, l.ip.Text)
		}
		out = append(out, r{text, it.pos.Y})
	}
	slices.SortFunc(out, func(a, b r) int { return int(a.y - b.y) })
	var texts []string
	for _, x := range out {
		texts = append(texts, x.text)
	}
	return texts
}

// TestSecurityActivity: after a sign-in elsewhere and a remote log out,
// Security activity shows both as sentences, newest first; the Done
// dialog after the log out offers Change password.
func TestSecurityActivity(t *testing.T) {
	b, e := withAna(t)
	b.signInElsewhere(phone, "ana") // 09:41, Berlin
	b.clock.Advance(time.Hour)
	s := e.open(b.device(laptop), e.defaultInfo())
	s.logIn("ana") // 10:41, Lisbon
	s.waitLive()
	b.clock.Advance(time.Minute)
	s.openLoginActivity()
	s.waitRows("Ana's Laptop", "Pixel 8")
	s.tap("Pixel 8")
	s.tap("Log out this device")
	s.tap("Log out")
	s.waitDialog("Pixel 8 was logged out.")
	s.tap("Change password") // the Done dialog's button
	s.waitNoDialog()
	s.waitText("Choose a password you don't use anywhere else")
	s.press(fyne.KeyEscape) // back to Login activity
	s.waitText("Where you're logged in")
	s.press(fyne.KeyEscape)
	s.tap("Security activity")
	// This device is "here"; every time has its day.
	want := []string{
		"You logged out Pixel 8 from here · Lisbon, Portugal · Today 10:42 · 203.0.113.10",
		"You logged in here · Lisbon, Portugal · Today 10:41 · 203.0.113.10",
		"Logged in on Pixel 8 · Berlin, Germany · Today 09:41 · 198.51.100.20",
	}
	s.waitFor("the activity rows", func() bool {
		got := s.activityRows()
		return len(got) >= len(want) && slices.Equal(got[:len(want)], want)
	})
	s.waitText("3 events, newest first.")
}

// TestSecurityActivityKeyboard: Tab reaches the list after the header's
// buttons, the row the keyboard is on shows a ring in the focus colour,
// and Escape goes back while the list has the focus.
func TestSecurityActivityKeyboard(t *testing.T) {
	b, e := withAna(t)
	b.signInElsewhere(phone, "ana")
	s := e.open(b.device(laptop), e.defaultInfo())
	s.logIn("ana")
	s.tap("Settings")
	s.tap("Security activity")
	s.waitFor("the activity rows", func() bool { return len(s.activityRows()) >= 2 })
	s.do(func() { s.win.Canvas().Unfocus() })
	var got []string
	for range 4 {
		s.tabKey()
		got = append(got, s.focusName())
	}
	want := []string{"icon " + theme.NavigateBackIcon().Name(), "Export…", "icon " + theme.ViewRefreshIcon().Name(), "list"}
	if !slices.Equal(got, want) {
		t.Errorf("Tab order %q, want %q", got, want)
	}
	rings := func() (shown int) {
		for _, it := range s.items() {
			if r, ok := it.o.(*canvas.Rectangle); ok && r.StrokeWidth == 2 && r.StrokeColor == theme.Color(theme.ColorNameFocus) {
				shown++
			}
		}
		return shown
	}
	s.waitFor("one ring, on the first row", func() bool { return rings() == 1 })
	s.press(fyne.KeyDown)
	s.waitFor("the ring still shown", func() bool { return rings() == 1 })
	s.press(fyne.KeyEscape)
	s.waitText("Two-step verification") // Settings
	s.waitGone("newest first")
}

// TestApprovalSentences: the approval events as the server records them
// (the device asking is the event's device, the device answering its
// target), seen from the approver, the new device and a third device.
func TestApprovalSentences(t *testing.T) {
	now := time.Date(2030, time.March, 14, 15, 0, 0, 0, time.UTC)
	at := time.Date(2030, time.March, 14, 14, 2, 0, 0, time.UTC)
	lisbon := api.Location{City: "Lisbon", Region: "Lisbon", Country: "Portugal", CountryCode: "PT"}
	const where = " · Lisbon, Portugal · Today 14:02"
	requested := api.AuditEvent{Type: api.AuditApprovalRequested, At: at, Location: lisbon, DeviceName: "Pixel 8",
		Detail: "Password sign-in; waiting for approval from a signed-in device"}
	approved := api.AuditEvent{Type: api.AuditApprovalApproved, At: at, Location: lisbon, DeviceName: "Pixel 8",
		SessionID: "ses_laptop", TargetDeviceName: "Ana's Laptop", Detail: "Approved on Ana's Laptop"}
	denied := approved
	denied.Type, denied.Detail = api.AuditApprovalDenied, "Denied on Ana's Laptop"
	wrong := denied
	wrong.Detail = "Wrong number picked on Ana's Laptop"
	linkOK := approved
	linkOK.DeviceName, linkOK.Detail = "Library PC", "Link code approved on Ana's Laptop"
	linked := api.AuditEvent{Type: api.AuditDeviceLinked, At: at, Location: lisbon, DeviceName: "Library PC", SessionID: "ses_library",
		TargetSessionID: "ses_laptop", TargetDeviceName: "Ana's Laptop", Detail: "Linked with a code from Ana's Laptop"}
	for _, c := range []struct {
		e    api.AuditEvent
		self string
		want string
	}{
		{requested, "ses_laptop", "Pixel 8 asked to log in"},
		{approved, "ses_laptop", "You approved Pixel 8's log in from here"},
		{approved, "ses_tablet", "Ana's Laptop approved Pixel 8's log in"},
		{denied, "ses_tablet", "A log in from Pixel 8 was refused on Ana's Laptop"},
		{denied, "ses_laptop", "A log in from Pixel 8 was refused here"},
		{wrong, "ses_tablet", "A log in from Pixel 8 was refused: the wrong number was picked on Ana's Laptop"},
		{linkOK, "ses_laptop", "You let Library PC in with its code from here"},
		{linkOK, "ses_tablet", "Ana's Laptop let Library PC in with its code"},
		{linked, "ses_tablet", "Library PC was linked with a code from Ana's Laptop"},
		{linked, "ses_laptop", "Library PC was linked with a code from here"},
		{linked, "ses_library", "This device was linked with a code from Ana's Laptop"},
		{api.AuditEvent{Type: api.AuditApprovalRequested, At: at, Location: lisbon}, "", "An unknown device asked to log in"},
	} {
		if got := activitySentence(c.e, c.self, now); got != c.want+where {
			t.Errorf("%s seen from %s:\n got %q\nwant %q", c.e.Type, c.self, got, c.want+where)
		}
	}
	if !activityWarns(api.AuditApprovalDenied) {
		t.Error("a refused log in does not warn")
	}
}
