package server_test

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/ratelimit"
	"sessionguard/server/servertest"
	"sessionguard/server/store/postgres"
	"sessionguard/server/store/postgres/pgtest"
)

// The attacks of "the stolen-phone moment" (issue 11), each tried over
// HTTP against the real server the way a thief holding one stolen token or
// one unlocked phone would, on both stores where they touch storage.

// newPostgresEnv is newEnv on a fresh PostgreSQL database.
func newPostgresEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, logs: &syncBuffer{},
		clock: servertest.NewClock(time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC))}
	logger := func(c *server.Config) {
		c.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.b = servertest.StartStore(t, st, e.clock, append([]option{logger}, opts...)...)
	e.srv, e.http = e.b.Server, e.b.HTTP
	e.client = e.http.Client()
	t.Cleanup(e.stop)
	return e
}

// stores are the two kinds of database a test of storage runs on.
var stores = []struct {
	name string
	env  envMaker
}{
	{"sqlite", newEnv},
	{"postgres", newPostgresEnv},
}

// onBothStores runs fn once on each store.
func onBothStores(t *testing.T, fn func(t *testing.T, newEnv envMaker)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { fn(t, st.env) })
	}
}

// trustLoopback believes X-Forwarded-For from the test client, so a test
// can sign in "from" any address.
func trustLoopback(c *server.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
}

// installKey is a test install's secret key.
func installKey(name string) string { return "ik-" + name + "-" + strings.Repeat("k", 40) }

// signIn tries a password sign-in as install key (empty: none) from the
// address from (empty: loopback).
func (e *env) signIn(username, password, deviceName, key, from string) reply {
	e.t.Helper()
	var hdr []string
	if from != "" {
		hdr = []string{"X-Forwarded-For", from}
	}
	return e.do("POST", "/v1/login", "", api.LoginRequest{Username: username, Password: password,
		Device: device(deviceName), InstallKey: key}, hdr...)
}

// signedIn is signIn that must succeed.
func (e *env) signedIn(username, deviceName, key, from string) api.Login {
	e.t.Helper()
	var l api.Login
	e.signIn(username, testPassword, deviceName, key, from).wantOK(e.t, 200, &l)
	return l
}

func (e *env) reauth(token, password string) reply {
	e.t.Helper()
	return e.do("POST", "/v1/reauth", token, api.ReauthRequest{Password: password})
}

// Two-step takeover: with the phone's token alone, long after its last
// password proof, the thief can no longer turn two-step verification on;
// the owner, proving the password, can, and that ends the saved logins
// made before it.
func TestTwoStepTakeoverNeedsStepUp(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnvSignedUp(t, "ana")
		tablet := e.login("ana", "Tablet", false)
		saved := e.logoutRemember(tablet)
		phone := e.login("ana", "Stolen phone", true)
		owner := e.login("ana", "Owner laptop", false)
		e.clock.Advance(11 * time.Minute)

		e.do("POST", "/v1/mfa/totp/setup", phone.AccessToken, nil).wantError(t, 403, api.CodeReauthRequired)
		e.do("POST", "/v1/mfa/totp/enable", phone.AccessToken, api.TOTPEnableRequest{Code: "123456"}).
			wantError(t, 403, api.CodeReauthRequired)
		var me api.MeResponse
		e.do("GET", "/v1/me", owner.AccessToken, nil).wantOK(t, 200, &me)
		if me.Account.MFAEnabled {
			t.Fatal("two-step verification is on after refused calls")
		}

		e.reauth(owner.AccessToken, testPassword).wantOK(t, 200, nil)
		e.turnOnTOTP(owner.AccessToken)
		e.rememberedLogin(saved, "Tablet").wantError(t, 401, api.CodeInvalidCredentials)
		if d := e.lastAudit(owner.AccessToken, api.AuditMFAEnabled).Detail; !strings.Contains(d, "removed saved login info on 1 device") {
			t.Errorf("mfa.enabled detail %q does not say the saved login was removed", d)
		}
	})
}

// Re-auth guesses count per session: the fifth wrong one in a row ends the
// guessing session (reason reauth_failed, audited, pushed), and the owner's
// other device is untouched.
func TestReauthGuessesEndTheGuessingSession(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnvSignedUp(t, "ana")
		owner := e.login("ana", "Owner laptop", false)
		phone := e.login("ana", "Stolen phone", true)
		events := e.stream(phone.AccessToken)

		for left := 4; left >= 1; left-- {
			d := e.reauth(phone.AccessToken, "guess-"+strconv.Itoa(left)).wantError(t, 401, api.CodeInvalidCredentials)
			if d.Details[api.DetailAttemptsLeft] != float64(left) {
				t.Fatalf("attempts_left = %v, want %d", d.Details[api.DetailAttemptsLeft], left)
			}
		}
		d := e.reauth(phone.AccessToken, "guess-5").wantError(t, 401, api.CodeSessionRevoked)
		if d.Details[api.DetailReason] != api.ReasonReauthFailed {
			t.Fatalf("fifth wrong re-auth: details %v, want reason %s", d.Details, api.ReasonReauthFailed)
		}
		ev := events.nextEvent(t)
		if ev.name != api.EventSessionRevoked || !strings.Contains(ev.data, `"reason":"reauth_failed"`) {
			t.Fatalf("stream got %+v, want session.revoked with reason reauth_failed", ev)
		}
		events.wantClosed(t)
		e.do("GET", "/v1/me", phone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
		e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: phone.RefreshToken}).
			wantError(t, 401, api.CodeSessionRevoked)

		// The owner's device proves itself and closes the phone (already
		// ended: the revoke finds it so) without a 429 or a 403.
		e.reauth(owner.AccessToken, testPassword).wantOK(t, 200, nil)
		e.do("DELETE", "/v1/sessions/"+phone.Session.ID, owner.AccessToken, nil).wantOK(t, 200, nil)
		got := e.lastAudit(owner.AccessToken, api.AuditSessionRevoked)
		if got.TargetSessionID != phone.Session.ID || !strings.Contains(got.Detail, api.ReasonReauthFailed) {
			t.Errorf("audit %+v, want the phone's session ended with %s in the detail", got, api.ReasonReauthFailed)
		}
	})
}

// A right answer clears the count: only wrong answers in a row end a session.
func TestReauthSuccessClearsTheCount(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", false)
	for range 2 {
		for range 4 {
			e.reauth(l.AccessToken, "typo").wantError(t, 401, api.CodeInvalidCredentials)
		}
		e.reauth(l.AccessToken, testPassword).wantOK(t, 200, nil)
	}
	e.do("GET", "/v1/me", l.AccessToken, nil).wantOK(t, 200, nil)
}

// Lock-out as a weapon, as the issue tried it: wrong re-auths with the
// stolen token plus a stream of wrong sign-ins for the username. The owner
// still signs in from the installs they used before, from anywhere, and
// from a new device on another network; the thief's own address is what
// gets locked.
func TestFailedSignInsCannotLockTheOwnerOut(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t, trustLoopback)
		e.signUp("ana")
		owner := e.signedIn("ana", "Owner laptop", installKey("owner"), "198.51.100.7")
		phone := e.signedIn("ana", "Stolen phone", installKey("phone"), "203.0.113.50")
		for range 5 {
			e.reauth(phone.AccessToken, "guess")
		}
		thief := "203.0.113.50"
		locked := false
		for i := range 12 {
			r := e.signIn("ana", "guess-"+strconv.Itoa(i), "Stolen phone", "", thief)
			if r.status == 429 {
				locked = true
				break
			}
			r.wantError(t, 401, api.CodeInvalidCredentials)
		}
		if !locked {
			t.Fatal("twelve wrong sign-ins from one address were never limited")
		}
		// The phone's own install key has a budget of its own: its guesses
		// are limited too, and touch nobody else's.
		for i := range 10 {
			e.signIn("ana", "guess-"+strconv.Itoa(i), "Stolen phone", installKey("phone"), thief).wantError(t, 401, api.CodeInvalidCredentials)
		}
		e.signIn("ana", "guess", "Stolen phone", installKey("phone"), thief).wantError(t, 429, api.CodeRateLimited)

		e.signedIn("ana", "Owner laptop", installKey("owner"), thief)              // the owner's install, even from the thief's address
		e.signedIn("ana", "Owner laptop", installKey("owner"), "198.51.100.7")     // and from home
		e.signedIn("ana", "Library computer", installKey("library"), "192.0.2.10") // a new device elsewhere
		e.reauth(owner.AccessToken, testPassword).wantOK(t, 200, nil)
		e.do("DELETE", "/v1/sessions/"+phone.Session.ID, owner.AccessToken, nil).wantOK(t, 200, nil)
		e.do("GET", "/v1/me", phone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
	})
}

// Over IPv6 a client's whole /64 is one address for the limits.
func TestIPv6IsLimitedPerSlash64(t *testing.T) {
	e := newEnv(t, trustLoopback)
	e.signUp("ana")
	for i := range 10 {
		e.signIn("ana", "guess", "Phone", "", "2001:db8:1:2::"+strconv.FormatInt(int64(i+1), 16)).
			wantError(t, 401, api.CodeInvalidCredentials)
	}
	e.signIn("ana", testPassword, "Phone", "", "2001:db8:1:2:ffff::99").wantError(t, 429, api.CodeRateLimited)
	e.signedIn("ana", "Phone", "", "2001:db8:1:3::1") // the next /64 is someone else
}

// Guesses spread over many addresses meet the account's ceiling, which
// holds back strangers only: an install that signed in before still gets in.
func TestAccountCeilingSparesKnownInstalls(t *testing.T) {
	e := newEnv(t, trustLoopback, func(c *server.Config) {
		c.AccountCeiling = ratelimit.Config{Burst: 5, Window: 15 * time.Minute}
	})
	e.signUp("ana")
	e.signedIn("ana", "Owner laptop", installKey("owner"), "198.51.100.7")
	for i := range 5 {
		e.signIn("ana", "guess", "Bot", "", "203.0.113."+strconv.Itoa(i+1)).wantError(t, 401, api.CodeInvalidCredentials)
	}
	e.signIn("ana", testPassword, "Bot", "", "203.0.113.77").wantError(t, 429, api.CodeRateLimited)
	e.signedIn("ana", "Owner laptop", installKey("owner"), "203.0.113.78")
}

// An install key must look like one.
func TestInstallKeyShape(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	for name, key := range map[string]string{
		"too short":  "short",
		"too long":   strings.Repeat("k", 129),
		"has spaces": strings.Repeat("k", 20) + " " + strings.Repeat("k", 20),
		"not ASCII":  strings.Repeat("k", 30) + "ключ",
	} {
		t.Run(name, func(t *testing.T) {
			d := e.signIn("ana", testPassword, "Laptop", key, "").wantError(t, 400, api.CodeInvalidRequest)
			if d.Details[api.DetailField] != "install_key" {
				t.Fatalf("field %v, want install_key", d.Details[api.DetailField])
			}
		})
	}
}

// A 90-day credential from a 15-minute token: saving login info at log out
// now needs the session's refresh token, and the credential is bound to
// the install key, not the public device id.
func TestRememberAtLogoutNeedsTheRefreshToken(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnvSignedUp(t, "ana")
		key := installKey("laptop")
		l := e.signedIn("ana", "Laptop", key, "")
		other := e.signedIn("ana", "Phone", "", "")

		for name, rt := range map[string]string{"none": "", "another session's": other.RefreshToken, "made up": "sgr_nope"} {
			d := e.do("POST", "/v1/logout", l.AccessToken, api.LogoutRequest{Remember: true, RefreshToken: rt}).
				wantError(t, 400, api.CodeInvalidRequest)
			if d.Details[api.DetailField] != "refresh_token" {
				t.Fatalf("%s refresh token: field %v", name, d.Details[api.DetailField])
			}
		}
		e.do("GET", "/v1/me", l.AccessToken, nil).wantOK(t, 200, nil) // a refused log out changes nothing

		var out api.LogoutResponse
		e.do("POST", "/v1/logout", l.AccessToken, api.LogoutRequest{Remember: true, RefreshToken: l.RefreshToken}).wantOK(t, 200, &out)
		// Bound to the install key: the same public device id without the
		// key is refused, and that spends the credential.
		e.do("POST", "/v1/login/remembered", "", api.RememberedLoginRequest{Credential: out.RememberedCredential,
			Device: device("Laptop")}).wantError(t, 401, api.CodeInvalidCredentials)
		e.do("POST", "/v1/login/remembered", "", api.RememberedLoginRequest{Credential: out.RememberedCredential,
			Device: device("Laptop"), InstallKey: key}).wantError(t, 401, api.CodeInvalidCredentials)

		l = e.signedIn("ana", "Laptop", key, "")
		e.do("POST", "/v1/logout", l.AccessToken, api.LogoutRequest{Remember: true, RefreshToken: l.RefreshToken}).wantOK(t, 200, &out)
		var back api.Login
		e.do("POST", "/v1/login/remembered", "", api.RememberedLoginRequest{Credential: out.RememberedCredential,
			Device: device("Laptop"), InstallKey: key}).wantOK(t, 200, &back)
		if back.AccessToken == "" {
			t.Fatal("the install that saved the login could not use it")
		}
	})
}

// A rotated refresh token, once its grace is over, does not save login
// info either.
func TestRememberAtLogoutRefusesARotatedRefreshToken(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", false)
	var fresh api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: l.RefreshToken}).wantOK(t, 200, &fresh)
	e.clock.Advance(time.Minute)
	e.do("POST", "/v1/logout", fresh.AccessToken, api.LogoutRequest{Remember: true, RefreshToken: l.RefreshToken}).
		wantError(t, 400, api.CodeInvalidRequest)
}

// With no refresh grace (sessiond serve --refresh-grace 0) any second use
// of a refresh token ends the session.
func TestNoRefreshGrace(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.RefreshGrace = -1 })
	e.signUp("ana")
	l := e.login("ana", "Laptop", false)
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: l.RefreshToken}).wantOK(t, 200, nil)
	e.clock.Advance(time.Millisecond)
	d := e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: l.RefreshToken}).wantError(t, 401, api.CodeSessionRevoked)
	if d.Details[api.DetailReason] != api.ReasonRefreshTokenReuse {
		t.Fatalf("details %v", d.Details)
	}
}

// Stream exhaustion: one session holds at most two streams (a third
// replaces the oldest), one account a bounded number (then 429).
func TestEventStreamCaps(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			e := m.env(t, func(c *server.Config) { c.StreamsPerAccount = 3 })
			e.signUp("ana")
			a := e.login("ana", "Phone", false)
			first, second := e.stream(a.AccessToken), e.stream(a.AccessToken)
			third := e.stream(a.AccessToken)
			first.wantClosed(t)
			b := e.login("ana", "Laptop", false) // announces itself to a's streams
			for _, s := range []*stream{second, third} {
				if ev := s.nextEvent(t); ev.name != api.EventSessionCreated {
					t.Fatalf("open stream got %+v", ev)
				}
			}
			e.stream(b.AccessToken)
			c := e.login("ana", "Tablet", false)
			r := e.do("GET", "/v1/events", c.AccessToken, nil)
			r.wantError(t, 429, api.CodeRateLimited)
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}
}

// A stream ends when its session does, even with nobody revoking it.
func TestStreamEndsWhenItsSessionExpires(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			e := m.env(t, func(c *server.Config) { c.SessionTTL = time.Hour; c.KeepAlive = 20 * time.Millisecond })
			e.signUp("ana")
			l := e.login("ana", "Laptop", false)
			s := e.stream(l.AccessToken)
			e.clock.Advance(59 * time.Minute)
			s.wantOpenFor(t, 200*time.Millisecond)
			e.clock.Advance(2 * time.Minute)
			s.wantClosedSkippingComments(t)
			e.do("GET", "/v1/events", l.AccessToken, nil).wantError(t, 401, api.CodeSessionExpired)
		})
	}
}

// wantOpenFor checks the stream stays open (keep-alives only) for d.
func (s *stream) wantOpenFor(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case it, ok := <-s.items:
			if !ok {
				t.Fatal("stream closed too early")
			}
			if it.name != "" {
				t.Fatalf("unexpected event %+v", it)
			}
		case <-deadline:
			return
		}
	}
}

// wantClosedSkippingComments waits for the stream to end, reading past
// keep-alive comments.
func (s *stream) wantClosedSkippingComments(t testing.TB) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case it, ok := <-s.items:
			if !ok {
				return
			}
			if it.name != "" {
				t.Fatalf("unexpected event %+v", it)
			}
		case <-deadline:
			t.Fatal("stream did not close")
		}
	}
}

// Names that would let a login alert pose as another device are refused.
func TestDeviceNamesRefuseInvisibleCharacters(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	tests := []struct {
		name, device string
		ok           bool
	}{
		{"plain", "Ana's Pixel 8", true},
		{"accents and symbols", "Café Zürich ✓", true},
		{"right-to-left override", "Pixel \u202e8 lexiP", false},
		{"bidi isolate", "Pixel\u2066 8", false},
		{"zero-width space", "Pix\u200bel 8", false},
		{"zero-width joiner", "Pixel\u200d8", false},
		{"tag characters", "Pixel\U000E0041\U000E0042", false},
		{"byte order mark", "\ufeffPixel", false},
		{"line separator", "Pixel\u2028was this you?", false},
		{"paragraph separator", "Pixel\u2029 8", false},
		{"control", "Pixel\a8", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dev := device("x")
			dev.Name = tc.device
			r := e.do("POST", "/v1/login", "", api.LoginRequest{Username: "ana", Password: testPassword, Device: dev})
			if tc.ok {
				r.wantOK(t, 200, nil)
				return
			}
			if d := r.wantError(t, 400, api.CodeInvalidRequest); d.Details[api.DetailField] != "device.name" {
				t.Fatalf("field %v", d.Details[api.DetailField])
			}
		})
	}
}

// Request bodies must say they are JSON; every answer says not to sniff.
func TestRequestBodiesMustBeJSON(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	body := `{"username":"ana","password":"` + testPassword + `","device":{"id":"d1","name":"Laptop"}}`
	tests := []struct {
		contentType string
		status      int
	}{
		{"", 415},
		{"text/plain", 415},
		{"application/x-www-form-urlencoded", 415},
		{"application/jsonx", 415},
		{"application/json", 200},
		{"application/json; charset=utf-8", 200},
		{"Application/JSON", 200},
	}
	for _, tc := range tests {
		t.Run(tc.contentType, func(t *testing.T) {
			r := e.do("POST", "/v1/login", "", body, "Content-Type", tc.contentType)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			if tc.status == 415 {
				r.wantError(t, 415, api.CodeUnsupportedMedia)
			}
			if r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}
	// A call whose body is optional needs no Content-Type when it has none.
	l := e.login("ana", "Laptop", false)
	e.do("POST", "/v1/logout", l.AccessToken, nil, "Content-Type", "").wantOK(t, 200, nil)
}

// Sign-up: a name that is taken is answered before any hashing, and every
// address (IPv6: /64) gets a few sign-ups an hour.
func TestSignUpIsLimitedPerAddress(t *testing.T) {
	e := newEnv(t, trustLoopback, func(c *server.Config) { c.Signups = ratelimit.Config{Burst: 3, Window: time.Hour} })
	signUp := func(name, from string) reply {
		return e.do("POST", "/v1/accounts", "", api.CreateAccountRequest{Username: name, Password: testPassword},
			"X-Forwarded-For", from)
	}
	signUp("ana", "203.0.113.9").wantOK(t, 201, nil)
	signUp("ana", "203.0.113.9").wantError(t, 409, api.CodeUsernameTaken)
	signUp("bob", "203.0.113.9").wantOK(t, 201, nil)
	signUp("cid", "203.0.113.9").wantError(t, 429, api.CodeRateLimited)
	signUp("cid", "198.51.100.1").wantOK(t, 201, nil)
	for i := range 3 {
		signUp("v6-"+strconv.Itoa(i), "2001:db8:7::"+strconv.Itoa(i+1)).wantOK(t, 201, nil)
	}
	signUp("v6-x", "2001:db8:7::ff").wantError(t, 429, api.CodeRateLimited)
	e.clock.Advance(time.Hour)
	signUp("cid2", "203.0.113.9").wantOK(t, 201, nil)
}

// Operator commands act on a running server at once: a second Server on
// the same database stands in for `sessiond user …`, and the devices hear
// of it through the outbox.
func TestOperatorCommandsReachRunningServers(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t, func(c *server.Config) { c.OutboxPoll = 20 * time.Millisecond })
		stop := e.srv.StartBackground()
		defer stop()
		e.signUp("ana")
		phone := e.login("ana", "Stolen phone", true)
		events := e.stream(phone.AccessToken)
		admin := server.New(e.b.DB, servertest.Config(e.clock))
		ctx := context.Background()

		e.turnOnTOTP(phone.AccessToken) // the thief's doing, say
		if on, err := admin.AdminResetMFA(ctx, "ANA"); err != nil || !on {
			t.Fatalf("reset-mfa: %v, %v", on, err)
		}
		if ev := events.nextEvent(t); ev.name != api.EventSessionsChanged {
			t.Fatalf("after reset-mfa the stream got %+v", ev)
		}
		var l api.Login
		e.do("POST", "/v1/login", "", loginReq("ana", testPassword)).wantOK(t, 200, &l)
		if l.MFARequired {
			t.Fatal("sign-in still asks for a code after reset-mfa")
		}
		for _, want := range []string{api.EventSessionCreated, api.EventSessionsChanged} {
			if ev := events.nextEvent(t); ev.name != want {
				t.Fatalf("got %+v, want %s", ev, want)
			}
		}

		n, err := admin.AdminLogoutAll(ctx, "ana")
		if err != nil || n != 2 {
			t.Fatalf("logout-all: %d, %v; want 2 sessions", n, err)
		}
		ev := events.nextEvent(t)
		if ev.name != api.EventSessionRevoked || !strings.Contains(ev.data, `"reason":"admin"`) ||
			!strings.Contains(ev.data, server.AdminDeviceName) {
			t.Fatalf("got %+v, want session.revoked by the administrator", ev)
		}
		events.wantClosed(t)
		d := e.do("GET", "/v1/me", phone.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
		if d.Details[api.DetailByDeviceName] != server.AdminDeviceName {
			t.Errorf("details %v", d.Details)
		}

		const newPass = "amber-falcon-meadow-42"
		l = e.login("ana", "Owner laptop", false)
		if _, err := admin.AdminSetPassword(ctx, "ana", "password", false); err == nil {
			t.Fatal("set-password took a weak password")
		}
		if n, err := admin.AdminSetPassword(ctx, "ana", newPass, false); err != nil || n != 1 {
			t.Fatalf("set-password: %d, %v", n, err)
		}
		e.do("GET", "/v1/me", l.AccessToken, nil).wantError(t, 401, api.CodeSessionRevoked)
		e.loginWith("ana", testPassword, "Owner laptop").wantError(t, 401, api.CodeInvalidCredentials)
		var back api.Login
		e.loginWith("ana", newPass, "Owner laptop").wantOK(t, 200, &back)
		types := e.auditTypes(back.AccessToken)
		for _, want := range []string{api.AuditAdminResetMFA, api.AuditAdminLogoutAll, api.AuditAdminSetPassword} {
			if !contains(types, want) {
				t.Errorf("audit lacks %s: %v", want, types)
			}
		}
		if _, err := admin.AdminLogoutAll(ctx, "nobody"); err == nil || !strings.Contains(err.Error(), "no such account") {
			t.Errorf("unknown user: %v", err)
		}
	})
}

// Retention: ended sessions and spent refresh tokens older than the
// retention period are deleted; what is live is kept and keeps working.
func TestSweepDeletesWhatRetentionNoLongerKeeps(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t, func(c *server.Config) { c.Retention = 24 * time.Hour })
		e.signUp("ana")
		gone := e.login("ana", "Old phone", false)
		live := e.login("ana", "Laptop", true)
		e.reauth(live.AccessToken, testPassword).wantOK(t, 200, nil)
		e.do("DELETE", "/v1/sessions/"+gone.Session.ID, live.AccessToken, nil).wantOK(t, 200, nil)
		tok := live.RefreshToken
		for range 3 { // three rotations: three spent refresh tokens
			var next api.Tokens
			e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: tok}).wantOK(t, 200, &next)
			tok = next.RefreshToken
		}
		if n, err := e.srv.Sweep(context.Background()); err != nil || n.Sessions != 0 || n.RefreshTokens != 0 {
			t.Fatalf("a sweep within the retention deleted %+v (%v)", n, err)
		}
		e.clock.Advance(25 * time.Hour)
		n, err := e.srv.Sweep(context.Background())
		if err != nil || n.Sessions != 1 || n.RefreshTokens != 3 {
			t.Fatalf("sweep deleted %+v (%v), want the ended session and 3 spent refresh tokens", n, err)
		}
		if got := e.metric(`sessiond_retention_deleted_total{kind="refresh_tokens"}`); got != 3 {
			t.Errorf("metric refresh_tokens = %v", got)
		}
		var fresh api.Tokens
		e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: tok}).wantOK(t, 200, &fresh)
		if got := e.sessions(fresh.AccessToken, "").Sessions; len(got) != 1 || got[0].ID != live.Session.ID {
			t.Fatalf("sessions after the sweep: %+v", got)
		}
		// The log is evidence: never swept.
		if types := e.auditTypes(fresh.AccessToken); !contains(types, api.AuditSessionRevoked) {
			t.Errorf("audit lost the revocation: %v", types)
		}
	})
}
