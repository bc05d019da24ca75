package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Detached streams (Server.DetachStreams) must behave exactly like the
// ones net/http serves: TestStreamRules (events_test.go) runs the
// event-stream rules on both; these tests check what only detaching
// changes: the wire format and the clean-up that net/http did before.

func newDetachedEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	e := newEnv(t, opts...)
	e.srv.DetachStreams()
	return e
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
func (e *env) openStreams() float64 { return e.metric("sessiond_event_streams") }

// metric reads one unlabelled metric (or one series, name with its labels)
// from the server's metrics handler; a series not there yet reads 0.
func (e *env) metric(series string) float64 {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var n float64
			if _, err := fmt.Sscan(v, &n); err != nil {
				e.t.Fatalf("metric %q: %v", line, err)
			}
			return n
		}
	}
	return 0
}
