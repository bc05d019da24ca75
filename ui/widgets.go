package ui

import (
	"fmt"
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

// errorText is a red label that hides itself when empty.
func errorText() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

func setErrorText(l *widget.Label, msg string) {
	l.SetText(msg)
	if msg == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

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

// place is "Lisbon, Portugal", or "Unknown location".
func place(l api.Location) string {
	var parts []string
	for _, p := range []string{l.City, l.Country} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		if l.Region != "" {
			return l.Region
		}
		return "Unknown location"
	}
	return strings.Join(parts, ", ")
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
	var parts []string
	for _, p := range []string{d.OS, d.Model} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "Unknown system"
	}
	return strings.Join(parts, " · ")
}

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
