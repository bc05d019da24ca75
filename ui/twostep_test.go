package ui

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
)

// totpCode is the RFC 6238 code (SHA-1, 6 digits, 30 s) of secret at t,
// as an authenticator app computes it.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		t.Fatalf("TOTP secret %q: %v", secret, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", n%1_000_000)
}

// wrongCode is a six-digit code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestTwoStepSignIn: with two-step verification on, the password leads to
// the code screen; a wrong code says so, Enter submits, Cancel goes back;
// the password dialog then asks for a code too.
func TestTwoStepSignIn(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	b.account("ana")
	other, _ := b.signInElsewhere(phone, "ana")
	setup, err := other.TOTPSetup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.TOTPEnable(ctx, totpCode(t, setup.Secret, b.clock.Now())); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(30 * time.Second) // each code works once

	s := e.open(b.device(laptop), e.defaultInfo())
	s.setField("Username", "ana")
	s.setField("Password", password)
	s.tap("Log in")
	s.waitText("Two-step verification")
	s.waitText("Enter the code from your authenticator app, or one of your recovery codes.")

	// Cancel goes back to the password.
	s.tap("Cancel")
	s.waitText("Log in to Sessionguard")
	s.setField("Password", password)
	s.tap("Log in")
	s.waitText("Two-step verification")

	code := totpCode(t, setup.Secret, b.clock.Now())
	if got := s.focusedHint(); got != "6-digit code or recovery code" {
		t.Fatalf("focus on the code screen: %q", got)
	}
	s.typeText(wrongCode(code))
	s.press(fyne.KeyReturn)
	s.waitText("That code is not right. Try the current one.")
	s.do(func() {
		if got := s.entry("6-digit code or recovery code").Text; got != "" {
			t.Errorf("the code field still holds %q after a wrong code", got)
		}
	})
	s.typeInto("6-digit code or recovery code", code)
	s.tap("Verify")
	s.waitText("Logged in on Ana's Laptop")
	s.waitLive()

	// Step-up with two-step on asks for the code as well.
	s.openLoginActivity()
	s.waitRows("Ana's Laptop  (this device)", "Pixel 8")
	b.clock.Advance(11 * time.Minute)
	s.tap("Pixel 8")
	s.tap("Log out this device")
	s.tap("Log out")
	s.waitDialog("Confirm it's you")
	s.typeInto("Password", password)
	s.typeInto("Code from your authenticator app", totpCode(t, setup.Secret, b.clock.Now()))
	s.press(fyne.KeyReturn) // Enter in the code field continues too
	s.waitDialog("Pixel 8 was logged out.")
}
