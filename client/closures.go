package client

import (
	"context"
	"net/url"
	"strconv"

	"sessionguard/api"
)

// Closures you can verify: logging a device out with a request to erase
// this account's data there, the closed device's receipt, and the list of
// recently ended sessions.
//
// A closed device learns its closure token from one of two places:
//   - the session.revoked event: Event.Decode into an
//     api.SessionRevokedEvent gives Erase and ClosureToken (and the *Error
//     that Events then returns carries them too, see below);
//   - the 401 session_revoked answer to any call it makes with its own
//     tokens, even days later: errors.As(err, &e) with e an *Error, then
//     e.Closure().
// It wipes the account's tokens (and with erase, the account's data on
// the install), then calls ConfirmClosure, which needs no tokens.

// RevokeSessionErasing is RevokeSession that, with erase, also asks the
// ended device to erase this account's data from the install
// (DELETE /v1/sessions/{id}?erase=true). The answer's Closure says whether
// the device has confirmed yet (pending until it does).
func (c *Client) RevokeSessionErasing(ctx context.Context, id string, erase bool) (api.Session, error) {
	if id == "" {
		return api.Session{}, &Error{Status: 400, Code: api.CodeInvalidRequest,
			Message: "No session was chosen.", Details: map[string]any{api.DetailField: "id"}}
	}
	var out api.RevokeSessionResponse
	err := c.authed(ctx, call{method: "DELETE", path: "/v1/sessions/" + url.PathEscape(id),
		query: eraseQuery(url.Values{}, erase), out: &out})
	return out.Session, err
}

// RevokeOthersErasing is RevokeOthers that, with erase, also asks every
// ended device to erase this account's data from the install
// (DELETE /v1/sessions?scope=others&erase=true).
func (c *Client) RevokeOthersErasing(ctx context.Context, erase bool) (int, error) {
	var out api.RevokedCount
	err := c.authed(ctx, call{method: "DELETE", path: "/v1/sessions",
		query: eraseQuery(url.Values{"scope": {"others"}}, erase), out: &out})
	return out.Revoked, err
}

func eraseQuery(q url.Values, erase bool) url.Values {
	if erase {
		q.Set("erase", strconv.FormatBool(erase))
	}
	return q
}

// ConfirmClosure sends a closed device's receipt (POST /v1/closures):
// closureToken from its session.revoked event or its 401 session_revoked
// answer, erased whether it also erased this account's data on the
// install. It sends no bearer token and needs none (it leaves the held
// tokens alone). A token works once: ErrInvalidToken when it was used
// already (a receipt whose answer was lost, say) or is unknown, which a
// device may take as done; ErrRateLimited after many unknown ones.
func (c *Client) ConfirmClosure(ctx context.Context, closureToken string, erased bool) error {
	if closureToken == "" {
		return &Error{Status: 400, Code: api.CodeInvalidRequest,
			Message: "There is no closure token to send.", Details: map[string]any{api.DetailField: "closure_token"}}
	}
	return c.send(ctx, call{method: "POST", path: "/v1/closures",
		body: api.ClosureRequest{ClosureToken: closureToken, Erased: erased}})
}

// EndedSessions returns one page of the account's sessions ended in the
// last 30 days, the most recently ended first (GET /v1/sessions?state=ended),
// each with RevokedAt, RevokeReason, who ended it and its Closure. An empty
// cursor gives the first page; pass the page's NextCursor for the next (an
// empty NextCursor means the last page). Pages have the server's default
// size; EndedSessionsPage takes a limit.
func (c *Client) EndedSessions(ctx context.Context, cursor string) (api.SessionsPage, error) {
	return c.EndedSessionsPage(ctx, 0, cursor)
}

// EndedSessionsPage is EndedSessions with a page size (0: the server's
// default).
func (c *Client) EndedSessionsPage(ctx context.Context, limit int, cursor string) (api.SessionsPage, error) {
	q := pageQuery(limit, cursor)
	q.Set("state", api.SessionsEnded)
	var out api.SessionsPage
	err := c.authed(ctx, call{method: "GET", path: "/v1/sessions", query: q, out: &out})
	return out, err
}

// Closure returns what a session_revoked error (a 401 answer, or the
// error Events returns after session.revoked) says about the session's
// closure: erase, whether whoever ended it asked this device to erase
// this account's data from the install, and closureToken, the single-use
// token for ConfirmClosure ("" when there is nothing to confirm: the
// device confirmed already, or the session logged itself out). Both are
// empty for other errors.
func (e *Error) Closure() (closureToken string, erase bool) {
	if e == nil || e.Code != api.CodeSessionRevoked {
		return "", false
	}
	closureToken, _ = e.Details[api.DetailClosureToken].(string)
	erase, _ = e.Details[api.DetailErase].(bool)
	return closureToken, erase
}
