package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
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
		txt := "You're offline. Showing what Sessionguard last knew; actions that need the server are paused."
		f.offline.SetText(txt)
		f.offline.Show()
	} else {
		f.offline.Hide()
	}
	if a := s.Alert; a != nil {
		f.alertTx.SetText(alertText(a.Session))
		f.alert.Show()
	} else {
		f.alert.Hide()
	}
	if s.Err != "" && s.Pending == nil {
		f.errTx.SetText(s.Err)
		f.errBar.Show()
	} else {
		f.errBar.Hide()
	}
	if len(f.body.Objects) != 1 || f.body.Objects[0] != page {
		f.body.Objects = []fyne.CanvasObject{page}
		f.body.Refresh()
	}
	return f.root
}

// alertText is "New sign-in on Pixel 8 near Berlin — was this you?"
func alertText(s api.Session) string {
	where := ""
	if !s.Location.IsZero() {
		where = " near " + place(s.Location)
	}
	return fmt.Sprintf("New sign-in on %s%s — was this you?", s.Device.Name, where)
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

// homeScreen shows the account and opens the settings menu.
type homeScreen struct {
	ui      *UI
	root    fyne.CanvasObject
	avatar  *widget.Label
	name    *widget.Label
	device  *widget.Label
	summary *widget.Label
	live    *widget.Label
	body    *fyne.Container
}

func newHomeScreen(u *UI) *homeScreen {
	h := &homeScreen{ui: u}
	menu := widget.NewButtonWithIcon("", theme.MenuIcon(), func() { u.show(pageSettings) })
	h.avatar = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	h.avatar.SizeName = theme.SizeNameHeadingText
	h.name = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	h.name.SizeName = theme.SizeNameSubHeadingText
	h.device = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	h.device.Truncation = fyne.TextTruncateEllipsis // device names can be long
	h.summary = wrapped("")
	h.live = wrapped("") // a phone is narrower than the sentence
	h.live.Importance = widget.LowImportance
	open := widget.NewButtonWithIcon("Where you're logged in", theme.ComputerIcon(), u.openDevices)
	open.Importance = widget.HighImportance
	settings := widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), func() { u.show(pageSettings) })
	h.body = container.NewVBox(
		header("Sessionguard", nil, menu),
		widget.NewCard("", "", container.NewVBox(h.avatar, h.name, h.device)),
		widget.NewCard("Login activity", "", container.NewVBox(h.summary, open)),
		settings, h.live,
	)
	h.root = container.NewVScroll(column(container.NewPadded(h.body)))
	return h
}

func (h *homeScreen) update(s app.Snapshot) fyne.CanvasObject {
	if s.Account != nil {
		h.avatar.SetText(strings.ToUpper(s.Account.Username[:1]))
		h.name.SetText(s.Account.Username)
	}
	if s.Session != nil {
		h.device.SetText("Logged in on " + s.Session.Device.Name)
	}
	summary := "Only this device is logged in to your account."
	switch n := len(s.Devices); {
	case n <= 1:
	case s.DevicesCursor != "":
		summary = fmt.Sprintf("More than %d devices are logged in to your account. Check the ones you don't recognise.", n)
	default:
		summary = fmt.Sprintf("%d devices are logged in to your account. Check the ones you don't recognise.", n)
	}
	if summary != h.summary.Text {
		h.summary.SetText(summary)
		// One line can become two: the GL driver grows the card but leaves
		// what is below it in place, overlapping, until the page is laid
		// out again.
		h.body.Refresh()
	}
	if s.Live {
		h.live.SetText("● Live — changes on other devices show up here at once")
	} else {
		h.live.SetText("○ Connecting…")
	}
	return h.root
}
