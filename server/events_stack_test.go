// The race detector's instrumentation deepens every stack, so this test
// only runs without it: make test runs it in a pass of its own (unit).

//go:build !race

package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server/passwd"
	"sessionguard/server/store/sqlite"
)

// An idle detached stream must fit Go's smallest goroutine stack (2 KiB):
// with 10,000 devices connected, 2 KiB more each is 20 MB more, and it
// takes only a few bytes of frame in serveStream's loop to cross the line
// (see serveStream). Streams here go through the connection guard, as in
// sessiond serve, and are woken once by an event, as in life.
func TestStreamStack(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sessiond.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fast := passwd.Fast
	s := New(st, Config{Password: &fast, SecretsKey: make([]byte, SecretsKeySize), StreamsPerSession: 1 << 20, StreamsPerAccount: 1 << 20})
	s.DetachStreams()
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Listener = s.GuardListener(ts.Listener, 1<<20)
	ts.Start()
	defer ts.Close()
	defer s.Close()
	ctx := context.Background()
	if _, err := s.CreateAccount(ctx, "ana", "violet-harbor-lantern"); err != nil {
		t.Fatal(err)
	}
	acct, _ := st.AccountByUsername(ctx, "ana")
	now := s.now()
	login, err := s.startSession(ctx, newSession{acct: acct, device: api.Device{ID: "d1", Name: "Laptop"},
		ip: netip.MustParseAddr("127.0.0.1"), now: now, authTime: now})
	if err != nil {
		t.Fatal(err)
	}

	const n = 500
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	conns := make([]net.Conn, 0, n)
	readers := make([]*bufio.Reader, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /v1/events HTTP/1.1\r\nHost: sessiond\r\nAuthorization: Bearer %s\r\n\r\n", login.AccessToken)
		br := bufio.NewReader(c)
		readers = append(readers, br)
		if line, _ := br.ReadString('\n'); !strings.Contains(line, " 200 ") {
			t.Fatalf("stream: %q", line)
		}
	}
	s.hub.deliver(Event{AccountID: acct.ID, Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}})
	for i, br := range readers { // every stream woke and wrote the event
		_ = conns[i].SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			if strings.Contains(line, "event: "+api.EventSessionsChanged) {
				break
			}
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	per := float64(after.StackInuse-before.StackInuse) / n
	t.Logf("%d streams: %.0f bytes of goroutine stack each", n, per)
	if per > 3<<10 {
		t.Fatalf("an idle stream holds %.0f bytes of stack: its goroutine outgrew 2 KiB", per)
	}
}
