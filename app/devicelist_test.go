package app_test

// The device list at scale (issue 19), on a real sessiond whose account
// is seeded straight into the store (app.SeedSessions): loading every
// page, a sign-in elsewhere and a refresh while many are loaded, search,
// LoadAllDevices, and snapshots that stay as they were.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/server/store"
)

// largeAccount signs "ana" up on a device called Laptop and seeds n more
// sessions on the account, listed after it in the order of the IDs
// returned. Only the first page is loaded then.
func largeAccount(t *testing.T, n int) (*backend, *device, []string) {
	t.Helper()
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", false)
	ids, err := app.SeedSessions(ctx, b.Store, d.snap().Account.ID, n, b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.app.LoadDevices(ctx); err != nil {
		t.Fatal(err)
	}
	return b, d, ids
}

// wantDevices checks that s lists this device first and then exactly
// want, in that order, each once.
func wantDevices(t *testing.T, s app.Snapshot, want []string) {
	t.Helper()
	if len(s.Devices) == 0 || s.Session == nil || s.Devices[0].ID != s.Session.ID {
		t.Fatalf("this device is not first: %d devices", len(s.Devices))
	}
	got := make([]string, 0, len(s.Devices)-1)
	for _, d := range s.Devices[1:] {
		got = append(got, d.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("devices after this one: %d, want %d; first difference at %d",
			len(got), len(want), firstDifference(got, want))
	}
}

func firstDifference(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestLoadTenThousandDevices: pages of 200 reach the end of 10,000
// devices, each listed once, and the cache keeps the first 200.
func TestLoadTenThousandDevices(t *testing.T) {
	_, d, ids := largeAccount(t, 9_999)
	s := d.snap()
	if len(s.Devices) != 200 || s.DevicesCursor == "" {
		t.Fatalf("first page: %d devices, cursor %q", len(s.Devices), s.DevicesCursor)
	}
	pages := 1
	for d.snap().DevicesCursor != "" {
		before := len(d.snap().Devices)
		if err := d.app.LoadMoreDevices(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(d.snap().Devices) - before; got != 200 {
			t.Fatalf("page %d added %d devices, want 200", pages+1, got)
		}
		pages++
	}
	if pages != 50 {
		t.Errorf("%d pages, want 50", pages)
	}
	s = d.snap()
	wantDevices(t, s, ids)
	if s.DeviceCounts != nil && (s.DeviceCounts.Total != 10_000 || s.DeviceCounts.ActiveToday != 10_000) {
		t.Errorf("counts %+v, want 10,000 in all and active today", *s.DeviceCounts)
	}

	raw, err := os.ReadFile(filepath.Join(d.cache, "devices.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cached struct{ Devices []api.Session }
	if err := json.Unmarshal(raw, &cached); err != nil {
		t.Fatal(err)
	}
	if len(cached.Devices) != 200 || cached.Devices[199].ID != s.Devices[199].ID {
		t.Errorf("the cache holds %d devices, want the first 200", len(cached.Devices))
	}
}

// TestSignInElsewhereKeepsLoaded: with 500 devices loaded, a sign-in
// elsewhere (session.created, then sessions.changed) adds the new device
// right after this one and keeps every loaded device.
func TestSignInElsewhereKeepsLoaded(t *testing.T) {
	b, d, ids := largeAccount(t, 499)
	if err := d.app.LoadAllDevices(ctx); err != nil {
		t.Fatal(err)
	}
	wantDevices(t, d.snap(), ids)

	login, err := b.client().Login(ctx, api.LoginRequest{Username: "ana", Password: password,
		Device: api.Device{ID: "dev-new", Name: "New phone", Platform: api.PlatformAndroid}})
	if err != nil {
		t.Fatal(err)
	}
	s := d.waitFor("the new phone", func(s app.Snapshot) bool { return len(s.Devices) == 501 })
	wantDevices(t, s, append([]string{login.Session.ID}, ids...))
	if s.Alert == nil || s.Alert.Session.ID != login.Session.ID {
		t.Errorf("alert %+v", s.Alert)
	}
	if c := s.DeviceCounts; c != nil && c.Total != 501 {
		t.Errorf("counts %+v, want 501 devices", *c)
	}
	// The refresh sessions.changed asks for merges the first page: the
	// same list.
	if err := d.app.LoadDevices(ctx); err != nil {
		t.Fatal(err)
	}
	s = d.snap()
	wantDevices(t, s, append([]string{login.Session.ID}, ids...))
	if s.DevicesCursor != "" {
		t.Errorf("cursor %q after every device was loaded", s.DevicesCursor)
	}
	if c := s.DeviceCounts; c != nil && (c.Total != 501 || c.ActiveToday != 501) {
		t.Errorf("counts %+v, want 501 devices, all active today", *c)
	}
}

// TestRefreshMergesFirstPage: a reload of the first page with more
// loaded replaces what the page covers and keeps the rest, as the cases
// say.
func TestRefreshMergesFirstPage(t *testing.T) {
	tests := []struct {
		name string
		// loadAll: every page loaded first (else two of three).
		loadAll bool
		// change is made elsewhere, from the session signed in as c,
		// with loaded, the seeded devices loaded; it returns the devices
		// the app should list after this one.
		change func(t *testing.T, b *backend, c *clientSession, loaded []string) []string
	}{
		{"nothing changed", true, func(t *testing.T, b *backend, c *clientSession, loaded []string) []string {
			return append([]string{c.id}, loaded...)
		}},
		{"a device on the first page logged out elsewhere", true, func(t *testing.T, b *backend, c *clientSession, loaded []string) []string {
			c.revoke(t, loaded[10])
			return append([]string{c.id}, slices.Delete(slices.Clone(loaded), 10, 11)...)
		}},
		{"a device on the first page logged out, not all loaded", false, func(t *testing.T, b *backend, c *clientSession, loaded []string) []string {
			c.revoke(t, loaded[0])
			return append([]string{c.id}, loaded[1:]...)
		}},
		{"a device beyond the first page used again", true, func(t *testing.T, b *backend, c *clientSession, loaded []string) []string {
			b.clock.Advance(time.Second)
			now := b.clock.Now()
			if err := b.Store.TouchSession(ctx, loaded[450], store.Touch{LastSeenAt: now, ExpiresAt: now.Add(time.Hour), IP: "10.9.9.9"}); err != nil {
				t.Fatal(err)
			}
			rest := slices.Delete(slices.Clone(loaded), 450, 451)
			return append([]string{loaded[450], c.id}, rest...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, d, ids := largeAccount(t, 599)
			loaded := ids[:399] // two pages: this device and 399
			if tt.loadAll {
				loaded = ids
				if err := d.app.LoadAllDevices(ctx); err != nil {
					t.Fatal(err)
				}
			} else if err := d.app.LoadMoreDevices(ctx); err != nil {
				t.Fatal(err)
			}
			cursor := d.snap().DevicesCursor
			c := signInElsewhere(t, b, d)
			want := tt.change(t, b, c, loaded)
			// A change elsewhere ends with sessions.changed (not a
			// change in the store): the refresh it starts does what
			// this one does.
			if err := d.app.LoadDevices(ctx); err != nil {
				t.Fatal(err)
			}
			s := d.waitFor("the change", func(s app.Snapshot) bool { return len(s.Devices) == 1+len(want) })
			wantDevices(t, s, want)
			if s.DevicesCursor != cursor {
				t.Errorf("cursor %q, want %q (where loading had got to)", s.DevicesCursor, cursor)
			}
		})
	}
}

// clientSession is a sign-in to the account with no app.
type clientSession struct {
	b  *backend
	id string
	c  interface {
		RevokeSession(context.Context, string) (api.Session, error)
	}
}

// signInElsewhere signs in to the account from a device without app
// and waits for d to list it.
func signInElsewhere(t *testing.T, b *backend, d *device) *clientSession {
	t.Helper()
	c := b.client()
	login, err := c.Login(ctx, api.LoginRequest{Username: "ana", Password: password,
		Device: api.Device{ID: "dev-elsewhere", Name: "Elsewhere", Platform: api.PlatformLinux}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetTokens(login.Tokens())
	d.waitFor("the sign-in elsewhere", func(s app.Snapshot) bool {
		return len(s.Devices) > 1 && s.Devices[1].ID == login.Session.ID
	})
	return &clientSession{b: b, id: login.Session.ID, c: c}
}

func (c *clientSession) revoke(t *testing.T, id string) {
	t.Helper()
	if _, err := c.c.RevokeSession(ctx, id); err != nil {
		t.Fatal(err)
	}
}

// TestSearchDevices: a search lists the matches, page by page, counts
// them, and goes back to every device when cleared.
func TestSearchDevices(t *testing.T) {
	_, d, ids := largeAccount(t, 2_999)
	if page, err := d.api.SessionsQuery(ctx, "kitchen", 1, ""); err != nil || page.Counts == nil {
		t.Skipf("this server does not search yet (%v)", err)
	}
	matches := func(q string) []string {
		var out []string
		for i, id := range ids {
			if strings.Contains(strings.ToLower(app.SeedName(i)), strings.ToLower(q)) || strings.Contains(app.SeedIP(i), q) {
				out = append(out, id)
			}
		}
		return out
	}
	tests := []struct {
		q         string
		wantPages bool // more than one page of matches
	}{
		{"kitchen", true},
		{"  KITCHEN iPad 29 ", false},
		{"10.0.1.", true},
		{"no such device", false},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if err := d.app.SearchDevices(ctx, tt.q); err != nil {
				t.Fatal(err)
			}
			s := d.snap()
			want := matches(strings.TrimSpace(tt.q))
			if s.DeviceQuery != strings.TrimSpace(tt.q) || (s.DevicesCursor != "") != tt.wantPages {
				t.Fatalf("query %q, cursor %q; %d matches", s.DeviceQuery, s.DevicesCursor, len(want))
			}
			if s.DeviceCounts == nil || s.DeviceCounts.Total != len(want) {
				t.Fatalf("counts %+v, want %d", s.DeviceCounts, len(want))
			}
			for d.snap().DevicesCursor != "" {
				if err := d.app.LoadMoreDevices(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, dev := range d.snap().Devices {
				got = append(got, dev.ID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%d devices listed, want the %d matches", len(got), len(want))
			}
			if s := d.snap(); s.Session == nil || s.Session.Device.Name != "Laptop" {
				t.Errorf("this session lost: %+v", s.Session)
			}
		})
	}

	// Too long: refused here, the list unchanged.
	err := d.app.SearchDevices(ctx, strings.Repeat("x", api.SessionQueryMaxLen+1))
	if fe, ok := errors.AsType[*app.FieldError](err); !ok || fe.Field != "search" {
		t.Fatalf("a long search: %v", err)
	}
	if s := d.snap(); s.DeviceQuery != "no such device" || s.Err != "" {
		t.Fatalf("after a long search: query %q, err %q", s.DeviceQuery, s.Err)
	}

	// Cleared: every device again, from the first page.
	if err := d.app.SearchDevices(ctx, ""); err != nil {
		t.Fatal(err)
	}
	s := d.snap()
	if s.DeviceQuery != "" || len(s.Devices) != 200 || s.DevicesCursor == "" || s.DeviceCounts.Total != 3_000 {
		t.Fatalf("cleared: query %q, %d devices, cursor %q, counts %+v", s.DeviceQuery, len(s.Devices), s.DevicesCursor, s.DeviceCounts)
	}
	wantDevices(t, s, ids[:199])
}

// TestLoadAllDevices: every page, one after the other; LoadMoreDevices
// does nothing meanwhile; a cancelled context stops it.
func TestLoadAllDevices(t *testing.T) {
	_, d, ids := largeAccount(t, 999)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := d.app.LoadAllDevices(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if n := len(d.snap().Devices); n != 200 {
		t.Fatalf("cancelled, %d devices loaded", n)
	}

	done := make(chan error, 1)
	go func() { done <- d.app.LoadAllDevices(ctx) }()
	for range 20 {
		if err := d.app.LoadMoreDevices(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := d.snap()
	wantDevices(t, s, ids)
	if s.DevicesCursor != "" {
		t.Fatalf("cursor %q at the end", s.DevicesCursor)
	}
	if err := d.app.LoadAllDevices(ctx); err != nil || len(d.snap().Devices) != 1_000 {
		t.Fatalf("again at the end: %v, %d devices", err, len(d.snap().Devices))
	}
}

// TestSnapshotsStayAsTheyWere: a snapshot taken before a change is the
// same after it, whatever the change; appending to a snapshot's list
// changes nothing in the app.
func TestSnapshotsStayAsTheyWere(t *testing.T) {
	b, d, ids := largeAccount(t, 449)
	if err := d.app.LoadMoreDevices(ctx); err != nil {
		t.Fatal(err)
	}
	d.app.SelectDevice(ids[3], true)
	if err := d.app.LoadActivity(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(t *testing.T)
	}{
		{"next page", func(t *testing.T) {
			if err := d.app.LoadMoreDevices(ctx); err != nil {
				t.Fatal(err)
			}
		}},
		{"sign-in elsewhere", func(t *testing.T) { signInElsewhere(t, b, d) }},
		{"refresh", func(t *testing.T) {
			if err := d.app.LoadDevices(ctx); err != nil {
				t.Fatal(err)
			}
		}},
		{"rename", func(t *testing.T) {
			if err := d.app.RenameDevice(ctx, ids[5], "Renamed"); err != nil {
				t.Fatal(err)
			}
		}},
		{"tick and untick", func(t *testing.T) {
			d.app.SelectDevice(ids[7], true)
			d.app.SelectDevice(ids[3], false)
		}},
		{"log out a device", func(t *testing.T) {
			if err := d.app.RevokeDevice(ctx, ids[1], false); err != nil {
				t.Fatal(err)
			}
		}},
		{"search", func(t *testing.T) {
			if err := d.app.SearchDevices(ctx, "kitchen"); err != nil {
				t.Fatal(err)
			}
		}},
		{"security log reloaded", func(t *testing.T) {
			if err := d.app.LoadActivity(ctx); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			held := d.snap()
			copied := deepCopy(t, held)
			tt.change(t)
			if !reflect.DeepEqual(deepCopy(t, held), copied) {
				t.Fatal("a snapshot taken before the change changed")
			}
		})
	}

	held := d.snap()
	n := len(held.Devices)
	_ = append(held.Devices, api.Session{ID: "mine"})
	d.app.SelectDevice(held.Devices[n-1].ID, true)
	if err := d.app.LoadMoreDevices(ctx); err != nil {
		t.Fatal(err)
	}
	if s := d.snap(); slices.ContainsFunc(s.Devices, func(x api.Session) bool { return x.ID == "mine" }) {
		t.Fatal("appending to a snapshot's list changed the app's")
	}
}

// deepCopy is s's lists and counts, copied, for comparing later.
func deepCopy(t *testing.T, s app.Snapshot) any {
	t.Helper()
	b, err := json.Marshal(struct {
		Devices  []api.Session
		Selected []string
		Activity []api.AuditEvent
		Ended    []api.Session
		Counts   *api.SessionCounts
		Cursor   string
	}{s.Devices, s.SelectedDevices, s.Activity, s.Ended, s.DeviceCounts, s.DevicesCursor})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
