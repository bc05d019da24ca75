package client

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/api/dpop"
)

// sentProof is what one request carried, as the server saw it.
type sentProof struct {
	route  string // "METHOD /path"
	scheme string // of Authorization: "Bearer", "DPoP" or "" (none)
	token  string
	proof  string
	// checked is the proof as dpop.Check reads it for this very request
	// (its method, host, path and token) at the server's clock; err why
	// it does not pass.
	checked dpop.Checked
	err     error
}

// proofLog records the proofs of every request a test server gets.
type proofLog struct {
	mu   sync.Mutex
	sent []sentProof
}

func (l *proofLog) watch(ts *testServer) {
	ts.setHook(func(r *http.Request) {
		p := sentProof{route: r.Method + " " + r.URL.Path, proof: r.Header.Get(dpop.Header)}
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok {
			p.scheme, p.token = scheme, tok
		}
		if p.proof != "" {
			p.checked, p.err = dpop.Check(p.proof, dpop.Request{Method: r.Method, Host: r.Host,
				Path: r.URL.EscapedPath(), AccessToken: p.token}, ts.clock.Now())
		}
		l.mu.Lock()
		l.sent = append(l.sent, p)
		l.mu.Unlock()
	})
}

// take returns what was recorded and forgets it.
func (l *proofLog) take() []sentProof {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.sent
	l.sent = nil
	return out
}

// newKey makes a proof key.
func newKey(t testing.TB) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestProofOnEveryRequest: with a proof key, every request carries a
// fresh proof by that key that passes dpop.Check for its own method, URL
// and token (no ath on sign-ins, refreshes and token-less calls), and its
// token goes under the DPoP scheme; without a key, none does, and tokens
// go as Bearer tokens.
func TestProofOnEveryRequest(t *testing.T) {
	for _, withKey := range []bool{true, false} {
		name := map[bool]string{true: "with a key", false: "without a key"}[withKey]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ts := newTestServer(t)
			c := newClient(t, ts.URL())
			key := newKey(t)
			if withKey {
				c.SetProofKey(key)
			}
			if got := c.ProofKey(); (got == key) != withKey {
				t.Fatalf("ProofKey() = %v", got)
			}
			var log proofLog
			log.watch(ts)
			signUp(t, c, "ana")
			signIn(t, c, "ana", "Laptop", true)
			var sid string
			calls := []struct {
				name string
				do   func() error
			}{
				{"me", func() error { _, err := c.Me(ctx); return err }},
				{"sessions", func() error { _, err := c.SessionsQuery(ctx, "lap", 10, ""); return err }},
				{"rename", func() error {
					me, err := c.Me(ctx)
					if err != nil {
						return err
					}
					sid = me.Session.ID
					_, err = c.RenameSession(ctx, sid, "Laptop 2")
					return err
				}},
				{"refresh", func() error { _, err := c.Refresh(ctx); return err }},
				{"export", func() error { return c.ExportAudit(ctx, 0, &bytes.Buffer{}) }},
				{"server key", func() error { _, err := c.ServerKey(ctx); return err }},
				{"health", func() error { return c.Health(ctx) }},
				{"events", func() error {
					run := startEvents(t, c)
					run.waitState(t, Connected)
					ts.dropConnections() // a reconnect makes a proof of its own
					run.waitState(t, Disconnected)
					run.waitState(t, Connected)
					run.cancel()
					return nil
				}},
				{"log out", func() error { _, err := c.Logout(ctx, true); return err }},
			}
			for _, call := range calls {
				if err := call.do(); err != nil {
					t.Fatalf("%s: %v", call.name, err)
				}
			}
			sent := log.take()
			seen := map[string]bool{}
			jtis := map[string]bool{}
			for _, p := range sent {
				seen[p.route] = true
				tokenless := p.token == ""
				switch {
				case !withKey && p.proof != "":
					t.Errorf("%s: a proof without a key", p.route)
				case !withKey && !tokenless && p.scheme != "Bearer":
					t.Errorf("%s: scheme %q without a key, want Bearer", p.route, p.scheme)
				case !withKey:
				case p.proof == "":
					t.Errorf("%s: no proof", p.route)
				case p.err != nil:
					t.Errorf("%s: proof refused: %v", p.route, p.err)
				case p.checked.JKT != key.Thumbprint():
					t.Errorf("%s: proof by key %s, want %s", p.route, p.checked.JKT, key.Thumbprint())
				case !tokenless && p.scheme != dpop.Scheme:
					t.Errorf("%s: scheme %q with a key, want DPoP", p.route, p.scheme)
				case jtis[p.checked.JTI]:
					t.Errorf("%s: proof jti %s used before", p.route, p.checked.JTI)
				}
				jtis[p.checked.JTI] = true
			}
			for _, route := range []string{"POST /v1/accounts", "POST /v1/login", "GET /v1/me", "GET /v1/sessions",
				"PATCH /v1/sessions/" + sid, "POST /v1/token/refresh", "GET /v1/audit/export",
				"GET /v1/server-key", "GET /healthz", "GET /v1/events", "POST /v1/logout"} {
				if !seen[route] {
					t.Errorf("no %s request recorded", route)
				}
			}
			if n := count(sent, "GET /v1/events"); n < 2 {
				t.Errorf("%d event stream connections, want a reconnect", n)
			}
			// Sign-in and refresh carry no token, so their proofs no ath
			// (dpop.Check refuses an ath on a request without a token).
			for _, p := range sent {
				if (p.route == "POST /v1/login" || p.route == "POST /v1/token/refresh") && p.token != "" {
					t.Errorf("%s carried a token", p.route)
				}
			}
		})
	}
}

// count is how many of sent went to route.
func count(sent []sentProof, route string) int {
	n := 0
	for _, p := range sent {
		if p.route == route {
			n++
		}
	}
	return n
}

// TestProofDatedByServerClock: a device whose clock is minutes off the
// server's (either way) dates its proofs by the server's clock, learned
// from its answers' Date: the first refused proof is made again once,
// and later ones are right the first time.
func TestProofDatedByServerClock(t *testing.T) {
	for _, off := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		t.Run(off.String(), func(t *testing.T) {
			ctx := context.Background()
			ts := newTestServer(t)
			c := newClient(t, ts.URL())
			c.SetProofKey(newKey(t))
			signUp(t, c, "ana")
			signIn(t, c, "ana", "Laptop", true)
			if got := c.skew(); got != 0 {
				t.Fatalf("skew %v with the clocks agreeing", got)
			}
			c.now = func() time.Time { return time.Now().Add(-off) } // this device's clock is off
			var log proofLog
			log.watch(ts)
			if _, err := c.Me(ctx); err != nil {
				t.Fatalf("Me with the clock %v off: %v", off, err)
			}
			if got := c.skew(); got < off-2*time.Second || got > off+2*time.Second {
				t.Fatalf("skew %v, want about %v", got, off)
			}
			first := log.take()
			if _, err := c.Me(ctx); err != nil {
				t.Fatal(err)
			}
			again := log.take()
			for _, p := range again {
				if p.err != nil {
					t.Fatalf("%s: proof refused once the clock is known: %v", p.route, p.err)
				}
			}
			// The server refuses the first proof (dated by the device's
			// clock) and takes the second, made once its answer told the
			// clock; the next call needs one request.
			var me []sentProof
			for _, p := range first {
				if p.route == "GET /v1/me" {
					me = append(me, p)
				}
			}
			if len(me) != 2 || !errors.Is(me[0].err, dpop.ErrTime) || me[1].err != nil {
				t.Fatalf("first call: %d requests (%v), want a refused proof, then a good one", len(me), me)
			}
			if n := count(again, "GET /v1/me"); n != 1 {
				t.Fatalf("next call: %d requests, want 1", n)
			}
		})
	}
}

// TestClientClockCorrection: noteDate learns the server's clock from
// Date, ignores differences within skewMin and headers that are not
// dates; redated says when a proof was dated by a clock since corrected.
func TestClientClockCorrection(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		date  string
		want  time.Duration
		moved bool
	}{
		{"same clock", base.Format(http.TimeFormat), 0, false},
		{"3 s ahead: noise", base.Add(3 * time.Second).Format(http.TimeFormat), 0, false},
		{"2 minutes ahead", base.Add(2 * time.Minute).Format(http.TimeFormat), 2*time.Minute + 500*time.Millisecond, true},
		{"an hour behind", base.Add(-time.Hour).Format(http.TimeFormat), -time.Hour + 500*time.Millisecond, true},
		{"no date", "", 0, false},
		{"not a date", "yesterday", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, "http://127.0.0.1:1")
			c.now = func() time.Time { return base }
			h := http.Header{}
			if tc.date != "" {
				h.Set("Date", tc.date)
			}
			c.noteDate(h)
			if got := c.skew(); got != tc.want {
				t.Fatalf("skew %v, want %v", got, tc.want)
			}
			if got := c.redated(0); got != tc.moved {
				t.Fatalf("redated(0) = %v", got)
			}
		})
	}
}

// TestBoundSession is the binding seen from the client: a sign-in with a
// key makes a bound session that works with that key (calls, refresh,
// event stream), while its tokens copied to a client without the key, or
// with another key, are refused as ErrDPoP (and ErrInvalidToken) without
// any retry or refresh; the device keeps working.
func TestBoundSession(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	c := newClient(t, ts.URL())
	key := newKey(t)
	c.SetProofKey(key)
	signUp(t, c, "ana")
	l := signIn(t, c, "ana", "Laptop", true)
	if !l.Session.Bound {
		t.Fatal("a sign-in with a proof is not bound")
	}
	run := startEvents(t, c)
	run.waitState(t, Connected)

	thieves := []struct {
		name string
		key  *dpop.Key
	}{{"no key", nil}, {"another key", newKey(t)}}
	for _, th := range thieves {
		t.Run(th.name, func(t *testing.T) {
			var log proofLog
			log.watch(ts)
			thief := newClient(t, ts.URL())
			thief.SetProofKey(th.key)
			stolen := c.Tokens()
			thief.SetTokens(api.Tokens{AccessToken: stolen.AccessToken, AccessExpiresAt: stolen.AccessExpiresAt})
			_, err := thief.Me(ctx)
			e := wantCode(t, err, http.StatusUnauthorized, api.CodeInvalidToken, ErrInvalidToken)
			if !errors.Is(err, ErrDPoP) {
				t.Fatalf("copied access token: %v (details %v), want ErrDPoP", err, e.Details)
			}
			if n := count(log.take(), "GET /v1/me"); n != 1 {
				t.Fatalf("%d GET /v1/me for a refused bound token, want 1 (no retry)", n)
			}

			thief.SetTokens(api.Tokens{RefreshToken: stolen.RefreshToken})
			_, err = thief.Me(ctx)
			if !errors.Is(err, ErrDPoP) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("copied refresh token: %v, want ErrDPoP", err)
			}
			sent := log.take()
			if n, m := count(sent, "POST /v1/token/refresh"), count(sent, "GET /v1/me"); n != 1 || m != 0 {
				t.Fatalf("copied refresh token: %d refreshes and %d calls, want 1 and 0", n, m)
			}

			// The device's own session goes on: calls, refresh, stream.
			if _, err := c.Me(ctx); err != nil {
				t.Fatalf("the device after the copy was refused: %v", err)
			}
			if _, err := c.Refresh(ctx); err != nil {
				t.Fatalf("the device's refresh after the copy was refused: %v", err)
			}
			select {
			case s := <-run.states:
				t.Fatalf("the device's stream changed: %v %v", s.state, s.err)
			default:
			}
		})
	}

	// Without its key, the device's own client is refused too: ErrDPoP,
	// a dead session for Events (no reconnecting forever).
	c.SetProofKey(nil)
	run.cancel()
	<-run.done
	lost := startEvents(t, c)
	if err := lost.wait(t); !errors.Is(err, ErrDPoP) {
		t.Fatalf("events without the key: %v, want ErrDPoP", err)
	}
	c.SetProofKey(key)
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("with its key back: %v", err)
	}
}

// TestUnboundSessionUnchanged: a sign-in without a key is unbound and
// works with Bearer tokens as before; a key set later signs its calls
// (DPoP scheme) and the server takes them; it stays unbound.
func TestUnboundSessionUnchanged(t *testing.T) {
	ctx := context.Background()
	ts, c, l := signedIn(t, "ana", "Laptop", true)
	if l.Session.Bound {
		t.Fatal("a sign-in without a proof is bound")
	}
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}
	c.SetProofKey(newKey(t))
	var log proofLog
	log.watch(ts)
	me, err := c.Me(ctx)
	if err != nil {
		t.Fatalf("an unbound token under the DPoP scheme: %v", err)
	}
	if me.Session.Bound {
		t.Fatal("a proof on a call bound the session")
	}
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatalf("refresh of an unbound session with a proof: %v", err)
	}
	if slices.ContainsFunc(log.take(), func(p sentProof) bool { return p.proof == "" }) {
		t.Fatal("a request without a proof")
	}
}
