package server

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"sessionguard/api"
	"sessionguard/server/ratelimit"
	"sessionguard/server/store"
)

const wrongCredentials = "Wrong username or password."

// bucket is one failure budget a sign-in attempt counts against.
type bucket struct {
	l   *ratelimit.Limiter
	key string
}

// signInBuckets are the failure budgets of an attempt to sign in to the
// account username (acctID when it exists) from ip. An install that signed
// in to the account before (known, by its install key's hash ih) has a
// budget of its own and nothing else, so failures from anywhere else never
// lock it out. Anyone else counts against the account from that address
// (IPv6: its /64), the address whatever the account, and a high ceiling on
// the account from all strangers together: a thief failing on purpose from
// one place cannot lock the owner out in another.
func (s *Server) signInBuckets(username string, ip netip.Addr, acctID string, ih []byte, known bool) []bucket {
	if known {
		return []bucket{{s.acctLimit, "install:" + acctID + ":" + hex.EncodeToString(ih)}}
	}
	u, a := lower(username), addrKey(ip)
	return []bucket{
		{s.acctLimit, "pair:" + u + "|" + a},
		{s.ipLimit, "ip:" + a},
		{s.ceiling, "acct:" + u},
	}
}

// reserve books an attempt in every bucket before the (slow) check runs, so
// parallel guesses cannot all slip past a limit. The returned release
// records the outcome: only failures count.
func (s *Server) reserve(bs []bucket) (release func(failed bool), err error) {
	for i, b := range bs {
		if wait, ok := b.l.Reserve(b.key); !ok {
			for _, held := range bs[:i] {
				held.l.Release(held.key, false)
			}
			s.metrics.logins.WithLabelValues("rate_limited").Inc()
			return nil, errRateLimited(wait)
		}
	}
	return func(failed bool) {
		for _, b := range bs {
			b.l.Release(b.key, failed)
		}
	}, nil
}

// knownInstall reports whether install key hash ih signed in to the
// account before.
func (s *Server) knownInstall(ctx context.Context, acctID string, ih []byte) (bool, error) {
	if ih == nil || acctID == "" {
		return false, nil
	}
	known, err := s.store.KnownInstall(ctx, acctID, ih)
	if err != nil {
		return false, storeErr(err)
	}
	return known, nil
}

// failUnknownCredential counts a sign-in credential that matched nothing
// (an MFA token or saved login that does not exist) against the address,
// answering 429 once it has sent too many: the credentials are too long
// to guess, so this only keeps floods of them cheap.
func (s *Server) failUnknownCredential(ip netip.Addr, msg string) error {
	key := "ip:" + addrKey(ip)
	if wait, ok := s.ipLimit.Check(key); !ok {
		return errRateLimited(wait)
	}
	s.ipLimit.Fail(key)
	return errInvalidCredentials(msg)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req api.LoginRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if err := checkCredentials(req.Username, req.Password); err != nil {
		return err
	}
	if err := checkDevice(&req.Device); err != nil {
		return err
	}
	if err := checkInstallKey(req.InstallKey); err != nil {
		return err
	}
	if s.hashingFull() {
		// No turn for this password check: say so before any other work.
		return s.errHashingBusy()
	}
	ctx, ip, ih := r.Context(), s.clientIP(r), installHash(req.InstallKey)
	acct, err := s.store.AccountByUsername(ctx, lower(req.Username))
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return storeErr(err)
	}
	known, err := s.knownInstall(ctx, acct.ID, ih)
	if err != nil {
		return err
	}
	release, err := s.reserve(s.signInBuckets(req.Username, ip, acct.ID, ih, known))
	if err != nil {
		return err
	}
	failed := false
	defer func() { release(failed) }()
	if !exists {
		if err := s.dummyVerify(ctx, req.Password); err != nil { // answer in the time a wrong password takes
			return err
		}
		failed = true
		s.metrics.logins.WithLabelValues("failed").Inc()
		return errInvalidCredentials(wrongCredentials)
	}
	ok, err := s.verify(ctx, req.Password, acct.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		failed = true
		s.metrics.logins.WithLabelValues("failed").Inc()
		if err := s.audit(ctx, acct.ID, api.AuditEvent{Type: api.AuditLoginFailed, IP: ipString(ip),
			Location: s.locate(ip), DeviceName: req.Device.Name, Detail: "Wrong password"}); err != nil {
			return err
		}
		return errInvalidCredentials(wrongCredentials)
	}
	now := s.now()
	if acct.MFAEnabled {
		return s.startMFA(w, r, acct, req, ih, now)
	}
	login, err := s.startSession(ctx, acct, req.Device, ip, ih, req.Remember, now, now,
		api.AuditEvent{Type: api.AuditLoginSucceeded, IP: ipString(ip), DeviceName: req.Device.Name,
			Detail: rememberDetail(req.Remember)})
	if err != nil {
		return err
	}
	s.metrics.logins.WithLabelValues("succeeded").Inc()
	s.announceSession(acct.ID, *login.Session)
	writeJSON(w, http.StatusOK, login)
	return nil
}

func rememberDetail(remember bool) string {
	if remember {
		return "Password; stays signed in"
	}
	return "Password"
}

// startSession creates a session with fresh tokens and writes the audit
// events of the sign-in with it, in one store write: a session exists if
// and only if its sign-in is audited. The events are about the new
// session: startSession sets their SessionID and Location and stamps them.
// ih is the hash of the sign-in's install key (nil: none); the store then
// knows the install for the account's later sign-ins.
func (s *Server) startSession(ctx context.Context, acct store.Account, dev api.Device, ip netip.Addr, ih []byte, remember bool, now, authTime time.Time, audit ...api.AuditEvent) (api.Login, error) {
	access, refresh := newToken(prefixAccess), newToken(prefixRefresh)
	sess := store.Session{
		ID: newID("ses_"), AccountID: acct.ID, Device: dev, IP: ipString(ip), Location: s.locate(ip),
		CreatedAt: now, LastSeenAt: now, AuthTime: authTime, Remember: remember,
		AccessHash: hashToken(access), AccessExpiresAt: now.Add(s.cfg.AccessTTL), InstallHash: ih,
	}
	if remember {
		sess.AbsoluteExpiresAt = now.Add(s.cfg.RememberMaxTTL)
	} else {
		sess.AbsoluteExpiresAt = now.Add(s.cfg.SessionTTL)
	}
	sess.ExpiresAt = s.expiry(sess, now)
	rt := store.RefreshToken{Hash: hashToken(refresh), SessionID: sess.ID, IssuedAt: now, ExpiresAt: sess.ExpiresAt}
	for i, e := range audit {
		e.SessionID, e.Location = sess.ID, sess.Location
		audit[i] = s.stamp(e)
	}
	if err := s.store.CreateSession(ctx, sess, rt, audit...); err != nil {
		return api.Login{}, storeErr(err)
	}
	a, v := accountView(acct), sessionView(sess, sess.ID)
	return api.Login{Account: &a, Session: &v, AccessToken: access, RefreshToken: refresh,
		AccessExpiresAt: sess.AccessExpiresAt, RefreshExpiresAt: rt.ExpiresAt}, nil
}

// announceSession tells the account's streams about a new sign-in.
func (s *Server) announceSession(accountID string, v api.Session) {
	v.Current = false
	s.publish(Event{AccountID: accountID, ExceptSessionID: v.ID, Name: api.EventSessionCreated,
		Data: api.SessionCreatedEvent{Session: v}})
	s.publish(Event{AccountID: accountID, Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}})
}

func (s *Server) handleRememberedLogin(w http.ResponseWriter, r *http.Request) error {
	var req api.RememberedLoginRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Credential == "" {
		return errInvalid("credential", "credential is required.")
	}
	if err := checkDevice(&req.Device); err != nil {
		return err
	}
	if err := checkInstallKey(req.InstallKey); err != nil {
		return err
	}
	ctx, ip, now, ih := r.Context(), s.clientIP(r), s.now(), installHash(req.InstallKey)
	const gone = "This saved login is no longer valid. Enter your password."
	rem, err := s.store.ConsumeRemembered(ctx, hashToken(req.Credential), now)
	if errors.Is(err, store.ErrNotFound) {
		return s.failUnknownCredential(ip, gone)
	}
	if err != nil {
		return storeErr(err)
	}
	if !rememberedBound(rem, req.Device.ID, ih) {
		// A credential is bound to the install it was issued to; one
		// presented by another is spent and refused.
		s.log.Warn("saved login presented by another install: spent and refused", "account", rem.AccountID, "ip", ipString(ip))
		return s.failUnknownCredential(ip, gone)
	}
	acct, err := s.store.Account(ctx, rem.AccountID)
	if err != nil {
		return storeErr(err)
	}
	login, err := s.startSession(ctx, acct, req.Device, ip, ih, req.Remember, now, rem.AuthTime,
		api.AuditEvent{Type: api.AuditRememberedLoginUsed, IP: ipString(ip), DeviceName: req.Device.Name,
			Detail: "Signed in with saved login info"})
	if err != nil {
		return err
	}
	s.metrics.logins.WithLabelValues("remembered").Inc()
	s.announceSession(acct.ID, *login.Session)
	writeJSON(w, http.StatusOK, login)
	return nil
}

// rememberedBound reports whether a saved login may be used by the install
// presenting it: one saved with an install key needs that key; an older
// one, saved before install keys, needs the device id it was saved for.
func rememberedBound(rem store.Remembered, deviceID string, ih []byte) bool {
	if len(rem.InstallHash) > 0 {
		return subtle.ConstantTimeCompare(rem.InstallHash, ih) == 1
	}
	return rem.DeviceID == deviceID
}

func (s *Server) handleForgetRemembered(w http.ResponseWriter, r *http.Request) error {
	var req api.ForgetRememberedRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Credential == "" {
		return errInvalid("credential", "credential is required.")
	}
	rem, err := s.store.DeleteRemembered(r.Context(), hashToken(req.Credential))
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Already gone: forgetting is idempotent and reveals nothing.
	case err != nil:
		return storeErr(err)
	default:
		ip := s.clientIP(r)
		if err := s.audit(r.Context(), rem.AccountID, api.AuditEvent{Type: api.AuditRememberedLoginForgotten,
			IP: ipString(ip), Location: s.locate(ip), DeviceName: rem.DeviceName,
			Detail: "Saved login info removed"}); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) error {
	var req api.RefreshRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return errInvalid("refresh_token", "refresh_token is required.")
	}
	ctx, now := r.Context(), s.now()
	rt, err := s.store.RefreshToken(ctx, hashToken(req.RefreshToken))
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
	if err := s.checkLive(sess, now); err != nil {
		return err
	}
	if rt.RotatedAt != nil && now.Sub(*rt.RotatedAt) > s.cfg.RefreshGrace {
		// A rotated token again, after the grace (with no grace: at all):
		// the token was copied.
		return s.refreshReuse(ctx, r, sess, now)
	}
	access, refresh := newToken(prefixAccess), newToken(prefixRefresh)
	exp := s.expiry(sess, now)
	rot := store.Rotation{
		SessionID:  sess.ID,
		New:        store.RefreshToken{Hash: hashToken(refresh), SessionID: sess.ID, IssuedAt: now, ExpiresAt: exp},
		AccessHash: hashToken(access), AccessExpiresAt: now.Add(s.cfg.AccessTTL),
		LastSeenAt: now, ExpiresAt: exp,
	}
	if err := s.store.RotateRefreshToken(ctx, rot); err != nil {
		if errors.Is(err, store.ErrRevoked) {
			if sess, err2 := s.store.Session(ctx, sess.ID); err2 == nil && sess.Revoked != nil {
				return errSessionRevoked(sess)
			}
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
	ev := api.AuditEvent{Type: api.AuditRefreshReuseDetected, IP: ipString(ip), Location: s.locate(ip),
		SessionID: sess.ID, DeviceName: sess.Device.Name, TargetSessionID: sess.ID, TargetDeviceName: sess.Device.Name,
		Detail: "An old refresh token was used again; the session was ended"}
	fx := store.RevokeEffects{Audit: func([]store.Session, int) api.AuditEvent { return s.stamp(ev) }}
	ended, err := s.store.RevokeSession(ctx, sess.AccountID, sess.ID, rev, fx)
	if errors.Is(err, store.ErrRevoked) {
		return errSessionRevoked(ended)
	}
	if err != nil {
		return storeErr(err)
	}
	s.log.Warn("refresh token reuse: session revoked", "session", sess.ID, "ip", ipString(ip))
	s.sessionsEnded(sess.AccountID, []store.Session{ended})
	return errSessionRevoked(ended)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	var req api.LogoutRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
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
	if err := s.endSession(ctx, c, self, api.ReasonLogout, now); err != nil {
		return err
	}
	var resp api.LogoutResponse
	if req.Remember {
		cred := newToken(prefixRemembered)
		exp := now.Add(s.cfg.RememberedLoginTTL)
		if _, err := s.store.DeleteRememberedForDevice(ctx, self.AccountID, self.Device.ID); err != nil {
			return storeErr(err)
		}
		rem := store.Remembered{Hash: hashToken(cred), AccountID: self.AccountID, DeviceID: self.Device.ID,
			DeviceName: self.Device.Name, CreatedAt: now, ExpiresAt: exp, AuthTime: self.AuthTime,
			InstallHash: self.InstallHash}
		if err := s.store.CreateRemembered(ctx, rem); err != nil {
			return storeErr(err)
		}
		if err := s.audit(ctx, self.AccountID, api.AuditEvent{Type: api.AuditRememberedLoginCreated,
			IP: ipString(c.ip), Location: s.locate(c.ip), SessionID: self.ID, DeviceName: self.Device.Name,
			Detail: "Login info saved on this device"}); err != nil {
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
	rt, err := s.store.RefreshToken(ctx, hashToken(tok))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return storeErr(err)
	}
	if err != nil || rt.SessionID != self.ID || (rt.RotatedAt != nil && now.Sub(*rt.RotatedAt) > s.cfg.RefreshGrace) {
		return errInvalid("refresh_token", "refresh_token is not this session's current refresh token.")
	}
	return nil
}

func (s *Server) handleReauth(w http.ResponseWriter, r *http.Request) error {
	var req api.ReauthRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Password == "" {
		return errInvalid("password", "Enter your password.")
	}
	if len(req.Password) > maxPassword {
		return errInvalid("password", "The password is too long.")
	}
	c := callerFrom(r.Context())
	ctx, self := r.Context(), c.session
	acct, err := s.store.Account(ctx, self.AccountID)
	if err != nil {
		return storeErr(err)
	}
	if acct.MFAEnabled && req.Code == "" {
		return errInvalid("code", "Enter the code (code) from your authenticator app, or a recovery code.")
	}
	done, err := s.reauthTurn(self.ID)
	if err != nil {
		return err
	}
	failed := false
	defer func() { done(failed) }()
	ok, err := s.verify(ctx, req.Password, acct.PasswordHash)
	if err != nil {
		return err
	}
	now := s.now()
	ev := api.AuditEvent{IP: ipString(c.ip), Location: s.locate(c.ip), SessionID: self.ID, DeviceName: self.Device.Name}
	if !ok {
		failed = true
		ev.Type, ev.Detail = api.AuditReauthFailed, "Wrong password"
		return s.reauthFailed(ctx, c, ev, "That password is not right.", now)
	}
	detail := "Password confirmed"
	if acct.MFAEnabled {
		factor, err := s.checkSecondFactor(ctx, acct, req.Code, now)
		if err != nil {
			return err
		}
		switch factor {
		case factorNone:
			failed = true
			ev.Type, ev.Detail = api.AuditReauthFailed, "Wrong two-step code"
			return s.reauthFailed(ctx, c, ev, "That code is not right.", now)
		case factorRecovery:
			detail = "Password and recovery code confirmed"
			if err := s.auditRecoveryCodeUsed(ctx, self.AccountID, ev, "to confirm it is you"); err != nil {
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
	ev.Type, ev.Detail = api.AuditReauthSucceeded, detail
	if err := s.audit(ctx, self.AccountID, ev); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.ReauthResponse{AuthTime: now})
	return nil
}

// revokedNow answers a write refused with store.ErrRevoked: the session's
// session_revoked details if it can be read, else err.
func (s *Server) revokedNow(ctx context.Context, id string, err error) error {
	if sess, err2 := s.store.Session(ctx, id); err2 == nil && sess.Revoked != nil {
		return errSessionRevoked(sess)
	}
	return storeErr(err)
}

// reauthTurn books a password check on a session (re-authentication or
// the current password of a change): at most ReauthAttempts run at once
// per session, so a burst of parallel guesses cannot outrun the count that
// ends the session. done records the outcome; a success clears the count.
func (s *Server) reauthTurn(sessionID string) (done func(failed bool), err error) {
	if wait, ok := s.reauthBusy.Reserve(sessionID); !ok {
		return nil, errRateLimited(wait)
	}
	return func(failed bool) {
		s.reauthBusy.Release(sessionID, failed)
		if !failed {
			s.reauthBusy.Reset(sessionID)
		}
	}, nil
}

// reauthFailed answers a wrong password or code from a signed-in session
// (re-authentication or a password change): the attempt is audited (ev)
// and counted on the session, and the ReauthAttempts-th wrong answer in a
// row ends the session (reason reauth_failed; audited, its saved logins
// deleted, pushed to its stream). Whoever holds a stolen, unlocked device
// is logged out after a few guesses; the owner's other devices, with
// their own counts, are not touched. Earlier failures are answered 401
// with details.attempts_left.
func (s *Server) reauthFailed(ctx context.Context, c *caller, ev api.AuditEvent, msg string, now time.Time) error {
	self := c.session
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
	ended, err := s.store.RevokeSession(ctx, self.AccountID, self.ID, rev, fx)
	if errors.Is(err, store.ErrRevoked) {
		return errSessionRevoked(ended)
	}
	if err != nil {
		return storeErr(err)
	}
	s.log.Warn("too many wrong answers at re-authentication: session ended", "session", self.ID, "ip", ipString(c.ip))
	s.sessionsEnded(self.AccountID, []store.Session{ended})
	return errSessionRevoked(ended)
}
