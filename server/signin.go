package server

// Sign-in, the three ways a session starts: with a password (POST
// /v1/login), with the second factor after it (POST /v1/login/mfa), and
// with a saved login (POST /v1/login/remembered; POST
// /v1/remembered/forget forgets one). Also here: the failure budgets every
// sign-in is checked against, and startSession, which they all end in.

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"sessionguard/api"
	"sessionguard/server/ratelimit"
	"sessionguard/server/store"
	"sessionguard/server/token"
)

const wrongCredentials = "Wrong username or password."

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, req api.LoginRequest) error {
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
	try, err := s.signInAttempt(ctx, req.Username, ip, acct.ID, ih)
	if err != nil {
		return err
	}
	defer try.finish()
	if !exists {
		if err := s.dummyVerify(ctx, req.Password); err != nil { // answer in the time a wrong password takes
			return err
		}
		try.failed = true
		s.metrics.logins.WithLabelValues("failed").Inc()
		return errInvalidCredentials(wrongCredentials)
	}
	ok, err := s.verify(ctx, req.Password, acct.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		try.failed = true
		s.metrics.logins.WithLabelValues("failed").Inc()
		if err := s.audit(ctx, acct.ID, s.eventFrom(ip, req.Device.Name, api.AuditLoginFailed, "Wrong password")); err != nil {
			return err
		}
		return errInvalidCredentials(wrongCredentials)
	}
	now := s.now()
	if acct.MFAEnabled {
		return s.startMFA(w, r, acct, req, ih, now)
	}
	if ask, err := s.needsApproval(ctx, acct, ih, now); err != nil || ask {
		if err != nil {
			return err
		}
		return s.startApproval(ctx, w, acct, waitingSignIn{device: req.Device, ip: ip, install: ih, remember: req.Remember,
			detail: rememberDetail(req.Remember)}, now)
	}
	return s.signIn(ctx, w, "succeeded", newSession{acct: acct, device: req.Device, ip: ip, install: ih,
		remember: req.Remember, now: now, authTime: now,
		audit: []api.AuditEvent{{Type: api.AuditLoginSucceeded, Detail: rememberDetail(req.Remember)}}})
}

func rememberDetail(remember bool) string {
	if remember {
		return "Password; stays signed in"
	}
	return "Password"
}

// startMFA answers a right password on an account with two-step
// verification on: a short-lived token for POST /v1/login/mfa, bound to
// the account and to the request's device and "remember me".
func (s *Server) startMFA(w http.ResponseWriter, r *http.Request, acct store.Account, req api.LoginRequest, ih []byte, now time.Time) error {
	tok := token.New(token.PrefixMFA)
	t := store.MFAToken{Hash: token.Hash(tok), AccountID: acct.ID, Device: req.Device, Remember: req.Remember,
		InstallHash: ih, CreatedAt: now, ExpiresAt: now.Add(s.cfg.MFATokenTTL)}
	if err := s.store.CreateMFAToken(r.Context(), t); err != nil {
		return storeErr(err)
	}
	s.metrics.logins.WithLabelValues("mfa_required").Inc()
	writeJSON(w, http.StatusOK, api.Login{MFARequired: true, MFAToken: tok})
	return nil
}

func (s *Server) handleMFALogin(w http.ResponseWriter, r *http.Request, req api.MFALoginRequest) error {
	if req.MFAToken == "" {
		return errInvalid("mfa_token", "mfa_token is required: the token POST /v1/login returned.")
	}
	if req.Code == "" {
		return errInvalid("code", "Enter the code (code) from your authenticator app, or a recovery code.")
	}
	if err := checkInstallKey(req.InstallKey); err != nil {
		return err
	}
	if strings.HasPrefix(req.MFAToken, token.PrefixApproval) {
		return s.skipApproval(w, r, req)
	}
	ctx, ip, now := r.Context(), s.clientIP(r), s.now()
	const startOver = "This sign-in has expired. Enter your password again."
	h := token.Hash(req.MFAToken)
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
	try, err := s.signInAttempt(ctx, acct.Username, ip, acct.ID, pending.InstallHash)
	if err != nil {
		return err
	}
	defer try.finish()
	factor, err := s.checkSecondFactor(ctx, acct, req.Code, now)
	if err != nil {
		return err
	}
	if factor == factorNone {
		try.failed = true
		s.metrics.logins.WithLabelValues("mfa_failed").Inc()
		if err := s.audit(ctx, acct.ID, s.eventFrom(ip, pending.Device.Name, api.AuditLoginMFAFailed, "Wrong two-step code")); err != nil {
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
	// The events are written with the session: the recovery code's use,
	// then the sign-in.
	var events []api.AuditEvent
	detail := "Password and two-step code"
	if factor == factorRecovery {
		detail = "Password and recovery code"
		used, err := s.recoveryCodeUsedDetail(ctx, acct.ID, "to sign in")
		if err != nil {
			return err
		}
		events = append(events, api.AuditEvent{Type: api.AuditRecoveryCodeUsed, Detail: used})
	}
	if pending.Remember {
		detail += "; stays signed in"
	}
	if factor != factorRecovery { // a recovery code skips approval
		ask, err := s.needsApproval(ctx, acct, pending.InstallHash, now)
		if err != nil {
			return err
		}
		if ask {
			return s.startApproval(ctx, w, acct, waitingSignIn{device: pending.Device, ip: ip, install: pending.InstallHash,
				remember: pending.Remember, detail: detail}, now)
		}
	}
	return s.signIn(ctx, w, "succeeded", newSession{acct: acct, device: pending.Device, ip: ip,
		install: pending.InstallHash, remember: pending.Remember, now: now, authTime: now,
		audit: append(events, api.AuditEvent{Type: api.AuditLoginSucceeded, Detail: detail})})
}

func (s *Server) handleRememberedLogin(w http.ResponseWriter, r *http.Request, req api.RememberedLoginRequest) error {
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
	rem, err := s.store.ConsumeRemembered(ctx, token.Hash(req.Credential), now)
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
	return s.signIn(ctx, w, "remembered", newSession{acct: acct, device: req.Device, ip: ip, install: ih,
		remember: req.Remember, now: now, authTime: rem.AuthTime,
		audit: []api.AuditEvent{{Type: api.AuditRememberedLoginUsed, Detail: "Signed in with saved login info"}}})
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

func (s *Server) handleForgetRemembered(w http.ResponseWriter, r *http.Request, req api.ForgetRememberedRequest) error {
	if req.Credential == "" {
		return errInvalid("credential", "credential is required.")
	}
	rem, err := s.store.DeleteRemembered(r.Context(), token.Hash(req.Credential))
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Already gone: forgetting is idempotent and reveals nothing.
	case err != nil:
		return storeErr(err)
	default:
		ev := s.eventFrom(s.clientIP(r), rem.DeviceName, api.AuditRememberedLoginForgotten, "Saved login info removed")
		if err := s.audit(r.Context(), rem.AccountID, ev); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// newSession is a sign-in that succeeded, as startSession makes its
// session.
type newSession struct {
	acct     store.Account
	device   api.Device
	ip       netip.Addr
	install  []byte // SHA-256 of the sign-in's install key (installHash); nil for none
	remember bool
	now      time.Time
	// authTime is the session's last password proof: now, or for a saved
	// login the proof of the session that saved it.
	authTime time.Time
	// audit are the sign-in's events, each with its Type and Detail;
	// startSession fills in the rest.
	audit []api.AuditEvent
	// jkt is the thumbprint of the key the session is bound to (issue
	// 21): the sign-in's proof's (signInKey), "" for an unbound session.
	jkt string
}

// signIn ends a sign-in that succeeded: it starts the session (bound to
// the key of the request's proof, if any: signInKey), counts the sign-in
// in sessiond_logins_total as result, tells the account's other devices
// and answers with the session and its tokens.
func (s *Server) signIn(ctx context.Context, w http.ResponseWriter, result string, n newSession) error {
	if n.jkt = signInKey(ctx); n.jkt == "" && s.cfg.RequireBound {
		// A sign-in route signInProof does not wrap: never unbound here.
		return s.errBoundOnly()
	}
	login, err := s.startSession(ctx, n)
	if err != nil {
		return err
	}
	s.metrics.logins.WithLabelValues(result).Inc()
	s.announceSession(n.acct.ID, *login.Session)
	writeJSON(w, http.StatusOK, login)
	return nil
}

// startSession creates a session with fresh tokens and writes the audit
// events of the sign-in with it, in one store write: a session exists if
// and only if its sign-in is audited. The events are about the new
// session: startSession gives them its ID, address, place and device name,
// and stamps them. The store then knows n.install (if any) as an install
// of the account, for its later sign-ins.
func (s *Server) startSession(ctx context.Context, n newSession) (api.Login, error) {
	access, refresh := token.New(token.PrefixAccess), token.New(token.PrefixRefresh)
	sess := store.Session{
		ID: token.NewID("ses_"), AccountID: n.acct.ID, Device: n.device, IP: ipString(n.ip), Location: s.locate(n.ip),
		CreatedAt: n.now, LastSeenAt: n.now, AuthTime: n.authTime, Remember: n.remember,
		AbsoluteExpiresAt: s.absoluteExpiry(n.remember, n.now),
		AccessHash:        token.Hash(access), AccessExpiresAt: n.now.Add(s.cfg.AccessTTL), InstallHash: n.install,
		JKT: n.jkt,
	}
	sess.ExpiresAt = s.expiry(sess, n.now)
	rt := store.RefreshToken{Hash: token.Hash(refresh), SessionID: sess.ID, IssuedAt: n.now, ExpiresAt: sess.ExpiresAt}
	audit := make([]api.AuditEvent, len(n.audit))
	for i, e := range n.audit {
		e.IP, e.Location, e.SessionID, e.DeviceName = sess.IP, sess.Location, sess.ID, sess.Device.Name
		audit[i] = s.stamp(e)
	}
	if err := s.store.CreateSession(ctx, sess, rt, audit...); err != nil {
		return api.Login{}, storeErr(err)
	}
	a, v := accountView(n.acct), sessionView(sess, sess.ID)
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

// bucket is one failure budget a sign-in attempt counts against.
type bucket struct {
	l   *ratelimit.Limiter
	key string
}

// signInAttempt books an attempt to sign in to the account username
// (acctID when it exists) from ip, with install key hash ih, against its
// failure budgets (signInBuckets), before the (slow) check runs, so that
// parallel guesses cannot all slip past a limit. A budget that is spent
// is answered 429.
func (s *Server) signInAttempt(ctx context.Context, username string, ip netip.Addr, acctID string, ih []byte) (*attempt, error) {
	known, err := s.knownInstall(ctx, acctID, ih)
	if err != nil {
		return nil, err
	}
	return s.reserve(s.signInBuckets(username, ip, acctID, ih, known))
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

// reserve books an attempt in every bucket. The attempt's finish records
// the outcome: only failures count.
func (s *Server) reserve(bs []bucket) (*attempt, error) {
	for i, b := range bs {
		if wait, ok := b.l.Reserve(b.key); !ok {
			for _, held := range bs[:i] {
				held.l.Release(held.key, false)
			}
			s.metrics.logins.WithLabelValues("rate_limited").Inc()
			return nil, errRateLimited(wait)
		}
	}
	return &attempt{record: func(failed bool) {
		for _, b := range bs {
			b.l.Release(b.key, failed)
		}
	}}, nil
}

// attempt is a booked check of a password or code: at sign-in (reserve)
// or from a signed-in session (reauthTurn). Whoever booked it defers
// finish, which records the outcome, and sets failed on a wrong answer.
type attempt struct {
	record func(failed bool)
	failed bool
}

// finish records the attempt's outcome with what booked it.
func (a *attempt) finish() { a.record(a.failed) }

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
