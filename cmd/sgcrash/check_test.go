package main

import (
	"strings"
	"testing"

	"sessionguard/api"
)

// fakeWorld is a small record set: two sessions of one account, the
// second logged out remotely by the first, a third ended by the first's log
// out of all others, and the login a fourth saved when it logged out.
func fakeWorld() ([]*session, []*savedLogin, map[string][]api.AuditEvent, map[string][]string) {
	a := &session{ID: "ses_a", Account: "crash1", Device: "crash1 device 1", SignedIn: 2,
		Pairs: []api.Tokens{{AccessToken: "a1", RefreshToken: "r1"}}, AckedOthers: 1}
	b := &session{ID: "ses_b", Account: "crash1", Device: "crash1 device 2", SignedIn: 4,
		Pairs: []api.Tokens{{AccessToken: "a2", RefreshToken: "r2"}}, RevokedSeq: 9, Evidence: "remote log out",
		Revocation: &revocation{Reason: api.ReasonRemoteLogout, ByDevice: a.Device}, AckedRemoteBy: []string{a.Device}}
	c := &session{ID: "ses_c", Account: "crash1", Device: "crash1 device 3", SignedIn: 6,
		Pairs: []api.Tokens{{AccessToken: "a3", RefreshToken: "r3"}}, RevokedSeq: 12, Evidence: "log out of all others",
		Revocation: &revocation{Reason: api.ReasonLogoutOthers, ByDevice: a.Device}}
	d := &session{ID: "ses_d", Account: "crash1", Device: "crash1 device 4", SignedIn: 1,
		Pairs: []api.Tokens{{AccessToken: "a4", RefreshToken: "r4"}}, RevokedSeq: 3, Evidence: "log out",
		Revocation: &revocation{Reason: api.ReasonLogout, ByDevice: "crash1 device 4"}, AckedLogout: true}
	saved := []*savedLogin{{Account: "crash1", DeviceID: "dev4", SessionID: d.ID, Credential: "sgr_4", Acked: 3}}
	events := map[string][]api.AuditEvent{"crash1": {
		{Type: api.AuditSessionsRevokedOthers, SessionID: a.ID, DeviceName: a.Device},
		{Type: api.AuditRememberedLoginCreated, SessionID: d.ID, DeviceName: d.Device},
		{Type: api.AuditLogout, SessionID: d.ID, DeviceName: d.Device},
		{Type: api.AuditLoginSucceeded, SessionID: d.ID},
		{Type: api.AuditSessionRevoked, SessionID: a.ID, DeviceName: a.Device, TargetSessionID: b.ID},
		{Type: api.AuditLoginSucceeded, SessionID: c.ID},
		{Type: api.AuditLoginSucceeded, SessionID: b.ID},
		{Type: api.AuditLoginSucceeded, SessionID: a.ID},
	}}
	return []*session{a, b, c, d}, saved, events, map[string][]string{"crash1": {a.ID}}
}

// without drops the events matching drop.
func without(events map[string][]api.AuditEvent, drop func(api.AuditEvent) bool) map[string][]api.AuditEvent {
	out := map[string][]api.AuditEvent{}
	for acct, evs := range events {
		for _, e := range evs {
			if !drop(e) {
				out[acct] = append(out[acct], e)
			}
		}
	}
	return out
}

func TestAuditFindings(t *testing.T) {
	tests := []struct {
		name string
		// plant changes the consistent world into one with a fault.
		plant         func(ss []*session, ev map[string][]api.AuditEvent, live map[string][]string) map[string][]api.AuditEvent
		wantViolation string // "" for none
	}{
		{name: "consistent", plant: func(_ []*session, ev map[string][]api.AuditEvent, _ map[string][]string) map[string][]api.AuditEvent {
			return ev
		}},
		{name: "acknowledged sign-in without its event",
			plant: func(_ []*session, ev map[string][]api.AuditEvent, _ map[string][]string) map[string][]api.AuditEvent {
				return without(ev, func(e api.AuditEvent) bool { return e.Type == api.AuditLoginSucceeded && e.SessionID == "ses_b" })
			},
			wantViolation: "acknowledged sign-in ses_b"},
		{name: "acknowledged remote log out without its event",
			plant: func(_ []*session, ev map[string][]api.AuditEvent, _ map[string][]string) map[string][]api.AuditEvent {
				return without(ev, func(e api.AuditEvent) bool { return e.Type == api.AuditSessionRevoked })
			},
			wantViolation: "revoke of session ses_b"},
		{name: "acknowledged log out of all others without its event",
			plant: func(_ []*session, ev map[string][]api.AuditEvent, _ map[string][]string) map[string][]api.AuditEvent {
				return without(ev, func(e api.AuditEvent) bool { return e.Type == api.AuditSessionsRevokedOthers })
			},
			wantViolation: "1 log-outs of all others acknowledged but 0"},
		{name: "acknowledged own log out without its event",
			plant: func(ss []*session, ev map[string][]api.AuditEvent, _ map[string][]string) map[string][]api.AuditEvent {
				ss[1].Revocation = &revocation{Reason: api.ReasonLogout, ByDevice: ss[1].Device}
				ss[1].AckedLogout = true
				return ev
			},
			wantViolation: "has no logout event (acknowledged)"},
		{name: "unacknowledged revoke that took effect without its event",
			plant: func(ss []*session, ev map[string][]api.AuditEvent, _ map[string][]string) map[string][]api.AuditEvent {
				ss[1].AckedRemoteBy = nil
				return without(ev, func(e api.AuditEvent) bool { return e.Type == api.AuditSessionRevoked })
			},
			wantViolation: "never acknowledged: a request cut by a kill after its revoke committed"},
		{name: "acknowledged saved login without its event",
			plant: func(_ []*session, ev map[string][]api.AuditEvent, _ map[string][]string) map[string][]api.AuditEvent {
				return without(ev, func(e api.AuditEvent) bool { return e.Type == api.AuditRememberedLoginCreated })
			},
			wantViolation: "acknowledged saved login of session ses_d"},
		{name: "revoked session listed live",
			plant: func(_ []*session, ev map[string][]api.AuditEvent, live map[string][]string) map[string][]api.AuditEvent {
				live["crash1"] = append(live["crash1"], "ses_c")
				return ev
			},
			wantViolation: "revoked session ses_c (crash1 device 3) is listed as live"},
		{name: "live session missing from the list",
			plant: func(_ []*session, ev map[string][]api.AuditEvent, live map[string][]string) map[string][]api.AuditEvent {
				live["crash1"] = nil
				return ev
			},
			wantViolation: "live session ses_a"},
		{name: "revoked for a reason nothing caused",
			plant: func(ss []*session, ev map[string][]api.AuditEvent, _ map[string][]string) map[string][]api.AuditEvent {
				ss[2].Revocation.Reason = api.ReasonRefreshTokenReuse
				return ev
			},
			wantViolation: "which nothing the tool did causes"},
		{name: "unacknowledged sign-in that persisted without its event",
			plant: func(_ []*session, ev map[string][]api.AuditEvent, live map[string][]string) map[string][]api.AuditEvent {
				live["crash1"] = append(live["crash1"], "ses_orphan")
				return ev
			},
			wantViolation: "session ses_orphan of crash1 exists (its sign-in was cut by a kill) without a login.succeeded event"},
		{name: "unacknowledged sign-in that persisted with its event",
			plant: func(_ []*session, ev map[string][]api.AuditEvent, live map[string][]string) map[string][]api.AuditEvent {
				live["crash1"] = append(live["crash1"], "ses_orphan")
				ev["crash1"] = append(ev["crash1"], api.AuditEvent{Type: api.AuditLoginSucceeded, SessionID: "ses_orphan"})
				return ev
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ss, saved, ev, live := fakeWorld()
			ev = tc.plant(ss, ev, live)
			f := auditFindings(ss, saved, ev, live)
			if !matchOne(f.violations, tc.wantViolation) {
				t.Errorf("violations = %q, want one containing %q", f.violations, tc.wantViolation)
			}
			if f.checks == 0 {
				t.Error("no check counted")
			}
		})
	}
}

// matchOne: want "" means list is empty; otherwise an entry contains want.
func matchOne(list []string, want string) bool {
	if want == "" {
		return len(list) == 0
	}
	for _, v := range list {
		if strings.Contains(v, want) {
			return true
		}
	}
	return false
}

func TestJudgeProbe(t *testing.T) {
	const (
		ok      = "ok"
		revoked = api.CodeSessionRevoked
		invalid = api.CodeInvalidToken
	)
	tests := []struct {
		name          string
		knownRevoked  bool
		unackedRefres bool
		p             probe
		want          string // substring of the one violation; "" for none
	}{
		{"live session works", false, false, probe{access: []string{invalid, ok}, refresh: []string{ok}}, ""},
		{"live session revoked by a cut request", false, false, probe{access: []string{invalid, revoked}, refresh: []string{revoked}}, ""},
		{"cut refresh superseded the access token", false, true, probe{access: []string{invalid}, refresh: []string{ok}}, ""},
		{"latest access token lost", false, false, probe{access: []string{invalid}, refresh: []string{ok}}, "latest acknowledged access token is unknown"},
		{"refresh token lost", false, false, probe{access: []string{ok}, refresh: []string{invalid}}, "refresh token is unknown"},
		{"superseded access token accepted", false, false, probe{access: []string{ok, ok}, refresh: []string{ok}}, "superseded access token 1 of 2"},
		{"revoked session stays revoked", true, false, probe{access: []string{invalid, revoked}, refresh: []string{revoked, revoked}}, ""},
		{"revoked access token accepted", true, false, probe{access: []string{ok}, refresh: []string{revoked}}, "access token 1 of 1 was accepted"},
		{"revoked refresh token accepted", true, false, probe{access: []string{revoked}, refresh: []string{ok}}, "refresh token 1 of 1 was accepted"},
		{"revoked session's refresh token lost", true, false, probe{access: []string{revoked}, refresh: []string{invalid}}, "refresh token is unknown"},
		{"server error", false, false, probe{access: []string{"internal"}, refresh: []string{ok}}, "answered internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &session{ID: "ses_x", Device: "d", UnackedRefresh: tc.unackedRefres}
			v, passed := judgeProbe(s, tc.knownRevoked, tc.p)
			if !matchOne(v, tc.want) {
				t.Fatalf("violations = %q, want %q", v, tc.want)
			}
			if want := len(tc.p.access) + len(tc.p.refresh) - len(v); passed != want {
				t.Fatalf("passed = %d, want %d", passed, want)
			}
		})
	}
}

func TestLedgerRevokedTokenAccepted(t *testing.T) {
	l := newLedger()
	dev := l.newDevice("crash1")
	lg := api.Login{Session: &api.Session{ID: "ses_a"}, AccessToken: "a", RefreshToken: "r"}
	s := l.signedIn("crash1", dev, nil, lg, l.next())
	sent := l.next()
	l.accepted(s, sent, "an access token") // before any revoke: fine
	l.revoked(s, l.next(), "revoke acknowledged", nil)
	l.accepted(s, sent, "an access token") // sent before the revoke answer: a race, fine
	if len(l.violations) != 0 {
		t.Fatalf("violations %q", l.violations)
	}
	l.accepted(s, l.next(), "an access token") // sent after: a violation
	if !matchOne(l.violations, "of revoked session ses_a") {
		t.Fatalf("violations %q", l.violations)
	}
}

// Log out of all others covers exactly the sessions whose sign-in was
// acknowledged before it was sent.
func TestLedgerOthersRevoked(t *testing.T) {
	l := newLedger()
	login := func(id string) *session {
		return l.signedIn("crash1", l.newDevice("crash1"), nil, api.Login{Session: &api.Session{ID: id}}, l.next())
	}
	caller, before := login("ses_caller"), login("ses_before")
	sent := l.next()
	during := login("ses_during") // acknowledged while the revoke was in flight
	other := l.signedIn("crash2", l.newDevice("crash2"), nil, api.Login{Session: &api.Session{ID: "ses_other"}}, 1)
	l.othersRevoked(caller, sent, l.next())
	for _, tc := range []struct {
		s    *session
		want bool
	}{{caller, false}, {before, true}, {during, false}, {other, false}} {
		if got := tc.s.RevokedSeq != 0; got != tc.want {
			t.Errorf("%s revoked = %v, want %v", tc.s.ID, got, tc.want)
		}
	}
	if caller.AckedOthers != 1 {
		t.Errorf("AckedOthers = %d", caller.AckedOthers)
	}
}

// A saved login must be gone after a remote log out (seen to take effect)
// of a session its device signed in after saving it, or an acknowledged
// log out of all others from another device sent after it was saved; a
// new saved login of the device supersedes it.
func TestLedgerSavedLogins(t *testing.T) {
	tests := []struct {
		name string
		// then acts after the saved login (device "dev A" of "crash1") exists.
		then func(l *ledger, owner, other *session)
		want string // substring of mustBeForgotten's reason; "" for none
	}{
		{"nothing happened", func(*ledger, *session, *session) {}, ""},
		{"remote log out of a later session of the device", func(l *ledger, _, other *session) {
			id, saved := l.savedDevice("crash1", func(int) int { return 0 })
			again := l.signedIn("crash1", api.Device{ID: id, Name: "again"}, saved, api.Login{Session: &api.Session{ID: "ses_again"}}, l.next())
			l.revoked(again, l.next(), "probe", &revocation{Reason: api.ReasonRemoteLogout, ByDevice: other.Device})
		}, "session ses_again (again) of its device was logged out remotely"},
		{"the later session logged itself out", func(l *ledger, _, _ *session) {
			id, saved := l.savedDevice("crash1", func(int) int { return 0 })
			again := l.signedIn("crash1", api.Device{ID: id, Name: "again"}, saved, api.Login{Session: &api.Session{ID: "ses_again"}}, l.next())
			l.revoked(again, l.next(), "probe", &revocation{Reason: api.ReasonLogout, ByDevice: "again"})
		}, ""},
		{"log out of all others from another device", func(l *ledger, _, other *session) {
			l.othersRevoked(other, l.next(), l.next())
		}, "a log out of all others from device dev B was acknowledged"},
		{"log out of all others sent before the login was saved", func(l *ledger, _, other *session) {
			l.othersRevoked(other, 1, l.next())
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger()
			owner := l.signedIn("crash1", api.Device{ID: "dev A", Name: "A"}, nil, api.Login{Session: &api.Session{ID: "ses_a"}}, l.next())
			other := l.signedIn("crash1", api.Device{ID: "dev B", Name: "B"}, nil, api.Login{Session: &api.Session{ID: "ses_b"}}, l.next())
			l.loggedOut(owner, l.next(), l.next(), "sgr_1")
			tc.then(l, owner, other)
			sv := l.savedLogins()[0]
			if got := l.mustBeForgotten(sv); !strings.Contains(got, tc.want) || (tc.want == "") != (got == "") {
				t.Fatalf("mustBeForgotten = %q, want %q", got, tc.want)
			}
		})
	}
	l := newLedger()
	s := l.signedIn("crash1", api.Device{ID: "dev A", Name: "A"}, nil, api.Login{Session: &api.Session{ID: "ses_a"}}, l.next())
	l.loggedOut(s, l.next(), l.next(), "sgr_1")
	id, saved := l.savedDevice("crash1", func(int) int { return 0 })
	s2 := l.signedIn("crash1", api.Device{ID: id, Name: "A2"}, saved, api.Login{Session: &api.Session{ID: "ses_a2"}}, l.next())
	if id, _ := l.savedDevice("crash1", func(int) int { return 0 }); id != "" {
		t.Errorf("savedDevice offers %q, whose session is live", id)
	}
	l.loggedOut(s2, l.next(), l.next(), "sgr_2")
	if all := l.savedLogins(); len(all) != 2 || !all[0].Superseded || all[1].Superseded {
		t.Errorf("after a second saved login of the device: %+v", all)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		stores  []string
	}{
		{nil, "", []string{"sqlite", "postgres"}},
		{[]string{"--stores", "sqlite"}, "", []string{"sqlite"}},
		{[]string{"--stores", "oracle"}, `unknown store "oracle"`, nil},
		{[]string{"--stores", ","}, "names no store", nil},
		{[]string{"--rounds", "0"}, "at least 1", nil},
		{[]string{"--kill-min", "10", "--kill-max", "5"}, "--kill-min <= --kill-max", nil},
		{[]string{"extra"}, `unexpected argument "extra"`, nil},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cfg, err := parseFlags(tc.args, &strings.Builder{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(cfg.stores, ",") != strings.Join(tc.stores, ",") || cfg.seed == 0 {
				t.Fatalf("cfg = %+v", cfg)
			}
		})
	}
}
