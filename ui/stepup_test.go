package ui

import (
	"errors"
	"fmt"
	"regexp"
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

// TestWrongPasswordsLogThisDeviceOut: the password dialog says how many
// wrong passwords are left; the last one returns to the sign-in screen,
// which says why.
func TestWrongPasswordsLogThisDeviceOut(t *testing.T) {
	b, d, s, others := threeDevices(t)
	b.staleProof() // 12:52
	s.tap("Pixel 8")
	s.tap("Log out this device")
	s.waitDialog("Log out Pixel 8?")
	s.tap("Log out")
	s.waitDialog("Confirm it's you")
	for _, want := range []string{
		"That password is not right. 4 attempts left before this device is logged out.",
		"That password is not right. 3 attempts left before this device is logged out.",
		"That password is not right. 2 attempts left before this device is logged out.",
		"That password is not right. Last attempt: one more wrong answer logs this device out.",
	} {
		s.enter("guess")
		s.waitDialog(want)
		if n := s.dialogs(); n != 1 {
			t.Fatalf("%d dialogs open after a wrong password, want 1", n)
		}
	}
	s.enter("guess")
	s.waitText("You were logged out")
	s.waitText("This device was logged out at 12:52 today after too many wrong passwords in a row when confirming it was you. " +
		"If that wasn't you, someone else may have had this device: log in and change your password.")
	s.waitNoDialog()
	if st := d.core.Snapshot(); st.State != app.StateSignedOut || st.Notice == nil || st.Notice.Reason != api.ReasonReauthFailed {
		t.Fatalf("core: %v notice %+v", st.State, st.Notice)
	}
	// The phone it was about is untouched.
	if _, err := others[phone.Name].Me(ctx); err != nil {
		t.Fatalf("the phone after the laptop was logged out: %v", err)
	}
}

// TestLoggedOutNoticeReasons: the sign-in screen says why this device was
// logged out when it hears it live: a thief guessing with its stolen token,
// or the server administrator.
func TestLoggedOutNoticeReasons(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, b *backend, d *device)
		want string
	}{
		{"wrong passwords with the stolen token", func(t *testing.T, b *backend, d *device) {
			thief, err := client.New(b.url)
			if err != nil {
				t.Fatal(err)
			}
			defer thief.CloseIdleConnections()
			// The thief holds the device itself: its token and its key
			// (a token alone is refused: issue 21).
			thief.SetTokens(api.Tokens{AccessToken: d.api.Tokens().AccessToken})
			thief.SetProofKey(d.api.ProofKey())
			for range 5 {
				_, err = thief.Reauth(ctx, api.ReauthRequest{Password: "guess"})
			}
			if !errors.Is(err, client.ErrSessionRevoked) {
				t.Fatalf("the fifth guess: %v", err)
			}
		}, "This device was logged out at 09:41 today after too many wrong passwords in a row"},
		{"the server administrator", func(t *testing.T, b *backend, _ *device) {
			if _, err := b.srv.AdminLogoutAll(ctx, "ana"); err != nil {
				t.Fatal(err)
			}
		}, "You were logged out by the server administrator at 09:41 today. Log in again to continue."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _, d, s := signedIn(t)
			stop := b.srv.StartBackground() // delivers the administrator's events
			defer stop()
			tc.end(t, b, d)
			s.waitText("You were logged out")
			s.waitText(tc.want)
			s.tap("Dismiss")
			s.waitGone("You were logged out")
		})
	}
}

// recoveryCode is the recovery codes' form: six groups of four.
var recoveryCode = regexp.MustCompile(`^[0-9a-z]{4}(-[0-9a-z]{4}){5}$`)

// shownCodes are the recovery codes on the page, checking that each is
// drawn in full (not cut off) at the window's size.
func (s *screen) shownCodes() []string {
	s.t.Helper()
	var codes []string
	s.do(func() {
		for _, it := range s.items() {
			l, ok := it.o.(*widget.Label)
			if !ok || !l.TextStyle.Monospace || strings.Count(l.Text, "\n") < 9 {
				continue
			}
			codes = strings.Split(l.Text, "\n")
			if got := drawn(l); got != strings.Join(codes, " ") {
				s.fail("the codes are drawn as %q", got)
			}
			if size, min := l.Size(), l.MinSize(); size.Width < min.Width || size.Height < min.Height {
				s.fail("the codes' label is %v, smaller than it needs (%v)", size, min)
			}
			if pos := it.pos; pos.X < 0 || pos.X+l.Size().Width > s.win.Canvas().Size().Width {
				s.fail("the codes' label at %v (%v wide) is outside the window", pos, l.Size().Width)
			}
		}
	})
	return codes
}

// TestTwoStepOnAsksForThePassword: when the last password proof is old,
// turning two-step on asks for the password (at Turn on, and again at
// Confirm if it went stale meanwhile) and then carries on; the recovery
// codes are shown in full at phone and desktop sizes.
func TestTwoStepOnAsksForThePassword(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(440, 760), fyne.NewSize(1280, 800)} {
		t.Run(fmt.Sprintf("%vx%v", size.Width, size.Height), func(t *testing.T) {
			b, e := withAna(t)
			d := b.device(laptop)
			s := e.openWindow(d, e.defaultInfo(), size)
			if err := d.core.Start(ctx); err != nil {
				t.Fatal(err)
			}
			s.logIn("ana")
			s.waitLive()
			s.openSettingsPage("Two-step verification", "Two-step verification: Off")
			b.staleProof()

			s.tap("Turn on")
			s.waitDialog("For your security, enter your password to turn on two-step verification.")
			s.enter("guess")
			s.waitDialog("That password is not right. 4 attempts left before this device is logged out.")
			s.enter(password)
			s.waitNoDialog()
			s.waitText("Or enter this key in the app:")
			secret := s.secretOnPage()

			// The proof goes stale before the code is typed.
			b.staleProof()
			s.setField(hintSetupCode, totpCode(t, secret, b.clock.Now()))
			s.tap("Confirm")
			s.waitDialog("For your security, enter your password to turn on two-step verification.")
			s.enter(password)
			s.waitNoDialog()
			s.waitText("Your recovery codes")
			codes := s.shownCodes()
			if len(codes) != 10 {
				t.Fatalf("recovery codes shown: %q, want ten", codes)
			}
			for _, c := range codes {
				if !recoveryCode.MatchString(c) {
					t.Errorf("recovery code %q is not six groups of four", c)
				}
			}
			if !d.core.Snapshot().Account.MFAEnabled {
				t.Fatal("the core says two-step is off")
			}
			s.tap("Done")
			s.waitText("Two-step verification: On")
			s.waitGone("Your recovery codes")
			if st := d.core.Snapshot(); st.TwoStep != app.TwoStepIdle || d.core.RecoveryCodes() != nil {
				t.Fatalf("after Done: %v", st.TwoStep)
			}
		})
	}
}

// TestTwoStepCancelThePassword: cancelling the password at Turn on
// leaves two-step off, with Turn on to try again.
func TestTwoStepCancelThePassword(t *testing.T) {
	b, _, d, s := signedIn(t)
	s.openSettingsPage("Two-step verification", "Two-step verification: Off")
	b.staleProof()
	s.tap("Turn on")
	s.waitDialog("to turn on two-step verification")
	s.press(fyne.KeyEscape)
	s.waitNoDialog()
	s.waitText("Turn on")
	if st := d.core.Snapshot(); st.Pending != nil || st.TwoStep != app.TwoStepIdle || st.Account.MFAEnabled {
		t.Fatalf("after cancelling: pending %+v stage %v", st.Pending, st.TwoStep)
	}
	if s.shows("Or enter this key in the app:") {
		t.Fatal("the setup shows without the password")
	}
}

// TestSecurityActivityAdministrator: the operator commands show in
// Security activity as the server administrator's.
func TestSecurityActivityAdministrator(t *testing.T) {
	b, _, _, s := signedIn(t)
	b.clock.Advance(time.Minute)
	if _, err := b.srv.AdminResetMFA(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	s.tap("Settings")
	s.tap("Security activity")
	want := []string{
		"The server administrator reset two-step verification · On the server · Today 09:42",
		"You logged in here · Lisbon, Portugal · Today 09:41 · 203.0.113.10",
	}
	s.waitFor("the activity rows", func() bool {
		got := s.activityRows()
		return len(got) >= len(want) && slices.Equal(got[:len(want)], want)
	})
}
