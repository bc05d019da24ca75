package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// devicesScreen is Login activity: every session of the account, this
// device first. The list is virtualised, so thousands scroll smoothly;
// reaching its end loads the next page.
type devicesScreen struct {
	ui      *UI
	root    fyne.CanvasObject
	list    *widget.List
	status  *widget.Label
	others  *widget.Button
	items   []api.Session
	loading bool
}

func newDevicesScreen(u *UI) *devicesScreen {
	d := &devicesScreen{ui: u}
	d.list = widget.NewList(
		func() int { return len(d.items) },
		newDeviceRow,
		func(i widget.ListItemID, o fyne.CanvasObject) { d.updateRow(i, o) },
	)
	d.list.OnSelected = d.onSelected
	d.status = wrapped("")
	d.status.Importance = widget.LowImportance
	d.others = widget.NewButtonWithIcon("Log out of all other devices", theme.LogoutIcon(), d.onLogoutOthers)
	d.others.Importance = widget.DangerImportance
	refresh := widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), func() { u.run(u.core.LoadDevices, nil) })
	refresh.Importance = widget.LowImportance
	top := container.NewVBox(header("Where you're logged in", u.back, refresh), d.status)
	d.root = column(container.NewPadded(container.NewBorder(top, d.others, nil, nil, d.list)))
	return d
}

// newDeviceRow builds one reusable row: icon, name, details.
func newDeviceRow() fyne.CanvasObject {
	name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	line1 := widget.NewLabel("")
	line1.Truncation = fyne.TextTruncateEllipsis
	line2 := widget.NewLabel("")
	line2.Truncation = fyne.TextTruncateEllipsis
	line2.Importance = widget.LowImportance
	return container.NewBorder(nil, nil, widget.NewIcon(theme.ComputerIcon()), widget.NewIcon(theme.NavigateNextIcon()),
		container.NewVBox(name, line1, line2))
}

func (d *devicesScreen) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(d.items) {
		return
	}
	s := d.items[i]
	row := o.(*fyne.Container)
	text := row.Objects[0].(*fyne.Container)
	row.Objects[1].(*widget.Icon).SetResource(deviceIcon(s.Device))
	name := s.Device.Name
	if s.Current {
		name += "  (this device)"
	}
	text.Objects[0].(*widget.Label).SetText(name)
	// Place and IP first: on a narrow window the end of the line is cut
	// off, and where a sign-in came from matters more than its OS.
	text.Objects[1].(*widget.Label).SetText(fmt.Sprintf("%s · %s · %s", place(s.Location), s.IP, osLine(s.Device)))
	text.Objects[2].(*widget.Label).SetText(activeText(s, nowFunc()) + " · Logged in " + when(s.CreatedAt))
	if i == len(d.items)-1 && d.ui.snap.DevicesCursor != "" && !d.loading {
		d.loading = true
		d.ui.run(d.ui.core.LoadMoreDevices, func(error) { d.loading = false })
	}
}

func (d *devicesScreen) update(s app.Snapshot) fyne.CanvasObject {
	d.items = s.Devices
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
	if s.Offline || s.Busy || len(s.Devices) <= 1 {
		d.others.Disable()
	} else {
		d.others.Enable()
	}
	return d.root
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (d *devicesScreen) onSelected(i widget.ListItemID) {
	d.list.UnselectAll()
	if i >= len(d.items) {
		return
	}
	d.ui.deviceID = d.items[i].ID
	d.ui.show(pageDevice)
}

func (d *devicesScreen) onLogoutOthers() {
	n := len(d.items) - 1
	msg := fmt.Sprintf("Every other device logged in to your account (%d shown here) is logged out right away. Each will need the password to log in again, and saved login info on them stops working. This can't be undone.", n)
	c := dialog.NewCustomConfirm("Log out of all other devices?", "Log out all", "Cancel", wrapped(msg), func(ok bool) {
		if ok {
			d.ui.run(func(ctx context.Context) error { _, err := d.ui.core.RevokeOthers(ctx); return err }, nil)
		}
	}, d.ui.win)
	c.Resize(fyne.NewSize(420, 0))
	d.ui.showDialog(c)
}

// deviceScreen is one session's details, with Log out.
type deviceScreen struct {
	ui      *UI
	root    fyne.CanvasObject
	icon    *widget.Icon
	name    *widget.Label
	active  *widget.Label
	form    *widget.Form
	logout  *widget.Button
	current api.Session
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

func (s *deviceScreen) update(snap app.Snapshot, d api.Session) fyne.CanvasObject {
	s.current = d
	s.icon.SetResource(deviceIcon(d.Device))
	s.name.SetText(d.Device.Name)
	s.active.SetText(activeText(d, nowFunc()))
	s.form.Items = nil
	rows := [][2]string{
		{"System", osLine(d.Device)},
		{"Platform", d.Device.Platform},
		{"App version", d.Device.AppVersion},
		{"Location", place(d.Location)},
		{"IP address", d.IP},
		{"Logged in", when(d.CreatedAt)},
		{"Last active", when(d.LastSeenAt)},
		{"Stays logged in", map[bool]string{true: "Yes, until " + when(d.ExpiresAt), false: "Until " + when(d.ExpiresAt)}[d.Remember]},
	}
	for _, kv := range rows {
		v := widget.NewLabel(kv[1])
		v.Wrapping = fyne.TextWrapWord
		s.form.Append(kv[0], v)
	}
	s.form.Refresh()
	if d.Current {
		s.logout.SetText("Log out (this device)")
	} else {
		s.logout.SetText("Log out this device")
	}
	if snap.Offline || snap.Busy {
		s.logout.Disable()
	} else {
		s.logout.Enable()
	}
	return s.root
}

func (s *deviceScreen) onLogout() {
	d := s.current
	if d.Current {
		s.ui.settings.onLogout()
		return
	}
	msg := fmt.Sprintf("%s will be logged out right away and will need the password to log in again. Saved login info on it stops working too. This can't be undone.", d.Device.Name)
	c := dialog.NewCustomConfirm("Log out "+d.Device.Name+"?", "Log out", "Cancel", wrapped(msg), func(ok bool) {
		if ok {
			id := d.ID
			s.ui.run(func(ctx context.Context) error { return s.ui.core.RevokeDevice(ctx, id) }, nil)
		}
	}, s.ui.win)
	c.Resize(fyne.NewSize(420, 0))
	s.ui.showDialog(c)
}

// reauthDialog asks for the password when the server wants a fresh proof,
// then lets the core finish the action.
type reauthDialog struct {
	ui       *UI
	dlg      *dialog.ConfirmDialog
	password *dialogEntry
	code     *dialogEntry
	err      *widget.Label
	open     bool
}

func newReauthDialog(u *UI) *reauthDialog { return &reauthDialog{ui: u} }

// follow opens the dialog when an action waits for the password and
// closes it when it no longer does. While a password is being checked
// (busy) it stays closed; a wrong one opens it again with the error.
func (r *reauthDialog) follow(s app.Snapshot) {
	switch {
	case s.Pending != nil && !r.open:
		if !s.Busy {
			r.show(s)
		}
	case s.Pending == nil && r.open:
		r.open = false
		r.dlg.Hide()
	case r.open:
		setErrorText(r.err, firstNonEmpty(s.FieldErrors["password"], s.Err))
	}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func (r *reauthDialog) show(s app.Snapshot) {
	r.open = true
	escape := func() { r.ui.onTypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) }
	r.password = newDialogEntry(true, escape)
	r.password.SetPlaceHolder("Password")
	r.code = newDialogEntry(false, escape)
	r.code.SetPlaceHolder("Code from your authenticator app")
	r.err = errorText()
	setErrorText(r.err, firstNonEmpty(s.FieldErrors["password"], s.Err))
	what := "log out all other devices"
	switch s.Pending.Kind {
	case app.KindRevokeOne:
		what = "log out " + s.Pending.DeviceName
	case app.KindDisableTwoStep:
		what = "turn off two-step verification"
	case app.KindSetupTwoStep, app.KindEnableTwoStep:
		what = "turn on two-step verification"
	}
	items := []fyne.CanvasObject{wrapped("For your security, enter your password to " + what + "."), r.password}
	if s.Account != nil && s.Account.MFAEnabled {
		items = append(items, r.code)
	} else {
		r.code.Hide()
	}
	items = append(items, r.err)
	// Enter is the Continue button: the dialog closes the same way.
	r.password.OnSubmitted = func(string) { r.dlg.Confirm() }
	r.code.OnSubmitted = func(string) { r.dlg.Confirm() }
	r.dlg = dialog.NewCustomConfirm("Confirm it's you", "Continue", "Cancel", container.NewVBox(items...), r.onConfirm, r.ui.win)
	r.dlg.Resize(fyne.NewSize(400, 0))
	r.ui.showDialog(r.dlg)
	r.ui.win.Canvas().Focus(r.password)
}

func (r *reauthDialog) onConfirm(ok bool) {
	if !ok {
		r.open = false
		r.ui.core.CancelReauth()
		return
	}
	password, code := r.password.Text, r.code.Text
	// A confirm button closes the dialog; reopen it until the core is done
	// with the pending action (a wrong password keeps it pending).
	r.open = false
	r.ui.run(func(ctx context.Context) error { return r.ui.core.Reauthenticate(ctx, password, code) }, nil)
}

// followLastRevoke confirms a remote log out and points at the next step.
func (u *UI) followLastRevoke(s app.Snapshot) {
	if s.LastRevoke == nil || u.revokeDone != nil {
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
	d.SetOnClosed(func() {
		u.revokeDone = nil
		u.snap.LastRevoke = nil // a redraw before the core's news must not reopen it
		u.core.DismissLastRevoke()
	})
	u.revokeDone = d
	d.Resize(fyne.NewSize(400, 0))
	u.showDialog(d)
}
