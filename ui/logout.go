package ui

import (
	"context"

	"fyne.io/fyne/v2/container"
)

// confirmLogOut asks to confirm logging this device out, with the
// "remember login info" choice: from the settings menu, and from this
// device's own page in Login activity.
func (u *UI) confirmLogOut() {
	snap := u.snap
	if snap.Account == nil {
		return
	}
	remember := u.check("Remember login info", nil)
	explain := wrapped("Next time, tap your account to log in on this device without your password. Anyone using this device could do the same.")
	if !snap.CanRemember() {
		remember.Disable()
		explain.SetText("Login info can't be remembered: " + snap.KeyringProblem)
	}
	body := container.NewVBox(wrapped("You can log back in at any time."), remember, explain)
	if inBrowser { // a tab remembers nothing
		remember.SetChecked(false)
		remember.Disable()
		body = container.NewVBox(wrapped("You can log back in at any time."))
	}
	d := u.confirmDialog("Log out of "+snap.Account.Username+"?", "Log out", true, body, func(ok bool) {
		if !ok {
			return
		}
		keep := remember.Checked
		core := u.core // with several accounts, the next one shows once it is over
		u.run(func(ctx context.Context) error { return core.LogOut(ctx, keep) }, nil)
	})
	u.showDialog(d)
	if !remember.Disabled() {
		u.win.Canvas().Focus(remember) // the dialog's first field
	}
}
