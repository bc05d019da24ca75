package client

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"sessionguard/api"
)

// eventLog is a goroutine-safe list of what happened, in order.
type eventLog struct {
	mu sync.Mutex
	l  []string
}

func (e *eventLog) add(s string) {
	e.mu.Lock()
	e.l = append(e.l, s)
	e.mu.Unlock()
}

func (e *eventLog) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.l)
}

// TestExpiredTokenRefreshedTransparently: after the access token expires on
// the server, Me still succeeds; OnRotate gets the new pair before the
// retried call uses it.
func TestExpiredTokenRefreshedTransparently(t *testing.T) {
	ctx := context.Background()
	ts, c, l := signedIn(t, "dave", "Dave Laptop", true)
	old := l.Tokens()

	var log eventLog
	ts.setHook(func(r *http.Request) { log.add(r.Method + " " + r.URL.Path + " " + bearerTag(r)) })
	var rotated []api.Tokens
	c.OnRotate(func(nt api.Tokens) {
		if c.Tokens() != old {
			t.Error("new tokens were installed before OnRotate")
		}
		rotated = append(rotated, nt)
		log.add("rotate " + tag(nt.AccessToken))
	})

	ts.clock.Advance(16 * time.Minute)
	me, err := c.Me(ctx)
	if err != nil {
		t.Fatalf("Me after expiry: %v", err)
	}
	if me.Account.Username != "dave" {
		t.Fatalf("Me = %+v", me)
	}
	if len(rotated) != 1 {
		t.Fatalf("OnRotate called %d times, want 1", len(rotated))
	}
	nt := rotated[0]
	want := []string{
		"GET /v1/me " + tag(old.AccessToken),
		"POST /v1/token/refresh -",
		"rotate " + tag(nt.AccessToken),
		"GET /v1/me " + tag(nt.AccessToken),
	}
	if got := log.list(); !slices.Equal(got, want) {
		t.Fatalf("sequence\n got %q\nwant %q", got, want)
	}
	if c.Tokens() != nt || nt.RefreshToken == old.RefreshToken || nt.AccessToken == old.AccessToken {
		t.Fatal("the rotated pair is not the one held")
	}
	if !nt.AccessExpiresAt.Equal(ts.clock.Now().Add(15 * time.Minute)) {
		t.Fatalf("AccessExpiresAt = %v", nt.AccessExpiresAt)
	}
}

// TestRotatedRefreshTokenPersisted: the refresh token handed to OnRotate is
// the live one: an app restarted with only it signs in again.
func TestRotatedRefreshTokenPersisted(t *testing.T) {
	ctx := context.Background()
	ts, c, l := signedIn(t, "erin", "Erin Laptop", true)
	keyring := l.RefreshToken
	c.OnRotate(func(nt api.Tokens) { keyring = nt.RefreshToken })

	for range 2 {
		if _, err := c.Refresh(ctx); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
	}
	if keyring == l.RefreshToken || keyring != c.Tokens().RefreshToken {
		t.Fatal("OnRotate did not get the rotated refresh token")
	}

	// The app restarts long after: only the saved refresh token survives.
	ts.clock.Advance(time.Hour)
	restarted := newClient(t, ts.URL())
	restarted.SetTokens(api.Tokens{RefreshToken: keyring})
	var saved string
	restarted.OnRotate(func(nt api.Tokens) { saved = nt.RefreshToken })
	me, err := restarted.Me(ctx)
	if err != nil {
		t.Fatalf("Me with the saved refresh token: %v", err)
	}
	if me.Session.ID != l.Session.ID || saved == "" || saved == keyring {
		t.Fatalf("Me = %+v, saved rotated token %t", me.Session, saved != "")
	}
}

// TestRefreshSingleFlight: 20 callers that all hit an expired token share
// exactly one refresh request.
func TestRefreshSingleFlight(t *testing.T) {
	ctx := context.Background()
	ts, c, _ := signedIn(t, "frank", "Frank Laptop", true)
	var rotations eventLog
	c.OnRotate(func(nt api.Tokens) { rotations.add(tag(nt.AccessToken)) })
	var used eventLog
	ts.setHook(func(r *http.Request) {
		if r.URL.Path == "/v1/me" {
			used.add(bearerTag(r))
		}
	})

	ts.clock.Advance(16 * time.Minute)
	const n = 20
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			_, err := c.Me(ctx)
			errs <- err
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Me: %v", err)
		}
	}
	if got := ts.count("POST /v1/token/refresh"); got != 1 {
		t.Fatalf("%d refresh requests reached the server, want 1", got)
	}
	if r := rotations.list(); len(r) != 1 {
		t.Fatalf("OnRotate called %d times, want 1", len(r))
	}
	// Every successful Me went out with the one new token.
	fresh := rotations.list()[0]
	retried := 0
	for _, u := range used.list() {
		if u == fresh {
			retried++
		}
	}
	if retried != n {
		t.Fatalf("%d of %d calls used the new token (requests %q)", retried, n, used.list())
	}
}

// TestProactiveRefresh: an access token expired by the client clock is
// refreshed before the call, without a 401 round trip.
func TestProactiveRefresh(t *testing.T) {
	ctx := context.Background()
	ts, c, l := signedIn(t, "gina", "Gina Laptop", false)
	var log eventLog
	ts.setHook(func(r *http.Request) { log.add(r.Method + " " + r.URL.Path) })

	c.now = func() time.Time { return l.AccessExpiresAt } // expiry reached by the client clock
	ts.clock.Advance(16 * time.Minute)
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("Me: %v", err)
	}
	want := []string{"POST /v1/token/refresh", "GET /v1/me"}
	if got := log.list(); !slices.Equal(got, want) {
		t.Fatalf("requests %q, want %q", got, want)
	}
}

// TestRefreshOutlivesCaller: a caller that gives up does not abandon the
// refresh it started: the server has rotated the token, so the answer is
// still installed (and handed to OnRotate).
func TestRefreshOutlivesCaller(t *testing.T) {
	ts, c, l := signedIn(t, "hank", "Hank Laptop", true)
	old := l.Tokens()
	release := make(chan struct{})
	ts.setHook(func(r *http.Request) {
		if r.URL.Path == "/v1/token/refresh" {
			<-release
		}
	})
	rotated := make(chan api.Tokens, 1)
	c.OnRotate(func(nt api.Tokens) { rotated <- nt })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Refresh(ctx)
		done <- err
	}()
	for ts.count("POST /v1/token/refresh") == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Refresh after cancel: %v", err)
	}
	close(release)
	select {
	case nt := <-rotated:
		deadline := time.Now().Add(5 * time.Second)
		for c.Tokens() != nt && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if c.Tokens() != nt || nt.RefreshToken == old.RefreshToken {
			t.Fatal("the rotated pair was not installed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnRotate never called")
	}
	if _, err := c.Me(context.Background()); err != nil {
		t.Fatalf("Me with the installed pair: %v", err)
	}
}

// TestClearTokensDuringRefresh: a refresh that completes after ClearTokens
// is discarded, not installed.
func TestClearTokensDuringRefresh(t *testing.T) {
	ts, c, _ := signedIn(t, "iris", "Iris Laptop", true)
	release := make(chan struct{})
	ts.setHook(func(r *http.Request) {
		if r.URL.Path == "/v1/token/refresh" {
			<-release
		}
	})
	called := false
	c.OnRotate(func(api.Tokens) { called = true })
	done := make(chan error, 1)
	go func() {
		_, err := c.Refresh(context.Background())
		done <- err
	}()
	for ts.count("POST /v1/token/refresh") == 0 {
		time.Sleep(time.Millisecond)
	}
	c.ClearTokens()
	close(release)
	if err := <-done; !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("Refresh = %v, want ErrNotSignedIn", err)
	}
	if called || c.Tokens() != (api.Tokens{}) {
		t.Fatalf("discarded pair installed (OnRotate %t)", called)
	}
}

// TestNotSignedIn: authenticated calls without tokens send nothing.
func TestNotSignedIn(t *testing.T) {
	ts := newTestServer(t)
	c := newClient(t, ts.URL())
	if _, err := c.Me(context.Background()); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("Me = %v", err)
	}
	if _, err := c.Refresh(context.Background()); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("Refresh = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := c.Events(ctx, nil, nil); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("Events = %v", err)
	}
	if ts.count("GET /v1/me")+ts.count("POST /v1/token/refresh")+ts.count("GET /v1/events") != 0 {
		t.Fatal("a request was sent without tokens")
	}
}

// TestCallOverlappingRotation: a call that went out with the old access
// token while another call rotated the pair gets 401 invalid_token (the
// server forgets the old token at once); it is retried with the new token
// instead of failing — whether the rotation finished before the answer came
// back or was still in flight.
func TestCallOverlappingRotation(t *testing.T) {
	for _, inFlight := range []bool{false, true} {
		name := "rotation done"
		if inFlight {
			name = "rotation in flight"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ts, c, l := signedIn(t, "jane", "Jane Laptop", true)
			old := l.Tokens()
			var used eventLog
			meSent, meGo := make(chan struct{}), make(chan struct{})
			rotated, refreshGo := make(chan struct{}), make(chan struct{})
			ts.setHook(func(r *http.Request) {
				if r.URL.Path == "/v1/me" {
					used.add(bearerTag(r))
					if bearerTag(r) == tag(old.AccessToken) {
						close(meSent)
						<-meGo
					}
				}
			})
			if inFlight {
				ts.setAfter(func(r *http.Request) {
					if r.URL.Path == "/v1/token/refresh" {
						close(rotated) // the server has rotated; the client has no answer yet
						<-refreshGo
					}
				})
			}
			meDone := make(chan error, 1)
			go func() {
				_, err := c.Me(ctx)
				meDone <- err
			}()
			<-meSent // Me is at the server with the old token
			refreshDone := make(chan error, 1)
			go func() {
				_, err := c.Refresh(ctx)
				refreshDone <- err
			}()
			if inFlight {
				<-rotated
				close(meGo) // Me meets the rotated session while the refresh is unanswered
				time.Sleep(50 * time.Millisecond)
				close(refreshGo)
			} else {
				if err := <-refreshDone; err != nil {
					t.Fatalf("Refresh: %v", err)
				}
				close(meGo)
			}
			if err := <-meDone; err != nil {
				t.Fatalf("Me overlapping a rotation: %v", err)
			}
			if inFlight {
				if err := <-refreshDone; err != nil {
					t.Fatalf("Refresh: %v", err)
				}
			}
			want := []string{tag(old.AccessToken), tag(c.Tokens().AccessToken)}
			if got := used.list(); !slices.Equal(got, want) {
				t.Fatalf("Me went out with %q, want %q", got, want)
			}
			if n := ts.count("POST /v1/token/refresh"); n != 1 {
				t.Fatalf("%d refreshes, want 1", n)
			}
		})
	}
}

// TestProactiveRefreshWrongClock: a client clock far ahead of the server's
// costs one refresh, not one per call.
func TestProactiveRefreshWrongClock(t *testing.T) {
	ctx := context.Background()
	ts, c, _ := signedIn(t, "quinn", "Quinn Laptop", false)
	c.now = func() time.Time { return time.Now().Add(24 * time.Hour) }
	for range 3 {
		if _, err := c.Me(ctx); err != nil {
			t.Fatalf("Me: %v", err)
		}
	}
	if n := ts.count("POST /v1/token/refresh"); n != 1 {
		t.Fatalf("%d refreshes for 3 calls, want 1", n)
	}
	// Expiry on the server is still handled.
	ts.clock.Advance(16 * time.Minute)
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("Me after expiry: %v", err)
	}
	if n := ts.count("POST /v1/token/refresh"); n != 2 {
		t.Fatalf("%d refreshes, want 2", n)
	}
}
