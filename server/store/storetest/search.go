package storetest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// plain gives a session neutral values in every field a search looks in
// (device name, model, OS, city, region, country, IP), so that a test's
// queries match only what it sets, then applies mod.
func plain(seen time.Time, mod func(*store.Session)) func(*store.Session) {
	return func(s *store.Session) {
		s.Device.Name, s.Device.Model, s.Device.OS = "Phone", "Generic", "Droid"
		s.Location = api.Location{City: "Lyon", Region: "Rhone", Country: "Gaul", CountryCode: "QZ"}
		s.IP, s.LastSeenAt = "192.0.2.1", seen
		if mod != nil {
			mod(s)
		}
	}
}

// testSearchSessions: a search finds the live sessions whose device name,
// model, OS, city, region, country or IP contains the text, ASCII letters
// in any case, %, _ and \ as themselves; in list order, without the
// excluded session, other accounts' or ended ones.
func testSearchSessions(f *fixture) {
	now := t0.Add(time.Hour)
	acct, other := f.account(), f.account()
	at := func(d time.Duration) time.Time { return now.Add(-d) }
	mk := func(a store.Account, seen time.Duration, mod func(*store.Session)) store.Session {
		s, _ := f.session(a, plain(at(seen), mod))
		return s
	}
	name := mk(acct, 1*time.Minute, func(s *store.Session) { s.Device.Name = "Kitchen iPad" })
	model := mk(acct, 2*time.Minute, func(s *store.Session) { s.Device.Model = "ThinkPad X1 Carbon" })
	osv := mk(acct, 3*time.Minute, func(s *store.Session) { s.Device.OS = "Haiku R1" })
	city := mk(acct, 4*time.Minute, func(s *store.Session) { s.Location.City = "Reykjavík" })
	region := mk(acct, 5*time.Minute, func(s *store.Session) { s.Location.Region = "Hokkaido" })
	country := mk(acct, 6*time.Minute, func(s *store.Session) { s.Location.Country = "Uruguay" })
	ip4 := mk(acct, 7*time.Minute, func(s *store.Session) { s.IP = "198.51.100.23" })
	ip6 := mk(acct, 8*time.Minute, func(s *store.Session) { s.IP = "2001:db8::7" })
	percent := mk(acct, 9*time.Minute, func(s *store.Session) { s.Device.Name = "Battery 100% Kiosk" })
	under := mk(acct, 10*time.Minute, func(s *store.Session) { s.Device.Name = "build_box" })
	slash := mk(acct, 11*time.Minute, func(s *store.Session) { s.Device.Name = `C:\Users\kiosk` })
	// Two that tie on last use, and the current session.
	tieA := mk(acct, 12*time.Minute, func(s *store.Session) { s.Device.Name = "Shared tablet" })
	tieB := mk(acct, 12*time.Minute, func(s *store.Session) { s.Device.Model = "Tablet S9" })
	current := mk(acct, 0, func(s *store.Session) { s.Device.Name = "Kitchen laptop" })
	// Matching sessions that are not listed: another account's, a revoked
	// one, an expired one and one past its idle deadline.
	mk(other, time.Minute, func(s *store.Session) { s.Device.Name = "Kitchen iPad" })
	gone := mk(acct, time.Minute, func(s *store.Session) { s.Device.Name = "Kitchen radio" })
	_, err := f.s.RevokeSession(f.ctx, acct.ID, gone.ID, revocation(now, current), store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	mk(acct, time.Minute, func(s *store.Session) { s.Device.Name, s.ExpiresAt = "Kitchen clock", now })
	mk(acct, 2*time.Hour, func(s *store.Session) { s.Device.Name, s.IdleTimeout = "Kitchen scale", time.Hour })

	all := []store.Session{current, name, model, osv, city, region, country, ip4, ip6, percent, under, slash, tieB, tieA}
	cases := []struct {
		q         string
		excludeID string
		want      []store.Session
	}{
		{"", "", all},
		{"", current.ID, all[1:]},
		{"Kitchen", "", []store.Session{current, name}},
		{"Kitchen", current.ID, []store.Session{name}},
		{"kitchen", "", []store.Session{current, name}},
		{"KITCHEN IPAD", "", []store.Session{name}},
		{"n iP", "", []store.Session{name}},
		{"thinkpad", "", []store.Session{model}},
		{"X1 CARBON", "", []store.Session{model}},
		{"haiku", "", []store.Session{osv}},
		{"r1", "", []store.Session{osv}},
		{"reykjavík", "", []store.Session{city}},
		{"JAVíK", "", []store.Session{city}}, // ASCII letters fold around a non-ASCII one
		{"ík", "", []store.Session{city}},
		{"hokkaido", "", []store.Session{region}},
		{"URUGUAY", "", []store.Session{country}},
		{"198.51.100.23", "", []store.Session{ip4}},
		{"51.100", "", []store.Session{ip4}},
		{"2001:DB8", "", []store.Session{ip6}},
		{"::7", "", []store.Session{ip6}},
		{"tablet", "", []store.Session{tieB, tieA}},
		{"tablet", tieA.ID, []store.Session{tieB}},
		// Wildcards and the escape character are literal.
		{"%", "", []store.Session{percent}},
		{"100%", "", []store.Session{percent}},
		{"100%k", "", nil},
		{"0% k", "", []store.Session{percent}},
		{"_", "", []store.Session{under}},
		{"d_b", "", []store.Session{under}},
		{"d_", "", []store.Session{under}},
		{"Kitch_n", "", nil},
		{"K%n", "", nil},
		{`\`, "", []store.Session{slash}},
		{`\users\`, "", []store.Session{slash}},
		{`\u`, "", []store.Session{slash}},
		{`\%`, "", nil},
		{`\_`, "", nil},
		{"'", "", nil},
		{`"); DROP TABLE sessions; --`, "", nil},
		// Not a field a search looks in: the ID, the device ID, the
		// platform, the country code, the app version.
		{name.ID, "", nil},
		{name.Device.ID, "", nil},
		{api.PlatformAndroid, "", nil},
		{"QZ", "", nil},
		{"1.4.2", "", nil},
		{"no such device", "", nil},
	}
	for _, tc := range cases {
		what := fmt.Sprintf("SearchSessions(q %q, excluding %q)", tc.q, tc.excludeID)
		got, err := f.s.SearchSessions(f.ctx, acct.ID, tc.excludeID, now, tc.q, nil, 50)
		ok(f.t, what, err)
		if !slices.Equal(ids(got), ids(tc.want)) {
			f.t.Errorf("%s = %v, want %v", what, ids(got), ids(tc.want))
			continue
		}
		if len(tc.want) > 0 {
			check(f.t, what, got, tc.want)
		}
	}
	// Unknown account, no limit.
	got, err := f.s.SearchSessions(f.ctx, f.id("acc"), "", now, "Kitchen", nil, 50)
	ok(f.t, "SearchSessions(unknown account)", err)
	if len(got) != 0 {
		f.t.Errorf("SearchSessions(unknown account) = %v, want none", ids(got))
	}
	got, err = f.s.SearchSessions(f.ctx, acct.ID, "", now, "Kitchen", nil, 0)
	ok(f.t, "SearchSessions(limit 0)", err)
	if len(got) != 0 {
		f.t.Errorf("SearchSessions(limit 0) = %v, want none", ids(got))
	}
}

// testSearchSessionsPaging: pages of a search, joined, are the search in
// list order whatever the limit; a cursor taken from another search (or
// none) goes on from its position.
func testSearchSessionsPaging(f *fixture) {
	now := t0.Add(time.Hour)
	acct := f.account()
	var all, matching []store.Session
	var current store.Session
	for i := range 40 {
		// Seven distinct times, so most sessions tie with others; every
		// third matches "Work", in a different field each time.
		mod := func(s *store.Session) {
			switch i % 9 {
			case 0:
				s.Device.Name = fmt.Sprintf("Work laptop %d", i)
			case 3:
				s.Device.Model = "WorkStation Pro"
			case 6:
				s.Location.City = "Networkville"
			}
		}
		s, _ := f.session(acct, plain(now.Add(-time.Duration(i%7)*time.Minute), mod))
		if i == 9 {
			current = s
			continue
		}
		all = append(all, s)
		if i%3 == 0 {
			matching = append(matching, s)
		}
	}
	byList := func(a, b store.Session) int {
		if c := b.LastSeenAt.Compare(a.LastSeenAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	}
	slices.SortFunc(all, byList)
	slices.SortFunc(matching, byList)

	for _, limit := range []int{1, 2, 3, 5, len(matching) - 1, len(matching), len(matching) + 1, 200} {
		var got []store.Session
		var cursor *store.SessionCursor
		for page := 0; ; page++ {
			if page > len(matching)+1 {
				f.t.Fatalf("limit %d: paging does not end", limit)
			}
			p, err := f.s.SearchSessions(f.ctx, acct.ID, current.ID, now, "work", cursor, limit)
			ok(f.t, fmt.Sprintf("limit %d page %d", limit, page), err)
			if len(p) > limit {
				f.t.Fatalf("limit %d page %d: %d sessions", limit, page, len(p))
			}
			got = append(got, p...)
			if len(p) < limit {
				break
			}
			last := p[len(p)-1]
			cursor = &store.SessionCursor{LastSeenAt: last.LastSeenAt, ID: last.ID}
		}
		if !slices.Equal(ids(got), ids(matching)) {
			f.t.Errorf("limit %d: pages joined = %v,\nwant %v", limit, ids(got), ids(matching))
			continue
		}
		check(f.t, fmt.Sprintf("limit %d", limit), got, matching)
	}

	// A cursor from the unfiltered list, at a session that does not
	// match: the search goes on after its position.
	for _, k := range []int{1, 10, 20, len(all) - 1} {
		pos := all[k]
		var want []store.Session
		for _, s := range matching {
			if byList(pos, s) < 0 {
				want = append(want, s)
			}
		}
		got, err := f.s.SearchSessions(f.ctx, acct.ID, current.ID, now, "WORK",
			&store.SessionCursor{LastSeenAt: pos.LastSeenAt, ID: pos.ID}, 100)
		ok(f.t, "search after a list cursor", err)
		if !slices.Equal(ids(got), ids(want)) {
			f.t.Errorf("search after list position %d = %v, want %v", k, ids(got), ids(want))
		}
	}
}

// testCountSessions: CountSessions counts the live sessions that match,
// but the current one, those used since activeSince, and says whether the
// current session matches, whatever its expiry.
func testCountSessions(f *fixture) {
	now := t0.Add(48 * time.Hour)
	since := now.Add(-api.ActiveTodayWindow)
	acct, other := f.account(), f.account()
	mk := func(a store.Account, seen time.Time, mod func(*store.Session)) store.Session {
		s, _ := f.session(a, plain(seen, mod))
		return s
	}
	named := func(n string) func(*store.Session) { return func(s *store.Session) { s.Device.Name = n } }
	current := mk(acct, now, named("Office desktop"))
	// Live: three used today (one exactly at the window's start), two
	// earlier.
	mk(acct, now.Add(-time.Minute), named("Office laptop"))
	mk(acct, since, named("Home laptop"))
	mk(acct, now.Add(-23*time.Hour), func(s *store.Session) { s.Location.City = "Officeville" })
	mk(acct, since.Add(-time.Microsecond), named("Office 100% tablet"))
	mk(acct, now.Add(-30*24*time.Hour), named("Old phone"))
	// Not live, matching all the same: revoked, expired, expiring at now,
	// past its idle deadline; and another account's.
	gone := mk(acct, now, named("Office revoked"))
	_, err := f.s.RevokeSession(f.ctx, acct.ID, gone.ID, revocation(now, current), store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)
	mk(acct, now.Add(-time.Hour), func(s *store.Session) { s.Device.Name, s.ExpiresAt = "Office expired", now.Add(-time.Minute) })
	mk(acct, now.Add(-time.Hour), func(s *store.Session) { s.Device.Name, s.ExpiresAt = "Office at its end", now })
	mk(acct, now.Add(-2*time.Hour), func(s *store.Session) { s.Device.Name, s.IdleTimeout = "Office idle", time.Hour })
	for range 3 {
		mk(other, now, named("Office desktop"))
	}

	cases := []struct {
		q         string
		currentID string
		want      store.SessionCount
	}{
		{"", current.ID, store.SessionCount{Total: 5, Active: 3, Current: true}},
		{"", "", store.SessionCount{Total: 6, Active: 4}},
		{"", f.id("ses"), store.SessionCount{Total: 6, Active: 4}},
		{"office", current.ID, store.SessionCount{Total: 3, Active: 2, Current: true}},
		{"OFFICE", "", store.SessionCount{Total: 4, Active: 3}},
		{"laptop", current.ID, store.SessionCount{Total: 2, Active: 2}},
		{"Desktop", current.ID, store.SessionCount{Total: 0, Active: 0, Current: true}},
		{"%", current.ID, store.SessionCount{Total: 1}},
		{"_", current.ID, store.SessionCount{}},
		{"phone", current.ID, store.SessionCount{Total: 2, Active: 1}}, // "Old phone", and "Phone" in Officeville
		{"no such device", current.ID, store.SessionCount{}},
		// A revoked session is never current.
		{"office", gone.ID, store.SessionCount{Total: 4, Active: 3}},
	}
	for _, tc := range cases {
		what := fmt.Sprintf("CountSessions(q %q, current %q)", tc.q, tc.currentID)
		got, err := f.s.CountSessions(f.ctx, acct.ID, tc.currentID, now, since, tc.q)
		ok(f.t, what, err)
		if got != tc.want {
			f.t.Errorf("%s = %+v, want %+v", what, got, tc.want)
		}
		// The count is what a search lists.
		list, err := f.s.SearchSessions(f.ctx, acct.ID, tc.currentID, now, tc.q, nil, 100)
		ok(f.t, what, err)
		if len(list) != got.Total {
			f.t.Errorf("%s: Total %d, but the search lists %d", what, got.Total, len(list))
		}
	}

	// The current session counts as matching whatever its expiry or
	// last use: the caller has just authenticated it.
	stale := mk(acct, now.Add(-3*time.Hour), func(s *store.Session) {
		s.Device.Name, s.ExpiresAt, s.IdleTimeout = "Office stale", now.Add(-time.Hour), time.Hour
	})
	got, err := f.s.CountSessions(f.ctx, acct.ID, stale.ID, now, since, "stale")
	ok(f.t, "CountSessions(stale current)", err)
	if want := (store.SessionCount{Current: true}); got != want {
		f.t.Errorf("CountSessions(stale current) = %+v, want %+v", got, want)
	}
	got, err = f.s.CountSessions(f.ctx, f.id("acc"), "", now, since, "")
	ok(f.t, "CountSessions(unknown account)", err)
	if got != (store.SessionCount{}) {
		f.t.Errorf("CountSessions(unknown account) = %+v, want zero", got)
	}
}
