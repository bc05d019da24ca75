package server

// Device-bound tokens (issue 21; DESIGN "Device-bound tokens"; RFC 9449).
//
// A sign-in may carry a DPoP proof: the session is then bound to the
// thumbprint of the key that signed it (store.Session.JKT), and its
// refresh and every authenticated call need a fresh proof signed by that
// key. A bound token used without a proof, or with another key's, is
// refused 401 invalid_token (details.reason "dpop"), audited once per
// session (session.dpop_refused), and nothing else: the owner's device
// keeps working. A proof that is there but not valid is answered
// invalid_dpop_proof: 400 on sign-in and refresh, 401 on other calls.
//
// Proofs are checked by dpop.Check (go-jose), replays refused by one
// dpop.Replays per Server: per replica. Replicas share the bound key (the
// JKT is in the database) but not the proofs each has seen, so a proof
// replayed to another replica within the window is not caught there; the
// window is short (dpop.Window), and the proof names one request (its
// method, URL and access token).

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/server/store"
)

// credentials are what a request presents to authenticate: its access
// token and its DPoP header fields. Which of the two schemes the token
// came with does not matter: a bound session needs its proof with either,
// an unbound one takes either without.
type credentials struct {
	token  string
	proofs []string
}

// errNoToken refuses a call without an access token.
func errNoToken() *apiError {
	return &apiError{status: http.StatusUnauthorized, code: api.CodeInvalidToken,
		msg: "Sign in first: the request has no access token (Authorization: Bearer or DPoP)."}
}

// readCredentials reads a request's Authorization ("Bearer <token>" or
// "DPoP <token>", the scheme in any case) and its DPoP header fields. It
// is errNoToken without a token; the proofs are checked later
// (checkProof).
func readCredentials(h http.Header) (credentials, error) {
	a := h.Get("Authorization")
	scheme, tok, _ := strings.Cut(a, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, dpop.Scheme) || tok == "" {
		return credentials{}, errNoToken()
	}
	return credentials{token: tok, proofs: h.Values(dpop.Header)}, nil
}

// proof is a request's DPoP header as checked by checkProof.
type proof struct {
	// present: the request has a DPoP header.
	present bool
	// checked is what a valid proof says (err nil).
	checked dpop.Checked
	// err is why the proof is not valid (nil: it is).
	err *dpop.Error
	// signer is the thumbprint of the key whose signature the proof
	// carries, valid or not in every other way; "" when no signature
	// verifies (then nothing ties the proof to any key).
	signer string
}

// unsigned reports whether the request carries a proof that no key signed
// (malformed, or a bad signature): refused before its token is even
// looked up, so such a proof tells nothing about the token.
func (p proof) unsigned() bool { return p.present && p.err != nil && p.signer == "" }

// checkProof checks the DPoP header fields fields of r, made for the
// access token tok ("" for a request without one) at now. It changes
// nothing: a valid proof is spent (Replays) once the caller accepts it.
func (s *Server) checkProof(r *http.Request, fields []string, tok string, now time.Time) proof {
	if len(fields) == 0 {
		return proof{}
	}
	p := proof{present: true}
	if len(fields) > 1 {
		p.err = &dpop.Error{Reason: dpop.ErrMalformed, Detail: "more than one DPoP header"}
		return p
	}
	c, err := dpop.Check(fields[0], dpop.Request{Method: r.Method, Host: s.requestHost(r),
		Path: r.URL.EscapedPath(), AccessToken: tok}, now)
	if err == nil {
		p.checked, p.signer = c, c.JKT
		return p
	}
	if !errors.As(err, &p.err) {
		p.err = &dpop.Error{Reason: dpop.ErrMalformed, Detail: err.Error()}
	}
	p.signer = proofSigner(fields[0])
	return p
}

// proofSigner is the thumbprint of the key embedded in proof when its
// signature verifies with that key, else "". It is for proofs dpop.Check
// refused: one signed by a key that is not a bound session's is "another
// key" whatever else is wrong with it.
func proofSigner(proof string) string {
	if proof == "" || len(proof) > dpop.MaxProofLen {
		return ""
	}
	jws, err := jose.ParseSignedCompact(proof, dpop.Algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return ""
	}
	jwk := jws.Signatures[0].Protected.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return ""
	}
	if _, err := jws.Verify(jwk); err != nil {
		return ""
	}
	jkt, err := dpop.Thumbprint(jwk)
	if err != nil {
		return ""
	}
	return jkt
}

// spend records a valid proof as used (Replays): a second use is
// refused invalid_dpop_proof (status: 400 on sign-in and refresh, 401 on
// other calls), and a full memory 503.
func (s *Server) spend(c dpop.Checked, now time.Time, status int) error {
	err := s.replays.Use(c, now)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, dpop.ErrReplaysFull):
		s.metrics.dpopRefusals.WithLabelValues("replays_full").Inc()
		return errBusy("The server is checking too many device proofs right now. Try again in a moment.", 5*time.Second)
	default:
		var e *dpop.Error
		if !errors.As(err, &e) {
			e = &dpop.Error{Reason: dpop.ErrReplay}
		}
		return s.errProof(status, e)
	}
}

// holdsKey checks that a request using sess proves what the session
// needs, with its proof p: a bound session needs a valid proof signed by
// its key, spent here; an unbound one takes a request without a proof
// and checks (and spends) one that is there. A bound session's token
// without its key is refused and audited (refuseCopy); an invalid proof
// is invalid_dpop_proof with status (400 on refresh, 401 on calls).
func (s *Server) holdsKey(ctx context.Context, sess store.Session, p proof, ip netip.Addr, now time.Time, status int) error {
	switch {
	case !p.present && sess.JKT == "":
		return nil
	case !p.present:
		return s.refuseCopy(ctx, sess, ip, false)
	case sess.JKT != "" && p.signer != sess.JKT:
		return s.refuseCopy(ctx, sess, ip, true)
	case p.err != nil:
		return s.errProof(status, p.err)
	}
	return s.spend(p.checked, now, status)
}

// refuseCopy answers a bound session's token used without its key (no
// proof, or another key's: otherKey) with 401 invalid_token, details
// reason "dpop", and audits it the first time for the session
// (store.MarkDPoPRefused; the event is about the session, from where the
// copy was used). It ends nothing: the device that holds the key goes on.
func (s *Server) refuseCopy(ctx context.Context, sess store.Session, ip netip.Addr, otherKey bool) error {
	reason, what := "missing", "no proof"
	if otherKey {
		reason, what = "other_key", "another key"
	}
	s.metrics.dpopRefusals.WithLabelValues(reason).Inc()
	if !s.dpopAudited.has(sess.ID) {
		ev := s.eventFrom(ip, sess.Device.Name, api.AuditDPoPRefused,
			"Its token was used without the key on its device ("+what+")")
		ev.SessionID, ev.TargetSessionID, ev.TargetDeviceName = sess.ID, sess.ID, sess.Device.Name
		// Written even if the client hangs up at once: hanging up must
		// not keep a copied token's use out of the log.
		first, err := s.store.MarkDPoPRefused(context.WithoutCancel(ctx), sess.ID, s.stamp(ev))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return storeErr(err)
		}
		s.dpopAudited.add(sess.ID)
		if first {
			s.log.Warn("bound session's token used without its key: refused and audited",
				"session", sess.ID, "ip", ipString(ip), "proof", what)
		}
	}
	return errCopiedToken(otherKey)
}

// errCopiedToken is the answer to a bound token used without its key.
func errCopiedToken(otherKey bool) *apiError {
	msg := "This session is bound to the device it signed in on: its token works only with a proof (DPoP) from that device's key."
	if otherKey {
		msg = "This session is bound to another device's key: its token does not work with this one."
	}
	h := http.Header{}
	h.Set("WWW-Authenticate", dpop.Scheme+` error="invalid_token"`)
	return &apiError{status: http.StatusUnauthorized, code: api.CodeInvalidToken, msg: msg,
		details: map[string]any{api.DetailReason: api.ReasonDPoP}, header: h}
}

// errProof answers a proof that is not valid: invalid_dpop_proof with
// status, a message saying what is wrong, WWW-Authenticate naming the
// error, and the refusal counted by its reason.
func (s *Server) errProof(status int, e *dpop.Error) *apiError {
	label, msg := proofProblem(e.Reason)
	s.metrics.dpopRefusals.WithLabelValues(label).Inc()
	h := http.Header{}
	h.Set("WWW-Authenticate", dpop.Scheme+` error="invalid_dpop_proof"`)
	return &apiError{status: status, code: api.CodeInvalidDPoPProof, msg: msg, header: h, cause: e}
}

// errBoundOnly refuses a sign-in without a proof on a server that takes
// bound sign-ins only (Config.RequireBound).
func (s *Server) errBoundOnly() *apiError {
	s.metrics.dpopRefusals.WithLabelValues("unbound_sign_in").Inc()
	h := http.Header{}
	h.Set("WWW-Authenticate", dpop.Scheme+` error="invalid_dpop_proof"`)
	return &apiError{status: http.StatusBadRequest, code: api.CodeInvalidDPoPProof, header: h,
		msg: "This server takes device-bound sign-ins only (a DPoP proof with the sign-in): update the app."}
}

// proofProblem is the metric label and the message of a proof refused
// for reason (a dpop.Err value).
func proofProblem(reason error) (label, msg string) {
	switch reason {
	case dpop.ErrType:
		return "typ", "The DPoP proof's typ must be dpop+jwt."
	case dpop.ErrKey:
		return "jwk", "The DPoP proof carries no usable public key (jwk)."
	case dpop.ErrSignature:
		return "signature", "The DPoP proof's signature does not verify."
	case dpop.ErrMethod:
		return "htm", "The DPoP proof was made for another method (htm): make one for this request."
	case dpop.ErrURL:
		return "htu", "The DPoP proof was made for another URL (htu): make one for this request's URL."
	case dpop.ErrTime:
		return "iat", "The DPoP proof's time (iat) is more than " + dpop.Window.String() +
			" from the server's: check the device's clock."
	case dpop.ErrATH:
		return "ath", "The DPoP proof was made for another access token (ath), or names one on a request without one."
	case dpop.ErrReplay:
		return "replay", "This DPoP proof was used before: make a fresh one for each request."
	}
	return "malformed", "The DPoP proof is malformed: send one compact JWS (ES256 or EdDSA) in one DPoP header."
}

// signInProof wraps a sign-in route (any that may answer with a new
// session): a DPoP proof on the request (no ath) is checked (not spent:
// see below) before the handler runs, and the session it starts is bound to the
// proof's key (signInKey). An invalid proof is 400 invalid_dpop_proof; no
// proof is fine, unbound, unless Config.RequireBound.
func (s *Server) signInProof(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		now := s.now()
		p := s.checkProof(r, r.Header.Values(dpop.Header), "", now)
		switch {
		case !p.present && s.cfg.RequireBound:
			return s.errBoundOnly()
		case !p.present:
			return h(w, r)
		case p.err != nil:
			return s.errProof(http.StatusBadRequest, p.err)
		}
		// A sign-in's proof is not spent (Replays): replayed, with the
		// password it came with, it makes a session bound to a key the
		// replayer doesn't hold; spent, it would let anyone, without an
		// account, fill the replay memory until every bound call is
		// refused 503. Proofs are spent once a session's token checks.
		return h(w, r.WithContext(context.WithValue(r.Context(), signInKeyCtx{}, p.checked.JKT)))
	}
}

type signInKeyCtx struct{}

// signInKey is the thumbprint of the key a sign-in's proof was signed
// with (signInProof), "" for none.
func signInKey(ctx context.Context) string {
	jkt, _ := ctx.Value(signInKeyCtx{}).(string)
	return jkt
}

// sessionSet is a bounded set of session IDs: the sessions whose refused
// use this replica audited already, so a copied token tried again and
// again writes once, not once per request. At max it starts over (the
// store still writes each session's event once).
type sessionSet struct {
	mu  sync.Mutex
	max int
	m   map[string]struct{}
}

func newSessionSet(max int) *sessionSet {
	return &sessionSet{max: max, m: map[string]struct{}{}}
}

func (s *sessionSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[id]
	return ok
}

func (s *sessionSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		clear(s.m)
	}
	s.m[id] = struct{}{}
}
