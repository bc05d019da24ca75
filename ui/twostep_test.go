package ui

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"
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
	b, e := withAna(t)
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
	s.enter(wrongCode(code))
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
	s.waitRows("Ana's Laptop", "Pixel 8")
	b.staleProof()
	s.tap("Pixel 8")
	s.tap("Log out this device")
	s.tap("Log out")
	s.waitDialog("Confirm it's you")
	s.typeInto("Password", password)
	s.typeInto("Code from your authenticator app", totpCode(t, setup.Secret, b.clock.Now()))
	s.press(fyne.KeyReturn) // Enter in the code field continues too
	s.waitDialog("Pixel 8 was logged out.")
}

// secretOnPage is the key shown for typing into an authenticator app.
func (s *screen) secretOnPage() string {
	s.t.Helper()
	var secret string
	s.do(func() {
		for _, it := range s.items() {
			if l, ok := it.o.(*widget.Label); ok && l.TextStyle.Monospace && base32Key.MatchString(l.Text) {
				secret = l.Text
			}
		}
	})
	if secret == "" {
		s.t.Fatalf("no key on the page:\n%s", s.visibleText())
	}
	return secret
}

var base32Key = regexp.MustCompile(`^[A-Z2-7]{16,}=*$`)

// TestTurnTwoStepOnAndOff: Turn on shows a QR code and the key; a code
// computed from the key turns it on and shows ten recovery codes once;
// Turn off asks to confirm, then for the password and a code.
func TestTurnTwoStepOnAndOff(t *testing.T) {
	b, _, d, s := signedIn(t)
	s.openSettingsPage("Two-step verification", "Two-step verification: Off")
	s.tap("Turn on")
	s.waitText("Or enter this key in the app:")
	secret := s.secretOnPage()
	s.do(func() {
		imgs := s.find(func(it item) bool {
			i, ok := it.o.(*canvas.Image)
			return ok && i.Resource != nil && i.Resource.Name() == "qr.png"
		})
		if len(imgs) != 1 {
			s.fail("%d QR codes on the page", len(imgs))
		}
		img := imgs[0].o.(*canvas.Image)
		if m := img.MinSize(); m.Width < 200 || m.Height < 200 || img.FillMode != canvas.ImageFillContain {
			t.Errorf("QR code min size %v, fill %v", m, img.FillMode)
		}
		pic, err := png.Decode(bytes.NewReader(img.Resource.Content()))
		if err != nil || pic.Bounds().Dx() < 200 {
			t.Errorf("QR code is not a usable PNG: %v", err)
		}
	})
	s.tap("Copy")
	s.waitText("Key copied.") // a transient note, not a dialog to close
	if n := s.dialogs(); n != 0 {
		t.Errorf("copying opened %d dialogs", n)
	}
	if got := fyne.CurrentApp().Clipboard().Content(); got != secret {
		t.Errorf("clipboard %q, want the key %q", got, secret)
	}

	code := totpCode(t, secret, b.clock.Now())
	s.setField(hintSetupCode, wrongCode(code))
	s.tap("Confirm")
	s.waitUnder(hintSetupCode, "That code is not right. Try the current one.")
	s.setField(hintSetupCode, code)
	s.press(fyne.KeyReturn)
	s.waitText("Your recovery codes")
	var codes []string
	s.do(func() {
		for _, it := range s.items() {
			if l, ok := it.o.(*widget.Label); ok && l.TextStyle.Monospace && l.Text != "" {
				codes = strings.Split(l.Text, "\n")
			}
		}
	})
	if len(codes) != 10 {
		t.Fatalf("recovery codes shown: %q, want ten", codes)
	}
	if !strings.Contains(s.visibleText(), "Keep these recovery codes somewhere safe") {
		t.Error("no advice to keep the codes safe")
	}
	s.tap("Copy")
	s.waitText("Recovery codes copied.")
	if n := s.dialogs(); n != 0 {
		t.Errorf("copying opened %d dialogs", n)
	}
	if got := fyne.CurrentApp().Clipboard().Content(); got != strings.Join(codes, "\n") {
		t.Errorf("clipboard %q", got)
	}
	s.tap("Done")
	s.waitText("Two-step verification: On")
	s.waitGone("Your recovery codes")
	if !d.core.Snapshot().Account.MFAEnabled {
		t.Error("the core says two-step is off")
	}

	// Turning it off is a step-up: the password and a code.
	b.staleProof()
	s.tap("Turn off")
	s.waitDialog("Turn off two-step verification?")
	s.tap("Turn off") // the dialog's button
	s.waitDialog("For your security, enter your password to turn off two-step verification.")
	s.typeInto("Password", password)
	s.typeInto("Code from your authenticator app", totpCode(t, secret, b.clock.Now()))
	s.press(fyne.KeyReturn)
	s.waitText("Two-step verification: Off")
	s.waitNoDialog()
	s.waitText("Turn on")
}

func TestWriteRecoveryCodes(t *testing.T) {
	text := recoveryCodesText("ana", []string{"aaaa-bbbb", "cccc-dddd"})
	for _, want := range []string{"for ana", "aaaa-bbbb\ncccc-dddd\n", "Keep them somewhere safe."} {
		if !strings.Contains(text, want) {
			t.Errorf("file text lacks %q:\n%s", want, text)
		}
	}
	path := filepath.Join(t.TempDir(), "codes.txt")
	w, err := storage.Writer(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	if saved, err := writeRecoveryCodes(w, nil, text); !saved || err != nil {
		t.Fatalf("saved %v, %v", saved, err)
	}
	if got, _ := os.ReadFile(path); string(got) != text {
		t.Errorf("file holds %q", got)
	}
	if saved, err := writeRecoveryCodes(nil, nil, text); saved || err != nil {
		t.Errorf("cancelled: saved %v, %v", saved, err)
	}
	boom := errors.New("disk full")
	if _, err := writeRecoveryCodes(nil, boom, text); !errors.Is(err, boom) {
		t.Errorf("dialog error lost: %v", err)
	}
	if _, err := writeRecoveryCodes(failingWriter{storage.NewFileURI(path)}, nil, text); err == nil {
		t.Error("a failed write reported as saved")
	}
}

type failingWriter struct{ uri fyne.URI }

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
func (failingWriter) Close() error              { return nil }
func (f failingWriter) URI() fyne.URI           { return f.uri }

// TestLogOutForgetsTwoStepSecrets: recovery codes left on screen (no Done)
// must not be there for whoever logs in next on this window.
func TestLogOutForgetsTwoStepSecrets(t *testing.T) {
	b, _, _, s := signedIn(t)
	b.account("bob")
	s.openSettingsPage("Two-step verification", "Two-step verification: Off")
	s.tap("Turn on")
	s.waitText("Or enter this key in the app:")
	secret := s.secretOnPage()
	s.setField(hintSetupCode, totpCode(t, secret, b.clock.Now()))
	s.press(fyne.KeyReturn)
	s.waitText("Your recovery codes")
	var first string
	s.do(func() {
		for _, it := range s.items() {
			if l, ok := it.o.(*widget.Label); ok && l.TextStyle.Monospace && strings.Count(l.Text, "\n") >= 9 {
				first = strings.Split(l.Text, "\n")[0]
			}
		}
	})
	if first == "" {
		t.Fatal("no recovery codes on the page")
	}
	s.press(fyne.KeyEscape) // leave without Done
	s.waitText("Clear app data")
	s.tap("Log out")
	s.waitDialog("Log out of ana?")
	s.tap("Log out")
	s.logIn("bob")
	s.openSettingsPage("Two-step verification", "Two-step verification: Off")
	if s.shows(first) || s.shows("Your recovery codes") || s.shows(secret) {
		t.Fatal("bob sees ana's two-step secrets")
	}
	s.waitText("Turn on")
}
