package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	"sessionguard/api"
	"sessionguard/server/passwd"
	"sessionguard/server/store"
)

// prefixMFA marks the token of a sign-in waiting for its second factor.
const prefixMFA = "sgf_"

func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) error {
	var req api.ChangePasswordRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	switch {
	case req.CurrentPassword == "":
		return errInvalid("current_password", "Enter your current password (current_password).")
	case len(req.CurrentPassword) > maxPassword:
		return errInvalid("current_password", "The current password (current_password) is too long.")
	case req.NewPassword == "":
		return errInvalid("new_password", "Choose a new password (new_password).")
	case len(req.NewPassword) > maxPassword:
		return errInvalid("new_password", "The new password (new_password) is too long.")
	case req.NewPassword == req.CurrentPassword:
		return errInvalid("new_password", "The new password (new_password) must differ from the current one.")
	}
	c := callerFrom(r.Context())
	ctx, self, now := r.Context(), c.session, s.now()
	if err := s.stepUp(self, now); err != nil {
		return err
	}
	acct, err := s.store.Account(ctx, self.AccountID)
	if err != nil {
		return storeErr(err)
	}
	if err := passwd.Check(req.NewPassword, acct.Username); err != nil {
		var pe *passwd.PolicyError
		if errors.As(err, &pe) {
			return &apiError{status: http.StatusBadRequest, code: api.CodeWeakPassword,
				msg: pe.Reason, details: map[string]any{api.DetailField: "new_password"}}
		}
		return err
	}
	done, err := s.reauthTurn(self.ID)
	if err != nil {
		return err
	}
	failed := false
	defer func() { done(failed) }()
	ok, err := s.verify(ctx, req.CurrentPassword, acct.PasswordHash)
	if err != nil {
		return err
	}
	ev := api.AuditEvent{IP: ipString(c.ip), Location: s.locate(c.ip), SessionID: self.ID, DeviceName: self.Device.Name}
	if !ok {
		failed = true
		ev.Type, ev.Detail = api.AuditReauthFailed, "Wrong current password when changing the password"
		return s.reauthFailed(ctx, c, ev, "Your current password is not right.", now)
	}
	hash, err := s.hash(ctx, req.NewPassword)
	if err != nil {
		return err
	}
	// The change, the sessions and saved logins it ends and its event go
	// in one store write.
	change := store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash, NewHash: hash, KeepSessionID: self.ID,
		Audit: func(ended []store.Session, forgotten int) api.AuditEvent {
			e := ev
			e.Type, e.Detail = api.AuditPasswordChanged, passwordChangedDetail(req.LogOutOtherDevices, len(ended), forgotten)
			return s.stamp(e)
		}}
	if req.LogOutOtherDevices {
		change.Revoke = &store.Revocation{At: now, Reason: api.ReasonPasswordChanged, BySessionID: self.ID, ByDeviceName: self.Device.Name}
	}
	ended, _, err := s.store.ChangePassword(ctx, change)
	if errors.Is(err, store.ErrConflict) {
		// Another change won between our read and our write: the
		// password this request proved is no longer the account's.
		return errInvalidCredentials("Your password was just changed elsewhere. Sign in again with the new one.")
	}
	if err != nil {
		return storeErr(err)
	}
	// The other devices learn of the change first; those logged out then
	// get session.revoked, which closes their streams.
	s.publish(Event{AccountID: self.AccountID, ExceptSessionID: self.ID, Name: api.EventPasswordChanged,
		Data: api.PasswordChangedEvent{At: now, ByDeviceName: self.Device.Name}})
	s.sessionsEnded(self.AccountID, ended)
	writeJSON(w, http.StatusOK, api.RevokedCount{Revoked: len(ended)})
	return nil
}

func passwordChangedDetail(logOut bool, ended, forgotten int) string {
	d := "Password changed"
	if logOut {
		d += fmt.Sprintf("; logged out of %s", plural(ended, "other device"))
	} else {
		d += "; other devices stay signed in"
	}
	if forgotten > 0 {
		d += fmt.Sprintf("; removed saved login info on %s", plural(forgotten, "device"))
	}
	return d
}

func errMFAAlreadyOn() *apiError {
	return errInvalid("", "Two-step verification is already on. Turn it off first to set it up again.")
}

// handleTOTPSetup hands out a new secret. Like turning two-step off, it
// needs a recent password proof: otherwise whoever holds an unlocked
// device could turn two-step verification on with their own authenticator
// and lock the owner out of every other device.
func (s *Server) handleTOTPSetup(w http.ResponseWriter, r *http.Request) error {
	self := callerFrom(r.Context()).session
	ctx := r.Context()
	if err := s.stepUp(self, s.now()); err != nil {
		return err
	}
	acct, err := s.store.Account(ctx, self.AccountID)
	if err != nil {
		return storeErr(err)
	}
	if acct.MFAEnabled {
		return errMFAAlreadyOn()
	}
	key, err := newTOTPKey(acct.Username)
	if err != nil {
		return storeErr(err)
	}
	if err := s.store.SetTOTPPending(ctx, acct.ID, s.sealer.seal(key.Secret())); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errMFAAlreadyOn()
		}
		return storeErr(err)
	}
	writeJSON(w, http.StatusOK, api.TOTPSetupResponse{Secret: key.Secret(), OTPAuthURI: key.URL()})
	return nil
}

func (s *Server) handleTOTPEnable(w http.ResponseWriter, r *http.Request) error {
	var req api.TOTPEnableRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Code == "" {
		return errInvalid("code", "Enter the 6-digit code (code) from your authenticator app.")
	}
	c := callerFrom(r.Context())
	ctx, self, now := r.Context(), c.session, s.now()
	if err := s.stepUp(self, now); err != nil {
		return err
	}
	acct, err := s.store.Account(ctx, self.AccountID)
	if err != nil {
		return storeErr(err)
	}
	if acct.MFAEnabled {
		return errMFAAlreadyOn()
	}
	if acct.TOTPPendingSecret == "" {
		return errInvalid("", "Set up two-step verification first (POST /v1/mfa/totp/setup).")
	}
	pending, err := s.sealer.open(acct.TOTPPendingSecret)
	if err != nil {
		return storeErr(err)
	}
	steps := totpMatches(pending, compactCode(req.Code), now)
	if len(steps) == 0 {
		return errInvalidCredentials("That code is not right. Check the time on your phone and enter the current code.")
	}
	codes, hashes := newRecoveryCodes(acct.ID)
	secret := acct.TOTPPendingSecret
	if !sealed(secret) { // set up before sealing existed
		secret = s.sealer.seal(pending)
		if err := s.store.SetTOTPPending(ctx, acct.ID, secret); err != nil {
			return storeErr(err)
		}
	}
	forgotten, err := s.store.EnableTOTP(ctx, acct.ID, secret, steps[len(steps)-1], hashes)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errInvalid("", "Two-step verification setup changed meanwhile. Start the setup again.")
		}
		return storeErr(err)
	}
	detail := fmt.Sprintf("Two-step verification turned on; %s issued", plural(len(codes), "recovery code"))
	if forgotten > 0 {
		detail += fmt.Sprintf("; removed saved login info on %s", plural(forgotten, "device"))
	}
	if err := s.audit(ctx, acct.ID, api.AuditEvent{Type: api.AuditMFAEnabled, IP: ipString(c.ip), Location: s.locate(c.ip),
		SessionID: self.ID, DeviceName: self.Device.Name, Detail: detail}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.TOTPEnableResponse{RecoveryCodes: codes})
	return nil
}

func (s *Server) handleTOTPDisable(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	ctx, self, now := r.Context(), c.session, s.now()
	if err := s.stepUp(self, now); err != nil {
		return err
	}
	wasOn, err := s.store.DisableTOTP(ctx, self.AccountID)
	if err != nil {
		return storeErr(err)
	}
	if wasOn {
		if err := s.audit(ctx, self.AccountID, api.AuditEvent{Type: api.AuditMFADisabled, IP: ipString(c.ip),
			Location: s.locate(c.ip), SessionID: self.ID, DeviceName: self.Device.Name,
			Detail: "Two-step verification turned off; recovery codes deleted"}); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// startMFA answers a right password on an account with two-step
// verification on: a short-lived token for POST /v1/login/mfa, bound to
// the account and to the request's device and "remember me".
func (s *Server) startMFA(w http.ResponseWriter, r *http.Request, acct store.Account, req api.LoginRequest, ih []byte, now time.Time) error {
	tok := newToken(prefixMFA)
	t := store.MFAToken{Hash: hashToken(tok), AccountID: acct.ID, Device: req.Device, Remember: req.Remember,
		InstallHash: ih, CreatedAt: now, ExpiresAt: now.Add(s.cfg.MFATokenTTL)}
	if err := s.store.CreateMFAToken(r.Context(), t); err != nil {
		return storeErr(err)
	}
	s.metrics.logins.WithLabelValues("mfa_required").Inc()
	writeJSON(w, http.StatusOK, api.Login{MFARequired: true, MFAToken: tok})
	return nil
}

func (s *Server) handleMFALogin(w http.ResponseWriter, r *http.Request) error {
	var req api.MFALoginRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.MFAToken == "" {
		return errInvalid("mfa_token", "mfa_token is required: the token POST /v1/login returned.")
	}
	if req.Code == "" {
		return errInvalid("code", "Enter the code (code) from your authenticator app, or a recovery code.")
	}
	if err := checkInstallKey(req.InstallKey); err != nil {
		return err
	}
	ctx, ip, now := r.Context(), s.clientIP(r), s.now()
	const startOver = "This sign-in has expired. Enter your password again."
	h := hashToken(req.MFAToken)
	pending, err := s.store.MFAToken(ctx, h, now)
	if errors.Is(err, store.ErrNotFound) {
		return s.failUnknownCredential(ip, startOver)
	}
	if err != nil {
		return storeErr(err)
	}
	if req.InstallKey != "" && subtle.ConstantTimeCompare(installHash(req.InstallKey), pending.InstallHash) != 1 {
		return s.failUnknownCredential(ip, startOver) // not the install that gave the password
	}
	acct, err := s.store.Account(ctx, pending.AccountID)
	if err != nil {
		return storeErr(err)
	}
	if !acct.MFAEnabled { // turned off since the password step
		return errInvalidCredentials(startOver)
	}
	known, err := s.knownInstall(ctx, acct.ID, pending.InstallHash)
	if err != nil {
		return err
	}
	release, err := s.reserve(s.signInBuckets(acct.Username, ip, acct.ID, pending.InstallHash, known))
	if err != nil {
		return err
	}
	failed := false
	defer func() { release(failed) }()
	factor, err := s.checkSecondFactor(ctx, acct, req.Code, now)
	if err != nil {
		return err
	}
	if factor == factorNone {
		failed = true
		s.metrics.logins.WithLabelValues("mfa_failed").Inc()
		if err := s.audit(ctx, acct.ID, api.AuditEvent{Type: api.AuditLoginMFAFailed, IP: ipString(ip),
			Location: s.locate(ip), DeviceName: pending.Device.Name, Detail: "Wrong two-step code"}); err != nil {
			return err
		}
		return errInvalidCredentials("That code is not right.")
	}
	// Spend the token; of two requests racing with good codes only one
	// signs in.
	if _, err := s.store.ConsumeMFAToken(ctx, h, now); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errInvalidCredentials(startOver)
		}
		return storeErr(err)
	}
	// The events are written with the session (startSession sets their
	// session and location): the recovery code's use, then the sign-in.
	ev := api.AuditEvent{IP: ipString(ip), DeviceName: pending.Device.Name}
	var events []api.AuditEvent
	detail := "Password and two-step code"
	if factor == factorRecovery {
		detail = "Password and recovery code"
		used, err := s.recoveryCodeUsedEvent(ctx, acct.ID, ev, "to sign in")
		if err != nil {
			return err
		}
		events = append(events, used)
	}
	if pending.Remember {
		detail += "; stays signed in"
	}
	ev.Type, ev.Detail = api.AuditLoginSucceeded, detail
	login, err := s.startSession(ctx, acct, pending.Device, ip, pending.InstallHash, pending.Remember, now, now, append(events, ev)...)
	if err != nil {
		return err
	}
	s.metrics.logins.WithLabelValues("succeeded").Inc()
	s.announceSession(acct.ID, *login.Session)
	writeJSON(w, http.StatusOK, login)
	return nil
}

// auditRecoveryCodeUsed records the use of a recovery code, saying how
// many are left.
func (s *Server) auditRecoveryCodeUsed(ctx context.Context, accountID string, ev api.AuditEvent, purpose string) error {
	used, err := s.recoveryCodeUsedEvent(ctx, accountID, ev, purpose)
	if err != nil {
		return err
	}
	return s.audit(ctx, accountID, used)
}

// recoveryCodeUsedEvent is ev as the event of a recovery code's use,
// saying how many are left.
func (s *Server) recoveryCodeUsedEvent(ctx context.Context, accountID string, ev api.AuditEvent, purpose string) (api.AuditEvent, error) {
	left, err := s.store.RecoveryCodesLeft(ctx, accountID)
	if err != nil {
		return api.AuditEvent{}, storeErr(err)
	}
	ev.Type = api.AuditRecoveryCodeUsed
	ev.Detail = fmt.Sprintf("Recovery code used %s; %s left", purpose, plural(left, "code"))
	return ev, nil
}
