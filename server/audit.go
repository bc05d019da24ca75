package server

// The audit trail: the account's security activity (GET /v1/audit) and
// how the handlers write to it.

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/netip"
	"strconv"

	"sessionguard/api"
	"sessionguard/server/token"
)

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
	e.ID = token.NewID("evt_")
	if e.At.IsZero() {
		e.At = s.now()
	}
	return e
}

// eventFrom is an audit event of type typ about a request from ip (its
// address and approximate place) on the device named deviceName, when no
// session made it (a sign-in, say).
func (s *Server) eventFrom(ip netip.Addr, deviceName, typ, detail string) api.AuditEvent {
	return api.AuditEvent{Type: typ, IP: ipString(ip), Location: s.locate(ip), DeviceName: deviceName, Detail: detail}
}

// eventBy is an audit event of type typ about what the calling session
// did, from where it called.
func (s *Server) eventBy(c *caller, typ, detail string) api.AuditEvent {
	e := s.eventFrom(c.ip, c.session.Device.Name, typ, detail)
	e.SessionID = c.session.ID
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
