package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/servertest"
	"sessionguard/server/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testServer is a real sessiond over HTTP on a real SQLite file, behind a
// recording handler. It can be taken down and restarted on the same address.
type testServer struct {
	t     testing.TB
	clock *servertest.Clock
	store *sqlite.Store
	cfg   server.Config

	mu   sync.Mutex
	srv  *server.Server
	hs   *httptest.Server
	addr string
	reqs []string // "METHOD /path" of every request, in arrival order
	// hook, when set, is called with each request before it is served;
	// after, once it is served but before the answer is flushed.
	hook, after func(r *http.Request)
}

func newTestServer(t testing.TB, opts ...func(*server.Config)) *testServer {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sessiond.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	ts := &testServer{t: t, store: st, clock: servertest.NewClock(time.Now().UTC().Truncate(time.Second))}
	ts.cfg = servertest.Config(ts.clock)
	for _, o := range opts {
		o(&ts.cfg)
	}
	ts.start("127.0.0.1:0")
	t.Cleanup(func() {
		ts.down()
		_ = st.Close()
	})
	return ts
}

// start serves a new server.Server on addr.
func (ts *testServer) start(addr string) {
	ts.t.Helper()
	var (
		ln  net.Listener
		err error
	)
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		ts.t.Fatalf("listen %s: %v", addr, err)
	}
	srv := server.New(ts.store, ts.cfg)
	hs := httptest.NewUnstartedServer(ts.record(srv.Handler()))
	_ = hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	ts.mu.Lock()
	ts.srv, ts.hs, ts.addr = srv, hs, ln.Addr().String()
	ts.mu.Unlock()
}

// down stops serving: open event streams end and the port is closed.
func (ts *testServer) down() {
	ts.mu.Lock()
	srv, hs := ts.srv, ts.hs
	ts.srv, ts.hs = nil, nil
	ts.mu.Unlock()
	if hs == nil {
		return
	}
	srv.Close()
	hs.Close()
}

// restart takes the server down for a moment and serves again on the same
// address, with the same database.
func (ts *testServer) restart(downtime time.Duration) {
	ts.down()
	time.Sleep(downtime)
	ts.start(ts.addr)
}

// dropConnections cuts every open connection, as a network loss would.
func (ts *testServer) dropConnections() {
	ts.mu.Lock()
	hs := ts.hs
	ts.mu.Unlock()
	hs.CloseClientConnections()
}

func (ts *testServer) URL() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return "http://" + ts.addr
}

func (ts *testServer) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, r.Method+" "+r.URL.Path)
		hook, after := ts.hook, ts.after
		ts.mu.Unlock()
		if hook != nil {
			hook(r)
		}
		// The server's clock is the test's: its answers say so, as a
		// real server's Date tells its real clock (proofs are dated by it).
		w.Header().Set("Date", ts.clock.Now().UTC().Format(http.TimeFormat))
		h.ServeHTTP(w, r)
		if after != nil {
			after(r)
		}
	})
}

// count returns how many requests "METHOD /path" arrived.
func (ts *testServer) count(route string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	n := 0
	for _, r := range ts.reqs {
		if r == route {
			n++
		}
	}
	return n
}

func (ts *testServer) setHook(fn func(r *http.Request)) {
	ts.mu.Lock()
	ts.hook = fn
	ts.mu.Unlock()
}

func (ts *testServer) setAfter(fn func(r *http.Request)) {
	ts.mu.Lock()
	ts.after = fn
	ts.mu.Unlock()
}

// newClient returns a Client for ts with fast reconnects.
func newClient(t testing.TB, url string, opts ...Option) *Client {
	t.Helper()
	c, err := New(url, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", url, err)
	}
	c.backoffBase = time.Millisecond
	c.backoffMax = 20 * time.Millisecond
	t.Cleanup(c.CloseIdleConnections)
	return c
}

const testPassword = "violet-harbor-lantern"

func device(name string) api.Device {
	return api.Device{ID: "dev-" + strings.ReplaceAll(strings.ToLower(name), " ", "-"), Name: name,
		Platform: api.PlatformLinux, OS: "Debian 12", Model: "Test", AppVersion: "1.0.0"}
}

// signUp creates an account through c.
func signUp(t testing.TB, c *Client, username string) api.Account {
	t.Helper()
	a, err := c.CreateAccount(context.Background(), api.CreateAccountRequest{Username: username, Password: testPassword})
	if err != nil {
		t.Fatalf("CreateAccount(%s): %v", username, err)
	}
	return a
}

// signIn logs c in from a device and installs the tokens.
func signIn(t testing.TB, c *Client, username, deviceName string, remember bool) api.Login {
	t.Helper()
	l, err := c.Login(context.Background(), api.LoginRequest{Username: username, Password: testPassword,
		Remember: remember, Device: device(deviceName)})
	if err != nil {
		t.Fatalf("Login(%s, %s): %v", username, deviceName, err)
	}
	c.SetTokens(l.Tokens())
	return l
}

// signedIn starts a server, and a client signed up and signed in to a new
// account from deviceName.
func signedIn(t testing.TB, username, deviceName string, remember bool) (*testServer, *Client, api.Login) {
	t.Helper()
	ts := newTestServer(t)
	c := newClient(t, ts.URL())
	signUp(t, c, username)
	return ts, c, signIn(t, c, username, deviceName, remember)
}

// tag is a short, non-secret name for a token in test records.
func tag(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:4])
}

// bearerTag returns the tag of a request's bearer token, "-" if none.
func bearerTag(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "-"
	}
	return tag(tok)
}

// wantCode fails unless err is an *Error with the status and code, matching
// sentinel with errors.Is.
func wantCode(t testing.TB, err error, status int, code string, sentinel error) *Error {
	t.Helper()
	e, ok := asError(err)
	if !ok {
		t.Fatalf("err = %v (%T), want *Error %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("err = %d %s (%q), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	if !isSentinel(err, sentinel) {
		t.Fatalf("errors.Is(%v, %v) = false", err, sentinel)
	}
	if e.Message == "" || e.Error() != e.Message {
		t.Fatalf("Error() = %q, Message = %q: want the server's message", e.Error(), e.Message)
	}
	return e
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// allSentinels are the errors an answer can match.
var allSentinels = []error{ErrInvalidRequest, ErrWeakPassword, ErrInvalidCredentials, ErrTokenExpired,
	ErrInvalidToken, ErrSessionRevoked, ErrSessionExpired, ErrReauthRequired, ErrRegistrationClosed,
	ErrNotFound, ErrUsernameTaken, ErrRateLimited, ErrServer, ErrOffline, ErrNotSignedIn, ErrInvalidProof}

// isSentinel reports whether err matches want and no other sentinel.
func isSentinel(err, want error) bool {
	for _, s := range allSentinels {
		if errors.Is(err, s) != (s == want) {
			return false
		}
	}
	return true
}
