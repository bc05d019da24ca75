package client

import (
	"context"
	"testing"
	"time"

	"sessionguard/api"
)

// TestDeviceRuleCalls sets and removes a device's own inactivity rule on
// the real server, sees what it refuses, and sees a device unused past its
// rule logged out at its next call (ErrSessionRevoked, reason inactive).
func TestDeviceRuleCalls(t *testing.T) {
	ctx := context.Background()
	ts, c, _ := signedIn(t, "ana", "Laptop", true)
	hotel := newClient(t, ts.URL())
	other := signIn(t, hotel, "ana", "Hotel lobby PC", true)
	brief := newClient(t, ts.URL())
	short := signIn(t, brief, "ana", "Borrowed phone", false) // 12 hours

	got, err := c.SetIdleTimeout(ctx, other.Session.ID, 7*24*time.Hour)
	if err != nil || got.ID != other.Session.ID || got.IdleTimeoutS != 7*24*3600 {
		t.Fatalf("SetIdleTimeout(1 week) = %+v, %v", got, err)
	}
	if got, err = c.SetIdleTimeout(ctx, other.Session.ID, 0); err != nil || got.IdleTimeoutS != 0 {
		t.Fatalf("SetIdleTimeout(0) = %+v, %v", got, err)
	}

	bob := newClient(t, ts.URL())
	signUp(t, bob, "bob")
	bobs := signIn(t, bob, "bob", "Bob's phone", true)
	for _, tc := range []struct {
		name, id    string
		d           time.Duration
		status      int
		code, field string
		sentinel    error
	}{
		{"below the minimum", other.Session.ID, 30 * time.Minute, 400, api.CodeInvalidRequest, "idle_timeout_s", ErrInvalidRequest},
		{"negative", other.Session.ID, -time.Hour, 400, api.CodeInvalidRequest, "idle_timeout_s", ErrInvalidRequest},
		{"longer than the session", short.Session.ID, 24 * time.Hour, 400, api.CodeInvalidRequest, "idle_timeout_s", ErrInvalidRequest},
		{"another account's session", bobs.Session.ID, time.Hour, 404, api.CodeNotFound, "", ErrNotFound},
		{"no session chosen", "", time.Hour, 400, api.CodeInvalidRequest, "id", ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.SetIdleTimeout(ctx, tc.id, tc.d)
			if e := wantCode(t, err, tc.status, tc.code, tc.sentinel); e.Field() != tc.field {
				t.Errorf("Field() = %q, want %q", e.Field(), tc.field)
			}
		})
	}

	if _, err := c.SetIdleTimeout(ctx, other.Session.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(time.Hour)
	_, err = hotel.Me(ctx)
	e := wantCode(t, err, 401, api.CodeSessionRevoked, ErrSessionRevoked)
	if reason, _, by := e.Revocation(); reason != api.ReasonInactive || by != "" {
		t.Fatalf("Revocation() = %q, by %q", reason, by)
	}
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("the laptop after the hotel PC was logged out: %v", err)
	}
}

// TestSettingsCalls reads and changes the account's settings on the real
// server, with the step-up PUT needs and what it refuses.
func TestSettingsCalls(t *testing.T) {
	ctx := context.Background()
	ts, c, _ := signedIn(t, "ana", "Laptop", true)
	if st, err := c.Settings(ctx); err != nil || st != (api.Settings{}) {
		t.Fatalf("Settings() = %+v, %v", st, err)
	}
	want := api.Settings{AutoLogoutInactiveAfterS: 30 * 24 * 3600, ApproveNewDevices: true}
	if st, err := c.PutSettings(ctx, want); err != nil || st != want {
		t.Fatalf("PutSettings = %+v, %v", st, err)
	}
	if st, err := c.Settings(ctx); err != nil || st != want {
		t.Fatalf("Settings() after PUT = %+v, %v", st, err)
	}
	_, err := c.PutSettings(ctx, api.Settings{AutoLogoutInactiveAfterS: 60})
	if e := wantCode(t, err, 400, api.CodeInvalidRequest, ErrInvalidRequest); e.Field() != "auto_logout_inactive_after_s" {
		t.Errorf("Field() = %q", e.Field())
	}

	ts.clock.Advance(11 * time.Minute) // past the step-up window
	_, err = c.PutSettings(ctx, api.Settings{})
	wantCode(t, err, 403, api.CodeReauthRequired, ErrReauthRequired)
	if _, err := c.Reauth(ctx, api.ReauthRequest{Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	if st, err := c.PutSettings(ctx, api.Settings{}); err != nil || st != (api.Settings{}) {
		t.Fatalf("PutSettings(never) = %+v, %v", st, err)
	}
}
