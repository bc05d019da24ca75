package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/geo/geotest"
)

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	empty := filepath.Join(t.TempDir(), "empty.db")
	big := filepath.Join(t.TempDir(), "big.db")
	tests := []struct {
		name        string
		stdin       string
		args        []string
		code        int
		out, errOut string // substrings
	}{
		{"no command", "", nil, 2, "", "Usage:"},
		{"unknown command", "", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help", "", []string{"help"}, 0, "sessiond serve", ""},
		{"migrate", "", []string{"migrate", "--db", db}, 0, "schema version", ""},
		{"user add", "violet-harbor-lantern\n", []string{"user", "add", "--db", db, "--username", "Ana"}, 0, "created account ana", ""},
		{"user add taken", "violet-harbor-lantern\n", []string{"user", "add", "--db", db, "--username", "ana"}, 1, "", "username is taken"},
		{"user add weak", "password\n", []string{"user", "add", "--db", db, "--username", "bob"}, 1, "", "Password"},
		{"user add no password", "", []string{"user", "add", "--db", db, "--username", "bob"}, 2, "", "standard input"},
		{"user add no username", "x\n", []string{"user", "add", "--db", db}, 2, "", "--username is required"},
		{"user without a command", "", []string{"user"}, 2, "", "usage: sessiond user COMMAND"},
		{"user unknown command", "", []string{"user", "delete", "--db", db}, 2, "", `unknown user command "delete"`},
		{"set-password", "amber-falcon-meadow-42\n", []string{"user", "set-password", "--db", db, "--username", "ana"}, 0, "set a new password for ana; logged out 0 sessions", ""},
		{"set-password weak", "password\n", []string{"user", "set-password", "--db", db, "--username", "ana"}, 1, "", "Password"},
		{"set-password no password", "", []string{"user", "set-password", "--db", db, "--username", "ana"}, 2, "", "standard input"},
		{"set-password unknown user", "amber-falcon-meadow-42\n", []string{"user", "set-password", "--db", db, "--username", "zed"}, 1, "", `no such account: "zed"`},
		{"reset-mfa off", "", []string{"user", "reset-mfa", "--db", db, "--username", "ana"}, 0, "already off for ana", ""},
		{"logout-all", "", []string{"user", "logout-all", "--db", db, "--username", "ana"}, 0, "logged out 0 sessions of ana", ""},
		{"logout-all no username", "", []string{"user", "logout-all", "--db", db}, 2, "", "--username is required"},
		{"demo refuses a database in use", "", []string{"demo", "--db", db}, 1, "", "has 1 other accounts"},
		{"demo forced", "", []string{"demo", "--db", db, "--force"}, 0, "password: " + server.DemoPassword, ""},
		{"demo again", "", []string{"demo", "--db", db, "--force"}, 0, "already exists", ""},
		{"demo on an empty database", "", []string{"demo", "--db", empty}, 0, "created the demo account", ""},
		{"demo again on its own database", "", []string{"demo", "--db", empty}, 0, "already exists", ""},
		{"audit verify", "", []string{"audit", "verify", "--db", db}, 0, "verified: every chain and head intact", ""},
		{"demo with too few devices", "", []string{"demo", "--db", big, "--devices", "4"}, 2, "", "--devices must be from 5 to 100000"},
		{"demo with 40 devices", "", []string{"demo", "--db", big, "--devices", "40"}, 0, "created the demo account with 40 simulated devices", ""},
		{"audit verify the large demo", "", []string{"audit", "verify", "--db", big}, 0, "40 events of 1 account verified", ""},
		{"audit without verify", "", []string{"audit"}, 2, "", "sessiond audit verify"},
		{"audit verify an export without the key", "", []string{"audit", "verify", "--export", db}, 2, "", "--server-key"},
		{"audit verify an export with a bad key", "", []string{"audit", "verify", "--export", db, "--server-key", "nope"}, 2, "", "not a base64 Ed25519"},
		{"negative refresh grace", "", []string{"serve", "--db", db, "--refresh-grace", "-1s"}, 2, "", "--refresh-grace must not be negative"},
		{"zero reauth window", "", []string{"serve", "--db", db, "--reauth-window", "0"}, 2, "", "--reauth-window must be more than 0"},
		{"zero access ttl", "", []string{"serve", "--db", db, "--access-ttl", "0s"}, 2, "", "--access-ttl must be more than 0"},
		{"negative retention", "", []string{"serve", "--db", db, "--retention", "-24h"}, 2, "", "--retention must not be negative"},
		{"zero min idle timeout", "", []string{"serve", "--db", db, "--min-idle-timeout", "0"}, 2, "", "--min-idle-timeout must be more than 0"},
		{"min idle timeout below the floor", "", []string{"serve", "--db", db, "--min-idle-timeout", "4m59s"}, 2, "", "--min-idle-timeout must be at least 5m0s"},
		{"negative min idle timeout", "", []string{"serve", "--db", db, "--min-idle-timeout", "-1h"}, 2, "", "--min-idle-timeout must not be negative"},
		{"zero idle sweep period", "", []string{"serve", "--db", db, "--idle-sweep-every", "0s"}, 2, "", "--idle-sweep-every must be more than 0"},
		{"zero dpop replay cache", "", []string{"serve", "--db", db, "--dpop-replay-cache", "0"}, 2, "", "--dpop-replay-cache must be at least 1"},
		{"bad dpop replay cache", "", []string{"serve", "--db", db, "--dpop-replay-cache", "many"}, 2, "", "invalid value"},
		{"bad synchronous", "", []string{"serve", "--db", db, "--sqlite-synchronous", "off"}, 2, "", "--sqlite-synchronous"},
		{"bad flag", "", []string{"serve", "--nope"}, 2, "", "flag provided but not defined"},
		{"stray argument", "", []string{"migrate", "--db", db, "extra"}, 2, "", `unexpected argument "extra"`},
		{"tls half", "", []string{"serve", "--db", db, "--tls-cert", "c.pem"}, 2, "", "--tls-cert and --tls-key go together"},
		{"bad proxy", "", []string{"serve", "--db", db, "--trusted-proxy", "nope"}, 2, "", "not a CIDR"},
		{"bad log format", "", []string{"serve", "--db", db, "--log-format", "xml"}, 2, "", "--log-format"},
		{"missing geoip db", "", []string{"serve", "--db", db, "--geoip-db", filepath.Join(t.TempDir(), "nope.mmdb")}, 1, "", "nope.mmdb: no such file"},
		{"geoip db not a database", "", []string{"serve", "--db", db, "--geoip-db", db}, 1, "", "GeoIP2/GeoLite2 City"},
		{"postgres URL not valid", "", []string{"migrate", "--db", "postgres://%zz"}, 2, "", "not a valid postgres:// URL"},
		{"postgres unreachable", "", []string{"migrate", "--db", "postgres://sg:secret@127.0.0.1:1/sg?connect_timeout=2"}, 1, "", "opening postgres://sg:xxxxx@127.0.0.1:1/sg"},
		{"postgres password in the query", "", []string{"migrate", "--db", "postgres://sg@127.0.0.1:1/sg?connect_timeout=2&password=hunter2"}, 1, "", "password=xxxxx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.errOut) || strings.Contains(out+errOut, "hunter2") {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
}

// TestServe starts the real server on a free port, signs in to the demo
// account over HTTP, and shuts down gracefully with a stream open.
func TestServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errOut := runCmd(t, "", "demo", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--log-format", "json"}, strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	logs := bufio.NewScanner(pr)
	var base string
	for logs.Scan() {
		if m := regexp.MustCompile(`"url":"(http://[^"]+)"`).FindStringSubmatch(logs.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatal("no listening line in the log")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	body := fmt.Sprintf(`{"username":%q,"password":%q,"device":{"id":"d1","name":"CLI test"}}`, server.DemoUsername, server.DemoPassword)
	resp, err := http.Post(base+"/v1/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var l api.Login
	_ = json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if resp.StatusCode != 200 || l.AccessToken == "" {
		t.Fatalf("login: %d %+v", resp.StatusCode, l)
	}
	req, _ := http.NewRequest("GET", base+"/v1/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+l.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page api.SessionsPage
	_ = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if len(page.Sessions) != 6 {
		t.Fatalf("demo account lists %d sessions, want 6 (5 simulated + this one)", len(page.Sessions))
	}

	// Open an event stream, then ask the server to stop: it must end the
	// stream and exit 0 promptly.
	req, _ = http.NewRequest("GET", base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+l.AccessToken)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	cancel()
	serveEnded(done, t.Fatalf)
	if _, err := io.ReadAll(stream.Body); err != nil && !strings.Contains(err.Error(), "EOF") {
		t.Logf("stream ended with %v", err)
	}
}

// TestServeHealth: /healthz says it is sessiond, with the version the
// binary was built with (-ldflags "-X main.version=…"), "dev" without one.
func TestServeHealth(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"", "dev"},
		{"2.3.4-rc.1", "2.3.4-rc.1"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			defer func(v string) { version = v }(version)
			version = tc.set
			base := serveInBackground(t, "--db", filepath.Join(t.TempDir(), "s.db"))
			resp, err := http.Get(base + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var h api.HealthResponse
			if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || resp.StatusCode != 200 {
				t.Fatalf("/healthz: %d, %v", resp.StatusCode, err)
			}
			if want := (api.HealthResponse{Status: "ok", Service: api.HealthService, Version: tc.want}); h != want {
				t.Errorf("/healthz = %+v, want %+v", h, want)
			}
		})
	}
}

// serveEnded waits up to 10 s for `sessiond serve`, asked to stop, to
// send its exit status on done, and reports with fail (t.Fatalf or
// t.Errorf) unless it exits 0 in time.
func serveEnded(done <-chan int, fail func(format string, args ...any)) {
	select {
	case code := <-done:
		if code != 0 {
			fail("serve exited %d", code)
		}
	case <-time.After(10 * time.Second):
		fail("serve did not shut down")
	}
}

// serveLogged is serveInBackground that also returns the log lines
// written up to the listening line.
func serveLogged(t *testing.T, args ...string) (base string, logs []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...), strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		serveEnded(done, t.Errorf)
	})
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		logs = append(logs, sc.Text())
		if m := regexp.MustCompile(`"url":"(http://[^"]+)"`).FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			return m[1], logs
		}
	}
	t.Fatalf("no listening line in the log:\n%s", strings.Join(logs, "\n"))
	return "", nil
}

// serveInBackground runs `sessiond serve` with args on a free port and
// returns its base URL; the server stops (and must exit 0) when the test
// ends.
func serveInBackground(t *testing.T, args ...string) string {
	t.Helper()
	base, _ := serveLogged(t, args...)
	return base
}

// TestServeGeoIP: with --geoip-db, a session signed in from a public
// address (here through a trusted proxy) carries its location, as does the
// audit event; without an address the database knows, the location is empty.
func TestServeGeoIP(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errOut := runCmd(t, "", "demo", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	base := serveInBackground(t, "--db", db, "--geoip-db", geotest.File(t), "--trusted-proxy", "127.0.0.1/32")

	login := func(forwardedFor string) api.Login {
		t.Helper()
		body := fmt.Sprintf(`{"username":%q,"password":%q,"device":{"id":"d-%s","name":"CLI test"}}`, server.DemoUsername, server.DemoPassword, forwardedFor)
		req, _ := http.NewRequest("POST", base+"/v1/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", forwardedFor)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var l api.Login
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != 200 || l.Session == nil {
			t.Fatalf("login from %s: %d %v", forwardedFor, resp.StatusCode, err)
		}
		return l
	}
	l := login("203.0.113.5")
	if l.Session.IP != "203.0.113.5" || l.Session.Location != geotest.Lisbon {
		t.Fatalf("session from 203.0.113.5: ip %q, location %+v; want Lisbon", l.Session.IP, l.Session.Location)
	}
	req, _ := http.NewRequest("GET", base+"/v1/audit?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+l.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page api.AuditPage
	_ = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if len(page.Events) != 1 || page.Events[0].Type != api.AuditLoginSucceeded || page.Events[0].Location != geotest.Lisbon {
		t.Fatalf("newest audit event = %+v, want login.succeeded in Lisbon", page.Events)
	}
	if l := login("192.0.2.1"); !l.Session.Location.IsZero() {
		t.Fatalf("session from an address the database does not know: location %+v", l.Session.Location)
	}
}
