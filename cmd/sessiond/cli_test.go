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
)

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
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
		{"user without add", "", []string{"user"}, 2, "", "usage: sessiond user add"},
		{"demo", "", []string{"demo", "--db", db}, 0, "password: " + server.DemoPassword, ""},
		{"demo again", "", []string{"demo", "--db", db}, 0, "already exists", ""},
		{"bad flag", "", []string{"serve", "--nope"}, 2, "", "flag provided but not defined"},
		{"stray argument", "", []string{"migrate", "--db", db, "extra"}, 2, "", `unexpected argument "extra"`},
		{"tls half", "", []string{"serve", "--db", db, "--tls-cert", "c.pem"}, 2, "", "--tls-cert and --tls-key go together"},
		{"bad proxy", "", []string{"serve", "--db", db, "--trusted-proxy", "nope"}, 2, "", "not a CIDR"},
		{"bad log format", "", []string{"serve", "--db", db, "--log-format", "xml"}, 2, "", "--log-format"},
		{"postgres not yet", "", []string{"migrate", "--db", "postgres://x"}, 2, "", "PostgreSQL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.errOut) {
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
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if _, err := io.ReadAll(stream.Body); err != nil && !strings.Contains(err.Error(), "EOF") {
		t.Logf("stream ended with %v", err)
	}
}
