package client

import (
	"context"
	"net/url"
	"time"

	"sessionguard/api"
)

// Device rules (DESIGN "Device names, rules and inactivity"): a session's
// own inactivity rule and the account-wide one.

// SetIdleTimeout sets session id's own inactivity rule (PATCH
// /v1/sessions/{id} idle_timeout_s): it is logged out once unused for d,
// rounded down to whole seconds; 0 removes the rule. The server refuses
// (ErrInvalidRequest, field idle_timeout_s) a rule below its minimum or
// longer than the session's lifetime, and answers ErrNotFound for a
// session that is not the account's (or no longer live).
func (c *Client) SetIdleTimeout(ctx context.Context, id string, d time.Duration) (api.Session, error) {
	if id == "" {
		return api.Session{}, &Error{Status: 400, Code: api.CodeInvalidRequest,
			Message: "No session was chosen.", Details: map[string]any{api.DetailField: "id"}}
	}
	secs := int(d / time.Second)
	var out api.UpdateSessionResponse
	err := c.authed(ctx, call{method: "PATCH", path: "/v1/sessions/" + url.PathEscape(id),
		body: api.UpdateSessionRequest{IdleTimeoutS: &secs}, out: &out})
	if err == nil && out.Session.ID != id {
		return api.Session{}, unexpected(200)
	}
	return out.Session, err
}

// Settings returns the account's settings (GET /v1/settings).
func (c *Client) Settings(ctx context.Context) (api.Settings, error) {
	var out api.Settings
	err := c.authed(ctx, call{method: "GET", path: "/v1/settings", out: &out})
	return out, err
}

// PutSettings sets the account's settings (PUT /v1/settings) and returns
// them as the server keeps them. It needs a recent password proof
// (ErrReauthRequired otherwise).
func (c *Client) PutSettings(ctx context.Context, s api.Settings) (api.Settings, error) {
	var out api.Settings
	err := c.authed(ctx, call{method: "PUT", path: "/v1/settings", body: s, out: &out})
	return out, err
}
