package storetest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"sessionguard/server/store"
)

// seenAt makes a session last seen at at.
func seenAt(at time.Time) func(*store.Session) {
	return func(s *store.Session) { s.LastSeenAt = at }
}

func testListSessionsOrderAndFilter(f *fixture) {
	now := t0.Add(time.Hour)
	acct, other := f.account(), f.account()
	at := func(d time.Duration) time.Time { return now.Add(-d) }

	// Created in an order that is neither the list order nor its reverse.
	s1, _ := f.session(acct, seenAt(at(time.Minute)))
	s2, _ := f.session(acct, seenAt(at(time.Minute))) // ties with s1, larger ID: first
	s3, _ := f.session(acct, seenAt(at(10*time.Minute)))
	s4, _ := f.session(acct, seenAt(at(5*time.Minute))) // revoked below
	f.session(acct, func(s *store.Session) {            // expires exactly now: out
		s.LastSeenAt, s.ExpiresAt = at(2*time.Minute), now
	})
	s6, _ := f.session(acct, func(s *store.Session) { // expires 1µs after now: in
		s.LastSeenAt, s.ExpiresAt = at(3*time.Minute), now.Add(time.Microsecond)
	})
	s7, _ := f.session(acct, seenAt(at(30*time.Second))) // the current session
	s8, _ := f.session(acct, seenAt(at(time.Hour)))
	f.session(acct, func(s *store.Session) { // expired long ago
		s.LastSeenAt, s.ExpiresAt = at(20*time.Second), t0
	})
	// Another account's sessions with the same times never show.
	for _, d := range []time.Duration{0, 30 * time.Second, time.Minute, 3 * time.Minute, 2 * time.Hour} {
		f.session(other, seenAt(at(d)))
	}
	_, err := f.s.RevokeSession(f.ctx, acct.ID, s4.ID, revocation(at(4*time.Minute), s7), store.RevokeEffects{})
	ok(f.t, "RevokeSession", err)

	all := []store.Session{s7, s2, s1, s6, s3, s8}
	cases := []struct {
		name      string
		excludeID string
		limit     int
		want      []store.Session
	}{
		{"all live", "", 50, all},
		{"excluding the current session", s7.ID, 50, all[1:]},
		{"excluding an unknown ID", f.id("ses"), 50, all},
		{"excluding a revoked session", s4.ID, 50, all},
		{"limit", s7.ID, 2, all[1:3]},
		{"limit 1", "", 1, all[:1]},
		{"limit equal to the count", "", len(all), all},
	}
	for _, tc := range cases {
		got, err := f.s.ListSessions(f.ctx, acct.ID, tc.excludeID, now, nil, tc.limit)
		ok(f.t, tc.name, err)
		if !slices.Equal(ids(got), ids(tc.want)) {
			f.t.Errorf("%s: ListSessions = %v, want %v", tc.name, ids(got), ids(tc.want))
			continue
		}
		check(f.t, tc.name, got, tc.want)
	}
}

func testListSessionsPaging(f *fixture) {
	now := t0.Add(time.Hour)
	acct, other := f.account(), f.account()
	var live []store.Session
	var current store.Session
	for i := range 23 {
		// Seven distinct times, so most sessions tie with others.
		s, _ := f.session(acct, seenAt(now.Add(-time.Duration(i%7)*time.Minute)))
		if i == 11 {
			current = s
			continue
		}
		live = append(live, s)
		f.session(other, seenAt(s.LastSeenAt))
	}
	for i := range 3 {
		s, _ := f.session(acct, seenAt(now.Add(-time.Duration(i)*time.Minute)))
		_, err := f.s.RevokeSession(f.ctx, acct.ID, s.ID, revocation(now, current), store.RevokeEffects{})
		ok(f.t, "RevokeSession", err)
	}
	slices.SortFunc(live, func(a, b store.Session) int {
		if c := b.LastSeenAt.Compare(a.LastSeenAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})

	for _, limit := range []int{1, 2, 5, 7, 11, 21, 22, 23, 100} {
		var got []store.Session
		var cursor *store.SessionCursor
		for page := 0; ; page++ {
			if page > len(live)+1 {
				f.t.Fatalf("limit %d: paging does not end", limit)
			}
			p, err := f.s.ListSessions(f.ctx, acct.ID, current.ID, now, cursor, limit)
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
		if !slices.Equal(ids(got), ids(live)) {
			f.t.Errorf("limit %d: pages joined = %v,\nwant %v", limit, ids(got), ids(live))
			continue
		}
		check(f.t, fmt.Sprintf("limit %d", limit), got, live)
	}
}

// testListSessionsCursorSurvivesRevoke: the cursor is a position, not a
// row, so revoking the session it was taken from does not disturb paging.
func testListSessionsCursorSurvivesRevoke(f *fixture) {
	now := t0.Add(time.Hour)
	acct := f.account()
	var all []store.Session
	for i := range 8 {
		s, _ := f.session(acct, seenAt(now.Add(-time.Duration(i/2)*time.Minute)))
		all = append(all, s)
	}
	// In list order: 1 0 3 2 5 4 7 6.
	order := []store.Session{all[1], all[0], all[3], all[2], all[5], all[4], all[7], all[6]}

	p1, err := f.s.ListSessions(f.ctx, acct.ID, "", now, nil, 3)
	ok(f.t, "page 1", err)
	if !slices.Equal(ids(p1), ids(order[:3])) {
		f.t.Fatalf("page 1 = %v, want %v", ids(p1), ids(order[:3]))
	}
	last := p1[2]
	for _, s := range []store.Session{last, order[4]} {
		_, err := f.s.RevokeSession(f.ctx, acct.ID, s.ID, revocation(now, order[0]), store.RevokeEffects{})
		ok(f.t, "RevokeSession", err)
	}
	p2, err := f.s.ListSessions(f.ctx, acct.ID, "", now, &store.SessionCursor{LastSeenAt: last.LastSeenAt, ID: last.ID}, 3)
	ok(f.t, "page 2", err)
	want := []store.Session{order[3], order[5], order[6]}
	if !slices.Equal(ids(p2), ids(want)) {
		f.t.Errorf("page 2 after revoking the cursor's session = %v, want %v", ids(p2), ids(want))
	}

	// A cursor between two sessions of the same time.
	p3, err := f.s.ListSessions(f.ctx, acct.ID, "", now, &store.SessionCursor{LastSeenAt: order[6].LastSeenAt, ID: order[6].ID}, 3)
	ok(f.t, "last page", err)
	if !slices.Equal(ids(p3), ids(order[7:])) {
		f.t.Errorf("page after %s = %v, want %v", order[6].ID, ids(p3), ids(order[7:]))
	}
}

func testListSessionsUnknownAccount(f *fixture) {
	acct := f.account()
	f.session(acct, nil)
	got, err := f.s.ListSessions(f.ctx, f.id("acc"), "", t0, nil, 10)
	ok(f.t, "ListSessions(unknown account)", err)
	if len(got) != 0 {
		f.t.Errorf("ListSessions(unknown account) = %v, want none", ids(got))
	}
}
