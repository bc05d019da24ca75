package app_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/app"
)

// TestAutoLogoutSetting: the account's rule is set with a recent password
// proof (asked for when stale), and the other devices learn it.
func TestAutoLogoutSetting(t *testing.T) {
	_, laptop, phone, _ := anaOnLaptopAndPhone(t)
	if err := laptop.app.LoadSettings(ctx); err != nil {
		t.Fatal(err)
	}
	if st := laptop.snap().Settings; st == nil || st.AutoLogoutInactiveAfterS != 0 {
		t.Fatalf("settings at first: %+v", st)
	}
	if err := laptop.app.SetAutoLogout(ctx, 90*app.Day); err != nil {
		t.Fatal(err)
	}
	want := int(90 * app.Day / time.Second)
	if st := laptop.snap().Settings; st == nil || st.AutoLogoutInactiveAfterS != want {
		t.Fatalf("settings after saving: %+v", st)
	}
	// The phone loaded them at sign-in, and hears of the change.
	phone.waitFor("the new rule", func(s app.Snapshot) bool {
		return s.Settings != nil && s.Settings.AutoLogoutInactiveAfterS == want
	})
}

// TestAutoLogoutSettingStepUp: a stale proof asks for the password first.
func TestAutoLogoutSettingStepUp(t *testing.T) {
	b, laptop, _, _ := anaOnLaptopAndPhone(t)
	b.staleProof()
	if err := laptop.app.SetAutoLogout(ctx, 30*app.Day); !errors.Is(err, app.ErrReauthRequired) {
		t.Fatalf("with a stale proof: %v", err)
	}
	if p := laptop.snap().Pending; p == nil || p.Kind != app.KindSetAutoLogout {
		t.Fatalf("pending %+v", p)
	}
	if err := laptop.app.Reauthenticate(ctx, password, ""); err != nil {
		t.Fatal(err)
	}
	if st := laptop.snap().Settings; st == nil || st.AutoLogoutInactiveAfterS != int(30*app.Day/time.Second) {
		t.Fatalf("settings after the password: %+v", st)
	}
}

// TestDeviceRuleEndsAnUnusedDevice: the laptop gives the phone a 1-day
// rule; the phone, silent for 25 hours, is ended by the sweeper and says
// why; the laptop's Security activity has it.
func TestDeviceRuleEndsAnUnusedDevice(t *testing.T) {
	b, laptop, phone, id := anaOnLaptopAndPhone(t)
	if err := laptop.app.SetDeviceRule(ctx, id, app.Day); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(laptop.snap().Devices, func(s api.Session) bool { return s.ID == id })
	if i < 0 || laptop.snap().Devices[i].IdleTimeoutS != int(app.Day/time.Second) {
		t.Fatalf("the phone's rule in the laptop's list: %+v", laptop.snap().Devices)
	}
	phone.waitFor("its own rule", func(s app.Snapshot) bool {
		return s.Session != nil && s.Session.IdleTimeoutS == int(app.Day/time.Second)
	})
	// Refused: shorter than the server's minimum.
	var fe *app.FieldError
	if err := laptop.app.SetDeviceRule(ctx, id, time.Minute); !errors.As(err, &fe) || fe.Field != "idle_timeout" {
		t.Fatalf("a 1-minute rule: %v", err)
	}

	b.clock.Advance(25 * time.Hour)
	if err := laptop.app.LoadDevices(ctx); err != nil { // the laptop stays in use
		t.Fatal(err)
	}
	// The sweeper ends the phone, unless a reload the phone started on an
	// earlier event reached the server after the clock moved: the server
	// then ended it for the same reason at that request.
	n, err := b.Server.SweepInactive(ctx)
	if err != nil || n > 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if n == 0 {
		if ses, err := b.DB.Session(ctx, id); err != nil || ses.Revoked == nil || ses.Revoked.Reason != api.ReasonInactive {
			t.Fatalf("the sweep ended nothing and the phone's session is %+v, %v", ses.Revoked, err)
		}
	}
	s := phone.waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	if n := s.Notice; n == nil || n.Reason != api.ReasonInactive || n.UnusedFor != app.Day {
		t.Fatalf("the phone's notice %+v", n)
	}
	if err := laptop.app.LoadActivity(ctx); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range laptop.snap().Activity {
		found = found || (e.Type == api.AuditSessionRevoked && e.TargetSessionID == id && strings.Contains(strings.ToLower(e.Detail), "unused"))
	}
	if !found {
		t.Fatalf("no inactivity log out in the laptop's activity: %+v", laptop.snap().Activity)
	}
	laptop.endedClosure(id, api.ClosureConfirmed) // the phone's receipt
}

// TestBackgroundReloadsAreNotUse: the phone's app stays open and reloads
// its list by itself whenever something changes on the account; that is
// not use, so its 1-day rule still ends it.
func TestBackgroundReloadsAreNotUse(t *testing.T) {
	b, laptop, phone, id := anaOnLaptopAndPhone(t)
	if err := laptop.app.SetDeviceRule(ctx, id, app.Day); err != nil {
		t.Fatal(err)
	}
	phone.waitFor("its own rule", func(s app.Snapshot) bool {
		return s.Session != nil && s.Session.IdleTimeoutS == int(app.Day/time.Second)
	})
	b.clock.Advance(13 * time.Hour)
	// Something changes on the account: the phone reloads by itself (its
	// access token has expired meanwhile, so it refreshes it too).
	if err := laptop.app.RenameDevice(ctx, laptop.snap().Session.ID, "Ana's desk"); err != nil {
		t.Fatal(err)
	}
	phone.waitFor("the new name", func(s app.Snapshot) bool {
		return slices.ContainsFunc(s.Devices, func(d api.Session) bool { return d.Device.Name == "Ana's desk" })
	})
	b.clock.Advance(12 * time.Hour)
	// The sweep ends the phone, unless one of its reloads (the rename's
	// events can start more than one) reached the server after the clock
	// moved: the server then ended it at that request, for the same reason.
	n, err := b.Server.SweepInactive(ctx)
	if err != nil || n > 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if n == 0 {
		if ses, err := b.DB.Session(ctx, id); err != nil || ses.Revoked == nil || ses.Revoked.Reason != api.ReasonInactive {
			t.Fatalf("the sweep ended nothing and the phone's session is %+v, %v (its own reloads counted as use?)", ses.Revoked, err)
		}
	}
	phone.waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
}
