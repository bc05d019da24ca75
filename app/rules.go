package app

import (
	"context"
	"errors"
	"time"

	"sessionguard/api"
	"sessionguard/client"
)

// Device rules (DESIGN "Device names, rules and inactivity"): the account
// logs out devices unused for a while (Settings.AutoLogoutInactiveAfterS),
// and each device may have its own, stricter rule (Session.IdleTimeoutS).

// Day is 24 hours, the unit the rules are offered in.
const Day = 24 * time.Hour

// InactivityChoices are the rules offered, strictest last: never, a week,
// a month, 3 months, 6 months, a year (a month is 30 days, a year 365).
var InactivityChoices = []time.Duration{0, 7 * Day, 30 * Day, 90 * Day, 180 * Day, 365 * Day}

// DeviceRuleChoices are the rules offered for one device: those of
// InactivityChoices and shorter ones, for a shared computer (the server's
// minimum is an hour by default).
var DeviceRuleChoices = []time.Duration{0, Day, 3 * Day, 7 * Day, 30 * Day, 90 * Day}

// Rule is the stricter of a device's own rule and the account's, the one
// that ends it (0: neither).
func Rule(own, account time.Duration) time.Duration {
	switch {
	case own <= 0:
		return max(account, 0)
	case account <= 0:
		return own
	}
	return min(own, account)
}

// SessionRule is session s's own rule.
func SessionRule(s api.Session) time.Duration {
	return time.Duration(s.IdleTimeoutS) * time.Second
}

// AccountRule is the account's rule from its settings.
func AccountRule(st api.Settings) time.Duration {
	return time.Duration(st.AutoLogoutInactiveAfterS) * time.Second
}

// UnusedFor lists the devices of list, other than this one, that have not
// been used for rule or longer at now: those the rule would log out next
// ("2 devices haven't been used for 3 months"). Rule 0 lists none.
func UnusedFor(list []api.Session, rule time.Duration, now time.Time) []api.Session {
	if rule <= 0 {
		return nil
	}
	var out []api.Session
	for _, s := range list {
		if !s.Current && now.Sub(s.LastSeenAt) >= rule {
			out = append(out, s)
		}
	}
	return out
}

// LoadSettings reads the account's settings (Snapshot.Settings).
func (a *App) LoadSettings(ctx context.Context) error {
	return a.loadSettings(ctx, a.generation())
}

// loadSettings is LoadSettings for the sign-in of generation gen: a
// background reload started before this device logged out (which moves
// the generation on) must not take the refusal of its own ended session
// for a remote log out, which would forget the login info just saved.
func (a *App) loadSettings(ctx context.Context, gen int) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn {
		return ErrNotSignedIn
	}
	st, err := a.api.Settings(ctx)
	if err != nil {
		if sessionGone(err) {
			a.endedRemotely(gen, err)
		}
		return err // offline: the page says the setting is unknown
	}
	a.update(func(s *Snapshot) {
		if a.currentLocked(gen) {
			s.Settings = &st
		}
	})
	return nil
}

// SetAutoLogout sets the account's rule: every device unused for d is
// logged out (0: never). The server wants a recent password proof: then
// it returns ErrReauthRequired with Pending set (KindSetAutoLogout), and
// Reauthenticate carries on.
func (a *App) SetAutoLogout(ctx context.Context, d time.Duration) error {
	return a.changeSettings(ctx, func(st *api.Settings) { st.AutoLogoutInactiveAfterS = int(d / time.Second) },
		Pending{Kind: KindSetAutoLogout, Action: "change when inactive devices are logged out"},
		func(ctx context.Context) error { return a.SetAutoLogout(ctx, d) })
}

// changeSettings reads the account's settings, applies change and saves
// them (Snapshot.Settings follows). When the server wants a recent
// password proof it returns ErrReauthRequired with p pending, and
// Reauthenticate calls again.
func (a *App) changeSettings(ctx context.Context, change func(*api.Settings), p Pending, again func(context.Context) error) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn {
		return a.fail(ErrNotSignedIn)
	}
	gen := a.generation()
	a.begin("Saving…")
	st, err := a.api.Settings(ctx)
	if err == nil {
		change(&st)
		st, err = a.api.PutSettings(ctx, st)
	}
	if errors.Is(err, client.ErrReauthRequired) {
		a.waitForPassword(p, again)
		return ErrReauthRequired
	}
	if err != nil {
		return a.callFailed(gen, err)
	}
	a.finish(func(s *Snapshot) {
		s.Pending = nil
		if a.currentLocked(gen) {
			s.Settings = &st
		}
	})
	return nil
}

// SetDeviceRule gives the device of session sessionID (this one or
// another of the account's) its own rule: logged out once unused for d (0
// removes it). A rule the server refuses (below its minimum, or longer
// than the session lasts) is a FieldError for "idle_timeout".
func (a *App) SetDeviceRule(ctx context.Context, sessionID string, d time.Duration) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Session == nil {
		return a.fail(ErrNotSignedIn)
	}
	name := a.deviceName(sessionID)
	gen := a.generation()
	a.begin("Saving the rule for " + name + "…")
	updated, err := a.api.SetIdleTimeout(ctx, sessionID, d)
	switch {
	case errors.Is(err, client.ErrNotFound):
		a.removeDevice(sessionID)
		a.requestRefresh()
		return a.fail(errors.New(capitalize(name) + " is no longer logged in."))
	case errors.Is(err, client.ErrInvalidRequest):
		return a.fail(&FieldError{"idle_timeout", Describe(err)})
	case err != nil:
		return a.callFailed(gen, err)
	}
	a.finish(func(s *Snapshot) {
		a.devicesEpoch++ // a page loaded before the change would undo it
		s.Devices = changeDevice(s.Devices, sessionID, func(d *api.Session) { d.IdleTimeoutS = updated.IdleTimeoutS })
		if s.Session != nil && s.Session.ID == sessionID {
			s.Session.IdleTimeoutS = updated.IdleTimeoutS
		}
	})
	a.writeCache()
	return nil
}

// inactiveRule is the rule that ended this device's session for
// inactivity, as far as the app knew it: its own and the account's, the
// stricter (0: unknown).
func inactiveRule(s Snapshot) time.Duration {
	var own, account time.Duration
	if s.Session != nil {
		own = SessionRule(*s.Session)
	}
	if s.Settings != nil {
		account = AccountRule(*s.Settings)
	}
	return Rule(own, account)
}

// refreshSettings reloads the account's settings in the background: at
// each sign-in (force), so that a device the account's rule logs out can
// say which rule it was, and when something changed on the account once
// they were loaded.
func (a *App) refreshSettings(gen int, force bool) {
	a.mu.Lock()
	if gen != a.gen || (!force && a.snap.Settings == nil) {
		a.mu.Unlock()
		return
	}
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(client.Background(context.Background()), 30*time.Second)
		defer cancel()
		_ = a.loadSettings(ctx, gen)
	}()
}
