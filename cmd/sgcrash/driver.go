package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"sessionguard/api"
)

// answer is a fully read HTTP answer.
type answer struct {
	status  int
	body    []byte
	code    string // "ok" for 2xx, else the error code (or "status N")
	details map[string]any
}

func (a answer) ok() bool { return a.code == "ok" }

// revocation reads the details of a session_revoked answer (nil otherwise).
func (a answer) revocation() *revocation {
	if a.code != api.CodeSessionRevoked {
		return nil
	}
	reason, _ := a.details[api.DetailReason].(string)
	by, _ := a.details[api.DetailByDeviceName].(string)
	return &revocation{Reason: reason, ByDevice: by}
}

// driver sends the tool's requests to the current sessiond and keeps the
// ledger. Between rounds (no worker running) url and hc change.
type driver struct {
	l        *ledger
	url      string
	hc       *http.Client
	inflight atomic.Int64
	// stopping is set just before a kill: workers send nothing more, and
	// a request that fails without it set is itself a violation.
	stopping atomic.Bool

	// revokeSent gets a token (without blocking) each time a revoke
	// request leaves, for kills aimed at a revoke.
	revokeSent chan struct{}

	mu      sync.Mutex
	pending []retry // revokes cut by a kill, retried after the restart
	unacked map[string]int
}

// retry is a revoke that was in flight at a kill, to be sent again after
// the restart as a client would (or not: some clients give up).
type retry struct {
	kind           string // kindRevoke, kindLogout or kindOthers
	caller, target *session
	remember       bool // a log out that saves the login
}

const password = "sgcrash-violet-harbor-lantern"

// do sends one request and reads the whole answer. sent and ack are the
// ledger sequence numbers taken before sending and after the answer.
func (d *driver) do(ctx context.Context, method, path, token string, body any) (a answer, sent, ack int64, err error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return answer{}, 0, 0, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.url+path, rd)
	if err != nil {
		return answer{}, 0, 0, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	d.inflight.Add(1)
	defer d.inflight.Add(-1)
	sent = d.l.next()
	if method == "DELETE" || path == "/v1/logout" {
		select {
		case d.revokeSent <- struct{}{}:
		default:
		}
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return answer{}, sent, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, sent, 0, err
	}
	ack = d.l.next()
	a = answer{status: resp.StatusCode, body: b}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		a.code = "ok"
		return a, sent, ack, nil
	}
	var eb api.ErrorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
		a.code, a.details = eb.Error.Code, eb.Error.Details
	} else {
		a.code = fmt.Sprintf("status %d", resp.StatusCode)
	}
	return a, sent, ack, nil
}

// failed handles a request that got no answer: expected once a kill is
// under way (the request stays unacknowledged), a violation otherwise.
func (d *driver) failed(what string, err error) {
	if !d.stopping.Load() {
		d.l.violate("%s failed with no kill under way: %v", what, err)
		return
	}
	d.mu.Lock()
	d.unacked[what]++
	d.mu.Unlock()
}

func (d *driver) unexpected(what string, a answer) {
	d.l.violate("%s answered %s: %s", what, a.code, bytes.TrimSpace(a.body))
}

// createAccount signs an account up (open registration).
func (d *driver) createAccount(ctx context.Context, username string) error {
	a, _, _, err := d.do(ctx, "POST", "/v1/accounts", "", api.CreateAccountRequest{Username: username, Password: password})
	if err != nil {
		return err
	}
	if a.status != http.StatusCreated {
		return fmt.Errorf("creating account %s: %s: %s", username, a.code, a.body)
	}
	return nil
}

// signIn signs in a new device of account; it reports whether the server
// acknowledged it.
func (d *driver) signIn(ctx context.Context, account string) (*session, bool) {
	return d.signInDevice(ctx, account, d.l.newDevice(account), nil)
}

// signInAgain signs in, with the password, a device of account that saved
// its login and has no live session (a new device if there is none), so
// that the device has a session and a saved login at once.
func (d *driver) signInAgain(ctx context.Context, account string, rng *rand.Rand) (*session, bool) {
	id, saved := d.l.savedDevice(account, rng.IntN)
	if id == "" {
		return d.signIn(ctx, account)
	}
	dev := d.l.newDevice(account) // a new name: names identify sessions
	dev.ID = id
	s, ok := d.signInDevice(ctx, account, dev, saved)
	if ok {
		d.l.count(kindResign)
	}
	return s, ok
}

// signInDevice signs dev in to account; saved are the device's saved
// logins acknowledged before.
func (d *driver) signInDevice(ctx context.Context, account string, dev api.Device, saved []*savedLogin) (*session, bool) {
	a, _, ack, err := d.do(ctx, "POST", "/v1/login", "", api.LoginRequest{Username: account, Password: password, Device: dev})
	if err != nil {
		d.failed("sign-in", err)
		return nil, false
	}
	if !a.ok() {
		d.unexpected("sign-in of "+account, a)
		return nil, false
	}
	var lg api.Login
	if err := json.Unmarshal(a.body, &lg); err != nil || lg.Session == nil || lg.AccessToken == "" {
		d.l.violate("sign-in of %s: incomplete answer %s", account, a.body)
		return nil, false
	}
	return d.l.signedIn(account, dev, saved, lg, ack), true
}

// sawRevoked records a session_revoked answer about s.
func (d *driver) sawRevoked(s *session, a answer, ack int64, what string) {
	d.l.revoked(s, ack, what+" answered session_revoked", a.revocation())
}

// refresh refreshes s (claimed by the caller) with its latest refresh token.
func (d *driver) refresh(ctx context.Context, s *session) bool {
	a, sent, ack, err := d.do(ctx, "POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: s.latest().RefreshToken})
	switch {
	case err != nil:
		d.l.mu.Lock()
		s.UnackedRefresh = true
		d.l.mu.Unlock()
		d.failed("refresh", err)
	case a.ok():
		var t api.Tokens
		if err := json.Unmarshal(a.body, &t); err != nil || t.AccessToken == "" {
			d.l.violate("refresh of %s: incomplete answer %s", s.ID, a.body)
			return false
		}
		d.l.refreshed(s, sent, t)
		return true
	case a.code == api.CodeSessionRevoked:
		d.sawRevoked(s, a, ack, "a refresh")
	default:
		// invalid_token would mean an acknowledged refresh token is lost.
		d.unexpected("refresh of "+s.ID+" with its latest acknowledged refresh token", a)
	}
	return false
}

// read calls GET /v1/me with s's latest access token.
func (d *driver) read(ctx context.Context, s *session) bool {
	a, sent, ack, err := d.do(ctx, "GET", "/v1/me", s.latest().AccessToken, nil)
	switch {
	case err != nil:
		d.failed("read", err)
	case a.ok():
		d.l.accepted(s, sent, "an access token")
		d.l.count(kindRead)
		return true
	case a.code == api.CodeSessionRevoked:
		d.sawRevoked(s, a, ack, "a read")
	default:
		d.unexpected("GET /v1/me of "+s.ID+" with its latest acknowledged access token", a)
	}
	return false
}

// revokeRemote logs target out from caller (claimed).
func (d *driver) revokeRemote(ctx context.Context, caller, target *session) bool {
	a, sent, ack, err := d.do(ctx, "DELETE", "/v1/sessions/"+target.ID, caller.latest().AccessToken, nil)
	switch {
	case err != nil:
		d.addRetry(retry{kind: kindRevoke, caller: caller, target: target})
		d.failed("remote log out", err)
	case a.ok():
		var out api.RevokeSessionResponse
		if err := json.Unmarshal(a.body, &out); err != nil || out.Session.RevokedAt == nil {
			d.l.violate("remote log out of %s: answer shows no revoke: %s", target.ID, a.body)
			return false
		}
		d.l.remoteRevoked(caller, target, sent, ack)
		return true
	case a.code == api.CodeSessionRevoked:
		d.sawRevoked(caller, a, ack, "a remote log out")
	default:
		d.unexpected("remote log out of "+target.ID+" by "+caller.ID, a)
	}
	return false
}

// logout logs s (claimed) out, saving the device's login if remember.
func (d *driver) logout(ctx context.Context, s *session, remember bool) bool {
	req := api.LogoutRequest{Remember: remember}
	if remember {
		// Saving the login needs the session's refresh token.
		req.RefreshToken = s.latest().RefreshToken
	}
	a, sent, ack, err := d.do(ctx, "POST", "/v1/logout", s.latest().AccessToken, req)
	switch {
	case err != nil:
		d.addRetry(retry{kind: kindLogout, caller: s, remember: remember})
		d.failed("log out", err)
	case a.ok():
		var out api.LogoutResponse
		if err := json.Unmarshal(a.body, &out); err != nil || remember != (out.RememberedCredential != "") {
			d.l.violate("log out of %s (saving the login: %t): answer %s", s.ID, remember, a.body)
		}
		d.l.loggedOut(s, sent, ack, out.RememberedCredential)
		return true
	case a.code == api.CodeSessionRevoked:
		d.sawRevoked(s, a, ack, "a log out")
	case remember && a.code == api.CodeInvalidRequest && a.details[api.DetailField] == "refresh_token" && s.UnackedRefresh:
		// A refresh cut by a kill may have rotated the token this tool
		// holds: the server refuses to save the login and ends nothing.
	default:
		d.unexpected("log out of "+s.ID, a)
	}
	return false
}

// revokeOthers logs every other device of caller's account out.
func (d *driver) revokeOthers(ctx context.Context, caller *session) bool {
	a, sent, ack, err := d.do(ctx, "DELETE", "/v1/sessions?scope=others", caller.latest().AccessToken, nil)
	switch {
	case err != nil:
		d.addRetry(retry{kind: kindOthers, caller: caller})
		d.failed("log out of all others", err)
	case a.ok():
		d.l.othersRevoked(caller, sent, ack)
		return true
	case a.code == api.CodeSessionRevoked:
		d.sawRevoked(caller, a, ack, "a log out of all others")
	default:
		d.unexpected("log out of all others by "+caller.ID, a)
	}
	return false
}

func (d *driver) addRetry(r retry) {
	d.mu.Lock()
	d.pending = append(d.pending, r)
	d.mu.Unlock()
}

// retryPending sends about half the revokes cut by the kill again, as a
// client that got no answer would; the others are abandoned, as by a
// client that gave up, so that whatever a cut request left behind stays
// as it is. It returns how many it sent and how many it abandoned.
func (d *driver) retryPending(ctx context.Context, rng *rand.Rand) (retried, abandoned int) {
	d.mu.Lock()
	pending := d.pending
	d.pending = nil
	d.mu.Unlock()
	for _, r := range pending {
		if rng.IntN(2) == 0 {
			abandoned++
			continue
		}
		retried++
		switch r.kind {
		case kindRevoke:
			d.revokeRemote(ctx, r.caller, r.target)
		case kindLogout:
			d.logout(ctx, r.caller, r.remember)
		case kindOthers:
			d.revokeOthers(ctx, r.caller)
		}
	}
	return retried, abandoned
}

// checkSaved presents every saved login still the latest of its device
// (once: a saved login is single use), after the last restart: one that
// an action the tool saw take effect removed (see mustBeForgotten) must
// be refused; another may work or, if a request cut by a kill removed it,
// be refused. It returns how many were refused as they must be, how many
// worked and how many were refused otherwise. restart restarts sessiond,
// whose per-IP limit on failed sign-ins the refusals may reach.
func (d *driver) checkSaved(ctx context.Context, restart func() error) (gone, working, refused int, err error) {
	d.l.mu.Lock()
	saved := slices.Clone(d.l.saved)
	d.l.mu.Unlock()
	for _, sv := range saved {
		if sv.Superseded {
			continue
		}
		why := d.l.mustBeForgotten(sv)
		dev := d.l.newDevice(sv.Account)
		dev.ID = sv.DeviceID
		req := api.RememberedLoginRequest{Credential: sv.Credential, Device: dev}
		a, _, _, err := d.do(ctx, "POST", "/v1/login/remembered", "", req)
		if err == nil && a.code == api.CodeRateLimited {
			if err := restart(); err != nil {
				return gone, working, refused, err
			}
			a, _, _, err = d.do(ctx, "POST", "/v1/login/remembered", "", req)
		}
		if err != nil {
			return gone, working, refused, fmt.Errorf("checking saved logins: %w", err)
		}
		switch {
		case a.ok() && why != "":
			d.l.violate("the saved login of device %s (%s) still works although %s", sv.DeviceID, sv.Account, why)
		case a.ok():
			working++
			d.l.pass(1)
		case a.code == api.CodeInvalidCredentials && why != "":
			gone++
			d.l.pass(1)
		case a.code == api.CodeInvalidCredentials:
			refused++
		default:
			d.unexpected("sign-in with the saved login of device "+sv.DeviceID, a)
		}
	}
	return gone, working, refused, nil
}

// maxLive bounds the live sessions per account the workers keep.
const maxLive = 10

// step performs one random action for account and reports whether it was
// acknowledged.
func (d *driver) step(ctx context.Context, rng *rand.Rand, account string) bool {
	live := d.l.live(account)
	x := rng.Float64()
	if live < 2 || (x < 0.25 && live < maxLive) {
		if rng.IntN(3) == 0 {
			_, ok := d.signInAgain(ctx, account, rng)
			return ok
		}
		_, ok := d.signIn(ctx, account)
		return ok
	}
	s := d.l.claim(account, rng.IntN, nil)
	if s == nil {
		_, ok := d.signIn(ctx, account)
		return ok
	}
	defer d.l.release(s)
	switch {
	case x < 0.60:
		return d.refresh(ctx, s)
	case x < 0.68:
		return d.read(ctx, s)
	case x < 0.84:
		t := d.l.target(account, s, rng.IntN)
		if t == nil {
			return d.read(ctx, s)
		}
		return d.revokeRemote(ctx, s, t)
	case x < 0.95:
		return d.logout(ctx, s, rng.IntN(2) == 0)
	default:
		return d.revokeOthers(ctx, s)
	}
}
