package ui

import (
	"context"
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// settingsScreen is the settings menu.
type settingsScreen struct {
	ui     *UI
	root   fyne.CanvasObject
	server *widget.Label
	logout *widget.Button
	clear  *widget.Button
}

func entry(label string, icon fyne.Resource, tap func()) *widget.Button {
	b := widget.NewButtonWithIcon(label, icon, tap)
	b.Alignment = widget.ButtonAlignLeading
	return b
}

func newSettingsScreen(u *UI) *settingsScreen {
	s := &settingsScreen{ui: u}
	s.server = widget.NewLabel("")
	s.server.Importance = widget.LowImportance
	s.server.Alignment = fyne.TextAlignTrailing
	s.server.Truncation = fyne.TextTruncateEllipsis
	// The address sits over the right of the full-width Server entry: as a
	// Border's trailing object a truncating label gets only its minimum
	// width and shows nothing but "…".
	server := entry("Server", theme.StorageIcon(), s.onServer)
	inset := canvas.NewRectangle(color.Transparent)
	inset.SetMinSize(server.MinSize())
	s.logout = entry("Log out", theme.LogoutIcon(), u.confirmLogOut)
	s.clear = entry("Clear app data", theme.DeleteIcon(), s.onClearData)
	s.clear.Importance = widget.DangerImportance
	body := container.NewVBox(
		header("Settings", u.back, nil),
		entry("Login activity", theme.ComputerIcon(), u.openDevices),
		entry("Security activity", theme.HistoryIcon(), u.openActivity),
		entry("Change password", theme.VisibilityIcon(), u.openPassword),
		entry("Two-step verification", theme.ConfirmIcon(), u.openTwoStep),
		widget.NewSeparator(),
		container.NewStack(server, container.NewBorder(nil, nil, inset, nil, s.server)),
		entry("About", theme.InfoIcon(), u.openAbout),
		widget.NewSeparator(),
		s.logout, s.clear,
	)
	s.root = container.NewVScroll(column(container.NewPadded(body)))
	return s
}

func (s *settingsScreen) update(snap app.Snapshot) fyne.CanvasObject {
	if s.ui.info.Embedded {
		s.server.SetText("This device")
	} else {
		s.server.SetText(s.ui.info.Server)
	}
	setEnabled(!snap.Busy, s.logout)
	return s.root
}

func (s *settingsScreen) onServer() {
	where := "This device keeps your account: Sessionguard runs its own server here, with its data in " + s.ui.info.DataDir + "."
	if !s.ui.info.Embedded {
		where = "Your account is on " + s.ui.info.Server + "."
	}
	d := dialog.NewInformation("Server", where+"\n\nTo use another server, clear app data and choose it when Sessionguard starts again.", s.ui.win)
	s.ui.showDialog(d)
}

// onClearData confirms, clears, then summarises.
func (s *settingsScreen) onClearData() {
	msg := "This logs this device out, forgets saved logins, and removes all Sessionguard data from this device: sign-in tokens in the keyring, saved accounts, settings and cached lists. You'll start again as on the first day."
	var rep app.ResetReport
	s.ui.confirmAction("Clear app data?", "Clear", msg, func(ctx context.Context) error {
		var err error
		rep, err = s.ui.core.ClearAppData(ctx)
		return err
	}, func(err error) { s.ui.showResetReport(rep, err) })
}

// resetSummary is the text shown after "clear app data".
func resetSummary(rep app.ResetReport, err error) string {
	var b strings.Builder
	b.WriteString("Sessionguard's data was removed from this device.\n\n")
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
	u.showDialog(dialog.NewCustom("App data cleared", "OK", wrapped(resetSummary(rep, err)), u.win))
}
