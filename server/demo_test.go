package server_test

import (
	"testing"
	"time"

	"sessionguard/server"
)

// TestSeedDemoDevices: a large demo account has every device live, last
// used in the past 25 days (none in the future: the spread must not
// overflow a time.Duration past about 4,300 devices), a few each day, and
// one sign-in event per device in its chained log.
func TestSeedDemoDevices(t *testing.T) {
	e := newEnv(t)
	const n = 5000
	if ok, err := e.srv.SeedDemoDevices(t.Context(), n); err != nil || !ok {
		t.Fatalf("SeedDemoDevices: %v, %v", ok, err)
	}
	if ok, _ := e.srv.SeedDemoDevices(t.Context(), n); ok {
		t.Error("a second demo account was made")
	}
	acct, err := e.store.AccountByUsername(t.Context(), server.DemoUsername)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	c, err := e.store.CountSessions(t.Context(), acct.ID, "", now, now.Add(-24*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != n || c.Active < 150 || c.Active > 400 {
		t.Errorf("%d live, %d used in the last day; want %d live, about %d a day", c.Total, c.Active, n, n/25)
	}
	list, err := e.store.ListSessions(t.Context(), acct.ID, "", now, nil, 1)
	if err != nil || len(list) != 1 || list[0].LastSeenAt.After(now) {
		t.Errorf("the most recently used device: %+v, %v; want one not used after now (%v)", list, err, now)
	}
	if rep, err := server.VerifyAudit(t.Context(), e.store, nil); err != nil || rep.Events != n {
		t.Errorf("the demo's log: %+v, %v; want %d events verified", rep, err, n)
	}
	for _, bad := range []int{4, server.MaxDemoDevices + 1} {
		if _, err := e.srv.SeedDemoDevices(t.Context(), bad); err == nil {
			t.Errorf("SeedDemoDevices(%d) accepted", bad)
		}
	}
}

// TestSeedDemoBound: the demo's devices on today's app are bound to a
// key (issue 21), the one on an older app is not, so the list shows both.
func TestSeedDemoBound(t *testing.T) {
	e := newEnv(t)
	if _, err := e.srv.SeedDemo(t.Context()); err != nil {
		t.Fatal(err)
	}
	acct, err := e.store.AccountByUsername(t.Context(), server.DemoUsername)
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.store.ListSessions(t.Context(), acct.ID, "", e.clock.Now(), nil, 10)
	if err != nil || len(list) != 5 {
		t.Fatalf("the demo's devices: %d, %v", len(list), err)
	}
	for _, s := range list {
		if bound, old := s.JKT != "", s.Device.AppVersion == "0.9.2"; bound == old {
			t.Errorf("%s (app %s): bound %v", s.Device.Name, s.Device.AppVersion, bound)
		}
	}
}
