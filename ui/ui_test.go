package ui

import (
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// orderCore is a source of snapshots whose change notifications the test
// delivers by hand.
type orderCore struct {
	mu     sync.Mutex
	snap   app.Snapshot
	listen func(app.Snapshot)
}

func (c *orderCore) Snapshot() app.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap
}

func (c *orderCore) Subscribe(fn func(app.Snapshot)) func() {
	c.mu.Lock()
	c.listen = fn
	c.mu.Unlock()
	return func() {}
}

func (c *orderCore) set(s app.Snapshot) {
	c.mu.Lock()
	c.snap = s
	c.mu.Unlock()
}

// TestRendersTheLatestSnapshot: the core notifies after releasing its
// lock, so two goroutines' notifications can arrive newest first. The
// window must still end up showing the newest state, not stay busy.
func TestRendersTheLatestSnapshot(t *testing.T) {
	b := newBackend(t)
	e := newEnv(t, b)
	core := &orderCore{snap: app.Snapshot{State: app.StateSignedOut}}
	s := &screen{t: t, e: e, d: b.device(laptop)} // its core is not started: the state comes from core
	s.do(func() {
		s.win = e.app.NewWindow("order")
		s.win.Resize(fyne.NewSize(440, 760))
		s.ui = newUI(s.win, s.d.core, core, e.defaultInfo())
		s.ui.Start()
	})
	t.Cleanup(func() { s.do(func() { s.win.Close() }) })
	s.waitText("Log in to Sessionguard")

	busy := app.Snapshot{State: app.StateSigningIn, Busy: true}
	failed := app.Snapshot{State: app.StateSignedOut, Err: "Can't reach the server. Check your connection and try again."}
	core.set(failed) // the newest state …
	core.listen(failed)
	core.listen(busy) // … and an older notification arriving late
	s.waitText("Can't reach the server.")
	s.do(func() {
		if s.button("Log in").Disabled() {
			t.Error("the form stayed disabled: an older snapshot was drawn last")
		}
		if n := len(s.find(func(it item) bool { _, ok := it.o.(*widget.ProgressBarInfinite); return ok })); n != 0 {
			t.Error("the progress bar stayed: an older snapshot was drawn last")
		}
	})
}
