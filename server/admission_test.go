package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server/passwd"
	"sessionguard/server/store/sqlite"
)

// LogBuffer is a log sink safe for the server's goroutines, for this
// package's tests inside and outside it (server_test).
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newAdmissionServer is a server on a fresh SQLite file whose password
// hashing admits conc at once and queue more waiting up to wait.
func newAdmissionServer(t *testing.T, conc, queue int, wait time.Duration) (*Server, *LogBuffer) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sessiond.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &LogBuffer{}
	fast := passwd.Fast
	s := New(st, Config{OpenRegistration: true, Password: &fast, HashConcurrency: conc, HashQueue: queue, HashWait: wait,
		SecretsKey: make([]byte, SecretsKeySize), Logger: slog.New(slog.NewTextHandler(logs, nil))})
	t.Cleanup(s.Close)
	return s, logs
}

// holdHashSlots takes every running slot, as hashes in progress would.
func holdHashSlots(t *testing.T, s *Server) {
	t.Helper()
	for range s.cfg.HashConcurrency {
		if err := s.acquireHashSlot(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for range s.cfg.HashConcurrency {
			s.releaseHashSlot()
		}
	})
}

// Password hashing is admitted, not just started: while every slot runs,
// a few more wait (for HashWait at most) and the rest are answered 503 at
// once, so a sign-in flood queues nothing unbounded.
func TestHashAdmission(t *testing.T) {
	is503 := func(what string, err error) {
		t.Helper()
		var ae *apiError
		if !errors.As(err, &ae) || ae.status != http.StatusServiceUnavailable || ae.code != api.CodeUnavailable {
			t.Fatalf("%s: %v, want 503 unavailable", what, err)
		}
	}
	s, _ := newAdmissionServer(t, 1, 1, time.Hour)
	holdHashSlots(t, s)

	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() { waited <- s.acquireHashSlot(ctx) }() // the one that may queue
	for len(s.hashQueue) < cap(s.hashQueue) {
		time.Sleep(time.Millisecond)
	}
	refused := make(chan error, 1)
	go func() { refused <- s.acquireHashSlot(context.Background()) }() // the queue is full
	select {
	case err := <-refused:
		is503("past the queue", err)
		var ae *apiError
		if errors.As(err, &ae) && ae.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a sign-in past the queue waited instead of being refused")
	}
	cancel()
	is503("queued, then its client left", <-waited)
	if n := len(s.hashQueue); n != 1 {
		t.Fatalf("%d queue places taken, want 1 (the held slot): a refusal kept its place", n)
	}

	// And none waits longer than HashWait.
	s2, _ := newAdmissionServer(t, 1, 1, 20*time.Millisecond)
	holdHashSlots(t, s2)
	is503("queued past HashWait", s2.acquireHashSlot(context.Background()))
}

// A taken username is answered without a hash: sign-up floods for names
// that exist cost no CPU, and the answer comes even while hashing is full.
func TestSignUpChecksTheNameBeforeHashing(t *testing.T) {
	s, _ := newAdmissionServer(t, 1, 0, time.Hour)
	if _, err := s.CreateAccount(context.Background(), "ana", "violet-harbor-lantern"); err != nil {
		t.Fatal(err)
	}
	holdHashSlots(t, s)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/accounts", strings.NewReader(`{"username":"ana","password":"violet-harbor-lantern"}`))
	req.Header.Set("Content-Type", "application/json")
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), api.CodeUsernameTaken) {
		t.Fatalf("%d %s, want 409 username_taken", rec.Code, rec.Body)
	}
}

// A client that gives up is not a server error: logged as aborted, no 500
// in the log.
func TestClientAbortIsLoggedAsSuch(t *testing.T) {
	s, logs := newAdmissionServer(t, 1, 4, time.Hour)
	if _, err := s.CreateAccount(context.Background(), "ana", "violet-harbor-lantern"); err != nil {
		t.Fatal(err)
	}
	holdHashSlots(t, s) // the sign-in below waits for a slot until its client leaves
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/login",
		strings.NewReader(`{"username":"ana","password":"violet-harbor-lantern","device":{"id":"d1","name":"Laptop"}}`))
	req.Header.Set("Content-Type", "application/json")
	if _, err := ts.Client().Do(req); err == nil {
		t.Fatal("the request was answered")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "request aborted by the client") {
		if time.Now().After(deadline) {
			t.Fatalf("no abort logged:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if l := logs.String(); strings.Contains(l, "request failed") || strings.Contains(l, "level=ERROR") {
		t.Fatalf("an abort was logged as a server error:\n%s", l)
	}
	if !strings.Contains(logs.String(), "status=499") {
		t.Errorf("the abort is not recorded as 499:\n%s", logs)
	}
}
