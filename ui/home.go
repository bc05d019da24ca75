package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// homeScreen shows the account and opens the settings menu.
type homeScreen struct {
	ui   *UI
	root fyne.CanvasObject
	body *fyne.Container
	// The account, this device, the device count, and the stream's state.
	avatar, name, device, summary, live *widget.Label
	// With several accounts, the name is the account menu (switcher.go),
	// with a badge counting new sign-ins to the accounts not shown.
	accountMenu *keyButton
	badge       *letterAvatar
	menuRow     fyne.CanvasObject
}

func newHomeScreen(u *UI) *homeScreen {
	h := &homeScreen{ui: u}
	menu := u.button("", theme.MenuIcon(), u.openSettings)
	h.avatar = heading("")
	h.name = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	h.name.SizeName = theme.SizeNameSubHeadingText
	h.accountMenu = u.button("", theme.MenuDropDownIcon(), u.openSwitcher)
	h.accountMenu.IconPlacement = widget.ButtonIconTrailingText
	h.badge = newLetterAvatar(24, theme.ColorNameError, theme.ColorNameForegroundOnError)
	h.badge.Hide()
	h.menuRow = container.NewCenter(container.NewHBox(h.accountMenu, container.NewCenter(h.badge)))
	h.menuRow.Hide()
	h.device = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	h.device.Truncation = fyne.TextTruncateEllipsis // device names can be long
	h.summary = wrapped("")
	h.live = wrapped("") // a phone is narrower than the sentence
	h.live.Importance = widget.LowImportance
	open := u.button("Where you're logged in", theme.ComputerIcon(), u.openDevices)
	open.Importance = widget.HighImportance
	settings := u.button("Settings", theme.SettingsIcon(), u.openSettings)
	h.body = container.NewVBox(
		header("Sessionguard", nil, menu),
		widget.NewCard("", "", container.NewVBox(h.avatar, h.name, h.menuRow, h.device)),
		widget.NewCard("Login activity", "", container.NewVBox(h.summary, open)),
		settings, h.live,
	)
	h.root = container.NewVScroll(column(container.NewPadded(h.body)))
	return h
}

func (h *homeScreen) update(s app.Snapshot) fyne.CanvasObject {
	if s.Account != nil {
		h.avatar.SetText(strings.ToUpper(s.Account.Username[:1]))
		h.name.SetText(s.Account.Username)
		h.accountMenu.SetText(s.Account.Username)
	}
	several := h.ui.accounts != nil
	setVisible(h.name, !several)
	setVisible(h.menuRow, several)
	if several {
		n := h.ui.backgroundAlerts()
		if n > 0 {
			h.badge.setText(fmt.Sprint(n))
		}
		setVisible(h.badge, n > 0)
	}
	if s.Session != nil {
		h.device.SetText("Logged in on " + s.Session.Device.Name)
	}
	summary := "Only this device is logged in to your account."
	switch n := len(s.Devices); {
	case n <= 1:
	case s.DevicesCursor != "":
		summary = fmt.Sprintf("More than %d devices are logged in to your account. Check the ones you don't recognise.", n)
	case n == 2:
		summary = "2 devices are logged in to your account: this one and another. Check that you recognise it."
	default:
		summary = fmt.Sprintf("%d devices are logged in to your account. Check the ones you don't recognise.", n)
	}
	if summary != h.summary.Text {
		h.summary.SetText(summary)
		// One line can become two: the GL driver grows the card but leaves
		// what is below it in place, overlapping, until the page is laid
		// out again.
		h.body.Refresh()
	}
	switch {
	case s.Live:
		h.live.SetText("● Live — changes on other devices show up here at once")
	case s.Offline:
		h.live.SetText("○ Not connected — showing what Sessionguard last knew")
	default:
		h.live.SetText("○ Connecting…")
	}
	return h.root
}
