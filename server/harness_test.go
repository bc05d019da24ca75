package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/servertest"
	"sessionguard/server/store/postgres/pgtest"
	"sessionguard/server/store/sqlite"
)

// TestMain checks for leaked goroutines and closes the PostgreSQL server
// the package's tests share (started on first use by pgtest.NewDatabase).
func TestMain(m *testing.M) { goleak.VerifyTestMain(pgtest.M(m)) }

// syncBuffer is a goroutine-safe log sink.
type syncBuffer = server.LogBuffer

// env is a real sessiond over HTTP on a real SQLite file, with its logs.
type env struct {
	t      testing.TB
	b      *servertest.Backend
	srv    *server.Server
	http   *httptest.Server
	store  *sqlite.Store
	clock  *servertest.Clock
	logs   *syncBuffer
	dbPath string
	client *http.Client
}

type option = func(*server.Config)

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	return newEnvAt(t, filepath.Join(t.TempDir(), "sessiond.db"), opts...)
}

// newEnvSignedUp is newEnv with an account for each of usernames.
func newEnvSignedUp(t testing.TB, usernames ...string) *env {
	t.Helper()
	e := newEnv(t)
	for _, u := range usernames {
		e.signUp(u)
	}
	return e
}

func newEnvAt(t testing.TB, path string, opts ...option) *env {
	t.Helper()
	e := &env{t: t, dbPath: path, logs: &syncBuffer{},
		clock: servertest.NewClock(time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC))}
	logger := func(c *server.Config) {
		c.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.b = servertest.StartAt(t, path, e.clock, append([]option{logger}, opts...)...)
	e.srv, e.http, e.store = e.b.Server, e.b.HTTP, e.b.Store
	e.client = e.http.Client()
	t.Cleanup(e.stop)
	return e
}

// stop shuts the server down; safe to call twice.
func (e *env) stop() {
	e.b.Stop()
	e.client.CloseIdleConnections()
}

// reply is a decoded HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r reply) errBody(t testing.TB) api.ErrorDetail {
	t.Helper()
	var b api.ErrorBody
	r.decode(t, &b)
	return b.Error
}

// wantError checks an error reply's status and code.
func (r reply) wantError(t testing.TB, status int, code string) api.ErrorDetail {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	e := r.errBody(t)
	if e.Code != code {
		t.Fatalf("code = %q, want %q (message %q)", e.Code, code, e.Message)
	}
	if e.Message == "" {
		t.Fatalf("error %q has no message", code)
	}
	return e
}

func (r reply) wantOK(t testing.TB, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if v != nil {
		r.decode(t, v)
	}
}

// do sends a request; body may be nil, a string (sent raw) or a value (JSON).
func (e *env) do(method, path, token string, body any, hdr ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if i == 0 || hdr[i] != hdr[i-2] {
			req.Header.Del(hdr[i]) // the first value given replaces a default
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

const testPassword = "violet-harbor-lantern"

func device(name string) api.Device {
	return api.Device{ID: "dev-" + strings.ReplaceAll(strings.ToLower(name), " ", "-"), Name: name,
		Platform: api.PlatformLinux, OS: "Debian 12", Model: "Test", AppVersion: "1.0.0"}
}

// signUp creates an account.
func (e *env) signUp(username string) api.Account {
	e.t.Helper()
	var out api.CreateAccountResponse
	e.do("POST", "/v1/accounts", "", api.CreateAccountRequest{Username: username, Password: testPassword}).wantOK(e.t, 201, &out)
	return out.Account
}

// login signs in from a device.
func (e *env) login(username, deviceName string, remember bool) api.Login {
	e.t.Helper()
	var l api.Login
	e.do("POST", "/v1/login", "", api.LoginRequest{Username: username, Password: testPassword,
		Remember: remember, Device: device(deviceName)}).wantOK(e.t, 200, &l)
	if l.AccessToken == "" || l.RefreshToken == "" || l.Session == nil || l.Account == nil {
		e.t.Fatalf("login answer incomplete: %+v", l)
	}
	return l
}

func (e *env) sessions(token, query string) api.SessionsPage {
	e.t.Helper()
	var p api.SessionsPage
	e.do("GET", "/v1/sessions"+query, token, nil).wantOK(e.t, 200, &p)
	return p
}

func (e *env) auditTypes(token string) []string {
	e.t.Helper()
	var p api.AuditPage
	e.do("GET", "/v1/audit?limit=200", token, nil).wantOK(e.t, 200, &p)
	var out []string
	for _, ev := range p.Events {
		out = append(out, ev.Type)
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// count counts v in list.
func count(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
