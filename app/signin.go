package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"sessionguard/api"
	"sessionguard/client"
)

// Start loads the saved accounts and, when a "Remember me" sign-in is
// stored, signs in with it silently. Without one (or when it no longer
// works) the app goes to the sign-in screen.
func (a *App) Start(ctx context.Context) error {
	defer a.sendReceipts() // left from an earlier run: after any wipe below
	saved := a.savedAccounts()
	a.update(func(s *Snapshot) {
		s.SavedAccounts = saved
		s.PrefillUsername = a.cfg.Prefs.String(PrefLastUsername)
	})
	acctID := a.cfg.Prefs.String(a.resumePref())
	if acctID == "" || a.cfg.Secrets == nil {
		a.update(func(s *Snapshot) { a.transition(s, EvNoSession) })
		return nil
	}
	tok, err := a.cfg.Secrets.Get(a.refreshKey(acctID))
	if err == nil {
		// The session may be bound to this install's proof key: without
		// it, the server would refuse the token as copied off the device
		// (and tell the account so), so a key that cannot be read stops
		// here, as a token that cannot be read does. A key that is not
		// there (the keyring was wiped) is made anew, and the server says
		// whether the session needed the old one.
		err = a.useProofKey()
	}
	if err != nil {
		a.cfg.Prefs.RemoveValue(a.resumePref())
		a.update(func(s *Snapshot) {
			a.transition(s, EvNoSession)
			if !a.cfg.IsNotFound(err) {
				s.Err = "Couldn't read your saved sign-in from the keyring (" + err.Error() + "). Sign in again."
			}
		})
		return nil
	}
	a.begin("Signing in…")
	a.mu.Lock()
	a.gen++
	gen := a.gen
	a.mu.Unlock()
	a.api.SetTokens(api.Tokens{RefreshToken: tok}) // the access token comes from the first refresh
	a.update(func(s *Snapshot) { s.Remember = true; s.Account = &api.Account{ID: acctID} })
	me, err := a.resume(ctx)
	if err == nil {
		a.establish(gen, me.Account, me.Session, "", true)
		a.requestRefresh()
		return nil
	}
	switch {
	case errors.Is(err, client.ErrSessionRevoked):
		a.endedRemotely(gen, err)
		return nil
	case sessionGone(err):
		// Expired, or a token the server does not know (damaged in the
		// keyring), or one bound to a key the keyring lost: start over
		// with the password.
		// The reason is set before the state changes, so that whoever
		// sees the sign-out (Accounts) sees why.
		msg := "Your saved sign-in is no longer valid. Sign in again."
		if keyLost(err) {
			msg = keyLostMessage
		}
		a.update(func(s *Snapshot) { s.Remember, s.Err = false, msg })
		a.signOutLocal(api.Account{ID: acctID, Username: a.cfg.Prefs.String(PrefLastUsername)}, nil)
		return nil
	case errors.Is(err, client.ErrOffline):
		if c, ok := a.readCache(acctID); ok {
			// Signed in as far as this device knows; shown offline with the
			// last known list until the server answers again.
			a.establish(gen, c.Account, c.Session, "", true)
			link, updated := a.linkFor(err), a.cacheTime()
			a.update(func(s *Snapshot) {
				s.Devices, s.DevicesStale, s.Offline, s.Link = c.Devices, true, true, link
				s.LastUpdated = updated
			})
			return nil
		}
	}
	// Keep the stored token: the server may be back at the next start.
	a.api.ClearTokens()
	a.finish(func(s *Snapshot) {
		s.Account, s.Remember = nil, false
		a.transition(s, EvSignInFailed)
		a.setError(s, err)
	})
	return err
}

// cacheTime is when the cached device list was written (zero: none).
func (a *App) cacheTime() time.Time {
	if a.cfg.CacheDir == "" {
		return time.Time{}
	}
	fi, err := os.Stat(filepath.Join(a.cfg.CacheDir, cacheFile))
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// resume turns a stored refresh token into a live session.
func (a *App) resume(ctx context.Context) (api.MeResponse, error) {
	if _, err := a.api.Refresh(ctx); err != nil {
		return api.MeResponse{}, err
	}
	return a.api.Me(ctx)
}

// onRotate keeps the stored refresh token current. The client calls it
// before it uses a rotated pair, so the keyring never holds only a dead one.
func (a *App) onRotate(t api.Tokens) {
	a.mu.Lock()
	remember, acct := a.snap.Remember, a.snap.Account
	a.mu.Unlock()
	if !remember || acct == nil || a.cfg.Secrets == nil {
		return
	}
	if err := a.cfg.Secrets.Set(a.refreshKey(acct.ID), t.RefreshToken); err != nil {
		// The keyring broke under us: stay signed in for now, in memory.
		a.cfg.Prefs.RemoveValue(a.resumePref())
		a.update(func(s *Snapshot) { s.Remember, s.Err = false, keyringSaveProblem(err) })
	}
}

// SignUp creates an account and signs in to it.
func (a *App) SignUp(ctx context.Context, username, password, confirm string, remember bool) error {
	username = strings.TrimSpace(username)
	switch {
	case username == "":
		return a.fail(&FieldError{"username", "Choose a username."})
	case tooShort(password):
		return a.fail(&FieldError{"password", tooShortMessage})
	case password != confirm:
		return a.fail(&FieldError{"confirm", "The passwords don't match."})
	}
	if err := a.admit(username); err != nil {
		return err
	}
	a.begin("Creating your account…")
	if _, err := a.api.CreateAccount(ctx, api.CreateAccountRequest{Username: username, Password: password}); err != nil {
		return a.fail(err)
	}
	return a.SignIn(ctx, username, password, remember)
}

// tooShortMessage is what the person reads about a new password (sign-up,
// change) shorter than the server's policy allows.
var tooShortMessage = fmt.Sprintf("Use at least %d characters.", api.PasswordMinLen)

// tooShort reports whether a new password is shorter than the server's
// policy allows (api.PasswordMinLen characters), so that it is refused
// before it is sent. The server checks the rest of its policy itself.
func tooShort(password string) bool {
	return utf8.RuneCountInString(password) < api.PasswordMinLen
}

// SignIn signs in with a password. With remember (and a working keyring)
// the sign-in survives restarts; without, it ends when the app quits.
func (a *App) SignIn(ctx context.Context, username, password string, remember bool) error {
	username = strings.TrimSpace(username)
	switch {
	case username == "":
		return a.fail(&FieldError{"username", "Enter your username."})
	case password == "":
		return a.fail(&FieldError{"password", "Enter your password."})
	}
	if err := a.admit(username); err != nil {
		return err
	}
	remember = remember && a.cfg.Secrets != nil
	a.begin("Signing in…")
	a.update(func(s *Snapshot) { a.transition(s, EvSignInStarted); s.PrefillUsername = username })
	l, err := a.api.Login(ctx, api.LoginRequest{Username: username, Password: password, Remember: remember,
		Device: a.cfg.Device(), InstallKey: a.signInKey()})
	if err != nil {
		return a.signInFailed(err)
	}
	if l.MFARequired {
		a.mu.Lock()
		a.mfaToken, a.mfaRemember = l.MFAToken, remember
		a.mu.Unlock()
		a.finish(func(s *Snapshot) { a.transition(s, EvSecondFactorRequired) })
		return nil
	}
	if l.ApprovalRequired && l.Approval != nil {
		a.awaitApproval(l, remember)
		return nil
	}
	a.signedIn(l, remember)
	return nil
}

func (a *App) signInFailed(err error) error {
	a.finish(func(s *Snapshot) {
		a.transition(s, EvSignInFailed)
		a.setError(s, err)
		if errors.Is(err, client.ErrInvalidCredentials) {
			s.FieldErrors = map[string]string{"password": Describe(err)}
			s.Err = ""
		}
	})
	return err
}

// admit asks Config.Admit whether username may sign in here; a refusal is
// the username's problem.
func (a *App) admit(username string) error {
	if a.cfg.Admit == nil {
		return nil
	}
	if err := a.cfg.Admit(username); err != nil {
		return a.fail(&FieldError{"username", err.Error()})
	}
	return nil
}

// SubmitSecondFactor finishes a sign-in with a two-step code or a
// recovery code.
func (a *App) SubmitSecondFactor(ctx context.Context, code string) error {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	a.mu.Lock()
	token, remember, state := a.mfaToken, a.mfaRemember, a.snap.State
	a.mu.Unlock()
	if state != StateNeedsSecondFactor || token == "" {
		return a.fail(ErrNotSignedIn)
	}
	if code == "" {
		return a.fail(&FieldError{"code", "Enter the code from your authenticator app."})
	}
	a.begin("Checking the code…")
	a.update(func(s *Snapshot) { a.transition(s, EvSignInStarted) })
	l, err := a.api.LoginMFA(ctx, api.MFALoginRequest{MFAToken: token, Code: code, InstallKey: a.signInKey()})
	switch {
	case errors.Is(err, client.ErrInvalidCredentials):
		a.finish(func(s *Snapshot) {
			a.transition(s, EvSecondFactorRequired)
			s.FieldErrors = map[string]string{"code": wrongCode}
		})
		return err
	case err != nil:
		a.mu.Lock()
		a.mfaToken = ""
		a.mu.Unlock()
		return a.signInFailed(err)
	}
	a.mu.Lock()
	a.mfaToken = ""
	a.mu.Unlock()
	if l.ApprovalRequired && l.Approval != nil {
		a.awaitApproval(l, remember)
		return nil
	}
	a.signedIn(l, remember)
	return nil
}

// CancelSecondFactor abandons a sign-in waiting for a code.
func (a *App) CancelSecondFactor() {
	a.mu.Lock()
	a.mfaToken = ""
	a.mu.Unlock()
	a.update(func(s *Snapshot) { a.transition(s, EvSecondFactorCancelled) })
}

// ContinueAs signs in with an account's saved login info, no password.
// The credential is single use: the account leaves the saved list, and
// comes back at the next log out with "Remember login info".
func (a *App) ContinueAs(ctx context.Context, accountID string, remember bool) error {
	sa, ok := a.findSaved(a.savedAccounts(), accountID)
	if !ok || a.cfg.Secrets == nil {
		return a.fail(&FieldError{"username", "That saved account is no longer on this device."})
	}
	cred, err := a.cfg.Secrets.Get(a.rememberedKey(accountID))
	if err != nil {
		list := a.dropSavedAccount(accountID)
		a.update(func(s *Snapshot) { s.SavedAccounts, s.PrefillUsername = list, sa.Username })
		return a.fail(errors.New("the saved login for " + sa.Username + " is gone from this device; enter your password"))
	}
	if err := a.admit(sa.Username); err != nil {
		return err
	}
	remember = remember && a.cfg.Secrets != nil
	a.begin("Signing in as " + sa.Username + "…")
	a.update(func(s *Snapshot) { a.transition(s, EvSignInStarted); s.PrefillUsername = sa.Username })
	l, err := a.api.LoginRemembered(ctx, api.RememberedLoginRequest{Credential: cred, Device: a.cfg.Device(),
		Remember: remember, InstallKey: a.signInKey()})
	if err != nil {
		if errors.Is(err, client.ErrInvalidCredentials) || errors.Is(err, client.ErrInvalidToken) {
			// Forgotten, or ended by a remote log out: it will never work again.
			list := a.dropSavedAccount(accountID)
			a.finish(func(s *Snapshot) {
				s.SavedAccounts = list
				a.transition(s, EvSignInFailed)
				s.Err = "The saved login for " + sa.Username + " no longer works (it was removed, or this device was logged out from another one). Enter your password."
			})
			return err
		}
		return a.signInFailed(err)
	}
	list := a.dropSavedAccount(accountID) // spent
	a.update(func(s *Snapshot) { s.SavedAccounts = list })
	a.signedIn(l, remember)
	return nil
}

// RemoveSavedAccount removes an account's saved login from this device and
// tells the server to forget it. Offline, it is removed here all the same.
func (a *App) RemoveSavedAccount(ctx context.Context, accountID string) error {
	sa, ok := a.findSaved(a.savedAccounts(), accountID)
	if !ok {
		return nil
	}
	var serverErr error
	if a.cfg.Secrets != nil {
		if cred, err := a.cfg.Secrets.Get(a.rememberedKey(accountID)); err == nil {
			a.begin("Removing " + sa.Username + "…")
			serverErr = a.api.ForgetRemembered(ctx, cred)
		}
	}
	list := a.dropSavedAccount(accountID)
	a.finish(func(s *Snapshot) {
		s.SavedAccounts = list
		if serverErr != nil {
			s.Err = "Removed " + sa.Username + " from this device, but the server could not be told (" + Describe(serverErr) + "). The saved login will stop working when it expires."
		}
	})
	return serverErr
}

// signedIn sets up a fresh sign-in.
func (a *App) signedIn(l api.Login, remember bool) {
	a.mu.Lock()
	a.gen++
	gen := a.gen
	a.mu.Unlock()
	a.api.SetTokens(l.Tokens())
	a.establish(gen, *l.Account, *l.Session, l.RefreshToken, remember)
	a.requestRefresh()
}

// establish enters StateSignedIn for an account, storing the refresh token
// when it is to be remembered (refresh empty: it is already stored).
func (a *App) establish(gen int, acct api.Account, sess api.Session, refresh string, remember bool) {
	var problem string
	if remember && refresh != "" {
		if err := a.cfg.Secrets.Set(a.refreshKey(acct.ID), refresh); err != nil {
			remember, problem = false, keyringSaveProblem(err)
		}
	}
	if remember {
		a.cfg.Prefs.SetString(a.resumePref(), acct.ID)
	} else {
		if a.cfg.Prefs.String(a.resumePref()) == acct.ID {
			a.cfg.Prefs.RemoveValue(a.resumePref())
		}
		if a.cfg.Secrets != nil {
			_ = a.cfg.Secrets.Delete(a.refreshKey(acct.ID))
		}
	}
	a.cfg.Prefs.SetString(PrefLastUsername, acct.Username)
	a.startCache()
	sess.Current = true
	a.finish(func(s *Snapshot) {
		s.Account, s.Session, s.Remember = &acct, &sess, remember
		s.Err, s.FieldErrors = problem, nil
		s.Devices, s.DevicesCursor, s.DevicesStale = []api.Session{sess}, "", false
		s.DeviceQuery, s.DeviceCounts, s.SelectedDevices = "", nil, nil
		s.Offline, s.Notice, s.Alert, s.Pending, s.LastRevoke = false, nil, nil, nil, nil
		s.Ended, s.EndedCursor, s.EndedLoaded, s.Settings = nil, "", false, nil
		s.Approval, s.LinkCode, s.ApprovalRequests = nil, nil, nil
		s.LastUpdated, s.RecoveryCodesLeft, s.RecoveryCodesKnown = time.Time{}, 0, false
		a.dropTwoStep(s)
		s.PrefillUsername = acct.Username
		a.transition(s, EvSignedIn)
	})
	a.startEvents(gen)
	a.refreshSettings(gen, true)
}

// LogOut ends this device's session. With rememberLoginInfo the server
// hands back a credential for one-tap sign-in later ("Continue as …").
// If the server cannot be reached the device is signed out anyway and the
// snapshot says the session is still active on the server.
func (a *App) LogOut(ctx context.Context, rememberLoginInfo bool) error {
	_, err := a.logOut(ctx, rememberLoginInfo)
	return err
}

// LogoutOutcome is how one account's log out went (App.LogOut, and each
// account of Accounts.LogOutAll).
type LogoutOutcome struct {
	Username string
	// Server is where the account is (App.Server).
	Server string
	// Remembered says its login info was saved for "Continue as".
	Remembered bool
	// Problem, when set, says what did not work, in a sentence: the
	// server could not be told (the session stays on it until it expires)
	// or the login info could not be saved. The device is logged out all
	// the same.
	Problem string
}

// logOut is LogOut, saying how it went.
func (a *App) logOut(ctx context.Context, rememberLoginInfo bool) (LogoutOutcome, error) {
	snap := a.Snapshot()
	if snap.Account == nil || snap.State != StateSignedIn {
		return LogoutOutcome{}, a.fail(ErrNotSignedIn)
	}
	if rememberLoginInfo && a.cfg.Secrets == nil {
		return LogoutOutcome{}, a.fail(ErrNoSecureStorage)
	}
	acct := *snap.Account
	out := LogoutOutcome{Username: acct.Username, Server: a.cfg.Server}
	a.begin("Logging out…")
	a.mu.Lock()
	a.leaving = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.leaving = false
		a.mu.Unlock()
	}()
	a.detach() // our own session.revoked must not read as a remote log out
	resp, err := a.api.Logout(ctx, rememberLoginInfo)
	if rememberLoginInfo && (errors.Is(err, client.ErrInvalidRequest) || errors.Is(err, client.ErrNotSignedIn)) {
		// The server would not save login info (it wants this session's
		// current refresh token): end the session all the same, rather
		// than leave it signed in on the server.
		_, err = a.api.Logout(ctx, false)
		out.Problem = "Your login info could not be saved on this device; you'll need your password next time."
	}
	if err != nil && !sessionEnded(err) {
		out.Problem = "You are logged out on this device, but the server could not be told (" + Describe(err) +
			"). The session stays in your device list until it expires; log it out from another device."
	}
	list := a.savedAccounts()
	if resp.RememberedCredential != "" {
		if err := a.cfg.Secrets.Set(a.rememberedKey(acct.ID), resp.RememberedCredential); err != nil {
			_ = a.api.ForgetRemembered(ctx, resp.RememberedCredential)
			out.Problem = "Couldn't save your login info to the keyring (" + err.Error() + ")."
		} else {
			sa := SavedAccount{AccountID: acct.ID, Username: acct.Username, SavedAt: a.cfg.Now().UTC()}
			if resp.RememberedExpiresAt != nil {
				sa.ExpiresAt = *resp.RememberedExpiresAt
			}
			list = a.putSavedAccount(sa)
			out.Remembered = true
		}
	}
	// Set before the state changes, so that whoever sees the sign-out
	// (Accounts) sees the problem too; no longer offline in the same
	// change, or the problem would go as an offline error does (settle).
	a.update(func(s *Snapshot) { s.SavedAccounts, s.Offline, s.Err = list, false, out.Problem })
	a.signOutLocal(acct, nil)
	return out, nil
}

// signOutLocal forgets the signed-in session on this device: tokens,
// stored refresh token, event loop. notice, if set, explains why.
func (a *App) signOutLocal(acct api.Account, notice *RemoteLogout) {
	if a.cfg.Secrets != nil {
		_ = a.cfg.Secrets.Delete(a.refreshKey(acct.ID))
	}
	if a.cfg.Prefs.String(a.resumePref()) == acct.ID {
		a.cfg.Prefs.RemoveValue(a.resumePref())
	}
	a.detach()
	a.api.ClearTokens()
	a.finish(func(s *Snapshot) {
		s.Account, s.Session, s.Remember = nil, nil, false
		s.Devices, s.DevicesCursor, s.DevicesStale = nil, "", false
		s.DeviceQuery, s.DeviceCounts, s.SelectedDevices = "", nil, nil
		s.Activity, s.ActivityCursor = nil, ""
		s.Ended, s.EndedCursor, s.EndedLoaded, s.Settings = nil, "", false, nil
		s.Approval, s.LinkCode, s.ApprovalRequests = nil, nil, nil
		s.Pending, s.Alert, s.LastRevoke = nil, nil, nil
		s.Offline, s.Live, s.LastUpdated = false, false, time.Time{}
		s.RecoveryCodesLeft, s.RecoveryCodesKnown = 0, false
		s.PrefillUsername = acct.Username
		s.Notice = notice
		a.dropTwoStep(s)
		a.transition(s, EvSignedOut)
	})
}

// endedRemotely handles this device's session ending on the server:
// revoked from another device, expired, or unknown. The account's stored
// tokens and saved login are wiped, so the password is needed again.
func (a *App) endedRemotely(gen int, err error) {
	a.mu.Lock()
	// While this device logs itself out, a call started before (a reload,
	// a prefetch) is refused for the very session being ended: not a
	// remote log out, and it must not forget the login info just saved.
	current := gen == a.gen && a.snap.Account != nil && !a.leaving
	acct := api.Account{}
	if a.snap.Account != nil {
		acct = *a.snap.Account
	}
	a.mu.Unlock()
	if !current {
		return
	}
	notice := &RemoteLogout{Username: acct.Username, At: a.cfg.Now().UTC(), Reason: api.ReasonExpired}
	var ce *client.Error
	var closureToken string
	if errors.As(err, &ce) && errors.Is(err, client.ErrSessionRevoked) {
		reason, at, by := ce.Revocation()
		notice.Reason, notice.ByDeviceName = reason, by
		if !at.IsZero() {
			notice.At = at
		}
		closureToken, notice.Erased = ce.Closure()
	}
	if notice.Reason == api.ReasonInactive {
		notice.UnusedFor = inactiveRule(a.Snapshot())
	}
	if keyLost(err) {
		notice.Reason = api.ReasonDPoP
	}
	list := a.closeAccount(acct, closureToken, notice.Erased)
	a.signOutLocal(acct, notice)
	a.update(func(s *Snapshot) {
		s.SavedAccounts = list
		if notice.Erased {
			s.PrefillUsername = "" // erased: not even the name stays
		}
	})
	if closureToken != "" {
		a.sendReceipts()
	}
}

// keyLostMessage is what the person reads when their saved sign-in was
// refused at start for want of the key it is bound to.
const keyLostMessage = "Your saved sign-in was bound to a key kept in this device's keyring, and that key is gone " +
	"(the keyring was cleared or reset), so it can't be used any more. Sign in again."

// DismissNotice hides the "logged out remotely" notice.
func (a *App) DismissNotice() { a.update(func(s *Snapshot) { s.Notice = nil }) }

// Close stops background work. A session without "Remember me" is logged
// out on the server, as promised at sign-in.
func (a *App) Close(ctx context.Context) {
	a.detach()
	snap := a.Snapshot()
	if snap.State == StateSignedIn && snap.Account != nil && !snap.Remember {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, _ = a.api.Logout(ctx, false)
		cancel()
		a.signOutLocal(*snap.Account, nil)
	}
	a.wg.Wait()
}

// detach makes the current sign-in's background work stale and stops its
// event loop.
func (a *App) detach() {
	a.mu.Lock()
	a.gen++
	a.endedWanted = false
	a.stopPollLocked()
	stop := a.stopEvents
	a.stopEvents = nil
	a.mu.Unlock()
	if stop != nil {
		stop()
	}
}
