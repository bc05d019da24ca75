package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// Page sizes for list endpoints.
const (
	defaultLimit = 50
	maxLimit     = 200
)

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	self := callerFrom(r.Context()).session
	acct, err := s.store.Account(r.Context(), self.AccountID)
	if err != nil {
		return storeErr(err)
	}
	writeJSON(w, http.StatusOK, api.MeResponse{Account: accountView(acct), Session: sessionView(self, self.ID)})
	return nil
}

// query parses the query string strictly: a malformed one is a 400, not
// silently empty.
func query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errInvalid("", "The query string is malformed.")
	}
	return q, nil
}

// pageParams reads limit and cursor.
func pageParams(r *http.Request) (limit int, cursor string, err error) {
	q, err := query(r)
	if err != nil {
		return 0, "", err
	}
	limit, err = parseLimit(q.Get("limit"))
	return limit, q.Get("cursor"), err
}

func parseLimit(v string) (int, error) {
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, errInvalid("limit", fmt.Sprintf("limit must be a whole number from 1 to %d.", maxLimit))
	}
	return n, nil
}

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

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	self := callerFrom(r.Context()).session
	page := []api.Session{}
	after := &beforeAll
	if cursor != "" {
		if after, err = decodeSessionCursor(cursor); err != nil {
			return err
		}
	} else {
		page = append(page, sessionView(self, self.ID)) // this device first
	}
	want := limit - len(page)
	others, err := s.store.ListSessions(r.Context(), self.AccountID, self.ID, s.now(), after, want+1)
	if err != nil {
		return storeErr(err)
	}
	resp := api.SessionsPage{Sessions: page}
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

func (s *Server) handleRevokeSession(w http.ResponseWriter, r *http.Request) error {
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
	if target.ID == self.ID {
		if err := s.endSession(ctx, c, self, api.ReasonLogout, now); err != nil {
			return err
		}
		self.Revoked = &store.Revocation{At: now, Reason: api.ReasonLogout, BySessionID: self.ID, ByDeviceName: self.Device.Name}
		writeJSON(w, http.StatusOK, api.RevokeSessionResponse{Session: sessionView(self, self.ID)})
		return nil
	}
	if err := s.stepUp(self, now); err != nil {
		return err
	}
	if err := s.endSession(ctx, c, target, api.ReasonRemoteLogout, now); err != nil {
		return err
	}
	ended, err := s.store.Session(ctx, id)
	if err != nil {
		return storeErr(err)
	}
	writeJSON(w, http.StatusOK, api.RevokeSessionResponse{Session: sessionView(ended, self.ID)})
	return nil
}

// endSession revokes one session on the caller's behalf: the caller's own
// (log out) or another of the account's (remote log out, which also ends
// that device's remembered logins). The revoke, the removal of saved logins
// and the audit event are one store write, so they commit together or not
// at all. Ending an already ended session is not an error and writes
// nothing: a client retrying a revoke whose answer it lost finds it
// complete (or never made, and makes it now).
func (s *Server) endSession(ctx context.Context, c *caller, target store.Session, reason string, now time.Time) error {
	self := c.session
	rev := store.Revocation{At: now, Reason: reason, BySessionID: self.ID, ByDeviceName: self.Device.Name}
	ev := api.AuditEvent{IP: ipString(c.ip), Location: s.locate(c.ip), SessionID: self.ID, DeviceName: self.Device.Name}
	var fx store.RevokeEffects
	if reason == api.ReasonLogout {
		ev.Type, ev.Detail = api.AuditLogout, "Logged out"
	} else {
		fx.Forget = true
		ev.Type, ev.Detail = api.AuditSessionRevoked, "Logged out remotely"
	}
	fx.Audit = func(ended []store.Session, _ int) api.AuditEvent {
		e := ev
		if reason != api.ReasonLogout {
			e.TargetSessionID, e.TargetDeviceName = ended[0].ID, ended[0].Device.Name
		}
		return s.stamp(e)
	}
	ended, err := s.store.RevokeSession(ctx, self.AccountID, target.ID, rev, fx)
	switch {
	case errors.Is(err, store.ErrRevoked):
		return nil // ended before, with its effects, by this caller or another
	case errors.Is(err, store.ErrNotFound):
		return errNotFound("No such session on this account.")
	case err != nil:
		return storeErr(err)
	}
	s.sessionsEnded(self.AccountID, []store.Session{ended})
	return nil
}

func (s *Server) handleRevokeOthers(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	if scope := q.Get("scope"); scope != "others" {
		return errInvalid("scope", `scope must be "others".`)
	}
	c := callerFrom(r.Context())
	ctx, self, now := r.Context(), c.session, s.now()
	if err := s.stepUp(self, now); err != nil {
		return err
	}
	rev := store.Revocation{At: now, Reason: api.ReasonLogoutOthers, BySessionID: self.ID, ByDeviceName: self.Device.Name}
	ev := api.AuditEvent{Type: api.AuditSessionsRevokedOthers, IP: ipString(c.ip), Location: s.locate(c.ip),
		SessionID: self.ID, DeviceName: self.Device.Name}
	// The other devices' sessions, their saved logins and the event go in
	// one store write.
	fx := store.RevokeEffects{Forget: true, KeepDeviceID: self.Device.ID,
		Audit: func(ended []store.Session, forgotten int) api.AuditEvent {
			e := ev
			e.Detail = fmt.Sprintf("Logged out of %s", plural(len(ended), "other device"))
			if forgotten > 0 {
				e.Detail += fmt.Sprintf("; removed saved login info on %s", plural(forgotten, "device"))
			}
			return s.stamp(e)
		}}
	ended, err := s.store.RevokeOtherSessions(ctx, self.AccountID, self.ID, rev, fx)
	if err != nil {
		return storeErr(err)
	}
	s.sessionsEnded(self.AccountID, ended)
	writeJSON(w, http.StatusOK, api.RevokedCount{Revoked: len(ended)})
	return nil
}

// sessionsEnded pushes session.revoked to each ended session's stream (which
// then closes) and sessions.changed to the account.
func (s *Server) sessionsEnded(accountID string, ended []store.Session) {
	for _, e := range ended {
		if e.Revoked != nil {
			s.metrics.revoked.WithLabelValues(e.Revoked.Reason).Inc()
		}
	}
	for _, e := range endedEvents(accountID, ended) {
		s.publish(e)
	}
}

// audit appends an event to the account's log, stamped (see stamp). A
// failure is returned: an action is only acknowledged once it is audited.
// An action that changes something writes its event with the change
// instead, in the same store call, so the two commit together.
func (s *Server) audit(ctx context.Context, accountID string, e api.AuditEvent) error {
	if _, err := s.store.AppendAudit(ctx, accountID, s.stamp(e)); err != nil {
		return storeErr(err)
	}
	return nil
}

// stamp gives an audit event its id and, unless set, its time.
func (s *Server) stamp(e api.AuditEvent) api.AuditEvent {
	e.ID = newID("evt_")
	if e.At.IsZero() {
		e.At = s.now()
	}
	return e
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	var before int64
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		n, err2 := strconv.ParseInt(string(b), 10, 64)
		if err != nil || err2 != nil || n <= 0 {
			return errInvalid("cursor", "cursor is not one this server gave out.")
		}
		before = n
	}
	self := callerFrom(r.Context()).session
	recs, err := s.store.ListAudit(r.Context(), self.AccountID, before, limit+1)
	if err != nil {
		return storeErr(err)
	}
	resp := api.AuditPage{Events: []api.AuditEvent{}}
	if len(recs) > limit {
		recs = recs[:limit]
		resp.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(recs[limit-1].Seq, 10)))
	}
	for _, rec := range recs {
		resp.Events = append(resp.Events, rec.Event)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
