package app

import (
	"context"
	"errors"
	"slices"
	"strings"

	"sessionguard/api"
	"sessionguard/client"
)

// ChangePassword changes the account's password. With logOutOthers every
// other device is logged out at once; either way the server ends every
// saved login of the account. It returns how many devices were logged out.
// The current password doubles as the fresh proof the server may ask for
// (code too, when two-step verification is on), so no second prompt.
func (a *App) ChangePassword(ctx context.Context, current, next, confirm, code string, logOutOthers bool) (int, error) {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Account == nil {
		return 0, a.fail(ErrNotSignedIn)
	}
	switch {
	case current == "":
		return 0, a.fail(&FieldError{"current", "Enter your current password."})
	case tooShort(next):
		return 0, a.fail(&FieldError{"new", tooShortMessage})
	case next == current:
		return 0, a.fail(&FieldError{"new", "Choose a password different from your current one."})
	case next != confirm:
		return 0, a.fail(&FieldError{"confirm", "The passwords don't match."})
	}
	gen := a.generation()
	a.beginTask(TaskChangePassword, "Changing your password…")
	req := api.ChangePasswordRequest{CurrentPassword: current, NewPassword: next, LogOutOtherDevices: logOutOthers}
	n, err := a.api.ChangePassword(ctx, req)
	if errors.Is(err, client.ErrReauthRequired) {
		if _, err = a.api.Reauth(ctx, api.ReauthRequest{Password: current, Code: strings.TrimSpace(code)}); err == nil {
			n, err = a.api.ChangePassword(ctx, req)
		}
	}
	if err != nil {
		return 0, a.securityFailed(gen, err, "current")
	}
	list := a.dropSavedAccount(snap.Account.ID) // the server ended every saved login
	a.finish(func(s *Snapshot) {
		s.SavedAccounts = list
		if logOutOthers && s.Session != nil {
			s.Devices, s.DevicesCursor = []api.Session{*s.Session}, ""
		}
	})
	a.requestRefresh()
	return n, nil
}

// securityFailed maps a security action's error to the field it concerns.
// passwordField names the field a wrong password belongs to.
func (a *App) securityFailed(gen int, err error, passwordField string) error {
	var ce *client.Error
	switch {
	case errors.Is(err, client.ErrInvalidCredentials):
		if passwordField == "code" {
			return a.fail(&FieldError{"code", wrongCode})
		}
		return a.fail(&FieldError{passwordField, wrongAnswer(err, "That's not your current password.")})
	case errors.As(err, &ce) && ce.Status == 400 && ce.Field() != "":
		field := map[string]string{"new_password": "new", "current_password": "current", "password": passwordField}[ce.Field()]
		if field == "" {
			field = ce.Field()
		}
		return a.fail(&FieldError{field, ce.Message})
	}
	return a.callFailed(gen, err)
}

// LoadActivity (re)loads the newest page of the security log. The events
// already loaded stay, after the new ones (mergeActivity).
func (a *App) LoadActivity(ctx context.Context) error { return a.loadActivity(ctx, false) }

// LoadMoreActivity appends the next older page, if any. Asked again while
// that page loads, it does nothing.
func (a *App) LoadMoreActivity(ctx context.Context) error {
	return a.loadMore(&a.moreActivity, func() error { return a.loadActivity(ctx, true) })
}

func (a *App) loadActivity(ctx context.Context, more bool) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn {
		return ErrNotSignedIn
	}
	cursor := ""
	if more {
		if snap.ActivityCursor == "" {
			return nil
		}
		cursor = snap.ActivityCursor
	}
	gen := a.generation()
	page, err := a.api.Audit(ctx, devicesPage, cursor)
	if ok, err := a.pageWanted(gen, err); !ok {
		return err
	}
	a.update(func(s *Snapshot) {
		switch {
		case gen != a.gen:
		case !more:
			s.Activity, s.ActivityCursor = mergeActivity(s.Activity, s.ActivityCursor, page)
		case s.ActivityCursor == cursor: // else reloaded meanwhile: the page is not the next
			// Past the end of the list: the snapshots that share it
			// see none of it (Snapshot).
			s.Activity = append(s.Activity, page.Events...)
			s.ActivityCursor = page.NextCursor
		}
	})
	if !more {
		a.checkLog(ctx, gen)
	}
	return nil
}

// mergeActivity is the security log after a reload of its newest page,
// for list and cursor, the events loaded so far: the page's events newer
// than those, then those, and loading goes on where it had got to. The
// log only grows, at the newest end, and its events never change: the
// page holds the newest loaded event unless more than a page's worth came
// since; then only the page is kept.
func mergeActivity(list []api.AuditEvent, cursor string, page api.AuditPage) ([]api.AuditEvent, string) {
	if len(list) == 0 {
		return page.Events, page.NextCursor
	}
	newest := list[0].ID
	i := slices.IndexFunc(page.Events, func(e api.AuditEvent) bool { return e.ID == newest })
	switch {
	case i < 0:
		return page.Events, page.NextCursor
	case i == 0:
		return list, cursor // nothing new: the same list
	}
	return slices.Concat(page.Events[:i], list), cursor
}

// StartTwoStep begins turning on two-step verification: the secret and the
// otpauth:// URI to show as a QR code, also kept for TwoStepSetup while
// Snapshot.TwoStep is TwoStepScanning. The secret is not kept in the
// snapshot. The server hands it out only after a recent password proof:
// then it returns ErrReauthRequired with Pending set (KindSetupTwoStep),
// and Reauthenticate carries on from there.
func (a *App) StartTwoStep(ctx context.Context) (api.TOTPSetupResponse, error) {
	gen := a.generation()
	a.beginTask(TaskTwoStep, "Preparing two-step verification…")
	setup, err := a.api.TOTPSetup(ctx)
	if errors.Is(err, client.ErrReauthRequired) {
		a.waitForPassword(Pending{Kind: KindSetupTwoStep, Action: "turn on two-step verification"}, func(ctx context.Context) error {
			_, err := a.StartTwoStep(ctx)
			return err
		})
		return api.TOTPSetupResponse{}, ErrReauthRequired
	}
	if err != nil {
		return api.TOTPSetupResponse{}, a.securityFailed(gen, err, "code")
	}
	a.finish(func(s *Snapshot) {
		if a.currentLocked(gen) {
			a.totpSetup, a.recoveryCodes = setup, nil
			s.TwoStep = TwoStepScanning
		}
	})
	return setup, nil
}

// ConfirmTwoStep finishes turning on two-step verification with a code
// from the authenticator app and returns the ten recovery codes, shown once
// (also kept for RecoveryCodes while Snapshot.TwoStep is
// TwoStepShowingCodes). The server ends the account's saved logins. When
// the password proof went stale during the setup it returns
// ErrReauthRequired with Pending set (KindEnableTwoStep); Reauthenticate
// then confirms with the same code.
func (a *App) ConfirmTwoStep(ctx context.Context, code string) ([]string, error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if code == "" {
		return nil, a.fail(&FieldError{"code", "Enter the 6-digit code from your authenticator app."})
	}
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Account == nil {
		return nil, a.fail(ErrNotSignedIn)
	}
	gen := a.generation()
	a.beginTask(TaskTwoStep, "Turning on two-step verification…")
	codes, err := a.api.TOTPEnable(ctx, code)
	if errors.Is(err, client.ErrReauthRequired) {
		// The code typed is used again once the password is confirmed.
		a.waitForPassword(Pending{Kind: KindEnableTwoStep, Action: "turn on two-step verification"}, func(ctx context.Context) error {
			_, err := a.ConfirmTwoStep(ctx, code)
			return err
		})
		return nil, ErrReauthRequired
	}
	if err != nil {
		return nil, a.securityFailed(gen, err, "code")
	}
	list := a.dropSavedAccount(snap.Account.ID) // the server ended every saved login
	a.update(func(s *Snapshot) {
		s.SavedAccounts = list
		if !a.currentLocked(gen) {
			return
		}
		a.totpSetup, a.recoveryCodes = api.TOTPSetupResponse{}, slices.Clone(codes)
		s.TwoStep = TwoStepShowingCodes
		s.RecoveryCodesLeft, s.RecoveryCodesKnown = len(codes), true
	})
	a.setMFA(true)
	return codes, nil
}

// LoadRecoveryCodes reads how many unused recovery codes the account has
// (Snapshot.RecoveryCodesLeft), for the Two-step verification page. With
// two-step verification off there are none, and nothing is asked.
func (a *App) LoadRecoveryCodes(ctx context.Context) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Account == nil {
		return ErrNotSignedIn
	}
	gen := a.generation()
	if !snap.Account.MFAEnabled {
		a.update(func(s *Snapshot) { s.RecoveryCodesLeft, s.RecoveryCodesKnown = 0, true })
		return nil
	}
	n, err := a.api.RecoveryCodesLeft(ctx)
	if err != nil {
		if sessionGone(err) {
			a.endedRemotely(gen, err)
		}
		return err // offline: the count stays unknown, and the page says nothing of it
	}
	a.update(func(s *Snapshot) {
		if a.currentLocked(gen) {
			s.RecoveryCodesLeft, s.RecoveryCodesKnown = n, true
		}
	})
	return nil
}

// NewRecoveryCodes replaces the account's recovery codes with ten new
// ones and returns them, shown once like those made when two-step
// verification was turned on (RecoveryCodes while Snapshot.TwoStep is
// TwoStepShowingCodes); the old ones stop working. The server wants a
// recent password proof: then it returns ErrReauthRequired with Pending
// set (KindNewRecoveryCodes), and Reauthenticate carries on.
func (a *App) NewRecoveryCodes(ctx context.Context) ([]string, error) {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Account == nil {
		return nil, a.fail(ErrNotSignedIn)
	}
	gen := a.generation()
	a.beginTask(TaskTwoStep, "Making new recovery codes…")
	codes, err := a.api.RegenerateRecoveryCodes(ctx)
	if errors.Is(err, client.ErrReauthRequired) {
		a.waitForPassword(Pending{Kind: KindNewRecoveryCodes, Action: "make new recovery codes"}, func(ctx context.Context) error {
			_, err := a.NewRecoveryCodes(ctx)
			return err
		})
		return nil, ErrReauthRequired
	}
	if err != nil {
		return nil, a.callFailed(gen, err)
	}
	a.finish(func(s *Snapshot) {
		s.Pending = nil
		if !a.currentLocked(gen) {
			return
		}
		a.totpSetup, a.recoveryCodes = api.TOTPSetupResponse{}, slices.Clone(codes)
		s.TwoStep = TwoStepShowingCodes
		s.RecoveryCodesLeft, s.RecoveryCodesKnown = len(codes), true
	})
	return codes, nil
}

// TwoStepSetup returns the secret and otpauth:// URI of the setup under
// way (Snapshot.TwoStep is TwoStepScanning), else the zero value.
func (a *App) TwoStepSetup() api.TOTPSetupResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.snap.TwoStep != TwoStepScanning {
		return api.TOTPSetupResponse{}
	}
	return a.totpSetup
}

// RecoveryCodes returns the recovery codes made when two-step verification
// was turned on, while they wait to be shown (Snapshot.TwoStep is
// TwoStepShowingCodes), else nil.
func (a *App) RecoveryCodes() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.snap.TwoStep != TwoStepShowingCodes {
		return nil
	}
	return slices.Clone(a.recoveryCodes)
}

// EndTwoStep forgets the setup under way (cancelled) or the recovery codes
// (shown and kept by the person): Snapshot.TwoStep goes back to
// TwoStepIdle.
func (a *App) EndTwoStep() {
	a.update(func(s *Snapshot) {
		a.dropTwoStep(s)
		if s.Pending != nil && (s.Pending.Kind == KindSetupTwoStep || s.Pending.Kind == KindEnableTwoStep) {
			s.Pending = nil
		}
	})
}

// dropTwoStep forgets the two-step secret and codes. Call with mu held
// (inside update).
func (a *App) dropTwoStep(s *Snapshot) {
	a.totpSetup, a.recoveryCodes = api.TOTPSetupResponse{}, nil
	s.TwoStep = TwoStepIdle
}

// currentLocked is current for callers that hold mu.
func (a *App) currentLocked(gen int) bool { return gen == a.gen }

// waitForPassword ends the running action waiting for the password: p
// says what waits, and resume is what Reauthenticate runs once the
// password is confirmed.
func (a *App) waitForPassword(p Pending, resume func(ctx context.Context) error) {
	p.resume = resume
	a.finish(func(s *Snapshot) { s.Pending = &p })
}

// TurnOffTwoStep turns two-step verification off. The server wants a fresh
// password proof: ErrReauthRequired with Pending set, finished by
// Reauthenticate.
func (a *App) TurnOffTwoStep(ctx context.Context) error {
	gen := a.generation()
	a.beginTask(TaskTwoStep, "Turning off two-step verification…")
	err := a.api.TOTPDisable(ctx)
	if errors.Is(err, client.ErrReauthRequired) {
		a.waitForPassword(Pending{Kind: KindDisableTwoStep, Action: "turn off two-step verification"}, a.TurnOffTwoStep)
		return ErrReauthRequired
	}
	if err != nil {
		return a.callFailed(gen, err)
	}
	a.update(func(s *Snapshot) { s.RecoveryCodesLeft, s.RecoveryCodesKnown = 0, true })
	a.setMFA(false)
	return nil
}

func (a *App) setMFA(on bool) {
	a.finish(func(s *Snapshot) {
		s.Pending = nil
		if s.Account != nil {
			acct := *s.Account
			acct.MFAEnabled = on
			s.Account = &acct
		}
	})
}
