package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"sessionguard/api"
)

// probe is what the check after a restart saw for one session: the answer
// code of GET /v1/me for each acknowledged access token (oldest first) and
// of POST /v1/token/refresh for the refresh tokens presented (every one of
// a session known to be revoked; only the latest of a live one, since an
// older one would count as reuse once the grace is over).
type probe struct {
	access  []string
	refresh []string
}

// judgeProbe says what in p breaks the guarantees for s; knownRevoked is
// whether an acknowledged action (or an earlier answer) showed s revoked
// before the probe. It returns the violations and how many checks held.
//
// A revoked session: no token of it is accepted; its refresh tokens answer
// session_revoked, which also shows the acknowledged sign-in still exists.
// A live one: superseded access tokens are refused; the latest
// acknowledged access token works (or answers invalid_token if a refresh
// of it was cut by the kill and may have committed), and the latest
// acknowledged refresh token works (a retry within the grace if that
// refresh committed). Either may answer session_revoked: a revoke cut by
// the kill may have committed.
func judgeProbe(s *session, knownRevoked bool, p probe) (violations []string, passed int) {
	bad := func(format string, args ...any) {
		violations = append(violations, fmt.Sprintf("session %s (%s): ", s.ID, s.Device)+fmt.Sprintf(format, args...))
	}
	for i, c := range p.access {
		latest := i == len(p.access)-1
		switch {
		case c == "ok" && knownRevoked:
			bad("access token %d of %d was accepted after restart although the session is revoked (%s)", i+1, len(p.access), s.Evidence)
		case c == "ok" && !latest:
			bad("superseded access token %d of %d was accepted after restart", i+1, len(p.access))
		case c == "ok", c == api.CodeSessionRevoked:
			passed++
		case c == api.CodeInvalidToken && (knownRevoked || !latest || s.UnackedRefresh):
			passed++
		case c == api.CodeInvalidToken:
			bad("the latest acknowledged access token is unknown after restart (acknowledged sign-in or refresh lost)")
		default:
			bad("access token %d of %d answered %s after restart", i+1, len(p.access), c)
		}
	}
	for i, c := range p.refresh {
		switch {
		case c == "ok" && knownRevoked:
			bad("refresh token %d of %d was accepted after restart although the session is revoked (%s)", i+1, len(p.refresh), s.Evidence)
		case c == "ok", c == api.CodeSessionRevoked:
			passed++
		case c == api.CodeInvalidToken:
			bad("an acknowledged refresh token is unknown after restart (acknowledged sign-in or refresh lost)")
		default:
			bad("refresh token %d of %d answered %s after restart", i+1, len(p.refresh), c)
		}
	}
	return violations, passed
}

// checkSession probes s's tokens after a restart and records the outcome:
// violations, checks passed, a revoke it reveals, and the new token pair a
// live session's refresh gave.
func (d *driver) checkSession(ctx context.Context, s *session) error {
	d.l.mu.Lock()
	known := s.RevokedSeq != 0
	pairs := append([]api.Tokens(nil), s.Pairs...)
	d.l.mu.Unlock()

	var (
		p            probe
		rev          *revocation
		revAck       int64
		next         *api.Tokens
		nextSent     int64
		transportErr error
	)
	note := func(a answer, ack int64) {
		if r := a.revocation(); r != nil {
			rev, revAck = r, ack
		}
	}
	for _, t := range pairs {
		a, _, ack, err := d.do(ctx, "GET", "/v1/me", t.AccessToken, nil)
		if err != nil {
			transportErr = err
			break
		}
		p.access = append(p.access, a.code)
		note(a, ack)
	}
	refresh := pairs[len(pairs)-1:]
	if known {
		refresh = pairs
	}
	for _, t := range refresh {
		if transportErr != nil {
			break
		}
		a, sent, ack, err := d.do(ctx, "POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: t.RefreshToken})
		if err != nil {
			transportErr = err
			break
		}
		p.refresh = append(p.refresh, a.code)
		note(a, ack)
		if a.ok() && !known {
			var tok api.Tokens
			if json.Unmarshal(a.body, &tok) == nil && tok.AccessToken != "" {
				next, nextSent = &tok, sent
			}
		}
	}
	if transportErr != nil {
		return fmt.Errorf("checking session %s: sessiond stopped answering: %w", s.ID, transportErr)
	}
	violations, passed := judgeProbe(s, known, p)
	for _, v := range violations {
		d.l.violate("%s", v)
	}
	d.l.pass(passed)
	if rev != nil {
		evidence := "answered session_revoked after restart"
		if !known {
			evidence += " (revoked by a request cut by the kill)"
		}
		d.l.revoked(s, revAck, evidence, rev)
	}
	if next != nil && rev == nil {
		d.l.refreshed(s, nextSent, *next)
	}
	return nil
}

// checkAll probes every session the ledger knows.
func (d *driver) checkAll(ctx context.Context) error {
	for _, s := range d.l.snapshot() {
		if err := d.checkSession(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// collect signs in an auditor device on each account and reads the whole
// audit log and the list of live sessions.
func (d *driver) collect(ctx context.Context, accounts []string) (events map[string][]api.AuditEvent, live map[string][]string, err error) {
	events, live = map[string][]api.AuditEvent{}, map[string][]string{}
	for _, acct := range accounts {
		auditor, ok := d.signIn(ctx, acct)
		if !ok {
			return nil, nil, fmt.Errorf("signing in to read %s's audit log failed", acct)
		}
		tok := auditor.latest().AccessToken
		for cursor := ""; ; {
			var page api.AuditPage
			if err := d.get(ctx, "/v1/audit?limit=200&cursor="+url.QueryEscape(cursor), tok, &page); err != nil {
				return nil, nil, err
			}
			events[acct] = append(events[acct], page.Events...)
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		for cursor := ""; ; {
			var page api.SessionsPage
			if err := d.get(ctx, "/v1/sessions?limit=200&cursor="+url.QueryEscape(cursor), tok, &page); err != nil {
				return nil, nil, err
			}
			for _, s := range page.Sessions {
				live[acct] = append(live[acct], s.ID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	return events, live, nil
}

func (d *driver) get(ctx context.Context, path, token string, v any) error {
	a, _, _, err := d.do(ctx, "GET", path, token, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if !a.ok() {
		return fmt.Errorf("GET %s: %s: %s", path, a.code, a.body)
	}
	return json.Unmarshal(a.body, v)
}

// findings is the outcome of comparing the audit log and the session list
// with the ledger.
type findings struct {
	checks     int
	violations []string
	// orphans are live sessions the tool never saw acknowledged: sign-ins
	// cut by a kill after they committed.
	orphans int
}

// auditFindings checks, for every account, the audit log (events, newest
// first) and the live session IDs the server lists against the ledger's
// sessions and saved logins:
//
//   - every acknowledged sign-in has its login.succeeded event;
//   - every revoked session's revocation has its event (logout,
//     session.revoked, sessions.revoked_others by the revoking device, or
//     refresh.reuse_detected), whether the revoke was acknowledged or cut
//     by a kill after it took effect: a revoke and its event are one
//     write, so one is never there without the other;
//   - every session has at least as many sessions.revoked_others events as
//     acknowledged log-outs of all others;
//   - every acknowledged saved login has its remembered_login.created event;
//   - the list holds every session still live and no revoked one; a listed
//     session the tool never saw acknowledged (a sign-in cut by a kill
//     after it committed) has its login.succeeded event too, as a session
//     and its sign-in's event are one write.
//
// Refreshes are not audited (the contract has no event type for them).
func auditFindings(sessions []*session, saved []*savedLogin, events map[string][]api.AuditEvent, live map[string][]string) findings {
	var f findings
	check := func(ok bool, format string, args ...any) {
		if ok {
			f.checks++
		} else {
			f.violations = append(f.violations, fmt.Sprintf(format, args...))
		}
	}
	has := func(acct string, match func(e api.AuditEvent) bool) int {
		n := 0
		for _, e := range events[acct] {
			if match(e) {
				n++
			}
		}
		return n
	}
	byDevice := map[string]*session{}
	known := map[string]bool{}
	for _, s := range sessions {
		byDevice[s.Device], known[s.ID] = s, true
	}
	listed := map[string]bool{}
	for _, ids := range live {
		for _, id := range ids {
			listed[id] = true
		}
	}
	for _, s := range sessions {
		check(has(s.Account, func(e api.AuditEvent) bool {
			return e.Type == api.AuditLoginSucceeded && e.SessionID == s.ID
		}) > 0, "acknowledged sign-in %s (%s) has no %s event", s.ID, s.Device, api.AuditLoginSucceeded)

		if s.RevokedSeq != 0 {
			check(!listed[s.ID], "revoked session %s (%s) is listed as live (%s)", s.ID, s.Device, s.Evidence)
		} else {
			check(listed[s.ID], "live session %s (%s) is missing from the session list", s.ID, s.Device)
		}

		if r := s.Revocation; r != nil {
			var (
				match func(e api.AuditEvent) bool
				acked bool
				what  string
			)
			switch r.Reason {
			case api.ReasonLogout:
				what, acked = api.AuditLogout, s.AckedLogout
				match = func(e api.AuditEvent) bool { return e.Type == api.AuditLogout && e.SessionID == s.ID }
			case api.ReasonRemoteLogout:
				what = api.AuditSessionRevoked
				for _, by := range s.AckedRemoteBy {
					acked = acked || by == r.ByDevice
				}
				match = func(e api.AuditEvent) bool {
					return e.Type == api.AuditSessionRevoked && e.TargetSessionID == s.ID && e.DeviceName == r.ByDevice
				}
			case api.ReasonLogoutOthers:
				what = api.AuditSessionsRevokedOthers + " by " + r.ByDevice
				acked = byDevice[r.ByDevice] != nil && byDevice[r.ByDevice].AckedOthers > 0
				match = func(e api.AuditEvent) bool {
					return e.Type == api.AuditSessionsRevokedOthers && e.DeviceName == r.ByDevice
				}
			default: // the tool never reuses a refresh token or changes a password
				check(false, "session %s (%s) was revoked for %q, which nothing the tool did causes", s.ID, s.Device, r.Reason)
				continue
			}
			how := "acknowledged"
			if !acked {
				how = "never acknowledged: a request cut by a kill after its revoke committed"
			}
			check(has(s.Account, match) > 0, "revoke of session %s (%s, %s by %q) has no %s event (%s)",
				s.ID, s.Device, r.Reason, r.ByDevice, what, how)
		}

		if s.AckedOthers > 0 {
			n := has(s.Account, func(e api.AuditEvent) bool {
				return e.Type == api.AuditSessionsRevokedOthers && e.SessionID == s.ID
			})
			check(n >= s.AckedOthers, "session %s (%s) had %d log-outs of all others acknowledged but %d %s events",
				s.ID, s.Device, s.AckedOthers, n, api.AuditSessionsRevokedOthers)
		}
	}
	for _, sv := range saved {
		check(has(sv.Account, func(e api.AuditEvent) bool {
			return e.Type == api.AuditRememberedLoginCreated && e.SessionID == sv.SessionID
		}) > 0, "acknowledged saved login of session %s (device %s) has no %s event", sv.SessionID, sv.DeviceID, api.AuditRememberedLoginCreated)
	}
	for acct, ids := range live {
		for _, id := range ids {
			if known[id] {
				continue
			}
			f.orphans++
			check(has(acct, func(e api.AuditEvent) bool {
				return e.Type == api.AuditLoginSucceeded && e.SessionID == id
			}) > 0, "session %s of %s exists (its sign-in was cut by a kill) without a %s event", id, acct, api.AuditLoginSucceeded)
		}
	}
	return f
}
