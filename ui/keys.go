package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// The keyboard, app-wide. A focused widget gets every key, and Fyne's
// buttons, checks and entries take Enter and Escape for themselves (or
// drop them). So Sessionguard's own are used wherever a person can Tab
// to: keyButton (Enter presses it, as Space does), keyCheck and
// dialogEntry (secretEntry for passwords) all hand Escape to the window,
// which closes the newest dialog or goes back (UI.escape). Fyne's password
// revealer is used, not a button of ours: it takes no focus, so Tab goes
// from a password to the next field.

// keyButton is a Button that Enter presses too, and that passes Escape on.
type keyButton struct {
	widget.Button
	onEscape func()
}

// newKeyButton makes a keyButton; icon may be nil.
func newKeyButton(label string, icon fyne.Resource, tap func(), onEscape func()) *keyButton {
	b := &keyButton{onEscape: onEscape}
	b.Text, b.Icon, b.OnTapped = label, icon, tap
	b.ExtendBaseWidget(b)
	return b
}

// TypedKey presses the button on Enter, passes Escape on, and leaves the
// rest (Space) to the Button.
func (b *keyButton) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		b.Tapped(nil)
	case fyne.KeyEscape:
		if b.onEscape != nil {
			b.onEscape()
		}
	default:
		b.Button.TypedKey(ev)
	}
}

// button is a keyButton whose Escape goes to the window.
func (u *UI) button(label string, icon fyne.Resource, tap func()) *keyButton {
	return newKeyButton(label, icon, tap, u.escape)
}

// keyCheck is a Check that passes Escape on, and Enter to onEnter (the
// form's submit; nil: nothing).
type keyCheck struct {
	widget.Check
	onEscape, onEnter func()
}

func (u *UI) check(label string, onEnter func()) *keyCheck {
	c := &keyCheck{onEscape: u.escape, onEnter: onEnter}
	c.Text = label
	c.ExtendBaseWidget(c)
	return c
}

// TypedKey passes Escape and Enter on.
func (c *keyCheck) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		if c.onEscape != nil {
			c.onEscape()
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		if c.onEnter != nil && !c.Disabled() {
			c.onEnter()
		}
	default:
		c.Check.TypedKey(ev)
	}
}

// secretEntry is a password field that passes Escape on. Its eye (Fyne's
// own revealer) takes no focus: Tab goes on to the next field.
func secretEntry(hint string, onEscape func()) *dialogEntry {
	e := newDialogEntry(false, onEscape)
	e.Password = true
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.SetPlaceHolder(hint)
	return e
}

// textEntry is a one-line field that passes Escape on.
func textEntry(hint string, onEscape func()) *dialogEntry {
	e := newDialogEntry(false, onEscape)
	e.SetPlaceHolder(hint)
	return e
}

// confirmDialog is a dialog asking before a lasting action: msg (or a
// richer body), and the buttons Cancel and yes, both pressed by Enter
// when focused. danger makes yes red, for actions that destroy or end
// something. answer gets true for yes; either button closes the dialog.
func (u *UI) confirmDialog(title, yes string, danger bool, body fyne.CanvasObject, answer func(ok bool)) *dialog.CustomDialog {
	d := dialog.NewCustomWithoutButtons(title, body, u.win)
	cancel := u.button("Cancel", nil, func() { d.Hide(); answer(false) })
	ok := u.button(yes, nil, func() { d.Hide(); answer(true) })
	ok.Importance = widget.HighImportance
	if danger {
		ok.Importance = widget.DangerImportance
	}
	d.SetButtons([]fyne.CanvasObject{cancel, ok})
	d.Resize(fyne.NewSize(420, 0))
	return d
}

// confirmAction asks before a lasting action, one that ends or deletes
// something: a dialog titled title that says msg, whose red confirm
// button says yes. Yes runs action, and then done (as run does).
func (u *UI) confirmAction(title, yes, msg string, action func(context.Context) error, done func(error)) {
	u.showDialog(u.confirmDialog(title, yes, true, wrapped(msg), func(ok bool) {
		if ok {
			u.run(action, done)
		}
	}))
}

// infoDialog shows text with an OK button, focused, so that Enter (or
// Escape) closes it.
func (u *UI) infoDialog(title, text string) {
	d := dialog.NewCustomWithoutButtons(title, wrapped(text), u.win)
	ok := u.button("OK", nil, d.Hide)
	ok.Importance = widget.HighImportance
	d.SetButtons([]fyne.CanvasObject{ok})
	d.Resize(fyne.NewSize(420, 0))
	u.showDialog(d)
	u.win.Canvas().Focus(ok)
}

// dismissWhenTyped hides the error of field once the person types in it
// (text: what the field now holds): the problem may be fixed. A field
// emptied (by the app, after a wrong code) keeps its error.
func dismissWhenTyped(u *UI, field, text string) {
	if text != "" {
		u.core.DismissFieldError(field)
	}
}
