package server_test

import (
	"testing"

	"sessionguard/api"
)

func TestRestartKeepsSessionsAndRevocations(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	a := e.login("ana", "Laptop", true)
	b := e.login("ana", "Phone", true)
	e.do("DELETE", "/v1/sessions/"+b.Session.ID, a.AccessToken, nil).wantOK(t, 200, nil)
	path, now := e.dbPath, e.clock.Now()
	e.stop()

	e2 := newEnvAt(t, path)
	e2.clock.Set(now)
	e2.do("GET", "/v1/me", a.AccessToken, nil).wantOK(t, 200, nil)
	got := e2.do("GET", "/v1/me", b.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
	if got.Details[api.DetailByDeviceName] != "Laptop" {
		t.Fatalf("details after restart = %v", got.Details)
	}
	e2.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: b.RefreshToken}).wantError(t, 401, api.CodeSessionRevoked)
	var tok api.Tokens
	e2.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: a.RefreshToken}).wantOK(t, 200, &tok)
	if p := e2.sessions(tok.AccessToken, ""); len(p.Sessions) != 1 {
		t.Fatalf("sessions after restart = %+v", p.Sessions)
	}
	if types := e2.auditTypes(tok.AccessToken); !contains(types, api.AuditSessionRevoked) {
		t.Fatalf("audit after restart = %v", types)
	}
}
