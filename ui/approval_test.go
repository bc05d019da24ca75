package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"

	"sessionguard/app"
)

const (
	approveRowText = "Approve new devices from a device you trust"
	askTitle       = "Is it you trying to log in?"
	pickNumber     = "Open Sessionguard on a device where you're logged in and pick this number."
	refused        = "Your sign-in was refused on your other device."
)

// approvalOn signs ana in on the laptop, and turns on the approval of new
// devices in Settings, confirming the password the server asks for.
func approvalOn(t *testing.T) (*backend, *env, *device, *screen) {
	t.Helper()
	b, e, d, s := signedIn(t)
	b.staleProof()
	s.tap("Settings")
	s.waitText(approveRowText)
	s.waitFor("the settings read", func() bool { return !s.ui.settings.approve.check.Disabled() })
	if s.ui.settings.approve.check.Checked {
		t.Fatal("approval shows on before it was turned on")
	}
	s.tap(approveRowText)
	s.waitDialog("to turn on approving new devices")
	s.enter(password)
	d.waitCore("approval on", func(st app.Snapshot) bool { return st.Settings != nil && st.Settings.ApproveNewDevices })
	s.waitNoDialog()
	s.waitFor("the row ticked", func() bool {
		c := s.ui.settings.approve.check
		return c.Checked && !c.Disabled()
	})
	s.press(fyne.KeyEscape) // home
	s.waitText("Logged in on Ana's Laptop")
	return b, e, d, s
}

// newPhone opens a window for a new install of the phone, on the sign-in
// screen.
func (e *env) newPhone() (*device, *screen) {
	e.t.Helper()
	d := e.b.device(phone)
	s := e.open(d, e.defaultInfo())
	s.waitText("Log in to Sessionguard")
	return d, s
}

// typeLogIn fills the sign-in form for ana and taps Log in.
func (s *screen) typeLogIn() {
	s.t.Helper()
	s.typeInto("Username", "ana")
	s.typeInto("Password", password)
	s.tap("Log in")
}

// waitNumber waits for the number the new device shows.
func waitNumber(s *screen, d *device) int {
	s.t.Helper()
	s.waitText(pickNumber)
	st := d.core.Snapshot()
	if st.Approval == nil {
		s.t.Fatalf("waiting without a number: %+v", st)
	}
	n := st.Approval.Number
	s.waitText(fmt.Sprint(n))
	s.waitText("Waiting until " + st.Approval.ExpiresAt.Local().Format("15:04") + ".")
	return n
}

// asked waits for the approver's dialog and returns the numbers it offers.
func asked(t *testing.T, s *screen, d *device) []int {
	t.Helper()
	s.waitDialog(askTitle)
	for _, want := range []string{"Pixel 8", "Android 15 · Google Pixel 8", "Berlin, Germany · 198.51.100.20", "No, it wasn't me"} {
		if txt := s.dialogText(); !strings.Contains(txt, want) {
			t.Errorf("the request does not show %q:\n%s", want, txt)
		}
	}
	reqs := d.core.Snapshot().ApprovalRequests
	if len(reqs) != 1 || len(reqs[0].Numbers) != 3 {
		t.Fatalf("requests %+v", reqs)
	}
	for _, n := range reqs[0].Numbers {
		s.do(func() { s.button(fmt.Sprint(n)) })
	}
	return reqs[0].Numbers
}

// TestApproveNewDevice: with approval on, a new phone waits showing its
// number; the laptop asks, with a notification, and picking the number
// lets the phone in at once.
func TestApproveNewDevice(t *testing.T) {
	_, e, ld, ls := approvalOn(t)
	pd, ps := e.newPhone()
	ps.typeLogIn()
	n := waitNumber(ps, pd)
	if pd.core.Snapshot().State != app.StateAwaitingApproval {
		t.Fatal("the phone is not waiting")
	}
	nums := asked(t, ls, ld)
	if !slices.Contains(nums, n) {
		t.Fatalf("the laptop offers %v, the phone shows %d", nums, n)
	}
	if !slices.ContainsFunc(e.notifications(), func(x fyne.Notification) bool {
		return x.Title == askTitle && strings.Contains(x.Content, "Pixel 8")
	}) {
		t.Errorf("no notification of the request: %+v", e.notifications())
	}
	ls.tap(fmt.Sprint(n))
	ps.waitText("Logged in on Pixel 8")
	ls.waitNoDialog()
	ls.waitText("Answered: Pixel 8 logs in if it showed " + fmt.Sprint(n) + ".")
	if st := ld.core.Snapshot(); len(st.ApprovalRequests) != 0 {
		t.Errorf("requests left: %+v", st.ApprovalRequests)
	}
}

// TestRefuseNewDevice: "No, it wasn't me" refuses the phone, which says
// so on its sign-in screen, and the laptop offers a new password.
func TestRefuseNewDevice(t *testing.T) {
	_, e, ld, ls := approvalOn(t)
	pd, ps := e.newPhone()
	ps.typeLogIn()
	waitNumber(ps, pd)
	asked(t, ls, ld)
	ls.tap("No, it wasn't me")
	ls.waitDialog("Secure your account")
	ls.waitDialog("The log in from Pixel 8 was refused.")
	ps.waitText("Log in to Sessionguard")
	ps.waitText(refused)
	ls.tap("Change password")
	ls.waitText("Current password")
	if st := pd.core.Snapshot(); st.State != app.StateSignedOut {
		t.Fatalf("the phone is %v", st.State)
	}
}

// TestWrongNumberRefuses: picking a number the phone does not show
// refuses it.
func TestWrongNumberRefuses(t *testing.T) {
	_, e, ld, ls := approvalOn(t)
	pd, ps := e.newPhone()
	ps.typeLogIn()
	n := waitNumber(ps, pd)
	nums := asked(t, ls, ld)
	wrong := nums[slices.IndexFunc(nums, func(x int) bool { return x != n })]
	ls.tap(fmt.Sprint(wrong))
	ls.waitNoDialog()
	ps.waitText(refused)
	if st := pd.core.Snapshot(); st.State != app.StateSignedOut {
		t.Fatalf("the phone is %v", st.State)
	}
}

// TestApprovalDialogEscapeAndBanner: Escape puts the request away; the
// banner brings it back, to be answered.
func TestApprovalDialogEscapeAndBanner(t *testing.T) {
	_, e, ld, ls := approvalOn(t)
	pd, ps := e.newPhone()
	ps.typeLogIn()
	n := waitNumber(ps, pd)
	asked(t, ls, ld)
	ls.press(fyne.KeyEscape)
	ls.waitNoDialog()
	ls.waitText("Pixel 8 is waiting for you to approve its log in.")
	ls.tap("Answer")
	ls.waitDialog(askTitle)
	ls.tap(fmt.Sprint(n))
	ps.waitText("Logged in on Pixel 8")
	ls.waitGone("Pixel 8 is waiting for you to approve its log in.")
}

// TestCancelWaiting: Escape on the waiting screen gives up: back to the
// sign-in screen, with no error.
func TestCancelWaiting(t *testing.T) {
	_, e, _, _ := approvalOn(t)
	pd, ps := e.newPhone()
	ps.typeLogIn()
	waitNumber(ps, pd)
	ps.press(fyne.KeyEscape)
	ps.waitText("Log in to Sessionguard")
	if st := pd.core.Snapshot(); st.State != app.StateSignedOut || st.Err != "" {
		t.Fatalf("the phone after Escape: %v %q", st.State, st.Err)
	}
	ps.tap("Log in") // the form kept what was typed
	waitNumber(ps, pd)
	ps.tap("Cancel")
	ps.waitText("Log in to Sessionguard")
}

// TestSkipApprovalWithRecoveryCode: with two-step on, the phone passes
// the password and the code, waits, and a recovery code lets it in
// without any device.
func TestSkipApprovalWithRecoveryCode(t *testing.T) {
	b, e, ld, ls := signedIn(t)
	setup, err := ld.core.StartTwoStep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ld.core.ConfirmTwoStep(ctx, totpCode(t, setup.Secret, b.clock.Now())); err != nil {
		t.Fatal(err)
	}
	codes := ld.core.RecoveryCodes()
	ld.core.EndTwoStep()
	if err := ld.core.SetApproveNewDevices(ctx, true); err != nil {
		t.Fatal(err)
	}
	_ = ls
	b.clock.Advance(31 * time.Second) // the next two-step code
	pd, ps := e.newPhone()
	ps.typeLogIn()
	ps.waitText("Two-step verification")
	ps.typeInto("6-digit code or recovery code", totpCode(t, setup.Secret, b.clock.Now()))
	ps.tap("Verify")
	waitNumber(ps, pd)
	if ps.shows("Recovery code") {
		t.Error("the recovery code field shows before it is asked for")
	}
	ps.tap("No device at hand? Use a recovery code")
	if got := ps.focusedHint(); got != "Recovery code" {
		t.Errorf("the focus is on %q", got)
	}
	ps.typeInto("Recovery code", "AAAA-BBBB-CC")
	ps.tap("Log in with the recovery code")
	ps.waitUnder("Recovery code", "That recovery code is not right, or it was used already.")
	ps.typeInto("Recovery code", codes[0])
	ps.press(fyne.KeyReturn)
	ps.waitText("Logged in on Pixel 8")
}

// TestLinkDeviceWithCode: "Sign in with a code" on the phone shows a
// code; the laptop types it (lower case, with a space), sees the device,
// lets it in after the password, and the phone is home.
func TestLinkDeviceWithCode(t *testing.T) {
	b, e, ld, ls := signedIn(t)
	b.staleProof()
	pd, ps := e.newPhone()
	ps.tap("Sign in with a code")
	ps.waitText("On a device where you're logged in: Settings → Link a device, and type this code. No password is typed here.")
	st := pd.core.Snapshot()
	if st.LinkCode == nil || len(st.LinkCode.UserCode) != 9 {
		t.Fatalf("link code %+v", st.LinkCode)
	}
	code := st.LinkCode.UserCode
	ps.waitText(code)
	ps.waitText("Waiting until " + st.LinkCode.ExpiresAt.Local().Format("15:04") + ".")
	if ps.shows("Use a recovery code") {
		t.Error("a recovery code offered for a link")
	}
	ps.tap("Copy code")
	if got := fyne.CurrentApp().Clipboard().Content(); got != code {
		t.Errorf("copied %q, want %q", got, code)
	}

	ls.tap("Settings")
	ls.tap("Link a device")
	ls.waitText("Continue")
	if got := ls.focusedHint(); got != "Code, like ABCD-EFGH" {
		t.Errorf("Link a device opens with %q focused", got)
	}
	// A wrong code: said under the field.
	ls.typeText("zzzz zzzz")
	ls.press(fyne.KeyReturn)
	ls.waitUnder("Code, like ABCD-EFGH", "No device waits with that code: check it, or make a new one on the other device.")
	ls.do(func() { ls.entry("Code, like ABCD-EFGH").SetText("") })
	typed := strings.ToLower(code[:4]) + " " + strings.ToLower(code[5:])
	ls.typeInto("Code, like ABCD-EFGH", typed)
	if got := ls.visibleText(); !strings.Contains(got, strings.ToUpper(typed)) {
		t.Errorf("the code is not shown in upper case:\n%s", got)
	}
	ls.tap("Continue")
	ls.waitText("Let this device in?")
	for _, want := range []string{"Pixel 8", "Android 15 · Google Pixel 8", "Berlin, Germany", "198.51.100.20"} {
		ls.waitText(want)
	}
	ls.tap("Let it in")
	ls.waitDialog("let the device with code " + code + " in")
	ls.enter(password)
	ps.waitText("Logged in on Pixel 8")
	ls.waitText("Pixel 8 is logged in to your account.")
	_ = ld
}

// TestApprovalPhoneSize: at 440×760 the waiting screen and the
// approver's dialog fit: nothing wider than the window, nothing cut.
func TestApprovalPhoneSize(t *testing.T) {
	_, e, ld, ls := approvalOn(t)
	pd, ps := e.newPhone()
	ps.typeLogIn()
	n := waitNumber(ps, pd)
	asked(t, ls, ld)
	for _, s := range []*screen{ps, ls} {
		s.do(func() {
			width := s.win.Canvas().Size().Width
			if got := s.win.Canvas().Size(); got != fyne.NewSize(440, 760) {
				s.fail("%s: the window grew to %v", s.d.spec.Name, got)
			}
			if min := s.win.Content().MinSize().Width; min > width {
				s.fail("%s: content needs %v wide, the window has %v", s.d.spec.Name, min, width)
			}
			for _, it := range s.items() {
				switch it.o.(type) {
				case *canvas.RadialGradient, *canvas.LinearGradient:
					continue // a dialog's shadow
				}
				if it.pos.X+it.o.Size().Width > width+1 {
					s.fail("%s: %T %q reaches %v, past %v", s.d.spec.Name, it.o, text(it.o), it.pos.X+it.o.Size().Width, width)
				}
			}
		})
	}
	ps.do(func() {
		// The number is drawn whole, and large.
		if got := drawn(ps.ui.approval.big); got != fmt.Sprint(n) {
			ps.fail("the number draws %q", got)
		}
		if big := (bigTheme{Theme: Theme()}).Size(sizeNameBig); big < 2*theme.Size(theme.SizeNameText) {
			ps.fail("the number is %v high", big)
		}
	})
	ls.do(func() {
		for _, x := range ls.find(func(it item) bool { return it.overlay && asButton(it.o) != nil }) {
			if b := asButton(x.o); drawn(x.o) != b.Text {
				ls.fail("the button %q draws %q", b.Text, drawn(x.o))
			}
		}
		for _, want := range []string{"No, it wasn't me", "If it's you, pick the number Pixel 8 shows:"} {
			if _, size, ok := ls.place(want); !ok || size.Width <= 0 {
				ls.fail("%q is not shown", want)
			}
		}
	})
	ls.tap(fmt.Sprint(n))
	ps.waitText("Logged in on Pixel 8")
}
