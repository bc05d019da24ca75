package app

import (
	"context"
	"errors"
	"os"
	"strings"

	"sessionguard/api"
	"sessionguard/client"
)

// ResetReport says what "clear app data" did.
type ResetReport struct {
	// SessionsEnded counts sessions of this install ended on the server.
	SessionsEnded int
	// SavedLoginsForgotten counts saved logins the server forgot.
	SavedLoginsForgotten int
	// SecretsRemoved counts keyring items deleted.
	SecretsRemoved int
	// NotEnded lists what could not be ended on the server, as sentences
	// (e.g. offline); each still expires on its own.
	NotEnded []string
}

// ClearAppData returns the app to first run: it ends this install's
// sessions and saved logins on the server when it can, then deletes every
// keyring item, saved account, preference and cached file the app wrote.
// Offline it still wipes everything here and reports what could not be
// ended on the server.
func (a *App) ClearAppData(ctx context.Context) (ResetReport, error) {
	var rep ResetReport
	snap := a.Snapshot()
	a.detach()
	a.update(func(s *Snapshot) {
		a.transition(s, EvResetStarted)
		s.Busy, s.BusyLabel, s.Err = true, "Clearing app data…", ""
		// Nothing may be stored from here on: ending other stored sessions
		// rotates their tokens, which must not land under this account.
		s.Account, s.Session, s.Remember = nil, nil, false
	})

	// 1. The signed-in session.
	if snap.State == StateSignedIn && snap.Account != nil {
		if _, err := a.api.Logout(ctx, false); err == nil || sessionGone(err) {
			if err == nil {
				rep.SessionsEnded++
			}
		} else {
			rep.NotEnded = append(rep.NotEnded, "This device's session for "+snap.Account.Username+" ("+Describe(err)+")")
		}
	}
	a.api.ClearTokens()

	// 2. Other remembered sessions and saved logins in the keyring.
	var keys []string
	if a.cfg.Secrets != nil {
		var err error
		if keys, err = a.cfg.Secrets.Keys(); err != nil {
			rep.NotEnded = append(rep.NotEnded, "Items in the keyring could not be listed ("+err.Error()+")")
		}
	}
	saved := a.savedAccounts()
	nameOf := func(accountID string) string {
		if sa, ok := findSaved(saved, accountID); ok {
			return sa.Username
		}
		if snap.Account != nil && snap.Account.ID == accountID {
			return snap.Account.Username
		}
		return "another account"
	}
	for _, k := range keys {
		val, err := a.cfg.Secrets.Get(k)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(k, secretRememberedPrefix):
			who := nameOf(strings.TrimPrefix(k, secretRememberedPrefix))
			if err := a.api.ForgetRemembered(ctx, val); err != nil {
				rep.NotEnded = append(rep.NotEnded, "The saved login for "+who+" ("+Describe(err)+")")
			} else {
				rep.SavedLoginsForgotten++
			}
		case strings.HasPrefix(k, secretRefreshPrefix):
			if snap.Account != nil && k == refreshKey(snap.Account.ID) && snap.State == StateSignedIn {
				continue // ended in step 1
			}
			who := nameOf(strings.TrimPrefix(k, secretRefreshPrefix))
			if err := a.endStoredSession(ctx, val); err != nil {
				rep.NotEnded = append(rep.NotEnded, "A remembered session of "+who+" ("+Describe(err)+")")
			} else {
				rep.SessionsEnded++
			}
		}
	}

	// 3. Everything local, this install's key included: from now on it
	// is a new install to the server.
	var wipeErr error
	if a.cfg.Secrets != nil {
		if err := a.cfg.Secrets.DeleteAll(); err != nil {
			wipeErr = errors.Join(wipeErr, err)
		} else {
			rep.SecretsRemoved = len(keys)
		}
	}
	a.forgetInstallKey()
	for _, k := range append([]string{PrefSavedAccounts, PrefResumeAccount, PrefLastUsername}, a.cfg.ClearPrefKeys...) {
		a.cfg.Prefs.RemoveValue(k)
	}
	if a.cfg.CacheDir != "" {
		if err := os.RemoveAll(a.cfg.CacheDir); err != nil {
			wipeErr = errors.Join(wipeErr, err)
		}
	}
	a.update(func(s *Snapshot) {
		keyring := s.KeyringProblem
		a.dropTwoStep(s)
		*s = Snapshot{State: s.State, KeyringProblem: keyring}
		a.transition(s, EvResetDone)
		if wipeErr != nil {
			s.Err = "Some app data could not be removed: " + wipeErr.Error()
		}
	})
	return rep, wipeErr
}

// endStoredSession logs out a session known only by its stored refresh token.
func (a *App) endStoredSession(ctx context.Context, refresh string) error {
	a.api.SetTokens(api.Tokens{RefreshToken: refresh})
	defer a.api.ClearTokens()
	if _, err := a.api.Refresh(ctx); err != nil {
		if sessionGone(err) {
			return nil // already over
		}
		return err
	}
	_, err := a.api.Logout(ctx, false)
	if errors.Is(err, client.ErrSessionRevoked) {
		return nil
	}
	return err
}
