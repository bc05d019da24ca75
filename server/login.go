package server

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

const wrongCredentials = "Wrong username or password."

// limitKeys are the rate-limit keys of a sign-in attempt.
func limitKeys(username string, ip netip.Addr) (acct, addr string) {
	return "acct:" + lower(username), "ip:" + ipString(ip)
}

// reserve books a password attempt against the account's and the IP's
// failure budgets before the (slow) check runs, so parallel guesses cannot
// all slip past the limit. The returned release records the outcome: only
// failures count.
func (s *Server) reserve(acctKey, ipKey string) (release func(failed bool), err error) {
	wait, ok := s.acctLimit.Reserve(acctKey)
	if ok {
		var w2 time.Duration
		if w2, ok = s.ipLimit.Reserve(ipKey); !ok {
			s.acctLimit.Release(acctKey, false)
			wait = w2
		}
	}
	if !ok {
		s.metrics.logins.WithLabelValues("rate_limited").Inc()
		return nil, errRateLimited(wait)
	}
	return func(failed bool) {
		s.acctLimit.Release(acctKey, failed)
		s.ipLimit.Release(ipKey, failed)
	}, nil
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
	ctx, ip := r.Context(), s.clientIP(r)
	release, err := s.reserve(limitKeys(req.Username, ip))
	if err != nil {
		return err
	}
	failed := false
	defer func() { release(failed) }()
	acct, err := s.store.AccountByUsername(ctx, lower(req.Username))
	if errors.Is(err, store.ErrNotFound) {
		failed = true
		if err := s.dummyVerify(ctx, req.Password); err != nil { // answer in the time a wrong password takes
			return err
		}
		s.metrics.logins.WithLabelValues("failed").Inc()
		return errInvalidCredentials(wrongCredentials)
	}
	if err != nil {
		return storeErr(err)
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
		return s.startMFA(w, r, acct, req, now)
	}
	login, err := s.startSession(ctx, acct, req.Device, ip, req.Remember, now, now,
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
func (s *Server) startSession(ctx context.Context, acct store.Account, dev api.Device, ip netip.Addr, remember bool, now, authTime time.Time, audit ...api.AuditEvent) (api.Login, error) {
	access, refresh := newToken(prefixAccess), newToken(prefixRefresh)
	sess := store.Session{
		ID: newID("ses_"), AccountID: acct.ID, Device: dev, IP: ipString(ip), Location: s.locate(ip),
		CreatedAt: now, LastSeenAt: now, AuthTime: authTime, Remember: remember,
		AccessHash: hashToken(access), AccessExpiresAt: now.Add(s.cfg.AccessTTL),
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
	ctx, ip, now := r.Context(), s.clientIP(r), s.now()
	_, ipKey := limitKeys("", ip)
	if wait, ok := s.ipLimit.Check(ipKey); !ok {
		return errRateLimited(wait)
	}
	const gone = "This saved login is no longer valid. Enter your password."
	rem, err := s.store.ConsumeRemembered(ctx, hashToken(req.Credential), now)
	if errors.Is(err, store.ErrNotFound) {
		s.ipLimit.Fail(ipKey)
		return errInvalidCredentials(gone)
	}
	if err != nil {
		return storeErr(err)
	}
	if rem.DeviceID != req.Device.ID {
		// A credential is bound to the install it was issued to; one
		// presented by another is spent and refused.
		s.ipLimit.Fail(ipKey)
		return errInvalidCredentials(gone)
	}
	acct, err := s.store.Account(ctx, rem.AccountID)
	if err != nil {
		return storeErr(err)
	}
	login, err := s.startSession(ctx, acct, req.Device, ip, req.Remember, now, rem.AuthTime,
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
			DeviceName: self.Device.Name, CreatedAt: now, ExpiresAt: exp, AuthTime: self.AuthTime}
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
	release, err := s.reserve("reauth:"+self.AccountID, "ip:"+ipString(c.ip))
	if err != nil {
		return err
	}
	failed := false
	defer func() { release(failed) }()
	ok, err := s.verify(ctx, req.Password, acct.PasswordHash)
	if err != nil {
		return err
	}
	now := s.now()
	ev := api.AuditEvent{IP: ipString(c.ip), Location: s.locate(c.ip), SessionID: self.ID, DeviceName: self.Device.Name}
	if !ok {
		failed = true
		ev.Type, ev.Detail = api.AuditReauthFailed, "Wrong password"
		if err := s.audit(ctx, self.AccountID, ev); err != nil {
			return err
		}
		return errInvalidCredentials("That password is not right.")
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
			if err := s.audit(ctx, self.AccountID, ev); err != nil {
				return err
			}
			return errInvalidCredentials("That code is not right.")
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
			if sess, err2 := s.store.Session(ctx, self.ID); err2 == nil && sess.Revoked != nil {
				return errSessionRevoked(sess)
			}
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
