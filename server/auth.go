package server

// Authentication of signed-in calls: the access token (Bearer, or DPoP
// with a proof for a session bound to its device's key: dpop.go), checked
// against the store on every request (authed), the session's lifetime,
// and step-up, the recent password proof some actions need.

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
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
// it is committed. The request is use of the session (see rules.go): a
// session past its idle deadline is ended by it, and any other's last use
// moves to now.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return s.authenticated(h, true)
}

// authedStream is authed for the event stream, whose opening is not use:
// the session must be live (and not past its idle deadline) as for any
// call, but its last use stays where it was.
func (s *Server) authedStream(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return s.authenticated(h, false)
}

func (s *Server) authenticated(h func(http.ResponseWriter, *http.Request) error, use bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		cred, err := readCredentials(r.Header)
		if err != nil {
			return err
		}
		now := s.now()
		// A proof no key signed is refused before the token is looked
		// up: it says nothing about the token, live or not.
		p := s.checkProof(r, cred.proofs, cred.token, now)
		if p.unsigned() {
			return s.errProof(http.StatusUnauthorized, p.err)
		}
		sess, err := s.store.SessionByAccessHash(r.Context(), token.Hash(cred.token))
		if errors.Is(err, store.ErrNotFound) {
			return errInvalidToken()
		}
		if err != nil {
			return storeErr(err)
		}
		ip := s.clientIP(r)
		// Before anything else about the session: a copied bound token
		// learns nothing (not even that the session ended) and changes
		// nothing (no closure token, no idle end, no use).
		if err := s.holdsKey(r.Context(), sess, p, ip, now, http.StatusUnauthorized); err != nil {
			return err
		}
		if sess.Revoked != nil {
			// The session's own access token: the answer may carry a
			// closure token.
			return s.errRevokedOwn(r.Context(), sess, "")
		}
		if s.idleDueHere(sess, now) {
			// Unused past its rule: this request ends it (its token,
			// expired or not, is the session's own).
			if sess, err = s.endIdleOwn(r.Context(), sess, ip, now, true); err != nil {
				return err
			}
		}
		if err := s.checkLive(sess, now); err != nil {
			return err
		}
		if !now.Before(sess.AccessExpiresAt) {
			return &apiError{status: http.StatusUnauthorized, code: api.CodeTokenExpired,
				msg: "The access token has expired; refresh it."}
		}
		if use && (!background(r) || movedFrom(sess, ip)) {
			if err := s.used(r.Context(), &sess, ip, now); err != nil {
				return err
			}
		}
		ctx := context.WithValue(r.Context(), ctxKey{}, &caller{session: sess, ip: ip})
		return h(w, r.WithContext(ctx))
	}
}

// used records a request of sess at now from ip: written at once
// (TouchSession: last use, expiry, address and place) when its last write
// is TouchInterval old or more, otherwise noted for the background loop
// to write (rules.go).
func (s *Server) used(ctx context.Context, sess *store.Session, ip netip.Addr, now time.Time) error {
	if now.Sub(sess.LastSeenAt) < s.cfg.TouchInterval {
		s.usage.note(sess.ID, now, s.expiry(*sess, now))
		return nil
	}
	t := store.Touch{LastSeenAt: now, ExpiresAt: s.expiry(*sess, now), IP: ipString(ip), Location: s.locate(ip)}
	if err := s.store.TouchSession(ctx, sess.ID, t); err != nil && !errors.Is(err, store.ErrRevoked) {
		return storeErr(err)
	}
	sess.LastSeenAt, sess.ExpiresAt, sess.IP, sess.Location = t.LastSeenAt, t.ExpiresAt, t.IP, t.Location
	return nil
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

// background reports whether the app made r by itself, not the person
// (api.HeaderBackground): it is not use of the session.
func background(r *http.Request) bool { return r.Header.Get(api.HeaderBackground) == "1" }

// movedFrom reports whether a request of sess comes from another address
// than its last use. A "background" request from elsewhere counts as use
// all the same: the header is the client's word, and a stolen token must
// not read the account from a new place while the owner's list still
// shows the session idle where it was.
func movedFrom(sess store.Session, ip netip.Addr) bool { return ipString(ip) != sess.IP }
