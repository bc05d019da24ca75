package server

// The account's sessions: the list (GET /v1/sessions), renaming one's
// device (PATCH /v1/sessions/{id}), ending one (DELETE
// /v1/sessions/{id}: this device's own, or another's remotely) and ending
// all the others (DELETE /v1/sessions?scope=others), with what every end
// of a session tells the devices.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"sessionguard/api"
	"sessionguard/server/store"
)

// Session cursors are opaque to clients: base64url of "unixmicro.id".
func encodeSessionCursor(c store.SessionCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.LastSeenAt.UnixMicro(), 10) + "." + c.ID))
}

func decodeSessionCursor(v string) (*store.SessionCursor, error) {
	bad := errInvalid("cursor", "cursor is not one this server gave out.")
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	ts, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return nil, bad
	}
	return &store.SessionCursor{LastSeenAt: time.UnixMicro(n).UTC(), ID: id}, nil
}

// beforeAll is the cursor position ahead of every session.
var beforeAll = store.SessionCursor{LastSeenAt: time.Unix(1<<40, 0).UTC()}

// handleListSessions answers GET /v1/sessions: a page of the account's
// live sessions (or, with state=ended, of those ended lately). With q, only
// the live sessions that match it (store.Store.SearchSessions): this device
// first on the first page if it matches, then the others, paged by the same
// keyset cursor. The first page (no cursor) carries the counts of the
// sessions that match (all of them without q): this device counts as
// matching as the store judges it, and as active today whatever the store
// says of its last use (it is making this request).
func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		return err
	}
	search, err := sessionQuery(q)
	if err != nil {
		return err
	}
	cursor := q.Get("cursor")
	switch q.Get("state") {
	case "", api.SessionsLive:
	case api.SessionsEnded:
		if search != "" {
			return errInvalid("q", "Search (q) looks in the live sessions only: send it without state=ended.")
		}
		return s.listEndedSessions(w, r, limit, cursor)
	default:
		return errInvalid("state", `state must be "live" or "ended".`)
	}
	ctx, self, now := r.Context(), callerFrom(r.Context()).session, s.now()
	page := []api.Session{}
	after := &beforeAll
	var counts *api.SessionCounts
	if cursor != "" {
		if after, err = decodeSessionCursor(cursor); err != nil {
			return err
		}
	} else {
		c, err := s.store.CountSessions(ctx, self.AccountID, self.ID, now, now.Add(-api.ActiveTodayWindow), search)
		if err != nil {
			return storeErr(err)
		}
		counts = &api.SessionCounts{Total: c.Total, ActiveToday: c.Active}
		if c.Current || search == "" {
			page = append(page, sessionView(self, self.ID)) // this device first
			counts.Total++
			counts.ActiveToday++
		}
	}
	want := limit - len(page)
	others, err := s.store.SearchSessions(ctx, self.AccountID, self.ID, now, search, after, want+1)
	if err != nil {
		return storeErr(err)
	}
	resp := api.SessionsPage{Sessions: page, Counts: counts}
	if len(others) > want {
		others = others[:want]
		last := beforeAll
		if want > 0 {
			l := others[want-1]
			last = store.SessionCursor{LastSeenAt: l.LastSeenAt, ID: l.ID}
		}
		resp.NextCursor = encodeSessionCursor(last)
	}
	for _, o := range others {
		resp.Sessions = append(resp.Sessions, sessionView(o, self.ID))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// sessionQuery reads q, the search of GET /v1/sessions: trimmed, at most
// api.SessionQueryMaxLen characters, none of them a control or invisible
// formatting character (hiddenRune: no device name holds one). Empty: no
// search.
func sessionQuery(v url.Values) (string, error) {
	q := strings.TrimSpace(v.Get("q"))
	if utf8.RuneCountInString(q) > api.SessionQueryMaxLen {
		return "", errInvalid("q", fmt.Sprintf("The search (q) is longer than %d characters.", api.SessionQueryMaxLen))
	}
	if !utf8.ValidString(q) || strings.IndexFunc(q, hiddenRune) >= 0 {
		return "", errInvalid("q", "The search (q) has characters that are not allowed (control or invisible formatting characters).")
	}
	return q, nil
}

func sessionView(s store.Session, currentID string) api.Session {
	v := api.Session{
		ID: s.ID, Current: s.ID == currentID, Device: s.Device, IP: s.IP, Location: s.Location,
		CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, AuthTime: s.AuthTime,
		ExpiresAt: s.ExpiresAt, Remember: s.Remember, IdleTimeoutS: int(s.IdleTimeout / time.Second),
		Bound: s.JKT != "",
	}
	if s.Revoked != nil {
		at := s.Revoked.At
		v.RevokedAt, v.RevokeReason = &at, s.Revoked.Reason
		v.RevokedBySessionID, v.RevokedByDeviceName = s.Revoked.BySessionID, s.Revoked.ByDeviceName
		v.Closure = closureView(s)
	}
	return v
}

// handleUpdateSession changes one session of the account (PATCH
// /v1/sessions/{id}), the caller's own included: the name of its device,
// its own inactivity rule (idle_timeout_s, 0: none), or both. It needs no
// step-up (it reveals and ends nothing the caller could not end by
// leaving the device alone), but it is audited (session.renamed,
// session.rules_changed), the change and its events in one store write,
// and the account's streams are told the list changed. A session that has
// ended (revoked, expired, or unused past its rule) is not found: there is
// no device left to change. What equals the current value changes nothing
// and writes nothing. A rule the session is already unused for longer than
// ends it at once (reason inactive): the answer then shows it ended.
func (s *Server) handleUpdateSession(w http.ResponseWriter, r *http.Request, req api.UpdateSessionRequest) error {
	if req.Name == nil && req.IdleTimeoutS == nil {
		return errInvalid("name", "Send the device's new name (name), its inactivity rule (idle_timeout_s), or both.")
	}
	var (
		name string
		err  error
	)
	if req.Name != nil {
		if name, err = checkDeviceName(*req.Name); err != nil {
			return err
		}
	}
	if req.IdleTimeoutS != nil {
		// The bounds that do not depend on the session, before looking it up.
		if _, err := checkIdleTimeout(*req.IdleTimeoutS, s.cfg.MinIdleTimeout, 0); err != nil {
			return err
		}
	}
	c := callerFrom(r.Context())
	ctx, self, now := r.Context(), c.session, s.now()
	target := self
	if id := r.PathValue("id"); id != self.ID {
		target, err = s.store.Session(ctx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && target.AccountID != self.AccountID) {
			return errNotFound("No such session on this account.")
		}
		if err != nil {
			return storeErr(err)
		}
	}
	if target.Revoked != nil || !now.Before(target.ExpiresAt) || idleDue(target, now) {
		return errSessionEnded()
	}
	var u store.SessionUpdate
	if req.Name != nil && name != target.Device.Name {
		u.Name = &name
	}
	if req.IdleTimeoutS != nil {
		rule, err := checkIdleTimeout(*req.IdleTimeoutS, s.cfg.MinIdleTimeout, target.AbsoluteExpiresAt.Sub(target.CreatedAt))
		if err != nil {
			return err
		}
		if rule != target.IdleTimeout {
			u.IdleTimeout = &rule
		}
	}
	if u.Name == nil && u.IdleTimeout == nil {
		writeJSON(w, http.StatusOK, api.UpdateSessionResponse{Session: sessionView(target, self.ID)})
		return nil
	}
	renamed := s.eventBy(c, api.AuditSessionRenamed, "")
	ruled := s.eventBy(c, api.AuditSessionRulesChanged, "")
	updated, err := s.store.UpdateSession(ctx, self.AccountID, target.ID, u, func(before store.Session) []api.AuditEvent {
		var evs []api.AuditEvent
		newName := before.Device.Name
		if u.Name != nil && *u.Name != before.Device.Name {
			e := renamed
			e.TargetSessionID, e.TargetDeviceName = before.ID, before.Device.Name
			e.Detail = "Renamed to “" + *u.Name + "”"
			evs, newName = append(evs, s.stamp(e)), *u.Name
		}
		if u.IdleTimeout != nil && *u.IdleTimeout != before.IdleTimeout {
			e := ruled
			e.TargetSessionID, e.TargetDeviceName = before.ID, newName
			e.Detail = rulesDetail(before.IdleTimeout, *u.IdleTimeout)
			evs = append(evs, s.stamp(e))
		}
		return evs
	})
	switch {
	case errors.Is(err, store.ErrRevoked):
		return errSessionEnded() // ended meanwhile
	case errors.Is(err, store.ErrNotFound):
		return errNotFound("No such session on this account.")
	case err != nil:
		return storeErr(err)
	}
	if idleDue(updated, now) {
		// Unused for longer than its new rule already: it ends now.
		mint := newClosureMint()
		ended, err := s.store.EndIdleSessions(ctx, store.IdleSweep{Revocation: inactive(now), AccountID: self.AccountID,
			SessionID: updated.ID, Limit: 1, Forget: true, Closure: mint.fn(), Audit: s.idleAudit(netip.Addr{})})
		if err != nil {
			s.log.Warn("ending a session under its new rule failed; the sweeper will", "session", updated.ID, "err", err)
		} else if len(ended) == 1 {
			s.sessionsEnded(self.AccountID, ended, mint)
			writeJSON(w, http.StatusOK, api.UpdateSessionResponse{Session: sessionView(ended[0], self.ID)})
			return nil
		}
	}
	s.publish(Event{AccountID: self.AccountID, Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}})
	writeJSON(w, http.StatusOK, api.UpdateSessionResponse{Session: sessionView(updated, self.ID)})
	return nil
}

// errSessionEnded answers a change to a session that has ended.
func errSessionEnded() *apiError {
	return errNotFound("That device is no longer signed in.")
}

func (s *Server) handleRevokeSession(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	erase, err := eraseParam(q)
	if err != nil {
		return err
	}
	c := callerFrom(r.Context())
	ctx, self, now := r.Context(), c.session, s.now()
	id := r.PathValue("id")
	target, err := s.store.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && target.AccountID != self.AccountID) {
		return errNotFound("No such session on this account.")
	}
	if err != nil {
		return storeErr(err)
	}
	reason := api.ReasonRemoteLogout
	if target.ID == self.ID {
		reason = api.ReasonLogout
	} else if err := s.stepUp(self, now); err != nil {
		return err
	}
	ended, err := s.endSession(ctx, c, target, reason, erase, now)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.RevokeSessionResponse{Session: sessionView(ended, self.ID)})
	return nil
}

// endSession revokes one session on the caller's behalf: the caller's own
// (log out: its closure is confirmed at once, that call being its receipt)
// or another of the account's (remote log out, which also ends that
// device's remembered logins and issues its closure token). erase records
// that the device was asked to erase the account's data. The revoke, the
// removal of saved logins, the closure token and the audit event are one
// store write, so they commit together or not at all. Ending an already
// ended session is not an error and writes nothing: a client retrying a
// revoke whose answer it lost finds it complete (or never made, and makes
// it now). It returns the session as it now is.
func (s *Server) endSession(ctx context.Context, c *caller, target store.Session, reason string, erase bool, now time.Time) (store.Session, error) {
	self := c.session
	var (
		fx   store.RevokeEffects
		ev   api.AuditEvent
		mint *closureMint
	)
	if reason == api.ReasonLogout {
		ev = s.eventBy(c, api.AuditLogout, "Logged out")
		fx.Closed = true
	} else {
		fx.Forget = true
		detail := "Logged out remotely"
		if erase {
			detail += "; asked to erase its Sessionguard data"
		}
		ev = s.eventBy(c, api.AuditSessionRevoked, detail)
		mint = newClosureMint()
		fx.Closure = mint.fn()
	}
	fx.Audit = func(ended []store.Session, _ int) api.AuditEvent {
		e := ev
		if reason != api.ReasonLogout {
			e.TargetSessionID, e.TargetDeviceName = ended[0].ID, ended[0].Device.Name
		}
		return s.stamp(e)
	}
	ended, err := s.store.RevokeSession(ctx, self.AccountID, target.ID, c.revocationErasing(reason, now, erase), fx)
	switch {
	case errors.Is(err, store.ErrRevoked):
		return ended, nil // ended before, with its effects, by this caller or another
	case errors.Is(err, store.ErrNotFound):
		return store.Session{}, errNotFound("No such session on this account.")
	case err != nil:
		return store.Session{}, storeErr(err)
	}
	s.sessionsEnded(self.AccountID, []store.Session{ended}, mint)
	return ended, nil
}

func (s *Server) handleRevokeOthers(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	if scope := q.Get("scope"); scope != "others" {
		return errInvalid("scope", `scope must be "others".`)
	}
	erase, err := eraseParam(q)
	if err != nil {
		return err
	}
	c := callerFrom(r.Context())
	ctx, self, now := r.Context(), c.session, s.now()
	if err := s.stepUp(self, now); err != nil {
		return err
	}
	ev := s.eventBy(c, api.AuditSessionsRevokedOthers, "")
	// The other devices' sessions, their saved logins, their closure
	// tokens and the event go in one store write.
	mint := newClosureMint()
	fx := store.RevokeEffects{Forget: true, KeepDeviceID: self.Device.ID, Closure: mint.fn(),
		Audit: func(ended []store.Session, forgotten int) api.AuditEvent {
			e := ev
			e.Detail = fmt.Sprintf("Logged out of %s", plural(len(ended), "other device")) + forgottenDetail(forgotten)
			if erase && len(ended) > 0 {
				e.Detail += "; asked them to erase their Sessionguard data"
			}
			return s.stamp(e)
		}}
	ended, err := s.store.RevokeOtherSessions(ctx, self.AccountID, self.ID, c.revocationErasing(api.ReasonLogoutOthers, now, erase), fx)
	if err != nil {
		return storeErr(err)
	}
	s.sessionsEnded(self.AccountID, ended, mint)
	writeJSON(w, http.StatusOK, api.RevokedCount{Revoked: len(ended)})
	return nil
}

// forgottenDetail is what an audit event's detail adds when the action
// deleted saved logins (forgotten of them): nothing when none.
func forgottenDetail(forgotten int) string {
	if forgotten == 0 {
		return ""
	}
	return fmt.Sprintf("; removed saved login info on %s", plural(forgotten, "device"))
}

// sessionsEnded pushes session.revoked to each ended session's stream (which
// then closes), with its closure token from mint (nil: none), and
// sessions.changed to the account.
func (s *Server) sessionsEnded(accountID string, ended []store.Session, mint *closureMint) {
	for _, e := range ended {
		if e.Revoked != nil {
			s.metrics.revoked.WithLabelValues(e.Revoked.Reason).Inc()
		}
	}
	for _, e := range endedEvents(accountID, ended, mint) {
		s.publish(e)
	}
}

// endedEvents are the events sessionsEnded publishes for ended sessions
// (and operator commands send through the outbox, with no mint: a
// closure token must not lie in the outbox in clear). Each session's
// session.revoked goes to its own streams only, closure token included.
func endedEvents(accountID string, ended []store.Session, mint *closureMint) []Event {
	var out []Event
	for _, e := range ended {
		if e.Revoked == nil {
			continue
		}
		out = append(out, Event{AccountID: accountID, SessionID: e.ID, Name: api.EventSessionRevoked,
			Data: api.SessionRevokedEvent{SessionID: e.ID, Reason: e.Revoked.Reason, At: e.Revoked.At,
				BySessionID: e.Revoked.BySessionID, ByDeviceName: e.Revoked.ByDeviceName,
				Erase: e.Revoked.Erase, ClosureToken: mint.eventToken(e)}})
	}
	if len(ended) > 0 {
		out = append(out, Event{AccountID: accountID, Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}})
	}
	return out
}
