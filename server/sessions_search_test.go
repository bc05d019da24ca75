package server_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
)

// searchEnv is an account whose sessions differ in every field a search
// looks in, three used today and three earlier, another account with a
// session like one of them, and the caller's own session ("Work phone").
type searchEnv struct {
	*env
	self api.Login
}

func newSearchEnv(t *testing.T) searchEnv {
	e := newEnv(t, withGeoIP(t))
	e.signUp("ana")
	e.signUp("bob")
	login := func(user, ip, name string) api.Login {
		t.Helper()
		var hdr []string
		if ip != "" {
			hdr = []string{"X-Forwarded-For", ip}
		}
		var l api.Login
		e.do("POST", "/v1/login", "", api.LoginRequest{Username: user, Password: testPassword, Remember: true, Device: device(name)}, hdr...).
			wantOK(t, 200, &l)
		e.clock.Advance(time.Second)
		return l
	}
	login("bob", "203.0.113.9", "Kitchen iPad")  // never Ana's
	login("ana", "198.51.100.4", "Kitchen iPad") // Berlin
	login("ana", "", "Battery 100% Kiosk")       // loopback: no place
	login("ana", "", "build_box")
	e.clock.Advance(api.ActiveTodayWindow)       // the three above: earlier, not today
	login("ana", "203.0.113.5", "Office laptop") // Lisbon
	login("ana", "198.51.100.9", "Home laptop")  // Berlin
	self := login("ana", "203.0.113.7", "Work phone")
	return searchEnv{env: e, self: self}
}

// names lists a page's device names, checking that only the caller's
// session is marked current.
func (e searchEnv) names(t *testing.T, p api.SessionsPage) []string {
	t.Helper()
	var out []string
	for _, s := range p.Sessions {
		if s.Current != (s.ID == e.self.Session.ID) {
			t.Errorf("%s: current = %v", s.Device.Name, s.Current)
		}
		out = append(out, s.Device.Name)
	}
	return out
}

func TestSessionsSearch(t *testing.T) {
	e := newSearchEnv(t)
	all := []string{"Work phone", "Home laptop", "Office laptop", "build_box", "Battery 100% Kiosk", "Kitchen iPad"}
	cases := []struct {
		q      string
		want   []string
		active int
	}{
		{"", all, 3},
		{"   ", all, 3},
		{"laptop", []string{"Home laptop", "Office laptop"}, 2},
		{"LAPTOP", []string{"Home laptop", "Office laptop"}, 2},
		{"  phone  ", []string{"Work phone"}, 1},
		{"kitchen", []string{"Kitchen iPad"}, 0}, // not Bob's
		{"Lisbon", []string{"Work phone", "Office laptop"}, 2},
		{"land berlin", []string{"Home laptop", "Kitchen iPad"}, 1},
		{"GERMANY", []string{"Home laptop", "Kitchen iPad"}, 1},
		{"198.51.100.", []string{"Home laptop", "Kitchen iPad"}, 1},
		{"127.0.0.1", []string{"build_box", "Battery 100% Kiosk"}, 0},
		{"debian", all, 3}, // the OS of every test device
		{"TEST", all, 3},   // and its model
		{"%", []string{"Battery 100% Kiosk"}, 0},
		{"_", []string{"build_box"}, 0},
		{"d_b", []string{"build_box"}, 0},
		{"k%n", nil, 0},
		{`\`, nil, 0},
		{"dev-work-phone", nil, 0}, // the device ID is not searched
		{"no such device", nil, 0},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("q=%q", tc.q), func(t *testing.T) {
			p := e.sessions(e.self.AccessToken, "?q="+url.QueryEscape(tc.q))
			if got := e.names(t, p); !slices.Equal(got, tc.want) {
				t.Errorf("sessions = %q, want %q", got, tc.want)
			}
			if p.NextCursor != "" {
				t.Errorf("next_cursor = %q on the only page", p.NextCursor)
			}
			want := api.SessionCounts{Total: len(tc.want), ActiveToday: tc.active}
			if p.Counts == nil || *p.Counts != want {
				t.Errorf("counts = %+v, want %+v", p.Counts, want)
			}
		})
	}
}

// TestSessionsSearchPaging: pages of a search, with the same q and the
// cursor each page gives, join into the search; this device leads the
// first page only if it matches, and only the first page has counts.
func TestSessionsSearchPaging(t *testing.T) {
	e := newSearchEnv(t)
	cases := []struct {
		q    string
		want []string
	}{
		{"", []string{"Work phone", "Home laptop", "Office laptop", "build_box", "Battery 100% Kiosk", "Kitchen iPad"}},
		{"laptop", []string{"Home laptop", "Office laptop"}},
		{"lisbon", []string{"Work phone", "Office laptop"}},
		{"o", []string{"Work phone", "Home laptop", "Office laptop", "build_box", "Battery 100% Kiosk"}},
		{"nothing", nil},
	}
	for _, tc := range cases {
		for _, limit := range []int{1, 2, 3, 200} {
			t.Run(fmt.Sprintf("q=%s,limit=%d", tc.q, limit), func(t *testing.T) {
				var got []string
				cursor := ""
				for page := 0; ; page++ {
					if page > len(tc.want)+1 {
						t.Fatal("paging does not end")
					}
					v := url.Values{"q": {tc.q}, "limit": {fmt.Sprint(limit)}}
					if cursor != "" {
						v.Set("cursor", cursor)
					}
					p := e.sessions(e.self.AccessToken, "?"+v.Encode())
					if len(p.Sessions) > limit {
						t.Fatalf("page %d: %d sessions > limit %d", page, len(p.Sessions), limit)
					}
					if (page == 0) != (p.Counts != nil) {
						t.Errorf("page %d: counts %+v", page, p.Counts)
					}
					if page == 0 && p.Counts != nil && p.Counts.Total != len(tc.want) {
						t.Errorf("counts.total = %d, want %d", p.Counts.Total, len(tc.want))
					}
					got = append(got, e.names(t, p)...)
					if cursor = p.NextCursor; cursor == "" {
						break
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("pages joined = %q, want %q", got, tc.want)
				}
			})
		}
	}
}

// TestSessionsSearchLargeAccount: on an account with hundreds of
// sessions, a search pages through its matches up to 200 at a time.
func TestSessionsSearchLargeAccount(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", false)
	seedSessions(t, e, self.Account.ID, 450) // "Device 0" … "Device 449", all used today
	var want []string
	for i := range 450 {
		if strings.HasPrefix(fmt.Sprint(i), "1") {
			want = append(want, fmt.Sprintf("Device %d", i))
		}
	}
	for _, limit := range []int{50, 200} {
		var got []string
		cursor, pages := "", 0
		for {
			v := url.Values{"q": {"DEVICE 1"}, "limit": {fmt.Sprint(limit)}}
			if cursor != "" {
				v.Set("cursor", cursor)
			}
			p := e.sessions(self.AccessToken, "?"+v.Encode())
			if pages == 0 && (p.Counts == nil || *p.Counts != api.SessionCounts{Total: 1 + 10 + 100, ActiveToday: 111}) {
				t.Errorf("limit %d: counts = %+v, want 111 of 111", limit, p.Counts)
			}
			if len(p.Sessions) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(p.Sessions))
			}
			for _, s := range p.Sessions {
				got = append(got, s.Device.Name)
			}
			if pages++; p.NextCursor == "" || pages > 20 {
				break
			}
			cursor = p.NextCursor
		}
		// "Device 1", "Device 10" … "Device 19", "Device 100" … "Device 199",
		// in list order (last used, newest first: by number).
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: %d sessions listed, want %d: %q", limit, len(got), len(want), got)
		}
		if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
	p := e.sessions(self.AccessToken, "?limit=200&q=device")
	if len(p.Sessions) != 200 || p.NextCursor == "" || p.Counts == nil || p.Counts.Total != 450 {
		t.Errorf("q=device limit 200: %d sessions, next %q, counts %+v", len(p.Sessions), p.NextCursor, p.Counts)
	}
	p = e.sessions(self.AccessToken, "?limit=200")
	if p.Counts == nil || *p.Counts != (api.SessionCounts{Total: 451, ActiveToday: 451}) {
		t.Errorf("no q: counts %+v, want 451 of 451", p.Counts)
	}
}

// TestSessionsCountsActiveToday: a session last used within
// api.ActiveTodayWindow (its start included) counts as active today, one
// used before not, and the caller's own always does, even on a background
// request that does not count as use; ended, expired and idle sessions are
// not counted.
func TestSessionsCountsActiveToday(t *testing.T) {
	e := newEnv(t, longAccess)
	e.signUp("ana")
	start := e.clock.Now()
	self := e.login("ana", "Desk", true)
	e.clock.Advance(time.Second)
	e.login("ana", "Early", true)
	e.login("ana", "Short", false) // expires after SessionTTL (12 h)
	ended := e.login("ana", "Ended", true)
	e.do("POST", "/v1/logout", ended.AccessToken, api.LogoutRequest{}).wantOK(t, 200, nil)
	idle := e.login("ana", "Idle", true)
	e.do("PATCH", "/v1/sessions/"+idle.Session.ID, self.AccessToken, map[string]any{"idle_timeout_s": 3600}).wantOK(t, 200, nil)
	e.clock.Set(start.Add(30 * time.Minute))
	e.login("ana", "Edge", true) // exactly a window before the request
	e.clock.Set(start.Add(time.Hour))
	e.login("ana", "Mid", true)
	e.clock.Set(start.Add(api.ActiveTodayWindow + 30*time.Minute))

	var p api.SessionsPage
	e.do("GET", "/v1/sessions", self.AccessToken, nil, api.HeaderBackground, "1").wantOK(t, 200, &p)
	var names []string
	for _, s := range p.Sessions {
		names = append(names, s.Device.Name)
	}
	if want := []string{"Desk", "Mid", "Edge", "Early"}; !slices.Equal(names, want) {
		t.Errorf("sessions = %q, want %q", names, want)
	}
	if want := (api.SessionCounts{Total: 4, ActiveToday: 3}); p.Counts == nil || *p.Counts != want {
		t.Errorf("counts = %+v, want %+v", p.Counts, want)
	}
	// The store still has the caller's last use of a day ago: the
	// background request was not use.
	if me := p.Sessions[0]; !me.LastSeenAt.Before(e.clock.Now().Add(-api.ActiveTodayWindow)) {
		t.Fatalf("the caller's last use moved to %v: the test shows nothing", me.LastSeenAt)
	}
	// As does a search (every test device runs "Debian 12" on a "Test"
	// model from 127.0.0.1: these letters are only in names).
	for _, tc := range []struct {
		q    string
		want api.SessionCounts
	}{
		{"sk", api.SessionCounts{Total: 1, ActiveToday: 1}},    // Desk, the caller
		{"rl", api.SessionCounts{Total: 1, ActiveToday: 0}},    // Early
		{"dg", api.SessionCounts{Total: 1, ActiveToday: 1}},    // Edge
		{"Short", api.SessionCounts{Total: 0, ActiveToday: 0}}, // expired
	} {
		e.do("GET", "/v1/sessions?q="+tc.q, self.AccessToken, nil, api.HeaderBackground, "1").wantOK(t, 200, &p)
		if p.Counts == nil || *p.Counts != tc.want {
			t.Errorf("q=%s: counts = %+v, want %+v", tc.q, p.Counts, tc.want)
		}
	}
}

// TestSessionsSearchRefused: a q too long or with characters no device
// name holds is refused with field q, as is q with state=ended; limit is
// 1 to 200 with q as without.
func TestSessionsSearchRefused(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	self := e.login("ana", "Laptop", true)
	long := strings.Repeat("é", api.SessionQueryMaxLen)
	cases := []struct {
		name, query string
		field       string // "" for success
	}{
		{"longest", "q=" + url.QueryEscape(long), ""},
		{"longest, padded", "q=" + url.QueryEscape("  "+long+"\t "), ""},
		{"one character too long", "q=" + url.QueryEscape(long+"e"), "q"},
		{"far too long", "q=" + strings.Repeat("a", 5000), "q"},
		{"NUL", "q=a%00b", "q"},
		{"newline inside", "q=a%0Ab", "q"},
		{"tab inside", "q=a%09b", "q"},
		{"DEL", "q=a%7Fb", "q"},
		{"zero-width space", "q=a%E2%80%8Bb", "q"},
		{"bidi override", "q=%E2%80%AEab", "q"},
		{"not UTF-8", "q=%FF%FE", "q"},
		{"with state=ended", "state=ended&q=laptop", "q"},
		{"blank with state=ended", "state=ended&q=+", ""},
		{"with state=live", "state=live&q=laptop", ""},
		{"limit 200", "q=laptop&limit=200", ""},
		{"limit 201", "q=laptop&limit=201", "limit"},
		{"limit 0", "q=laptop&limit=0", "limit"},
		{"bad cursor", "q=laptop&cursor=bm9wZQ", "cursor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/v1/sessions?"+tc.query, self.AccessToken, nil)
			if tc.field == "" {
				var p api.SessionsPage
				r.wantOK(t, 200, &p)
				return
			}
			got := r.wantError(t, 400, api.CodeInvalidRequest)
			if got.Details[api.DetailField] != tc.field {
				t.Errorf("field = %v, want %s (message %q)", got.Details[api.DetailField], tc.field, got.Message)
			}
		})
	}
}
