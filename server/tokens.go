package server

// What a session does with its tokens: refresh them (POST
// /v1/token/refresh; a rotated token used again ends the session; a bound
// session's needs a proof by its key: dpop.go), log
// out (POST /v1/logout, optionally saving the login), and re-authenticate
// (POST /v1/reauth), which renews the proof step-up asks for; with the
// count of wrong answers that ends a session, shared with the password
// change.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/server/store"
	"sessionguard/server/token"
)

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request, req api.RefreshRequest) error {
	if req.RefreshToken == "" {
		return errInvalid("refresh_token", "refresh_token is required.")
	}
	ctx, now := r.Context(), s.now()
	// The proof (no ath: the token is in the body) is checked first; one
	// no key signed is refused before the token is looked up.
	p := s.checkProof(r, r.Header.Values(dpop.Header), "", now)
	if p.unsigned() {
		return s.errProof(http.StatusBadRequest, p.err)
	}
	rt, err := s.store.RefreshToken(ctx, token.Hash(req.RefreshToken))
	if errors.Is(err, store.ErrNotFound) {
		return errInvalidToken()
	}
	if err != nil {
		return storeErr(err)
	}
	sess, err := s.store.Session(ctx, rt.SessionID)
	if err != nil {
		return storeErr(err)
	}
	// A bound session's refresh token without its key is refused before
	// anything else: a copy can neither end the session (reuse, idle) nor
	// learn that it ended.
	if err := s.holdsKey(ctx, sess, p, s.clientIP(r), now, http.StatusBadRequest); err != nil {
		return err
	}
	if sess.Revoked != nil {
		if rt.RotatedAt == nil || now.Sub(*rt.RotatedAt) <= s.cfg.RefreshGrace {
			// The session's own live refresh token (or one rotated
			// within the grace, a retry): the answer may carry a closure
			// token. An older one may be a copy: it gets none.
			return s.errRevokedOwn(ctx, sess, "")
		}
		return errSessionRevoked(sess)
	}
	if s.idleDueHere(sess, now) {
		// Unused past its rule: this refresh ends it rather than reviving
		// it. Only the session's own token may get the closure token.
		own := rt.RotatedAt == nil || now.Sub(*rt.RotatedAt) <= s.cfg.RefreshGrace
		if sess, err = s.endIdleOwn(ctx, sess, s.clientIP(r), now, own); err != nil {
			return err
		}
	}
	if err := s.checkLive(sess, now); err != nil {
		return err
	}
	if rt.RotatedAt != nil && now.Sub(*rt.RotatedAt) > s.cfg.RefreshGrace {
		// A rotated token again, after the grace (with no grace: at all):
		// the token was copied.
		return s.refreshReuse(ctx, r, sess, now)
	}
	access, refresh := token.New(token.PrefixAccess), token.New(token.PrefixRefresh)
	exp, seen := s.expiry(sess, now), now
	if background(r) && !movedFrom(sess, s.clientIP(r)) {
		// For the app's own work: not use, so no later idle deadline or
		// expiry.
		exp, seen = sess.ExpiresAt, sess.LastSeenAt
	}
	rot := store.Rotation{
		SessionID:  sess.ID,
		New:        store.RefreshToken{Hash: token.Hash(refresh), SessionID: sess.ID, IssuedAt: now, ExpiresAt: exp},
		AccessHash: token.Hash(access), AccessExpiresAt: now.Add(s.cfg.AccessTTL),
		LastSeenAt: seen, ExpiresAt: exp,
	}
	if err := s.store.RotateRefreshToken(ctx, rot); err != nil {
		if errors.Is(err, store.ErrRevoked) {
			return s.revokedNow(ctx, sess.ID, err)
		}
		return storeErr(err)
	}
	writeJSON(w, http.StatusOK, api.Tokens{AccessToken: access, RefreshToken: refresh,
		AccessExpiresAt: rot.AccessExpiresAt, RefreshExpiresAt: exp})
	return nil
}

// refreshReuse handles a rotated refresh token presented after the grace:
// the token was copied, so the whole session is ended, and audited in the
// same store write. (The device's saved logins stay: they are separate,
// single-use credentials bound to the install, not the token that leaked.)
func (s *Server) refreshReuse(ctx context.Context, r *http.Request, sess store.Session, now time.Time) error {
	ip := s.clientIP(r)
	rev := store.Revocation{At: now, Reason: api.ReasonRefreshTokenReuse}
	ev := s.eventFrom(ip, sess.Device.Name, api.AuditRefreshReuseDetected, "An old refresh token was used again; the session was ended")
	ev.SessionID, ev.TargetSessionID, ev.TargetDeviceName = sess.ID, sess.ID, sess.Device.Name
	fx := store.RevokeEffects{Audit: func([]store.Session, int) api.AuditEvent { return s.stamp(ev) }}
	// The old token was copied: its presenter's answer carries no closure
	// token (the session's streams get one with the event).
	return s.endDistrusted(ctx, sess, rev, fx, ip, "refresh token reuse: session revoked", false)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, req api.LogoutRequest) error {
	c := callerFrom(r.Context())
	ctx, now, self := r.Context(), s.now(), c.session
	if req.Remember {
		// Saving login info mints a 90-day credential: it needs the
		// session's refresh token too, which a stolen access token (a log
		// line, a proxy) does not carry. Checked before anything ends, so
		// a refused request changes nothing.
		if err := s.checkOwnRefreshToken(ctx, self, req.RefreshToken, now); err != nil {
			return err
		}
	}
	if _, err := s.endSession(ctx, c, self, api.ReasonLogout, false, now); err != nil {
		return err
	}
	var resp api.LogoutResponse
	if req.Remember {
		cred := token.New(token.PrefixRemembered)
		exp := now.Add(s.cfg.RememberedLoginTTL)
		if _, err := s.store.DeleteRememberedForDevice(ctx, self.AccountID, self.Device.ID); err != nil {
			return storeErr(err)
		}
		rem := store.Remembered{Hash: token.Hash(cred), AccountID: self.AccountID, DeviceID: self.Device.ID,
			DeviceName: self.Device.Name, CreatedAt: now, ExpiresAt: exp, AuthTime: self.AuthTime,
			InstallHash: self.InstallHash}
		if err := s.store.CreateRemembered(ctx, rem); err != nil {
			return storeErr(err)
		}
		if err := s.audit(ctx, self.AccountID, s.eventBy(c, api.AuditRememberedLoginCreated, "Login info saved on this device")); err != nil {
			return err
		}
		resp.RememberedCredential, resp.RememberedExpiresAt = cred, &exp
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// checkOwnRefreshToken checks that tok is the calling session's current
// refresh token (or one rotated within the grace, for a retried request).
func (s *Server) checkOwnRefreshToken(ctx context.Context, self store.Session, tok string, now time.Time) error {
	if tok == "" {
		return errInvalid("refresh_token", "To save login info, send this session's refresh token (refresh_token).")
	}
	rt, err := s.store.RefreshToken(ctx, token.Hash(tok))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return storeErr(err)
	}
	if err != nil || rt.SessionID != self.ID || (rt.RotatedAt != nil && now.Sub(*rt.RotatedAt) > s.cfg.RefreshGrace) {
		return errInvalid("refresh_token", "refresh_token is not this session's current refresh token.")
	}
	return nil
}

func (s *Server) handleReauth(w http.ResponseWriter, r *http.Request, req api.ReauthRequest) error {
	if req.Password == "" {
		return errInvalid("password", "Enter your password.")
	}
	if len(req.Password) > maxPassword {
		return errInvalid("password", "The password is too long.")
	}
	c := callerFrom(r.Context())
	ctx, self := r.Context(), c.session
	acct, err := s.account(ctx, self.AccountID)
	if err != nil {
		return err
	}
	if acct.MFAEnabled && req.Code == "" {
		return errInvalid("code", "Enter the code (code) from your authenticator app, or a recovery code.")
	}
	turn, err := s.reauthCheck(ctx, self.ID, req.Password, acct.PasswordHash)
	if err != nil {
		return err
	}
	defer turn.finish()
	now := s.now()
	if turn.failed {
		return s.reauthFailed(ctx, c, "Wrong password", "That password is not right.", now)
	}
	detail := "Password confirmed"
	if acct.MFAEnabled {
		factor, err := s.checkSecondFactor(ctx, acct, req.Code, now)
		if err != nil {
			return err
		}
		switch factor {
		case factorNone:
			turn.failed = true
			return s.reauthFailed(ctx, c, "Wrong two-step code", "That code is not right.", now)
		case factorRecovery:
			detail = "Password and recovery code confirmed"
			used, err := s.recoveryCodeUsedDetail(ctx, self.AccountID, "to confirm it is you")
			if err != nil {
				return err
			}
			if err := s.audit(ctx, self.AccountID, s.eventBy(c, api.AuditRecoveryCodeUsed, used)); err != nil {
				return err
			}
		default:
			detail = "Password and two-step code confirmed"
		}
	}
	if err := s.store.SetAuthTime(ctx, self.ID, now); err != nil {
		if errors.Is(err, store.ErrRevoked) {
			return s.revokedNow(ctx, self.ID, err)
		}
		return storeErr(err)
	}
	if err := s.audit(ctx, self.AccountID, s.eventBy(c, api.AuditReauthSucceeded, detail)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.ReauthResponse{AuthTime: now})
	return nil
}

// revokedNow answers a write refused with store.ErrRevoked, made for a
// request carrying the session's own current token: the session's
// session_revoked details (closure token included, errRevokedOwn) if it
// can be read, else err.
func (s *Server) revokedNow(ctx context.Context, id string, err error) error {
	if sess, err2 := s.store.Session(ctx, id); err2 == nil && sess.Revoked != nil {
		return s.errRevokedOwn(ctx, sess, "")
	}
	return storeErr(err)
}

// reauthCheck checks password, a signed-in session's proof that it is the
// account's owner (re-authentication, the current password of a change),
// against the account's hash, in one of the session's turns
// (reauthTurn). It returns the turn, marked failed if the password is
// wrong, for the caller to finish (defer) once it has checked whatever
// else the turn covers.
func (s *Server) reauthCheck(ctx context.Context, sessionID, password, hash string) (*attempt, error) {
	turn, err := s.reauthTurn(sessionID)
	if err != nil {
		return nil, err
	}
	ok, err := s.verify(ctx, password, hash)
	if err != nil {
		turn.finish()
		return nil, err
	}
	turn.failed = !ok
	return turn, nil
}

// reauthTurn books a password check on a session (re-authentication or
// the current password of a change): at most ReauthAttempts run at once
// per session, so a burst of parallel guesses cannot outrun the count that
// ends the session. The attempt's finish records the outcome; a success
// clears the count.
func (s *Server) reauthTurn(sessionID string) (*attempt, error) {
	if wait, ok := s.reauthBusy.Reserve(sessionID); !ok {
		return nil, errRateLimited(wait)
	}
	return &attempt{record: func(failed bool) {
		s.reauthBusy.Release(sessionID, failed)
		if !failed {
			s.reauthBusy.Reset(sessionID)
		}
	}}, nil
}

// reauthFailed answers a wrong password or code from a signed-in session
// (re-authentication or a password change): the attempt is audited
// (reauth.failed with detail) and counted on the session, and the
// ReauthAttempts-th wrong answer in a row ends the session (reason
// reauth_failed; audited, its saved logins deleted, pushed to its stream).
// Whoever holds a stolen, unlocked device is logged out after a few
// guesses; the owner's other devices, with their own counts, are not
// touched. Earlier failures are answered 401 (message msg) with
// details.attempts_left.
func (s *Server) reauthFailed(ctx context.Context, c *caller, detail, msg string, now time.Time) error {
	self := c.session
	ev := s.eventBy(c, api.AuditReauthFailed, detail)
	if err := s.audit(ctx, self.AccountID, ev); err != nil {
		return err
	}
	n, err := s.store.FailReauth(ctx, self.ID)
	if errors.Is(err, store.ErrRevoked) {
		return s.revokedNow(ctx, self.ID, err)
	}
	if err != nil {
		return storeErr(err)
	}
	if left := s.cfg.ReauthAttempts - n; left > 0 {
		e := errInvalidCredentials(msg)
		e.details = map[string]any{api.DetailAttemptsLeft: left}
		if left == 1 {
			e.msg += " One more wrong answer logs this device out."
		}
		return e
	}
	rev := store.Revocation{At: now, Reason: api.ReasonReauthFailed}
	fx := store.RevokeEffects{Forget: true, Audit: func(ended []store.Session, forgotten int) api.AuditEvent {
		e := ev
		e.Type, e.TargetSessionID, e.TargetDeviceName = api.AuditSessionRevoked, self.ID, self.Device.Name
		e.Detail = fmt.Sprintf("Logged out after %s in a row when confirming it was you (%s)",
			plural(n, "wrong password or code"), api.ReasonReauthFailed)
		if forgotten > 0 {
			e.Detail += "; saved login info removed"
		}
		return s.stamp(e)
	}}
	return s.endDistrusted(ctx, self, rev, fx, c.ip, "too many wrong answers at re-authentication: session ended", true)
}

// endDistrusted ends a session the server no longer trusts (its refresh
// token was copied, or it answered wrong too often) with the writes fx
// asks for and a closure token, logs why (warning; the session and the
// address ip), pushes the end to the session's streams, and returns the
// session_revoked answer the request gets: about this revocation, or the
// one that beat it. With own (the request carried the session's current
// access token) the answer carries the closure token too.
func (s *Server) endDistrusted(ctx context.Context, sess store.Session, rev store.Revocation, fx store.RevokeEffects, ip netip.Addr, why string, own bool) error {
	mint := newClosureMint()
	fx.Closure = mint.fn()
	ended, err := s.store.RevokeSession(ctx, sess.AccountID, sess.ID, rev, fx)
	if errors.Is(err, store.ErrRevoked) {
		if own {
			return s.errRevokedOwn(ctx, ended, "")
		}
		return errSessionRevoked(ended)
	}
	if err != nil {
		return storeErr(err)
	}
	s.log.Warn(why, "session", sess.ID, "ip", ipString(ip))
	s.sessionsEnded(sess.AccountID, []store.Session{ended}, mint)
	if own {
		return s.errRevokedOwn(ctx, ended, mint.eventToken(ended))
	}
	return errSessionRevoked(ended)
}
