package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// deviceScreen is one session's details, with Log out.
type deviceScreen struct {
	ui     *UI
	root   fyne.CanvasObject
	icon   *widget.Icon
	name   *widget.Label
	active *widget.Label
	form   *widget.Form
	logout *widget.Button
}

func newDeviceScreen(u *UI) *deviceScreen {
	s := &deviceScreen{ui: u, icon: widget.NewIcon(theme.ComputerIcon()), form: widget.NewForm()}
	s.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.name.SizeName = theme.SizeNameSubHeadingText
	s.active = widget.NewLabel("")
	s.logout = widget.NewButtonWithIcon("Log out this device", theme.LogoutIcon(), s.onLogout)
	s.logout.Importance = widget.DangerImportance
	s.root = container.NewVScroll(column(container.NewPadded(container.NewVBox(
		header("Device", u.back, nil),
		container.NewBorder(nil, nil, s.icon, nil, container.NewVBox(s.name, s.active)),
		s.form, s.logout))))
	return s
}

// update draws the device shown, UI.deviceID: pageContent has made sure
// snap still lists it.
func (s *deviceScreen) update(snap app.Snapshot) fyne.CanvasObject {
	d, _ := findDevice(snap, s.ui.deviceID)
	s.icon.SetResource(deviceIcon(d.Device))
	s.name.SetText(d.Device.Name)
	s.active.SetText(activeText(d, nowFunc()))
	setForm(s.form, [][2]string{
		{"System", osLine(d.Device)},
		{"Platform", d.Device.Platform},
		{"App version", d.Device.AppVersion},
		{"Location", place(d.Location)},
		{"IP address", d.IP},
		{"Logged in", when(d.CreatedAt)},
		{"Last active", when(d.LastSeenAt)},
		{"Stays logged in", map[bool]string{true: "Yes, until " + when(d.ExpiresAt), false: "Until " + when(d.ExpiresAt)}[d.Remember]},
	}, fyne.TextWrapWord)
	if d.Current {
		s.logout.SetText("Log out (this device)")
	} else {
		s.logout.SetText("Log out this device")
	}
	setEnabled(!snap.Offline && !snap.Busy, s.logout)
	return s.root
}

// onLogout decides how the device shown is logged out: this device like
// Settings → Log out (with "remember login info"), another one remotely.
func (s *deviceScreen) onLogout() {
	d, ok := findDevice(s.ui.snap, s.ui.deviceID)
	switch {
	case !ok:
		return
	case d.Current:
		s.ui.confirmLogOut()
		return
	}
	msg := d.Device.Name + " will be logged out right away and will need the password to log in again. Saved login info on it stops working too. This can't be undone."
	s.ui.confirmAction("Log out "+d.Device.Name+"?", "Log out", msg, func(ctx context.Context) error {
		return s.ui.core.RevokeDevice(ctx, d.ID)
	}, nil)
}
