package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
)

// sse is one received stream item: an event or a comment.
type sse struct {
	name, data, comment string
}

// stream is an open GET /v1/events.
type stream struct {
	items  chan sse
	cancel context.CancelFunc
}

// stream opens GET /v1/events with token, and hdr (name, value pairs),
// and waits for its first comment.
func (e *env) stream(token string, hdr ...string) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		resp.Body.Close()
		e.t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{items: make(chan sse, 64), cancel: cancel}
	go func() {
		defer close(s.items)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur != (sse{}) {
					s.items <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, ":"):
				cur.comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "event: "):
				cur.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[len("data: "):]
			}
		}
	}()
	e.t.Cleanup(cancel)
	if first := s.next(e.t); first.comment != "connected" {
		e.t.Fatalf("first item = %+v, want the connected comment", first)
	}
	return s
}

func (s *stream) next(t testing.TB) sse {
	t.Helper()
	select {
	case it, ok := <-s.items:
		if !ok {
			t.Fatal("stream closed")
		}
		return it
	case <-time.After(5 * time.Second):
		t.Fatal("no stream item within 5 s")
	}
	return sse{}
}

// nextEvent skips comments.
func (s *stream) nextEvent(t testing.TB) sse {
	t.Helper()
	for {
		if it := s.next(t); it.name != "" {
			return it
		}
	}
}

func (s *stream) wantClosed(t testing.TB) {
	t.Helper()
	select {
	case it, ok := <-s.items:
		if ok {
			t.Fatalf("stream still open, got %+v", it)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not close")
	}
}

// envMaker starts a test server; streamModes are the two ways it can serve
// event streams, which must behave alike.
type envMaker = func(t testing.TB, opts ...option) *env

var streamModes = []struct {
	name string
	env  envMaker
}{
	{"net/http", newEnv},
	{"detached", newDetachedEnv},
}

// TestStreamRules runs every event-stream rule on streams served by
// net/http and on detached ones (Server.DetachStreams).
func TestStreamRules(t *testing.T) {
	rules := []struct {
		name string
		fn   func(*testing.T, envMaker)
	}{
		{"EventStream", testEventStream},
		{"KeepAlive", testEventStreamKeepAlive},
		{"LogoutOthersClosesEveryOtherStream", testLogoutOthersClosesEveryOtherStream},
		{"StreamsFollowTheReplicaBus", testStreamsFollowTheReplicaBus},
	}
	for _, m := range streamModes {
		for _, r := range rules {
			t.Run(m.name+"/"+r.name, func(t *testing.T) { r.fn(t, m.env) })
		}
	}
}

func testEventStream(t *testing.T, newEnv envMaker) {
	e := newEnvSignedUp(t, "ana")
	a := e.login("ana", "Ana's Laptop", true)
	b := e.login("ana", "Pixel 8", true)
	sa, sb := e.stream(a.AccessToken), e.stream(b.AccessToken)

	// A new sign-in reaches every other stream of the account.
	c := e.login("ana", "iPad", false)
	for _, s := range []*stream{sa, sb} {
		ev := s.nextEvent(t)
		if ev.name != api.EventSessionCreated {
			t.Fatalf("got %s, want session.created", ev.name)
		}
		var p api.SessionCreatedEvent
		if err := json.Unmarshal([]byte(ev.data), &p); err != nil || p.Session.ID != c.Session.ID || p.Session.Device.Name != "iPad" {
			t.Fatalf("session.created payload %s (%v)", ev.data, err)
		}
		if ev := s.nextEvent(t); ev.name != api.EventSessionsChanged {
			t.Fatalf("got %s, want sessions.changed", ev.name)
		}
	}

	// A revokes B: B's stream gets session.revoked naming A, then closes.
	e.do("DELETE", "/v1/sessions/"+b.Session.ID, a.AccessToken, nil).wantOK(t, 200, nil)
	ev := sb.nextEvent(t)
	if ev.name != api.EventSessionRevoked {
		t.Fatalf("B got %s, want session.revoked", ev.name)
	}
	var rv api.SessionRevokedEvent
	if err := json.Unmarshal([]byte(ev.data), &rv); err != nil {
		t.Fatal(err)
	}
	want := api.SessionRevokedEvent{SessionID: b.Session.ID, Reason: api.ReasonRemoteLogout, At: e.clock.Now(),
		BySessionID: a.Session.ID, ByDeviceName: "Ana's Laptop", ClosureToken: rv.ClosureToken}
	if !strings.HasPrefix(rv.ClosureToken, "sgc_") {
		t.Errorf("session.revoked carries closure token %q, want one", rv.ClosureToken)
	}
	if rv != want {
		t.Fatalf("session.revoked = %+v\nwant %+v", rv, want)
	}
	sb.wantClosed(t)
	// A is told the list changed, and is not closed.
	if ev := sa.nextEvent(t); ev.name != api.EventSessionsChanged {
		t.Fatalf("A got %s, want sessions.changed", ev.name)
	}
	// B cannot reconnect.
	e.do("GET", "/v1/events", b.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
}

func testEventStreamKeepAlive(t *testing.T, newEnv envMaker) {
	e := newEnv(t, func(c *server.Config) { c.KeepAlive = 20 * time.Millisecond })
	e.signUp("ana")
	a := e.login("ana", "Laptop", false)
	s := e.stream(a.AccessToken)
	for range 2 {
		if it := s.next(t); it.comment != "keep-alive" {
			t.Fatalf("got %+v, want a keep-alive comment", it)
		}
	}
}

func testLogoutOthersClosesEveryOtherStream(t *testing.T, newEnv envMaker) {
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", false)
	mine := e.stream(self.AccessToken)
	var streams []*stream
	for _, n := range []string{"Phone", "Tablet", "TV"} {
		streams = append(streams, e.stream(e.login("ana", n, false).AccessToken))
	}
	e.do("DELETE", "/v1/sessions?scope=others", self.AccessToken, nil).wantOK(t, 200, nil)
	for _, s := range streams {
		for {
			ev := s.nextEvent(t)
			if ev.name == api.EventSessionRevoked {
				if !strings.Contains(ev.data, `"reason":"logout_others"`) {
					t.Fatalf("payload %s", ev.data)
				}
				break
			}
		}
		s.wantClosed(t)
	}
	// The caller's own stream stays open and hears that the list changed.
	for {
		if ev := mine.nextEvent(t); ev.name == api.EventSessionsChanged {
			break
		}
	}
}

func TestCloseEndsStreams(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	s := e.stream(e.login("ana", "Laptop", false).AccessToken)
	e.srv.Close()
	s.wantClosed(t)
}

// flakyBus is a replica bus whose link to the other replicas can be cut.
type flakyBus struct {
	srv  *server.Server
	down error
	mu   sync.Mutex
}

func (b *flakyBus) Publish(e server.Event) { b.srv.Deliver(e) }

func (b *flakyBus) Ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.down
}

func (b *flakyBus) set(err error) {
	b.mu.Lock()
	b.down = err
	b.mu.Unlock()
	if err != nil {
		b.srv.CloseStreams()
	}
}

func testStreamsFollowTheReplicaBus(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	bus := &flakyBus{srv: e.srv}
	e.srv.SetBus(bus)
	e.signUp("ana")
	laptop := e.login("ana", "Laptop", false)
	phone := e.login("ana", "Phone", false)

	s := e.stream(laptop.AccessToken)
	bus.set(errors.New("listener connection lost"))
	s.wantClosed(t)
	r := e.do("GET", "/v1/events", laptop.AccessToken, nil)
	if d := r.wantError(t, http.StatusServiceUnavailable, api.CodeUnavailable); !strings.Contains(d.Message, "reconnecting") {
		t.Errorf("message %q does not say live updates are reconnecting", d.Message)
	}
	// Requests that need no bus still work.
	e.do("GET", "/v1/me", laptop.AccessToken, nil).wantOK(t, http.StatusOK, nil)

	bus.set(nil)
	s = e.stream(laptop.AccessToken)
	e.do("DELETE", "/v1/sessions/"+laptop.Session.ID, phone.AccessToken, nil).wantOK(t, http.StatusOK, nil)
	if ev := s.nextEvent(t); ev.name != api.EventSessionRevoked {
		t.Fatalf("after recovery got %+v, want %s", ev, api.EventSessionRevoked)
	}
	s.wantClosed(t)
}
