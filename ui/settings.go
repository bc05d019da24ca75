package ui

import (
	"context"
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// settingsScreen is the settings menu: the account's pages first, then
// the app's, Log out, and last, quietly, Clear app data.
type settingsScreen struct {
	ui      *UI
	root    fyne.CanvasObject
	server  *widget.Label // the server in use, over the Server entry
	twoStep *widget.Label // On or Off, over the Two-step entry
	// inactive is the account's rule, over the Log out inactive devices
	// entry; loadFailed says it could not be read.
	inactive   *widget.Label
	loadFailed bool
	logout     *keyButton
	all        *keyButton // Log out of all accounts: two or more accounts
	clear      *keyButton
	approve    *approveRow // Approve new devices from a device you trust
}

// entry is one line of the menu.
func (u *UI) entry(label string, icon fyne.Resource, tap func()) *keyButton {
	b := u.button(label, icon, tap)
	b.Alignment = widget.ButtonAlignLeading
	return b
}

// withValue puts value over the right of the full-width entry b, as a
// phone's settings show a setting's state. (As a Border's trailing object
// a truncating label would get only its minimum width and show nothing
// but "…".)
func withValue(b *keyButton, value *widget.Label) fyne.CanvasObject {
	value.Importance = widget.LowImportance
	value.Alignment = fyne.TextAlignTrailing
	value.Truncation = fyne.TextTruncateEllipsis
	inset := canvas.NewRectangle(color.Transparent)
	inset.SetMinSize(b.MinSize())
	return container.NewStack(b, container.NewBorder(nil, nil, inset, nil, value))
}

// section is a small heading over a group of entries.
func section(title string) *widget.Label {
	l := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameCaptionText
	return l
}

func newSettingsScreen(u *UI) *settingsScreen {
	s := &settingsScreen{ui: u, server: widget.NewLabel(""), twoStep: widget.NewLabel(""), inactive: widget.NewLabel("")}
	s.logout = u.entry("Log out", theme.LogoutIcon(), u.confirmLogOut)
	s.all = u.entry("Log out of all accounts", theme.LogoutIcon(), u.confirmLogOutAll)
	s.all.Hide()
	// Destructive, and rare: red icon, but no red block drawing the eye.
	s.clear = u.entry("Clear app data…", theme.NewErrorThemedResource(theme.DeleteIcon()), s.onClearData)
	s.clear.Importance = widget.LowImportance
	s.approve = newApproveRow(u)
	clearNote := wrapped("Removes everything Sessionguard keeps on this device.")
	clearNote.SizeName = theme.SizeNameCaptionText
	if inBrowser { // a tab keeps no app data: Log out is the whole reset
		s.clear.Hide()
		clearNote.Hide()
	}
	body := container.NewVBox(
		header("Settings", u.back, nil),
		section("Your account"),
		u.entry("Login activity", theme.ComputerIcon(), u.openDevices),
		u.entry("Security activity", theme.HistoryIcon(), u.openActivity),
		u.entry("Change password", theme.VisibilityIcon(), u.openPassword),
		withValue(u.entry("Two-step verification", iconPhone, u.openTwoStep), s.twoStep),
		withValue(u.entry("Log out inactive devices", theme.CalendarIcon(), u.openInactivity), s.inactive),
		u.entry("Link a device", theme.LoginIcon(), u.openLink),
		s.approve.root,
		widget.NewSeparator(),
		section("This app"),
		withValue(u.entry("Server", theme.StorageIcon(), s.onServer), s.server),
		u.entry("About", theme.InfoIcon(), u.openAbout),
		widget.NewSeparator(),
		s.logout, s.all,
		widget.NewSeparator(),
		s.clear, clearNote,
	)
	s.root = container.NewVScroll(column(container.NewPadded(body)))
	return s
}

func (s *settingsScreen) update(snap app.Snapshot) fyne.CanvasObject {
	if in := s.ui.serverInfo(); in.Embedded {
		s.server.SetText("This device")
	} else {
		s.server.SetText(serverHost(in))
	}
	if snap.Account != nil && snap.Account.MFAEnabled {
		s.twoStep.SetText("On")
	} else {
		s.twoStep.SetText("Off")
	}
	s.inactive.SetText(settingValue(snap, s.loadFailed))
	s.approve.update(snap)
	several := s.ui.accounts != nil && len(s.ui.acc.Accounts) > 1
	logout := "Log out"
	if several && snap.Account != nil {
		logout = "Log out " + snap.Account.Username // which one, among several
	}
	if s.logout.Text != logout {
		s.logout.SetText(logout)
	}
	setEnabled(!snap.Busy, s.logout, s.all)
	setVisible(s.all, several)
	return s.root
}

// load reads the account's settings, which the menu shows.
func (s *settingsScreen) load() {
	s.loadFailed = false
	s.ui.loadSettings(func(err error) {
		s.loadFailed = err != nil
		s.ui.redraw()
	})
}

func (s *settingsScreen) onServer() {
	in := s.ui.serverInfo()
	where := "This device keeps your account: Sessionguard runs its own server here, with its data in " + in.DataDir + "."
	if !in.Embedded {
		where = "Your account is on " + in.Server + "."
	}
	next := "To use another server, log out and choose \u201cChange server\u201d on the log-in screen."
	if s.ui.accounts != nil {
		next = "To add an account on another server, choose \u201cAdd account\u201d in the account menu on the home screen, then \u201cChange server\u201d."
	}
	s.ui.infoDialog("Server", where+"\n\n"+next)
}

// clearDataText is what "Clear app data?" says will happen: with this
// device's own server the account goes for good; with a remote one it
// stays there.
func clearDataText(in Info, username string) string {
	msg := "This logs this device out, forgets saved logins, and removes all Sessionguard data from this device: sign-in tokens in the keyring, saved accounts, settings and cached lists."
	if in.Embedded {
		who := "Your account"
		if username != "" {
			who = username
		}
		return msg + "\n\nYour account lives on this device: " + who + " will be deleted, with its devices and security activity, " +
			"and can't be logged in to again. So will any other account kept here. Sessionguard starts again as on the first day."
	}
	account := "Your account"
	if username != "" {
		account += " " + username
	}
	msg += "\n\n" + account + " stays on " + serverHost(in) + ": log in again here or anywhere with its password."
	if in.LocalAccounts {
		msg += " Accounts kept on this device's own server are deleted."
	}
	return msg
}

// accountsEnded is what "Clear app data?" adds with more than one account
// signed in: every one of them is logged out ("" with one).
func accountsEnded(accounts []app.AccountEntry) string {
	if len(accounts) < 2 {
		return ""
	}
	lines := make([]string, 0, len(accounts))
	for _, e := range accounts {
		lines = append(lines, "• "+accountLine(e))
	}
	return fmt.Sprintf("\n\nIt ends all %d accounts signed in here, each on its server:\n%s", len(accounts), strings.Join(lines, "\n"))
}

// onClearData confirms, clears, then summarises.
func (s *settingsScreen) onClearData() {
	username := ""
	if a := s.ui.snap.Account; a != nil {
		username = a.Username
	}
	in := s.ui.serverInfo()
	title, yes := "Clear app data?", "Clear app data"
	if in.Embedded {
		title, yes = "Delete your account and clear app data?", "Delete and clear"
	}
	msg := clearDataText(in, username)
	if m := s.ui.accounts; m != nil {
		msg += accountsEnded(s.ui.acc.Accounts)
		var rep app.ResetReport
		s.ui.confirmAction(title, yes, msg, func(ctx context.Context) error {
			var err error
			rep, err = m.ClearAppData(ctx)
			return err
		}, func(err error) { s.ui.showResetReport(rep, err) })
		return
	}
	var rep app.ResetReport
	s.ui.confirmAction(title, yes, msg, func(ctx context.Context) error {
		var err error
		rep, err = s.ui.core.ClearAppData(ctx)
		return err
	}, func(err error) { s.ui.showResetReport(rep, err) })
}

// resetSummary is the text shown after "clear app data".
func resetSummary(rep app.ResetReport, err error) string {
	var b strings.Builder
	b.WriteString("Sessionguard's data was removed from this device.\n\n")
	if rep.LocalAccountsDeleted {
		b.WriteString("• The accounts kept on this device were deleted\n")
	}
	fmt.Fprintf(&b, "• Sessions ended on the server: %d\n", rep.SessionsEnded)
	fmt.Fprintf(&b, "• Saved logins forgotten: %d\n", rep.SavedLoginsForgotten)
	fmt.Fprintf(&b, "• Keyring items deleted: %d\n", rep.SecretsRemoved)
	if len(rep.NotEnded) > 0 {
		b.WriteString("\nCouldn't be ended on the server (they expire on their own, or log them out from another device):\n")
		for _, n := range rep.NotEnded {
			b.WriteString("• " + n + "\n")
		}
	}
	if err != nil {
		b.WriteString("\nSome data could not be removed: " + err.Error())
	}
	return b.String()
}

func (u *UI) showResetReport(rep app.ResetReport, err error) {
	u.infoDialog("App data cleared", resetSummary(rep, err))
}
