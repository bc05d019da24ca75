package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// deviceScreen is one session's details on a page of their own (a narrow
// window; a wide one shows them beside Login activity's list).
type deviceScreen struct {
	ui     *UI
	root   fyne.CanvasObject
	detail *deviceDetail
}

func newDeviceScreen(u *UI) *deviceScreen {
	s := &deviceScreen{ui: u, detail: newDeviceDetail(u)}
	s.root = container.NewVScroll(column(container.NewPadded(container.NewVBox(
		header("Device", u.back, nil), s.detail.root))))
	return s
}

// update draws the device shown, UI.deviceID: pageContent has made sure
// snap still lists it.
func (s *deviceScreen) update(snap app.Snapshot) fyne.CanvasObject {
	d, _ := findDevice(snap, s.ui.deviceID)
	s.detail.update(snap, d)
	return s.root
}

// deviceDetail is what is known of one device, with Rename and Log out:
// the device page's content, and the pane beside a wide Login activity.
type deviceDetail struct {
	ui     *UI
	id     string // the session shown
	root   *fyne.Container
	icon   *widget.Icon
	name   *widget.Label
	active *widget.Label
	rename *keyButton
	form   *widget.Form
	rule   *deviceRule // Log out if unused for …
	logout *keyButton
}

func newDeviceDetail(u *UI) *deviceDetail {
	d := &deviceDetail{ui: u, icon: widget.NewIcon(theme.ComputerIcon()), form: widget.NewForm(), rule: newDeviceRule(u)}
	d.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.name.SizeName = theme.SizeNameSubHeadingText
	d.name.Wrapping = fyne.TextWrapWord
	d.active = wrapped("")
	d.rename = u.button("Rename", theme.DocumentCreateIcon(), d.onRename)
	d.logout = u.button("Log out this device", theme.LogoutIcon(), d.onLogout)
	d.logout.Importance = widget.DangerImportance
	d.root = container.NewVBox(
		container.NewBorder(nil, nil, d.icon, nil, container.NewVBox(d.name, d.active)),
		container.NewHBox(d.rename),
		d.form, d.rule.root, d.logout)
	return d
}

// update shows session s.
func (d *deviceDetail) update(snap app.Snapshot, s api.Session) {
	now := nowFunc()
	d.id = s.ID
	d.icon.SetResource(deviceIcon(s.Device))
	d.name.SetText(s.Device.Name)
	active := activeText(s, now)
	if s.Current {
		active = "This device · " + active
	}
	d.active.SetText(active)
	until := "Until " + stamp(s.ExpiresAt, now)
	if s.Remember {
		until = "Yes, until " + stamp(s.ExpiresAt, now)
	}
	rows := [][2]string{
		{"System", orUnknown(s.Device.OS)},
		{"Model", orUnknown(s.Device.Model)},
		{"Platform", platformName(s.Device.Platform)},
		{"App version", orUnknown(s.Device.AppVersion)},
		{"Location", placeOf(s.Location, s.IP)},
		{"IP address", orUnknown(s.IP)},
		{"Logged in", stamp(s.CreatedAt, now)},
		{"Last active", stamp(s.LastSeenAt, now)},
		{"Stays logged in", until},
		{"Protection", boundText(s)},
	}
	setForm(d.form, rows, fyne.TextWrapWord)
	d.rule.update(snap, s)
	if s.Current {
		d.logout.SetText("Log out (this device)")
	} else {
		d.logout.SetText("Log out this device")
	}
	setEnabled(!snap.Offline && !snap.Busy, d.logout, d.rename)
}

// boundText explains whether s is bound to its device (issue 21): what a
// copy of its tokens could do.
func boundText(s api.Session) string {
	switch {
	case s.Bound && s.Current:
		return "Bound to this device: its login works only with a key that never leaves this device, so a copy of its tokens is useless anywhere else."
	case s.Bound:
		return "Bound to its device: its login works only with a key that never leaves " + s.Device.Name + ", so a copy of its tokens is useless anywhere else."
	}
	return "Not bound to its device (an older Sessionguard, or another app): anyone who copied its tokens could use them from elsewhere until you log it out."
}

// boundMark is the short mark of a bound session in Login activity's
// rows: "Bound to this device" on this device's own, else "Bound to its
// device"; "" when it is not bound.
func boundMark(s api.Session) string {
	switch {
	case s.Bound && s.Current:
		return "Bound to this device"
	case s.Bound:
		return "Bound to its device"
	}
	return ""
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "Unknown"
	}
	return s
}

// platformName is how a person calls a platform.
func platformName(p string) string {
	switch p {
	case api.PlatformAndroid:
		return "Android"
	case api.PlatformIOS:
		return "iOS"
	case api.PlatformMacOS:
		return "macOS"
	case api.PlatformWindows:
		return "Windows"
	case api.PlatformLinux:
		return "Linux"
	case api.PlatformWeb:
		return "Web browser"
	}
	return orUnknown(p)
}

// onLogout decides how the device shown is logged out: this device like
// Settings → Log out (with "remember login info"), another one remotely.
func (d *deviceDetail) onLogout() {
	s, ok := findDevice(d.ui.snap, d.id)
	switch {
	case !ok:
		return
	case s.Current:
		d.ui.confirmLogOut()
		return
	}
	msg := s.Device.Name + " (" + placeOf(s.Location, s.IP) + ") will be logged out right away and will need the password to log in again. Saved login info on it stops working too. This can't be undone."
	core := d.ui.core
	d.ui.confirmRevoke("Log out "+s.Device.Name+"?", "Log out", msg, false, false, func(ctx context.Context, erase bool) error {
		return core.RevokeDevice(ctx, s.ID, erase)
	})
}

// onRename asks for the device's new name, the old one selected in the
// field: Save (or Enter) renames it on every device's list; this
// device's new name is also the one it signs in with from now on.
func (d *deviceDetail) onRename() {
	s, ok := findDevice(d.ui.snap, d.id)
	if !ok {
		return
	}
	u := d.ui
	field := textEntry("Device name", u.escape)
	field.SetText(s.Device.Name)
	problem := errorText()
	explain := "Every device of your account shows this name in Login activity."
	if s.Current {
		explain += " This device also uses it when it logs in again."
	}
	body := container.NewVBox(wrapped(explain), field, problem)
	dlg := dialog.NewCustomWithoutButtons("Rename "+s.Device.Name, body, u.win)
	var save *keyButton
	save = u.button("Save", nil, func() {
		name := field.Text
		save.Disable()
		u.run(func(ctx context.Context) error { return u.core.RenameDevice(ctx, s.ID, name) }, func(err error) {
			save.Enable()
			if err == nil {
				dlg.Hide()
				return
			}
			snap := u.src.Snapshot()
			setErrorText(problem, firstNonEmpty(snap.FieldErrors["name"], snap.Err, app.Describe(err)))
		})
	})
	save.Importance = widget.HighImportance
	cancel := u.button("Cancel", nil, dlg.Hide)
	field.OnSubmitted = func(string) { save.OnTapped() }
	dlg.SetButtons([]fyne.CanvasObject{cancel, save})
	dlg.SetOnClosed(func() {
		u.forgetDialog(dlg)
		if snap := u.src.Snapshot(); snap.FieldErrors["name"] != "" {
			u.core.DismissError()
		}
	})
	dlg.Resize(fyne.NewSize(420, 0))
	u.dialogs = append(u.dialogs, dlg)
	dlg.Show()
	u.win.Canvas().Focus(field)
	field.TypedShortcut(&fyne.ShortcutSelectAll{})
}
