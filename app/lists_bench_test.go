package app

// Benchmarks of the app core's lists on a large account (issue 19): a
// real sessiond on SQLite, one account with 10,000 live sessions (this
// app's own included) and 100,000 security log events, seeded straight
// into the store (about 6 s). Run:
//
//	go test -run '^$' -bench BenchmarkLargeAccount -benchtime 10x -benchmem ./app/
//
// Time and allocations are the whole process's: sessiond's, which runs in
// it, as well as the app's. Each load benchmark starts from nothing
// loaded; the event ones from every device loaded, the security log not.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/client"
	"sessionguard/platform"
	"sessionguard/server/servertest"
)

// Size of the benchmarks' account.
const (
	benchSessions = 10_000  // live sessions, this app's own included
	benchEvents   = 100_000 // security log events seeded (sign-up adds a few)
)

// bigAccount is an app signed in to an account of benchSessions sessions
// and benchEvents events on a real sessiond.
type bigAccount struct {
	backend *servertest.Backend
	app     *App
}

// startBigAccount starts sessiond, signs an app up and seeds the account.
func startBigAccount(tb testing.TB, sessions, events int) *bigAccount {
	tb.Helper()
	ctx := context.Background()
	be := servertest.Start(tb)
	c, err := client.New(be.URL, client.WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
	if err != nil {
		tb.Fatal(err)
	}
	prefs := platform.NewMemoryPrefs()
	a := New(Config{API: c, Prefs: prefs, CacheDir: tb.TempDir(), KeyringProblem: platform.ErrUnavailable,
		Device: func() api.Device { return platform.DescribeDevice(prefs, "1.0.0-bench") }})
	tb.Cleanup(func() {
		a.Close(context.Background())
		c.CloseIdleConnections()
	})
	if err := a.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	const pw = "violet-harbor-lantern"
	if err := a.SignUp(ctx, "big", pw, pw, false); err != nil {
		tb.Fatal(err)
	}
	waitQuiet(tb, a, func(s Snapshot) bool { return s.State == StateSignedIn && s.Live })
	start := time.Now()
	acct := a.Snapshot().Account.ID
	if _, err := SeedSessions(ctx, be.Store, acct, sessions-1, be.Clock.Now()); err != nil {
		tb.Fatal(err)
	}
	if err := SeedAudit(ctx, be.Store, acct, events, be.Clock.Now()); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seeded %d sessions and %d events in %v", sessions-1, events, time.Since(start).Round(time.Millisecond))
	return &bigAccount{backend: be, app: a}
}

// waitQuiet waits until cond holds and no device-list refresh runs.
func waitQuiet(tb testing.TB, a *App, cond func(Snapshot) bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond(a.Snapshot()) || a.refreshRunning() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out; state %v, err %q", a.Snapshot().State, a.Snapshot().Err)
		}
		time.Sleep(time.Millisecond)
	}
}

// refreshRunning says whether a background device-list refresh runs.
func (a *App) refreshRunning() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refreshing
}

// waitRefreshed waits for the background device-list refresh to end.
func waitRefreshed(tb testing.TB, a *App) {
	tb.Helper()
	for a.refreshRunning() {
		time.Sleep(20 * time.Microsecond)
	}
}

// loadAllDevices loads the device list's first page and then the next
// ones until there are none, as scrolling to the end does.
func loadAllDevices(tb testing.TB, a *App) int {
	tb.Helper()
	ctx := context.Background()
	if err := a.LoadDevices(ctx); err != nil {
		tb.Fatal(err)
	}
	pages := 1
	for a.Snapshot().DevicesCursor != "" {
		if err := a.LoadMoreDevices(ctx); err != nil {
			tb.Fatal(err)
		}
		pages++
	}
	return pages
}

func BenchmarkLargeAccount(b *testing.B) {
	big := startBigAccount(b, benchSessions, benchEvents)
	a := big.app
	ctx := context.Background()

	b.Run("LoadAllDevicePages", func(b *testing.B) {
		b.ReportAllocs()
		pages := 0
		for b.Loop() {
			b.StopTimer()
			a.update(func(s *Snapshot) { s.Devices, s.DevicesCursor = []api.Session{*s.Session}, "" }) // nothing loaded
			b.StartTimer()
			pages = loadAllDevices(b, a)
		}
		if n := len(a.Snapshot().Devices); n != benchSessions {
			b.Fatalf("loaded %d devices, want %d", n, benchSessions)
		}
		b.ReportMetric(float64(pages), "pages")
	})

	b.Run("LoadAllActivityPages", func(b *testing.B) {
		b.ReportAllocs()
		pages := 0
		for b.Loop() {
			b.StopTimer()
			a.update(func(s *Snapshot) { s.Activity, s.ActivityCursor = nil, "" }) // nothing loaded
			b.StartTimer()
			if err := a.LoadActivity(ctx); err != nil {
				b.Fatal(err)
			}
			pages = 1
			for a.Snapshot().ActivityCursor != "" {
				if err := a.LoadMoreActivity(ctx); err != nil {
					b.Fatal(err)
				}
				pages++
			}
		}
		if n := len(a.Snapshot().Activity); n < benchEvents {
			b.Fatalf("loaded %d events, want at least %d", n, benchEvents)
		}
		b.ReportMetric(float64(pages), "pages")
	})

	// A snapshot (what every change hands each subscriber, and what the
	// screens take to draw) with every device and event loaded.
	b.Run("SnapshotAllLoaded", func(b *testing.B) {
		if s := a.Snapshot(); len(s.Devices) != benchSessions || s.DevicesCursor != "" {
			loadAllDevices(b, a)
		}
		if len(a.Snapshot().Activity) < benchEvents { // loaded by LoadAllActivityPages, unless filtered out
			if err := a.LoadActivity(ctx); err != nil {
				b.Fatal(err)
			}
			for a.Snapshot().ActivityCursor != "" {
				if err := a.LoadMoreActivity(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = a.Snapshot()
		}
	})

	// The events of a sign-in elsewhere, each applied with every device
	// loaded (and the security log not): the time until the list shows
	// it, including any reload it starts.
	loadAllDevices(b, a)
	a.update(func(s *Snapshot) { s.Activity, s.ActivityCursor = nil, "" })
	full := a.Snapshot().Devices
	restore := func() {
		a.update(func(s *Snapshot) {
			s.Devices, s.DevicesCursor, s.Alert = full, "", nil
		})
	}
	gen := a.generation()
	now := big.backend.Clock.Now()

	b.Run("ApplySessionCreated", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			b.StopTimer()
			restore()
			i++
			data, err := json.Marshal(api.SessionCreatedEvent{Session: api.Session{
				ID: fmt.Sprintf("ses_bench_new_%d", i), Device: api.Device{Name: "New phone"},
				CreatedAt: now, LastSeenAt: now, AuthTime: now, ExpiresAt: now.Add(time.Hour)}})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			a.onEvent(gen, client.Event{Name: api.EventSessionCreated, Data: data})
			waitRefreshed(b, a)
		}
		b.ReportMetric(float64(len(a.Snapshot().Devices)), "devices-after")
	})

	b.Run("RefreshFirstPage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			restore()
			b.StartTimer()
			a.requestRefresh() // as sessions.changed does
			waitRefreshed(b, a)
		}
		b.ReportMetric(float64(len(a.Snapshot().Devices)), "devices-after")
	})
}
