package server_test

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
)

// Approving new sign-ins and linking a device with a code (issue 17),
// over HTTP.

const (
	keyLaptop = "install-key-laptop-0123456789abcdefghij"
	keyTablet = "install-key-tablet-0123456789abcdefghij"
)

func shortPoll(c *server.Config) { c.ApprovalPollWait = 300 * time.Millisecond }

// approvalEnv: ana signed in on her phone, approving new devices.
func approvalEnv(t *testing.T, opts ...option) (*env, api.Login) {
	t.Helper()
	e := newEnv(t, opts...)
	e.signUp("ana")
	phone := e.login("ana", "Pixel 8", false)
	e.putSettings(phone.AccessToken, api.Settings{ApproveNewDevices: true}).wantOK(t, 200, nil)
	return e, phone
}

// askLogin signs in with a password from an install and returns the
// answer (approval or session).
func (e *env) askLogin(deviceName, installKey string, remember bool) api.Login {
	e.t.Helper()
	var l api.Login
	e.do("POST", "/v1/login", "", api.LoginRequest{Username: "ana", Password: testPassword, Remember: remember,
		Device: device(deviceName), InstallKey: installKey}).wantOK(e.t, 200, &l)
	return l
}

func (e *env) pollApproval(tok, key string) reply {
	return e.do("POST", "/v1/login/approval", "", api.ApprovalPollRequest{ApprovalToken: tok, InstallKey: key})
}

func (e *env) decide(access, id string, approve bool, number int) reply {
	return e.do("POST", "/v1/login/approvals/"+id, access, api.ApprovalDecision{Approve: approve, Number: number})
}

func wantApproval(t *testing.T, l api.Login) {
	t.Helper()
	if !l.ApprovalRequired || l.ApprovalToken == "" || l.Approval == nil || l.AccessToken != "" || l.Session != nil {
		t.Fatalf("want an approval request, got %+v", l)
	}
	if l.Approval.Number < 10 || l.Approval.Number > 99 || l.Approval.ID == "" {
		t.Fatalf("approval = %+v", l.Approval)
	}
}

func TestApprovalApprovedWakesThePollAtOnce(t *testing.T) {
	e, phone := approvalEnv(t)
	l := e.askLogin("Ana's Laptop", keyLaptop, true)
	wantApproval(t, l)
	if got := l.Approval.ExpiresAt.Sub(e.clock.Now()); got != api.ApprovalLifetime {
		t.Fatalf("expires in %v", got)
	}
	var (
		wg      sync.WaitGroup
		r       reply
		elapsed time.Duration
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		r = e.pollApproval(l.ApprovalToken, keyLaptop)
		elapsed = time.Since(start)
	}()
	time.Sleep(200 * time.Millisecond) // the poll is waiting
	decided := time.Now()
	e.decide(phone.AccessToken, l.Approval.ID, true, l.Approval.Number).wantOK(t, 204, nil)
	wg.Wait()
	var got api.Login
	r.wantOK(t, 200, &got)
	if got.AccessToken == "" || got.Session == nil || !got.Session.Remember || got.Session.Device.Name != "Ana's Laptop" {
		t.Fatalf("login = %+v", got)
	}
	if lag := time.Since(decided); lag > time.Second || elapsed > 5*time.Second {
		t.Fatalf("poll answered %v after the decision", lag)
	}
	e.use(got)
	// Single use.
	e.pollApproval(l.ApprovalToken, keyLaptop).wantError(t, 410, api.CodeExpired)
	e.decide(phone.AccessToken, l.Approval.ID, true, l.Approval.Number).wantError(t, 410, api.CodeExpired)
	// The install now signed in before: not asked again.
	again := e.askLogin("Ana's Laptop", keyLaptop, false)
	if again.ApprovalRequired || again.AccessToken == "" {
		t.Fatalf("known install asked again: %+v", again)
	}
	types := e.auditTypes(phone.AccessToken)
	for _, want := range []string{api.AuditApprovalRequested, api.AuditApprovalApproved, api.AuditLoginSucceeded} {
		if !contains(types, want) {
			t.Fatalf("audit %v lacks %s", types, want)
		}
	}
	ev := e.auditsOf(phone.AccessToken, api.AuditApprovalApproved, "")
	if len(ev) == 0 || ev[0].DeviceName != "Ana's Laptop" || !strings.Contains(ev[0].Detail, "Pixel 8") {
		t.Fatalf("approved event = %+v", ev)
	}
}

func TestApprovalWrongNumberDenies(t *testing.T) {
	e, phone := approvalEnv(t, shortPoll)
	l := e.askLogin("Stranger", keyTablet, false)
	wantApproval(t, l)
	e.pollApproval(l.ApprovalToken, keyTablet).wantOK(t, 202, nil)
	wrong := l.Approval.Number + 1
	if wrong > 99 {
		wrong = 10
	}
	e.decide(phone.AccessToken, l.Approval.ID, true, wrong).wantOK(t, 204, nil)
	e.pollApproval(l.ApprovalToken, keyTablet).wantError(t, 403, api.CodeLoginDenied)
	// Answered already: the second answer loses.
	e.decide(phone.AccessToken, l.Approval.ID, true, l.Approval.Number).wantError(t, 410, api.CodeExpired)
	ev := e.auditsOf(phone.AccessToken, api.AuditApprovalDenied, "")
	if len(ev) != 1 || !strings.Contains(ev[0].Detail, "Wrong number") {
		t.Fatalf("denied events = %+v", ev)
	}
}

func TestApprovalDenyAndOtherAccountAndExpiry(t *testing.T) {
	e, phone := approvalEnv(t, shortPoll)
	e.signUp("bob")
	bob := e.login("bob", "Bob's Phone", false)
	l := e.askLogin("Stranger", keyTablet, false)
	wantApproval(t, l)
	e.decide(bob.AccessToken, l.Approval.ID, true, l.Approval.Number).wantError(t, 404, api.CodeNotFound)
	e.decide("", l.Approval.ID, true, l.Approval.Number).wantError(t, 401, api.CodeInvalidToken)
	e.decide(phone.AccessToken, l.Approval.ID, false, 0).wantOK(t, 204, nil)
	e.pollApproval(l.ApprovalToken, keyTablet).wantError(t, 403, api.CodeLoginDenied)
	// Another install key cannot poll it.
	e.pollApproval(l.ApprovalToken, keyLaptop).wantError(t, 410, api.CodeExpired)
	e.pollApproval("sgp_unknown", "").wantError(t, 410, api.CodeExpired)

	// Expiry with the fake clock.
	l2 := e.askLogin("Stranger", keyTablet, false)
	wantApproval(t, l2)
	e.clock.Advance(api.ApprovalLifetime + time.Second)
	e.pollApproval(l2.ApprovalToken, keyTablet).wantError(t, 410, api.CodeExpired)
	e.decide(phone.AccessToken, l2.Approval.ID, true, l2.Approval.Number).wantError(t, 410, api.CodeExpired)
}

func TestApprovalNotAskedWithoutSettingOrSessions(t *testing.T) {
	e := newEnv(t)
	e.signUp("ana")
	laptop := e.askLogin("Laptop", keyLaptop, false)
	if laptop.ApprovalRequired {
		t.Fatal("asked with the setting off")
	}
	e.putSettings(laptop.AccessToken, api.Settings{ApproveNewDevices: true}).wantOK(t, 200, nil)
	// No live session: nobody could approve, so nobody is asked (the
	// account is as it was before the setting).
	e.do("POST", "/v1/logout", laptop.AccessToken, nil).wantOK(t, 200, nil)
	if l := e.askLogin("Tablet", keyTablet, false); l.ApprovalRequired || l.AccessToken == "" {
		t.Fatalf("asked with no live session: %+v", l)
	}
}

func TestRecoveryCodeSkipsApproval(t *testing.T) {
	e, phone := approvalEnv(t, shortPoll)
	secret, recovery := e.turnOnTOTP(phone.AccessToken)
	// Password, then the TOTP code, then approval.
	var first api.Login
	e.do("POST", "/v1/login", "", api.LoginRequest{Username: "ana", Password: testPassword,
		Device: device("New Laptop"), InstallKey: keyLaptop}).wantOK(t, 200, &first)
	if !first.MFARequired {
		t.Fatalf("want mfa first: %+v", first)
	}
	var l api.Login
	e.do("POST", "/v1/login/mfa", "", api.MFALoginRequest{MFAToken: first.MFAToken, Code: e.code(secret, 0),
		InstallKey: keyLaptop}).wantOK(t, 200, &l)
	wantApproval(t, l)
	// A TOTP code does not skip it.
	e.do("POST", "/v1/login/mfa", "", api.MFALoginRequest{MFAToken: l.ApprovalToken, Code: e.code(secret, 30*time.Second),
		InstallKey: keyLaptop}).wantError(t, 401, api.CodeInvalidCredentials)
	var got api.Login
	e.do("POST", "/v1/login/mfa", "", api.MFALoginRequest{MFAToken: l.ApprovalToken, Code: recovery[0],
		InstallKey: keyLaptop}).wantOK(t, 200, &got)
	if got.AccessToken == "" {
		t.Fatalf("login = %+v", got)
	}
	e.pollApproval(l.ApprovalToken, keyLaptop).wantError(t, 410, api.CodeExpired)
	e.decide(phone.AccessToken, l.Approval.ID, true, l.Approval.Number).wantError(t, 410, api.CodeExpired)
}

func TestLinkWithACode(t *testing.T) {
	e, phone := approvalEnv(t, shortPoll)
	var ls api.LinkStart
	e.do("POST", "/v1/link/start", "", api.LinkStartRequest{Device: device("Library PC"), Remember: false}).wantOK(t, 200, &ls)
	if len(ls.UserCode) != 9 || ls.UserCode[4] != '-' || strings.ContainsAny(ls.UserCode, "01OI") || ls.LinkToken == "" {
		t.Fatalf("start = %+v", ls)
	}
	if got := ls.ExpiresAt.Sub(e.clock.Now()); got != api.LinkLifetime {
		t.Fatalf("expires in %v", got)
	}
	e.do("POST", "/v1/link/poll", "", api.LinkPollRequest{LinkToken: ls.LinkToken}).wantOK(t, 202, nil)
	var p api.LinkPreview
	typed := strings.ToLower(strings.ReplaceAll(ls.UserCode, "-", ""))
	e.do("POST", "/v1/link/approve", phone.AccessToken, api.LinkApproveRequest{UserCode: typed, Check: true}).wantOK(t, 200, &p)
	if p.Device.Name != "Library PC" || p.IP == "" {
		t.Fatalf("preview = %+v", p)
	}
	// Step-up.
	e.clock.Advance(11 * time.Minute)
	ls2 := ls
	e.do("POST", "/v1/link/approve", phone.AccessToken, api.LinkApproveRequest{UserCode: ls.UserCode}).wantError(t, 403, api.CodeReauthRequired)
	e.do("POST", "/v1/reauth", phone.AccessToken, api.ReauthRequest{Password: testPassword}).wantOK(t, 200, nil)
	// The code lived 10 minutes: expired now. Start again.
	e.do("POST", "/v1/link/approve", phone.AccessToken, api.LinkApproveRequest{UserCode: ls2.UserCode}).wantError(t, 410, api.CodeExpired)
	e.do("POST", "/v1/link/poll", "", api.LinkPollRequest{LinkToken: ls2.LinkToken}).wantError(t, 410, api.CodeExpired)
	e.do("POST", "/v1/link/start", "", api.LinkStartRequest{Device: device("Library PC"), Remember: true}).wantOK(t, 200, &ls)

	var (
		wg sync.WaitGroup
		r  reply
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		r = e.do("POST", "/v1/link/poll", "", api.LinkPollRequest{LinkToken: ls.LinkToken})
	}()
	time.Sleep(100 * time.Millisecond)
	e.do("POST", "/v1/link/approve", phone.AccessToken, api.LinkApproveRequest{UserCode: ls.UserCode}).wantOK(t, 204, nil)
	wg.Wait()
	if r.status == 202 { // the poll ended before the decision: ask again
		r = e.do("POST", "/v1/link/poll", "", api.LinkPollRequest{LinkToken: ls.LinkToken})
	}
	var got api.Login
	r.wantOK(t, 200, &got)
	if got.Session == nil || got.Session.Device.Name != "Library PC" || !got.Session.Remember || got.Account.Username != "ana" {
		t.Fatalf("link login = %+v", got)
	}
	e.use(got)
	// Single use.
	e.do("POST", "/v1/link/poll", "", api.LinkPollRequest{LinkToken: ls.LinkToken}).wantError(t, 410, api.CodeExpired)
	e.do("POST", "/v1/link/approve", phone.AccessToken, api.LinkApproveRequest{UserCode: ls.UserCode}).wantError(t, 410, api.CodeExpired)
	ev := e.auditsOf(phone.AccessToken, api.AuditDeviceLinked, phone.Session.ID)
	if len(ev) != 1 || ev[0].DeviceName != "Library PC" || !strings.Contains(ev[0].Detail, "Pixel 8") {
		t.Fatalf("linked events = %+v", ev)
	}
}

func TestLinkCodesAreRateLimited(t *testing.T) {
	e, phone := approvalEnv(t)
	var last reply
	for i := 0; i < 12; i++ {
		last = e.do("POST", "/v1/link/approve", phone.AccessToken, api.LinkApproveRequest{UserCode: "ABCD-EFGH", Check: true})
		if last.status == 429 {
			break
		}
		last.wantError(t, 404, api.CodeNotFound)
	}
	last.wantError(t, 429, api.CodeRateLimited)
	e.do("POST", "/v1/link/approve", phone.AccessToken, api.LinkApproveRequest{UserCode: "not a code"}).wantError(t, 429, api.CodeRateLimited)
}

// TestApprovalAcrossReplicas: the new device signs in and waits on
// replica 2; the phone hears of it on its stream on replica 1 and answers
// there; the waiting poll on replica 2 returns at once (woken through the
// PostgreSQL bus, not its 5 s fallback).
func TestApprovalAcrossReplicas(t *testing.T) {
	r1, r2 := replicaPair(t)
	r1.signUp("ana")
	phone := r1.login("ana", "Pixel 8", false)
	r1.putSettings(phone.AccessToken, api.Settings{ApproveNewDevices: true}).wantOK(t, 200, nil)
	s := r1.stream(phone.AccessToken)
	var l api.Login
	r2.do("POST", "/v1/login", "", api.LoginRequest{Username: "ana", Password: testPassword,
		Device: device("Ana's Laptop"), InstallKey: keyLaptop}).wantOK(t, 200, &l)
	wantApproval(t, l)
	var ev api.LoginApprovalRequestedEvent
	for {
		it := s.nextEvent(t)
		if it.name == api.EventApprovalRequested {
			if err := json.Unmarshal([]byte(it.data), &ev); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if ev.ID != l.Approval.ID || len(ev.Numbers) != 3 || !slices.Contains(ev.Numbers, l.Approval.Number) || ev.Device.Name != "Ana's Laptop" {
		t.Fatalf("event = %+v, approval %+v", ev, l.Approval)
	}
	var (
		wg sync.WaitGroup
		r  reply
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		r = r2.pollApproval(l.ApprovalToken, keyLaptop)
	}()
	time.Sleep(300 * time.Millisecond)
	decided := time.Now()
	r1.decide(phone.AccessToken, ev.ID, true, l.Approval.Number).wantOK(t, 204, nil)
	wg.Wait()
	lag := time.Since(decided)
	var got api.Login
	r.wantOK(t, 200, &got)
	if lag > time.Second {
		t.Fatalf("the poll on replica 2 answered %v after the decision on replica 1", lag)
	}
	t.Logf("decision on replica 1 → tokens on replica 2: %v", lag)
	for {
		it := s.nextEvent(t)
		if it.name == api.EventApprovalResolved {
			break
		}
	}
}
