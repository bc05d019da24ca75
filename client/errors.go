package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"sessionguard/api"
)

// Sentinel errors, one per error code of the wire contract. Every error the
// server answers is an *Error, which matches the sentinel of its code with
// errors.Is, for example errors.Is(err, client.ErrReauthRequired).
var (
	// ErrInvalidRequest matches 400 invalid_request; see Error.Field.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrWeakPassword matches 400 weak_password.
	ErrWeakPassword = errors.New("weak password")
	// ErrInvalidCredentials matches 401 invalid_credentials.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrTokenExpired matches 401 token_expired. Authenticated calls handle
	// it themselves (refresh and retry once), so callers rarely see it.
	ErrTokenExpired = errors.New("access token expired")
	// ErrInvalidToken matches 401 invalid_token.
	ErrInvalidToken = errors.New("invalid token")
	// ErrSessionRevoked matches 401 session_revoked and the session.revoked
	// event that ends Events; see Error.Revocation.
	ErrSessionRevoked = errors.New("session revoked")
	// ErrSessionExpired matches 401 session_expired.
	ErrSessionExpired = errors.New("session expired")
	// ErrReauthRequired matches 403 reauth_required: call Reauth, then retry.
	ErrReauthRequired = errors.New("reauthentication required")
	// ErrRegistrationClosed matches 403 registration_closed.
	ErrRegistrationClosed = errors.New("registration closed")
	// ErrNotFound matches 404 not_found.
	ErrNotFound = errors.New("not found")
	// ErrUsernameTaken matches 409 username_taken.
	ErrUsernameTaken = errors.New("username taken")
	// ErrRateLimited matches 429 rate_limited; see Error.RetryAfter.
	ErrRateLimited = errors.New("rate limited")
	// ErrApprovalPending matches the 202 {"pending":true} of PollApproval
	// and PollLink: nobody has answered yet; poll again.
	ErrApprovalPending = errors.New("waiting for approval")
	// ErrLoginDenied matches 403 login_denied: the sign-in or link was
	// refused (a wrong number counts as a refusal).
	ErrLoginDenied = errors.New("sign-in denied")
	// ErrExpired matches 410 expired: the approval request or link code
	// ran out (or was already used).
	ErrExpired = errors.New("expired")
	// ErrInvalidProof matches invalid_dpop_proof (400 on a sign-in or a
	// refresh, 401 on other calls): the DPoP proof sent was refused
	// (malformed, for another request, out of its time window, replayed),
	// or a server that takes device-bound sign-ins only got none. The
	// session, if any, is untouched.
	ErrInvalidProof = errors.New("invalid DPoP proof")
	// ErrDPoP matches a 401 invalid_token whose details.reason is "dpop"
	// (api.ReasonDPoP), which also matches ErrInvalidToken: the session is
	// bound to a device's key (api.Session.Bound) and the request had no
	// proof, or one by another key. For a Client whose own session it is,
	// its key is lost (the keyring was wiped): the session is dead here,
	// though it lives on at the server until it ends.
	ErrDPoP = errors.New("token bound to another device's key")

	// ErrServer matches answers that are the server's fault or not the
	// contract's: any 5xx, a code this client does not know, and replies
	// whose body is not the contract's JSON (an HTML error page, an empty
	// 502 from a proxy, truncated JSON).
	ErrServer = errors.New("server error")
	// ErrOffline is wrapped by every failure to talk to the server at all:
	// connection refused or reset, timeout, DNS failure. It never matches an
	// answer the server sent.
	ErrOffline = errors.New("server unreachable")
	// ErrInsecureServer is returned by New for a plain http:// address that
	// is not on this machine.
	ErrInsecureServer = errors.New("plain http:// is only allowed for a server on this machine; use https://")
	// ErrInvalidURL is returned by New for an address that is not an
	// http:// or https:// URL of a host.
	ErrInvalidURL = errors.New("invalid server address")
	// ErrNoNetwork is wrapped, beside ErrOffline, by failures that say this
	// device has no network at all (network down or unreachable), rather
	// than that the server does not answer.
	ErrNoNetwork = errors.New("no network")
	// ErrNotSignedIn is returned by authenticated calls when the Client holds
	// no tokens, or the tokens were cleared or replaced during the call.
	ErrNotSignedIn = errors.New("not signed in")
)

var codeSentinels = map[string]error{
	api.CodeInvalidRequest:     ErrInvalidRequest,
	api.CodeWeakPassword:       ErrWeakPassword,
	api.CodeInvalidCredentials: ErrInvalidCredentials,
	api.CodeTokenExpired:       ErrTokenExpired,
	api.CodeInvalidToken:       ErrInvalidToken,
	api.CodeSessionRevoked:     ErrSessionRevoked,
	api.CodeSessionExpired:     ErrSessionExpired,
	api.CodeReauthRequired:     ErrReauthRequired,
	api.CodeRegistrationClosed: ErrRegistrationClosed,
	api.CodeNotFound:           ErrNotFound,
	api.CodeUsernameTaken:      ErrUsernameTaken,
	api.CodeRateLimited:        ErrRateLimited,
	api.CodeLoginDenied:        ErrLoginDenied,
	api.CodeExpired:            ErrExpired,
	api.CodeInvalidDPoPProof:   ErrInvalidProof,
}

// Error is a non-2xx answer of the server, or a reply that is not the
// contract's. Its Error method returns the server's message, written for a
// person.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the contract's error code (api.Code*), empty when the reply
	// was not the contract's JSON.
	Code string
	// Message is the server's message for a person.
	Message string
	// Details are the error's details, as decoded from JSON.
	Details map[string]any
	// RetryAfter is how long the server asked to wait (Retry-After header,
	// else details.retry_after_s); zero when it did not say.
	RetryAfter time.Duration

	// redated says that this refused proof was dated by a clock the
	// server's answers have since corrected (Client.redated).
	redated bool
}

// Error returns the server's message.
func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	if e.Code == api.CodeRateLimited && e.RetryAfter > 0 {
		return "Too many attempts. Try again in " + humanDuration(e.RetryAfter) + "."
	}
	return unexpectedMessage(e.Status)
}

// Is matches the sentinel of e's code, and ErrServer for 5xx answers and
// codes outside the contract.
func (e *Error) Is(target error) bool {
	if e.Status == http.StatusAccepted {
		return target == ErrApprovalPending
	}
	if target == ErrDPoP {
		return e.dpop()
	}
	s, known := codeSentinels[e.Code]
	if known && target == s {
		return true
	}
	return target == ErrServer && (e.Status >= 500 || !known)
}

// Revocation returns the details of a session_revoked error: the revoke
// reason (api.Reason*), when it happened and the name of the device that
// closed the session. They are empty for other errors.
func (e *Error) Revocation() (reason string, at time.Time, byDevice string) {
	if e == nil {
		return "", time.Time{}, ""
	}
	reason, _ = e.Details[api.DetailReason].(string)
	if s, ok := e.Details[api.DetailRevokedAt].(string); ok {
		at, _ = time.Parse(time.RFC3339Nano, s)
	}
	byDevice, _ = e.Details[api.DetailByDeviceName].(string)
	return reason, at, byDevice
}

// dpop reports whether e is a 401 invalid_token with details.reason
// "dpop" (ErrDPoP).
func (e *Error) dpop() bool {
	reason, _ := e.Details[api.DetailReason].(string)
	return e.Code == api.CodeInvalidToken && reason == api.ReasonDPoP
}

// AttemptsLeft returns how many more wrong answers in a row end the
// calling session, from a 401 invalid_credentials of POST /v1/reauth or
// POST /v1/password (details.attempts_left); ok is false when the server
// did not say.
func (e *Error) AttemptsLeft() (n int, ok bool) {
	if e == nil {
		return 0, false
	}
	f, ok := e.Details[api.DetailAttemptsLeft].(float64)
	if !ok || f < 0 || f > math.MaxInt32 || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}

// Field returns the offending field of an invalid_request (or
// weak_password, username_taken) error, such as "username" or "device.id";
// empty when the server named none.
func (e *Error) Field() string {
	if e == nil {
		return ""
	}
	f, _ := e.Details[api.DetailField].(string)
	return f
}

func unexpectedMessage(status int) string {
	return fmt.Sprintf("The server sent an unexpected answer (HTTP %d).", status)
}

// unexpected is the error for a reply that is not the contract's.
func unexpected(status int) *Error {
	return &Error{Status: status, Message: unexpectedMessage(status)}
}

// parseError turns a non-2xx reply into an *Error.
func parseError(status int, header http.Header, body []byte) *Error {
	var eb struct {
		Error *api.ErrorDetail `json:"error"`
	}
	e := unexpected(status)
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil && eb.Error.Code != "" {
		e.Code, e.Message, e.Details = eb.Error.Code, eb.Error.Message, eb.Error.Details
	}
	e.RetryAfter = retryAfter(header, e.Details)
	return e
}

// retryAfter reads the Retry-After header (seconds or an HTTP date), else
// details.retry_after_s.
func retryAfter(h http.Header, details map[string]any) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && time.Until(t) > 0 {
			return time.Until(t).Round(time.Second)
		}
	}
	if f, ok := details[api.DetailRetryAfterS].(float64); ok && f > 0 && f < math.MaxInt32 {
		return time.Duration(f * float64(time.Second))
	}
	return 0
}

func humanDuration(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	unit, n := "second", secs
	switch {
	case secs >= 3600:
		unit, n = "hour", (secs+3599)/3600
	case secs >= 60:
		unit, n = "minute", (secs+59)/60
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// isCode reports whether err is an *Error with one of codes.
func isCode(err error, codes ...string) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code == c {
			return true
		}
	}
	return false
}

// deadSession reports whether err says the held tokens can never work again.
func deadSession(err error) bool {
	return isCode(err, api.CodeSessionRevoked, api.CodeSessionExpired, api.CodeInvalidToken)
}

// AddressError is New's refusal of a server address. It matches
// ErrInvalidURL, or ErrInsecureServer for plain http:// to another
// machine, with errors.Is.
type AddressError struct {
	// Address is the address as given.
	Address string
	// Reason says what is wrong with it, in words for a person.
	Reason string
	// Suggestion is the address the person probably meant, such as
	// "https://sessions.example.com" for "sessions.example.com" or for
	// "http://sessions.example.com"; empty when there is none.
	Suggestion string
	err        error
}

func (e *AddressError) Error() string {
	if e.err == ErrInsecureServer {
		return ErrInsecureServer.Error()
	}
	return e.err.Error() + ": " + e.Reason
}

func (e *AddressError) Unwrap() error { return e.err }

// offlineError is a failure to talk to the server. It matches ErrOffline
// (and ErrNoNetwork when the device has none) and the underlying network
// error.
type offlineError struct {
	msg       string
	err       error
	noNetwork bool
}

func (e *offlineError) Error() string { return e.msg }
func (e *offlineError) Unwrap() []error {
	if e.noNetwork {
		return []error{ErrOffline, ErrNoNetwork, e.err}
	}
	return []error{ErrOffline, e.err}
}

// certError is a TLS failure: the server answered but could not prove who
// it is. It is deliberately not ErrOffline.
type certError struct{ err error }

func (e *certError) Error() string {
	return "The server's security certificate is not trusted (" + e.err.Error() + ")."
}
func (e *certError) Unwrap() error { return e.err }

// transportError classifies a failure of an HTTP exchange. parent is the
// caller's context: when it has ended, its error is returned as is, since
// the caller gave up rather than the network.
func transportError(parent context.Context, err error) error {
	if perr := parent.Err(); perr != nil {
		return perr
	}
	var (
		dns      *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid):
		return &certError{err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.As(err, &netErr) && netErr.Timeout():
		// Our own per-call timeout or the stream watchdog fired.
		return &offlineError{msg: "The server did not answer in time.", err: err}
	case errors.As(err, &dns):
		return &offlineError{msg: "The server's address could not be found.", err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &offlineError{msg: "The server is not answering (connection refused).", err: err}
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ENETDOWN):
		return &offlineError{msg: "This device has no network connection.", err: err, noNetwork: true}
	default:
		return &offlineError{msg: "The connection to the server failed.", err: err}
	}
}
