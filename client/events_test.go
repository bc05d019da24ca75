package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"sessionguard/api"
)

type stateReport struct {
	state StreamState
	err   error
}

// eventsRun is one Events call on its own goroutine.
type eventsRun struct {
	events chan Event
	states chan stateReport
	done   chan struct{}
	err    error
	cancel context.CancelFunc
}

// startEvents runs c.Events until the test ends (or it returns).
func startEvents(t *testing.T, c *Client) *eventsRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &eventsRun{events: make(chan Event, 1000), states: make(chan stateReport, 1000),
		done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.done)
		r.err = c.Events(ctx, func(e Event) { r.events <- e },
			func(s StreamState, err error) { r.states <- stateReport{s, err} })
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

const waitLimit = 10 * time.Second

// waitState reads state reports until want, returning those seen.
func (r *eventsRun) waitState(t *testing.T, want StreamState) []stateReport {
	t.Helper()
	var seen []stateReport
	timeout := time.After(waitLimit)
	for {
		select {
		case s := <-r.states:
			seen = append(seen, s)
			if s.state == want {
				return seen
			}
		case <-timeout:
			t.Fatalf("no %v report; saw %v", want, seen)
		}
	}
}

// waitEvent reads events until one named name.
func (r *eventsRun) waitEvent(t *testing.T, name string) Event {
	t.Helper()
	timeout := time.After(waitLimit)
	for {
		select {
		case e := <-r.events:
			if e.Name == name {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event", name)
		}
	}
}

// wait returns Events' result.
func (r *eventsRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(waitLimit):
		t.Fatal("Events did not return")
		return nil
	}
}

// drainStates returns the state reports not read yet (after Events returned).
func (r *eventsRun) drainStates() []stateReport {
	var out []stateReport
	for {
		select {
		case s := <-r.states:
			out = append(out, s)
		default:
			return out
		}
	}
}

func TestStreamStateString(t *testing.T) {
	for s, want := range map[StreamState]string{Connecting: "connecting", Connected: "connected",
		Disconnected: "disconnected", StreamState(9): "unknown"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
}

// TestEventsDelivered: a new sign-in on the account reaches the stream as
// session.created and sessions.changed; cancelling ends Events cleanly.
func TestEventsDelivered(t *testing.T) {
	ts, a, _ := signedIn(t, "kate", "Kate Laptop", true)
	b := newClient(t, ts.URL())
	run := startEvents(t, a)
	if got := run.waitState(t, Connected); got[0].state != Connecting {
		t.Fatalf("states %v, want Connecting first", got)
	}

	bl := signIn(t, b, "kate", "Kate Phone", false)
	ev := run.waitEvent(t, api.EventSessionCreated)
	var created api.SessionCreatedEvent
	if err := ev.Decode(&created); err != nil {
		t.Fatalf("Decode %s: %v", ev.Data, err)
	}
	if created.Session.ID != bl.Session.ID || created.Session.Device.Name != "Kate Phone" || created.Session.Current {
		t.Fatalf("session.created = %+v", created.Session)
	}
	ch := run.waitEvent(t, api.EventSessionsChanged)
	if string(ch.Data) != "{}" {
		t.Fatalf("sessions.changed data = %s", ch.Data)
	}

	run.cancel()
	if err := run.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Events after cancel = %v", err)
	}
	states := run.drainStates()
	if len(states) == 0 || states[len(states)-1].state != Disconnected || !errors.Is(states[len(states)-1].err, context.Canceled) {
		t.Fatalf("last states %v, want Disconnected(canceled)", states)
	}
}

// TestEventsRevoked: a remote log out ends Events promptly with
// ErrSessionRevoked naming the device, after delivering the event; it does
// not reconnect.
func TestEventsRevoked(t *testing.T) {
	ctx := context.Background()
	ts, a, al := signedIn(t, "liam", "Liam Laptop", true)
	b := newClient(t, ts.URL())
	signIn(t, b, "liam", "Liam Phone", false)
	run := startEvents(t, a)
	run.waitState(t, Connected)

	ts.clock.Advance(time.Minute)
	if _, err := b.RevokeSession(ctx, al.Session.ID); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	err := run.wait(t)
	e := wantCode(t, err, 401, api.CodeSessionRevoked, ErrSessionRevoked)
	reason, at, by := e.Revocation()
	if reason != api.ReasonRemoteLogout || by != "Liam Phone" || !at.Equal(ts.clock.Now()) {
		t.Fatalf("Revocation() = %q, %v, %q", reason, at, by)
	}
	if !strings.Contains(e.Error(), "Liam Phone") {
		t.Fatalf("message %q does not name the device", e.Error())
	}
	ev := run.waitEvent(t, api.EventSessionRevoked)
	var rev api.SessionRevokedEvent
	if err := ev.Decode(&rev); err != nil || rev.SessionID != al.Session.ID {
		t.Fatalf("session.revoked = %+v, %v", rev, err)
	}
	states := run.drainStates()
	if last := states[len(states)-1]; last.state != Disconnected || !errors.Is(last.err, ErrSessionRevoked) {
		t.Fatalf("last state %v", last)
	}
	if n := ts.count("GET /v1/events"); n != 1 {
		t.Fatalf("%d stream requests, want 1 (no reconnect)", n)
	}
}

// TestEventsRefusedAtConnect: a dead session is reported at once, never
// retried.
func TestEventsRefusedAtConnect(t *testing.T) {
	tests := []struct {
		name     string
		kill     func(t *testing.T, ts *testServer, c *Client)
		code     string
		sentinel error
	}{
		{"session_revoked", func(t *testing.T, ts *testServer, c *Client) {
			if _, err := c.Logout(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			// Logout cleared the tokens; put the dead ones back.
		}, api.CodeSessionRevoked, ErrSessionRevoked},
		{"session_expired", func(t *testing.T, ts *testServer, c *Client) {
			ts.clock.Advance(13 * time.Hour)
		}, api.CodeSessionExpired, ErrSessionExpired},
		{"invalid_token", func(t *testing.T, ts *testServer, c *Client) {
			c.SetTokens(api.Tokens{AccessToken: "sga_unknown", RefreshToken: "sgr_unknown"})
		}, api.CodeInvalidToken, ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, c, l := signedIn(t, "mia", "Mia Laptop", false)
			tokens := l.Tokens()
			tt.kill(t, ts, c)
			if c.Tokens() == (api.Tokens{}) {
				c.SetTokens(tokens)
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			err := c.Events(ctx, nil, nil)
			wantCode(t, err, 401, tt.code, tt.sentinel)
			if n := ts.count("GET /v1/events"); n != 1 {
				t.Fatalf("%d stream requests, want 1", n)
			}
		})
	}
}

// TestEventsTokenExpired: an expired access token is refreshed and the
// stream opened.
func TestEventsTokenExpired(t *testing.T) {
	ts, c, l := signedIn(t, "noah", "Noah Laptop", true)
	old := l.Tokens()
	rotated := make(chan api.Tokens, 1)
	c.OnRotate(func(nt api.Tokens) { rotated <- nt })
	ts.clock.Advance(16 * time.Minute)
	run := startEvents(t, c)
	run.waitState(t, Connected)
	if n := ts.count("POST /v1/token/refresh"); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	if n := ts.count("GET /v1/events"); n != 2 {
		t.Fatalf("%d stream requests, want 2 (401 token_expired, then open)", n)
	}
	if nt := <-rotated; nt.RefreshToken == old.RefreshToken {
		t.Fatal("not rotated")
	}
}

// TestEventsReconnectAfterRestart: the server goes away and comes back on
// the same address; Events reports the loss, the failed attempts and the
// new connection, and events flow again.
func TestEventsReconnectAfterRestart(t *testing.T) {
	ts, a, _ := signedIn(t, "olga", "Olga Laptop", true)
	b := newClient(t, ts.URL())
	run := startEvents(t, a)
	run.waitState(t, Connected)

	ts.restart(300 * time.Millisecond)
	seen := run.waitState(t, Connected)
	if seen[0].state != Disconnected || seen[0].err == nil {
		t.Fatalf("first report after the restart = %v, want Disconnected with the cause", seen[0])
	}
	offline := 0
	for i, s := range seen {
		if s.state == Disconnected && errors.Is(s.err, ErrOffline) {
			offline++
		}
		if s.state == Disconnected && (i+1 >= len(seen) || seen[i+1].state != Connecting) {
			t.Fatalf("Disconnected not followed by Connecting: %v", seen)
		}
	}
	if offline < 2 {
		t.Fatalf("states %v: want the loss and at least one refused attempt as ErrOffline", seen)
	}

	signIn(t, b, "olga", "Olga Phone", false)
	ev := run.waitEvent(t, api.EventSessionCreated)
	var created api.SessionCreatedEvent
	if err := ev.Decode(&created); err != nil || created.Session.Device.Name != "Olga Phone" {
		t.Fatalf("session.created after restart = %+v, %v", created, err)
	}
	run.cancel()
	if err := run.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Events = %v", err)
	}
}

// TestEventsReconnectAfterNetworkLoss: cut connections are reopened.
func TestEventsReconnectAfterNetworkLoss(t *testing.T) {
	ts, c, _ := signedIn(t, "paul", "Paul Laptop", true)
	run := startEvents(t, c)
	run.waitState(t, Connected)
	for i := range 3 {
		ts.dropConnections()
		seen := run.waitState(t, Connected)
		if seen[0].state != Disconnected || !errors.Is(seen[0].err, ErrOffline) {
			t.Fatalf("drop %d: states %v", i, seen)
		}
	}
	if n := ts.count("GET /v1/events"); n != 4 {
		t.Fatalf("%d stream requests, want 4", n)
	}
}

// fakeEvents serves GET /v1/events with handler and counts the requests.
type fakeEvents struct {
	mu sync.Mutex
	n  int
}

func (f *fakeEvents) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func newFakeServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) (*httptest.Server, *fakeEvents) {
	t.Helper()
	f := &fakeEvents{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.n++
		n := f.n
		f.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(hs.Close)
	return hs, f
}

func sseHeader(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
}

// TestEventsIdleWatchdog: a stream that goes silent is dropped and
// reopened.
func TestEventsIdleWatchdog(t *testing.T) {
	hs, f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		sseHeader(w)
		fmt.Fprint(w, ": connected\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // then silence
	})
	c := newClient(t, hs.URL)
	c.idleTimeout = 50 * time.Millisecond
	c.SetTokens(api.Tokens{AccessToken: "sga_x"})
	run := startEvents(t, c)
	for range 3 {
		run.waitState(t, Connected)
		seen := run.waitState(t, Disconnected)
		if !errors.Is(seen[len(seen)-1].err, ErrOffline) {
			t.Fatalf("silent stream ended with %v", seen)
		}
	}
	if f.count() < 3 {
		t.Fatalf("%d connections", f.count())
	}
}

// TestEventsRetriesServerErrors: 5xx, garbage and a wrong content type are
// retried with backoff until the stream opens; Retry-After is honoured
// within the backoff cap.
func TestEventsRetriesServerErrors(t *testing.T) {
	hs, f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
		case 2:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprint(w, "<html>bad gateway</html>")
		case 3:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>captive portal</html>")
		default:
			sseHeader(w)
			fmt.Fprint(w, "event: sessions.changed\ndata: {}\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	})
	c := newClient(t, hs.URL)
	c.SetTokens(api.Tokens{AccessToken: "sga_x"})
	run := startEvents(t, c)
	seen := run.waitState(t, Connected)
	var errs []error
	for _, s := range seen {
		if s.state == Disconnected {
			errs = append(errs, s.err)
		}
	}
	if len(errs) != 3 {
		t.Fatalf("states %v, want 3 failed attempts", seen)
	}
	for _, err := range errs {
		if !errors.Is(err, ErrServer) || errors.Is(err, ErrOffline) {
			t.Fatalf("attempt error %v, want ErrServer", err)
		}
	}
	if e, _ := asError(errs[0]); e.RetryAfter != time.Second {
		t.Fatalf("RetryAfter = %v", e.RetryAfter)
	}
	if got := errs[1].Error(); got != "The server sent an unexpected answer (HTTP 502)." {
		t.Fatalf("message %q", got)
	}
	run.waitEvent(t, api.EventSessionsChanged)
	if f.count() != 4 {
		t.Fatalf("%d requests", f.count())
	}
}

// TestEventsCancelWhileWaiting: cancelling during the backoff wait or a
// connection attempt returns promptly.
func TestEventsCancelWhileWaiting(t *testing.T) {
	hs, _ := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(500) })
	c := newClient(t, hs.URL)
	c.backoffBase, c.backoffMax = time.Hour, time.Hour
	c.SetTokens(api.Tokens{AccessToken: "sga_x"})
	run := startEvents(t, c)
	run.waitState(t, Disconnected)
	time.Sleep(20 * time.Millisecond)
	run.cancel()
	if err := run.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Events = %v", err)
	}
}

// TestBackoff: the reconnect schedule doubles from 0.25 s to its cap of
// 1.5 s, with equal jitter (each wait in [limit/2, limit]): never a storm
// of immediate retries, never longer than ReconnectMax between two tries.
func TestBackoff(t *testing.T) {
	c, err := New("https://example.org")
	if err != nil {
		t.Fatal(err)
	}
	if c.backoffMax != ReconnectMax || ReconnectMax > 1500*time.Millisecond {
		t.Fatalf("reconnect cap %v (ReconnectMax %v), want at most 1.5 s so a stream is back within 2 s", c.backoffMax, ReconnectMax)
	}
	for n, limit := range map[int]time.Duration{0: 250 * time.Millisecond, 1: 500 * time.Millisecond, 2: time.Second,
		3: ReconnectMax, 6: ReconnectMax, 40: ReconnectMax, 1000: ReconnectMax} {
		lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
		for range 2000 {
			d := c.backoff(n)
			if d < limit/2 || d > limit {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, limit/2, limit)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if hi-lo < limit/4 {
			t.Fatalf("backoff(%d) within [%v, %v]: not jittered", n, lo, hi)
		}
	}
}

// TestEventsBackWithinTwoSecondsOfItsServer stops a real server long
// enough for the backoff to reach its cap, then starts it again on the
// same address: every wait the stream took was within the cap, and it
// was back (Connected) within 2 s of the restart.
func TestEventsBackWithinTwoSecondsOfItsServer(t *testing.T) {
	ts, a, _ := signedIn(t, "rita", "Rita Laptop", true)
	a.backoffBase, a.backoffMax = reconnectBase, ReconnectMax // the real schedule
	var mu sync.Mutex
	var waits []time.Duration
	a.onWait = func(d time.Duration) {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
	}
	run := startEvents(t, a)
	run.waitState(t, Connected)

	ts.down()
	// Down for long enough that the waits grow to the cap: 0.25 + 0.5 +
	// 1 + 1.5 s at most, more than 1.6 s at least.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(waits)
		mu.Unlock()
		if n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d reconnect attempts while the server was down", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	restarted := time.Now()
	ts.start(strings.TrimPrefix(ts.URL(), "http://"))
	seen := run.waitState(t, Connected)
	back := time.Since(restarted)

	mu.Lock()
	defer mu.Unlock()
	for i, w := range waits {
		if w > ReconnectMax {
			t.Fatalf("wait %d was %v, beyond the cap %v: %v", i, w, ReconnectMax, waits)
		}
	}
	if waits[len(waits)-1] < ReconnectMax/2 {
		t.Fatalf("the waits never reached the cap's range: %v", waits)
	}
	if back > 2*time.Second {
		t.Fatalf("back %v after the restart (waits %v, states %v), want within 2 s", back, waits, seen)
	}
	t.Logf("back %v after the restart; waits %v", back.Round(time.Millisecond), waits)
}

// TestReconnectSkipsTheWait: Reconnect (a person's Retry) makes a waiting
// stream try at once.
func TestReconnectSkipsTheWait(t *testing.T) {
	ts, a, _ := signedIn(t, "sam", "Sam Laptop", true)
	a.backoffBase, a.backoffMax = time.Hour, time.Hour
	run := startEvents(t, a)
	run.waitState(t, Connected)
	ts.restart(0)
	run.waitState(t, Disconnected)
	time.Sleep(20 * time.Millisecond) // waiting its hour
	a.Reconnect()
	run.waitState(t, Connected) // within waitLimit: not after the hour
}

// TestEventsLeavesNoGoroutines: once Events has returned (revoked, or
// cancelled mid-stream) nothing it started is still running.
func TestEventsLeavesNoGoroutines(t *testing.T) {
	for _, revoke := range []bool{true, false} {
		hs, _ := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			sseHeader(w)
			if revoke {
				fmt.Fprint(w, "event: session.revoked\ndata: {\"session_id\":\"ses_1\",\"reason\":\"admin\",\"by_device_name\":\"\"}\n\n")
				w.(http.Flusher).Flush()
			}
			<-r.Context().Done() // the stream stays open until the client leaves
		})
		c := newClient(t, hs.URL)
		c.SetTokens(api.Tokens{AccessToken: "sga_x"})
		ignore := goleak.IgnoreCurrent()
		ctx, cancel := context.WithCancel(context.Background())
		if !revoke {
			time.AfterFunc(100*time.Millisecond, cancel)
		}
		err := c.Events(ctx, nil, nil) // ctx stays live: Events must clean up by itself
		if revoke && !errors.Is(err, ErrSessionRevoked) || !revoke && !errors.Is(err, context.Canceled) {
			t.Fatalf("Events = %v", err)
		}
		if e, ok := asError(err); revoke && (!ok || e.Error() != "This session was logged out.") {
			t.Fatalf("revoked: %v", err)
		}
		c.CloseIdleConnections()
		hs.CloseClientConnections()
		goleak.VerifyNone(t, ignore)
		cancel()
	}
}
