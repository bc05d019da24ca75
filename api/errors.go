package api

import "fmt"

// Error codes carried in ErrorBody.Error.Code.
const (
	CodeInvalidRequest     = "invalid_request"
	CodeWeakPassword       = "weak_password"
	CodeInvalidCredentials = "invalid_credentials"
	CodeTokenExpired       = "token_expired"
	CodeInvalidToken       = "invalid_token"
	CodeSessionRevoked     = "session_revoked"
	CodeSessionExpired     = "session_expired"
	CodeReauthRequired     = "reauth_required"
	CodeRegistrationClosed = "registration_closed"
	CodeNotFound           = "not_found"
	CodeUsernameTaken      = "username_taken"
	CodeRateLimited        = "rate_limited"
	CodeInternal           = "internal"           // extension: 500
	CodeUnavailable        = "unavailable"        // extension: 503, a dependency is down
	CodeMethodNotAllowed   = "method_not_allowed" // extension: 405
	CodeUnsupportedMedia   = "unsupported_media"  // extension: 415
	CodeLoginDenied        = "login_denied"       // 403: a sign-in's approval was refused
	CodeExpired            = "expired"            // 410: an approval or link code ran out
	// CodeInvalidDPoPProof (issue 21, RFC 9449's name): the DPoP proof is
	// there but not valid (malformed, another method or URL, too old or
	// new, another token's ath, a replay), or a sign-in carries none on a
	// server that takes bound sign-ins only (sessiond serve
	// --require-bound). 400 on sign-in and refresh, 401 on other calls,
	// with WWW-Authenticate: DPoP error="invalid_dpop_proof".
	CodeInvalidDPoPProof = "invalid_dpop_proof"
)

// Keys of ErrorDetail.Details.
const (
	DetailField        = "field"          // invalid_request: the offending field
	DetailReason       = "reason"         // session_revoked: a revoke reason
	DetailRevokedAt    = "revoked_at"     // session_revoked: RFC 3339 time
	DetailByDeviceName = "by_device_name" // session_revoked: who closed it
	DetailRetryAfterS  = "retry_after_s"  // rate_limited: seconds to wait
	// DetailAttemptsLeft (extension) is in a 401 invalid_credentials from
	// POST /v1/reauth or POST /v1/password: how many more wrong answers
	// in a row end the calling session (reason reauth_failed).
	DetailAttemptsLeft = "attempts_left"
	// DetailErase is in every 401 session_revoked: whether whoever ended
	// the session asked its device to erase this account's data from the
	// install (always present, true or false).
	DetailErase = "erase"
	// DetailClosureToken is in a 401 session_revoked answered to a request
	// carrying the session's own current token (its access token, or its
	// live refresh token), while the closure still waits for its receipt:
	// a single-use token for POST /v1/closures, with which the device
	// confirms that it wiped its tokens (and erased, when asked). Never in
	// an answer to any other token.
	DetailClosureToken = "closure_token"
)

// ReasonDPoP is details.reason of a 401 invalid_token given to a bound
// session's token used without a proof or with another key's: the token
// was copied off its device (issue 21).
const ReasonDPoP = "dpop"

// ErrorBody is the JSON body of every non-2xx answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error inside ErrorBody.
type ErrorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// Error implements error so an ErrorDetail can travel as one.
func (e ErrorDetail) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Revoke reasons, in Session.RevokeReason and session_revoked details.
const (
	ReasonLogout            = "logout"
	ReasonRemoteLogout      = "remote_logout"
	ReasonLogoutOthers      = "logout_others"
	ReasonPasswordChanged   = "password_changed"
	ReasonRefreshTokenReuse = "refresh_token_reuse"
	ReasonExpired           = "expired"
	ReasonAdmin             = "admin"
	// ReasonReauthFailed: too many wrong passwords or codes in a row at
	// re-authentication on this session (a guess on a stolen device).
	ReasonReauthFailed = "reauth_failed"
	// ReasonInactive: the session went unused longer than its own
	// inactivity rule (Session.IdleTimeoutS) or the account's
	// (Settings.AutoLogoutInactiveAfterS), and was ended.
	ReasonInactive = "inactive"
)
