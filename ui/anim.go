package ui

// Animations (issue 19): nothing animates unless something is in
// progress. Every animation the UI starts (a busy screen's
// widget.Activity, an infinite progress bar) goes through u.anims, which
// knows the screen each belongs to and runs it only while that screen is
// on the window: it stops when the operation ends (the screen's update
// says so), when the screen is left (render's sweep, the page switch's
// leave hook in nav.go) and when the UI stops. Each Fyne animation ticks
// at 60 frames a second and redraws the window every frame, on screen or
// not, so one left running costs a fifth of a core.

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// animated is what the registry starts and stops: widget.Activity,
// widget.ProgressBarInfinite.
type animated interface {
	Start()
	Stop()
}

// animation is one animation running: its widget, the root of the
// screen it is drawn on (owner), whether that screen is a signed-in page
// (drawn inside the frame) and a name for tests and reports.
type animation struct {
	w     animated
	owner fyne.CanvasObject
	page  bool
	name  string
}

// animations is the UI's registry of animations (u.anims).
type animations struct {
	// running are the animations started and not stopped since, in the
	// order they were started.
	running []animation
	// slots are the places the progress bars are drawn in (newBar).
	slots map[*widget.ProgressBarInfinite]*fyne.Container
}

func newAnimations() *animations {
	return &animations{slots: map[*widget.ProgressBarInfinite]*fyne.Container{}}
}

// newBar makes an infinite progress bar, stopped, and the place to put
// in the layout for it. The bar is in that place only while it runs: a
// ProgressBarInfinite in the widget tree starts animating by itself,
// hidden or not, when Fyne makes its renderer (CreateRenderer sets it
// running, and a theme change makes the renderer of every widget in the
// window and refreshes it), so a stopped bar is kept out of the tree.
func (a *animations) newBar() (*widget.ProgressBarInfinite, *fyne.Container) {
	bar := widget.NewProgressBarInfinite()
	bar.Hide() // not running (Hide says so), and no renderer made yet
	slot := container.NewStack()
	slot.Hide()
	a.slots[bar] = slot
	return bar, slot
}

// start runs x (again: its owner may change).
func (a *animations) start(x animation) {
	if i := slices.IndexFunc(a.running, func(r animation) bool { return r.w == x.w }); i >= 0 {
		a.running[i] = x
	} else {
		a.running = append(a.running, x)
	}
	a.play(x.w)
}

// stop stops w, running or not.
func (a *animations) stop(w animated) {
	a.running = slices.DeleteFunc(a.running, func(r animation) bool { return r.w == w })
	a.halt(w)
}

// keepIf stops every animation for which keep is false.
func (a *animations) keepIf(keep func(animation) bool) {
	var gone []animated
	a.running = slices.DeleteFunc(a.running, func(r animation) bool {
		if keep(r) {
			return false
		}
		gone = append(gone, r.w)
		return true
	})
	for _, w := range gone {
		a.halt(w)
	}
}

// stopAll stops every animation.
func (a *animations) stopAll() { a.keepIf(func(animation) bool { return false }) }

// play starts w (drawn in its slot, for a bar).
func (a *animations) play(w animated) {
	bar, ok := w.(*widget.ProgressBarInfinite)
	if !ok {
		w.Start()
		return
	}
	if slot := a.slots[bar]; slot != nil && (len(slot.Objects) != 1 || !slot.Visible()) {
		slot.Objects = []fyne.CanvasObject{bar}
		slot.Show()
		slot.Refresh()
	}
	bar.Show() // sets it running (and starts its animation, once drawn)
	bar.Start()
}

// halt stops w (and takes a bar out of its slot).
func (a *animations) halt(w animated) {
	bar, ok := w.(*widget.ProgressBarInfinite)
	if !ok {
		w.Stop()
		return
	}
	bar.Stop()
	bar.Hide()
	if slot := a.slots[bar]; slot != nil && (len(slot.Objects) != 0 || slot.Visible()) {
		slot.Objects = nil
		slot.Hide()
		slot.Refresh()
	}
}

// names are the animations running, in the order they were started.
func (a *animations) names() []string {
	names := make([]string, 0, len(a.running))
	for _, x := range a.running {
		names = append(names, x.name)
	}
	return names
}

// animate starts (on) or stops w, an animation named name on the screen
// whose root is owner (a screen the window shows as its content: sign-in,
// busy, server choice). It runs while that screen is on the window:
// render's sweep stops it when another screen replaces it.
func (u *UI) animate(owner fyne.CanvasObject, name string, w animated, on bool) {
	u.setAnimation(animation{w: w, owner: owner, name: name}, on)
}

// animatePage is animate for a signed-in page (drawn inside the frame):
// the page switch (pageContent's leave hook) stops it when the page is
// left, render's sweep when the frame is.
func (u *UI) animatePage(owner fyne.CanvasObject, name string, w animated, on bool) {
	u.setAnimation(animation{w: w, owner: owner, page: true, name: name}, on)
}

// setAnimation starts or stops x. Outside render, an animation whose
// screen is not on the window does not start (a dialog's answer arriving
// after the page was left); while render draws, its screen is the one
// about to show, and the sweep at its end settles it.
func (u *UI) setAnimation(x animation, on bool) {
	if !on || (u.rendering == 0 && !u.showing(x)) {
		u.anims.stop(x.w)
		return
	}
	u.anims.start(x)
}

// onWindow says whether x may run as far as the window's content goes:
// a screen's when its screen is the content, a page's when the frame is
// (which page: the leave hook's business).
func (u *UI) onWindow(x animation) bool {
	content := u.win.Content()
	if content == nil || x.owner == nil {
		return false
	}
	if x.page {
		return u.frame != nil && content == u.frame.root
	}
	return x.owner == content
}

// showing says whether x's screen is on the window: onWindow, and for a
// page, that page.
func (u *UI) showing(x animation) bool {
	return u.onWindow(x) && (!x.page || x.owner == u.pageRoot)
}

// sweepAnimations is render's sweep: the animations of screens no longer
// on the window stop.
func (u *UI) sweepAnimations() { u.anims.keepIf(u.onWindow) }

// leavePage is the page switch's leave hook: the page being left, drawn
// last as root, stops its animations.
func (u *UI) leavePage(root fyne.CanvasObject) {
	u.anims.keepIf(func(x animation) bool { return !x.page || x.owner != root })
}

// runningAnimations names the animations running now (for tests).
func (u *UI) runningAnimations() []string { return u.anims.names() }
