package ui

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// Several accounts side by side (app.Accounts): the UI draws the core
// Accounts says is shown (Current) and swaps to another one when that
// changes; the switcher (switcher.go), "Log out of all accounts"
// (logoutall.go), the notices about accounts that left and the
// notifications of background accounts' new sign-ins are drawn from the
// Accounts snapshot. In single-core mode (New) u.accounts is nil and none
// of it shows.

// NewAccounts builds the UI in win for the accounts of this device: it
// shows the core m says is current (call m.Load first) and follows m as
// accounts are added, switched, and leave. Call Start to show it.
func NewAccounts(win fyne.Window, m *app.Accounts, info Info) *UI {
	core := m.Current()
	u := newUI(win, core, core, info)
	u.accounts = m
	u.acc = m.Snapshot()
	return u
}

// onAccounts is told of every change to the accounts (added, switched,
// gone, alerts, notices), on whichever goroutine made it; like onChange it
// draws the newest state, read on the UI goroutine.
func (u *UI) onAccounts(app.AccountsSnapshot) { u.onUI(u.redraw) }

// current makes sure the core on screen is the one Accounts shows,
// swapping to it when it changed; it reports whether it swapped (the
// swap has drawn the screen).
func (u *UI) current() bool {
	if u.accounts == nil {
		return false
	}
	u.acc = u.accounts.Snapshot()
	cur := u.accounts.Current()
	if cur == nil || cur == u.core {
		return false
	}
	u.swapCore(cur)
	return true
}

// swapCore shows another account's core (or the sign-in screen's): home
// for an account, an empty form for adding one. Nothing one account typed
// stays in a widget for another, and no password in a hidden form.
func (u *UI) swapCore(core *app.App) {
	u.password.forget()
	u.twoStep.forget()
	u.page, u.history, u.deviceID = pageHome, nil, ""
	u.serverPick = false
	switch s := core.Snapshot(); {
	case u.snap.State != app.StateSignedIn && s.State != app.StateSignedIn:
		// From one sign-in form to another (another server): what was
		// typed stays, as when the server changes with one account.
	case s.State == app.StateSignedIn:
		// Back to an account (adding one cancelled): no password waits
		// in the form.
		u.signIn.password.SetText("")
		u.signIn.confirm.SetText("")
	case u.acc.Adding:
		// One more account: not the name of one already here.
		u.signIn.signUp = false
		u.signIn.username.SetText("")
		u.signIn.password.SetText("")
		u.signIn.confirm.SetText("")
		u.signIn.prefill = false
	default:
		u.signIn.fresh(s)
	}
	u.replaceCore(core, u.info)
}

// followAccounts draws what the accounts' snapshot adds to the screen:
// notifications for background accounts' new sign-ins, the notices about
// accounts that left, how "Log out of all accounts" went, and the
// switcher if it is open.
func (u *UI) followAccounts() {
	if u.accounts == nil {
		return
	}
	acc := u.acc
	seen := make(map[string]int, len(acc.Accounts))
	for _, e := range acc.Accounts {
		seen[e.Slot] = e.Alerts
		if e.Active || e.Alerts <= u.alertsSeen[e.Slot] || e.LastAlert == nil {
			continue
		}
		id := e.LastAlert.Session.ID
		if u.alerted[id] {
			continue
		}
		u.alerted[id] = true
		u.notify(backgroundAlertTitle(e), backgroundAlertText(e))
	}
	u.alertsSeen = seen
	u.followNotices(acc)
	u.followLogOutAll(acc)
	if u.switcher != nil {
		u.switcher.update(acc)
	}
}

// backgroundAlertTitle is the notification's title for a new sign-in to
// an account that is not shown: "New sign-in to bob's account".
func backgroundAlertTitle(e app.AccountEntry) string {
	return "New sign-in to " + possessive(e.Account.Username) + " account"
}

// backgroundAlertText names the account, its server and the device:
// "bob (This device): New sign-in on Pixel 8 near Berlin, Germany — was
// this you? Switch to bob to check."
func backgroundAlertText(e app.AccountEntry) string {
	name := e.Account.Username
	return fmt.Sprintf("%s (%s): %s Switch to %s to check.", name, serverLabel(e.Server), alertText(e.LastAlert.Session), name)
}

// possessive is "bob's" (or "an account's" without a name).
func possessive(name string) string {
	if name == "" {
		return "an"
	}
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

// serverLabel names a server for the switcher: "This device" for this
// device's own, else the address's host ("sessions.example.com").
func serverLabel(server string) string {
	switch server {
	case "", app.ServerLocal:
		return "This device"
	}
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		return u.Host
	}
	return server
}

// serverPhrase is serverLabel inside a sentence: "this device" or the host.
func serverPhrase(server string) string {
	if server == "" || server == app.ServerLocal {
		return "this device"
	}
	return serverLabel(server)
}

// serverInfo is u.info with the server of the core shown: in accounts
// mode each account has its own (app.App.Server), which wins over the
// one main chose at start.
func (u *UI) serverInfo() Info {
	in := u.info
	switch s := u.core.Server(); s {
	case "":
	case app.ServerLocal:
		in.Embedded = true
		if in.Server == app.ServerLocal {
			in.Server = ""
		}
	default:
		in.Server, in.Embedded = s, false
	}
	return in
}

// adding reports whether the sign-in screen shown is for one more
// account, which can be cancelled back to the accounts.
func (u *UI) adding() bool { return u.accounts != nil && u.acc.Adding }

// backgroundAlerts counts the new sign-ins to accounts not shown: the
// badge on the account menu.
func (u *UI) backgroundAlerts() int {
	n := 0
	for _, e := range u.acc.Accounts {
		if !e.Active {
			n += e.Alerts
		}
	}
	return n
}

// followNotices shows the accounts that left the switcher without being
// logged out here, in one dialog, until the person closes it.
func (u *UI) followNotices(acc app.AccountsSnapshot) {
	if len(acc.Notices) == 0 {
		if u.isShowing(u.noticesDlg) {
			u.noticesDlg.Hide()
		}
		return
	}
	self := u.core.ThisDevice().Name
	lines := make([]string, 0, len(acc.Notices))
	for _, n := range acc.Notices {
		lines = append(lines, accountNotice(n, self, nowFunc()))
	}
	body := strings.Join(lines, "\n\n")
	if u.isShowing(u.noticesDlg) {
		u.noticesTx.SetText(body) // more came while it was open
		return
	}
	title := "Your accounts"
	if loggedOut := slices.IndexFunc(acc.Notices, func(n app.AccountNotice) bool { return n.Logout == nil }) < 0; loggedOut {
		title = "An account was logged out"
		if len(lines) > 1 {
			title = fmt.Sprintf("%d accounts were logged out", len(lines))
		}
	}
	u.noticesTx = wrapped(body)
	d := dialog.NewCustomWithoutButtons(title, u.noticesTx, u.win)
	ok := u.button("OK", nil, d.Hide)
	ok.Importance = widget.HighImportance
	d.SetButtons([]fyne.CanvasObject{ok})
	d.Resize(fyne.NewSize(420, 0))
	u.noticesDlg = d
	u.showDialog(d)
	m := u.accounts
	d.SetOnClosed(func() { u.forgetDialog(d); m.DismissNotices() })
	u.win.Canvas().Focus(ok)
}

// accountNotice says in a sentence why an account left: "bob
// (sessions.example.com) was logged out by Pixel 8 at 17:21 today. If
// that wasn't you, …". self is this device's name: a device that logged
// it out under the same name is "another device named …" (revokedNotice).
func accountNotice(n app.AccountNotice, self string, now time.Time) string {
	who := "An account on " + serverPhrase(n.Server)
	if n.Username != "" {
		who = n.Username + " (" + serverPhrase(n.Server) + ")"
	}
	l := n.Logout
	if l == nil {
		return who + ": " + sentence(n.Message)
	}
	at := clock(l.At, now)
	switch {
	case l.Reason == api.ReasonExpired:
		return "The session of " + who + " ended. Log in again to use it."
	case l.Reason == api.ReasonRefreshTokenReuse:
		return fmt.Sprintf("%s was logged out at %s because its sign-in token was used from somewhere else. If that wasn't you, log in and change its password.", who, at)
	case l.Reason == api.ReasonPasswordChanged:
		return fmt.Sprintf("The password of %s was changed at %s, which logged it out here.", who, at)
	case l.Reason == api.ReasonReauthFailed:
		return fmt.Sprintf("%s was logged out at %s after too many wrong passwords in a row when confirming it was you. "+
			"If that wasn't you, log in and change its password.", who, at)
	case l.Reason == api.ReasonAdmin:
		return fmt.Sprintf("%s was logged out by the server administrator at %s.", who, at)
	case l.Reason == api.ReasonDPoP:
		return who + " can't be used here any more: this device's login key is gone (its keyring was cleared or can't be read). Log in again."
	case l.Reason == api.ReasonInactive:
		return fmt.Sprintf("%s was logged out here at %s because %s.", who, at, unusedBecause(l.UnusedFor, "the account"))
	case l.Erased && l.ByDeviceName != "":
		return fmt.Sprintf("%s was logged out and its Sessionguard data on this device erased by %s at %s. "+
			"If that wasn't you, log in again and change its password.", who, byDevice(l.ByDeviceName, self), at)
	case l.Erased:
		return fmt.Sprintf("%s was logged out and its Sessionguard data on this device erased at %s. "+
			"If that wasn't you, log in again and change its password.", who, at)
	case l.ByDeviceName != "":
		by := l.ByDeviceName
		if self != "" && strings.EqualFold(strings.TrimSpace(by), strings.TrimSpace(self)) {
			by = "another device named " + by
		}
		return fmt.Sprintf("%s was logged out by %s at %s. If that wasn't you, log in again and change its password.", who, by, at)
	default:
		return fmt.Sprintf("%s was logged out at %s. If that wasn't you, log in again and change its password.", who, at)
	}
}

// sentence is msg as a sentence: a capital first letter and a full stop.
// The app core's refusals are Go errors ("you're already logged in as
// …"), shown to the person as they are.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[n:]
	if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "?") && !strings.HasSuffix(msg, "!") {
		msg += "."
	}
	return msg
}
