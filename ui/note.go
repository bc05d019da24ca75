package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// noteFor is how long a transient note shows (tests shorten it).
var noteFor = 3 * time.Second

// note is a transient confirmation at the foot of the signed-in pages
// ("Recovery codes copied."): it asks nothing, takes no focus and goes
// by itself, unlike a dialog.
type note struct {
	ui    *UI
	root  *fyne.Container
	text  *widget.Label
	bg    *canvas.Rectangle
	timer *time.Timer
}

func newNote(u *UI) *note {
	n := &note{ui: u, text: widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})}
	n.text.Wrapping = fyne.TextWrapWord
	n.bg = canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	n.bg.StrokeWidth = 1
	n.root = container.NewPadded(container.NewStack(n.bg, container.NewPadded(n.text)))
	n.root.Hide()
	return n
}

// show shows text until noteFor has passed (or the next note).
func (n *note) show(text string) {
	n.text.SetText(text)
	// In the theme's colours of the moment (light or dark).
	n.bg.FillColor = theme.Color(theme.ColorNameOverlayBackground)
	n.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	n.bg.CornerRadius = theme.InputRadiusSize()
	n.bg.Refresh()
	n.root.Show()
	if n.timer != nil {
		n.timer.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(noteFor, func() {
		n.ui.onUI(func() {
			if n.timer == t {
				n.hide()
			}
		})
	})
	n.timer = t
}

// hide takes the note away at once.
func (n *note) hide() {
	if n.timer != nil {
		n.timer.Stop()
		n.timer = nil
	}
	n.text.SetText("")
	n.root.Hide()
}

// showNote shows a transient note on the signed-in pages.
func (u *UI) showNote(text string) { u.frame.note.show(text) }
