package ui

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// activityWhat is the first part of an event's sentence: what happened and
// on which device ("Ana's Laptop logged out Pixel 8").
func activityWhat(e api.AuditEvent) string {
	dev := e.DeviceName
	if dev == "" {
		dev = "an unknown device"
	}
	target := e.TargetDeviceName
	if target == "" {
		target = "a device"
	}
	switch e.Type {
	case api.AuditLoginSucceeded:
		return "Signed in on " + dev
	case api.AuditLoginFailed:
		return "Wrong password on " + dev
	case api.AuditLoginMFAFailed:
		return "Wrong two-step code on " + dev
	case api.AuditLogout:
		return "Logged out on " + dev
	case api.AuditSessionRevoked:
		if reauthFailed(e) {
			return "Too many wrong passwords on " + target + ", so it was logged out"
		}
		return upperFirst(dev) + " logged out " + target
	case api.AuditSessionsRevokedOthers:
		return upperFirst(dev) + " logged out all other devices"
	case api.AuditRefreshReuseDetected:
		return "Old sign-in token reused on " + dev + ", so it was logged out"
	case api.AuditReauthSucceeded:
		return "Password confirmed on " + dev
	case api.AuditReauthFailed:
		return "Wrong password when confirming it's you on " + dev
	case api.AuditPasswordChanged:
		return "Password changed on " + dev
	case api.AuditMFAEnabled:
		return "Two-step verification turned on from " + dev
	case api.AuditMFADisabled:
		return "Two-step verification turned off from " + dev
	case api.AuditRecoveryCodeUsed:
		return "Recovery code used on " + dev
	case api.AuditRememberedLoginCreated:
		return "Login info saved on " + dev
	case api.AuditRememberedLoginUsed:
		return "Logged in with saved login info on " + dev
	case api.AuditRememberedLoginForgotten:
		return "Saved login info removed from " + dev
	case api.AuditAdminResetMFA:
		return "The server administrator reset two-step verification"
	case api.AuditAdminLogoutAll:
		return "The server administrator logged out every device"
	case api.AuditAdminSetPassword:
		return "The server administrator set a new password"
	}
	return fmt.Sprintf("Security event %q on %s", e.Type, dev)
}

// activityWhere is the rest of the sentence: place and time
// ("Lisbon, Portugal · 14:02").
func activityWhere(e api.AuditEvent, now time.Time) string {
	if isAdmin(e.Type) && e.Location == (api.Location{}) {
		return "On the server · " + clock(e.At, now)
	}
	return place(e.Location) + " · " + clock(e.At, now)
}

// isAdmin reports whether typ is an operator command's event, done on the
// server itself rather than from a device.
func isAdmin(typ string) bool {
	switch typ {
	case api.AuditAdminResetMFA, api.AuditAdminLogoutAll, api.AuditAdminSetPassword:
		return true
	}
	return false
}

// activitySentence is one audit event as a person reads it:
// "Ana's Laptop logged out Pixel 8 · Lisbon, Portugal · 14:02".
func activitySentence(e api.AuditEvent, now time.Time) string {
	return activityWhat(e) + " · " + activityWhere(e, now)
}

// reauthFailed reports whether e is a session ended after too many wrong
// answers when confirming it was the owner (the reason is in its detail).
func reauthFailed(e api.AuditEvent) bool {
	return e.Type == api.AuditSessionRevoked && strings.Contains(e.Detail, api.ReasonReauthFailed)
}

// activityWarns reports whether an event deserves attention: failures and
// a stolen token.
func activityWarns(typ string) bool {
	switch typ {
	case api.AuditLoginFailed, api.AuditLoginMFAFailed, api.AuditReauthFailed, api.AuditRefreshReuseDetected:
		return true
	}
	return false
}

// eventIcon is the icon of e's row: activityIcon of its type, and the
// warning for a device logged out after wrong passwords.
func eventIcon(e api.AuditEvent) fyne.Resource {
	if reauthFailed(e) {
		return theme.NewWarningThemedResource(theme.WarningIcon())
	}
	return activityIcon(e.Type)
}

// activityIcon is the icon of an event's row.
func activityIcon(typ string) fyne.Resource {
	if activityWarns(typ) {
		return theme.NewWarningThemedResource(theme.WarningIcon())
	}
	switch typ {
	case api.AuditLoginSucceeded, api.AuditRememberedLoginUsed:
		return theme.LoginIcon()
	case api.AuditLogout, api.AuditSessionRevoked, api.AuditSessionsRevokedOthers:
		return theme.LogoutIcon()
	case api.AuditPasswordChanged, api.AuditReauthSucceeded:
		return theme.VisibilityIcon()
	case api.AuditMFAEnabled, api.AuditMFADisabled, api.AuditRecoveryCodeUsed:
		return theme.ConfirmIcon()
	case api.AuditRememberedLoginCreated, api.AuditRememberedLoginForgotten:
		return theme.AccountIcon()
	}
	if isAdmin(typ) {
		return theme.SettingsIcon() // done by whoever runs the server
	}
	return theme.InfoIcon()
}

// activityScreen is Security activity: the account's audit log, newest
// first, in a virtualised list that loads more at its end.
type activityScreen struct {
	ui     *UI
	root   fyne.CanvasObject
	list   *widget.List
	status *widget.Label
}

func newActivityScreen(u *UI) *activityScreen {
	a := &activityScreen{ui: u}
	a.list = widget.NewList(func() int { return len(u.snap.Activity) }, newActivityRow, a.updateRow)
	a.list.OnSelected = func(widget.ListItemID) { a.list.UnselectAll() }
	var top fyne.CanvasObject
	top, a.status = listHeader("Security activity", u.back, func() { u.run(u.core.LoadActivity, nil) })
	a.root = column(container.NewPadded(container.NewBorder(top, nil, nil, nil, a.list)))
	return a
}

// newActivityRow is one reusable row: icon, what happened, where and when.
func newActivityRow() fyne.CanvasObject {
	return newListRow(theme.InfoIcon(), nil, rowLine(fyne.TextStyle{}, widget.MediumImportance), rowLine(fyne.TextStyle{}, widget.LowImportance))
}

func (a *activityScreen) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	items := a.ui.snap.Activity
	if i >= len(items) {
		return
	}
	e := items[i]
	where := activityWhere(e, nowFunc())
	if e.IP != "" {
		where += " · " + e.IP
	}
	fillRow(o, eventIcon(e), activityWhat(e), where)
	a.ui.moreAtEnd(i, len(items), a.ui.snap.ActivityCursor, a.ui.core.LoadMoreActivity)
}

func (a *activityScreen) update(s app.Snapshot) fyne.CanvasObject {
	a.list.Refresh()
	n := len(s.Activity)
	switch {
	case n == 0 && s.Offline:
		a.status.SetText("Offline: security activity needs the server.")
	case n == 0:
		a.status.SetText("No activity yet.")
	case s.ActivityCursor != "":
		a.status.SetText(fmt.Sprintf("The %d most recent events, newest first; scroll for more.", n))
	default:
		a.status.SetText(fmt.Sprintf("%d %s, newest first.", n, plural(n, "event", "events")))
	}
	return a.root
}

// upperFirst capitalises a sentence that starts with a device name.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
