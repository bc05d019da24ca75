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
	h.body = container.New(wrapColumnLayout{},
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
	// Login activity's search ends here (devicesScreen.leave). Until it
	// has, the list and its counts are the matches', not the account's.
	h.ui.devices.leave(s)
	summary := homeSummary(s)
	if s.DeviceQuery != "" && h.summary.Text != "" {
		summary = h.summary.Text
	}
	if summary != h.summary.Text {
		h.summary.SetText(summary)
		// One line can become two: the page is laid out again (the GL
		// driver would grow the card but leave what is below it in place,
		// overlapping).
		h.body.Refresh()
	}
	live := "• Connecting…"
	switch {
	case s.Live:
		live = "• Live — changes on other devices show up here at once"
	case s.Offline:
		live = "• Not connected — showing what Sessionguard last knew"
	}
	if live != h.live.Text {
		h.live.SetText(live)
		h.body.Refresh() // it wraps on a phone
	}
	return h.root
}

// homeSummary says how many devices are logged in to the account: its
// counts (DeviceCounts), else the devices loaded ("more than" while some
// are not).
func homeSummary(s app.Snapshot) string {
	n, known := len(s.Devices), s.DevicesCursor == ""
	if c := s.DeviceCounts; c != nil {
		n, known = c.Total, true
	}
	switch {
	case !known:
		return fmt.Sprintf("More than %s devices are logged in to your account. Check the ones you don't recognise.", app.Thousands(int64(n)))
	case n <= 1:
		return "Only this device is logged in to your account."
	case n == 2:
		return "2 devices are logged in to your account: this one and another. Check that you recognise it."
	}
	return fmt.Sprintf("%s devices are logged in to your account. Check the ones you don't recognise.", app.Thousands(int64(n)))
}

// wrapColumnLayout stacks its objects as a VBox does, each as wide as the
// column, measuring each at that width: an object holding wrapped text
// (the summary in its card) is resized to the column's width before its
// height is asked, so its text is measured as it will wrap, not as it
// wrapped at the width it had before (none, the first time the page
// shows), which left the card too short and the buttons below it on top
// of each other.
type wrapColumnLayout struct{}

func (wrapColumnLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		if o.Size().Width != size.Width {
			o.Resize(fyne.NewSize(size.Width, o.MinSize().Height))
		}
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h + theme.Padding()
	}
}

func (wrapColumnLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	n := 0
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		w = max(w, m.Width)
		h += m.Height
		n++
	}
	if n > 1 {
		h += float32(n-1) * theme.Padding()
	}
	return fyne.NewSize(w, h)
}
