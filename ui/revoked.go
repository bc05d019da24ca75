package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// followLastRevoke confirms a remote log out (Snapshot.LastRevoke) in a
// dialog that points at the next step, until the person closes it.
func (u *UI) followLastRevoke(s app.Snapshot) {
	if s.LastRevoke == nil || u.isShowing(u.revokeDone) {
		return
	}
	r := *s.LastRevoke
	onPage := u.page == pagePassword
	title, msg := revokeOutcome(r, onPage)
	d := dialog.NewCustomWithoutButtons(title, wrapped(msg), u.win)
	ok := u.button("OK", nil, d.Hide)
	buttons := []fyne.CanvasObject{ok}
	first := ok
	if !onPage && r.Count > 0 {
		change := u.button("Change password", theme.VisibilityIcon(), func() {
			d.Hide()
			u.openPassword()
		})
		change.Importance = widget.HighImportance
		buttons = append(buttons, change)
	} else {
		ok.Importance = widget.HighImportance
	}
	d.SetButtons(buttons)
	// Dismissed in the core at once: what is drawn next (openPassword's
	// page) reads the core's snapshot, which no longer has it.
	u.revokeDone = d
	d.Resize(fyne.NewSize(420, 0))
	u.showDialog(d)
	core := u.core // the account it is about, even if another shows by then
	d.SetOnClosed(func() { u.forgetDialog(d); core.DismissLastRevoke() })
	u.win.Canvas().Focus(first)
}

// revokeOutcome is the title and text of the dialog after a remote log
// out: one device, all others, or several chosen ones (some of which may
// have failed). onPage: the person is already changing the password.
func revokeOutcome(r app.RevokeResult, onPage bool) (title, msg string) {
	title = "Done"
	them := plural(r.Count, "it", "them")
	switch {
	case r.DeviceName != "":
		msg = r.DeviceName + " was logged out. It will need your password to log in again."
	case len(r.Names) > 0 || len(r.Failed) > 0:
		switch len(r.Names) {
		case 0:
		case 1:
			msg = r.Names[0] + " was logged out. It will need your password to log in again."
		default:
			msg = fmt.Sprintf("%d devices were logged out: %s. Each will need your password to log in again.",
				len(r.Names), strings.Join(r.Names, ", "))
		}
		if len(r.Failed) > 0 {
			title = "Not all devices were logged out"
			if len(r.Names) == 0 {
				title = "No device was logged out"
			}
			var b strings.Builder
			fmt.Fprintf(&b, "Couldn't log out %d of %d %s:", len(r.Failed), len(r.Failed)+len(r.Names),
				plural(len(r.Failed)+len(r.Names), "device", "devices"))
			for _, f := range r.Failed {
				b.WriteString("\n• " + f.DeviceName + ": " + f.Reason)
			}
			b.WriteString("\n\nThey are still ticked in Login activity: try again when the server can be reached.")
			msg = strings.TrimSpace(msg + "\n\n" + b.String())
		}
	default:
		msg = fmt.Sprintf("%d other %s logged out.", r.Count, plural(r.Count, "device was", "devices were"))
	}
	switch {
	case r.Count == 0:
	case onPage:
		msg += "\n\nIf you didn't recognise " + them + ", change your password now."
	default:
		msg += "\n\nIf you didn't recognise " + them + ", change your password too."
	}
	return title, msg
}

// revokedNotice is the sign-in screen's notice after this device was
// logged out from elsewhere or its session ended, with the day and time.
// self is this device's name: a device that logged it out under the same
// name is "another device named …", so no sentence reads "You were logged
// out by vm" on vm.
func revokedNotice(n *app.RemoteLogout, self string, now time.Time) string {
	at := clock(n.At, now)
	switch {
	case n.Reason == api.ReasonExpired:
		return "Your session ended. Log in again to continue."
	case n.Reason == api.ReasonRefreshTokenReuse:
		return fmt.Sprintf("Your session was ended at %s because its sign-in token was used from somewhere else. If that wasn't you, change your password.", at)
	case n.Reason == api.ReasonPasswordChanged:
		return fmt.Sprintf("Your password was changed at %s, which logged this device out.", at)
	case n.Reason == api.ReasonReauthFailed:
		return fmt.Sprintf("This device was logged out at %s after too many wrong passwords in a row when confirming it was you. "+
			"If that wasn't you, someone else may have had this device: log in and change your password.", at)
	case n.Reason == api.ReasonAdmin:
		return fmt.Sprintf("You were logged out by the server administrator at %s. Log in again to continue.", at)
	case n.ByDeviceName != "":
		by := n.ByDeviceName
		if self != "" && strings.EqualFold(strings.TrimSpace(by), strings.TrimSpace(self)) {
			by = "another device named " + by + "," // the comma keeps the name apart from the time
		}
		return fmt.Sprintf("You were logged out by %s at %s. If that wasn't you, log in and change your password.", by, at)
	default:
		return fmt.Sprintf("This device was logged out at %s. If that wasn't you, log in and change your password.", at)
	}
}
