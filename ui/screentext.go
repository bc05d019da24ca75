package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// ScreenText is what the window shows, as text: every visible heading,
// label, button, check, field and device row of the screen and of the
// dialogs over it, in order, one per line; and focus, the text of the
// widget with the keyboard focus ("" when none). A field shows its
// placeholder while empty and its text when filled, except a password
// field, whose text is never read. The web build copies it into the page
// for screen readers, which can't read a canvas. Call it on the UI
// goroutine (after OnScreenChange, in fyne.Do).
func (u *UI) ScreenText() (lines []string, focus string) {
	add := func(s string) {
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
	}
	if c := u.win.Content(); c != nil {
		walkText(c, add)
	}
	for _, o := range u.win.Canvas().Overlays().List() {
		walkText(o, add)
	}
	if f := u.win.Canvas().Focused(); f != nil {
		focus = focusText(f)
	}
	return lines, focus
}

// OnScreenChange sets fn, called on the UI goroutine whenever the screen
// may read differently: after every redraw and when a dialog opens or
// closes. Only one function is kept.
func (u *UI) OnScreenChange(fn func()) { u.screenChanged = fn }

// screenChange calls the OnScreenChange function, if any.
func (u *UI) screenChange() {
	if u.screenChanged != nil {
		u.screenChanged()
	}
}

// walkText gives add the text of o and of what it holds, if it is shown.
// Objects it doesn't know (icons, bars, shapes) say nothing.
func walkText(o fyne.CanvasObject, add func(string)) {
	if o == nil || !o.Visible() {
		return
	}
	switch w := o.(type) {
	case *fyne.Container:
		for _, c := range w.Objects {
			walkText(c, add)
		}
	case *container.Scroll:
		walkText(w.Content, add)
	case *container.ThemeOverride:
		walkText(w.Content, add)
	case *container.Split:
		walkText(w.Leading, add)
		walkText(w.Trailing, add)
	case *widget.PopUp:
		walkText(w.Content, add)
	case *widget.Card:
		add(w.Title)
		add(w.Subtitle)
		walkText(w.Content, add)
	case *widget.Form:
		for _, it := range w.Items {
			add(it.Text)
			walkText(it.Widget, add)
		}
	case *widget.Label:
		add(w.Text)
	case *widget.RichText:
		add(w.String())
	case *widget.Hyperlink:
		add(w.Text)
	case *canvas.Text:
		add(w.Text)
	case *widget.Button:
		add(w.Text)
	case *keyButton:
		add(w.Text)
	case *widget.Check:
		add(checkText(w.Text, w.Checked, w.Disabled()))
	case *keyCheck:
		add(checkText(w.Text, w.Checked, w.Disabled()))
	case *widget.RadioGroup:
		for _, opt := range w.Options {
			add(checkText(opt, opt == w.Selected, w.Disabled()))
		}
	case *widget.Entry:
		add(entryText(w))
	case *dialogEntry:
		add(entryText(&w.Entry))
	case *deviceRow:
		walkText(w.text, add)
	case *endedRow:
		walkText(w.text, add)
	case *accountRow:
		walkText(w.content, add)
	}
}

// checkText is a check or a radio choice as a screen reader says it.
func checkText(label string, on, disabled bool) string {
	state := "off"
	if on {
		state = "on"
	}
	if disabled {
		state += ", unavailable"
	}
	return label + " (" + state + ")"
}

// entryText is what a field shows: its placeholder while empty, its text
// when filled, and never a password.
func entryText(e *widget.Entry) string {
	switch {
	case e.Text == "":
		return e.PlaceHolder
	case e.Password:
		return e.PlaceHolder + " (filled)"
	}
	return e.Text
}

// focusText names the focused widget by its text or placeholder.
func focusText(f fyne.Focusable) string {
	switch w := f.(type) {
	case *widget.Entry:
		return w.PlaceHolder
	case *dialogEntry:
		return w.PlaceHolder
	case *widget.Button:
		return w.Text
	case *keyButton:
		return w.Text
	case *widget.Check:
		return w.Text
	case *keyCheck:
		return w.Text
	case *deviceRow:
		return w.name.Text
	case *accountRow:
		return w.name.Text
	}
	return "something"
}
