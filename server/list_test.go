package server_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
)

func TestSessionsListOrderAndPaging(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.AccessTTL = time.Hour })
	e.signUp("ana")
	e.signUp("bob")
	e.login("bob", "Bob's phone", false) // never listed for Ana
	var logins []api.Login
	for i := range 7 {
		logins = append(logins, e.login("ana", fmt.Sprintf("Device %d", i), true))
		e.clock.Advance(2 * time.Minute)
	}
	// Use the devices in a scrambled order so last activity differs from
	// sign-in order.
	for _, i := range []int{4, 1, 6, 0} {
		e.do("GET", "/v1/me", logins[i].AccessToken, nil).wantOK(t, 200, nil)
		e.clock.Advance(2 * time.Minute)
	}
	self := logins[2]
	want := []string{"Device 2", "Device 0", "Device 6", "Device 1", "Device 4", "Device 5", "Device 3"}

	for _, limit := range []int{1, 2, 3, 50} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			var got []string
			cursor, pages := "", 0
			for {
				q := fmt.Sprintf("?limit=%d", limit)
				if cursor != "" {
					q += "&cursor=" + cursor
				}
				p := e.sessions(self.AccessToken, q)
				if len(p.Sessions) > limit {
					t.Fatalf("page of %d > limit %d", len(p.Sessions), limit)
				}
				for _, s := range p.Sessions {
					if s.Current != (s.ID == self.Session.ID) {
						t.Errorf("%s current = %v", s.Device.Name, s.Current)
					}
					got = append(got, s.Device.Name)
				}
				pages++
				if cursor = p.NextCursor; cursor == "" || pages > 20 {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("order = %v\nwant    %v", got, want)
			}
		})
	}
	for _, q := range []string{"?limit=0", "?limit=201", "?limit=x", "?cursor=%%%", "?cursor=bm9wZQ"} {
		got := e.do("GET", "/v1/sessions"+q, self.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
		if got.Details[api.DetailField] == nil && q != "?cursor=%%%" {
			t.Errorf("%s: no field named", q)
		}
	}
}

func TestSessionFieldsAndLastSeen(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", true)
	s := l.Session
	if s.IP != "127.0.0.1" || !s.CreatedAt.Equal(e.clock.Now()) || !s.AuthTime.Equal(s.CreatedAt) || !s.Remember {
		t.Fatalf("session = %+v", s)
	}
	if want := e.clock.Now().Add(30 * 24 * time.Hour); !s.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at = %v, want %v (30 days idle)", s.ExpiresAt, want)
	}
	seen := func() time.Time {
		var me api.MeResponse
		e.do("GET", "/v1/me", l.AccessToken, nil).wantOK(t, 200, &me)
		return me.Session.LastSeenAt
	}
	start := e.clock.Now()
	e.clock.Advance(30 * time.Second)
	if got := seen(); !got.Equal(start) {
		t.Fatalf("last_seen_at moved within a minute: %v", got)
	}
	e.clock.Advance(31 * time.Second)
	if got := seen(); !got.Equal(e.clock.Now()) {
		t.Fatalf("last_seen_at = %v, want %v", got, e.clock.Now())
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		xff     []string
		want    string
	}{
		{"socket address, no port", nil, nil, "127.0.0.1"},
		{"XFF ignored from untrusted peer", nil, []string{"203.0.113.9"}, "127.0.0.1"},
		{"XFF from trusted proxy", []string{"127.0.0.0/8"}, []string{"203.0.113.9"}, "203.0.113.9"},
		{"right-most untrusted hop wins", []string{"127.0.0.0/8", "10.0.0.0/8"}, []string{"198.51.100.1, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"malformed hop stops the chain", []string{"127.0.0.0/8"}, []string{"203.0.113.9, junk"}, "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *server.Config) {
				for _, p := range tc.trusted {
					c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(p))
				}
			})
			e.signUp("ana")
			var hdr []string
			for _, x := range tc.xff {
				hdr = append(hdr, "X-Forwarded-For", x)
			}
			var l api.Login
			e.do("POST", "/v1/login", "", loginReq("ana", testPassword), hdr...).wantOK(t, 200, &l)
			if l.Session.IP != tc.want {
				t.Fatalf("ip = %q, want %q", l.Session.IP, tc.want)
			}
		})
	}
}

func TestAuditNewestFirstPagedAndScoped(t *testing.T) {
	e := newEnvSignedUp(t, "ana", "bob")
	bo := e.login("bob", "Bob's phone", false)
	var last api.Login
	for i := range 5 {
		last = e.login("ana", fmt.Sprintf("Device %d", i), false)
		e.clock.Advance(time.Second)
	}
	var all []api.AuditEvent
	cursor := ""
	for range 10 {
		var p api.AuditPage
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		e.do("GET", "/v1/audit"+q, last.AccessToken, nil).wantOK(t, 200, &p)
		all = append(all, p.Events...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(all) != 5 {
		t.Fatalf("got %d events, want 5: %+v", len(all), all)
	}
	for i, ev := range all {
		if want := fmt.Sprintf("Device %d", 4-i); ev.DeviceName != want || ev.Type != api.AuditLoginSucceeded {
			t.Errorf("event %d = %s %q, want login.succeeded %q", i, ev.Type, ev.DeviceName, want)
		}
		if ev.ID == "" || ev.IP != "127.0.0.1" || ev.SessionID == "" {
			t.Errorf("event %d incomplete: %+v", i, ev)
		}
	}
	if types := e.auditTypes(bo.AccessToken); len(types) != 1 {
		t.Fatalf("Bo sees %v", types)
	}
	e.do("GET", "/v1/audit?cursor=zzz", last.AccessToken, nil).wantError(t, 400, api.CodeInvalidRequest)
}
