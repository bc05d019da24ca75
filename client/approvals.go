package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"sessionguard/api"
)

// Approval of new sign-ins and linking a device with a code.
//
// A sign-in (Login, or LoginMFA after the second factor) from an install
// that never signed in to an account which approves new devices answers
// Login.ApprovalRequired with an ApprovalToken and an Approval: the new
// device shows Approval.Number and calls PollApproval until it gets a
// Login (tokens), ErrLoginDenied or ErrExpired; ErrApprovalPending means
// "nobody answered yet, poll again". A recovery code skips the wait:
// LoginMFA with the ApprovalToken as MFAToken and a recovery code.
//
// A signed-in device answers with DecideApproval (the id and numbers come
// from the login.approval_requested event).
//
// Linking: the new device calls StartLink, shows LinkStart.UserCode and
// calls PollLink with LinkStart.LinkToken; a signed-in device calls
// CheckLink to show what the code would let in, then ApproveLink.

// pendingError is the answer of a long poll that is still waiting.
func pendingError() *Error {
	return &Error{Status: http.StatusAccepted, Message: "Still waiting for an answer from one of your devices."}
}

// PollApproval asks whether a sign-in waiting for approval was answered
// (POST /v1/login/approval). The server holds the call up to
// api.ApprovalPollWait and answers as soon as a device decides, so the
// call's timeout is longer than the others' (WithPollTimeout). On approval
// it returns the Login, as Login does: the caller installs its tokens
// (SetTokens) when it wants the session;
// otherwise an error matching ErrApprovalPending (poll again),
// ErrLoginDenied, ErrExpired (also when the token was used already) or
// ErrRateLimited. installKey is the key sent with the sign-in.
func (c *Client) PollApproval(ctx context.Context, approvalToken, installKey string) (api.Login, error) {
	if approvalToken == "" {
		return api.Login{}, missing("approval_token", "There is no sign-in waiting for approval.")
	}
	return c.poll(ctx, "/v1/login/approval", api.ApprovalPollRequest{ApprovalToken: approvalToken, InstallKey: installKey})
}

// PollLink asks whether a link code was approved (POST /v1/link/poll),
// like PollApproval: on approval it returns the Login (the caller installs
// its tokens); otherwise ErrApprovalPending, ErrLoginDenied or
// ErrExpired.
func (c *Client) PollLink(ctx context.Context, linkToken string) (api.Login, error) {
	if linkToken == "" {
		return api.Login{}, missing("link_token", "There is no link code waiting.")
	}
	return c.poll(ctx, "/v1/link/poll", api.LinkPollRequest{LinkToken: linkToken})
}

func (c *Client) poll(ctx context.Context, path string, req any) (api.Login, error) {
	var (
		raw    json.RawMessage
		status int
	)
	if err := c.send(ctx, call{method: "POST", path: path, body: req, out: &raw,
		timeout: c.pollTimeout, status: &status}); err != nil {
		return api.Login{}, err
	}
	if status == http.StatusAccepted {
		return api.Login{}, pendingError()
	}
	var out api.Login
	if json.Unmarshal(raw, &out) != nil || out.AccessToken == "" || out.RefreshToken == "" ||
		out.Account == nil || out.Session == nil {
		return api.Login{}, unexpected(status)
	}
	return out, nil
}

// DecideApproval answers a sign-in waiting for approval
// (POST /v1/login/approvals/{id}) from this signed-in device: approve with
// the number the person picked among the event's three (a wrong number
// counts as a denial), or deny. ErrNotFound or ErrExpired when it was
// answered already (by another device) or ran out.
func (c *Client) DecideApproval(ctx context.Context, id string, approve bool, number int) error {
	if id == "" {
		return missing("id", "No sign-in request was chosen.")
	}
	return c.authed(ctx, call{method: "POST", path: "/v1/login/approvals/" + url.PathEscape(id),
		body: api.ApprovalDecision{Approve: approve, Number: number}})
}

// StartLink asks for a link code for this (not signed-in) device
// (POST /v1/link/start). Show UserCode; poll with LinkToken (PollLink).
// It sends no bearer token and leaves the held tokens alone.
func (c *Client) StartLink(ctx context.Context, req api.LinkStartRequest) (api.LinkStart, error) {
	var out api.LinkStart
	if err := c.send(ctx, call{method: "POST", path: "/v1/link/start", body: req, out: &out}); err != nil {
		return api.LinkStart{}, err
	}
	if out.LinkToken == "" || out.UserCode == "" {
		return api.LinkStart{}, unexpected(200)
	}
	return out, nil
}

// CheckLink returns what a link code would let in (the waiting device,
// its IP and place) without approving it (POST /v1/link/approve with
// check). ErrNotFound for an unknown code, ErrExpired for one that ran
// out, ErrRateLimited after many wrong ones.
func (c *Client) CheckLink(ctx context.Context, userCode string) (api.LinkPreview, error) {
	if userCode == "" {
		return api.LinkPreview{}, missing("user_code", "Enter the code shown on the other device.")
	}
	var out api.LinkPreview
	err := c.authed(ctx, call{method: "POST", path: "/v1/link/approve",
		body: api.LinkApproveRequest{UserCode: userCode, Check: true}, out: &out})
	return out, err
}

// ApproveLink lets the device showing userCode into this account
// (POST /v1/link/approve). It needs a recent sign-in: ErrReauthRequired
// means call Reauth, then retry. ErrNotFound, ErrExpired and
// ErrRateLimited as for CheckLink.
func (c *Client) ApproveLink(ctx context.Context, userCode string) error {
	if userCode == "" {
		return missing("user_code", "Enter the code shown on the other device.")
	}
	return c.authed(ctx, call{method: "POST", path: "/v1/link/approve",
		body: api.LinkApproveRequest{UserCode: userCode}})
}

// missing is the client-side invalid_request for an empty field.
func missing(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: api.CodeInvalidRequest,
		Message: msg, Details: map[string]any{api.DetailField: field}}
}
