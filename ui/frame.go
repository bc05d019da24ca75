package ui

import (
	"context"
	"errors"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// frame is the signed-in chrome: banners above the current page, and a
// transient note below it.
type frame struct {
	ui      *UI
	root    fyne.CanvasObject
	body    *fyne.Container
	link    *fyne.Container // offline or unreachable, with Retry
	linkTx  *widget.Label
	retry   *keyButton
	alert   *fyne.Container
	alertTx *widget.Label
	asks    *fyne.Container // sign-ins waiting for approval, dialog closed
	errBar  *fyne.Container
	errTx   *widget.Label
	note    *note
}

func newFrame(u *UI) *frame {
	f := &frame{ui: u, body: container.NewStack(), note: newNote(u), asks: container.NewVBox()}
	f.asks.Hide()
	f.linkTx = wrapped("")
	f.linkTx.Importance = widget.WarningImportance
	f.retry = u.button("Retry", theme.ViewRefreshIcon(), f.onRetry)
	f.link = container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, f.linkTx),
		container.NewHBox(f.retry), widget.NewSeparator())
	f.link.Hide()
	f.alertTx = wrapped("")
	f.alertTx.Importance = widget.WarningImportance
	yes := u.button("Yes, it was me", nil, func() { u.core.DismissAlert() })
	no := u.button("No, secure my account", nil, f.onSecure)
	no.Importance = widget.DangerImportance
	f.alert = container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, f.alertTx),
		// Stacked full-width buttons: easy to hit on a phone, never wider than it.
		container.NewVBox(yes, no), widget.NewSeparator())
	f.alert.Hide()
	f.errTx = wrapped("")
	f.errTx.Importance = widget.DangerImportance
	closeErr := u.button("", theme.CancelIcon(), func() { u.core.DismissError() })
	closeErr.Importance = widget.LowImportance
	f.errBar = container.NewBorder(nil, nil, nil, closeErr, f.errTx)
	f.errBar.Hide()
	f.root = container.NewBorder(column(container.NewVBox(f.link, f.asks, f.alert, f.errBar)), column(f.note.root), nil, nil, f.body)
	return f
}

func (f *frame) update(s app.Snapshot, page fyne.CanvasObject) fyne.CanvasObject {
	if s.Offline {
		f.linkTx.SetText(linkText(s, f.ui.serverInfo(), nowFunc()))
	}
	setVisible(f.link, s.Offline)
	setEnabled(!s.Busy, f.retry)
	if a := s.Alert; a != nil {
		f.alertTx.SetText(alertText(a.Session))
	}
	setVisible(f.alert, s.Alert != nil)
	// Offline, the banner above says what went wrong and offers Retry.
	showErr := s.Err != "" && s.Pending == nil && !s.Offline
	if showErr {
		f.errTx.SetText(s.Err)
	}
	setVisible(f.errBar, showErr)
	if len(f.body.Objects) != 1 || f.body.Objects[0] != page {
		f.body.Objects = []fyne.CanvasObject{page}
		f.body.Refresh()
	}
	return f.root
}

// linkText says why the server can't be reached, and how fresh what shows
// is: "You're offline. Last updated today 17:21. …" or "Can't reach
// sessions.example.com. …".
func linkText(s app.Snapshot, in Info, now time.Time) string {
	msg := "Can't reach " + serverHost(in) + "."
	switch {
	case s.Link == app.LinkOffline:
		msg = "You're offline."
	case in.Embedded:
		msg = "Sessionguard's server on this device isn't answering."
	}
	if !s.LastUpdated.IsZero() {
		msg += " Last updated " + lastUpdated(s.LastUpdated, now) + "."
	}
	return msg + " Actions that need the server are paused."
}

// serverHost is the server's host name, with its port if any
// ("sessions.example.com").
func serverHost(in Info) string {
	if u, err := url.Parse(in.Server); err == nil && u.Host != "" {
		return u.Host
	}
	return in.Server
}

// lastUpdated is "today 17:21", "yesterday 09:02", "21 Nov, 09:41", or
// with the year when it is not this one.
func lastUpdated(t, now time.Time) string {
	l, n := t.Local(), now.Local()
	day := func(x time.Time) time.Time { return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, x.Location()) }
	switch days := int(day(n).Sub(day(l)).Hours() / 24); {
	case days == 0:
		return "today " + l.Format("15:04")
	case days == 1:
		return "yesterday " + l.Format("15:04")
	case l.Year() == n.Year():
		return l.Format("2 Jan, 15:04")
	}
	return l.Format("2 Jan 2006, 15:04")
}

// onRetry tries the server again now.
func (f *frame) onRetry() { f.ui.run(f.ui.core.Retry, nil) }

// onSecure ends the unrecognised session at once. The device is not the
// person's (a device marked lost): it is also asked to erase what
// Sessionguard keeps there for the account, which includes the cached
// list of the person's devices and places.
func (f *frame) onSecure() {
	a := f.ui.snap.Alert
	if a == nil {
		return
	}
	id := a.Session.ID
	core := f.ui.core
	core.DismissAlert()
	f.ui.run(func(ctx context.Context) error { return core.RevokeDevice(ctx, id, true) }, func(err error) {
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
	// Told already while its account was in the background, or before
	// the window showed another account.
	id := s.Alert.Session.ID
	if u.alerted[id] {
		return
	}
	u.alerted[id] = true
	u.notify("New sign-in", alertText(s.Alert.Session))
}
