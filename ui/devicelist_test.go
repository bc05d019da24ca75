package ui

// Login activity with a large account (issue 19): 10,000 devices, reached
// by scrolling (which loads ahead), by Jump to the end and by searching;
// and the home screen of such an account.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/server/store"
	"sessionguard/server/store/sqlite"
)

// The large account: ana's laptop and bigOthers more devices, of which
// bigToday were used in the last hours (with the laptop, 12 active today,
// 9,988 earlier), named "Device 1"… from the most recently used, but for
// three called "Pixel 7" (one active today, two earlier).
const (
	bigOthers = 9999
	bigToday  = 11
)

// bigPixels are the indexes of the seeded devices called Pixel 7.
var bigPixels = map[int]bool{4: true, 5000: true, 9990: true}

// bigName is the name of seeded device i (0: the most recently used).
func bigName(i int) string {
	if bigPixels[i] {
		return "Pixel 7"
	}
	return fmt.Sprintf("Device %d", i+1)
}

// seedDevices writes n live sessions of username's account straight into
// the server's database (through a second handle on its file, without a
// disk sync per session: a test's database need not survive a crash),
// the first today of them used in the last hours, the others days ago.
func (b *backend) seedDevices(username string, n, today int) {
	b.t.Helper()
	acct, err := b.st.AccountByUsername(ctx, username)
	if err != nil {
		b.t.Fatal(err)
	}
	st, err := sqlite.OpenWith(ctx, b.st.Path(), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.t.Fatal(err)
	}
	defer st.Close()
	now := b.clock.Now()
	ips := []string{"203.0.113.10", "198.51.100.20", "192.0.2.30"}
	for i := range n {
		at := now.Add(-time.Duration(i+1) * 10 * time.Minute)
		if i >= today {
			at = now.Add(-2*app.Day - time.Duration(i)*time.Minute)
		}
		id := fmt.Sprintf("ses_big%05d", i)
		hash := sha256.Sum256([]byte(id))
		ip := ips[i%len(ips)]
		s := store.Session{ID: id, AccountID: acct.ID,
			Device: api.Device{ID: fmt.Sprintf("install-big-%d", i), Name: bigName(i), Platform: api.PlatformAndroid,
				OS: "Android 14", Model: "Phone", AppVersion: "1.0.0"},
			IP: ip, Location: places[ip], CreatedAt: at.Add(-time.Hour), LastSeenAt: at, AuthTime: at,
			ExpiresAt: now.Add(30 * app.Day), AbsoluteExpiresAt: now.Add(30 * app.Day),
			AccessHash: hash[:], AccessExpiresAt: now.Add(time.Hour)}
		rt := store.RefreshToken{Hash: append([]byte("r"), hash[:]...), SessionID: id, IssuedAt: at, ExpiresAt: now.Add(30 * app.Day)}
		if err := st.CreateSession(context.Background(), s, rt); err != nil {
			b.t.Fatal(err)
		}
	}
}

// bigAccount signs the laptop in to ana's large account in a window of
// size, on the home screen.
func bigAccount(t *testing.T, size fyne.Size) (*backend, *device, *screen) {
	t.Helper()
	b, e := withAna(t)
	b.seedDevices("ana", bigOthers, bigToday)
	d := b.device(laptop)
	s := e.openWindow(d, e.defaultInfo(), size)
	if err := d.core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.logIn("ana")
	s.waitText("10,000 devices are logged in to your account.")
	return b, d, s
}

// listView is what Login activity's list shows now: the names of the
// rows whose middle is in its view, top to bottom. Call on the loop.
func (s *screen) listView() []string {
	l := s.ui.devices.list
	off, view := l.scroll.Offset.Y, l.scroll.Size().Height
	var out []string
	for _, r := range s.rows() {
		y := r.r.Position().Y + r.r.Size().Height/2
		if y >= off && y <= off+view {
			out = append(out, r.name)
		}
	}
	return out
}

// scrollList scrolls Login activity's list by dy, as a mouse wheel does.
func (s *screen) scrollList(dy float32) {
	s.t.Helper()
	s.do(func() {
		s.ui.devices.list.scroll.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: -dy}})
	})
}

// TestLargeAccount: 10,000 devices. The status says how many are active
// today; the list draws only what is near its view; scrolling loads the
// next page well before the end; Jump to the end loads everything and
// shows the last device; a search narrows the list, and clearing it
// (Escape in the field) restores it.
func TestLargeAccount(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(440, 760), fyne.NewSize(1280, 800)} {
		t.Run(sizeName(size), func(t *testing.T) {
			b, d, s := bigAccount(t, size)
			s.openLoginActivity()
			s.waitText("12 devices active today, 9,988 earlier.")
			s.waitFor("the first devices", func() bool {
				v := s.listView()
				return len(v) > 2 && v[0] == "Ana's Laptop" && v[1] == "Device 1"
			})
			snap := d.core.Snapshot()
			pages := len(snap.Devices) // what the first frame loaded: a page, and the next ahead
			if pages == 0 || pages > 3*pageRows || snap.DevicesCursor == "" {
				t.Fatalf("%d devices loaded on opening, cursor %q", pages, snap.DevicesCursor)
			}
			s.do(func() {
				if n := len(s.rows()); n > 60 {
					t.Errorf("%d rows drawn for a screenful", n)
				}
				if !s.ui.devices.jump.Visible() {
					t.Error("no Jump to the end while the list is not all loaded")
				}
			})

			// Scrolling: the next page comes before the end of the loaded
			// list is reached (each step waits for what it started).
			s.settle()
			loaded := len(d.core.Snapshot().Devices)
			for range 300 {
				s.scrollList(400)
				s.settle()
				if n := len(d.core.Snapshot().Devices); n > loaded {
					var v []string
					s.do(func() { v = s.listView() })
					var i int
					fmt.Sscanf(v[len(v)-1], "Device %d", &i)
					t.Logf("page %d came with %q in view, %d loaded", n, v[len(v)-1], loaded)
					if i <= 0 || i >= loaded-pageRows {
						t.Errorf("the next page came only when %q was in view, with %d loaded", v[len(v)-1], loaded)
					}
					break
				}
			}
			if len(d.core.Snapshot().Devices) <= loaded {
				t.Fatalf("scrolling loaded nothing past %d devices", loaded)
			}

			// The keyboard: Tab and Down go from row to row past the
			// screenful first drawn, each row scrolled into view.
			s.do(func() {
				l := s.ui.devices.list
				l.scroll.ScrollToOffset(fyne.Position{})
				l.layoutView()
				s.win.Canvas().Focus(s.rowNamed("Device 1"))
			})
			for i := 1; i < 40; i++ {
				if i%2 == 0 {
					s.tabKey()
				} else {
					s.press(fyne.KeyDown)
				}
				if got, want := s.focusName(), "row "+bigName(i); got != want {
					t.Fatalf("after %d keys the focus is on %s, want %s", i, got, want)
				}
				s.do(func() {
					if !slices.Contains(s.listView(), bigName(i)) {
						t.Errorf("the focused %s is not in view: %q", bigName(i), s.listView())
					}
				})
			}
			s.press(fyne.KeyUp)
			if got, want := s.focusName(), "row "+bigName(38); got != want {
				t.Fatalf("Up went to %s, want %s", got, want)
			}

			// Jump to the end: everything loads, with its progress shown,
			// and the last device shows.
			s.settle()
			release := b.hold("GET /v1/sessions")
			s.tap("Jump to the end")
			s.waitFor("the progress", func() bool {
				return strings.Contains(strings.Join(s.texts(), "\n"), "Loading every device… ") &&
					strings.Contains(strings.Join(s.texts(), "\n"), " of 10,000")
			})
			s.do(func() {
				if s.ui.devices.jump.Visible() {
					t.Error("Jump to the end still shows while it loads")
				}
			})
			release()
			s.waitFor("the last device", func() bool {
				v := s.listView()
				return len(v) > 0 && v[len(v)-1] == bigName(bigOthers-1)
			})
			snap = d.core.Snapshot()
			if len(snap.Devices) != bigOthers+1 || snap.DevicesCursor != "" {
				t.Fatalf("after Jump to the end: %d devices, cursor %q", len(snap.Devices), snap.DevicesCursor)
			}
			s.waitGone("Jump to the end")
			s.do(func() {
				if n := len(s.rows()); n > 60 {
					t.Errorf("%d rows drawn at the end", n)
				}
				if !phoneBuild && s.focusName() != "row "+bigName(bigOthers-1) {
					t.Errorf("after the jump the focus is on %s", s.focusName())
				}
			})
			if s.shows("Loading every device") {
				t.Error("the progress stayed")
			}

			// Search: three Pixels.
			s.typeInto(searchHint, "pixel")
			s.waitText("3 devices match “pixel”.")
			s.waitRows("Pixel 7", "Pixel 7", "Pixel 7")
			s.do(func() {
				if s.ui.devices.jump.Visible() {
					t.Error("Jump to the end shows for three matches")
				}
				if s.ui.devices.timer != nil {
					t.Error("the search's timer is still set once the search ran")
				}
			})
			s.typeText("x")
			s.waitText("No device matches “pixelx”.")
			s.waitRows()
			// Escape clears the field first (the whole list is back), then
			// goes back.
			s.press(fyne.KeyEscape)
			s.waitText("12 devices active today, 9,988 earlier.")
			s.waitFor("the first devices again", func() bool {
				v := s.listView()
				return len(v) > 2 && v[0] == "Ana's Laptop" && v[1] == "Device 1"
			})
			if q := d.core.Snapshot().DeviceQuery; q != "" {
				t.Errorf("the core still searches %q", q)
			}
			s.do(func() {
				if e := s.entry(searchHint); e.Text != "" {
					t.Errorf("the search field holds %q", e.Text)
				}
			})
			s.press(fyne.KeyEscape)
			s.waitText("Security activity")
		})
	}
}

// TestLargeAccountHome: a large account's home screen says how many
// devices are logged in, and nothing on it overlaps, on a phone and on a
// desktop: as the screen laid itself out when the count came (the
// harness's waits lay the whole window out again, which would hide what
// a real window shows), and after the window is laid out again.
func TestLargeAccountHome(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(440, 760), fyne.NewSize(1280, 800)} {
		t.Run(sizeName(size), func(t *testing.T) {
			b, e := withAna(t)
			b.seedDevices("ana", bigOthers, bigToday)
			d := b.device(laptop)
			s := e.openWindow(d, e.defaultInfo(), size)
			if err := d.core.Start(ctx); err != nil {
				t.Fatal(err)
			}
			s.waitText("Log in to Sessionguard")
			s.typeInto("Username", "ana")
			s.typeInto("Password", password)
			s.tap("Log in")
			mins := map[fyne.CanvasObject]fyne.Size{}
			for range 3 { // frames while signing in
				s.settle()
				s.do(func() { driverFrame(s.win.Content(), mins) })
			}
			d.waitCore("the counts", func(s app.Snapshot) bool { return s.DeviceCounts != nil && s.Live })
			s.settle()
			for range 3 { // frames once the count came
				s.do(func() { driverFrame(s.win.Content(), mins) })
			}
			texts := []string{"Where you're logged in", "Settings", "Logged in on Ana's Laptop",
				"10,000 devices are logged in to your account. Check the ones you don't recognise.",
				"• Live — changes on other devices show up here at once"}
			s.do(func() { assertNoOverlap(t, s, false, texts...) })
			s.do(func() { assertNoOverlap(t, s, true, texts...) })
		})
	}
}

// assertNoOverlap fails when the rectangles of any two of the visible
// objects showing texts intersect, or one reaches past the window: as
// they are, or after laying the window out again (relayout). Call on the
// loop.
func assertNoOverlap(t *testing.T, s *screen, relayout bool, texts ...string) {
	t.Helper()
	var items []item
	if relayout {
		items = s.items()
	} else {
		walk(s.win.Content(), fyne.Position{}, nil, false, func(it item) { items = append(items, it) })
	}
	type box struct {
		what string
		pos  fyne.Position
		size fyne.Size
	}
	var boxes []box
	for _, txt := range texts {
		found := false
		for _, it := range items {
			if text(it.o) == txt && !drawnForWidget(it) {
				boxes = append(boxes, box{txt, it.pos, it.o.Size()})
				found = true
				break
			}
		}
		if !found {
			var all []string
			for _, it := range items {
				if t := text(it.o); t != "" && !drawnForWidget(it) {
					all = append(all, t)
				}
			}
			t.Errorf("%q is not on the screen:\n%s", txt, strings.Join(all, "\n"))
		}
	}
	win := s.win.Canvas().Size()
	for i, a := range boxes {
		if a.pos.X+a.size.Width > win.Width+0.5 || a.pos.Y+a.size.Height > win.Height+0.5 {
			t.Errorf("relayout %v: %q at %v %v reaches past the %v window", relayout, a.what, a.pos, a.size, win)
		}
		for _, b := range boxes[i+1:] {
			if a.pos.X < b.pos.X+b.size.Width && b.pos.X < a.pos.X+a.size.Width &&
				a.pos.Y < b.pos.Y+b.size.Height && b.pos.Y < a.pos.Y+a.size.Height {
				t.Errorf("relayout %v: %q at %v %v overlaps %q at %v %v", relayout, a.what, a.pos, a.size, b.what, b.pos, b.size)
			}
		}
	}
}

// driverFrame does what Fyne's desktop driver does to the layout before
// it paints a frame (common.Canvas.EnsureMinSize in Fyne 2.7): after the
// children of each visible object, it lays out the object again if a
// child's MinSize changed since the last frame (mins) — remembering one
// such object at a time, as the driver does. Call on the loop.
func driverFrame(root fyne.CanvasObject, mins map[fyne.CanvasObject]fyne.Size) {
	var pending fyne.CanvasObject // the driver's parentNeedingUpdate
	var visit func(o, parent fyne.CanvasObject)
	visit = func(o, parent fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		for _, c := range children(o) {
			visit(c, o)
		}
		if pending == o {
			switch x := o.(type) {
			case *fyne.Container:
				if x.Layout != nil {
					x.Layout.Layout(x.Objects, x.Size())
				}
			case fyne.Widget:
				test.WidgetRenderer(x).Layout(x.Size())
			}
			pending = nil
		}
		m := o.MinSize()
		if mins[o] != m {
			mins[o] = m
			if parent != nil {
				pending = parent
			} else if size := o.Size(); m.Max(size) != size {
				o.Resize(m.Max(size))
			}
		}
	}
	visit(root, nil)
}

// TestPrefetcher: a paged list asks for its next page once a row within
// prefetchAhead of its end is drawn, once however often rows are drawn
// while that page loads; a page that failed is not asked for again by
// drawing until retry, one that loaded may be.
func TestPrefetcher(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	u := &UI{}
	var p prefetcher
	var calls atomic.Int32
	load := func(context.Context) error {
		if calls.Add(1) == 1 {
			return errors.New("offline")
		}
		return nil
	}
	do := func(fn func()) {
		t.Helper()
		if err := e.loop.call(fn); err != nil {
			t.Fatal(err)
		}
	}
	after := func(what string, want int32) {
		t.Helper()
		waitUIGoroutines(t)
		do(func() {}) // the loads' ends, posted to the loop
		if got := calls.Load(); got != want {
			t.Fatalf("%s: %d loads, want %d", what, got, want)
		}
	}
	do(func() { p.drawn(u, 1000-prefetchAhead-1, 1000, "c1", load) })
	after("far from the end", 0)
	do(func() {
		for i := 1000 - prefetchAhead; i < 1000; i++ {
			p.drawn(u, i, 1000, "c1", load)
		}
	})
	after("near the end, drawn again and again", 1)
	do(func() { p.drawn(u, 999, 1000, "c1", load) })
	after("after a failure", 1)
	do(func() { p.retry(); p.drawn(u, 999, 1000, "c1", load) })
	after("after retry", 2)
	do(func() { p.drawn(u, 999, 1000, "c1", load) })
	after("after the page loaded (a reload brought the same cursor)", 3)
	do(func() { p.drawn(u, 999, 1000, "", load) })
	after("with no next page", 3)
}
