package client

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/ratelimit"
)

// TestCalls walks every implemented call's happy path against the real
// server.
func TestCalls(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	c := newClient(t, ts.URL())

	if err := c.Health(ctx); err != nil {
		t.Fatalf("Health: %v", err)
	}
	acct := signUp(t, c, "Alice")
	if acct.Username != "alice" || acct.ID == "" || acct.MFAEnabled {
		t.Fatalf("CreateAccount = %+v", acct)
	}
	login := signIn(t, c, "alice", "Alice Laptop", true)
	if login.MFARequired || login.Account.ID != acct.ID || !login.Session.Current {
		t.Fatalf("Login = %+v", login)
	}
	if got := c.Tokens(); got != login.Tokens() {
		t.Fatal("Tokens() is not what SetTokens got")
	}

	me, err := c.Me(ctx)
	if err != nil {
		t.Fatalf("Me: %v", err)
	}
	if me.Account.ID != acct.ID || me.Session.ID != login.Session.ID || !me.Session.Current ||
		me.Session.Device.Name != "Alice Laptop" || !me.Session.Remember {
		t.Fatalf("Me = %+v", me)
	}

	// Two more devices.
	phone, tablet := newClient(t, ts.URL()), newClient(t, ts.URL())
	ts.clock.Advance(2 * time.Minute)
	phoneLogin := signIn(t, phone, "alice", "Alice Phone", false)
	ts.clock.Advance(2 * time.Minute)
	tabletLogin := signIn(t, tablet, "alice", "Alice Tablet", false)

	p1, err := c.Sessions(ctx, 2, "")
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	if len(p1.Sessions) != 2 || p1.NextCursor == "" || p1.Sessions[0].ID != login.Session.ID ||
		!p1.Sessions[0].Current || p1.Sessions[1].ID != tabletLogin.Session.ID {
		t.Fatalf("Sessions page 1 = %+v", p1)
	}
	p2, err := c.Sessions(ctx, 2, p1.NextCursor)
	if err != nil {
		t.Fatalf("Sessions page 2: %v", err)
	}
	if len(p2.Sessions) != 1 || p2.NextCursor != "" || p2.Sessions[0].ID != phoneLogin.Session.ID {
		t.Fatalf("Sessions page 2 = %+v", p2)
	}
	all, err := c.Sessions(ctx, 0, "")
	if err != nil || len(all.Sessions) != 3 {
		t.Fatalf("Sessions(0) = %+v, %v", all, err)
	}

	ts.clock.Advance(time.Minute)
	at, err := c.Reauth(ctx, api.ReauthRequest{Password: testPassword})
	if err != nil {
		t.Fatalf("Reauth: %v", err)
	}
	if !at.Equal(ts.clock.Now()) {
		t.Fatalf("Reauth = %v, want %v", at, ts.clock.Now())
	}

	ended, err := c.RevokeSession(ctx, phoneLogin.Session.ID)
	if err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	if ended.ID != phoneLogin.Session.ID || ended.RevokedAt == nil || ended.RevokeReason != api.ReasonRemoteLogout {
		t.Fatalf("RevokeSession = %+v", ended)
	}
	n, err := c.RevokeOthers(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RevokeOthers = %d, %v; want 1", n, err)
	}

	a1, err := c.Audit(ctx, 2, "")
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if len(a1.Events) != 2 || a1.NextCursor == "" || a1.Events[0].Type != api.AuditSessionsRevokedOthers {
		t.Fatalf("Audit page 1 = %+v", a1)
	}
	a2, err := c.Audit(ctx, 0, a1.NextCursor)
	if err != nil {
		t.Fatalf("Audit page 2: %v", err)
	}
	var types []string
	for _, e := range append(a1.Events, a2.Events...) {
		types = append(types, e.Type)
	}
	for _, want := range []string{api.AuditLoginSucceeded, api.AuditReauthSucceeded, api.AuditSessionRevoked} {
		if !slices.Contains(types, want) {
			t.Errorf("audit types %v lack %s", types, want)
		}
	}

	// Log out remembering the login, sign in again with one tap.
	out, err := c.Logout(ctx, true)
	if err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if out.RememberedCredential == "" || out.RememberedExpiresAt == nil {
		t.Fatalf("Logout(remember) = %+v", out)
	}
	if c.Tokens() != (api.Tokens{}) {
		t.Fatal("Logout kept the tokens")
	}
	if _, err := c.Me(ctx); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("Me after Logout: %v, want ErrNotSignedIn", err)
	}
	rl, err := c.LoginRemembered(ctx, api.RememberedLoginRequest{Credential: out.RememberedCredential,
		Device: device("Alice Laptop"), Remember: true})
	if err != nil {
		t.Fatalf("LoginRemembered: %v", err)
	}
	if rl.Account.ID != acct.ID || rl.AccessToken == "" || !rl.Session.Remember {
		t.Fatalf("LoginRemembered = %+v", rl)
	}
	c.SetTokens(rl.Tokens())

	// Forget a remembered login: it no longer works.
	out, err = c.Logout(ctx, true)
	if err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if err := c.ForgetRemembered(ctx, out.RememberedCredential); err != nil {
		t.Fatalf("ForgetRemembered: %v", err)
	}
	if err := c.ForgetRemembered(ctx, out.RememberedCredential); err != nil {
		t.Fatalf("ForgetRemembered twice: %v", err)
	}
	_, err = c.LoginRemembered(ctx, api.RememberedLoginRequest{Credential: out.RememberedCredential, Device: device("Alice Laptop")})
	wantCode(t, err, 401, api.CodeInvalidCredentials, ErrInvalidCredentials)

	// A plain log out carries no credential.
	signIn(t, c, "alice", "Alice Laptop", false)
	if out, err = c.Logout(ctx, false); err != nil || out.RememberedCredential != "" {
		t.Fatalf("Logout(false) = %+v, %v", out, err)
	}
}

// TestServerErrors checks the typed error of every code the real server
// produces.
func TestServerErrors(t *testing.T) {
	ctx := context.Background()
	bob := func(t *testing.T, c *Client) api.Login { // signed up and in from Bob Laptop
		signUp(t, c, "bob")
		return signIn(t, c, "bob", "Bob Laptop", false)
	}
	tests := []struct {
		name     string
		cfg      func(*server.Config)
		run      func(t *testing.T, ts *testServer, c *Client) error
		status   int
		code     string
		sentinel error
		field    string // the field the error names (Error.Field), if any
		check    func(t *testing.T, ts *testServer, c *Client, e *Error)
	}{
		{
			name: "invalid_request names the field",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				_, err := c.Login(ctx, api.LoginRequest{Username: " ", Password: "x", Device: device("D")})
				return err
			},
			status: 400, code: api.CodeInvalidRequest, sentinel: ErrInvalidRequest, field: "username",
		},
		{
			name: "weak_password",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				_, err := c.CreateAccount(ctx, api.CreateAccountRequest{Username: "bob", Password: "short"})
				return err
			},
			status: 400, code: api.CodeWeakPassword, sentinel: ErrWeakPassword, field: "password",
		},
		{
			name: "invalid_credentials",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				signUp(t, c, "bob")
				_, err := c.Login(ctx, api.LoginRequest{Username: "bob", Password: "wrong-password-here", Device: device("D")})
				return err
			},
			status: 401, code: api.CodeInvalidCredentials, sentinel: ErrInvalidCredentials,
		},
		{
			name: "username_taken",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				signUp(t, c, "bob")
				_, err := c.CreateAccount(ctx, api.CreateAccountRequest{Username: "BOB", Password: testPassword})
				return err
			},
			status: 409, code: api.CodeUsernameTaken, sentinel: ErrUsernameTaken,
		},
		{
			name: "registration_closed",
			cfg:  func(c *server.Config) { c.OpenRegistration = false },
			run: func(t *testing.T, ts *testServer, c *Client) error {
				_, err := c.CreateAccount(ctx, api.CreateAccountRequest{Username: "bob", Password: testPassword})
				return err
			},
			status: 403, code: api.CodeRegistrationClosed, sentinel: ErrRegistrationClosed,
		},
		{
			name: "reauth_required",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				bob(t, c)
				ts.clock.Advance(11 * time.Minute)
				_, err := c.RevokeOthers(ctx)
				return err
			},
			status: 403, code: api.CodeReauthRequired, sentinel: ErrReauthRequired,
			check: func(t *testing.T, ts *testServer, c *Client, e *Error) {
				// Reauth clears it.
				if _, err := c.Reauth(ctx, api.ReauthRequest{Password: testPassword}); err != nil {
					t.Fatalf("Reauth: %v", err)
				}
				if _, err := c.RevokeOthers(ctx); err != nil {
					t.Fatalf("RevokeOthers after Reauth: %v", err)
				}
			},
		},
		{
			name: "not_found",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				bob(t, c)
				_, err := c.RevokeSession(ctx, "ses_nosuchsession")
				return err
			},
			status: 404, code: api.CodeNotFound, sentinel: ErrNotFound,
		},
		{
			name: "rate_limited says when",
			cfg: func(c *server.Config) {
				c.AccountFailures = ratelimit.Config{Burst: 2, Window: 15 * time.Minute}
			},
			run: func(t *testing.T, ts *testServer, c *Client) error {
				signUp(t, c, "bob")
				var err error
				for range 3 {
					_, err = c.Login(ctx, api.LoginRequest{Username: "bob", Password: "wrong-password-here", Device: device("D")})
				}
				return err
			},
			status: 429, code: api.CodeRateLimited, sentinel: ErrRateLimited,
			check: func(t *testing.T, _ *testServer, _ *Client, e *Error) {
				if e.RetryAfter <= 0 || e.RetryAfter > 15*time.Minute {
					t.Errorf("RetryAfter = %v", e.RetryAfter)
				}
				if !strings.Contains(e.Error(), "Try again in ") {
					t.Errorf("message %q does not say when to try again", e.Error())
				}
			},
		},
		{
			name: "session_revoked names the device",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				mine := bob(t, c)
				other := newClient(t, ts.URL())
				signIn(t, other, "bob", "Bob Phone", false)
				ts.clock.Advance(time.Minute)
				if _, err := other.RevokeSession(ctx, mine.Session.ID); err != nil {
					t.Fatalf("RevokeSession: %v", err)
				}
				_, err := c.Me(ctx)
				return err
			},
			status: 401, code: api.CodeSessionRevoked, sentinel: ErrSessionRevoked,
			check: func(t *testing.T, ts *testServer, _ *Client, e *Error) {
				reason, at, by := e.Revocation()
				if reason != api.ReasonRemoteLogout || by != "Bob Phone" || !at.Equal(ts.clock.Now()) {
					t.Errorf("Revocation() = %q, %v, %q", reason, at, by)
				}
				if !strings.Contains(e.Error(), "Bob Phone") {
					t.Errorf("message %q does not name the device", e.Error())
				}
			},
		},
		{
			name: "session_expired",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				bob(t, c)
				ts.clock.Advance(13 * time.Hour)
				_, err := c.Me(ctx)
				return err
			},
			status: 401, code: api.CodeSessionExpired, sentinel: ErrSessionExpired,
		},
		{
			name: "invalid_token",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				c.SetTokens(api.Tokens{AccessToken: "sga_not-a-token"})
				_, err := c.Me(ctx)
				return err
			},
			status: 401, code: api.CodeInvalidToken, sentinel: ErrInvalidToken,
		},
		{
			name: "token_expired without a refresh token to renew it",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				l := bob(t, c)
				c.SetTokens(api.Tokens{AccessToken: l.AccessToken})
				ts.clock.Advance(16 * time.Minute)
				_, err := c.Me(ctx)
				return err
			},
			status: 401, code: api.CodeTokenExpired, sentinel: ErrTokenExpired,
		},
		{
			name: "refresh after revoke",
			run: func(t *testing.T, ts *testServer, c *Client) error {
				mine := bob(t, c)
				other := newClient(t, ts.URL())
				signIn(t, other, "bob", "Bob Phone", false)
				if _, err := other.RevokeSession(ctx, mine.Session.ID); err != nil {
					t.Fatalf("RevokeSession: %v", err)
				}
				_, err := c.Refresh(ctx)
				return err
			},
			status: 401, code: api.CodeSessionRevoked, sentinel: ErrSessionRevoked,
			check: func(t *testing.T, ts *testServer, _ *Client, e *Error) {
				if _, _, by := e.Revocation(); by != "Bob Phone" {
					t.Errorf("revoked by %q, want Bob Phone", by)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []func(*server.Config)
			if tt.cfg != nil {
				opts = append(opts, tt.cfg)
			}
			ts := newTestServer(t, opts...)
			c := newClient(t, ts.URL())
			err := tt.run(t, ts, c)
			e := wantCode(t, err, tt.status, tt.code, tt.sentinel)
			if tt.field != "" && e.Field() != tt.field {
				t.Errorf("Field() = %q, want %q", e.Field(), tt.field)
			}
			for _, tok := range []string{c.Tokens().AccessToken, c.Tokens().RefreshToken} {
				if tok != "" && strings.Contains(e.Error(), tok) {
					t.Fatal("a token appears in the error text")
				}
			}
			if tt.check != nil {
				tt.check(t, ts, c, e)
			}
		})
	}
}

// TestLogoutDeadSession: Logout of a session revoked elsewhere reports it
// and still clears the tokens.
func TestLogoutDeadSession(t *testing.T) {
	ctx := context.Background()
	ts, c, mine := signedIn(t, "carol", "Carol Laptop", false)
	other := newClient(t, ts.URL())
	signIn(t, other, "carol", "Carol Phone", false)
	if _, err := other.RevokeSession(ctx, mine.Session.ID); err != nil {
		t.Fatal(err)
	}
	_, err := c.Logout(ctx, true)
	wantCode(t, err, 401, api.CodeSessionRevoked, ErrSessionRevoked)
	if c.Tokens() != (api.Tokens{}) {
		t.Fatal("Logout kept dead tokens")
	}

	// Other failures keep them: the session may still be alive.
	signIn(t, c, "carol", "Carol Laptop", false)
	held := c.Tokens()
	ts.down()
	if _, err := c.Logout(ctx, false); !errors.Is(err, ErrOffline) {
		t.Fatalf("Logout with the server down: %v, want ErrOffline", err)
	}
	if c.Tokens() != held {
		t.Fatal("Logout cleared the tokens although the server was not reached")
	}
}

// TestLogoutRememberSendsRefreshToken: saving login info at log out needs
// the session's refresh token, and the client sends the current one, even
// when the call itself had to refresh first.
func TestLogoutRememberSendsRefreshToken(t *testing.T) {
	ctx := context.Background()
	ts, c, _ := signedIn(t, "dora", "Dora Laptop", false)
	ts.clock.Advance(16 * time.Minute) // the access token has expired: Logout refreshes first
	out, err := c.Logout(ctx, true)
	if err != nil || out.RememberedCredential == "" {
		t.Fatalf("Logout(remember) after the access token expired = %+v, %v", out, err)
	}

	// An access token alone cannot save login info: refused here, before
	// any request, and by the server when sent anyway.
	l := signIn(t, c, "dora", "Dora Laptop", false)
	c.SetTokens(api.Tokens{AccessToken: l.AccessToken})
	before := ts.count("POST /v1/logout")
	if _, err := c.Logout(ctx, true); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("Logout(remember) with only an access token: %v, want ErrNotSignedIn", err)
	}
	if n := ts.count("POST /v1/logout"); n != before {
		t.Fatalf("%d log out requests sent without a refresh token", n-before)
	}
	raw := newClient(t, ts.URL())
	raw.SetTokens(api.Tokens{AccessToken: l.AccessToken})
	var resp api.LogoutResponse
	err = raw.authed(ctx, call{method: "POST", path: "/v1/logout", body: api.LogoutRequest{Remember: true}, out: &resp})
	if e := wantCode(t, err, 400, api.CodeInvalidRequest, ErrInvalidRequest); e.Field() != "refresh_token" {
		t.Fatalf("field %q, want refresh_token", e.Field())
	}
	// Nothing was ended: the session still works.
	if _, err := raw.Me(ctx); err != nil {
		t.Fatalf("Me after a refused log out: %v", err)
	}
}

// TestReauthAttemptsLeft: each wrong password at re-authentication says how
// many more end the session; the last one ends it (reauth_failed), and
// the event stream hears it.
func TestReauthAttemptsLeft(t *testing.T) {
	ctx := context.Background()
	_, c, _ := signedIn(t, "erin", "Erin Phone", false)
	run := startEvents(t, c)
	run.waitState(t, Connected)
	for want := 4; want >= 1; want-- {
		_, err := c.Reauth(ctx, api.ReauthRequest{Password: "not-the-password"})
		e := wantCode(t, err, 401, api.CodeInvalidCredentials, ErrInvalidCredentials)
		if n, ok := e.AttemptsLeft(); !ok || n != want {
			t.Fatalf("attempts left = %d, %v; want %d", n, ok, want)
		}
	}
	_, err := c.Reauth(ctx, api.ReauthRequest{Password: "not-the-password"})
	e := wantCode(t, err, 401, api.CodeSessionRevoked, ErrSessionRevoked)
	if reason, _, _ := e.Revocation(); reason != api.ReasonReauthFailed {
		t.Fatalf("reason %q, want %s", reason, api.ReasonReauthFailed)
	}
	if _, ok := e.AttemptsLeft(); ok {
		t.Fatal("a session_revoked answer has attempts left")
	}
	err = run.wait(t)
	var se *Error
	if !errors.As(err, &se) || !errors.Is(err, ErrSessionRevoked) {
		t.Fatalf("stream ended with %v, want session_revoked", err)
	}
	if reason, _, _ := se.Revocation(); reason != api.ReasonReauthFailed {
		t.Fatalf("stream reason %q, want %s", reason, api.ReasonReauthFailed)
	}
}
