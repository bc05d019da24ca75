package ui

// Benchmarks of Login activity with a large account (issue 19): the time
// and allocations to draw the list with 1,000 and 10,000 loaded devices,
// the first time (a new screen) and again after one device came (a
// refresh), each as a phone (440×760) and as a desktop (1280×800).
//
//	go test -run '^$' -bench LoginActivity -benchmem ./ui/
//
// Besides time and allocations, each reports the CPU time it used
// (cpu-ms/op): the machine may be busy with other work.
//
// A frame is what the real driver does: the screen's update from the
// snapshot, a layout of the whole window (relayout) and painting it
// (visiting every object drawn, as the painter does). The snapshot is made here, not
// loaded from a server: drawing does not depend on where it came from.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
)

// benchSnapshot is a signed-in account with n devices, this one first,
// then the others from the most recently used: a few active now, the
// rest earlier, in a few places and on a few systems.
func benchSnapshot(n int, now time.Time) app.Snapshot {
	devices := make([]api.Session, 0, n)
	platforms := []string{api.PlatformAndroid, api.PlatformIOS, api.PlatformLinux, api.PlatformWindows, api.PlatformMacOS, api.PlatformWeb}
	ips := []string{"203.0.113.10", "198.51.100.20", "192.0.2.30", "10.0.0.7"}
	for i := range n {
		seen := now.Add(-time.Duration(i) * 7 * time.Minute)
		d := api.Session{ID: fmt.Sprintf("ses_bench%05d", i),
			Device: api.Device{ID: fmt.Sprintf("dev-%d", i), Name: fmt.Sprintf("Device %d", i), Platform: platforms[i%len(platforms)],
				OS: "System " + fmt.Sprint(10+i%5), Model: "Model " + fmt.Sprint(i%17), AppVersion: "1.0.0"},
			IP: ips[i%len(ips)], Location: places[ips[i%len(ips)]],
			CreatedAt: seen.Add(-time.Hour), LastSeenAt: seen, ExpiresAt: now.Add(30 * 24 * time.Hour), Current: i == 0}
		devices = append(devices, d)
	}
	self := devices[0]
	return app.Snapshot{State: app.StateSignedIn, Account: &api.Account{ID: "acc_bench", Username: "ana"}, Session: &self,
		Devices: devices, DeviceCounts: &api.SessionCounts{Total: n, ActiveToday: min(n, 206)}, Live: true, EndedLoaded: true}
}

// withNewDevice is s with one more device, just logged in: a new
// snapshot, as the core makes one (s's lists are not changed).
func withNewDevice(s app.Snapshot, now time.Time) app.Snapshot {
	d := api.Session{ID: "ses_benchnew", Device: api.Device{ID: "dev-new", Name: "New phone",
		Platform: api.PlatformAndroid, OS: "Android 15", Model: "Pixel 9"}, IP: "198.51.100.20", Location: places["198.51.100.20"],
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	s.Devices = slices.Insert(slices.Clone(s.Devices), 1, d)
	c := *s.DeviceCounts
	c.Total++
	c.ActiveToday++
	s.DeviceCounts = &c
	return s
}

// benchUI is a window showing Login activity, drawing snapshots given to
// it (no server, no core running: its actions are never called).
type benchUI struct {
	win fyne.Window
	u   *UI
	src *orderCore
	// objects is how many objects the last frame drew (visited).
	objects int
}

func newBenchUI(b *testing.B, size fyne.Size, s app.Snapshot) *benchUI {
	b.Helper()
	a := test.NewTempApp(b)
	a.Settings().SetTheme(Theme())
	api, err := client.New("http://127.0.0.1:9")
	if err != nil {
		b.Fatal(err)
	}
	core := app.New(app.Config{API: api, Prefs: nil})
	x := &benchUI{win: a.NewWindow("bench"), src: &orderCore{snap: s}}
	x.win.Resize(size)
	x.u = newUI(x.win, core, x.src, Info{})
	x.u.Start() // signed in: home
	x.u.page = pageDevices
	x.win.Show()
	b.Cleanup(func() { x.u.Stop(); x.win.Close() })
	return x
}

// frame draws s as a frame: update, layout, paint.
func (x *benchUI) frame(s app.Snapshot) {
	x.src.set(s)
	x.u.render(s)
	relayout(x.win.Content())
	n := 0
	walk(x.win.Content(), fyne.Position{}, nil, false, func(item) { n++ })
	x.objects = n
}

func BenchmarkLoginActivity(b *testing.B) {
	now := epoch
	nowFunc = func() time.Time { return now }
	b.Cleanup(func() { nowFunc = time.Now })
	for _, n := range []int{1000, 10000} {
		snap := benchSnapshot(n, now)
		next := withNewDevice(snap, now)
		for _, size := range []fyne.Size{fyne.NewSize(440, 760), fyne.NewSize(1280, 800)} {
			b.Run(fmt.Sprintf("first/%d/%s", n, sizeName(size)), func(b *testing.B) {
				x := newBenchUI(b, size, snap)
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					x.u.devices = newDevicesScreen(x.u) // nothing drawn yet
					x.frame(snap)
				}
				reportCPU(b, cpu)
				x.checkDrawn(b, "Device 1")
			})
			b.Run(fmt.Sprintf("refresh/%d/%s", n, sizeName(size)), func(b *testing.B) {
				x := newBenchUI(b, size, snap)
				x.frame(snap)
				b.ReportAllocs()
				cpu := cpuTime()
				i := 0
				for b.Loop() {
					// One device logs in, or (every other time) is gone again.
					if i%2 == 0 {
						x.frame(next)
					} else {
						x.frame(snap)
					}
					i++
				}
				reportCPU(b, cpu)
				x.checkDrawn(b, "Device 1")
			})
		}
	}
}

// reportCPU reports the CPU time used since start, per operation.
func reportCPU(b *testing.B, start time.Duration) {
	if used := cpuTime() - start; used > 0 {
		b.ReportMetric(float64(used.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

// checkDrawn fails unless the window shows a device called name.
func (x *benchUI) checkDrawn(b *testing.B, name string) {
	b.Helper()
	found := false
	walk(x.win.Content(), fyne.Position{}, nil, false, func(it item) {
		found = found || text(it.o) == name
	})
	if !found {
		var all []string
		walk(x.win.Content(), fyne.Position{}, nil, false, func(it item) {
			if t := text(it.o); t != "" {
				all = append(all, t)
			}
		})
		b.Logf("shows %q (page %v)", all, x.u.page)
		b.Fatalf("the list does not show %q", name)
	}
}
