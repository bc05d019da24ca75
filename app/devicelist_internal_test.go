package app

import (
	"slices"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
)

// sessions makes a device list from "id@t" items, t the last use in
// minutes (higher: later); "*" before the id marks this device.
func sessions(items ...string) []api.Session {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]api.Session, 0, len(items))
	for _, it := range items {
		id, at, _ := strings.Cut(it, "@")
		current := strings.HasPrefix(id, "*")
		n := 0
		for _, c := range at {
			n = n*10 + int(c-'0')
		}
		out = append(out, api.Session{ID: strings.TrimPrefix(id, "*"), Current: current, LastSeenAt: base.Add(time.Duration(n) * time.Minute)})
	}
	return out
}

func ids(list []api.Session) []string {
	out := make([]string, len(list))
	for i, d := range list {
		out[i] = d.ID
	}
	return out
}

func TestMergeFirstPage(t *testing.T) {
	tests := []struct {
		name       string
		list       []api.Session
		cursor     string
		whole      bool
		page       []api.Session
		next       string
		want       []string
		wantCursor string
	}{
		{"the page is the whole list", sessions("*me@99", "a@50", "b@40", "c@30"), "", true,
			sessions("*me@99", "a@50", "c@30"), "", []string{"me", "a", "c"}, ""},
		{"nothing loaded beyond the page", sessions("*me@99", "a@50"), "", true,
			sessions("*me@99", "n@60", "a@50"), "p1", []string{"me", "n", "a"}, "p1"},
		{"beyond the page stays, loading goes on from there", sessions("*me@99", "a@50", "b@40", "c@30", "d@20"), "l4", false,
			sessions("*me@99", "a@50", "b@40"), "p1", []string{"me", "a", "b", "c", "d"}, "l4"},
		{"gone within the page is dropped", sessions("*me@99", "a@50", "b@40", "c@30", "d@20"), "l4", false,
			sessions("*me@99", "a@50", "c@30"), "p1", []string{"me", "a", "c", "d"}, "l4"},
		{"used again: moved up, listed once", sessions("*me@99", "a@50", "b@40", "c@30", "d@20"), "l4", false,
			sessions("*me@99", "d@70", "a@50"), "p1", []string{"me", "d", "a", "b", "c"}, "l4"},
		{"pushed beyond the page by new sign-ins: stays", sessions("*me@99", "a@50", "b@40", "c@30"), "l3", false,
			sessions("*me@99", "x@80", "y@70"), "p1", []string{"me", "x", "y", "a", "b", "c"}, "l3"},
		{"last used with the page's last: stays", sessions("*me@99", "a@50", "b@40"), "l2", false,
			sessions("*me@99", "a@50", "z@40"), "p1", []string{"me", "a", "z", "b"}, "l2"},
		{"every device loaded: still all", sessions("*me@99", "a@50", "b@40", "c@30"), "", true,
			sessions("*me@99", "n@90", "a@50"), "p1", []string{"me", "n", "a", "b", "c"}, ""},
		{"the cache's list: the page alone", sessions("*me@99", "a@50", "b@40", "c@30"), "", false,
			sessions("*me@99", "a@50"), "p1", []string{"me", "a"}, "p1"},
		{"this device is never kept beyond", sessions("*me@10", "a@50", "b@40"), "l2", false,
			sessions("a@50"), "p1", []string{"a", "b"}, "l2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.list)
			got, cursor := mergeFirstPage(tt.list, tt.cursor, tt.whole, api.SessionsPage{Sessions: tt.page, NextCursor: tt.next})
			if !slices.Equal(ids(got), tt.want) || cursor != tt.wantCursor {
				t.Fatalf("got %v, cursor %q; want %v, %q", ids(got), cursor, tt.want, tt.wantCursor)
			}
			if !slices.Equal(tt.list, before) {
				t.Fatal("the old list changed")
			}
		})
	}
}

func TestMergeActivity(t *testing.T) {
	ev := func(ids ...string) []api.AuditEvent {
		out := make([]api.AuditEvent, len(ids))
		for i, id := range ids {
			out[i].ID = id
		}
		return out
	}
	evIDs := func(list []api.AuditEvent) []string {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.ID
		}
		return out
	}
	tests := []struct {
		name       string
		list       []api.AuditEvent
		cursor     string
		page       []api.AuditEvent
		next       string
		want       []string
		wantCursor string
	}{
		{"first load", nil, "", ev("e5", "e4"), "p", []string{"e5", "e4"}, "p"},
		{"nothing new", ev("e5", "e4", "e3", "e2"), "c", ev("e5", "e4"), "p", []string{"e5", "e4", "e3", "e2"}, "c"},
		{"new events before the loaded", ev("e5", "e4", "e3", "e2"), "c", ev("e7", "e6", "e5"), "p", []string{"e7", "e6", "e5", "e4", "e3", "e2"}, "c"},
		{"more than a page new", ev("e5", "e4"), "c", ev("e9", "e8"), "p", []string{"e9", "e8"}, "p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cursor := mergeActivity(tt.list, tt.cursor, api.AuditPage{Events: tt.page, NextCursor: tt.next})
			if !slices.Equal(evIDs(got), tt.want) || cursor != tt.wantCursor {
				t.Fatalf("got %v, cursor %q; want %v, %q", evIDs(got), cursor, tt.want, tt.wantCursor)
			}
		})
	}
}

// TestDeviceIndex: the set is kept while pages are appended to the same
// list, and made again for any other list.
func TestDeviceIndex(t *testing.T) {
	a := &App{}
	list := a.appendDevices(nil, sessions("*me@99", "a@50"))
	list = a.appendDevices(list, sessions("a@50", "b@40", "c@30"))
	if got := ids(list); !slices.Equal(got, []string{"me", "a", "b", "c"}) {
		t.Fatalf("appended: %v", got)
	}
	set := a.devIDs.of(list)
	if len(set) != 4 {
		t.Fatalf("set of %d", len(set))
	}
	other := slices.Concat(list[:1], list[2:]) // "a" gone, in a new list
	if _, ok := a.devIDs.of(other)["a"]; ok {
		t.Fatal("the set of another list still has a device it lacks")
	}
	shorter := list[:2:2]
	if got := len(a.devIDs.of(shorter)); got != 2 {
		t.Fatalf("the set of a shorter view has %d", got)
	}
}
