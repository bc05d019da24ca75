package app

// The device list at scale (issue 19): searching it, loading all of it,
// merging a reload of its first page, a sign-in elsewhere put in place,
// and the set of loaded IDs that keeps each page's work proportional to
// the page. Snapshots share the list (see Snapshot): every change here
// makes a new one, or appends past the end of the last.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"sessionguard/api"
)

// SearchDevices shows in Devices the account's devices whose name, model,
// system, place or address contains q (case-insensitive; GET
// /v1/sessions?q=), loading their first page, with their counts in
// DeviceCounts; q "" shows every device again. At most
// api.SessionQueryMaxLen characters.
//
// q is trimmed. A longer one is a *FieldError for "search", returned
// without changing the list (nor Snapshot.Err: a search is not an
// action). LoadMoreDevices then goes on with the matches, and refreshes
// reload the search's first page. Ticked devices that are not among the
// matches are unticked.
func (a *App) SearchDevices(ctx context.Context, q string) error {
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > api.SessionQueryMaxLen {
		return &FieldError{"search", fmt.Sprintf("Search with at most %d characters.", api.SessionQueryMaxLen)}
	}
	gen := a.generation()
	for {
		stale, err := a.loadDevicePage(ctx, gen, newSearch, q)
		if err != nil || !stale {
			return err
		}
		// The list changed here meanwhile (a device logged out): the
		// matches may still hold it. Search again.
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// LoadAllDevices loads every page of Devices not loaded yet, one after
// another at the largest page size: "jump to the end" of a long list.
//
// It stops at the end of the list; early, without error, when another
// search is shown; with ErrNotSignedIn when the sign-in ends; on an error
// (offline: the list loaded so far stays) or when ctx ends, with that. No
// lock is held while a page is on its way; LoadMoreDevices does nothing
// meanwhile, and a second LoadAllDevices returns at once.
func (a *App) LoadAllDevices(ctx context.Context) error {
	a.mu.Lock()
	if a.allDevices {
		a.mu.Unlock()
		return nil
	}
	a.allDevices = true
	gen, q := a.gen, a.snap.DeviceQuery
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.allDevices = false
		a.mu.Unlock()
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		snap := a.Snapshot()
		switch {
		case !a.current(gen) || snap.State != StateSignedIn:
			return ErrNotSignedIn
		case snap.DeviceQuery != q || snap.DevicesCursor == "":
			return nil
		}
		// A page dropped as stale (the list changed here meanwhile) is
		// asked for again: the cursor has not moved.
		if _, err := a.loadDevicePage(ctx, gen, nextPage, ""); err != nil {
			return err
		}
	}
}

// deviceIndex is the set of IDs of one device list, kept with the list it
// was made for, so that appending a page looks its rows up in the set
// rather than going over the whole list for each. For any other list
// (replaced, merged, shortened) it is made again. Guarded by mu.
type deviceIndex struct {
	list []api.Session
	ids  map[string]struct{}
}

// of returns the IDs of list: the index's set when it was made for list,
// else a new set, which the index keeps.
//
// A list is known by its first element's address and its length: lists
// are never changed in place (Snapshot), and the index holds on to the
// one it was made for, so no other list can have its address.
func (x *deviceIndex) of(list []api.Session) map[string]struct{} {
	if x.ids == nil || len(x.list) != len(list) || (len(list) > 0 && &x.list[0] != &list[0]) {
		x.ids = make(map[string]struct{}, len(list))
		for _, d := range list {
			x.ids[d.ID] = struct{}{}
		}
	}
	x.list = list
	return x.ids
}

// listed says whether the device of session id is in s.Devices. Call
// with mu held.
func (a *App) listed(s *Snapshot, id string) bool {
	_, ok := a.devIDs.of(s.Devices)[id]
	return ok
}

// appendDevices is list with the devices of page it does not hold yet
// appended: the work of a page, whatever the length of list (appending
// past its end leaves the snapshots that share it unchanged). Call with mu
// held.
func (a *App) appendDevices(list, page []api.Session) []api.Session {
	ids := a.devIDs.of(list)
	for _, d := range page {
		if _, dup := ids[d.ID]; !dup {
			ids[d.ID] = struct{}{}
			list = append(list, d)
		}
	}
	a.devIDs.list = list
	return list
}

// mergeFirstPage is the device list after a reload of its first page:
// the page, then the loaded devices that lie beyond it, and where loading
// goes on (the new DevicesCursor), for list and cursor, the list loaded
// so far. whole says that list, when cursor is empty, holds every device
// the server had (and not the last known first ones, from the cache).
//
// The server lists this device first, then the others by last use,
// newest first, and a device's last use only ever moves later. So a
// loaded device missing from the page but last used after the page's
// last device is gone (it would be on the page otherwise): it is dropped.
// One last used no later than that lies beyond the page: it stays, after
// the page, in the order loaded, unless the page has it (used since).
// Loading goes on from where it had got to (cursor) when devices beyond
// the page stayed, else from the end of the page. What this cannot see:
// devices beyond the page that ended meanwhile (removed here when logged
// out from here; the next full reload drops the others), and devices not
// loaded yet that were used since and now lie between the page and the
// kept ones (the next reload of the first page shows them once they
// reach it, as a sign-in elsewhere does at once).
func mergeFirstPage(list []api.Session, cursor string, whole bool, page api.SessionsPage) ([]api.Session, string) {
	first := page.Sessions
	if page.NextCursor == "" || len(first) == 0 || (cursor == "" && !whole) {
		return first, page.NextCursor // the whole list, or nothing known beyond the page
	}
	last := first[len(first)-1].LastSeenAt
	onPage := make(map[string]struct{}, len(first))
	for _, d := range first {
		onPage[d.ID] = struct{}{}
	}
	beyond := func(d api.Session) bool {
		_, on := onPage[d.ID]
		return !on && !d.Current && !d.LastSeenAt.After(last)
	}
	n := 0
	for _, d := range list {
		if beyond(d) {
			n++
		}
	}
	if n == 0 {
		return first, page.NextCursor
	}
	merged := make([]api.Session, 0, len(first)+n)
	merged = append(merged, first...)
	for _, d := range list {
		if beyond(d) {
			merged = append(merged, d)
		}
	}
	return merged, cursor
}

// addDevice puts sess, a sign-in elsewhere just announced
// (session.created), in the device list right after this device, and in
// its counts, unless it is listed already. Not while a search is shown:
// whether it matches is the server's to say (the sessions.changed that
// follows reloads the search). Call with mu held (inside update).
func (a *App) addDevice(s *Snapshot, sess api.Session) {
	if s.State != StateSignedIn || s.DeviceQuery != "" || sess.ID == "" ||
		(s.Session != nil && sess.ID == s.Session.ID) || a.listed(s, sess.ID) {
		return
	}
	sess.Current = false
	at := 0
	if len(s.Devices) > 0 && s.Devices[0].Current {
		at = 1
	}
	s.Devices = slices.Concat(s.Devices[:at], []api.Session{sess}, s.Devices[at:])
	// A page on its way predates it: a first page would drop it as gone.
	a.devicesEpoch++
	if c := s.DeviceCounts; c != nil {
		s.DeviceCounts = &api.SessionCounts{Total: c.Total + 1, ActiveToday: c.ActiveToday + 1}
	}
}

// changeDevice is list with fn applied to the device of session id, in a
// copy (snapshots share list); list itself when it has no such device.
func changeDevice(list []api.Session, id string, fn func(*api.Session)) []api.Session {
	i := slices.IndexFunc(list, func(d api.Session) bool { return d.ID == id })
	if i < 0 {
		return list
	}
	list = slices.Clone(list)
	fn(&list[i])
	return list
}
