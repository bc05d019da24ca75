package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sessionguard/api"
)

// closedPortURL returns a loopback address nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// TestServerDown: every kind of call to a closed port is ErrOffline, not a
// server error, and no token leaks into the message.
func TestServerDown(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, closedPortURL(t))
	tokens := api.Tokens{AccessToken: "sga_secret-access", RefreshToken: "sgr_secret-refresh",
		AccessExpiresAt: time.Now().Add(-time.Minute)}
	c.SetTokens(tokens)
	calls := map[string]func() error{
		"Health": func() error { return c.Health(ctx) },
		"Login": func() error {
			_, err := c.Login(ctx, api.LoginRequest{Username: "a", Password: "b"})
			return err
		},
		"Me (refreshes first)": func() error { _, err := c.Me(ctx); return err },
		"Refresh":              func() error { _, err := c.Refresh(ctx); return err },
		"Logout":               func() error { _, err := c.Logout(ctx, true); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, ErrOffline) || errors.Is(err, ErrServer) {
			t.Errorf("%s: %v, want ErrOffline only", name, err)
			continue
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: %v does not keep the network cause", name, err)
		}
		msg := err.Error()
		if strings.Contains(msg, "secret") || !strings.Contains(msg, "connection refused") {
			t.Errorf("%s: message %q", name, msg)
		}
	}
	if c.Tokens() != tokens {
		t.Fatal("tokens changed although the server was never reached")
	}
}

// fakeReply serves one fixed answer.
func fakeReply(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return newClient(t, hs.URL)
}

// TestUnexpectedReplies: answers that are not the contract's become
// ErrServer with a readable message; contract 5xx keep the server's message.
func TestUnexpectedReplies(t *testing.T) {
	tests := []struct {
		name  string
		h     http.HandlerFunc
		msg   string
		code  string
		retry time.Duration
		is    error
	}{
		{
			name: "HTML 500 page",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(500)
				fmt.Fprint(w, "<html><body><h1>Internal Server Error</h1></body></html>")
			},
			msg: "The server sent an unexpected answer (HTTP 500).", is: ErrServer,
		},
		{
			name: "empty 502",
			h:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) },
			msg:  "The server sent an unexpected answer (HTTP 502).", is: ErrServer,
		},
		{
			name: "garbage 200",
			h:    jsonAnswer(200, "\x00\x01garbage"),
			msg:  "The server sent an unexpected answer (HTTP 200).", is: ErrServer,
		},
		{
			name: "truncated JSON 200",
			h:    jsonAnswer(200, `{"account":{"id":"acc_1","username":"al`),
			msg:  "The server sent an unexpected answer (HTTP 200).", is: ErrServer,
		},
		{
			name: "200 without tokens",
			h:    jsonAnswer(200, `{}`),
			msg:  "The server sent an unexpected answer (HTTP 200).", is: ErrServer,
		},
		{
			name: "truncated JSON error",
			h:    jsonAnswer(401, `{"error":{"code":"invalid_credentials","mess`),
			msg:  "The server sent an unexpected answer (HTTP 401).", is: ErrServer,
		},
		{
			name: "JSON that is not the error shape",
			h:    jsonAnswer(400, `{"message":"bad"}`),
			msg:  "The server sent an unexpected answer (HTTP 400).", is: ErrServer,
		},
		{
			name: "redirect is not followed",
			h: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://example.com/v1/login", http.StatusFound)
			},
			msg: "The server sent an unexpected answer (HTTP 302).", is: ErrServer,
		},
		{
			name: "contract 500",
			h:    jsonAnswer(500, `{"error":{"code":"internal","message":"Something went wrong on the server."}}`),
			msg:  "Something went wrong on the server.", code: api.CodeInternal, is: ErrServer,
		},
		{
			name: "contract 503 with Retry-After date",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", time.Now().Add(2*time.Minute).UTC().Format(http.TimeFormat))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(503)
				fmt.Fprint(w, `{"error":{"code":"unavailable","message":"The account database is unavailable."}}`)
			},
			msg: "The account database is unavailable.", code: api.CodeUnavailable, retry: 2 * time.Minute, is: ErrServer,
		},
		{
			name: "unknown 4xx code",
			h:    jsonAnswer(405, `{"error":{"code":"method_not_allowed","message":"POST is not allowed on /v1/login."}}`),
			msg:  "POST is not allowed on /v1/login.", code: api.CodeMethodNotAllowed, is: ErrServer,
		},
		{
			name: "rate limited, seconds only in details",
			h:    jsonAnswer(429, `{"error":{"code":"rate_limited","message":"","details":{"retry_after_s":90}}}`),
			msg:  "Too many attempts. Try again in 2 minutes.", code: api.CodeRateLimited, retry: 90 * time.Second, is: ErrRateLimited,
		},
		{
			name: "answer too large",
			h:    jsonAnswer(200, `{"account":"`+strings.Repeat("a", maxReply)+`"}`),
			msg:  "The server sent an unexpected answer (HTTP 200).", is: ErrServer,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeReply(t, tt.h)
			_, err := c.Login(context.Background(), api.LoginRequest{Username: "a", Password: "b"})
			e, ok := asError(err)
			if !ok {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if !isSentinel(err, tt.is) {
				t.Errorf("%v: want errors.Is %v only", err, tt.is)
			}
			if e.Error() != tt.msg || e.Code != tt.code {
				t.Errorf("Error() = %q (code %q), want %q (code %q)", e.Error(), e.Code, tt.msg, tt.code)
			}
			if d := e.RetryAfter - tt.retry; d < -2*time.Second || d > 2*time.Second {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retry)
			}
		})
	}
}

// TestTimeoutAndCancel: a server that does not answer in time is
// ErrOffline; a caller that gives up gets its own context error.
func TestTimeoutAndCancel(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hs.Close)
	c := newClient(t, hs.URL, WithTimeout(100*time.Millisecond))
	err := c.Health(context.Background())
	if !errors.Is(err, ErrOffline) || err.Error() != "The server did not answer in time." {
		t.Fatalf("Health on a silent server: %v", err)
	}

	c = newClient(t, hs.URL) // default 15 s timeout
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err = c.Health(ctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrOffline) {
		t.Fatalf("Health after cancel: %v", err)
	}
}

// TestConnectionCutMidAnswer: a reply cut short is ErrOffline.
func TestConnectionCutMidAnswer(t *testing.T) {
	c := fakeReply(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"account\":")
		_ = buf.Flush()
		_ = conn.Close()
	})
	err := c.Health(context.Background())
	if !errors.Is(err, ErrOffline) || errors.Is(err, ErrServer) {
		t.Fatalf("cut answer: %v", err)
	}
}

// TestOptions: the user agent is sent, the given http.Client's transport is
// used, and the caller's http.Client is not modified.
func TestOptions(t *testing.T) {
	var ua atomic.Value
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.Header.Get("User-Agent"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	t.Cleanup(hs.Close)
	var used atomic.Int32
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	hc := &http.Client{Timeout: time.Nanosecond, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Add(1)
		return base.RoundTrip(r)
	})}
	c := newClient(t, hs.URL, WithHTTPClient(hc), WithUserAgent("Sessionguard/2.0 (test)"))
	if err := c.Health(context.Background()); err != nil {
		t.Fatalf("Health: %v", err)
	}
	if used.Load() != 1 || ua.Load() != "Sessionguard/2.0 (test)" {
		t.Fatalf("transport used %d times, User-Agent %q", used.Load(), ua.Load())
	}
	if hc.Timeout != time.Nanosecond || hc.CheckRedirect != nil {
		t.Fatal("the caller's http.Client was modified")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// jsonAnswer is a server that answers every request with status and body,
// as JSON.
func jsonAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}
