package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"sessionguard/api"
	"sessionguard/server"
)

// TestRenameSession renames devices on the real server: another session
// of the account and this one, and what the server refuses.
func TestRenameSession(t *testing.T) {
	ctx := context.Background()
	ts, c, self := signedIn(t, "ana", "Laptop", false)
	phone := newClient(t, ts.URL())
	other := signIn(t, phone, "ana", "Phone", false)

	got, err := c.RenameSession(ctx, other.Session.ID, " Ana's Pixel 8 ")
	if err != nil || got.ID != other.Session.ID || got.Current || got.Device.Name != "Ana's Pixel 8" {
		t.Fatalf("RenameSession(other) = %+v, %v", got, err)
	}
	got, err = c.RenameSession(ctx, self.Session.ID, "Ana's ThinkPad")
	if err != nil || !got.Current || got.Device.Name != "Ana's ThinkPad" {
		t.Fatalf("RenameSession(self) = %+v, %v", got, err)
	}
	me, err := phone.Me(ctx)
	if err != nil || me.Session.Device.Name != "Ana's Pixel 8" {
		t.Fatalf("the renamed device's Me = %+v, %v", me.Session.Device, err)
	}

	bob := newClient(t, ts.URL())
	signUp(t, bob, "bob")
	bobs := signIn(t, bob, "bob", "Bob's phone", false)
	tests := []struct {
		name, id, to string
		status       int
		code, field  string
		sentinel     error
	}{
		{"empty name", other.Session.ID, "  ", 400, api.CodeInvalidRequest, "name", ErrInvalidRequest},
		{"too long", other.Session.ID, strings.Repeat("n", 65), 400, api.CodeInvalidRequest, "name", ErrInvalidRequest},
		{"bidi override", other.Session.ID, "Pixel \u202e8", 400, api.CodeInvalidRequest, "name", ErrInvalidRequest},
		{"another account's session", bobs.Session.ID, "Mine now", 404, api.CodeNotFound, "", ErrNotFound},
		{"unknown session", "ses_nope", "Pixel", 404, api.CodeNotFound, "", ErrNotFound},
		{"no session chosen", "", "Pixel", 400, api.CodeInvalidRequest, "id", ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.RenameSession(ctx, tc.id, tc.to)
			if e := wantCode(t, err, tc.status, tc.code, tc.sentinel); e.Field() != tc.field {
				t.Errorf("Field() = %q, want %q", e.Field(), tc.field)
			}
		})
	}
	if me, err := bob.Me(ctx); err != nil || me.Session.Device.Name != "Bob's phone" {
		t.Errorf("bob's device after a refused rename = %+v, %v", me.Session.Device, err)
	}
}

// TestRecoveryCodeCalls: the count and new codes on the real server, with
// its step-up and its refusal while two-step verification is off.
func TestRecoveryCodeCalls(t *testing.T) {
	ctx := context.Background()
	ts, c, _ := signedIn(t, "ana", "Laptop", false)
	code := func(secret string) string {
		t.Helper()
		ts.clock.Advance(30 * time.Second) // a fresh time step: codes are single use
		s, err := totp.GenerateCode(secret, ts.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	if n, err := c.RecoveryCodesLeft(ctx); err != nil || n != 0 {
		t.Fatalf("RecoveryCodesLeft with two-step off = %d, %v", n, err)
	}
	_, err := c.RegenerateRecoveryCodes(ctx)
	wantCode(t, err, 400, api.CodeInvalidRequest, ErrInvalidRequest)

	setup, err := c.TOTPSetup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.TOTPEnable(ctx, code(setup.Secret))
	if err != nil || len(first) != 10 {
		t.Fatalf("TOTPEnable = %d codes, %v", len(first), err)
	}
	if n, err := c.RecoveryCodesLeft(ctx); err != nil || n != 10 {
		t.Fatalf("RecoveryCodesLeft = %d, %v; want 10", n, err)
	}

	ts.clock.Advance(11 * time.Minute) // past the step-up window
	_, err = c.RegenerateRecoveryCodes(ctx)
	wantCode(t, err, 403, api.CodeReauthRequired, ErrReauthRequired)
	if _, err := c.Reauth(ctx, api.ReauthRequest{Password: testPassword, Code: code(setup.Secret)}); err != nil {
		t.Fatal(err)
	}
	fresh, err := c.RegenerateRecoveryCodes(ctx)
	if err != nil || len(fresh) != 10 {
		t.Fatalf("RegenerateRecoveryCodes = %v, %v", fresh, err)
	}
	for _, f := range fresh {
		for _, o := range first {
			if f == o {
				t.Fatalf("new code %q was among the first ones", f)
			}
		}
	}

	// The first codes no longer sign in; the new ones do.
	other := newClient(t, ts.URL())
	for i, rc := range []string{first[0], fresh[0]} {
		l, err := other.Login(ctx, api.LoginRequest{Username: "ana", Password: testPassword, Device: device("Phone")})
		if err != nil || !l.MFARequired {
			t.Fatalf("Login = %+v, %v", l, err)
		}
		_, err = other.LoginMFA(ctx, api.MFALoginRequest{MFAToken: l.MFAToken, Code: rc})
		if i == 0 {
			wantCode(t, err, 401, api.CodeInvalidCredentials, ErrInvalidCredentials)
		} else if err != nil {
			t.Fatalf("a new code did not sign in: %v", err)
		}
	}
	if n, err := c.RecoveryCodesLeft(ctx); err != nil || n != 9 {
		t.Fatalf("RecoveryCodesLeft after one was used = %d, %v; want 9", n, err)
	}
}

// TestCheckServer: sessiond is recognised; another server answering at
// the address is ErrNotSessiond; an address where nothing answers is
// ErrOffline; a sessiond without its database (its own 503) or a proxy
// without its server (502) is ErrServer. Each error is only what it is.
func TestCheckServer(t *testing.T) {
	ctx := context.Background()
	fake := func(status int, contentType, body string) string {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			if status == http.StatusMovedPermanently {
				w.Header().Set("Location", "https://example.org/")
			}
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}))
		t.Cleanup(hs.Close)
		return hs.URL
	}
	// nothing is an address where nothing listens: a port just freed,
	// taken at the moment it is asked (so no server of this test gets it
	// in between).
	nothing := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}
	up := newTestServer(t, func(c *server.Config) { c.Version = "1.4.0" })
	noDB := newTestServer(t)
	if err := noDB.store.Close(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		url  string
		want api.HealthResponse
		err  error // the one sentinel the error matches (nil: no error)
	}{
		{"sessiond", up.URL(), api.HealthResponse{Status: "ok", Service: "sessiond", Version: "1.4.0"}, nil},
		{"a web server's 404 page", fake(404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>"), api.HealthResponse{}, ErrNotSessiond},
		{"a web page", fake(200, "text/html", "<!doctype html><title>Welcome</title>"), api.HealthResponse{}, ErrNotSessiond},
		{"another JSON API", fake(200, "application/json", `{"status":"ok"}`), api.HealthResponse{}, ErrNotSessiond},
		{"another service", fake(200, "application/json", `{"status":"ok","service":"grafana","version":"11"}`), api.HealthResponse{}, ErrNotSessiond},
		{"JSON that is not an object", fake(200, "application/json", `["ok"]`), api.HealthResponse{}, ErrNotSessiond},
		{"another API's JSON error", fake(404, "application/json", `{"error":{"code":"not_found","message":"no route"}}`), api.HealthResponse{}, ErrNotSessiond},
		{"a redirect", fake(301, "text/html", "moved"), api.HealthResponse{}, ErrNotSessiond},
		{"an empty answer", fake(204, "", ""), api.HealthResponse{}, ErrNotSessiond},
		{"a proxy whose server does not answer", fake(502, "text/html", "<h1>Bad Gateway</h1>"), api.HealthResponse{}, ErrServer},
		{"nothing listening", "", api.HealthResponse{}, ErrOffline},
		{"sessiond without its database", noDB.URL(), api.HealthResponse{}, ErrServer},
	}
	sentinels := append([]error{ErrNotSessiond, ErrNoNetwork}, allSentinels...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.url == "" {
				tc.url = nothing()
			}
			c := newClient(t, tc.url, WithTimeout(5*time.Second))
			got, err := c.CheckServer(ctx)
			if got != tc.want {
				t.Errorf("CheckServer = %+v, want %+v", got, tc.want)
			}
			if tc.err == nil {
				if err != nil {
					t.Fatalf("CheckServer: %v", err)
				}
				return
			}
			for _, s := range sentinels {
				if errors.Is(err, s) != (s == tc.err) {
					t.Errorf("errors.Is(%v, %v) = %v", err, s, errors.Is(err, s))
				}
			}
			if err == nil || err.Error() == "" || strings.Contains(err.Error(), "<") {
				t.Errorf("error %q is not a message for a person", err)
			}
		})
	}
}
