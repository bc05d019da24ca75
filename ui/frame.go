package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// frame is the signed-in chrome: banners above the current page.
type frame struct {
	ui      *UI
	root    fyne.CanvasObject
	body    *fyne.Container
	offline *widget.Label
	alert   *fyne.Container
	alertTx *widget.Label
	errBar  *fyne.Container
	errTx   *widget.Label
}

func newFrame(u *UI) *frame {
	f := &frame{ui: u, body: container.NewStack()}
	f.offline = wrapped("")
	f.offline.Importance = widget.WarningImportance
	f.offline.Hide()
	f.alertTx = wrapped("")
	f.alertTx.Importance = widget.WarningImportance
	yes := widget.NewButton("Yes, it was me", func() { u.core.DismissAlert() })
	no := widget.NewButton("No, secure my account", f.onSecure)
	no.Importance = widget.DangerImportance
	f.alert = container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, f.alertTx),
		// Stacked full-width buttons: easy to hit on a phone, never wider than it.
		container.NewVBox(yes, no), widget.NewSeparator())
	f.alert.Hide()
	f.errTx = wrapped("")
	f.errTx.Importance = widget.DangerImportance
	closeErr := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { u.core.DismissError() })
	closeErr.Importance = widget.LowImportance
	f.errBar = container.NewBorder(nil, nil, nil, closeErr, f.errTx)
	f.errBar.Hide()
	f.root = container.NewBorder(column(container.NewVBox(f.offline, f.alert, f.errBar)), nil, nil, nil, f.body)
	return f
}

func (f *frame) update(s app.Snapshot, page fyne.CanvasObject) fyne.CanvasObject {
	if s.Offline {
		f.offline.SetText("You're offline. Showing what Sessionguard last knew; actions that need the server are paused.")
	}
	setVisible(f.offline, s.Offline)
	if a := s.Alert; a != nil {
		f.alertTx.SetText(alertText(a.Session))
	}
	setVisible(f.alert, s.Alert != nil)
	if s.Err != "" && s.Pending == nil {
		f.errTx.SetText(s.Err)
	}
	setVisible(f.errBar, s.Err != "" && s.Pending == nil)
	if len(f.body.Objects) != 1 || f.body.Objects[0] != page {
		f.body.Objects = []fyne.CanvasObject{page}
		f.body.Refresh()
	}
	return f.root
}

// onSecure ends the unrecognised session at once.
func (f *frame) onSecure() {
	a := f.ui.snap.Alert
	if a == nil {
		return
	}
	id := a.Session.ID
	f.ui.core.DismissAlert()
	f.ui.run(func(ctx context.Context) error { return f.ui.core.RevokeDevice(ctx, id) }, func(err error) {
		// Ended (or waiting for the password, asked over the page): next,
		// a new password, since someone else may know this one.
		if err == nil || errors.Is(err, app.ErrReauthRequired) {
			f.ui.openPassword()
		}
	})
}

// notify sends an OS notification (tests replace the app to observe it).
func (u *UI) notify(title, text string) {
	if a := fyne.CurrentApp(); a != nil {
		a.SendNotification(fyne.NewNotification(title, text))
	}
}

// followAlert raises an OS notification when a new login alert appears,
// so a stranger's sign-in is noticed even with the window in the background.
func (u *UI) followAlert(prev, s app.Snapshot) {
	if s.Alert == nil || (prev.Alert != nil && prev.Alert.Session.ID == s.Alert.Session.ID) {
		return
	}
	u.notify("New sign-in", alertText(s.Alert.Session))
}
