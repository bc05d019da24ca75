package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// devicesScreen is Login activity: every session of the account, this
// device first. The list is virtualised, so thousands scroll smoothly;
// reaching its end loads the next page.
type devicesScreen struct {
	ui     *UI
	root   fyne.CanvasObject
	list   *widget.List
	status *widget.Label
	others *widget.Button
}

func newDevicesScreen(u *UI) *devicesScreen {
	d := &devicesScreen{ui: u}
	d.list = widget.NewList(func() int { return len(u.snap.Devices) }, newDeviceRow, d.updateRow)
	d.list.OnSelected = d.onSelected
	d.others = widget.NewButtonWithIcon("Log out of all other devices", theme.LogoutIcon(), d.onLogoutOthers)
	d.others.Importance = widget.DangerImportance
	var top fyne.CanvasObject
	top, d.status = listHeader("Where you're logged in", u.back, func() { u.run(u.core.LoadDevices, nil) })
	d.root = column(container.NewPadded(container.NewBorder(top, d.others, nil, nil, d.list)))
	return d
}

// newDeviceRow builds one reusable row: icon, name, details.
func newDeviceRow() fyne.CanvasObject {
	return newListRow(theme.ComputerIcon(), widget.NewIcon(theme.NavigateNextIcon()),
		rowLine(fyne.TextStyle{Bold: true}, widget.MediumImportance),
		rowLine(fyne.TextStyle{}, widget.MediumImportance),
		rowLine(fyne.TextStyle{}, widget.LowImportance))
}

func (d *devicesScreen) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	items := d.ui.snap.Devices
	if i >= len(items) {
		return
	}
	s := items[i]
	name := s.Device.Name
	if s.Current {
		name += "  (this device)"
	}
	// Place and IP first: on a narrow window the end of the line is cut
	// off, and where a sign-in came from matters more than its OS.
	fillRow(o, deviceIcon(s.Device), name,
		fmt.Sprintf("%s · %s · %s", place(s.Location), s.IP, osLine(s.Device)),
		activeText(s, nowFunc())+" · Logged in "+when(s.CreatedAt))
	d.ui.moreAtEnd(i, len(items), d.ui.snap.DevicesCursor, d.ui.core.LoadMoreDevices)
}

func (d *devicesScreen) update(s app.Snapshot) fyne.CanvasObject {
	d.list.Refresh()
	switch {
	case s.Offline:
		d.status.SetText("Offline: this is the last known list. Logging devices out needs the server.")
	case s.DevicesStale:
		d.status.SetText("This list may be out of date.")
	case s.DevicesCursor != "":
		d.status.SetText(fmt.Sprintf("Showing the %d most recently active devices; scroll for more.", len(s.Devices)))
	default:
		d.status.SetText(fmt.Sprintf("%d %s. Tap one to see details or log it out.", len(s.Devices), plural(len(s.Devices), "device", "devices")))
	}
	setEnabled(!s.Offline && !s.Busy && len(s.Devices) > 1, d.others)
	return d.root
}

func (d *devicesScreen) onSelected(i widget.ListItemID) {
	d.list.UnselectAll()
	if items := d.ui.snap.Devices; i < len(items) {
		d.ui.openDevice(items[i].ID)
	}
}

func (d *devicesScreen) onLogoutOthers() {
	n := len(d.ui.snap.Devices) - 1
	msg := fmt.Sprintf("Every other device logged in to your account (%d shown here) is logged out right away. Each will need the password to log in again, and saved login info on them stops working. This can't be undone.", n)
	d.ui.confirmAction("Log out of all other devices?", "Log out all", msg, func(ctx context.Context) error {
		_, err := d.ui.core.RevokeOthers(ctx)
		return err
	}, nil)
}
