package app

import (
	"context"
	"errors"
	"slices"
	"strings"

	"sessionguard/api"
	"sessionguard/client"
)

// devicesPage is how many devices one load asks for.
const devicesPage = 50

// LoadDevices (re)loads the first page of the device list. Offline, the
// last known list stays (or is read from the cache) and is marked stale.
func (a *App) LoadDevices(ctx context.Context) error {
	gen := a.generation()
	return a.loadDevices(ctx, gen, false)
}

// LoadMoreDevices appends the next page, if there is one.
func (a *App) LoadMoreDevices(ctx context.Context) error {
	gen := a.generation()
	return a.loadDevices(ctx, gen, true)
}

func (a *App) loadDevices(ctx context.Context, gen int, more bool) error {
	a.loadMu.Lock()
	defer a.loadMu.Unlock()
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Account == nil {
		return ErrNotSignedIn
	}
	cursor := ""
	limit := max(devicesPage, min(len(snap.Devices), 200)) // a refresh keeps what was loaded
	if more {
		if snap.DevicesCursor == "" {
			return nil
		}
		cursor, limit = snap.DevicesCursor, devicesPage
	}
	page, err := a.api.Sessions(ctx, limit, cursor)
	if !a.current(gen) {
		return nil
	}
	if err != nil {
		return a.callFailed(gen, err)
	}
	a.update(func(s *Snapshot) {
		if more {
			for _, d := range page.Sessions {
				if !slices.ContainsFunc(s.Devices, func(x api.Session) bool { return x.ID == d.ID }) {
					s.Devices = append(s.Devices, d)
				}
			}
		} else {
			s.Devices = page.Sessions
		}
		s.DevicesCursor, s.DevicesStale, s.Offline = page.NextCursor, false, false
		for _, d := range s.Devices {
			if d.Current {
				s.Session = &d
			}
		}
	})
	a.writeCache()
	return nil
}

// callFailed handles an error from a call made while signed in: a dead
// session signs out with the notice, offline keeps the last known state.
func (a *App) callFailed(gen int, err error) error {
	switch {
	case sessionGone(err):
		a.endedRemotely(gen, err)
	case errors.Is(err, client.ErrOffline):
		a.update(func(s *Snapshot) {
			s.Busy, s.BusyLabel, s.Offline = false, "", true
			if len(s.Devices) <= 1 && s.Account != nil {
				if c, ok := a.readCache(s.Account.ID); ok {
					s.Devices = c.Devices
				}
			}
			s.DevicesStale = len(s.Devices) > 0
			s.Err = Describe(err)
		})
	default:
		a.fail(err)
	}
	return err
}

func (a *App) deviceName(id string) string {
	snap := a.Snapshot()
	for _, d := range snap.Devices {
		if d.ID == id {
			return d.Device.Name
		}
	}
	return "that device"
}

// RevokeDevice logs another device out. If the server wants a fresh
// password proof it returns ErrReauthRequired and Snapshot.Pending holds
// the action until Reauthenticate.
func (a *App) RevokeDevice(ctx context.Context, sessionID string) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Session == nil {
		return a.fail(ErrNotSignedIn)
	}
	if sessionID == snap.Session.ID {
		return a.LogOut(ctx, false)
	}
	name := a.deviceName(sessionID)
	gen := a.generation()
	a.begin("Logging out " + name + "…")
	_, err := a.api.RevokeSession(ctx, sessionID)
	switch {
	case errors.Is(err, client.ErrReauthRequired):
		a.update(func(s *Snapshot) {
			s.Busy, s.BusyLabel = false, ""
			s.Pending = &Pending{Kind: KindRevokeOne, SessionID: sessionID, DeviceName: name}
		})
		return ErrReauthRequired
	case errors.Is(err, client.ErrNotFound):
		// Already gone (closed elsewhere meanwhile): the list was stale.
		a.removeDevice(sessionID)
		a.requestRefresh()
		a.update(func(s *Snapshot) {
			s.Busy, s.BusyLabel = false, ""
			s.Err = capitalize(name) + " was already logged out."
		})
		return nil
	case err != nil:
		return a.callFailed(gen, err)
	}
	a.removeDevice(sessionID)
	a.update(func(s *Snapshot) {
		s.Busy, s.BusyLabel, s.Pending = false, "", nil
		s.LastRevoke = &RevokeResult{DeviceName: name, Count: 1}
	})
	return nil
}

func (a *App) removeDevice(id string) {
	a.update(func(s *Snapshot) {
		s.Devices = slices.DeleteFunc(s.Devices, func(d api.Session) bool { return d.ID == id })
	})
	a.writeCache()
}

// RevokeOthers logs out every other device of the account (and ends their
// saved logins). Like RevokeDevice it may wait for the password.
func (a *App) RevokeOthers(ctx context.Context) (int, error) {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Session == nil {
		return 0, a.fail(ErrNotSignedIn)
	}
	gen := a.generation()
	a.begin("Logging out all other devices…")
	n, err := a.api.RevokeOthers(ctx)
	switch {
	case errors.Is(err, client.ErrReauthRequired):
		a.update(func(s *Snapshot) {
			s.Busy, s.BusyLabel = false, ""
			s.Pending = &Pending{Kind: KindRevokeOthers}
		})
		return 0, ErrReauthRequired
	case err != nil:
		return 0, a.callFailed(gen, err)
	}
	self := *snap.Session
	a.update(func(s *Snapshot) {
		s.Devices, s.DevicesCursor = []api.Session{self}, ""
		s.Busy, s.BusyLabel, s.Pending = false, "", nil
		s.LastRevoke = &RevokeResult{Count: n}
	})
	a.writeCache()
	return n, nil
}

// Reauthenticate confirms the password (and code, when two-step is on)
// and then finishes the pending action.
func (a *App) Reauthenticate(ctx context.Context, password, code string) error {
	snap := a.Snapshot()
	if snap.Pending == nil {
		return nil
	}
	if password == "" {
		return a.fail(&FieldError{"password", "Enter your password."})
	}
	gen := a.generation()
	a.begin("Checking your password…")
	_, err := a.api.Reauth(ctx, api.ReauthRequest{Password: password, Code: strings.TrimSpace(code)})
	switch {
	case errors.Is(err, client.ErrInvalidCredentials):
		return a.fail(&FieldError{"password", "That password is not right."})
	case err != nil:
		return a.callFailed(gen, err)
	}
	p := *snap.Pending
	a.update(func(s *Snapshot) { s.Pending = nil })
	switch p.Kind {
	case KindRevokeOne:
		return a.RevokeDevice(ctx, p.SessionID)
	case KindRevokeOthers:
		_, err := a.RevokeOthers(ctx)
		return err
	case KindDisableTwoStep:
		return a.TurnOffTwoStep(ctx)
	}
	a.done()
	return nil
}

// CancelReauth drops the action waiting for the password.
func (a *App) CancelReauth() { a.update(func(s *Snapshot) { s.Pending = nil; s.FieldErrors = nil }) }

// DismissLastRevoke hides the result of the last remote log out.
func (a *App) DismissLastRevoke() { a.update(func(s *Snapshot) { s.LastRevoke = nil }) }

// DismissError clears the error message.
func (a *App) DismissError() { a.update(func(s *Snapshot) { s.Err = ""; s.FieldErrors = nil }) }
