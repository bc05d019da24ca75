package server_test

// Races against the real server over HTTP, on every kind of store: many
// requests are released at once from a barrier and the outcome is checked
// once all of them were answered. Nothing here depends on timing; the
// clock is fixed and moved by hand.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/servertest"
	"sessionguard/server/store"
	"sessionguard/server/store/postgres"
	"sessionguard/server/store/postgres/pgtest"
	"sessionguard/server/store/sqlite"
)

// raceStore is one kind of store the races run on: open returns a fresh,
// empty store for one test, which the test server closes.
type raceStore struct {
	name string
	open func(t *testing.T) store.Store
}

// raceStores lists the stores.
var raceStores = []raceStore{
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sessiond.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
	// A new database per test on the PostgreSQL server the package's tests
	// share (TestMain closes it, so goleak sees nothing left).
	{"postgres", func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
}

// raceGrace is the refresh grace of the race tests' servers.
const raceGrace = 10 * time.Second

// raceScenarios are the races, each run on a fresh server per store.
var raceScenarios = []struct {
	name string
	run  func(t *testing.T, e *raceEnv)
}{
	{"concurrent refreshes of one token within the grace", raceRefreshWithinGrace},
	{"reuse after the grace races refreshes", raceReuseAfterGrace},
	{"remote log out during refreshes", func(t *testing.T, e *raceEnv) { raceRevokeDuringRefresh(t, e, false) }},
	{"log out of all others during refreshes", func(t *testing.T, e *raceEnv) { raceRevokeDuringRefresh(t, e, true) }},
	{"log out of all others during sign-ins", raceRevokeOthersDuringSignIns},
}

func TestRaces(t *testing.T) {
	for _, kind := range raceStores {
		t.Run(kind.name, func(t *testing.T) {
			for _, sc := range raceScenarios {
				t.Run(sc.name, func(t *testing.T) { sc.run(t, newRaceEnv(t, kind.open(t))) })
			}
		})
	}
}

// raceEnv is a real server on one store, with a client that may be used
// from many goroutines.
type raceEnv struct {
	t     *testing.T
	b     *servertest.Backend
	clock *servertest.Clock
	hc    *http.Client
	// seq orders what the test saw: a request's send and its answer each
	// take the next number, so "answered before sent" is ack < sent.
	seq atomic.Int64
}

func newRaceEnv(t *testing.T, st store.Store) *raceEnv {
	t.Helper()
	clock := servertest.NewClock(time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC))
	b := servertest.StartStore(t, st, clock, func(c *server.Config) { c.RefreshGrace = raceGrace })
	e := &raceEnv{t: t, b: b, clock: clock, hc: b.HTTP.Client()}
	t.Cleanup(e.hc.CloseIdleConnections)
	return e
}

// call sends one request and reads the whole answer. It never fails the
// test, so goroutines may use it; body is nil or a value sent as JSON.
func (e *raceEnv) call(method, path, token string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.b.URL+path, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// must is call for the test's own goroutine.
func (e *raceEnv) must(method, path, token string, body any) reply {
	e.t.Helper()
	r, err := e.call(method, path, token, body)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (e *raceEnv) signUp(username string) {
	e.t.Helper()
	e.must("POST", "/v1/accounts", "", api.CreateAccountRequest{Username: username, Password: testPassword}).wantOK(e.t, 201, nil)
}

func (e *raceEnv) login(username, deviceName string) api.Login {
	e.t.Helper()
	var l api.Login
	e.must("POST", "/v1/login", "", api.LoginRequest{Username: username, Password: testPassword,
		Device: device(deviceName)}).wantOK(e.t, 200, &l)
	return l
}

func (e *raceEnv) refresh(tok string) (reply, error) {
	return e.call("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: tok})
}

// code is "ok" for a 2xx answer, else the error code of its body.
func code(r reply) string {
	if r.status >= 200 && r.status < 300 {
		return "ok"
	}
	var b api.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error.Code == "" {
		return fmt.Sprintf("status %d", r.status)
	}
	return b.Error.Code
}

// revokeReason is the reason of a session_revoked answer ("" otherwise).
func revokeReason(r reply) string {
	var b api.ErrorBody
	if json.Unmarshal(r.body, &b) != nil || b.Error.Code != api.CodeSessionRevoked {
		return ""
	}
	s, _ := b.Error.Details[api.DetailReason].(string)
	return s
}

// wantDead checks that no token of a revoked session works: each access
// token is refused (session_revoked, or invalid_token when a later
// rotation replaced it) and each refresh token answers session_revoked.
func (e *raceEnv) wantDead(what string, pairs []api.Tokens) {
	e.t.Helper()
	for i, p := range pairs {
		if c := code(e.must("GET", "/v1/me", p.AccessToken, nil)); c != api.CodeSessionRevoked && c != api.CodeInvalidToken {
			e.t.Errorf("%s: access token %d of a revoked session answered %s", what, i, c)
		}
		r, err := e.refresh(p.RefreshToken)
		if err != nil {
			e.t.Fatal(err)
		}
		if c := code(r); c != api.CodeSessionRevoked {
			e.t.Errorf("%s: refresh token %d of a revoked session answered %s, want session_revoked", what, i, c)
		}
	}
}

// auditCount counts the account's audit events of type typ, reading the log
// with a fresh sign-in.
func (e *raceEnv) auditCount(username, typ string) int {
	e.t.Helper()
	l := e.login(username, "Auditor")
	n, cursor := 0, ""
	for {
		var p api.AuditPage
		e.must("GET", "/v1/audit?limit=200&cursor="+cursor, l.AccessToken, nil).wantOK(e.t, 200, &p)
		for _, ev := range p.Events {
			if ev.Type == typ {
				n++
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			return n
		}
	}
}

// Within the grace, every concurrent presentation of one refresh token is a
// retry and succeeds, but the session keeps one access token and one live
// refresh token: exactly one successor works, the others are superseded,
// and once the grace is over presenting a superseded one ends the session.
func raceRefreshWithinGrace(t *testing.T, e *raceEnv) {
	e.signUp("ana")
	l := e.login("ana", "Laptop")
	const n = 8
	replies, errs := make([]reply, n), make([]error, n)
	barrier.Run(n, func(i int) { replies[i], errs[i] = e.refresh(l.RefreshToken) })

	succ := make([]api.Tokens, n)
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		replies[i].wantOK(t, 200, &succ[i]) // a retry within the grace succeeds
	}
	winner := -1
	for i, s := range succ {
		switch c := code(e.must("GET", "/v1/me", s.AccessToken, nil)); c {
		case "ok":
			if winner >= 0 {
				t.Fatalf("two successors' access tokens work (%d and %d)", winner, i)
			}
			winner = i
		case api.CodeInvalidToken:
		default:
			t.Fatalf("successor %d's access token answered %s", i, c)
		}
	}
	if winner < 0 {
		t.Fatal("no successor's access token works")
	}
	e.must("GET", "/v1/me", l.AccessToken, nil).wantError(t, 401, api.CodeInvalidToken)

	e.clock.Advance(raceGrace + time.Second)
	var next api.Tokens
	r, err := e.refresh(succ[winner].RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	r.wantOK(t, 200, &next) // the one live refresh token
	for i, s := range succ {
		if i == winner {
			continue
		}
		r, err := e.refresh(s.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.wantError(t, 401, api.CodeSessionRevoked); got.Details[api.DetailReason] != api.ReasonRefreshTokenReuse {
			t.Fatalf("superseded successor %d after the grace: reason %v", i, got.Details[api.DetailReason])
		}
	}
	e.wantDead("after reuse", append(succ, next))
	if got := e.auditCount("ana", api.AuditRefreshReuseDetected); got != 1 {
		t.Fatalf("%d refresh.reuse_detected events, want 1", got)
	}
}

// After the grace, concurrent presentations of a rotated token all end the
// session (one of them audited), whatever refreshes of the live token run
// alongside: once the answers are in, no token of the session works.
func raceReuseAfterGrace(t *testing.T, e *raceEnv) {
	e.signUp("ana")
	l := e.login("ana", "Laptop")
	var live api.Tokens
	r, err := e.refresh(l.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	r.wantOK(t, 200, &live)
	e.clock.Advance(raceGrace + time.Second)

	const n = 6 // stale presentations, and as many of the live token
	replies, errs := make([]reply, 2*n), make([]error, 2*n)
	barrier.Run(2*n, func(i int) {
		tok := l.RefreshToken
		if i >= n {
			tok = live.RefreshToken
		}
		replies[i], errs[i] = e.refresh(tok)
	})
	issued := []api.Tokens{l.Tokens(), live}
	for i := range 2 * n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		c := code(replies[i])
		switch {
		case i < n && (c != api.CodeSessionRevoked || revokeReason(replies[i]) != api.ReasonRefreshTokenReuse):
			t.Errorf("stale presentation %d answered %s (%s), want session_revoked for refresh_token_reuse", i, c, replies[i].body)
		case i >= n && c == "ok":
			var tok api.Tokens
			replies[i].decode(t, &tok)
			issued = append(issued, tok)
		case i >= n && c != api.CodeSessionRevoked:
			t.Errorf("live refresh %d answered %s", i, c)
		}
	}
	e.wantDead("after concurrent reuse", issued)
	if got := e.auditCount("ana", api.AuditRefreshReuseDetected); got != 1 {
		t.Fatalf("%d refresh.reuse_detected events, want exactly 1", got)
	}
}

// A refresh racing a revoke may win or lose, but no refresh sent after the
// revoke was acknowledged succeeds, and afterwards no token the refreshes
// handed out works.
func raceRevokeDuringRefresh(t *testing.T, e *raceEnv, others bool) {
	e.signUp("ana")
	ctrl := e.login("ana", "Controller")
	const rounds, refreshers, chain = 8, 3, 6
	for round := range rounds {
		v := e.login("ana", fmt.Sprintf("Phone %d", round))
		var (
			acked   atomic.Bool
			mu      sync.Mutex
			issued  = []api.Tokens{v.Tokens()}
			late    []string
			revoked reply
			revErr  error
		)
		barrier.Run(refreshers+1, func(i int) {
			if i == refreshers { // the revoker
				if others {
					revoked, revErr = e.call("DELETE", "/v1/sessions?scope=others", ctrl.AccessToken, nil)
				} else {
					revoked, revErr = e.call("DELETE", "/v1/sessions/"+v.Session.ID, ctrl.AccessToken, nil)
				}
				acked.Store(revErr == nil && revoked.status == 200)
				return
			}
			tok := v.RefreshToken
			for range chain {
				afterAck := acked.Load()
				r, err := e.refresh(tok)
				if err != nil || r.status != 200 {
					if err == nil && code(r) != api.CodeSessionRevoked {
						mu.Lock()
						late = append(late, "refresh answered "+code(r))
						mu.Unlock()
					}
					return
				}
				var next api.Tokens
				if err := json.Unmarshal(r.body, &next); err != nil {
					return
				}
				mu.Lock()
				issued = append(issued, next)
				if afterAck {
					late = append(late, "a refresh sent after the revoke was acknowledged succeeded")
				}
				mu.Unlock()
				tok = next.RefreshToken
			}
		})
		if revErr != nil {
			t.Fatal(revErr)
		}
		if others {
			var n api.RevokedCount
			revoked.wantOK(t, 200, &n)
			if n.Revoked != 1 {
				t.Fatalf("round %d: revoked %d sessions, want 1", round, n.Revoked)
			}
		} else {
			var out api.RevokeSessionResponse
			revoked.wantOK(t, 200, &out)
			if out.Session.RevokeReason != api.ReasonRemoteLogout {
				t.Fatalf("round %d: revoked session %+v", round, out.Session)
			}
		}
		for _, l := range late {
			t.Errorf("round %d: %s", round, l)
		}
		e.wantDead(fmt.Sprintf("round %d", round), issued)
	}
	e.must("GET", "/v1/me", ctrl.AccessToken, nil).wantOK(t, 200, nil)
}

// Log out of all others while new sign-ins complete. What must hold: a
// session whose sign-in was acknowledged before the revoke was sent is
// revoked; one whose sign-in was sent after the revoke was acknowledged is
// not; the ones in between may go either way, but the revoke's count is
// exactly the sessions it ended, and no ended session's token works.
func raceRevokeOthersDuringSignIns(t *testing.T, e *raceEnv) {
	e.signUp("ana")
	ctrl := e.login("ana", "Controller")
	const rounds, signers, each, before = 3, 4, 5, 4
	var survivors []api.Tokens // live at the end of the previous round
	for round := range rounds {
		type signIn struct {
			l         api.Login
			sent, ack int64
			err       string
		}
		var (
			got     [signers][each]signIn
			acks    atomic.Int32
			ready   = make(chan struct{})
			once    sync.Once
			wg      sync.WaitGroup
			sent    int64
			revoked api.RevokedCount
		)
		for g := range signers {
			wg.Go(func() {
				for j := range each {
					s := &got[g][j]
					s.sent = e.seq.Add(1)
					r, err := e.call("POST", "/v1/login", "", api.LoginRequest{Username: "ana", Password: testPassword,
						Device: device(fmt.Sprintf("Signer %d-%d-%d", round, g, j))})
					s.ack = e.seq.Add(1)
					switch {
					case err != nil:
						s.err = err.Error()
					case r.status != 200:
						s.err = code(r)
					default:
						if err := json.Unmarshal(r.body, &s.l); err != nil {
							s.err = err.Error()
						}
					}
					if acks.Add(1) == before {
						once.Do(func() { close(ready) })
					}
				}
			})
		}
		<-ready
		sent = e.seq.Add(1)
		e.must("DELETE", "/v1/sessions?scope=others", ctrl.AccessToken, nil).wantOK(t, 200, &revoked)
		acked := e.seq.Add(1)
		wg.Wait()

		// The previous round's survivors were signed in before this
		// revoke was sent: all of them are ended.
		e.wantDead(fmt.Sprintf("round %d survivors of round %d", round, round-1), survivors)
		ended, prev := 0, len(survivors)
		survivors = nil
		for g := range signers {
			for j := range each {
				s := got[g][j]
				name := fmt.Sprintf("round %d sign-in %d-%d", round, g, j)
				if s.err != "" {
					t.Fatalf("%s failed: %s", name, s.err)
				}
				me := e.must("GET", "/v1/me", s.l.AccessToken, nil)
				isRevoked := code(me) == api.CodeSessionRevoked
				switch {
				case code(me) != "ok" && !isRevoked:
					t.Errorf("%s: access token answered %s", name, code(me))
				case isRevoked && revokeReason(me) != api.ReasonLogoutOthers:
					t.Errorf("%s: revoked for %q", name, revokeReason(me))
				case s.ack < sent && !isRevoked:
					t.Errorf("%s: acknowledged before log out of all others was sent, yet still live", name)
				case s.sent > acked && isRevoked:
					t.Errorf("%s: sent after log out of all others was acknowledged, yet revoked", name)
				}
				if isRevoked {
					ended++
					e.wantDead(name, []api.Tokens{s.l.Tokens()})
					continue
				}
				r, err := e.refresh(s.l.RefreshToken)
				if err != nil {
					t.Fatal(err)
				}
				var next api.Tokens
				r.wantOK(t, 200, &next)
				survivors = append(survivors, next)
			}
		}
		if revoked.Revoked != prev+ended {
			t.Errorf("round %d: log out of all others reported %d, yet it ended %d sessions of this round and %d survivors",
				round, revoked.Revoked, ended, prev)
		}
		e.must("GET", "/v1/me", ctrl.AccessToken, nil).wantOK(t, 200, nil)
	}
}

// faultStore makes the next remote log out fail, once, in one of two ways
// a crash or a lost connection would: inside its store write, after the
// revoke and the saved-login removal ran and before the audit event and the
// commit (so nothing is written), or after the write committed (so the
// answer is lost). Either way the request gets no answer (here a 503) and
// the client retries it.
type faultStore struct {
	store.Store
	mu    sync.Mutex
	fault string // faultInWrite, faultAfterCommit or ""
}

const (
	faultInWrite     = "in write"
	faultAfterCommit = "after commit"
)

var errInjected = fmt.Errorf("%w: injected fault", store.ErrUnavailable)

func (f *faultStore) RevokeSession(ctx context.Context, accountID, id string, r store.Revocation, fx store.RevokeEffects) (store.Session, error) {
	f.mu.Lock()
	fault := ""
	if r.Reason == api.ReasonRemoteLogout {
		fault, f.fault = f.fault, ""
	}
	f.mu.Unlock()
	switch fault {
	case faultInWrite:
		// The event is made inside the transaction, after the revoke and
		// the deletions: cancelling there fails the rest, so it rolls back.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		cut := fx
		cut.Audit = func(ended []store.Session, forgotten int) api.AuditEvent {
			cancel()
			return fx.Audit(ended, forgotten)
		}
		if _, err := f.Store.RevokeSession(ctx, accountID, id, r, cut); err == nil {
			return store.Session{}, errors.New("the write committed despite the fault")
		}
		return store.Session{}, errInjected
	case faultAfterCommit:
		if _, err := f.Store.RevokeSession(ctx, accountID, id, r, fx); err != nil {
			return store.Session{}, err
		}
		return store.Session{}, errInjected
	}
	return f.Store.RevokeSession(ctx, accountID, id, r, fx)
}

// A remote log out is one store write: if it fails inside, nothing of it
// is left (the session still works, the saved login too), and if its
// answer is lost after it committed, all of it is there. Either way the
// client's retries are acknowledged with the session ended, the device's
// saved login gone and exactly one event written.
func TestRetriedRemoteLogoutAfterFailedWrite(t *testing.T) {
	faults := []struct {
		fault     string
		committed bool
	}{
		{faultInWrite, false},
		{faultAfterCommit, true},
	}
	for _, kind := range raceStores {
		t.Run(kind.name, func(t *testing.T) {
			for _, tc := range faults {
				t.Run(tc.fault, func(t *testing.T) {
					fs := &faultStore{Store: kind.open(t)}
					e := newRaceEnv(t, fs)
					e.signUp("ana")
					phone := e.login("ana", "Phone")
					var saved api.LogoutResponse
					first := e.login("ana", "Laptop")
					e.must("POST", "/v1/logout", first.AccessToken,
						api.LogoutRequest{Remember: true, RefreshToken: first.RefreshToken}).wantOK(t, 200, &saved)
					laptop := e.login("ana", "Laptop")

					fs.mu.Lock()
					fs.fault = tc.fault
					fs.mu.Unlock()
					e.must("DELETE", "/v1/sessions/"+laptop.Session.ID, phone.AccessToken, nil).wantError(t, 503, api.CodeUnavailable)
					me := e.must("GET", "/v1/me", laptop.AccessToken, nil)
					events := e.auditCount("ana", api.AuditSessionRevoked)
					if tc.committed {
						me.wantError(t, 401, api.CodeSessionRevoked)
						if events != 1 {
							t.Fatalf("%d session.revoked events after the committed write, want 1", events)
						}
					} else {
						me.wantOK(t, 200, nil) // nothing of the failed write is left
						if events != 0 {
							t.Fatalf("%d session.revoked events after the failed write, want 0", events)
						}
					}
					for range 2 { // the retry, and a second one
						e.must("DELETE", "/v1/sessions/"+laptop.Session.ID, phone.AccessToken, nil).wantOK(t, 200, nil)
					}
					e.must("GET", "/v1/me", laptop.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
					e.must("POST", "/v1/login/remembered", "", api.RememberedLoginRequest{Credential: saved.RememberedCredential,
						Device: device("Laptop")}).wantError(t, 401, api.CodeInvalidCredentials)
					if n := e.auditCount("ana", api.AuditSessionRevoked); n != 1 {
						t.Fatalf("%d session.revoked events, want exactly 1", n)
					}
				})
			}
		})
	}
}
