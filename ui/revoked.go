package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// followLastRevoke confirms a remote log out (Snapshot.LastRevoke) in a
// dialog that points at the next step, until the person closes it. While
// it is open it shows, live, what became of each device on its side: its
// receipt, as Snapshot.Ended has it (reloaded as receipts arrive).
func (u *UI) followLastRevoke(s app.Snapshot) {
	if u.isShowing(u.revokeDone) {
		if u.revokeCore == u.core {
			u.setRevokeStatus(s)
		}
		return
	}
	if s.LastRevoke == nil {
		return
	}
	r := *s.LastRevoke
	onPage := u.page == pagePassword
	title, msg, advice := revokeOutcome(r, onPage)
	u.revokeResult = r
	u.revokeStatus = container.NewVBox()
	body := container.NewVBox(wrapped(msg), u.revokeStatus)
	if advice != "" {
		body.Add(wrapped(advice))
	}
	d := dialog.NewCustomWithoutButtons(title, body, u.win)
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
	// Dismissed in the core once closed; until then the status follows
	// the snapshots of this core.
	u.revokeDone = d
	core := u.core // the account it is about, even if another shows by then
	u.revokeCore = core
	u.setRevokeStatus(s)
	d.Resize(fyne.NewSize(420, 0))
	u.showDialog(d)
	d.SetOnClosed(func() {
		u.forgetDialog(d)
		u.revokeStatus = nil
		core.DismissLastRevoke()
	})
	u.win.Canvas().Focus(first)
}

// setRevokeStatus shows, in the open dialog after a remote log out, what
// became of the devices it ended (revokeStatus), a label a line.
func (u *UI) setRevokeStatus(s app.Snapshot) {
	box := u.revokeStatus
	if box == nil {
		return
	}
	lines := revokeStatus(u.revokeResult, s, nowFunc())
	changed := len(box.Objects) != len(lines)
	setVisible(box, len(lines) > 0) // no gap when nothing was logged out
	for len(box.Objects) < len(lines) {
		box.Add(wrapped(""))
	}
	for len(box.Objects) > len(lines) {
		box.Remove(box.Objects[len(box.Objects)-1])
	}
	for i, l := range lines {
		lb := box.Objects[i].(*widget.Label)
		changed = changed || lb.Text != l.text
		lb.Importance = l.importance
		lb.SetText(l.text) // refreshes with the importance too
	}
	if changed && u.revokeDone != nil {
		u.revokeDone.Resize(fyne.NewSize(420, 0)) // as tall as the new text needs
	}
}

// revokeOutcome is the title and text of the dialog after a remote log
// out: one device, all others, or several chosen ones (some of which may
// have failed), and the advice to change the password. onPage: the person
// is already changing the password.
func revokeOutcome(r app.RevokeResult, onPage bool) (title, msg, advice string) {
	title = "Done"
	them := plural(r.Count, "it", "them")
	erased := ""
	switch {
	case !r.Erase || r.Count == 0:
	case r.Count == 1:
		erased = " Its Sessionguard data for this account is erased once it hears of it."
	default:
		erased = " Their Sessionguard data for this account is erased once each hears of it."
	}
	switch {
	case r.DeviceName != "":
		msg = r.DeviceName + " was logged out. It will need your password to log in again." + erased
	case len(r.Names) > 0 || len(r.Failed) > 0:
		switch len(r.Names) {
		case 0:
		case 1:
			msg = r.Names[0] + " was logged out. It will need your password to log in again." + erased
		default:
			msg = fmt.Sprintf("%d devices were logged out: %s. Each will need your password to log in again.",
				len(r.Names), strings.Join(r.Names, ", ")) + erased
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
		msg = fmt.Sprintf("%d other %s logged out.", r.Count, plural(r.Count, "device was", "devices were")) + erased
	}
	switch {
	case r.Count == 0:
	case onPage:
		advice = "If you didn't recognise " + them + ", change your password now."
	default:
		advice = "If you didn't recognise " + them + ", change your password too."
	}
	return title, msg, advice
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
	case n.Reason == api.ReasonDPoP:
		return "This device's login key is gone (its keyring was cleared or can't be read), so its session can't be used here any more. Log in again."
	case n.Reason == api.ReasonInactive:
		return fmt.Sprintf("This device was logged out at %s because %s.", at, unusedBecause(n.UnusedFor, "your account"))
	case n.Erased && n.ByDeviceName != "":
		return fmt.Sprintf("This device was logged out and its Sessionguard data erased by %s at %s. "+
			"If that wasn't you, log in and change your password.", byDevice(n.ByDeviceName, self), at)
	case n.Erased:
		return fmt.Sprintf("This device was logged out and its Sessionguard data erased at %s. "+
			"If that wasn't you, log in and change your password.", at)
	case n.ByDeviceName != "":
		by := byDevice(n.ByDeviceName, self)
		return fmt.Sprintf("You were logged out by %s at %s. If that wasn't you, log in and change your password.", by, at)
	default:
		return fmt.Sprintf("This device was logged out at %s. If that wasn't you, log in and change your password.", at)
	}
}

// unusedBecause finishes "logged out … because": "it wasn't used for 1
// month", or, when the rule is not known here, "it went unused longer
// than <whose> allows".
func unusedBecause(rule time.Duration, whose string) string {
	if rule > 0 {
		return "it wasn't used for " + ruleWords(rule)
	}
	return "it went unused longer than " + whose + " allows"
}

// byDevice names the device that logged this one (self) out, for a
// sentence that goes on with "at <time>": under this device's own name it
// is "another device named vm," (the comma keeps the name apart from the
// time).
func byDevice(by, self string) string {
	if self != "" && strings.EqualFold(strings.TrimSpace(by), strings.TrimSpace(self)) {
		return "another device named " + by + ","
	}
	return by
}
