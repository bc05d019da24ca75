package ui

import (
	"fyne.io/fyne/v2"

	"sessionguard/app"
)

// page is where a signed-in person is.
type page int

const (
	pageHome page = iota
	pageSettings
	pageDevices
	pageDevice
	pageAbout
	pagePassword
	pageTwoStep
	pageActivity
	pageInactivity // Settings → Log out inactive devices
	pageLink       // Settings → Link a device
)

// pageContent is the signed-in page's content for s. It is where pages
// switch (goTo, or a device gone from its page), so it holds the leave
// hook: the page left stops its animations (anim.go); an operation still
// running there starts its progress again when the page shows again.
func (u *UI) pageContent(s app.Snapshot) fyne.CanvasObject {
	root := u.pageFor(s)
	if root != u.pageRoot {
		u.leavePage(u.pageRoot)
		u.pageRoot = root
	}
	return root
}

// pageFor draws u.page for s and returns it.
func (u *UI) pageFor(s app.Snapshot) fyne.CanvasObject {
	switch u.page {
	case pageSettings:
		return u.settings.update(s)
	case pageDevices:
		return u.devices.update(s)
	case pageDevice:
		if _, ok := findDevice(s, u.deviceID); ok {
			return u.detail.update(s)
		}
		u.page = pageDevices // it went away (closed elsewhere)
		if n := len(u.history); n > 0 && u.history[n-1] == pageDevices {
			u.history = u.history[:n-1]
		}
		return u.devices.update(s)
	case pageAbout:
		return u.about.update(s)
	case pagePassword:
		return u.password.update(s)
	case pageTwoStep:
		return u.twoStep.update(s)
	case pageActivity:
		return u.activity.update(s)
	case pageInactivity:
		return u.inactivity.update(s)
	case pageLink:
		return u.link.update(s)
	default:
		return u.home.update(s)
	}
}

// show goes to page p, remembering where the person came from.
func (u *UI) show(p page) {
	if p != u.page {
		u.history = append(u.history, u.page)
	}
	u.goTo(p)
}

// goTo switches to page p and redraws (pageContent stops the animations
// of the page left). The focus goes: it belongs to the old page (tapping
// a device row focuses the list), and a focused widget would get Escape
// instead of the window.
func (u *UI) goTo(p page) {
	u.page = p
	if len(u.dialogs) == 0 {
		// With a dialog open the focus is the dialog's (its first field),
		// and stays there.
		u.win.Canvas().Unfocus()
	}
	u.redraw()
}

// focus gives f the focus, unless a dialog is open: the dialog keeps it.
func (u *UI) focus(f fyne.Focusable) {
	if len(u.dialogs) == 0 {
		u.win.Canvas().Focus(f)
	}
}

// back returns to the page the person came from (home at the bottom).
func (u *UI) back() {
	n := len(u.history)
	if n == 0 {
		if u.page != pageHome {
			u.goTo(pageHome)
		}
		return
	}
	p := u.history[n-1]
	u.history = u.history[:n-1]
	u.goTo(p)
}

// signedIn reports whether the signed-in pages can be opened.
func (u *UI) signedIn() bool { return u.snap.State == app.StateSignedIn }

// openSettings goes to the settings menu and reads the account's
// settings, which it shows.
func (u *UI) openSettings() {
	u.show(pageSettings)
	u.settings.load()
}

// openAbout goes to About.
func (u *UI) openAbout() { u.show(pageAbout) }

// openDevices goes to Login activity and loads it: the live list, and
// the devices recently logged out.
func (u *UI) openDevices() {
	if !u.signedIn() {
		return
	}
	u.show(pageDevices)
	u.run(u.core.LoadDevices, nil)
	u.devices.ended.load()
	if u.snap.Settings == nil {
		u.loadSettings(nil) // the rules the rows show
	}
}

// openDevice goes to one session's details.
func (u *UI) openDevice(sessionID string) {
	u.deviceID = sessionID
	u.show(pageDevice)
}

// openActivity goes to Security activity and loads it.
func (u *UI) openActivity() {
	if !u.signedIn() {
		return
	}
	u.show(pageActivity)
	u.run(u.core.LoadActivity, nil)
}

// openPassword goes to Change password with an empty form.
func (u *UI) openPassword() {
	if !u.signedIn() {
		return
	}
	u.password.open()
	u.show(pagePassword)
	if f := u.password.current; f.Visible() {
		u.focus(f)
	}
}

// openTwoStep goes to the Two-step verification page. A setup left
// unfinished starts again; recovery codes not yet acknowledged with Done
// stay.
func (u *UI) openTwoStep() {
	if !u.signedIn() {
		return
	}
	if u.snap.TwoStep == app.TwoStepScanning {
		u.core.EndTwoStep()
	}
	u.show(pageTwoStep) // draws the core's snapshot, after EndTwoStep
	u.run(u.core.LoadRecoveryCodes, nil)
}

// openServerChoice shows the choice of server from the sign-in screen:
// a wrong address can be put right without clearing app data.
func (u *UI) openServerChoice() {
	if u.info.UseServer == nil || u.snap.State != app.StateSignedOut {
		return
	}
	u.server.open(false)
	u.serverPick = true
	u.redraw()
}

// closeServerChoice goes back to sign-in, on the server in use.
func (u *UI) closeServerChoice() {
	if !u.serverPick || u.server.first {
		return
	}
	u.serverPick = false
	u.redraw()
}
