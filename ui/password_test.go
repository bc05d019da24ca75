package ui

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2"

	"sessionguard/client"
	"sessionguard/server/passwd"
)

const newPassword = "Quiet-river-stone-42"

func TestPasswordStrength(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		want strength
	}{
		{"", strengthNone},
		{"Ab1!", strengthWeak},                      // too short, whatever it holds
		{"password", strengthWeak},                  // one kind
		{"abcdefghijkl", strengthWeak},              // one kind, 12 long
		{"Password1", strengthFair},                 // three kinds
		{"correcthorsebatterystaple", strengthFair}, // one kind, 16+ long
		{"violet-harbor-lantern", strengthStrong},   // two kinds, 16+ long
		{"Quiet-river-stone-42", strengthStrong},
		{"Tr0ub4dor&3", strengthStrong}, // four kinds
	} {
		if got := passwordStrength(tc.pw); got != tc.want {
			t.Errorf("passwordStrength(%q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
}

func TestPasswordResult(t *testing.T) {
	for n, want := range map[int]string{0: "Password changed.", 1: "Password changed. 1 device was logged out.",
		3: "Password changed. 3 devices were logged out."} {
		if got := passwordResult(n); got != want {
			t.Errorf("passwordResult(%d) = %q, want %q", n, got, want)
		}
	}
}

// fillPassword types the three passwords.
func (s *screen) fillPassword(current, next, confirm string) {
	s.t.Helper()
	s.setField(hintCurrentPassword, current)
	s.setField(hintNewPassword, next)
	s.setField(hintConfirmPassword, confirm)
}

// TestChangePasswordLogsOutOthers: the default logs every other device out;
// the other window goes to sign-in, the count shows, the form empties.
func TestChangePasswordLogsOutOthers(t *testing.T) {
	_, e := withAna(t)
	_, p := e.anaOn(phone)
	p.waitLive()
	_, s := e.anaOn(laptop)
	s.waitLive()
	s.openSettingsPage("Change password", "Choose a password you don't use anywhere else")
	if got := s.focusedHint(); got != hintCurrentPassword {
		t.Errorf("focus on opening: %q", got)
	}
	s.do(func() {
		c := s.find(func(it item) bool { c := asCheck(it.o); return c != nil && c.Text == "Log out of other devices" })
		if len(c) != 1 || !asCheck(c[0].o).Checked {
			t.Error(`"Log out of other devices" is not on by default`)
		}
		if len(s.find(func(it item) bool { e := asEntry(it.o); return e != nil && e.PlaceHolder == hintTwoStepCode })) != 0 {
			t.Error("the code field shows without two-step verification")
		}
	})
	s.fillPassword(password, newPassword, newPassword)
	s.waitText("Strength: Strong")
	s.tap("Change password")
	s.waitText("Password changed. 1 device was logged out.")
	p.waitText("Log in to Sessionguard")
	s.do(func() {
		for _, h := range []string{hintCurrentPassword, hintNewPassword, hintConfirmPassword} {
			if got := s.entry(h).Text; got != "" {
				t.Errorf("%s still holds %q", h, got)
			}
		}
	})
	s.waitGone("Strength:")
	if !s.shows("Logged in on Ana's Laptop") && !s.shows("Password changed.") {
		t.Error("this device left the page")
	}
}

// TestChangePasswordKeepsOthers: unticked, the other device stays in;
// Enter submits.
func TestChangePasswordKeepsOthers(t *testing.T) {
	b, e := withAna(t)
	other, _ := b.signInElsewhere(phone, "ana")
	_, s := e.anaOn(laptop)
	s.waitLive()
	s.openSettingsPage("Change password", "Choose a password you don't use anywhere else")
	s.tap("Log out of other devices")
	s.fillPassword(password, newPassword, newPassword)
	s.press(fyne.KeyReturn) // in the confirm field
	s.waitText("Password changed.")
	s.settle()
	if s.shows("logged out.") {
		t.Errorf("a device was logged out:\n%s", s.visibleText())
	}
	if _, err := other.Me(ctx); err != nil {
		t.Errorf("the other device was logged out: %v", err)
	}
}

// TestChangePasswordFieldErrors: each problem shows under its field.
func TestChangePasswordFieldErrors(t *testing.T) {
	_, _, _, s := signedIn(t)
	s.openSettingsPage("Change password", "Choose a password you don't use anywhere else")

	s.fillPassword("not-my-password", newPassword, newPassword)
	s.tap("Change password")
	s.waitUnder(hintCurrentPassword, "Your current password is not right. 4 attempts left before this device is logged out.")

	weak := "password123"
	want := passwd.Check(weak, "ana").Error()
	s.fillPassword(password, weak, weak)
	s.waitText("Strength: Weak")
	s.tap("Change password")
	s.waitUnder(hintNewPassword, want)
	s.waitGone("That's not your current password.")

	s.fillPassword(password, newPassword, newPassword+"x")
	s.tap("Change password")
	s.waitUnder(hintConfirmPassword, "The passwords don't match.")
	if s.shows("Password changed") {
		t.Error("a failed change says it worked")
	}
}

// TestLoginAlertSecureMyAccount: a sign-in elsewhere raises an OS
// notification and the banner; "No, secure my account" ends that session
// and opens Change password.
func TestLoginAlertSecureMyAccount(t *testing.T) {
	b, e, _, s := signedIn(t)
	if n := len(e.notifications()); n != 0 {
		t.Fatalf("%d notifications before any sign-in elsewhere", n)
	}
	other, _ := b.signInElsewhere(phone, "ana")
	text := "New sign-in on Pixel 8 near Berlin, Germany — was this you?"
	s.waitText(text)
	notes := e.notifications()
	if len(notes) != 1 || notes[0].Title != "New sign-in" || notes[0].Content != text {
		t.Fatalf("notifications: %+v", notes)
	}
	s.tap("No, secure my account")
	s.waitText("Choose a password you don't use anywhere else")
	s.waitGone(text)
	if _, err := other.Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
		t.Errorf("the stranger's session: %v, want revoked", err)
	}
	if n := len(e.notifications()); n != 1 {
		t.Errorf("%d notifications for one sign-in", n)
	}
}
