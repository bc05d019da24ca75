package app_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/app"
)

// approvalOn turns on approval of new devices from d.
func (d *device) approvalOn() {
	d.t.Helper()
	if err := d.app.SetApproveNewDevices(ctx, true); err != nil {
		d.t.Fatal(err)
	}
	if st := d.snap().Settings; st == nil || !st.ApproveNewDevices {
		d.t.Fatalf("settings %+v", st)
	}
}

// request waits for the approval request d is asked and returns it.
func (d *device) request() app.ApprovalRequest {
	d.t.Helper()
	s := d.waitFor("an approval request", func(s app.Snapshot) bool { return len(s.ApprovalRequests) == 1 })
	return s.ApprovalRequests[0]
}

// TestApproveNewSignIn: with approval on, a new install's sign-in waits
// for a live device to pick its number; then it is in at once.
func TestApproveNewSignIn(t *testing.T) {
	b := newBackend(t)
	laptop := b.device("Ana's Laptop")
	laptop.signUp("ana", true)
	laptop.approvalOn()

	phone := b.device("Pixel 8")
	if err := phone.app.SignIn(ctx, "ana", password, true); err != nil {
		t.Fatal(err)
	}
	s := phone.snap()
	if s.State != app.StateAwaitingApproval || s.Approval == nil || s.Approval.Number == 0 {
		t.Fatalf("the phone: %v, approval %+v", s.State, s.Approval)
	}
	r := laptop.request()
	if r.Device.Name != "Pixel 8" || len(r.Numbers) != 3 || !slices.Contains(r.Numbers, s.Approval.Number) {
		t.Fatalf("request %+v (the phone shows %d)", r, s.Approval.Number)
	}
	start := time.Now()
	if err := laptop.app.DecideApproval(ctx, r.ID, true, s.Approval.Number); err != nil {
		t.Fatal(err)
	}
	phone.waitFor("signed in", func(s app.Snapshot) bool { return s.State == app.StateSignedIn })
	t.Logf("approve → signed in on the new device: %v", time.Since(start))
	if len(laptop.snap().ApprovalRequests) != 0 {
		t.Fatalf("request still shown: %+v", laptop.snap().ApprovalRequests)
	}
	// Known from now on: its next sign-in is not held.
	phone.logOut(false)
	phone.signIn("ana", false)
}

// TestWrongNumberDenies: a wrong number (or "No, it wasn't me") refuses
// the sign-in, and the new device says so.
func TestWrongNumberDenies(t *testing.T) {
	b := newBackend(t)
	laptop := b.device("Ana's Laptop")
	laptop.signUp("ana", true)
	laptop.approvalOn()
	thief := b.device("Unknown PC")
	if err := thief.app.SignIn(ctx, "ana", password, false); err != nil {
		t.Fatal(err)
	}
	r := laptop.request()
	wrong := r.Numbers[0]
	if wrong == thief.snap().Approval.Number {
		wrong = r.Numbers[1]
	}
	if err := laptop.app.DecideApproval(ctx, r.ID, true, wrong); err != nil {
		t.Fatal(err)
	}
	s := thief.waitFor("refused", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if s.Err == "" || s.Approval != nil {
		t.Fatalf("the thief's screen: err %q, approval %+v", s.Err, s.Approval)
	}
}

// TestRecoveryCodeSkipsApproval: with no device at hand, a recovery code
// signs in without approval.
func TestRecoveryCodeSkipsApproval(t *testing.T) {
	b := newBackend(t)
	laptop := b.device("Ana's Laptop")
	laptop.signUp("ana", true)
	secret := laptop.turnOnTwoStep(b)
	codes := laptop.app.RecoveryCodes()
	laptop.app.EndTwoStep()
	if len(codes) == 0 {
		t.Fatal("no recovery codes")
	}
	laptop.approvalOn()
	phone := b.device("Pixel 8")
	if err := phone.app.SignIn(ctx, "ana", password, false); err != nil {
		t.Fatal(err)
	}
	b.nextCode()
	if err := phone.app.SubmitSecondFactor(ctx, b.code(secret)); err != nil {
		t.Fatal(err)
	}
	if s := phone.snap(); s.State != app.StateAwaitingApproval {
		t.Fatalf("after the code: %v %q", s.State, s.Err)
	}
	if err := phone.app.SkipApproval(ctx, codes[0]); err != nil {
		t.Fatal(err)
	}
	phone.waitFor("signed in", func(s app.Snapshot) bool { return s.State == app.StateSignedIn })
}

// TestLinkWithACode: a shared computer shows a code; the phone checks what
// it lets in and approves it; the computer is in, no password typed there.
func TestLinkWithACode(t *testing.T) {
	b := newBackend(t)
	phone := b.device("Ana's Pixel")
	phone.signUp("ana", true)
	b.staleProof() // before the code: a stale proof after it would outlive the code too
	library := b.device("Library PC")
	if err := library.app.StartLink(ctx, false); err != nil {
		t.Fatal(err)
	}
	lc := library.snap().LinkCode
	if lc == nil || len(lc.UserCode) != 9 || lc.UserCode[4] != '-' {
		t.Fatalf("link code %+v", lc)
	}
	var fe *app.FieldError
	if _, err := phone.app.CheckLink(ctx, "abcd"); !errors.As(err, &fe) || fe.Field != "link_code" {
		t.Fatalf("a short code: %v", err)
	}
	typed := lc.UserCode[:4] + " " + lc.UserCode[5:] // as a person might type it
	p, err := phone.app.CheckLink(ctx, typed)
	if err != nil {
		t.Fatal(err)
	}
	if p.Device.Name != "Library PC" {
		t.Fatalf("preview %+v", p)
	}
	if err := phone.app.ApproveLink(ctx, typed); !errors.Is(err, app.ErrReauthRequired) {
		t.Fatalf("approve with a stale proof: %v", err)
	}
	if err := phone.app.Reauthenticate(ctx, password, ""); err != nil {
		t.Fatal(err)
	}
	s := library.waitFor("signed in", func(s app.Snapshot) bool { return s.State == app.StateSignedIn })
	if s.Account.Username != "ana" {
		t.Fatalf("the library PC signed in as %+v", s.Account)
	}
	// Single use.
	if _, err := phone.app.CheckLink(ctx, lc.UserCode); !errors.As(err, &fe) {
		t.Fatalf("the code again: %v", err)
	}
	phone.waitFor("the library PC listed", func(s app.Snapshot) bool {
		return slices.ContainsFunc(s.Devices, func(d api.Session) bool { return d.Device.Name == "Library PC" })
	})
}

// TestCancelApproval: giving up goes back to sign-in, and a late answer
// changes nothing.
func TestCancelApproval(t *testing.T) {
	b := newBackend(t)
	laptop := b.device("Ana's Laptop")
	laptop.signUp("ana", true)
	laptop.approvalOn()
	phone := b.device("Pixel 8")
	if err := phone.app.SignIn(ctx, "ana", password, false); err != nil {
		t.Fatal(err)
	}
	number := phone.snap().Approval.Number
	r := laptop.request()
	phone.app.CancelApproval()
	if s := phone.snap(); s.State != app.StateSignedOut {
		t.Fatalf("after cancel: %v", s.State)
	}
	_ = laptop.app.DecideApproval(ctx, r.ID, true, number)
	time.Sleep(100 * time.Millisecond)
	if s := phone.snap(); s.State != app.StateSignedOut {
		t.Fatalf("a late approval signed the cancelled device in: %v", s.State)
	}
}
