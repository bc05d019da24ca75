package ui

import (
	"testing"

	"fyne.io/fyne/v2"

	"sessionguard/app"
)

// tab presses Tab as the desktop driver does: to a field that takes it
// (a multi-line entry), else the focus moves to the next widget.
func (s *screen) tab() {
	s.t.Helper()
	s.do(func() {
		c := s.win.Canvas()
		if f, ok := c.Focused().(fyne.Tabbable); ok && f.AcceptsTab() {
			c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyTab})
			return
		}
		c.FocusNext()
	})
}

// focusedText is what the focused widget shows: an entry's placeholder,
// a button's or a check's text ("" if none).
func (s *screen) focusedText() string {
	var out string
	s.do(func() {
		switch f := s.win.Canvas().Focused(); {
		case f == nil:
		case asEntry(f) != nil:
			out = asEntry(f).PlaceHolder
		case asButton(f) != nil:
			out = asButton(f).Text
		case asCheck(f) != nil:
			out = asCheck(f).Text
		}
	})
	return out
}

// tabTo presses Tab until want has the focus, at most limit times, and
// returns what had the focus on the way.
func (s *screen) tabTo(want string, limit int) []string {
	s.t.Helper()
	var seen []string
	for range limit {
		s.tab()
		got := s.focusedText()
		seen = append(seen, got)
		if got == want {
			return seen
		}
	}
	s.t.Fatalf("Tab never reached %q; the focus went %q", want, seen)
	return nil
}

// TestTabOrder: Tab goes from field to field, then to their buttons, as
// they read top to bottom; never to a password's eye, so what is typed
// next lands in the next field.
func TestTabOrder(t *testing.T) {
	b, e := withAna(t)
	s := e.open(b.device(laptop), e.defaultInfo())
	s.waitText("Log in to Sessionguard")
	if got := s.focusedHint(); got != "Username" {
		t.Fatalf("the sign-in form opens with %q focused", got)
	}
	s.typeText("ana")
	s.tab()
	if got := s.focusedHint(); got != "Password" {
		t.Fatalf("Tab from Username went to %q", s.focusedText())
	}
	s.typeText(password)
	if got := s.tabTo("Log in", 2); got[0] != "Remember me" {
		t.Fatalf("after the password Tab went %q, want Remember me, Log in", got)
	}
	s.press(fyne.KeyReturn) // Enter presses the focused button
	s.waitText("Logged in on Ana's Laptop")

	s.openSettingsPage("Change password", "Choose a password you don't use anywhere else")
	if got := s.focusedHint(); got != hintCurrentPassword {
		t.Fatalf("Change password opens with %q focused", got)
	}
	s.typeText(password)
	s.tab()
	s.typeText("a-new-long-passphrase")
	s.tab()
	if got := s.focusedHint(); got != hintConfirmPassword {
		t.Fatalf("Tab from a filled New password went to %q, want %q", s.focusedText(), hintConfirmPassword)
	}
	s.typeText("a-new-long-passphrase")
	s.do(func() {
		if got := s.entry(hintConfirmPassword).Text; got != "a-new-long-passphrase" {
			s.fail("the confirmation typed after Tab reads %q", got)
		}
	})
	if got := s.tabTo("Change password", 2); got[0] != "Log out of other devices" {
		t.Fatalf("after the fields Tab went %q", got)
	}
	s.press(fyne.KeyReturn)
	s.waitText("Password changed.")
}

// TestEscapeAndEnterWhereverTheFocusIs: Escape closes the dialog or goes
// back with the focus on a button or a check, not only with nothing
// focused; Enter presses a dialog's focused button.
func TestEscapeAndEnterWhereverTheFocusIs(t *testing.T) {
	_, _, d, s := signedIn(t)
	s.tap("Settings")
	s.waitText("Security activity")
	s.tabTo("Login activity", 5)
	s.press(fyne.KeyEscape)
	s.waitText("Logged in on Ana's Laptop")
	s.waitGone("Security activity")

	s.tap("Settings")
	s.tap("Log out")
	s.waitDialog("Log out of ana?")
	if got := s.focusedText(); got != "Remember login info" {
		t.Fatalf("the log-out dialog opens with %q focused, want its first field", got)
	}
	s.press(fyne.KeyEscape)
	s.waitNoDialog()
	s.tap("Log out")
	s.waitDialog("Log out of ana?")
	s.tabTo("Cancel", 2)
	s.press(fyne.KeyEscape)
	s.waitNoDialog()
	if d.core.Snapshot().State != app.StateSignedIn {
		t.Fatal("Escape logged out")
	}

	s.tap("Log out")
	s.waitDialog("Log out of ana?")
	s.tabTo("Log out", 3)
	s.press(fyne.KeyReturn)
	s.waitText("Log in to Sessionguard")

	// The server choice, opened from sign-in: Escape goes back.
	info := s.ui.info
	info.UseServer = func(string) (*app.App, Info, error) { return nil, Info{}, nil }
	s.do(func() { s.ui.info = info })
	s.redraw()
	s.tap("Change server")
	s.waitText("Where is your account?")
	s.tabTo("Continue", 4)
	s.press(fyne.KeyEscape)
	s.waitText("Log in to Sessionguard")
}

// redraw draws the window again (after a test changed what it shows).
func (s *screen) redraw() { s.do(s.ui.redraw) }

// TestSecureMyAccountFocusesThePassword: "No, secure my account" with a
// stale password proof asks for the password in a dialog whose field has
// the focus, though the page moves on to Change password beneath it.
func TestSecureMyAccountFocusesThePassword(t *testing.T) {
	b, _, _, s := signedIn(t)
	b.signInElsewhere(phone, "ana")
	s.waitText("New sign-in on Pixel 8")
	b.staleProof()
	s.tap("No, secure my account")
	s.waitDialog("For your security, enter your password")
	s.waitText("Choose a password you don't use anywhere else")
	if got := s.focusedHint(); got != "Password" {
		t.Fatalf("the password dialog opens with %q focused", s.focusedText())
	}
	s.enter(password)
	s.waitNoDialog()
	s.waitGone("New sign-in on Pixel 8")
}
