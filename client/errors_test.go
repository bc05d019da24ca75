package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"sessionguard/api"
)

// TestErrorIs: each contract code matches its own sentinel and nothing else;
// 5xx and unknown codes match ErrServer.
func TestErrorIs(t *testing.T) {
	for code, sentinel := range codeSentinels {
		e := &Error{Status: 400, Code: code, Message: "m"}
		if !isSentinel(e, sentinel) {
			t.Errorf("%s does not match %v alone", code, sentinel)
		}
		wrapped := errors.Join(errors.New("context"), e)
		if !errors.Is(wrapped, sentinel) {
			t.Errorf("wrapped %s does not match", code)
		}
	}
	if len(codeSentinels) != 15 {
		t.Fatalf("%d contract codes mapped, want 15", len(codeSentinels))
	}
	for _, e := range []*Error{{Status: 500, Code: api.CodeInternal}, {Status: 503, Code: api.CodeUnavailable},
		{Status: 415, Code: api.CodeUnsupportedMedia}, {Status: 502}, {Status: 418, Code: "teapot"}} {
		if !isSentinel(e, ErrServer) {
			t.Errorf("%d %q does not match ErrServer alone", e.Status, e.Code)
		}
	}
	// A contract code on a 5xx is both.
	e := &Error{Status: 503, Code: api.CodeRateLimited}
	if !errors.Is(e, ErrRateLimited) || !errors.Is(e, ErrServer) {
		t.Error("503 rate_limited should match ErrRateLimited and ErrServer")
	}
}

// TestErrorIsDPoP: a 401 invalid_token with details.reason "dpop" is
// ErrDPoP as well as ErrInvalidToken; nothing else is ErrDPoP; an
// invalid_dpop_proof is ErrInvalidProof (400 or 401) and no dead session.
func TestErrorIsDPoP(t *testing.T) {
	body := func(code, reason string) []byte {
		return []byte(`{"error":{"code":"` + code + `","message":"m","details":{"reason":"` + reason + `"}}}`)
	}
	tests := []struct {
		name               string
		status             int
		body               []byte
		dpop, token, proof bool
	}{
		{"bound token without its key", 401, body(api.CodeInvalidToken, api.ReasonDPoP), true, true, false},
		{"unknown token", 401, body(api.CodeInvalidToken, ""), false, true, false},
		{"another reason", 401, body(api.CodeInvalidToken, api.ReasonRemoteLogout), false, true, false},
		{"revoked, reason dpop", 401, body(api.CodeSessionRevoked, api.ReasonDPoP), false, false, false},
		{"bad proof at sign-in", 400, body(api.CodeInvalidDPoPProof, ""), false, false, true},
		{"bad proof on a call", 401, body(api.CodeInvalidDPoPProof, ""), false, false, true},
		{"reason not a string", 401, []byte(`{"error":{"code":"invalid_token","message":"m","details":{"reason":1}}}`), false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := parseError(tc.status, http.Header{}, tc.body)
			var err error = e
			if got := errors.Is(err, ErrDPoP); got != tc.dpop {
				t.Errorf("Is ErrDPoP = %v", got)
			}
			if got := errors.Is(err, ErrInvalidToken); got != tc.token {
				t.Errorf("Is ErrInvalidToken = %v", got)
			}
			if got := errors.Is(err, ErrInvalidProof); got != tc.proof {
				t.Errorf("Is ErrInvalidProof = %v", got)
			}
			if errors.Is(err, ErrServer) {
				t.Error("a contract answer is ErrServer")
			}
			if tc.proof && deadSession(err) {
				t.Error("a refused proof reads as a dead session")
			}
			if tc.dpop && !deadSession(err) {
				t.Error("a token refused without its key does not read as dead here")
			}
		})
	}
}

func TestParseError(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "30")
	body := `{"error":{"code":"session_revoked","message":"This session was logged out by Bob Phone.",
		"details":{"reason":"remote_logout","revoked_at":"2026-11-21T14:05:00Z","by_device_name":"Bob Phone","field":"x"}}}`
	e := parseError(401, h, []byte(body))
	if e.Status != 401 || e.Code != api.CodeSessionRevoked || e.Error() != "This session was logged out by Bob Phone." ||
		e.RetryAfter != 30*time.Second || e.Field() != "x" {
		t.Fatalf("parseError = %+v", e)
	}
	reason, at, by := e.Revocation()
	if reason != api.ReasonRemoteLogout || by != "Bob Phone" || !at.Equal(time.Date(2026, 11, 21, 14, 5, 0, 0, time.UTC)) {
		t.Fatalf("Revocation() = %q %v %q", reason, at, by)
	}

	var none *Error
	if r, at, by := none.Revocation(); r != "" || !at.IsZero() || by != "" || none.Field() != "" {
		t.Fatal("nil *Error helpers not empty")
	}
	if r, _, _ := (&Error{Code: api.CodeNotFound}).Revocation(); r != "" {
		t.Fatal("Revocation of another error")
	}
	// Malformed details are ignored, not trusted.
	e = parseError(401, http.Header{}, []byte(`{"error":{"code":"session_revoked","message":"m","details":{"reason":5,"revoked_at":"yesterday","retry_after_s":"9"}}}`))
	if r, at, _ := e.Revocation(); r != "" || !at.IsZero() || e.RetryAfter != 0 {
		t.Fatalf("malformed details: %+v", e)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Second: "1 second", 1500 * time.Millisecond: "2 seconds",
		59 * time.Second: "59 seconds", time.Minute: "1 minute", 61 * time.Second: "2 minutes",
		time.Hour: "1 hour", 3601 * time.Second: "2 hours"} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAttemptsLeft(t *testing.T) {
	tests := []struct {
		name    string
		details string
		want    int
		ok      bool
	}{
		{"two left", `{"attempts_left":2}`, 2, true},
		{"last one", `{"attempts_left":1}`, 1, true},
		{"not said", `{}`, 0, false},
		{"no details", ``, 0, false},
		{"a string", `{"attempts_left":"2"}`, 0, false},
		{"negative", `{"attempts_left":-1}`, 0, false},
		{"a fraction", `{"attempts_left":1.5}`, 0, false},
		{"huge", `{"attempts_left":1e300}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"error":{"code":"invalid_credentials","message":"That password is not right."}}`
			if tt.details != "" {
				body = `{"error":{"code":"invalid_credentials","message":"That password is not right.","details":` + tt.details + `}}`
			}
			n, ok := parseError(401, http.Header{}, []byte(body)).AttemptsLeft()
			if n != tt.want || ok != tt.ok {
				t.Fatalf("AttemptsLeft() = %d, %v; want %d, %v", n, ok, tt.want, tt.ok)
			}
		})
	}
	var none *Error
	if _, ok := none.AttemptsLeft(); ok {
		t.Fatal("nil *Error has attempts left")
	}
}

// TestNoNetworkToldApart: a device without a network is ErrOffline and
// ErrNoNetwork; a server that refuses the connection is only ErrOffline.
func TestNoNetworkToldApart(t *testing.T) {
	dial := func(errno syscall.Errno) error {
		return transportError(context.Background(), &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)})
	}
	for _, tc := range []struct {
		errno     syscall.Errno
		noNetwork bool
	}{
		{syscall.ENETUNREACH, true},
		{syscall.ENETDOWN, true},
		{syscall.ECONNREFUSED, false},
		{syscall.EHOSTUNREACH, false},
	} {
		err := dial(tc.errno)
		if !errors.Is(err, ErrOffline) || errors.Is(err, ErrNoNetwork) != tc.noNetwork {
			t.Errorf("%v: %v (no network %v), want offline, no network %v", tc.errno, err, errors.Is(err, ErrNoNetwork), tc.noNetwork)
		}
	}
}
