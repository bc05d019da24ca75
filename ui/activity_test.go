package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
)

func TestActivitySentenceEveryType(t *testing.T) {
	now := time.Date(2030, time.March, 14, 15, 0, 0, 0, time.UTC)
	at := time.Date(2030, time.March, 14, 14, 2, 0, 0, time.UTC)
	lisbon := api.Location{City: "Lisbon", Region: "Lisbon", Country: "Portugal", CountryCode: "PT"}
	ev := func(typ string) api.AuditEvent {
		return api.AuditEvent{Type: typ, At: at, Location: lisbon, DeviceName: "Ana's Laptop", TargetDeviceName: "Pixel 8"}
	}
	const where = " · Lisbon, Portugal · 14:02"
	cases := map[string]string{
		api.AuditLoginSucceeded:           "Signed in on Ana's Laptop",
		api.AuditLoginFailed:              "Wrong password on Ana's Laptop",
		api.AuditLoginMFAFailed:           "Wrong two-step code on Ana's Laptop",
		api.AuditLogout:                   "Logged out on Ana's Laptop",
		api.AuditSessionRevoked:           "Ana's Laptop logged out Pixel 8",
		api.AuditSessionsRevokedOthers:    "Ana's Laptop logged out all other devices",
		api.AuditRefreshReuseDetected:     "Old sign-in token reused on Ana's Laptop, so it was logged out",
		api.AuditReauthSucceeded:          "Password confirmed on Ana's Laptop",
		api.AuditReauthFailed:             "Wrong password when confirming it's you on Ana's Laptop",
		api.AuditPasswordChanged:          "Password changed on Ana's Laptop",
		api.AuditMFAEnabled:               "Two-step verification turned on from Ana's Laptop",
		api.AuditMFADisabled:              "Two-step verification turned off from Ana's Laptop",
		api.AuditRecoveryCodeUsed:         "Recovery code used on Ana's Laptop",
		api.AuditRememberedLoginCreated:   "Login info saved on Ana's Laptop",
		api.AuditRememberedLoginUsed:      "Logged in with saved login info on Ana's Laptop",
		api.AuditRememberedLoginForgotten: "Saved login info removed from Ana's Laptop",
		// Operator commands: done on the server, not from a device.
		api.AuditAdminResetMFA:    "The server administrator reset two-step verification · On the server · 14:02",
		api.AuditAdminLogoutAll:   "The server administrator logged out every device · On the server · 14:02",
		api.AuditAdminSetPassword: "The server administrator set a new password · On the server · 14:02",
	}
	for _, typ := range api.AuditTypes {
		want, ok := cases[typ]
		if !ok {
			t.Errorf("no sentence tested for %s", typ)
			continue
		}
		e := ev(typ)
		if isAdmin(typ) {
			e.DeviceName, e.TargetDeviceName, e.Location = "Server administrator", "", api.Location{}
		} else {
			want += where
		}
		if got := activitySentence(e, now); got != want {
			t.Errorf("%s:\n got %q\nwant %q", typ, got, want)
		}
		if activityIcon(typ) == nil {
			t.Errorf("%s has no icon", typ)
		}
	}
	if len(cases) != len(api.AuditTypes) || len(api.AuditTypes) != 19 {
		t.Errorf("%d cases for %d types", len(cases), len(api.AuditTypes))
	}
	for _, typ := range []string{api.AuditAdminResetMFA, api.AuditAdminLogoutAll, api.AuditAdminSetPassword} {
		if activityWarns(typ) || activityIcon(typ).Name() != theme.SettingsIcon().Name() {
			t.Errorf("%s does not get the administrator's icon", typ)
		}
	}
	// A device logged out after too many wrong passwords: said so, with
	// the warning icon (the reason is in the detail).
	locked := api.AuditEvent{Type: api.AuditSessionRevoked, At: at, Location: lisbon, DeviceName: "Pixel 8",
		TargetDeviceName: "Pixel 8", Detail: "Logged out after 5 wrong passwords or codes in a row when confirming it was you (reauth_failed)"}
	if got, want := activitySentence(locked, now), "Too many wrong passwords on Pixel 8, so it was logged out"+where; got != want {
		t.Errorf("reauth_failed:\n got %q\nwant %q", got, want)
	}
	if eventIcon(locked).Name() != activityIcon(api.AuditLoginFailed).Name() {
		t.Error("a device logged out after wrong passwords does not get the warning icon")
	}
	if eventIcon(ev(api.AuditSessionRevoked)).Name() != theme.LogoutIcon().Name() {
		t.Error("a plain log out gets another icon")
	}
	// Missing names and places, another day, an unknown type.
	bare := api.AuditEvent{Type: api.AuditSessionRevoked, At: at.AddDate(0, 0, -1)}
	if got, want := activitySentence(bare, now), "An unknown device logged out a device · Unknown location · 13 Mar 14:02"; got != want {
		t.Errorf("bare event: %q, want %q", got, want)
	}
	if got, want := activitySentence(api.AuditEvent{Type: "login.teleported", At: at, DeviceName: "X"}, now), `Security event "login.teleported" on X · Unknown location · 14:02`; got != want {
		t.Errorf("unknown type: %q, want %q", got, want)
	}
	for _, typ := range []string{api.AuditLoginFailed, api.AuditLoginMFAFailed, api.AuditReauthFailed, api.AuditRefreshReuseDetected} {
		if !activityWarns(typ) || activityIcon(typ).Name() != activityIcon(api.AuditLoginFailed).Name() {
			t.Errorf("%s does not get the warning icon", typ)
		}
	}
	if activityWarns(api.AuditLoginSucceeded) {
		t.Error("a successful sign-in warns")
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
		if !ok || len(c.Objects) != 2 || !slices.ContainsFunc(it.parents, func(p fyne.CanvasObject) bool { _, ok := p.(*widget.List); return ok }) {
			continue
		}
		text, ok := c.Objects[0].(*fyne.Container)
		if _, isIcon := c.Objects[1].(*widget.Icon); !ok || !isIcon || len(text.Objects) != 2 {
			continue
		}
		out = append(out, r{text.Objects[0].(*widget.Label).Text + " · " + text.Objects[1].(*widget.Label).Text, it.pos.Y})
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
	s.waitRows("Ana's Laptop  (this device)", "Pixel 8")
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
	want := []string{
		"Ana's Laptop logged out Pixel 8 · Lisbon, Portugal · 10:42 · 203.0.113.10",
		"Signed in on Ana's Laptop · Lisbon, Portugal · 10:41 · 203.0.113.10",
		"Signed in on Pixel 8 · Berlin, Germany · 09:41 · 198.51.100.20",
	}
	s.waitFor("the activity rows", func() bool {
		got := s.activityRows()
		return len(got) >= len(want) && slices.Equal(got[:len(want)], want)
	})
	s.waitText("3 events, newest first.")
}
