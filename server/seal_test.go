package server_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sessionguard/server"
	"sessionguard/server/servertest"
)

// Two-step secrets are sealed with the secrets key at rest; secrets stored
// in the clear before sealing existed are sealed at start (and keep
// working); a server given another key refuses to start on them.
func TestTwoStepSecretsAreSealedAtRest(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		ctx := context.Background()
		acct := e.signUp("ana")
		l := e.login("ana", "Laptop", false)
		secret, _ := e.turnOnTOTP(l.AccessToken)
		stored, err := e.b.DB.Account(ctx, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored.TOTPSecret, "sg1:") || strings.Contains(stored.TOTPSecret, secret) {
			t.Fatalf("stored secret %q is not sealed", stored.TOTPSecret)
		}

		// An account whose secret was stored before sealing existed.
		e.signUp("bob")
		bob, _ := e.b.DB.AccountByUsername(ctx, "bob")
		const legacy = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
		if err := e.b.DB.SetTOTPPending(ctx, bob.ID, legacy); err != nil {
			t.Fatal(err)
		}
		if _, err := e.b.DB.EnableTOTP(ctx, bob.ID, legacy, 0, nil); err != nil {
			t.Fatal(err)
		}
		e.finishLogin(e.startLogin("bob", "Phone", false), e.code(legacy, 0)).wantOK(t, 200, nil)
		e.clock.Advance(30 * time.Second)
		n, err := e.srv.SealStoredSecrets(ctx)
		if err != nil || n != 1 {
			t.Fatalf("SealStoredSecrets = %d, %v; want bob's one secret", n, err)
		}
		if bob, _ = e.b.DB.Account(ctx, bob.ID); !strings.HasPrefix(bob.TOTPSecret, "sg1:") {
			t.Fatalf("legacy secret still stored as %q", bob.TOTPSecret)
		}
		e.finishLogin(e.startLogin("bob", "Phone", false), e.code(legacy, 0)).wantOK(t, 200, nil)
		if n, err := e.srv.SealStoredSecrets(ctx); err != nil || n != 0 {
			t.Fatalf("second run sealed %d (%v), want 0", n, err)
		}

		other := servertest.Config(e.clock)
		other.SecretsKey = []byte("another-key-another-key-another!!")[:32]
		if _, err := server.New(e.b.DB, other).SealStoredSecrets(ctx); !errors.Is(err, server.ErrWrongSecretsKey) {
			t.Fatalf("a server with another key: %v, want ErrWrongSecretsKey", err)
		}
	})
}

// Connections are guarded: past 75 % of the maximum, event streams are
// refused; past 94 %, every request is answered 503 and its connection
// closed; at the maximum, new connections are closed at once. Nothing
// hangs, and everything works again once connections go away.
func TestConnectionGuard(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", false)
	const max = 10
	ts := httptest.NewUnstartedServer(e.srv.Handler())
	ts.Listener = e.srv.GuardListener(ts.Listener, max)
	ts.Start()
	defer ts.Close()
	addr := ts.Listener.Addr().String()

	var idle []net.Conn
	hold := func(n int) {
		// The last request's connection first: the server closes it after
		// answering, and until then it holds a place the next idle one
		// would not get.
		waitFor(t, func() bool { return e.srv.OpenConnections() == len(idle) })
		for range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			idle = append(idle, c)
		}
		waitFor(t, func() bool { return e.srv.OpenConnections() == len(idle) })
	}
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	get := func(path string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+l.AccessToken)
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	status := func(path string) int {
		t.Helper()
		resp, err := get(path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return resp.StatusCode
	}

	hold(7) // with the request's own: 8 of 10
	if got := status("/v1/events"); got != 503 {
		t.Fatalf("a stream past 75%%: %d, want 503", got)
	}
	if got := status("/v1/me"); got != 200 {
		t.Fatalf("a request at 80%%: %d, want 200", got)
	}
	hold(2) // 10 of 10 with the request
	resp, err := get("/v1/me")
	if err != nil || resp.StatusCode != 503 || !resp.Close {
		t.Fatalf("a request at the limit: %v %v, want 503 with Connection: close", resp, err)
	}
	hold(1) // the maximum, without any request
	if _, err := get("/healthz"); err == nil {
		t.Fatal("a connection past the maximum was answered")
	}
	for _, c := range idle {
		c.Close()
	}
	idle = nil
	waitFor(t, func() bool { return e.srv.OpenConnections() == 0 })
	if got := status("/v1/me"); got != 200 {
		t.Fatalf("after the connections went away: %d", got)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Over TLS every answer carries HSTS; over plain HTTP (loopback, or behind
// a proxy that terminates TLS) it would mean nothing and is not sent.
func TestHSTSOverTLS(t *testing.T) {
	e := newEnv(t)
	ts := httptest.NewTLSServer(e.srv.Handler())
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Fatalf("no HSTS over TLS: %q", h)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("TLS state %+v", resp.TLS)
	}
	if h := e.do("GET", "/healthz", "", nil).header.Get("Strict-Transport-Security"); h != "" {
		t.Fatalf("HSTS over plain HTTP: %q", h)
	}
}
