package server_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/pgbus"
	"sessionguard/server/ratelimit"
	"sessionguard/server/servertest"
	"sessionguard/server/store/postgres"
	"sessionguard/server/store/postgres/pgtest"
)

// Closures you can verify (issue 15): receipts, remote erase, and the
// list of recently ended sessions, over HTTP.

// revokedEvent decodes a session.revoked stream item.
func revokedEvent(t testing.TB, ev sse) api.SessionRevokedEvent {
	t.Helper()
	if ev.name != api.EventSessionRevoked {
		t.Fatalf("got %+v, want %s", ev, api.EventSessionRevoked)
	}
	var d api.SessionRevokedEvent
	(reply{body: []byte(ev.data)}).decode(t, &d)
	return d
}

// confirm sends a receipt, with no bearer token.
func (e *env) confirm(closureToken string, erased bool) reply {
	e.t.Helper()
	return e.do("POST", "/v1/closures", "", api.ClosureRequest{ClosureToken: closureToken, Erased: erased})
}

// ended is one page of GET /v1/sessions?state=ended (query adds to it).
func (e *env) ended(token, query string) api.SessionsPage {
	e.t.Helper()
	return e.sessions(token, "?state=ended"+query)
}

// endedSession finds session id in the first page of the ended list.
func (e *env) endedSession(token, id string) api.Session {
	e.t.Helper()
	for _, s := range e.ended(token, "").Sessions {
		if s.ID == id {
			return s
		}
	}
	e.t.Fatalf("session %s is not in the ended list", id)
	return api.Session{}
}

// closureToken returns a session_revoked error's closure token ("" if none).
func closureToken(d api.ErrorDetail) string {
	s, _ := d.Details[api.DetailClosureToken].(string)
	return s
}

// nextRevoked skips events up to session.revoked.
func (s *stream) nextRevoked(t testing.TB) sse {
	t.Helper()
	for {
		if ev := s.nextEvent(t); ev.name == api.EventSessionRevoked {
			return ev
		}
	}
}

// wantQuiet checks that the stream has no event for a moment.
func (s *stream) wantQuiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case it, ok := <-s.items:
		if ok && it.name != "" {
			t.Fatalf("unexpected stream item %+v", it)
		}
	case <-time.After(d):
	}
}

// TestClosureReceiptViaEvent: a device watching its stream is logged out
// remotely with erase; its event carries erase and a closure token; its
// receipt is recorded once, audited, shown in the ended list and pushed
// to the revoker's stream.
func TestClosureReceiptViaEvent(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		e.signUp("ana")
		laptop := e.login("ana", "Ana's Laptop", true)
		phone := e.login("ana", "Lost phone", true)
		revoker, device := e.stream(laptop.AccessToken), e.stream(phone.AccessToken)

		var out api.RevokeSessionResponse
		e.do("DELETE", "/v1/sessions/"+phone.Session.ID+"?erase=true", laptop.AccessToken, nil).wantOK(t, 200, &out)
		c := out.Session.Closure
		if c == nil || c.State != api.ClosurePending || !c.EraseRequested || c.Erased || c.ConfirmedAt != nil {
			t.Fatalf("closure after the revoke = %+v, want pending with erase requested", c)
		}
		if out.Session.RevokedByDeviceName != "Ana's Laptop" || out.Session.RevokedBySessionID != laptop.Session.ID {
			t.Errorf("revoked by %q (%s), want the laptop", out.Session.RevokedByDeviceName, out.Session.RevokedBySessionID)
		}
		ev := revokedEvent(t, device.nextEvent(t))
		if !ev.Erase || !strings.HasPrefix(ev.ClosureToken, "sgc_") || len(ev.ClosureToken) != 4+43 {
			t.Fatalf("session.revoked = %+v, want erase and a 256-bit closure token", ev)
		}
		device.wantClosed(t)
		if got := revoker.nextEvent(t); got.name != api.EventSessionsChanged || strings.Contains(got.data, "sgc_") {
			t.Fatalf("the revoker got %+v, want sessions.changed", got)
		}

		e.clock.Advance(300 * time.Millisecond)
		e.confirm(ev.ClosureToken, true).wantOK(t, http.StatusNoContent, nil)
		if got := revoker.nextEvent(t); got.name != api.EventSessionsChanged {
			t.Fatalf("after the receipt the revoker got %+v, want sessions.changed", got)
		}
		s := e.endedSession(laptop.AccessToken, phone.Session.ID)
		c = s.Closure
		if c == nil || c.State != api.ClosureConfirmed || !c.EraseRequested || !c.Erased || c.ConfirmedAt == nil ||
			c.ConfirmedAt.Sub(*s.RevokedAt) != 300*time.Millisecond {
			t.Fatalf("closure after the receipt = %+v (revoked at %v)", c, s.RevokedAt)
		}
		if s.RevokeReason != api.ReasonRemoteLogout || s.RevokedByDeviceName != "Ana's Laptop" {
			t.Errorf("ended session: reason %q by %q", s.RevokeReason, s.RevokedByDeviceName)
		}
		a := e.lastAudit(laptop.AccessToken, api.AuditSessionClosureConfirmed)
		if a.SessionID != phone.Session.ID || a.TargetSessionID != phone.Session.ID || a.DeviceName != "Lost phone" ||
			!strings.Contains(a.Detail, "erased") || !strings.Contains(a.Detail, "0.3 s") {
			t.Errorf("audit event = %+v", a)
		}

		// Single use: again, and any other token of the closure, fails.
		d := e.confirm(ev.ClosureToken, true).wantError(t, 401, api.CodeInvalidToken)
		if strings.Contains(d.Message, "sgc_") {
			t.Errorf("the answer repeats the token: %q", d.Message)
		}
		if n := count(e.auditTypes(laptop.AccessToken), api.AuditSessionClosureConfirmed); n != 1 {
			t.Errorf("%d session.closure_confirmed events, want 1", n)
		}
		// Confirmed: the device's later calls get no token.
		r := e.do("GET", "/v1/me", phone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
		if tok := closureToken(r); tok != "" || r.Details[api.DetailErase] != true {
			t.Errorf("401 after the receipt: details %v, want erase and no closure token", r.Details)
		}
		if got := e.metric(`sessiond_closures_confirmed_total{erased="true"}`); got != 1 {
			t.Errorf("sessiond_closures_confirmed_total{erased=\"true\"} = %v, want 1", got)
		}
	})
}

// TestClosureReceiptOnLaterCall: a device offline when it was logged out
// learns it on its next call, a day later: its access token's and its
// refresh token's 401 carry erase and a fresh closure token each; any of
// them confirms, once.
func TestClosureReceiptOnLaterCall(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	laptop := e.login("ana", "Laptop", true)
	phone := e.login("ana", "Phone", true)
	e.do("DELETE", "/v1/sessions/"+phone.Session.ID, laptop.AccessToken, nil).wantOK(t, 200, nil)
	e.clock.Advance(26 * time.Hour)
	var tok api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: laptop.RefreshToken}).wantOK(t, 200, &tok)
	laptop.AccessToken = tok.AccessToken

	me := e.do("GET", "/v1/me", phone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
	refresh := e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: phone.RefreshToken}).wantError(t, 401, api.CodeSessionRevoked)
	stream := e.do("GET", "/v1/events", phone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
	var toks []string
	for _, d := range []api.ErrorDetail{me, refresh, stream} {
		if d.Details[api.DetailErase] != false || d.Details[api.DetailReason] != api.ReasonRemoteLogout {
			t.Errorf("details %v, want erase false and reason remote_logout", d.Details)
		}
		tok := closureToken(d)
		if !strings.HasPrefix(tok, "sgc_") {
			t.Fatalf("401 session_revoked without a closure token: %v", d.Details)
		}
		toks = append(toks, tok)
	}
	if toks[0] == toks[1] || toks[1] == toks[2] || toks[0] == toks[2] {
		t.Fatalf("one closure token handed out twice: %v", toks)
	}
	// Pending until the receipt, a day later.
	if c := e.endedSession(laptop.AccessToken, phone.Session.ID).Closure; c == nil || c.State != api.ClosurePending {
		t.Fatalf("closure = %+v, want pending", c)
	}
	e.confirm(toks[1], false).wantOK(t, 204, nil)
	for _, tok := range toks {
		e.confirm(tok, false).wantError(t, 401, api.CodeInvalidToken)
	}
	s := e.endedSession(laptop.AccessToken, phone.Session.ID)
	if c := s.Closure; c == nil || c.State != api.ClosureConfirmed || c.Erased || c.EraseRequested {
		t.Fatalf("closure = %+v, want confirmed, no erase", c)
	}
	if a := e.lastAudit(laptop.AccessToken, api.AuditSessionClosureConfirmed); !strings.Contains(a.Detail, "26 h") || strings.Contains(a.Detail, "erased") {
		t.Errorf("audit detail %q", a.Detail)
	}
}

// TestClosureTokensStayWithTheirSession: a closure token reaches only the
// ended session's own current tokens. Another account's tokens, the
// account's other sessions, a rotated (copied) refresh token, and the
// request that replayed one never see one; a token confirms nothing else.
func TestClosureTokensStayWithTheirSession(t *testing.T) {
	e := newEnvSignedUp(t, "ana", "bob")
	laptop := e.login("ana", "Laptop", true)
	tablet := e.login("ana", "Tablet", true)
	phone := e.login("ana", "Phone", true)
	bob := e.login("bob", "Bob's phone", true)
	bobStream, tabletStream := e.stream(bob.AccessToken), e.stream(tablet.AccessToken)

	// The phone refreshes once: its first refresh token is now an old one.
	var fresh api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: phone.RefreshToken}).wantOK(t, 200, &fresh)
	e.clock.Advance(time.Minute) // past the refresh grace
	e.do("DELETE", "/v1/sessions/"+phone.Session.ID+"?erase=true", laptop.AccessToken, nil).wantOK(t, 200, nil)

	old := e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: phone.RefreshToken}).wantError(t, 401, api.CodeSessionRevoked)
	if tok := closureToken(old); tok != "" {
		t.Errorf("a rotated refresh token got closure token %q", tok)
	}
	// The session's first access token was replaced: it is unknown.
	e.do("GET", "/v1/me", phone.AccessToken, nil).wantError(t, 401, api.CodeInvalidToken)
	own := e.do("GET", "/v1/me", fresh.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
	if closureToken(own) == "" {
		t.Fatal("the session's current access token got no closure token")
	}

	// Nobody else sees one: not Bob, not the account's other devices.
	for name, tok := range map[string]string{"bob": bob.AccessToken, "laptop": laptop.AccessToken, "tablet": tablet.AccessToken} {
		for _, path := range []string{"/v1/me", "/v1/sessions", "/v1/sessions?state=ended", "/v1/audit?limit=200"} {
			if r := e.do("GET", path, tok, nil); strings.Contains(string(r.body), "sgc_") {
				t.Errorf("%s's GET %s shows a closure token: %s", name, path, r.body)
			}
		}
	}
	if got := tabletStream.nextEvent(t); got.name != api.EventSessionsChanged || strings.Contains(got.data, "sgc_") {
		t.Errorf("the tablet's stream got %+v", got)
	}
	bobStream.wantQuiet(t, 100*time.Millisecond)
	// Bob cannot end or see Ana's session, and gets no token trying.
	for _, r := range []reply{
		e.do("DELETE", "/v1/sessions/"+phone.Session.ID, bob.AccessToken, nil),
		e.do("PATCH", "/v1/sessions/"+phone.Session.ID, bob.AccessToken, api.UpdateSessionRequest{Name: new(string)}),
	} {
		if r.status/100 == 2 || strings.Contains(string(r.body), "sgc_") {
			t.Errorf("Bob's call answered %d %s", r.status, r.body)
		}
	}

	// A token confirms its own closure and grants nothing else.
	tok := closureToken(own)
	for _, r := range []reply{
		e.do("GET", "/v1/me", tok, nil),
		e.do("GET", "/v1/events", tok, nil),
		e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: tok}),
		e.do("POST", "/v1/login/remembered", "", api.RememberedLoginRequest{Credential: tok, Device: device("Thief")}),
	} {
		if r.status/100 == 2 {
			t.Errorf("a closure token was accepted elsewhere: %d %s", r.status, r.body)
		}
	}
	e.confirm(tok, true).wantOK(t, 204, nil)
	e.do("GET", "/v1/me", laptop.AccessToken, nil).wantOK(t, 200, nil)
	e.do("GET", "/v1/me", bob.AccessToken, nil).wantOK(t, 200, nil)
}

// TestClosureAfterRefreshReuse: a copied refresh token used again ends the
// session; its presenter gets no closure token, the session's stream (the
// holder of the current access token) gets one.
func TestClosureAfterRefreshReuse(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	phone := e.login("ana", "Phone", true)
	var fresh api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: phone.RefreshToken}).wantOK(t, 200, &fresh)
	s := e.stream(fresh.AccessToken)
	e.clock.Advance(time.Minute)
	d := e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: phone.RefreshToken}).wantError(t, 401, api.CodeSessionRevoked)
	if d.Details[api.DetailReason] != api.ReasonRefreshTokenReuse || closureToken(d) != "" {
		t.Fatalf("the replayed token's answer: %v, want refresh_token_reuse and no closure token", d.Details)
	}
	ev := revokedEvent(t, s.nextEvent(t))
	if ev.ClosureToken == "" || ev.Erase {
		t.Fatalf("session.revoked = %+v, want a closure token and no erase", ev)
	}
	e.confirm(ev.ClosureToken, false).wantOK(t, 204, nil)
}

// TestClosureAfterReauthFailed: the answer that ends a session after too
// many wrong passwords carries the same closure token as its event.
func TestClosureAfterReauthFailed(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	phone := e.login("ana", "Phone", true)
	s := e.stream(phone.AccessToken)
	var last api.ErrorDetail
	for i := range 5 {
		r := e.do("POST", "/v1/reauth", phone.AccessToken, api.ReauthRequest{Password: "wrong-guess-" + string(rune('a'+i))})
		if i < 4 {
			r.wantError(t, 401, api.CodeInvalidCredentials)
			continue
		}
		last = r.wantError(t, 401, api.CodeSessionRevoked)
	}
	ev := revokedEvent(t, s.nextEvent(t))
	if tok := closureToken(last); tok == "" || tok != ev.ClosureToken {
		t.Fatalf("answer's closure token %q, event's %q: want one and the same", tok, ev.ClosureToken)
	}
	e.confirm(ev.ClosureToken, false).wantOK(t, 204, nil)
}

// TestRevokeOthersWithErase: every other device gets erase and a token of
// its own; the ended list pages them newest first with their closures.
func TestRevokeOthersWithErase(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		e.signUp("ana")
		self := e.login("ana", "Laptop", true)
		var others []api.Login
		var streams []*stream
		for _, n := range []string{"Phone", "Tablet", "Work PC"} {
			l := e.login("ana", n, true)
			others = append(others, l)
			streams = append(streams, e.stream(l.AccessToken))
		}
		e.do("DELETE", "/v1/sessions?scope=others&erase=maybe", self.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
		e.clock.Advance(time.Second)
		var n api.RevokedCount
		e.do("DELETE", "/v1/sessions?scope=others&erase=true", self.AccessToken, nil).wantOK(t, 200, &n)
		if n.Revoked != 3 {
			t.Fatalf("revoked %d, want 3", n.Revoked)
		}
		seen := map[string]bool{}
		for i, s := range streams {
			ev := revokedEvent(t, s.nextRevoked(t))
			if ev.SessionID != others[i].Session.ID || !ev.Erase || ev.ClosureToken == "" || seen[ev.ClosureToken] {
				t.Fatalf("stream %d got %+v", i, ev)
			}
			seen[ev.ClosureToken] = true
			e.clock.Advance(time.Second)
			e.confirm(ev.ClosureToken, i != 1).wantOK(t, 204, nil)
		}
		if d := e.lastAudit(self.AccessToken, api.AuditSessionsRevokedOthers).Detail; !strings.Contains(d, "erase") {
			t.Errorf("revoke-others audit detail %q does not mention the erase request", d)
		}

		// Paged, two at a time; all three ended at once: ties by ID.
		p1 := e.ended(self.AccessToken, "&limit=2")
		if len(p1.Sessions) != 2 || p1.NextCursor == "" {
			t.Fatalf("first page = %d sessions, cursor %q", len(p1.Sessions), p1.NextCursor)
		}
		p2 := e.ended(self.AccessToken, "&limit=2&cursor="+p1.NextCursor)
		if len(p2.Sessions) != 1 || p2.NextCursor != "" {
			t.Fatalf("second page = %d sessions, cursor %q", len(p2.Sessions), p2.NextCursor)
		}
		got := append(p1.Sessions, p2.Sessions...)
		for i, s := range got {
			c := s.Closure
			if s.RevokeReason != api.ReasonLogoutOthers || s.RevokedAt == nil || c == nil || !c.EraseRequested ||
				c.State != api.ClosureConfirmed || s.Current {
				t.Errorf("ended session %d = %+v, closure %+v", i, s, c)
			}
			if i > 0 && got[i-1].ID < s.ID {
				t.Errorf("ended list not in ID order for one revocation time: %s before %s", got[i-1].ID, s.ID)
			}
			erased := s.ID != others[1].Session.ID
			if c != nil && c.Erased != erased {
				t.Errorf("session %s erased = %v, want %v", s.ID, c.Erased, erased)
			}
		}
		// The live list's cursor is not the ended list's, and the state
		// must be one the server knows.
		liveCursor := base64.RawURLEncoding.EncodeToString([]byte("1790000000000000." + self.Session.ID))
		e.sessions(self.AccessToken, "?cursor="+liveCursor)
		e.do("GET", "/v1/sessions?state=ended&cursor="+liveCursor, self.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
		e.do("GET", "/v1/sessions?cursor="+p1.NextCursor, self.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
		d := e.do("GET", "/v1/sessions?state=ended&cursor="+p1.NextCursor+"x", self.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
		if d.Details[api.DetailField] != "cursor" {
			t.Errorf("bad cursor: field %v", d.Details[api.DetailField])
		}
		d = e.do("GET", "/v1/sessions?state=gone", self.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
		if d.Details[api.DetailField] != "state" {
			t.Errorf("bad state: field %v", d.Details[api.DetailField])
		}
		if p := e.sessions(self.AccessToken, "?state=live"); len(p.Sessions) != 1 || p.Sessions[0].Closure != nil {
			t.Errorf("state=live = %+v", p.Sessions)
		}

		// Thirty days on, they are no longer listed.
		var tok api.Tokens
		e.clock.Advance(20 * 24 * time.Hour)
		e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: self.RefreshToken}).wantOK(t, 200, &tok)
		if p := e.ended(tok.AccessToken, ""); len(p.Sessions) != 3 {
			t.Errorf("ended list after 20 days has %d sessions, want 3", len(p.Sessions))
		}
		e.clock.Advance(11 * 24 * time.Hour)
		e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: tok.RefreshToken}).wantOK(t, 200, &tok)
		if p := e.ended(tok.AccessToken, ""); len(p.Sessions) != 0 {
			t.Errorf("ended list after 31 days has %d sessions", len(p.Sessions))
		}
	})
}

// TestClosureOfOwnLogout: a session that logs itself out is confirmed at
// once: no closure token anywhere, confirmed in the list.
func TestClosureOfOwnLogout(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	laptop := e.login("ana", "Laptop", true)
	phone := e.login("ana", "Phone", true)
	tablet := e.login("ana", "Tablet", true)
	s := e.stream(phone.AccessToken)
	e.clock.Advance(time.Second)
	var out api.RevokeSessionResponse
	e.do("DELETE", "/v1/sessions/"+phone.Session.ID+"?erase=true", phone.AccessToken, nil).wantOK(t, 200, &out)
	if c := out.Session.Closure; c == nil || c.State != api.ClosureConfirmed || !c.EraseRequested || !c.Erased ||
		c.ConfirmedAt == nil || !c.ConfirmedAt.Equal(*out.Session.RevokedAt) {
		t.Fatalf("own log out with erase: closure %+v", c)
	}
	ev := revokedEvent(t, s.nextEvent(t))
	if ev.ClosureToken != "" || ev.Reason != api.ReasonLogout {
		t.Fatalf("own log out's event = %+v, want no closure token", ev)
	}
	if d := e.do("GET", "/v1/me", phone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked); closureToken(d) != "" {
		t.Errorf("after an own log out the 401 carries a closure token")
	}
	e.do("POST", "/v1/logout", tablet.AccessToken, api.LogoutRequest{}).wantOK(t, 200, nil)
	if c := e.endedSession(laptop.AccessToken, tablet.Session.ID).Closure; c == nil || c.State != api.ClosureConfirmed || c.EraseRequested {
		t.Errorf("POST /v1/logout: closure %+v, want confirmed without erase", c)
	}
}

// TestClosureAfterPasswordChange: logging the others out with a password
// change issues their closure tokens too.
func TestClosureAfterPasswordChange(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	laptop := e.login("ana", "Laptop", true)
	phone := e.login("ana", "Phone", true)
	s := e.stream(phone.AccessToken)
	e.do("POST", "/v1/password", laptop.AccessToken, api.ChangePasswordRequest{CurrentPassword: testPassword,
		NewPassword: "amber-falcon-meadow-42", LogOutOtherDevices: true}).wantOK(t, 200, nil)
	if ev := s.nextEvent(t); ev.name != api.EventPasswordChanged {
		t.Fatalf("got %+v, want password.changed first", ev)
	}
	ev := revokedEvent(t, s.nextEvent(t))
	if ev.Reason != api.ReasonPasswordChanged || ev.ClosureToken == "" {
		t.Fatalf("session.revoked = %+v", ev)
	}
	e.confirm(ev.ClosureToken, false).wantOK(t, 204, nil)
}

// TestClosureOfOperatorLogout: an operator's logout-all reaches a serving
// server through the outbox, which holds no token: the server that holds
// the device's stream mints one as it delivers the event.
func TestClosureOfOperatorLogout(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.OutboxPoll = 20 * time.Millisecond })
	stop := e.srv.StartBackground()
	defer stop()
	e.signUp("ana")
	phone := e.login("ana", "Phone", true)
	offline := e.login("ana", "Tablet", true)
	s := e.stream(phone.AccessToken)
	admin := server.New(e.b.DB, servertest.Config(e.clock))
	if n, err := admin.AdminLogoutAll(context.Background(), "ana"); err != nil || n != 2 {
		t.Fatalf("logout-all: %d, %v", n, err)
	}
	entries, err := e.b.DB.ReadOutbox(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if strings.Contains(string(en.Data), "sgc_") {
			t.Fatalf("an outbox entry holds a closure token: %s", en.Data)
		}
	}
	ev := revokedEvent(t, s.nextEvent(t))
	if ev.Reason != api.ReasonAdmin || ev.ClosureToken == "" {
		t.Fatalf("session.revoked = %+v, want reason admin with a closure token", ev)
	}
	e.confirm(ev.ClosureToken, true).wantOK(t, 204, nil)
	d := e.do("GET", "/v1/me", offline.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
	if closureToken(d) == "" {
		t.Fatal("the offline device's next call got no closure token")
	}
	e.confirm(closureToken(d), false).wantOK(t, 204, nil)
}

// TestClosureLimits: malformed receipts are 400 naming the field; unknown
// tokens count against the address (429 past the budget); a revoked
// device hammering the server gets a bounded number of fresh tokens.
func TestClosureLimits(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.IPFailures = ratelimit.Config{Burst: 3, Window: 15 * time.Minute} })
	e.signUp("ana")
	laptop := e.login("ana", "Laptop", true)
	phone := e.login("ana", "Phone", true)
	for _, body := range []any{`{}`, api.ClosureRequest{}, `{"closure_token":5}`, `{"closure_token":"x","erased":"yes"}`,
		api.ClosureRequest{ClosureToken: strings.Repeat("x", 200)}} {
		d := e.do("POST", "/v1/closures", "", body).wantError(t, 400, api.CodeInvalidRequest)
		if f := d.Details[api.DetailField]; f != "closure_token" && f != "erased" {
			t.Errorf("body %v: field %v", body, f)
		}
	}
	e.do("POST", "/v1/closures", "", `{"closure_token":"x"}`, "Content-Type", "text/plain").wantError(t, 415, api.CodeUnsupportedMedia)

	e.do("DELETE", "/v1/sessions/"+phone.Session.ID, laptop.AccessToken, nil).wantOK(t, 200, nil)
	var toks []string
	for range 40 {
		d := e.do("GET", "/v1/me", phone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
		if tok := closureToken(d); tok != "" {
			toks = append(toks, tok)
		}
	}
	if len(toks) == 0 || len(toks) > 16 {
		t.Fatalf("%d closure tokens handed out to 40 calls, want 1 to 16", len(toks))
	}
	// Only the newest 8 are kept.
	e.confirm(toks[0], false).wantError(t, 401, api.CodeInvalidToken)

	for i := range 2 {
		e.confirm("sgc_unknown"+string(rune('a'+i)), false).wantError(t, 401, api.CodeInvalidToken)
	}
	e.confirm("sgc_unknownc", false).wantError(t, 429, api.CodeRateLimited)
	// Even a good token waits out the address's lock-out...
	e.confirm(toks[len(toks)-1], false).wantError(t, 429, api.CodeRateLimited)
	e.clock.Advance(16 * time.Minute)
	// ...then works.
	e.confirm(toks[len(toks)-1], false).wantOK(t, 204, nil)
}

// replicaPair starts two replicas on one new PostgreSQL database, each
// with its LISTEN/NOTIFY bus, sharing one clock, configured by opts.
func replicaPair(t *testing.T, opts ...option) (*env, *env) {
	url := pgtest.NewDatabase(t)
	clock := servertest.NewClock(time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC))
	replica := func() *env {
		st, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		b := servertest.StartStore(t, st, clock, opts...)
		bus, err := pgbus.New(url, b.Server, pgbus.Config{MaxBackoff: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = bus.Close() })
		b.Server.SetBus(bus)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := bus.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, b: b, srv: b.Server, http: b.HTTP, clock: clock, logs: &syncBuffer{}, client: b.HTTP.Client()}
		t.Cleanup(e.stop)
		return e
	}
	return replica(), replica()
}

// TestClosureReceiptAcrossReplicas: two replicas on one PostgreSQL
// database with their LISTEN/NOTIFY bus. The revoker follows its stream on
// replica 1, the device on replica 2; the revoke goes to replica 1, the
// receipt to replica 2, and the revoker hears of it on replica 1.
func TestClosureReceiptAcrossReplicas(t *testing.T) {
	r1, r2 := replicaPair(t)
	r1.signUp("ana")
	laptop := r1.login("ana", "Ana's Laptop", true)
	revoker := r1.stream(laptop.AccessToken)
	phone := r2.login("ana", "Lost phone", true)
	device := r2.stream(phone.AccessToken)
	// The bus works both ways: the phone's sign-in on replica 2 reaches
	// the revoker on replica 1. Each sign-in's sessions.changed goes
	// round through PostgreSQL, so under load the one of the device's own
	// sign-in may reach a stream opened just after it: skipped.
	skipChanged := func(s *stream) sse {
		for {
			if ev := s.nextEvent(t); ev.name != api.EventSessionsChanged {
				return ev
			}
		}
	}
	if ev := skipChanged(revoker); ev.name != api.EventSessionCreated {
		t.Fatalf("revoker got %+v, want session.created", ev)
	}
	if ev := revoker.nextEvent(t); ev.name != api.EventSessionsChanged {
		t.Fatalf("revoker got %+v, want sessions.changed", ev)
	}

	r1.do("DELETE", "/v1/sessions/"+phone.Session.ID+"?erase=true", laptop.AccessToken, nil).wantOK(t, 200, nil)
	rev := revokedEvent(t, skipChanged(device))
	if !rev.Erase || rev.ClosureToken == "" {
		t.Fatalf("the device on replica 2 got %+v", rev)
	}
	if got := revoker.nextEvent(t); got.name != api.EventSessionsChanged {
		t.Fatalf("revoker got %+v after the revoke", got)
	}
	revoker.wantQuiet(t, 200*time.Millisecond)

	r2.confirm(rev.ClosureToken, true).wantOK(t, 204, nil)
	if got := revoker.nextEvent(t); got.name != api.EventSessionsChanged {
		t.Fatalf("after the receipt on replica 2 the revoker on replica 1 got %+v, want sessions.changed", got)
	}
	c := r1.endedSession(laptop.AccessToken, phone.Session.ID).Closure
	if c == nil || c.State != api.ClosureConfirmed || !c.Erased || !c.EraseRequested {
		t.Fatalf("closure on replica 1 = %+v", c)
	}
	r1.confirm(rev.ClosureToken, true).wantError(t, 401, api.CodeInvalidToken)
}
