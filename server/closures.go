package server

// Closures you can verify: every revocation gives the ended session a
// receipt to send, and may ask its device to erase the account's data.
//
//   - The revoke calls take erase=true (DELETE /v1/sessions/{id},
//     DELETE /v1/sessions?scope=others): the revocation records that the
//     device was asked to erase this account's data from the install.
//   - Every session.revoked event, and every 401 session_revoked answered
//     to a request carrying the session's own current token (its access
//     token, or a refresh token that is live or rotated within the grace),
//     carries erase and, while the closure waits for its receipt, a
//     closure token: 256 bits, single use, stored only as its SHA-256 like
//     every token, found by that hash (so no comparison ever depends on
//     the token's bytes). The event goes to the session's own streams
//     only; no other session, of this account or another, ever sees it.
//   - POST /v1/closures {closure_token, erased} (no bearer) records the
//     receipt (204), audited session.closure_confirmed, and tells the
//     account's streams sessions.changed; the token, and every other token
//     of the closure, then fails with 401 invalid_token.
//   - GET /v1/sessions?state=ended lists the sessions ended in the last 30
//     days with their closure.
//
// What a closure token can do: confirm that one closure, once. It signs
// nothing in, reads nothing, ends nothing: a token stolen from the event
// can only mark the closure confirmed (which its holder, holding the
// device's tokens, could make true anyway). Unknown or spent tokens count
// against the sender's address like unknown sign-in credentials.
//
// Which revocations issue tokens:
//   - remote log out, log out of the others, a password change that logs
//     the others out: a token per ended session, minted in the revocation's
//     transaction (closureMint) and sent in its event;
//   - reauth_failed: the same, and the request that gave the last wrong
//     answer gets the token in its 401 (it holds the session's access
//     token);
//   - refresh_token_reuse: the same, in the event to the session's streams
//     (whoever holds its current access token); the request that presented
//     the old refresh token gets no token, since that token was copied;
//   - the operator's logout-all and set-password: the command cannot put a
//     token in the outbox (it would lie there in clear), so a serving
//     replica that holds the session's stream mints one as it delivers the
//     event (deliverOutbox), and a device that was offline gets one on its
//     next call;
//   - a log out of the session itself (POST /v1/logout, DELETE of its own
//     id): no token, the closure is confirmed at once; that call was its
//     receipt (with erase=true, it says the device erases).
//   - Erase is only ever asked for by a person at a revoke call: the server
//     never decides on its own to erase a device.
//
// A device offline at the revocation gets a fresh token on each of its
// next calls (at most closureMintBurst per session in closureMintWindow,
// and the session keeps its store.MaxClosureTokens newest), so a receipt
// can come days later.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/token"
)

// Limits of closure tokens minted on 401 answers: per session, at most
// closureMintBurst in any closureMintWindow on one replica; past it the
// 401 carries no token (the device's earlier ones still work).
const (
	closureMintBurst  = 16
	closureMintWindow = 10 * time.Minute
)

// maxClosureToken is the longest closure_token POST /v1/closures reads.
const maxClosureToken = 128

// closureMint makes one revocation's closure tokens: each ended session's
// token is derived from a key made for the revocation and the session's
// ID (token.Derive), so the store can ask for any ended session's hash
// inside its transaction, as often as it runs it, and the server can put
// each device's token in its event afterwards. The key is never stored.
type closureMint struct{ key [32]byte }

func newClosureMint() *closureMint {
	m := &closureMint{}
	_, _ = rand.Read(m.key[:])
	return m
}

// token is the closure token of the ended session id.
func (m *closureMint) token(id string) string {
	return token.Derive(token.PrefixClosure, m.key[:], id)
}

// hash is store.ClosureFunc: the stored form of id's token.
func (m *closureMint) hash(id string) []byte { return token.Hash(m.token(id)) }

// fn is the mint as a store.ClosureFunc; nil for a nil mint.
func (m *closureMint) fn() store.ClosureFunc {
	if m == nil {
		return nil
	}
	return m.hash
}

// eventToken is the closure token session.revoked carries for the ended
// session e: none without a mint or when its closure is confirmed.
func (m *closureMint) eventToken(e store.Session) string {
	if m == nil || e.Receipt != nil {
		return ""
	}
	return m.token(e.ID)
}

// closureView is the closure of a revoked session as the API shows it.
func closureView(s store.Session) *api.Closure {
	if s.Revoked == nil {
		return nil
	}
	c := &api.Closure{State: api.ClosurePending, EraseRequested: s.Revoked.Erase}
	if rc := s.Receipt; rc != nil {
		at := rc.At
		c.State, c.Erased, c.ConfirmedAt = api.ClosureConfirmed, rc.Erased, &at
	}
	return c
}

// eraseParam reads the erase query parameter of a revoke call: absent,
// "false" or "true".
func eraseParam(q map[string][]string) (bool, error) {
	vs := q["erase"]
	if len(vs) == 0 {
		return false, nil
	}
	if len(vs) > 1 {
		return false, errInvalid("erase", `Give erase once: "true" or "false".`)
	}
	switch vs[0] {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errInvalid("erase", `erase must be "true" or "false".`)
}

// errRevokedOwn answers a request that carried sess's own current token
// (its access token, or its live refresh token) now that sess is revoked:
// 401 session_revoked with the revocation's details and, while the
// closure waits for its receipt, a closure token for it: given when the
// caller already holds one (the revocation it just made), else a fresh
// one (at most closureMintBurst per session in closureMintWindow; past it,
// none). A failure to store one is logged, and the answer goes without:
// the 401 is what matters.
func (s *Server) errRevokedOwn(ctx context.Context, sess store.Session, given string) error {
	e := errSessionRevoked(sess)
	if sess.Receipt != nil {
		return e
	}
	if given == "" {
		given = s.mintClosureToken(ctx, sess.ID)
	}
	if given != "" {
		e.details[api.DetailClosureToken] = given
	}
	return e
}

// mintClosureToken issues a fresh closure token for the revoked session
// id and returns it; "" when the session's budget is spent or the store
// refuses (a confirmed closure, say).
func (s *Server) mintClosureToken(ctx context.Context, id string) string {
	key := "closure:" + id
	if _, ok := s.closureMints.Check(key); !ok {
		return ""
	}
	s.closureMints.Fail(key) // counts a token handed out
	tok := token.New(token.PrefixClosure)
	if err := s.store.IssueClosureToken(ctx, id, token.Hash(tok), s.now()); err != nil {
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("could not issue a closure token", "session", id, "err", err)
		}
		return ""
	}
	return tok
}

// handleConfirmClosure is POST /v1/closures: an ended session's device
// sends its receipt.
func (s *Server) handleConfirmClosure(w http.ResponseWriter, r *http.Request, req api.ClosureRequest) error {
	if err := checkClosureToken(req.ClosureToken); err != nil {
		return err
	}
	ctx, ip, now := r.Context(), s.clientIP(r), s.now()
	limitKey := "ip:" + addrKey(ip)
	if wait, ok := s.ipLimit.Check(limitKey); !ok {
		return errRateLimited(wait)
	}
	ended, err := s.store.ConfirmClosure(ctx, token.Hash(req.ClosureToken), now, req.Erased,
		func(before store.Session) api.AuditEvent {
			e := s.eventFrom(ip, before.Device.Name, api.AuditSessionClosureConfirmed, closureDetail(before, now, req.Erased))
			e.SessionID, e.TargetSessionID, e.TargetDeviceName = before.ID, before.ID, before.Device.Name
			e.At = now
			return s.stamp(e)
		})
	if errors.Is(err, store.ErrNotFound) {
		// Too long to guess: counted only so floods of them stay cheap.
		s.ipLimit.Fail(limitKey)
		return &apiError{status: http.StatusUnauthorized, code: api.CodeInvalidToken,
			msg: "This closure token is not valid: it was used already, or its session is gone."}
	}
	if err != nil {
		return storeErr(err)
	}
	s.metrics.closures.WithLabelValues(strconv.FormatBool(req.Erased)).Inc()
	if ended.Revoked != nil && ended.Receipt != nil {
		s.metrics.receiptDelay.Observe(ended.Receipt.At.Sub(ended.Revoked.At).Seconds())
	}
	s.publish(Event{AccountID: ended.AccountID, Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkClosureToken validates the shape of a receipt's closure_token (not
// its truth): present, and no longer than any token this server makes.
func checkClosureToken(tok string) error {
	switch {
	case tok == "":
		return errInvalid("closure_token", "closure_token is required: the token of the session.revoked event or of the session_revoked answer.")
	case len(tok) > maxClosureToken:
		return errInvalid("closure_token", "closure_token is too long.")
	}
	return nil
}

// closureDetail is the detail of session.closure_confirmed: that the
// device confirmed, whether it erased, and how long after the revocation.
func closureDetail(before store.Session, now time.Time, erased bool) string {
	d := "Confirmed it was logged out"
	switch {
	case erased:
		d += "; its Sessionguard data for this account erased"
	case before.Revoked != nil && before.Revoked.Erase:
		d += "; its Sessionguard data was not erased"
	}
	if before.Revoked != nil {
		d += fmt.Sprintf(" (%s after the log out)", api.Delay(now.Sub(before.Revoked.At)))
	}
	return d
}

// Ended-session cursors are opaque to clients: base64url of
// "e" + unixmicro + "." + id, told apart from live-list cursors by the "e".
func encodeEndedCursor(c store.EndedCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte("e" + strconv.FormatInt(c.RevokedAt.UnixMicro(), 10) + "." + c.ID))
}

func decodeEndedCursor(v string) (*store.EndedCursor, error) {
	bad := errInvalid("cursor", "cursor is not one this server gave out for ended sessions.")
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	rest, ok := strings.CutPrefix(string(b), "e")
	if !ok {
		return nil, bad
	}
	ts, id, ok := strings.Cut(rest, ".")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return nil, bad
	}
	return &store.EndedCursor{RevokedAt: time.UnixMicro(n).UTC(), ID: id}, nil
}

// listEndedSessions answers GET /v1/sessions?state=ended: the account's
// sessions ended in the last api.EndedSessionsDays days, the most
// recently ended first, each with its closure.
func (s *Server) listEndedSessions(w http.ResponseWriter, r *http.Request, limit int, cursor string) error {
	var (
		after *store.EndedCursor
		err   error
	)
	if cursor != "" {
		if after, err = decodeEndedCursor(cursor); err != nil {
			return err
		}
	}
	self := callerFrom(r.Context()).session
	since := s.now().Add(-api.EndedSessionsDays * 24 * time.Hour)
	ended, err := s.store.ListEndedSessions(r.Context(), self.AccountID, since, after, limit+1)
	if err != nil {
		return storeErr(err)
	}
	resp := api.SessionsPage{Sessions: []api.Session{}}
	if len(ended) > limit {
		ended = ended[:limit]
		l := ended[limit-1]
		resp.NextCursor = encodeEndedCursor(store.EndedCursor{RevokedAt: l.Revoked.At, ID: l.ID})
	}
	for _, e := range ended {
		resp.Sessions = append(resp.Sessions, sessionView(e, self.ID))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// withOutboxClosure gives a session.revoked event from the outbox (an
// operator command's, which carries no closure token) a fresh one when
// this replica holds a stream of the session, so that a device watching
// its stream can send its receipt. Other events pass as they are.
func (s *Server) withOutboxClosure(ctx context.Context, e Event) Event {
	if e.Name != api.EventSessionRevoked || e.SessionID == "" || !s.hub.hasStream(e.SessionID) {
		return e
	}
	raw, ok := e.Data.(json.RawMessage)
	if !ok {
		return e
	}
	var d api.SessionRevokedEvent
	if err := json.Unmarshal(raw, &d); err != nil || d.ClosureToken != "" {
		return e
	}
	if d.ClosureToken = s.mintClosureToken(ctx, e.SessionID); d.ClosureToken == "" {
		return e
	}
	e.Data = d
	return e
}
