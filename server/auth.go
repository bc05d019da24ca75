package server

// Authentication of signed-in calls: the bearer access token, checked
// against the store on every request (authed), the session's lifetime,
// and step-up, the recent password proof some actions need.

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/token"
)

type ctxKey struct{}

// caller is the authenticated session of a request.
type caller struct {
	session store.Session
	ip      netip.Addr
}

func callerFrom(ctx context.Context) *caller { return ctx.Value(ctxKey{}).(*caller) }

// revocation is the record of the caller ending sessions at at, for
// reason.
func (c *caller) revocation(reason string, at time.Time) store.Revocation {
	return store.Revocation{At: at, Reason: reason, BySessionID: c.session.ID, ByDeviceName: c.session.Device.Name}
}

// revocationErasing is revocation, asking the ended devices to erase the
// account's data when erase is set.
func (c *caller) revocationErasing(reason string, at time.Time, erase bool) store.Revocation {
	r := c.revocation(reason, at)
	r.Erase = erase
	return r
}

// authed wraps a handler that needs a valid access token. The session is
// read from the store on every request, so a revoke takes effect the moment
// it is committed.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok {
			return &apiError{status: http.StatusUnauthorized, code: api.CodeInvalidToken,
				msg: "Sign in first: the request has no bearer token."}
		}
		sess, err := s.store.SessionByAccessHash(r.Context(), token.Hash(tok))
		if errors.Is(err, store.ErrNotFound) {
			return errInvalidToken()
		}
		if err != nil {
			return storeErr(err)
		}
		now := s.now()
		if sess.Revoked != nil {
			// The session's own access token: the answer may carry a
			// closure token.
			return s.errRevokedOwn(r.Context(), sess, "")
		}
		if err := s.checkLive(sess, now); err != nil {
			return err
		}
		if !now.Before(sess.AccessExpiresAt) {
			return &apiError{status: http.StatusUnauthorized, code: api.CodeTokenExpired,
				msg: "The access token has expired; refresh it."}
		}
		ip := s.clientIP(r)
		if now.Sub(sess.LastSeenAt) >= s.cfg.TouchInterval {
			t := store.Touch{LastSeenAt: now, ExpiresAt: s.expiry(sess, now), IP: ipString(ip), Location: s.locate(ip)}
			if err := s.store.TouchSession(r.Context(), sess.ID, t); err != nil && !errors.Is(err, store.ErrRevoked) {
				return storeErr(err)
			}
			sess.LastSeenAt, sess.ExpiresAt, sess.IP, sess.Location = t.LastSeenAt, t.ExpiresAt, t.IP, t.Location
		}
		ctx := context.WithValue(r.Context(), ctxKey{}, &caller{session: sess, ip: ip})
		return h(w, r.WithContext(ctx))
	}
}

// checkLive answers a revoked or expired session.
func (s *Server) checkLive(sess store.Session, now time.Time) error {
	if sess.Revoked != nil {
		return errSessionRevoked(sess)
	}
	if !now.Before(sess.ExpiresAt) {
		return &apiError{status: http.StatusUnauthorized, code: api.CodeSessionExpired,
			msg: "This session has expired. Sign in again."}
	}
	return nil
}

// absoluteExpiry is the hard end of a session signed in at from:
// RememberMaxTTL later for a remembered one, SessionTTL otherwise.
func (s *Server) absoluteExpiry(remember bool, from time.Time) time.Time {
	if remember {
		return from.Add(s.cfg.RememberMaxTTL)
	}
	return from.Add(s.cfg.SessionTTL)
}

// expiry is a session's effective end if it is used at now.
func (s *Server) expiry(sess store.Session, now time.Time) time.Time {
	if !sess.Remember {
		return sess.AbsoluteExpiresAt
	}
	idle := now.Add(s.cfg.RememberIdleTTL)
	if idle.Before(sess.AbsoluteExpiresAt) {
		return idle
	}
	return sess.AbsoluteExpiresAt
}

// stepUp demands a recent password proof.
func (s *Server) stepUp(sess store.Session, now time.Time) error {
	if now.Sub(sess.AuthTime) <= s.cfg.ReauthWindow {
		return nil
	}
	return &apiError{status: http.StatusForbidden, code: api.CodeReauthRequired,
		msg: "Confirm your password to continue."}
}

// steppedUp starts a step-up action that works on the account: it
// refuses a caller whose password proof is not recent (stepUp), then
// reads the account. It returns the caller, the account and the time the
// action takes place at.
func (s *Server) steppedUp(r *http.Request) (*caller, store.Account, time.Time, error) {
	c, now := callerFrom(r.Context()), s.now()
	if err := s.stepUp(c.session, now); err != nil {
		return nil, store.Account{}, now, err
	}
	acct, err := s.account(r.Context(), c.session.AccountID)
	return c, acct, now, err
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(p):])
	return tok, tok != ""
}
