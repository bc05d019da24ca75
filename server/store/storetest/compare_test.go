package storetest

import (
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// TestDiff checks the comparator the suite relies on: if it missed a
// difference, the whole suite would pass vacuously.
func TestDiff(t *testing.T) {
	base := store.Session{
		ID:         "s",
		Device:     api.Device{Name: "Pixel"},
		LastSeenAt: t0,
		AccessHash: []byte{1, 2},
		Revoked:    &store.Revocation{At: t0, Reason: api.ReasonLogout},
	}
	cases := []struct {
		name string
		mod  func(*store.Session)
		want string // in the report; empty: no difference
	}{
		{"equal", func(*store.Session) {}, ""},
		{"same instant, UTC", func(s *store.Session) { s.LastSeenAt = t0.In(zone).UTC() }, ""},
		{"string", func(s *store.Session) { s.ID = "t" }, "Session.ID"},
		{"nested string", func(s *store.Session) { s.Device.Name = "Pixel 9" }, "Session.Device.Name"},
		{"bool", func(s *store.Session) { s.Remember = true }, "Session.Remember"},
		{"time", func(s *store.Session) { s.LastSeenAt = t0.Add(time.Microsecond) }, "Session.LastSeenAt"},
		{"time not in UTC", func(s *store.Session) { s.LastSeenAt = t0.In(zone) }, "not in UTC"},
		{"bytes", func(s *store.Session) { s.AccessHash = []byte{1, 3} }, "Session.AccessHash"},
		{"nil pointer", func(s *store.Session) { s.Revoked = nil }, "Session.Revoked: nil"},
		{"pointer field", func(s *store.Session) { s.Revoked = &store.Revocation{At: t0, Reason: api.ReasonAdmin} }, "Session.Revoked.Reason"},
	}
	for _, tc := range cases {
		got := base
		r := *base.Revoked
		got.Revoked = &r
		tc.mod(&got)
		d := strings.Join(diff(got, base), "\n")
		switch {
		case tc.want == "" && d != "":
			t.Errorf("%s: diff %q, want none", tc.name, d)
		case tc.want != "" && !strings.Contains(d, tc.want):
			t.Errorf("%s: diff %q, want it to mention %q", tc.name, d, tc.want)
		}
	}

	if d := diff(store.RefreshToken{Hash: []byte{}}, store.RefreshToken{}); len(d) != 0 {
		t.Errorf("nil and empty hash: diff %q, want none", d)
	}
	a := []store.AuditRecord{{Seq: 1}, {Seq: 2}}
	if d := diff(a, a[:1]); len(d) != 1 || !strings.Contains(d[0], "2 elements, want 1") {
		t.Errorf("slice length: diff %q", d)
	}
	if d := diff(a, []store.AuditRecord{{Seq: 1}, {Seq: 3}}); len(d) != 1 || !strings.Contains(d[0], "[1].Seq") {
		t.Errorf("slice element: diff %q", d)
	}
}
