package server

// The account's security settings, each behind step-up: the password
// (POST /v1/password), two-step verification (POST
// /v1/mfa/totp/setup, /enable and /disable) and its recovery codes (POST
// /v1/mfa/recovery-codes; GET, how many are left, needs no step-up).

import (
	"errors"
	"fmt"
	"net/http"

	"sessionguard/api"
	"sessionguard/server/store"
)

func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request, req api.ChangePasswordRequest) error {
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
	c, acct, now, err := s.steppedUp(r)
	if err != nil {
		return err
	}
	ctx, self := r.Context(), c.session
	if err := checkPasswordPolicy(req.NewPassword, acct.Username, "new_password"); err != nil {
		return err
	}
	turn, err := s.reauthCheck(ctx, self.ID, req.CurrentPassword, acct.PasswordHash)
	if err != nil {
		return err
	}
	defer turn.finish()
	if turn.failed {
		return s.reauthFailed(ctx, c, "Wrong current password when changing the password", "Your current password is not right.", now)
	}
	hash, err := s.hash(ctx, req.NewPassword)
	if err != nil {
		return err
	}
	// The change, the sessions and saved logins it ends and its event go
	// in one store write.
	ev := s.eventBy(c, api.AuditPasswordChanged, "")
	mint := newClosureMint()
	change := store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash, NewHash: hash, KeepSessionID: self.ID,
		Closure: mint.fn(),
		Audit: func(ended []store.Session, forgotten int) api.AuditEvent {
			e := ev
			e.Detail = passwordChangedDetail(req.LogOutOtherDevices, len(ended), forgotten)
			return s.stamp(e)
		}}
	if req.LogOutOtherDevices {
		rev := c.revocation(api.ReasonPasswordChanged, now)
		change.Revoke = &rev
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
	s.sessionsEnded(self.AccountID, ended, mint)
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
	return d + forgottenDetail(forgotten)
}

func errMFAAlreadyOn() *apiError {
	return errInvalid("", "Two-step verification is already on. Turn it off first to set it up again.")
}

// handleTOTPSetup hands out a new secret. Like turning two-step off, it
// needs a recent password proof: otherwise whoever holds an unlocked
// device could turn two-step verification on with their own authenticator
// and lock the owner out of every other device.
func (s *Server) handleTOTPSetup(w http.ResponseWriter, r *http.Request) error {
	_, acct, _, err := s.steppedUp(r)
	if err != nil {
		return err
	}
	if acct.MFAEnabled {
		return errMFAAlreadyOn()
	}
	key, err := newTOTPKey(acct.Username)
	if err != nil {
		return storeErr(err)
	}
	if err := s.store.SetTOTPPending(r.Context(), acct.ID, s.sealer.seal(key.Secret())); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errMFAAlreadyOn()
		}
		return storeErr(err)
	}
	writeJSON(w, http.StatusOK, api.TOTPSetupResponse{Secret: key.Secret(), OTPAuthURI: key.URL()})
	return nil
}

func (s *Server) handleTOTPEnable(w http.ResponseWriter, r *http.Request, req api.TOTPEnableRequest) error {
	if req.Code == "" {
		return errInvalid("code", "Enter the 6-digit code (code) from your authenticator app.")
	}
	c, acct, now, err := s.steppedUp(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
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
	detail := fmt.Sprintf("Two-step verification turned on; %s issued", plural(len(codes), "recovery code")) + forgottenDetail(forgotten)
	if err := s.audit(ctx, acct.ID, s.eventBy(c, api.AuditMFAEnabled, detail)); err != nil {
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
		ev := s.eventBy(c, api.AuditMFADisabled, "Two-step verification turned off; recovery codes deleted")
		if err := s.audit(ctx, self.AccountID, ev); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleRecoveryCodesStatus says how many unused recovery codes the
// account has: 0 with two-step verification off. Counting reveals no
// code, so it needs no step-up.
func (s *Server) handleRecoveryCodesStatus(w http.ResponseWriter, r *http.Request) error {
	ctx, self := r.Context(), callerFrom(r.Context()).session
	acct, err := s.account(ctx, self.AccountID)
	if err != nil {
		return err
	}
	left := 0
	if acct.MFAEnabled {
		if left, err = s.store.RecoveryCodesLeft(ctx, acct.ID); err != nil {
			return storeErr(err)
		}
	}
	writeJSON(w, http.StatusOK, api.RecoveryCodesStatus{Remaining: left})
	return nil
}

// handleRegenerateRecoveryCodes makes a fresh set of recovery codes that
// replaces every earlier one, used or not, in one store write with its
// audit event. It needs step-up like turning two-step off: whoever holds
// an unlocked device must not be able to mint codes that sign in
// anywhere.
func (s *Server) handleRegenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	c, acct, _, err := s.steppedUp(r)
	if err != nil {
		return err
	}
	if !acct.MFAEnabled {
		return errMFAOff()
	}
	codes, hashes := newRecoveryCodes(acct.ID)
	ev := s.eventBy(c, api.AuditRecoveryCodesRegenerated, "")
	_, err = s.store.ReplaceRecoveryCodes(r.Context(), acct.ID, hashes, func(replaced int) api.AuditEvent {
		e := ev
		e.Detail = fmt.Sprintf("%s issued; the earlier ones (%d unused) no longer work",
			plural(len(codes), "new recovery code"), replaced)
		return s.stamp(e)
	})
	if errors.Is(err, store.ErrConflict) {
		return errMFAOff() // turned off meanwhile
	}
	if err != nil {
		return storeErr(err)
	}
	writeJSON(w, http.StatusOK, api.RecoveryCodesResponse{RecoveryCodes: codes})
	return nil
}

func errMFAOff() *apiError {
	return errInvalid("", "Two-step verification is off, so there are no recovery codes. Turn it on first.")
}
