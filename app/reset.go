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
	// LocalAccountsDeleted says that this device's own server was deleted,
	// with every account it kept (Config.DeleteLocalAccounts).
	LocalAccountsDeleted bool
}

// ClearAppData returns the app to first run: it ends this install's
// sessions and saved logins on the server when it can, then deletes every
// keyring item, saved account, preference and cached file the app wrote,
// and last this device's own server with its accounts, when there is one
// (Config.DeleteLocalAccounts).
// Offline it still wipes everything here and reports what could not be
// ended on the server.
func (a *App) ClearAppData(ctx context.Context) (ResetReport, error) {
	rep := a.endOnServer(ctx, true)
	return a.wipe(rep)
}

// endOnServer ends, on this core's server, what this install holds there:
// the signed-in session and every session and saved login kept in the
// secret store for that server (Config.Server). Offline, it reports what
// could not be ended. resetting moves the state machine to
// StateResetting (ClearAppData); without, the core is left signed out
// (Accounts ending its other accounts' servers before the wipe).
func (a *App) endOnServer(ctx context.Context, resetting bool) ResetReport {
	var rep ResetReport
	snap := a.Snapshot()
	a.detach()
	a.update(func(s *Snapshot) {
		if resetting {
			a.transition(s, EvResetStarted)
		}
		s.Busy, s.BusyLabel, s.Err = true, "Clearing app data…", ""
		// Nothing may be stored from here on: ending other stored sessions
		// rotates their tokens, which must not land under this account.
		s.Account, s.Session, s.Remember = nil, nil, false
	})

	// This install's sessions are bound to its proof key: it signs the
	// log outs (a core opened for this alone has not loaded it yet).
	_ = a.useProofKey()

	// 1. The signed-in session.
	if snap.State == StateSignedIn && snap.Account != nil {
		if _, err := a.api.Logout(ctx, false); err == nil || sessionEnded(err) {
			if err == nil {
				rep.SessionsEnded++
			}
		} else {
			rep.NotEnded = append(rep.NotEnded, "This device's session for "+snap.Account.Username+" ("+Describe(err)+")")
		}
	}
	a.api.ClearTokens()

	// 2. Other remembered sessions and saved logins in the keyring, of
	// this server.
	var keys []string
	if a.cfg.Secrets != nil {
		var err error
		if keys, err = a.cfg.Secrets.Keys(); err != nil {
			rep.NotEnded = append(rep.NotEnded, "Items in the keyring could not be listed ("+err.Error()+")")
		}
	}
	saved := a.savedAccounts()
	nameOf := func(accountID string) string {
		if sa, ok := a.findSaved(saved, accountID); ok {
			return sa.Username
		}
		if snap.Account != nil && snap.Account.ID == accountID {
			return snap.Account.Username
		}
		return "another account"
	}
	for _, k := range keys {
		prefix, scoped, ok := cutSecretKey(k)
		if !ok {
			continue
		}
		accountID, server := splitScoped(scoped)
		if server != a.cfg.Server {
			continue // another server's: its own core ends it (Accounts)
		}
		val, err := a.cfg.Secrets.Get(k)
		if err != nil {
			continue
		}
		switch prefix {
		case secretRememberedPrefix:
			if err := a.api.ForgetRemembered(ctx, val); err != nil {
				rep.NotEnded = append(rep.NotEnded, "The saved login for "+nameOf(accountID)+" ("+Describe(err)+")")
			} else {
				rep.SavedLoginsForgotten++
			}
		case secretRefreshPrefix:
			if snap.Account != nil && accountID == snap.Account.ID && snap.State == StateSignedIn {
				continue // ended in step 1
			}
			if err := a.endStoredSession(ctx, val); err != nil {
				rep.NotEnded = append(rep.NotEnded, "A remembered session of "+nameOf(accountID)+" ("+Describe(err)+")")
			} else {
				rep.SessionsEnded++
			}
		}
	}
	if !resetting {
		a.finish(func(s *Snapshot) { a.transition(s, EvSignedOut) })
	}
	return rep
}

// cutSecretKey splits a secret-store key of an account's token into its
// prefix and scoped account id; ok is false for any other key.
func cutSecretKey(k string) (prefix, scoped string, ok bool) {
	for _, p := range []string{secretRememberedPrefix, secretRefreshPrefix} {
		if rest, found := strings.CutPrefix(k, p); found {
			return p, rest, true
		}
	}
	return "", "", false
}

// wipe is ClearAppData's second half: it deletes everything this install
// keeps here, whatever the server, and reports it with rep (what
// endOnServer did).
func (a *App) wipe(rep ResetReport) (ResetReport, error) {
	// 3. Everything local, this install's keys included (the install key,
	// and the proof key its sessions were bound to): from now on it is a
	// new install to the server.
	var wipeErr error
	if a.cfg.Secrets != nil {
		keys, _ := a.cfg.Secrets.Keys() // unlisted: counted as none
		if err := a.cfg.Secrets.DeleteAll(); err != nil {
			wipeErr = errors.Join(wipeErr, err)
		} else {
			rep.SecretsRemoved = len(keys)
		}
	}
	a.forgetInstallKey()
	a.forgetProofKey()
	for _, k := range append([]string{PrefSavedAccounts, a.resumePref(), PrefLastUsername}, a.cfg.ClearPrefKeys...) {
		a.cfg.Prefs.RemoveValue(k)
	}
	if a.cfg.CacheDir != "" {
		if err := os.RemoveAll(a.cfg.CacheDir); err != nil {
			wipeErr = errors.Join(wipeErr, err)
		}
	}
	// 4. This device's own server, with its accounts: it kept the
	// account for this device only, so the promise "as on the first day"
	// includes it.
	if a.cfg.DeleteLocalAccounts != nil {
		deleted, err := a.cfg.DeleteLocalAccounts()
		rep.LocalAccountsDeleted = deleted
		if err != nil {
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
		if sessionEnded(err) {
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
