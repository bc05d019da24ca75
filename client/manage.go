package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"sessionguard/api"
)

// Managing what the account has: device names, recovery codes; and
// checking that an address is a Sessionguard server at all.

// ErrNotSessiond is matched (errors.Is) by CheckServer's error when
// something answers at the address but not as sessiond: a web server's
// page, another JSON API, a redirect. It is not ErrOffline (nothing
// answers at all) nor ErrServer (sessiond answered, failing).
var ErrNotSessiond = errors.New("not a Sessionguard server")

// notSessiondError is CheckServer's answer for a server that is not
// sessiond. It matches ErrNotSessiond and nothing else.
type notSessiondError struct {
	// what it answered, in words for a person: "HTTP 404", "a page that
	// is not JSON", …
	answer string
}

func (e *notSessiondError) Error() string {
	return "There is no Sessionguard server at this address (it answered with " + e.answer + ")."
}

func (e *notSessiondError) Unwrap() error { return ErrNotSessiond }

// CheckServer asks the server at the Client's address whether it is
// sessiond (GET /healthz, no token) and returns what it said, its version
// among it. Errors:
//   - ErrOffline (from transportError, ErrNoNetwork with it when the
//     device has no network): nothing answers at the address;
//   - ErrNotSessiond: something answers, but not as sessiond;
//   - an *Error matching ErrServer: a 5xx answer, from sessiond that
//     cannot serve now (503 unavailable: its database is down, or it is
//     busy) or from a proxy whose server does not answer (502, 504):
//     whether it is sessiond cannot be told until it does;
//   - a certificate error (none of the above) when TLS fails.
func (c *Client) CheckServer(ctx context.Context) (api.HealthResponse, error) {
	var h api.HealthResponse
	err := c.send(ctx, call{method: "GET", path: "/healthz", out: &h})
	var e *Error
	switch {
	case err == nil && h.Service == api.HealthService:
		return h, nil
	case err == nil:
		return api.HealthResponse{}, &notSessiondError{answer: "another service's status"}
	case !errors.As(err, &e):
		return api.HealthResponse{}, err // nothing answered, or TLS failed
	case e.Status >= 500:
		return api.HealthResponse{}, err
	case e.Status >= 200 && e.Status <= 299:
		return api.HealthResponse{}, &notSessiondError{answer: "a page that is not sessiond's JSON"}
	case e.Status >= 300 && e.Status <= 399:
		return api.HealthResponse{}, &notSessiondError{answer: fmt.Sprintf("a redirect, HTTP %d", e.Status)}
	default:
		return api.HealthResponse{}, &notSessiondError{answer: fmt.Sprintf("HTTP %d", e.Status)}
	}
}

// RenameSession renames the device of one session of the account, this
// device's own included (PATCH /v1/sessions/{id}), and returns the session
// as it now is. The server trims name; it must then have 1 to 64
// characters and no control or invisible formatting characters, else
// ErrInvalidRequest with Field "name". No recent sign-in proof is needed.
// ErrNotFound when the session is not the account's or has ended.
func (c *Client) RenameSession(ctx context.Context, id, name string) (api.Session, error) {
	if id == "" {
		return api.Session{}, &Error{Status: 400, Code: api.CodeInvalidRequest,
			Message: "No session was chosen.", Details: map[string]any{api.DetailField: "id"}}
	}
	var out api.UpdateSessionResponse
	err := c.authed(ctx, call{method: "PATCH", path: "/v1/sessions/" + url.PathEscape(id),
		body: api.UpdateSessionRequest{Name: &name}, out: &out})
	if err == nil && out.Session.ID != id {
		return api.Session{}, unexpected(200)
	}
	return out.Session, err
}

// RecoveryCodesLeft returns how many unused recovery codes the account has
// (GET /v1/mfa/recovery-codes): 0 with two-step verification off.
func (c *Client) RecoveryCodesLeft(ctx context.Context) (int, error) {
	var out api.RecoveryCodesStatus
	err := c.authed(ctx, call{method: "GET", path: "/v1/mfa/recovery-codes", out: &out})
	return out.Remaining, err
}

// RegenerateRecoveryCodes makes ten new recovery codes
// (POST /v1/mfa/recovery-codes) and returns them, to show once: every
// earlier code, used or not, stops working. Needs a recent sign-in proof
// (ErrReauthRequired, then Reauth); ErrInvalidRequest while two-step
// verification is off.
func (c *Client) RegenerateRecoveryCodes(ctx context.Context) ([]string, error) {
	var out api.RecoveryCodesResponse
	err := c.authed(ctx, call{method: "POST", path: "/v1/mfa/recovery-codes", out: &out})
	if err == nil && len(out.RecoveryCodes) == 0 {
		return nil, unexpected(200)
	}
	return out.RecoveryCodes, err
}
