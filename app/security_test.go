package app_test

import (
	"errors"
	"fmt"
	"testing"

	"sessionguard/api"
	"sessionguard/app"
)

func TestChangePassword(t *testing.T) {
	for _, logOutOthers := range []bool{true, false} {
		t.Run(map[bool]string{true: "log out others", false: "keep others"}[logOutOthers], func(t *testing.T) {
			b := newBackend(t)
			d := b.device("Laptop")
			d.signUp("ana", true)
			other := b.device("Phone")
			other.signIn("ana", true)
			const next = "new-orchid-meadow-77"
			n, err := d.app.ChangePassword(ctx, password, next, next, "", logOutOthers)
			if err != nil {
				t.Fatal(err)
			}
			if s := d.snap(); s.State != app.StateSignedIn || s.Busy {
				t.Fatalf("after change: %v busy=%v", s.State, s.Busy)
			}
			if logOutOthers {
				if n != 1 {
					t.Fatalf("logged out %d devices, want 1", n)
				}
				s := other.waitFor("phone closed", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
				if s.Notice == nil || s.Notice.Reason != api.ReasonPasswordChanged {
					t.Fatalf("phone notice = %+v", s.Notice)
				}
			} else if n != 0 || other.snap().State != app.StateSignedIn {
				t.Fatalf("keep others: n=%d, phone %v", n, other.snap().State)
			}
			// Only the new password signs in from now on.
			third := b.device("TV")
			if err := third.app.SignIn(ctx, "ana", password, false); err == nil {
				t.Fatal("the old password still works")
			}
			if err := third.app.SignIn(ctx, "ana", next, false); err != nil {
				t.Fatalf("the new password: %v", err)
			}
		})
	}
}

func TestChangePasswordErrorsNameTheField(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	tests := []struct {
		name, current, next, confirm, field string
	}{
		{"no current", "", "new-orchid-meadow-77", "new-orchid-meadow-77", "current"},
		{"short", password, "short", "short", "new"},
		{"same", password, password, password, "new"},
		{"mismatch", password, "new-orchid-meadow-77", "new-orchid-meadow-78", "confirm"},
		{"wrong current", "not-my-password", "new-orchid-meadow-77", "new-orchid-meadow-77", "current"},
		{"weak (server)", password, "password123", "password123", "new"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := d.app.ChangePassword(ctx, tc.current, tc.next, tc.confirm, "", true); err == nil {
				t.Fatal("no error")
			}
			if s := d.snap(); s.FieldErrors[tc.field] == "" || s.State != app.StateSignedIn {
				t.Fatalf("field errors %v err %q state %v", s.FieldErrors, s.Err, s.State)
			}
		})
	}
}

func TestChangePasswordWhenStepUpIsDue(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	b.staleProof()
	const next = "new-orchid-meadow-77"
	if _, err := d.app.ChangePassword(ctx, password, next, next, "", false); err != nil {
		t.Fatalf("the current password should serve as the fresh proof: %v", err)
	}
	if s := d.snap(); s.Pending != nil {
		t.Fatalf("asked for the password again: %+v", s.Pending)
	}
}

func TestTwoStepOnSignInOff(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	setup, err := d.app.StartTwoStep(ctx)
	if err != nil || setup.Secret == "" {
		t.Fatalf("setup: %+v %v", setup, err)
	}
	if _, err := d.app.ConfirmTwoStep(ctx, "000000"); err == nil || d.snap().FieldErrors["code"] == "" {
		t.Fatalf("a wrong code: %v, fields %v", err, d.snap().FieldErrors)
	}
	codes, err := d.app.ConfirmTwoStep(ctx, b.code(setup.Secret))
	if err != nil || len(codes) != 10 {
		t.Fatalf("enable: %d codes, %v", len(codes), err)
	}
	if !d.snap().Account.MFAEnabled {
		t.Fatal("the snapshot does not say two-step is on")
	}

	// Another device now needs the code.
	b.nextCode()
	phone := b.device("Phone")
	if err := phone.app.SignIn(ctx, "ana", password, false); err != nil {
		t.Fatal(err)
	}
	if s := phone.snap(); s.State != app.StateNeedsSecondFactor {
		t.Fatalf("phone state %v", s.State)
	}
	if err := phone.app.SubmitSecondFactor(ctx, b.code(setup.Secret)); err != nil {
		t.Fatal(err)
	}
	phone.waitFor("signed in", func(s app.Snapshot) bool { return s.State == app.StateSignedIn })

	// Turning it off later needs the password (and code).
	b.staleProof()
	if err := d.app.TurnOffTwoStep(ctx); !errors.Is(err, app.ErrReauthRequired) {
		t.Fatalf("turn off without step-up: %v", err)
	}
	if p := d.snap().Pending; p == nil || p.Kind != app.KindDisableTwoStep {
		t.Fatalf("pending = %+v", p)
	}
	if err := d.app.Reauthenticate(ctx, password, b.code(setup.Secret)); err != nil {
		t.Fatal(err)
	}
	if s := d.snap(); s.Account.MFAEnabled || s.Pending != nil {
		t.Fatalf("after turning off: mfa %v pending %+v", s.Account.MFAEnabled, s.Pending)
	}
}

func TestSecurityActivity(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", true)
	c := b.client()
	if _, err := c.Login(ctx, api.LoginRequest{Username: "ana", Password: "wrong-password", Device: api.Device{ID: "x", Name: "Thief"}}); err == nil {
		t.Fatal("wrong password accepted")
	}
	for i := range 204 {
		dev := api.Device{ID: fmt.Sprintf("dev-%d", i), Name: fmt.Sprintf("Device %d", i)}
		if _, err := c.Login(ctx, api.LoginRequest{Username: "ana", Password: password, Device: dev}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.app.LoadActivity(ctx); err != nil {
		t.Fatal(err)
	}
	s := d.snap()
	if len(s.Activity) != 200 || s.ActivityCursor == "" || s.Activity[0].DeviceName != "Device 203" { // the server's largest page
		t.Fatalf("first page: %d events, cursor %q, newest %q", len(s.Activity), s.ActivityCursor, s.Activity[0].Type)
	}
	if err := d.app.LoadMoreActivity(ctx); err != nil {
		t.Fatal(err)
	}
	s = d.snap()
	if len(s.Activity) != 206 || s.ActivityCursor != "" || s.Activity[204].Type != api.AuditLoginFailed || s.Activity[205].Type != api.AuditLoginSucceeded {
		t.Fatalf("all pages: %d events, cursor %q", len(s.Activity), s.ActivityCursor)
	}
}
