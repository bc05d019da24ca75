package server_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
)

// Detached streams (Server.DetachStreams) must behave exactly like the
// ones net/http serves: these tests repeat the event-stream rules on them,
// and check the wire format and the clean-up that net/http did before.

func newDetachedEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	e := newEnv(t, opts...)
	e.srv.DetachStreams()
	return e
}

func TestDetachedEventStream(t *testing.T) {
	e := newDetachedEnv(t)
	e.signUp("ana")
	a := e.login("ana", "Ana's Laptop", true)
	b := e.login("ana", "Pixel 8", true)
	sa, sb := e.stream(a.AccessToken), e.stream(b.AccessToken)

	c := e.login("ana", "iPad", false)
	for _, s := range []*stream{sa, sb} {
		if ev := s.nextEvent(t); ev.name != api.EventSessionCreated || !strings.Contains(ev.data, c.Session.ID) {
			t.Fatalf("got %+v, want session.created for %s", ev, c.Session.ID)
		}
		if ev := s.nextEvent(t); ev.name != api.EventSessionsChanged {
			t.Fatalf("got %s, want sessions.changed", ev.name)
		}
	}
	e.do("DELETE", "/v1/sessions/"+b.Session.ID, a.AccessToken, nil).wantOK(t, 200, nil)
	if ev := sb.nextEvent(t); ev.name != api.EventSessionRevoked || !strings.Contains(ev.data, `"by_session_id":"`+a.Session.ID+`"`) {
		t.Fatalf("B got %+v, want session.revoked by A", ev)
	}
	sb.wantClosed(t)
	if ev := sa.nextEvent(t); ev.name != api.EventSessionsChanged {
		t.Fatalf("A got %s, want sessions.changed", ev.name)
	}
	e.do("GET", "/v1/events", b.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
}

func TestDetachedKeepAlive(t *testing.T) {
	e := newDetachedEnv(t, func(c *server.Config) { c.KeepAlive = 20 * time.Millisecond })
	e.signUp("ana")
	s := e.stream(e.login("ana", "Laptop", false).AccessToken)
	for range 3 {
		if it := s.next(t); it.comment != "keep-alive" {
			t.Fatalf("got %+v, want a keep-alive comment", it)
		}
	}
}

func TestDetachedLogoutOthersClosesEveryOtherStream(t *testing.T) {
	e := newDetachedEnv(t)
	e.signUp("ana")
	self := e.login("ana", "Laptop", false)
	mine := e.stream(self.AccessToken)
	var streams []*stream
	for _, n := range []string{"Phone", "Tablet", "TV"} {
		streams = append(streams, e.stream(e.login("ana", n, false).AccessToken))
	}
	e.do("DELETE", "/v1/sessions?scope=others", self.AccessToken, nil).wantOK(t, 200, nil)
	for _, s := range streams {
		for {
			if ev := s.nextEvent(t); ev.name == api.EventSessionRevoked {
				break
			}
		}
		s.wantClosed(t)
	}
	for {
		if ev := mine.nextEvent(t); ev.name == api.EventSessionsChanged {
			break
		}
	}
}

func TestDetachedCloseEndsAndWaitsForStreams(t *testing.T) {
	e := newDetachedEnv(t)
	e.signUp("ana")
	s := e.stream(e.login("ana", "Laptop", false).AccessToken)
	e.srv.Close()
	s.wantClosed(t)
	// Close returned only after the stream ended, so the gauge is back to 0.
	if n := e.openStreams(); n != 0 {
		t.Fatalf("%v streams open after Close", n)
	}
}

func TestDetachedStreamsFollowTheReplicaBus(t *testing.T) {
	e := newDetachedEnv(t)
	bus := &flakyBus{srv: e.srv}
	e.srv.SetBus(bus)
	e.signUp("ana")
	laptop := e.login("ana", "Laptop", false)
	phone := e.login("ana", "Phone", false)
	s := e.stream(laptop.AccessToken)
	bus.set(errors.New("listener connection lost"))
	s.wantClosed(t)
	e.do("GET", "/v1/events", laptop.AccessToken, nil).wantError(t, http.StatusServiceUnavailable, api.CodeUnavailable)
	bus.set(nil)
	s = e.stream(laptop.AccessToken)
	e.do("DELETE", "/v1/sessions/"+laptop.Session.ID, phone.AccessToken, nil).wantOK(t, http.StatusOK, nil)
	if ev := s.nextEvent(t); ev.name != api.EventSessionRevoked {
		t.Fatalf("got %+v, want %s", ev, api.EventSessionRevoked)
	}
	s.wantClosed(t)
}

// A client that goes away is noticed at once, as net/http's background
// read did: its stream is unsubscribed and the gauge drops.
func TestDetachedStreamEndsWhenTheClientLeaves(t *testing.T) {
	e := newDetachedEnv(t)
	e.signUp("ana")
	s := e.stream(e.login("ana", "Laptop", false).AccessToken)
	e.waitOpenStreams(1) // counted just after ": connected" is sent
	s.cancel()
	e.waitOpenStreams(0)
}

// waitOpenStreams waits (10 s at most) until the gauge reads n.
func (e *env) waitOpenStreams(n float64) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := e.openStreams()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%v streams open after 10 s, want %v", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// On the wire a detached stream is the same chunked HTTP/1.1 response; its
// body ends cleanly (a last chunk, not a cut connection) after
// session.revoked, and then the server closes the connection.
func TestDetachedStreamWireFormat(t *testing.T) {
	e := newDetachedEnv(t)
	e.signUp("ana")
	a := e.login("ana", "Laptop", false)
	b := e.login("ana", "Phone", false)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /v1/events HTTP/1.1\r\nHost: sessiond\r\nAuthorization: Bearer "+b.AccessToken+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" ||
		resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, transfer encoding %v, header %v", resp.StatusCode, resp.TransferEncoding, resp.Header)
	}
	body := bufio.NewReader(resp.Body)
	if line, err := body.ReadString('\n'); err != nil || line != ": connected\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	e.do("DELETE", "/v1/sessions/"+b.Session.ID, a.AccessToken, nil).wantOK(t, 200, nil)
	rest, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("body after session.revoked: %v (read %q)", err, rest)
	}
	if !strings.Contains(string(rest), "event: session.revoked\ndata: {") || !strings.HasSuffix(string(rest), "}\n\n") {
		t.Fatalf("body %q", rest)
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the body: %d bytes, %v; want the connection closed", n, err)
	}
}

// openStreams reads the sessiond_event_streams gauge.
func (e *env) openStreams() float64 {
	e.t.Helper()
	r := e.do("GET", "/metrics", "", nil)
	for line := range strings.SplitSeq(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, "sessiond_event_streams "); ok {
			var n float64
			if _, err := fmt.Sscan(v, &n); err != nil {
				e.t.Fatalf("gauge %q: %v", line, err)
			}
			return n
		}
	}
	e.t.Fatalf("no sessiond_event_streams in /metrics")
	return 0
}
