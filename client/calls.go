package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"sessionguard/api"
)

// Health checks that the server is up (GET /healthz).
func (c *Client) Health(ctx context.Context) error {
	var h api.HealthResponse
	return c.send(ctx, call{method: "GET", path: "/healthz", out: &h})
}

// CreateAccount signs up a new account (POST /v1/accounts). It does not
// sign in.
func (c *Client) CreateAccount(ctx context.Context, req api.CreateAccountRequest) (api.Account, error) {
	var out api.CreateAccountResponse
	err := c.send(ctx, call{method: "POST", path: "/v1/accounts", body: req, out: &out})
	return out.Account, err
}

// Login signs in with username and password (POST /v1/login). The answer
// is either a session with tokens (pass Login.Tokens() to SetTokens),
// MFARequired with an MFAToken for LoginMFA, or ApprovalRequired with an
// ApprovalToken for PollApproval. It does not change the held tokens.
func (c *Client) Login(ctx context.Context, req api.LoginRequest) (api.Login, error) {
	return c.login(ctx, "/v1/login", req)
}

// LoginMFA completes a sign-in that needs a second factor
// (POST /v1/login/mfa). Code is a TOTP code or a recovery code.
func (c *Client) LoginMFA(ctx context.Context, req api.MFALoginRequest) (api.Login, error) {
	return c.login(ctx, "/v1/login/mfa", req)
}

// LoginRemembered signs in with a remembered-login credential
// (POST /v1/login/remembered). The credential is spent by a successful
// sign-in.
func (c *Client) LoginRemembered(ctx context.Context, req api.RememberedLoginRequest) (api.Login, error) {
	return c.login(ctx, "/v1/login/remembered", req)
}

func (c *Client) login(ctx context.Context, path string, req any) (api.Login, error) {
	var out api.Login
	if err := c.send(ctx, call{method: "POST", path: path, body: req, out: &out}); err != nil {
		return api.Login{}, err
	}
	switch {
	case out.MFARequired:
		if out.MFAToken == "" {
			return api.Login{}, unexpected(200)
		}
	case out.ApprovalRequired:
		if out.ApprovalToken == "" || out.Approval == nil {
			return api.Login{}, unexpected(200)
		}
	case out.AccessToken == "" || out.RefreshToken == "" || out.Account == nil || out.Session == nil:
		return api.Login{}, unexpected(200)
	}
	return out, nil
}

// ForgetRemembered revokes a remembered-login credential
// (POST /v1/remembered/forget). Forgetting an unknown credential succeeds.
func (c *Client) ForgetRemembered(ctx context.Context, credential string) error {
	return c.send(ctx, call{method: "POST", path: "/v1/remembered/forget",
		body: api.ForgetRememberedRequest{Credential: credential}})
}

// Me returns the signed-in account and this session (GET /v1/me).
func (c *Client) Me(ctx context.Context) (api.MeResponse, error) {
	var out api.MeResponse
	err := c.authed(ctx, call{method: "GET", path: "/v1/me", out: &out})
	return out, err
}

// Sessions returns one page of the account's sessions, this one first
// (GET /v1/sessions). limit 0 means the server's default; an empty cursor
// the first page. Pass the page's NextCursor for the next; an empty
// NextCursor means the last page.
func (c *Client) Sessions(ctx context.Context, limit int, cursor string) (api.SessionsPage, error) {
	return c.SessionsQuery(ctx, "", limit, cursor)
}

// SessionsQuery is Sessions for the sessions matching q (GET
// /v1/sessions?q=): those whose device name, model, OS, place or IP
// address contains q, case-insensitive; q "" lists them all. The first
// page's Counts count the matches (nil from a server that does not count).
// A cursor continues the query it came from: pass the same q with it.
func (c *Client) SessionsQuery(ctx context.Context, q string, limit int, cursor string) (api.SessionsPage, error) {
	query := pageQuery(limit, cursor)
	if q != "" {
		query.Set("q", q)
	}
	var out api.SessionsPage
	err := c.authed(ctx, call{method: "GET", path: "/v1/sessions", query: query, out: &out})
	return out, err
}

// RevokeSession logs one session of the account out
// (DELETE /v1/sessions/{id}) and returns it as ended. Another device's
// session needs a recent sign-in proof (ErrReauthRequired, then Reauth).
func (c *Client) RevokeSession(ctx context.Context, id string) (api.Session, error) {
	if id == "" {
		return api.Session{}, &Error{Status: 400, Code: api.CodeInvalidRequest,
			Message: "No session was chosen.", Details: map[string]any{api.DetailField: "id"}}
	}
	var out api.RevokeSessionResponse
	err := c.authed(ctx, call{method: "DELETE", path: "/v1/sessions/" + url.PathEscape(id), out: &out})
	return out.Session, err
}

// RevokeOthers logs out every other session of the account
// (DELETE /v1/sessions?scope=others) and returns how many ended. Needs a
// recent sign-in proof (ErrReauthRequired, then Reauth).
func (c *Client) RevokeOthers(ctx context.Context) (int, error) {
	var out api.RevokedCount
	err := c.authed(ctx, call{method: "DELETE", path: "/v1/sessions",
		query: url.Values{"scope": {"others"}}, out: &out})
	return out.Revoked, err
}

// Reauth proves the password (and code, with two-step verification on)
// again for step-up actions (POST /v1/reauth) and returns the new
// auth_time.
func (c *Client) Reauth(ctx context.Context, req api.ReauthRequest) (time.Time, error) {
	var out api.ReauthResponse
	err := c.authed(ctx, call{method: "POST", path: "/v1/reauth", body: req, out: &out})
	return out.AuthTime, err
}

// Logout ends this session (POST /v1/logout). With remember the answer
// carries a remembered-login credential for LoginRemembered; the request
// then carries the session's refresh token as well, which the server wants
// as proof that more than a (possibly stolen) access token asks for it
// (ErrNotSignedIn when the Client holds none). The held tokens are cleared
// on success, and also when the server says the session is already
// revoked, expired or unknown: they are dead either way.
func (c *Client) Logout(ctx context.Context, remember bool) (api.LogoutResponse, error) {
	h := c.snapshot()
	if remember && h.t.RefreshToken == "" {
		return api.LogoutResponse{}, fmt.Errorf("%w: saving login info needs this session's refresh token", ErrNotSignedIn)
	}
	var out api.LogoutResponse
	err := c.withToken(ctx, func(tok string) error {
		req := api.LogoutRequest{Remember: remember}
		if remember {
			// Read when sent: a refresh during the call (withToken's own,
			// or another call's) has rotated it.
			req.RefreshToken = c.Tokens().RefreshToken
		}
		return c.send(ctx, call{method: "POST", path: "/v1/logout", body: req, out: &out, token: tok})
	})
	if err == nil || deadSession(err) {
		c.mu.Lock()
		if c.gen == h.gen {
			c.tokens = api.Tokens{}
			c.gen++
		}
		c.mu.Unlock()
	}
	return out, err
}

// ChangePassword changes the account's password (POST /v1/password) and
// returns how many other sessions were ended. Needs a recent sign-in proof.
func (c *Client) ChangePassword(ctx context.Context, req api.ChangePasswordRequest) (int, error) {
	var out api.RevokedCount
	err := c.authed(ctx, call{method: "POST", path: "/v1/password", body: req, out: &out})
	return out.Revoked, err
}

// TOTPSetup starts turning on two-step verification
// (POST /v1/mfa/totp/setup): the secret and its otpauth:// URI for an
// authenticator app.
func (c *Client) TOTPSetup(ctx context.Context) (api.TOTPSetupResponse, error) {
	var out api.TOTPSetupResponse
	err := c.authed(ctx, call{method: "POST", path: "/v1/mfa/totp/setup", out: &out})
	if err == nil && (out.Secret == "" || out.OTPAuthURI == "") {
		return api.TOTPSetupResponse{}, unexpected(200)
	}
	return out, err
}

// TOTPEnable turns two-step verification on with a first code from the
// authenticator (POST /v1/mfa/totp/enable) and returns the single-use
// recovery codes.
func (c *Client) TOTPEnable(ctx context.Context, code string) ([]string, error) {
	var out api.TOTPEnableResponse
	err := c.authed(ctx, call{method: "POST", path: "/v1/mfa/totp/enable",
		body: api.TOTPEnableRequest{Code: code}, out: &out})
	return out.RecoveryCodes, err
}

// TOTPDisable turns two-step verification off (POST /v1/mfa/totp/disable).
// Needs a recent sign-in proof.
func (c *Client) TOTPDisable(ctx context.Context) error {
	return c.authed(ctx, call{method: "POST", path: "/v1/mfa/totp/disable"})
}

// Audit returns one page of the account's security activity, newest first
// (GET /v1/audit). limit and cursor work as in Sessions.
func (c *Client) Audit(ctx context.Context, limit int, cursor string) (api.AuditPage, error) {
	var out api.AuditPage
	err := c.authed(ctx, call{method: "GET", path: "/v1/audit", query: pageQuery(limit, cursor), out: &out})
	return out, err
}

func pageQuery(limit int, cursor string) url.Values {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q
}
