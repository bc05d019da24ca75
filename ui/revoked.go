package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// followLastRevoke confirms a remote log out (Snapshot.LastRevoke) in a
// dialog that points at the next step, until the person closes it.
func (u *UI) followLastRevoke(s app.Snapshot) {
	if s.LastRevoke == nil || u.isShowing(u.revokeDone) {
		return
	}
	r := *s.LastRevoke
	msg := fmt.Sprintf("%d other %s logged out.", r.Count, plural(r.Count, "device was", "devices were"))
	if r.DeviceName != "" {
		msg = r.DeviceName + " was logged out. It will need your password to log in again."
	}
	onPage := u.page == pagePassword
	if onPage {
		msg += "\n\nIf you didn't recognise it, change your password now."
	} else {
		msg += "\n\nIf you didn't recognise it, change your password too."
	}
	d := dialog.NewCustom("Done", "OK", wrapped(msg), u.win)
	if !onPage {
		change := widget.NewButtonWithIcon("Change password", theme.VisibilityIcon(), func() {
			d.Hide()
			u.openPassword()
		})
		change.Importance = widget.HighImportance
		d.SetButtons([]fyne.CanvasObject{widget.NewButton("OK", func() { d.Hide() }), change})
	}
	// Dismissed in the core at once: what is drawn next (openPassword's
	// page) reads the core's snapshot, which no longer has it.
	d.SetOnClosed(u.core.DismissLastRevoke)
	u.revokeDone = d
	d.Resize(fyne.NewSize(400, 0))
	u.showDialog(d)
}
