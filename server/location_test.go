package server_test

import (
	"net/netip"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/geo"
	"sessionguard/server/geo/geotest"
)

// withGeoIP serves with the sample City database (Lisbon: 203.0.113.0/24,
// Berlin: 198.51.100.0/24) and trusts the loopback proxy, so a test can
// pretend to come from any address with X-Forwarded-For.
func withGeoIP(t *testing.T) option {
	db, err := geo.Open(geotest.File(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func(c *server.Config) {
		c.Locator = db
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	}
}

func (e *env) loginFrom(ip, deviceName string) api.Login {
	e.t.Helper()
	var hdr []string
	if ip != "" {
		hdr = []string{"X-Forwarded-For", ip}
	}
	var l api.Login
	e.do("POST", "/v1/login", "", api.LoginRequest{Username: "ana", Password: testPassword, Device: device(deviceName)}, hdr...).
		wantOK(e.t, 200, &l)
	return l
}

func TestSessionsAndAuditCarryTheLocation(t *testing.T) {
	e := newEnv(t, withGeoIP(t))
	e.signUp("ana")
	lisbon := e.loginFrom("203.0.113.5", "Laptop")
	if lisbon.Session.IP != "203.0.113.5" || lisbon.Session.Location != geotest.Lisbon {
		t.Fatalf("session from 203.0.113.5: ip %q location %+v, want Lisbon", lisbon.Session.IP, lisbon.Session.Location)
	}
	local := e.loginFrom("", "Desk") // straight from loopback: nowhere
	if local.Session.IP != "127.0.0.1" || !local.Session.Location.IsZero() {
		t.Fatalf("session from loopback: ip %q location %+v, want no location", local.Session.IP, local.Session.Location)
	}
	unknown := e.loginFrom("192.0.2.44", "Phone")
	if !unknown.Session.Location.IsZero() {
		t.Fatalf("session from an address the database lacks: %+v", unknown.Session.Location)
	}

	// The list shows where each session is.
	where := map[string]api.Location{}
	for _, s := range e.sessions(local.AccessToken, "").Sessions {
		where[s.Device.Name] = s.Location
	}
	if where["Laptop"] != geotest.Lisbon || !where["Desk"].IsZero() || !where["Phone"].IsZero() {
		t.Fatalf("locations in the list: %+v", where)
	}
	// So does the audit trail.
	placed := map[string]api.Location{}
	for _, ev := range e.auditEvents(local.AccessToken) {
		if ev.Type == api.AuditLoginSucceeded {
			placed[ev.SessionID] = ev.Location
		}
	}
	if len(placed) != 3 || placed[lisbon.Session.ID] != geotest.Lisbon || !placed[local.Session.ID].IsZero() || !placed[unknown.Session.ID].IsZero() {
		t.Fatalf("login.succeeded locations by session: %+v", placed)
	}

	// The laptop travels: its next request (after the touch interval) is
	// from Berlin, and what it does there is placed in Berlin.
	e.clock.Advance(2 * time.Minute)
	var me api.MeResponse
	e.do("GET", "/v1/me", lisbon.AccessToken, nil, "X-Forwarded-For", "198.51.100.7").wantOK(t, 200, &me)
	if me.Session.IP != "198.51.100.7" || me.Session.Location != geotest.Berlin {
		t.Fatalf("session after moving: ip %q location %+v, want Berlin", me.Session.IP, me.Session.Location)
	}
	e.do("DELETE", "/v1/sessions/"+unknown.Session.ID, lisbon.AccessToken, nil, "X-Forwarded-For", "198.51.100.7").wantOK(t, 200, nil)
	ev := e.lastAudit(lisbon.AccessToken, api.AuditSessionRevoked)
	if ev.IP != "198.51.100.7" || ev.Location != geotest.Berlin || ev.TargetDeviceName != "Phone" {
		t.Fatalf("session.revoked audit = %+v, want from Berlin", ev)
	}
	for _, s := range e.sessions(local.AccessToken, "").Sessions {
		if s.Device.Name == "Laptop" && s.Location != geotest.Berlin {
			t.Fatalf("the list still places the laptop at %+v", s.Location)
		}
	}
}

// TestNoGeoIPNoLocation: without a database nothing is placed, even from a
// public address.
func TestNoGeoIPNoLocation(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	e.signUp("ana")
	l := e.loginFrom("203.0.113.5", "Laptop")
	if l.Session.IP != "203.0.113.5" || !l.Session.Location.IsZero() {
		t.Fatalf("session = ip %q location %+v, want no location", l.Session.IP, l.Session.Location)
	}
	if ev := e.lastAudit(l.AccessToken, api.AuditLoginSucceeded); !ev.Location.IsZero() {
		t.Fatalf("audit location %+v", ev.Location)
	}
}
