package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"sessionguard/api"
)

// fakeAPI is a stand-in server for routes the real server does not serve
// yet. It checks each request against want and answers status and reply.
type fakeAPI struct {
	t *testing.T

	mu       sync.Mutex
	access   string // the access token it accepts
	refresh  string // the refresh token it accepts
	requests []string
	bodies   []map[string]any
	status   int
	reply    string
	rotated  int // refreshes served; the n-th hands out sga_a(n+1), sgr_r(n+1)
}

func newFakeAPI(t *testing.T) (*fakeAPI, *Client) {
	f := &fakeAPI{t: t, access: "sga_a1", refresh: "sgr_r1"}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	c := newClient(t, hs.URL)
	c.SetTokens(api.Tokens{AccessToken: "sga_a1", RefreshToken: "sgr_r1"})
	return f, c
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			f.t.Errorf("%s %s: body %q is not JSON", r.Method, r.URL.Path, raw)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
		}
	}
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.bodies = append(f.bodies, body)
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v1/token/refresh" {
		if body["refresh_token"] != f.refresh {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":{"code":"invalid_token","message":"The token is not valid."}}`)
			return
		}
		f.rotated++
		f.access, f.refresh = fmt.Sprintf("sga_a%d", f.rotated+1), fmt.Sprintf("sgr_r%d", f.rotated+1)
		fmt.Fprintf(w, `{"access_token":%q,"refresh_token":%q,"access_expires_at":"2099-01-01T00:00:00Z","refresh_expires_at":"2099-01-01T00:00:00Z"}`, f.access, f.refresh)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.access && r.Header.Get("Authorization") != "" {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":{"code":"token_expired","message":"The access token has expired; refresh it."}}`)
		return
	}
	if f.status == http.StatusNoContent {
		w.WriteHeader(204)
		return
	}
	w.WriteHeader(f.status)
	fmt.Fprint(w, f.reply)
}

// TestLaterRoutes exercises the calls whose server side arrives in a later
// issue, against a fake that checks the wire format.
func TestLaterRoutes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		status  int
		reply   string
		call    func(c *Client) (any, error)
		request string         // "METHOD /path?query"
		body    map[string]any // nil: no body
		authed  bool
		want    any
		err     error
	}{
		{
			name: "LoginMFA", status: 200,
			reply: `{"account":{"id":"acc_1","username":"al","created_at":"2026-01-01T00:00:00Z","mfa_enabled":true},` +
				`"session":{"id":"ses_1","current":true},"access_token":"sga_n","refresh_token":"sgr_n",` +
				`"access_expires_at":"2026-01-01T00:15:00Z","refresh_expires_at":"2026-01-01T12:00:00Z"}`,
			call: func(c *Client) (any, error) {
				l, err := c.LoginMFA(ctx, api.MFALoginRequest{MFAToken: "mfa_1", Code: "123456"})
				return l.AccessToken + " " + l.Account.Username, err
			},
			request: "POST /v1/login/mfa", body: map[string]any{"mfa_token": "mfa_1", "code": "123456"},
			want: "sga_n al",
		},
		{
			name: "LoginMFA wrong code", status: 401,
			reply: `{"error":{"code":"invalid_credentials","message":"That code is not right."}}`,
			call: func(c *Client) (any, error) {
				_, err := c.LoginMFA(ctx, api.MFALoginRequest{MFAToken: "mfa_1", Code: "000000"})
				return nil, err
			},
			request: "POST /v1/login/mfa", body: map[string]any{"mfa_token": "mfa_1", "code": "000000"},
			err: ErrInvalidCredentials,
		},
		{
			name: "Login asks for the second factor", status: 200,
			reply: `{"mfa_required":true,"mfa_token":"mfa_9"}`,
			call: func(c *Client) (any, error) {
				l, err := c.Login(ctx, api.LoginRequest{Username: "al", Password: "pw", Device: api.Device{ID: "d"}})
				return fmt.Sprint(l.MFARequired, " ", l.MFAToken), err
			},
			request: "POST /v1/login",
			body: map[string]any{"username": "al", "password": "pw", "remember": false,
				"device": map[string]any{"id": "d", "name": "", "platform": "", "os": "", "model": "", "app_version": ""}},
			want: "true mfa_9",
		},
		{
			name: "ChangePassword", status: 200, reply: `{"revoked":3}`,
			call: func(c *Client) (any, error) {
				return c.ChangePassword(ctx, api.ChangePasswordRequest{CurrentPassword: "old-pass-1", NewPassword: "new-pass-2", LogOutOtherDevices: true})
			},
			request: "POST /v1/password", authed: true,
			body: map[string]any{"current_password": "old-pass-1", "new_password": "new-pass-2", "log_out_other_devices": true},
			want: 3,
		},
		{
			name: "ChangePassword needs step-up", status: 403,
			reply: `{"error":{"code":"reauth_required","message":"Confirm your password to continue."}}`,
			call: func(c *Client) (any, error) {
				return c.ChangePassword(ctx, api.ChangePasswordRequest{CurrentPassword: "a", NewPassword: "b"})
			},
			request: "POST /v1/password", authed: true,
			body: map[string]any{"current_password": "a", "new_password": "b", "log_out_other_devices": false},
			err:  ErrReauthRequired,
		},
		{
			name: "TOTPSetup", status: 200, reply: `{"secret":"JBSWY3DPEHPK3PXP","otpauth_uri":"otpauth://totp/Sessionguard:al?secret=JBSWY3DPEHPK3PXP"}`,
			call: func(c *Client) (any, error) {
				s, err := c.TOTPSetup(ctx)
				return s.Secret + " " + s.OTPAuthURI, err
			},
			request: "POST /v1/mfa/totp/setup", authed: true,
			want: "JBSWY3DPEHPK3PXP otpauth://totp/Sessionguard:al?secret=JBSWY3DPEHPK3PXP",
		},
		{
			name: "TOTPSetup without a secret", status: 200, reply: `{}`,
			call: func(c *Client) (any, error) {
				_, err := c.TOTPSetup(ctx)
				return nil, err
			},
			request: "POST /v1/mfa/totp/setup", authed: true, err: ErrServer,
		},
		{
			name: "TOTPEnable", status: 200, reply: `{"recovery_codes":["aaaa-bbbb","cccc-dddd"]}`,
			call: func(c *Client) (any, error) {
				return c.TOTPEnable(ctx, "123456")
			},
			request: "POST /v1/mfa/totp/enable", authed: true, body: map[string]any{"code": "123456"},
			want: []string{"aaaa-bbbb", "cccc-dddd"},
		},
		{
			name: "TOTPEnable wrong code", status: 401,
			reply: `{"error":{"code":"invalid_credentials","message":"That code is not right."}}`,
			call: func(c *Client) (any, error) {
				return c.TOTPEnable(ctx, "000000")
			},
			request: "POST /v1/mfa/totp/enable", authed: true, body: map[string]any{"code": "000000"},
			err: ErrInvalidCredentials,
		},
		{
			name: "TOTPDisable", status: 204,
			call: func(c *Client) (any, error) {
				return nil, c.TOTPDisable(ctx)
			},
			request: "POST /v1/mfa/totp/disable", authed: true,
		},
		{
			name: "Audit with limit and cursor", status: 200,
			reply: `{"events":[{"id":"evt_1","type":"login.succeeded"}],"next_cursor":"Mg"}`,
			call: func(c *Client) (any, error) {
				p, err := c.Audit(ctx, 1, "a b/c")
				return fmt.Sprint(len(p.Events), " ", p.Events[0].Type, " ", p.NextCursor), err
			},
			request: "GET /v1/audit?cursor=a+b%2Fc&limit=1", authed: true,
			want: "1 login.succeeded Mg",
		},
		{
			name: "Logout remembering sends the refresh token", status: 200,
			reply: `{"remembered_credential":"sgm_1","remembered_expires_at":"2099-01-01T00:00:00Z"}`,
			call: func(c *Client) (any, error) {
				out, err := c.Logout(ctx, true)
				return out.RememberedCredential, err
			},
			request: "POST /v1/logout", authed: true,
			body: map[string]any{"remember": true, "refresh_token": "sgr_r1"},
			want: "sgm_1",
		},
		{
			name: "Logout without remembering sends no refresh token", status: 200, reply: `{}`,
			call: func(c *Client) (any, error) {
				_, err := c.Logout(ctx, false)
				return nil, err
			},
			request: "POST /v1/logout", authed: true, body: map[string]any{"remember": false},
		},
		{
			name: "Login sends the install key", status: 200,
			reply: `{"mfa_required":true,"mfa_token":"mfa_9"}`,
			call: func(c *Client) (any, error) {
				_, err := c.Login(ctx, api.LoginRequest{Username: "al", Password: "pw", InstallKey: "k"})
				return nil, err
			},
			request: "POST /v1/login",
			body: map[string]any{"username": "al", "password": "pw", "remember": false, "install_key": "k",
				"device": map[string]any{"id": "", "name": "", "platform": "", "os": "", "model": "", "app_version": ""}},
		},
		{
			name: "RevokeSession escapes the id", status: 200,
			reply: `{"session":{"id":"ses_a/b","revoke_reason":"remote_logout"}}`,
			call: func(c *Client) (any, error) {
				s, err := c.RevokeSession(ctx, "ses_a/b")
				return s.ID + " " + s.RevokeReason, err
			},
			request: "DELETE /v1/sessions/ses_a%2Fb", authed: true,
			want: "ses_a/b remote_logout",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFakeAPI(t)
			f.mu.Lock()
			f.status, f.reply = tt.status, tt.reply
			f.mu.Unlock()
			got, err := tt.call(c)
			if tt.err != nil {
				if !isSentinel(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			} else if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if !slices.Equal(f.requests, []string{tt.request}) {
				t.Fatalf("requests %q, want %q", f.requests, tt.request)
			}
			if !reflect.DeepEqual(f.bodies[0], tt.body) {
				t.Fatalf("body %#v, want %#v", f.bodies[0], tt.body)
			}
		})
	}
}

// TestLaterRoutesRefresh: the later routes refresh an expired token and
// retry like every authenticated call.
func TestLaterRoutesRefresh(t *testing.T) {
	f, c := newFakeAPI(t)
	f.mu.Lock()
	f.status, f.reply = 200, `{"recovery_codes":["x"]}`
	f.access = "sga_a0" // the held sga_a1 is refused as expired
	f.mu.Unlock()
	var rotated []string
	c.OnRotate(func(nt api.Tokens) { rotated = append(rotated, nt.AccessToken) })
	codes, err := c.TOTPEnable(context.Background(), "123456")
	if err != nil || !slices.Equal(codes, []string{"x"}) {
		t.Fatalf("TOTPEnable = %v, %v", codes, err)
	}
	want := []string{"POST /v1/mfa/totp/enable", "POST /v1/token/refresh", "POST /v1/mfa/totp/enable"}
	f.mu.Lock()
	requests := slices.Clone(f.requests)
	f.mu.Unlock()
	if !slices.Equal(requests, want) || !slices.Equal(rotated, []string{"sga_a2"}) {
		t.Fatalf("requests %q, rotated %q", requests, rotated)
	}
	if got := c.Tokens(); got.AccessToken != "sga_a2" || got.RefreshToken != "sgr_r2" ||
		!got.AccessExpiresAt.Equal(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("held %+v", got)
	}
	if err := c.TOTPDisable(context.Background()); err != nil {
		t.Fatalf("TOTPDisable after refresh: %v", err)
	}
	// Logout remembering after a refresh sends the rotated refresh token,
	// not the one held when the call began.
	f.mu.Lock()
	f.access = "sga_a0" // the held sga_a2 is refused as expired
	f.reply = `{"remembered_credential":"sgm_1"}`
	f.requests, f.bodies = nil, nil
	f.mu.Unlock()
	if out, err := c.Logout(context.Background(), true); err != nil || out.RememberedCredential != "sgm_1" {
		t.Fatalf("Logout(remember) after a refresh = %+v, %v", out, err)
	}
	f.mu.Lock()
	requests, bodies := slices.Clone(f.requests), slices.Clone(f.bodies)
	f.mu.Unlock()
	want = []string{"POST /v1/logout", "POST /v1/token/refresh", "POST /v1/logout"}
	if !slices.Equal(requests, want) || bodies[0]["refresh_token"] != "sgr_r2" || bodies[2]["refresh_token"] != "sgr_r3" {
		t.Fatalf("requests %q, bodies %v", requests, bodies)
	}
	c.SetTokens(api.Tokens{AccessToken: "sga_a3", RefreshToken: "sgr_r3"}) // signed in again
	// A refresh the server refuses ends the call with that error.
	f.mu.Lock()
	f.access, f.refresh = "sga_other", "sgr_other"
	f.mu.Unlock()
	if err := c.TOTPDisable(context.Background()); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("TOTPDisable with a refused refresh: %v", err)
	}
}
