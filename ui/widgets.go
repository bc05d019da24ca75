package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// shortcutLoginActivity (Ctrl+L, ⌘L on macOS) opens Login activity.
var shortcutLoginActivity = desktop.CustomShortcut{KeyName: fyne.KeyL, Modifier: fyne.KeyModifierShortcutDefault}

// maxWidth is the widest a column of content grows on a desktop; on a
// phone the content uses the full width.
const maxWidth = 560

// columnLayout centres its objects in a column at most maxWidth wide.
type columnLayout struct{}

func (columnLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := min(size.Width, maxWidth)
	x := (size.Width - w) / 2
	for _, o := range objs {
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
	}
}

func (columnLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}

// column wraps content in the centred column.
func column(content fyne.CanvasObject) fyne.CanvasObject {
	return container.New(columnLayout{}, content)
}

// heading is a screen's title: large, bold, centred.
func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameHeadingText
	return l
}

// header is a page's top bar: back button (optional), title, trailing action.
func header(title string, back func(), trailing fyne.CanvasObject) fyne.CanvasObject {
	var lead fyne.CanvasObject
	if back != nil {
		b := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), back)
		b.Importance = widget.LowImportance
		lead = b
	}
	t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameSubHeadingText
	return container.NewBorder(nil, nil, lead, trailing, t)
}

// listHeader is the top of a list page: header with a refresh button
// (refresh runs on tap), and below it the list's status line.
func listHeader(title string, back, refresh func()) (fyne.CanvasObject, *widget.Label) {
	b := widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), refresh)
	b.Importance = widget.LowImportance
	status := wrapped("")
	status.Importance = widget.LowImportance
	return container.NewVBox(header(title, back, b), status), status
}

// newListRow is one reusable row of a list page: icon (replaced by
// fillRow), lines of text, and trailing at the end (nil: none).
func newListRow(icon fyne.Resource, trailing fyne.CanvasObject, lines ...*widget.Label) fyne.CanvasObject {
	text := make([]fyne.CanvasObject, len(lines))
	for i, l := range lines {
		text[i] = l
	}
	return container.NewBorder(nil, nil, widget.NewIcon(icon), trailing, container.NewVBox(text...))
}

// rowLine is one line of a list row, cut off with "…" when too long.
func rowLine(style fyne.TextStyle, importance widget.Importance) *widget.Label {
	l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, style)
	l.Truncation = fyne.TextTruncateEllipsis
	l.Importance = importance
	return l
}

// fillRow shows icon and text, a string per line, in a row made by
// newListRow.
func fillRow(o fyne.CanvasObject, icon fyne.Resource, text ...string) {
	row := o.(*fyne.Container)
	row.Objects[1].(*widget.Icon).SetResource(icon)
	for i, l := range row.Objects[0].(*fyne.Container).Objects {
		l.(*widget.Label).SetText(text[i])
	}
}

// moreAtEnd loads a paged list's next page (load) when the row drawn, i of
// n, is its last and a next page exists (cursor). Drawn again while that
// page loads, it asks again: the core loads it once.
func (u *UI) moreAtEnd(i, n int, cursor string, load func(context.Context) error) {
	if i == n-1 && cursor != "" {
		u.run(load, nil)
	}
}

// setForm shows rows (label, value) in form, values wrapped as wrap. When
// the form already has these labels, only the values change: Fyne's Form
// keeps the widgets of a row it has laid out, so replacing its items
// (Items = nil, then Append) left the first row showing the previous value
// (one device's "System" on the next device's page).
func setForm(form *widget.Form, rows [][2]string, wrap fyne.TextWrap) {
	if sameLabels(form, rows) {
		for i, kv := range rows {
			form.Items[i].Widget.(*widget.Label).SetText(kv[1])
		}
		return
	}
	items := make([]*widget.FormItem, 0, len(rows))
	for _, kv := range rows {
		v := widget.NewLabel(kv[1])
		v.Wrapping = wrap
		items = append(items, widget.NewFormItem(kv[0], v))
	}
	form.Items = items
	form.Refresh()
}

// sameLabels reports whether form's rows are labelled as rows are, each
// with a value label setForm made.
func sameLabels(form *widget.Form, rows [][2]string) bool {
	if len(form.Items) != len(rows) {
		return false
	}
	for i, it := range form.Items {
		if _, ok := it.Widget.(*widget.Label); !ok || it.Text != rows[i][0] {
			return false
		}
	}
	return true
}

// showProgress shows and runs an infinite progress bar while on, and
// hides it otherwise.
func showProgress(bar *widget.ProgressBarInfinite, on bool) {
	if on {
		bar.Show()
		bar.Start()
	} else {
		bar.Stop()
		bar.Hide()
	}
}

// setVisible shows o when on, and hides it otherwise.
func setVisible(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// setEnabled enables ws when on, and disables them otherwise.
func setEnabled(on bool, ws ...fyne.Disableable) {
	for _, w := range ws {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
}

// plural is one or many, as n says.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// errorText is a red label that hides itself when empty.
func errorText() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

// setErrorText shows msg in l, an errorText, or hides l when msg is empty.
func setErrorText(l *widget.Label, msg string) {
	l.SetText(msg)
	setVisible(l, msg != "")
}

// wrapped is a label whose text wraps at word boundaries.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// deviceIcon picks the icon for a device by platform.
func deviceIcon(d api.Device) fyne.Resource {
	switch d.Platform {
	case api.PlatformAndroid, api.PlatformIOS:
		model := strings.ToLower(d.Model + " " + d.Name + " " + d.OS)
		if strings.Contains(model, "ipad") || strings.Contains(model, "tablet") || strings.Contains(model, "tab ") {
			return iconTablet
		}
		return iconPhone
	case api.PlatformMacOS, api.PlatformWindows, api.PlatformLinux:
		model := strings.ToLower(d.Model + " " + d.Name)
		if strings.Contains(model, "laptop") || strings.Contains(model, "book") || strings.Contains(model, "thinkpad") {
			return iconLaptop
		}
		return theme.ComputerIcon()
	case api.PlatformWeb:
		return theme.SearchIcon()
	}
	return theme.QuestionIcon()
}

// alertText is "New sign-in on Pixel 8 near Berlin — was this you?"
func alertText(s api.Session) string {
	where := ""
	if !s.Location.IsZero() {
		where = " near " + place(s.Location)
	}
	return fmt.Sprintf("New sign-in on %s%s — was this you?", s.Device.Name, where)
}

// place is "Lisbon, Portugal", or "Unknown location".
func place(l api.Location) string {
	switch p := joinGiven(", ", l.City, l.Country); {
	case p != "":
		return p
	case l.Region != "":
		return l.Region
	}
	return "Unknown location"
}

// joinGiven joins the parts that are not empty with sep.
func joinGiven(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), sep)
}

// activeText is "Active now", "Active 3 h ago", …
func activeText(s api.Session, now time.Time) string {
	if s.Current {
		return "This device · Active now"
	}
	d := now.Sub(s.LastSeenAt)
	switch {
	case d < 2*time.Minute:
		return "Active now"
	case d < time.Hour:
		return fmt.Sprintf("Active %d min ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("Active %d h ago", int(d.Hours()))
	case d < 48*time.Hour:
		return "Active yesterday"
	case d < 30*24*time.Hour:
		return fmt.Sprintf("Active %d days ago", int(d.Hours()/24))
	default:
		return "Active " + s.LastSeenAt.Local().Format("2 Jan 2006")
	}
}

// when formats a time for details: "21 Nov 2026, 14:02".
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2 Jan 2006, 15:04")
}

// clock formats a time of day, with the date when not today.
func clock(t time.Time, now time.Time) string {
	l, n := t.Local(), now.Local()
	if l.YearDay() == n.YearDay() && l.Year() == n.Year() {
		return l.Format("15:04")
	}
	return l.Format("2 Jan 15:04")
}

// osLine is "Android 15 · Pixel 8".
func osLine(d api.Device) string {
	if l := joinGiven(" · ", d.OS, d.Model); l != "" {
		return l
	}
	return "Unknown system"
}

// findDevice is the session with id in s.Devices.
func findDevice(s app.Snapshot, id string) (api.Session, bool) {
	for _, d := range s.Devices {
		if d.ID == id {
			return d, true
		}
	}
	return api.Session{}, false
}

// nowFunc is the UI's clock (tests pin it).
var nowFunc = time.Now

// dialogEntry is an Entry for use in dialogs. A focused Entry receives
// every key, so Escape would never reach the window to close the dialog;
// this one hands Escape to onEscape.
type dialogEntry struct {
	widget.Entry
	onEscape func()
}

// newDialogEntry makes a dialogEntry; a password one hides what is typed,
// with a button to show it, as widget.NewPasswordEntry does.
func newDialogEntry(password bool, onEscape func()) *dialogEntry {
	e := &dialogEntry{onEscape: onEscape}
	e.ExtendBaseWidget(e)
	if password {
		e.Password = true
		e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
		var reveal *widget.Button
		reveal = widget.NewButtonWithIcon("", theme.VisibilityOffIcon(), func() {
			e.Password = !e.Password
			if e.Password {
				reveal.SetIcon(theme.VisibilityOffIcon())
			} else {
				reveal.SetIcon(theme.VisibilityIcon())
			}
			e.Refresh()
		})
		reveal.Importance = widget.LowImportance
		e.ActionItem = reveal
	}
	return e
}

// TypedKey passes Escape on, and every other key to the Entry.
func (e *dialogEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(ev)
}
