package ui

import (
	"slices"
	"strings"
	"testing"
)

// screenText reads ScreenText on the UI goroutine.
func (s *screen) screenText() (lines []string, focus string) {
	s.do(func() { lines, focus = s.ui.ScreenText() })
	return lines, focus
}

// TestScreenTextSaysWhatTheScreenShows: the text copy of the screen (the
// web build's page copy for screen readers) has what a person sees on
// each screen, follows the focus, is told of every change, and never
// holds a password.
func TestScreenTextSaysWhatTheScreenShows(t *testing.T) {
	b, e := withAna(t)
	b.signInElsewhere(phone, "ana")
	s := e.open(b.device(laptop), e.defaultInfo())
	changes := 0
	s.do(func() { s.ui.OnScreenChange(func() { changes++ }) })
	s.waitText("Log in to Sessionguard")

	lines, focus := s.screenText()
	for _, want := range []string{"Log in to Sessionguard", "Username", "Password", "Remember me (on)", "Log in"} {
		if !slices.Contains(lines, want) {
			t.Errorf("the sign-in screen's text lacks %q: %q", want, lines)
		}
	}
	if focus != "Username" {
		t.Errorf("focus %q, want Username", focus)
	}

	s.typeInto("Username", "ana")
	s.typeInto("Password", password)
	lines, focus = s.screenText()
	if !slices.Contains(lines, "ana") || !slices.Contains(lines, "Password (filled)") {
		t.Errorf("the filled form reads %q", lines)
	}
	if strings.Contains(strings.Join(lines, "\n")+focus, password) {
		t.Fatalf("the screen text holds the password: %q", lines)
	}

	before := 0
	s.do(func() { before = changes })
	s.tap("Log in")
	s.waitLive()
	s.openLoginActivity()
	s.waitText("Pixel 8")
	lines, _ = s.screenText()
	for _, want := range []string{"Where you're logged in", "Ana's Laptop", "Pixel 8"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("Login activity's text lacks %q: %q", want, lines)
		}
	}
	s.do(func() {
		if changes <= before {
			t.Errorf("OnScreenChange was not called while signing in and opening Login activity (%d, then %d)", before, changes)
		}
	})

	s.tap("Pixel 8")
	s.tap("Log out")
	s.waitDialog("Log out")
	lines, _ = s.screenText()
	dialog := s.dialogText()
	first := strings.Split(strings.TrimSpace(dialog), "\n")[0]
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, first) }) {
		t.Errorf("an open dialog's %q is not in the screen text %q", first, lines)
	}
}
