package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// busyScreen is a centred spinner with a caption: starting, clearing app
// data, logging out of all accounts.
type busyScreen struct {
	ui       *UI
	root     fyne.CanvasObject
	activity *widget.Activity
	caption  *widget.Label
}

func newBusyScreen(u *UI) *busyScreen {
	b := &busyScreen{ui: u, activity: widget.NewActivity(), caption: widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})}
	b.root = container.NewCenter(container.NewVBox(b.activity, b.caption))
	return b
}

// show is the screen, with caption under the spinner. The spinner runs
// while the screen is on the window: the registry stops it when render
// shows another screen.
func (b *busyScreen) show(caption string) fyne.CanvasObject {
	b.caption.SetText(caption)
	b.ui.animate(b.root, "busy: "+caption, b.activity, true)
	return b.root
}
