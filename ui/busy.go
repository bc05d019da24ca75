package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// busyScreen is a centred spinner with a caption: starting, and clearing
// app data.
type busyScreen struct {
	root     fyne.CanvasObject
	activity *widget.Activity
	caption  *widget.Label
}

func newBusyScreen() *busyScreen {
	b := &busyScreen{activity: widget.NewActivity(), caption: widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})}
	b.root = container.NewCenter(container.NewVBox(b.activity, b.caption))
	return b
}

// show starts the spinner under caption.
func (b *busyScreen) show(caption string) fyne.CanvasObject {
	b.caption.SetText(caption)
	b.activity.Start()
	return b.root
}
