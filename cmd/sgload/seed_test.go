//go:build linux

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/server"
	"sessionguard/server/passwd"
	"sessionguard/server/store/sqlite"
	"sessionguard/server/token"
)

// TestSeededSessionsWorkOnARealServer proves the tokens sgload makes and
// the records it writes are what sessiond's own sign-in makes: a seeded
// access token authenticates, opens a stream, and a controller session may
// revoke a stream session without step-up; the seeded password signs in.
func TestSeededSessionsWorkOnARealServer(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sessiond.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fast := passwd.Fast
	hash, err := (passwd.Hasher{Params: fast}).Hash(loadPassword)
	if err != nil {
		t.Fatal(err)
	}
	data, err := seedDB(ctx, st, layout{MeSessions: 2, BoundSessions: 2, ListSessions: 30, AuditEvents: 40, StreamSessions: 6,
		StreamsPerAccount: 3, PasswordHash: hash, Workers: 4, SessionLife: time.Hour}, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if data.Sessions != 2+2+30+6+2 || data.Accounts != 3+2 || len(data.Controllers) != 2 {
		t.Fatalf("seeded %d sessions on %d accounts with %d controllers", data.Sessions, data.Accounts, len(data.Controllers))
	}
	srv := server.New(st, server.Config{Password: &fast})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	defer srv.Close()
	c := hs.Client()

	var me api.MeResponse
	if err := call(ctx, c, "GET", hs.URL+"/v1/me", data.Me[1].Token, nil, &me); err != nil {
		t.Fatalf("a seeded token does not authenticate: %v", err)
	}
	if me.Account.Username != userMe || me.Session.ID != data.Me[1].ID {
		t.Fatalf("GET /v1/me = %+v", me)
	}
	if err := call(ctx, c, "GET", hs.URL+"/v1/me", token.New(token.PrefixAccess), nil, nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("an unknown token: %v, want 401", err)
	}

	// A bound session: refused without a proof, taken with one by its key.
	b := data.Bound[1]
	if err := call(ctx, c, "GET", hs.URL+"/v1/me", b.Token, nil, nil); err == nil || !strings.Contains(err.Error(), `"reason":"dpop"`) {
		t.Fatalf("a bound token without a proof: %v, want 401 reason dpop", err)
	}
	p, err := b.Key.Proof("GET", hs.URL+"/v1/me", b.Token, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Authorization", dpop.Scheme+" "+b.Token)
	h.Set(dpop.Header, p)
	if err := callWith(ctx, c, "GET", hs.URL+"/v1/me", h, nil, &me); err != nil || !me.Session.Bound || me.Session.ID != b.ID {
		t.Fatalf("a bound token with its proof: %v, %+v", err, me.Session)
	}

	var page listPage
	if err := call(ctx, c, "GET", hs.URL+"/v1/sessions?limit=200", data.Big.Token, nil, &page); err != nil || len(page.Sessions) != 30 {
		t.Fatalf("sessions page: %d, %v", len(page.Sessions), err)
	}
	if err := call(ctx, c, "GET", hs.URL+"/v1/audit?limit=200", data.Big.Token, nil, &page); err != nil || len(page.Events) != 40 {
		t.Fatalf("audit page: %d, %v", len(page.Events), err)
	}

	victim := data.Streams[4]
	confirm := func(tok string) error {
		return call(ctx, c, "POST", hs.URL+"/v1/closures", "", api.ClosureRequest{ClosureToken: tok, Erased: true}, nil)
	}
	s, err := openStream(ctx, strings.TrimPrefix(hs.URL, "http://"), victim, 10*time.Second, confirm)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctrl := data.Controllers[victim.AccountID]
	if err := call(ctx, c, "DELETE", hs.URL+"/v1/sessions/"+victim.ID, ctrl.Token, nil, nil); err != nil {
		t.Fatalf("the controller cannot revoke without step-up: %v", err)
	}
	select {
	case <-s.revoked:
	case <-time.After(10 * time.Second):
		t.Fatal("no session.revoked on the seeded stream")
	}
	<-s.closed
	if s.readErr != nil {
		t.Fatalf("the stream failed instead of ending: %v", s.readErr)
	}
	select {
	case <-s.receipt:
		if s.receiptErr != nil {
			t.Fatalf("the device's receipt: %v", s.receiptErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no receipt sent")
	}

	var l api.Login
	req := api.LoginRequest{Username: data.LoginUser, Password: loadPassword, Device: api.Device{ID: "d", Name: "Test"}}
	if err := call(ctx, c, "POST", hs.URL+"/v1/login", "", req, &l); err != nil || l.AccessToken == "" {
		t.Fatalf("sign-in with the seeded password: %v", err)
	}
	if !strings.HasPrefix(l.AccessToken, token.PrefixAccess) || len(l.AccessToken) != len(data.Me[0].Token) {
		t.Fatalf("the server's token %q and sgload's %q differ in form", l.AccessToken, data.Me[0].Token)
	}
}
