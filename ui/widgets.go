package ui

import (
	"fmt"
	"image/color"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
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
		if o.Visible() { // a hidden note takes no room
			m = m.Max(o.MinSize())
		}
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
		// Escape on the focused back button goes back too.
		b := newKeyButton("", theme.NavigateBackIcon(), back, back)
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
	b := newKeyButton("", theme.ViewRefreshIcon(), refresh, back)
	b.Importance = widget.LowImportance
	status := wrapped("")
	status.Importance = widget.LowImportance
	return container.NewVBox(header(title, back, b), status), status
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
		return iconBrowser
	}
	return theme.QuestionIcon()
}

// alertText is "New sign-in on Pixel 8 near Berlin — was this you?"
func alertText(s api.Session) string {
	where := ""
	switch {
	case !s.Location.IsZero():
		where = " near " + placeOf(s.Location, "")
	case addrKind(s.IP) == addrLoopback:
		where = " on this computer"
	case addrKind(s.IP) == addrPrivate:
		where = " on your local network"
	}
	return fmt.Sprintf("New sign-in on %s%s — was this you?", s.Device.Name, where)
}

// placeOf is where a session or event came from: "Lisbon, Portugal" from
// the server's location, else from its IP address "This computer"
// (loopback: this computer's own server), "Local network" (a private
// address), or "Unknown location".
func placeOf(l api.Location, ip string) string {
	switch p := joinGiven(", ", l.City, l.Country); {
	case p != "":
		return p
	case l.Region != "":
		return l.Region
	}
	switch addrKind(ip) {
	case addrLoopback:
		return "This computer"
	case addrPrivate:
		return "Local network"
	}
	return "Unknown location"
}

// The kinds of address addrKind tells apart.
const (
	addrPublic = iota
	addrLoopback
	addrPrivate
)

// addrKind says whether ip is this machine's (loopback), on a local
// network (private, link-local, or the shared address space of carrier
// NAT) or anything else, including no address at all.
func addrKind(ip string) int {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return addrPublic
	}
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return addrLoopback
	case a.IsPrivate(), a.IsLinkLocalUnicast(), sharedAddressSpace.Contains(a):
		return addrPrivate
	}
	return addrPublic
}

// sharedAddressSpace is RFC 6598's carrier-grade NAT range: never a
// place on the internet.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// joinGiven joins the parts that are not empty with sep.
func joinGiven(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), sep)
}

// activeNowFor is how recent a device's last activity must be for it to
// count as active now: the server notes activity at most once a minute.
const activeNowFor = 5 * time.Minute

// activeNow reports whether s is this device or was active within
// activeNowFor of now.
func activeNow(s api.Session, now time.Time) bool {
	return s.Current || now.Sub(s.LastSeenAt) < activeNowFor
}

// activeText is "Active now", "Active 12 min ago", "Active 3 h ago", or,
// longer ago, "Last active Yesterday 09:10" / "… 21 Nov, 09:41".
func activeText(s api.Session, now time.Time) string {
	if activeNow(s, now) {
		return "Active now"
	}
	d := now.Sub(s.LastSeenAt)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("Active %d min ago", int(d.Minutes()))
	case d < 12*time.Hour:
		return fmt.Sprintf("Active %d h ago", int(d.Hours()))
	}
	return "Last active " + stamp(s.LastSeenAt, now)
}

// stamp is a time with its day, as every time on screen is shown: "Today
// 17:21", "Yesterday 09:10", "Tomorrow 08:00", "21 Nov, 09:41", and with
// the year when it is not this year: "21 Nov 2029, 09:41".
func stamp(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if day := dayName(t, now); day != "" {
		return day + " " + t.Local().Format("15:04")
	}
	if t.Local().Year() == now.Local().Year() {
		return t.Local().Format("2 Jan, 15:04")
	}
	return t.Local().Format("2 Jan 2006, 15:04")
}

// dayName is "Today", "Yesterday" or "Tomorrow" for t seen from now, else "".
func dayName(t, now time.Time) string {
	y1, m1, d1 := t.Local().Date()
	y2, m2, d2 := now.Local().Date()
	noon := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
	switch int(math.Round(noon(y1, m1, d1).Sub(noon(y2, m2, d2)).Hours() / 24)) {
	case 0:
		return "Today"
	case -1:
		return "Yesterday"
	case 1:
		return "Tomorrow"
	}
	return ""
}

// clock is a time for a sentence, after "at": "17:21 today", "09:10
// yesterday", "09:41 on 21 Nov", "09:41 on 21 Nov 2029".
func clock(t, now time.Time) string {
	hm := t.Local().Format("15:04")
	switch day := dayName(t, now); {
	case day != "":
		return hm + " " + strings.ToLower(day)
	case t.Local().Year() == now.Local().Year():
		return hm + " on " + t.Local().Format("2 Jan")
	}
	return hm + " on " + t.Local().Format("2 Jan 2006")
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
	upper    bool // letters typed are put in upper case (codes)
}

// TypedRune types r, in upper case for an upper entry.
func (e *dialogEntry) TypedRune(r rune) {
	if e.upper {
		r = unicode.ToUpper(r)
	}
	e.Entry.TypedRune(r)
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

// keyList is a List that hands Escape on (escape) rather than keeping it,
// and draws a focus ring around the row the keyboard is on: a List shows
// its focused row only as hovered, too faint to see. Its rows are made by
// newRingRow and drawn through fill.
type keyList struct {
	widget.List
	escape  func()
	focused bool
	at      widget.ListItemID // the keyboard's row, as the List keeps it
}

// newKeyList makes a keyList of length rows, each made by create and
// filled by fill (which gets the row's content, without the ring).
func newKeyList(length func() int, create func() fyne.CanvasObject, fill func(widget.ListItemID, fyne.CanvasObject), escape func()) *keyList {
	l := &keyList{escape: escape}
	l.Length = length
	l.CreateItem = func() fyne.CanvasObject { return newRingRow(create()) }
	l.UpdateItem = func(i widget.ListItemID, o fyne.CanvasObject) {
		r := o.(*fyne.Container)
		setVisible(r.Objects[1], l.focused && i == l.at)
		fill(i, r.Objects[0])
	}
	l.ExtendBaseWidget(l)
	return l
}

// newRingRow stacks content with a focus ring, hidden until needed.
func newRingRow(content fyne.CanvasObject) *fyne.Container {
	ring := canvas.NewRectangle(color.Transparent)
	ring.StrokeColor = theme.Color(theme.ColorNameFocus)
	ring.StrokeWidth = 2
	ring.CornerRadius = theme.SelectionRadiusSize()
	ring.Hide()
	return container.NewStack(content, ring)
}

// TypedKey follows the keyboard's row and hands Escape on.
func (l *keyList) TypedKey(ev *fyne.KeyEvent) {
	n := 0
	if l.Length != nil {
		n = l.Length()
	}
	switch ev.Name {
	case fyne.KeyEscape:
		if l.escape != nil {
			l.escape()
		}
		return
	case fyne.KeyReturn, fyne.KeyEnter:
		ev = &fyne.KeyEvent{Name: fyne.KeySpace} // selects the row, as Space does
	case fyne.KeyDown:
		if l.at < n-1 {
			l.at++
		}
	case fyne.KeyUp:
		if l.at > 0 {
			l.at--
		}
	}
	l.List.TypedKey(ev)
	l.Refresh()
}

// FocusGained shows the ring.
func (l *keyList) FocusGained() {
	l.focused = true
	l.List.FocusGained()
	l.Refresh()
}

// FocusLost hides the ring.
func (l *keyList) FocusLost() {
	l.focused = false
	l.List.FocusLost()
	l.Refresh()
}

// tapped notes a row tapped (OnSelected), where the List puts the
// keyboard's row on a desktop.
func (l *keyList) tapped(i widget.ListItemID) {
	if !fyne.CurrentDevice().IsMobile() {
		l.at = i
	}
}

// widthLayout gives its objects its whole size, and tells onWidth the
// width first: screens that change shape with the window's width.
type widthLayout struct{ onWidth func(float32) }

func (l *widthLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.onWidth(size.Width)
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l *widthLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}

// inReadingOrder is container.NewBorder(top, bottom, nil, nil, center)
// with its objects in reading order, top first: Tab follows the order of
// a container's objects, and NewBorder puts the centre first.
func inReadingOrder(top, center, bottom fyne.CanvasObject) *fyne.Container {
	objs := []fyne.CanvasObject{}
	for _, o := range []fyne.CanvasObject{top, center, bottom} {
		if o != nil {
			objs = append(objs, o)
		}
	}
	return container.New(layout.NewBorderLayout(top, bottom, nil, nil), objs...)
}

// compactTheme is Theme with tighter padding inside labels, for list
// rows that show two or three lines and must stay short.
type compactTheme struct{ fyne.Theme }

// Size halves the padding around text.
func (t compactTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameInnerPadding:
		return 2
	case theme.SizeNameLineSpacing:
		return 2
	}
	return t.Theme.Size(n)
}

// compact draws o with compactTheme.
func compact(o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewThemeOverride(o, compactTheme{Theme()})
}

// rowLabel is one line of a list row: cut off with "…" when too long,
// or wrapped when wrap.
func rowLabel(style fyne.TextStyle, importance widget.Importance, wrap bool) *widget.Label {
	l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, style)
	l.Importance = importance
	if wrap {
		l.Wrapping = fyne.TextWrapWord
	} else {
		l.Truncation = fyne.TextTruncateEllipsis
	}
	return l
}

// tickBox is a check box drawn like Check's but not focusable: rows that
// carry one take the keyboard themselves (Space ticks), so Tab stops once
// per row. Tapping it runs onTap.
type tickBox struct {
	widget.BaseWidget
	checked bool
	onTap   func()
	icon    *widget.Icon
}

func newTickBox(onTap func()) *tickBox {
	t := &tickBox{onTap: onTap, icon: widget.NewIcon(nil)}
	t.ExtendBaseWidget(t)
	t.setChecked(false)
	return t
}

// setChecked shows the box ticked or not: a Primary tick, or an outline
// in InputBorder, as Check draws them.
func (t *tickBox) setChecked(on bool) {
	t.checked = on
	if on {
		t.icon.SetResource(theme.NewColoredResource(theme.CheckButtonCheckedIcon(), theme.ColorNamePrimary))
	} else {
		t.icon.SetResource(theme.NewColoredResource(theme.CheckButtonIcon(), theme.ColorNameInputBorder))
	}
}

// Tapped runs onTap.
func (t *tickBox) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}

// CreateRenderer centres the box in a square a finger can hit.
func (t *tickBox) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewCenter(t.icon))
}

// MinSize is a touch target: the icon with padding around it.
func (t *tickBox) MinSize() fyne.Size {
	return fyne.NewSquareSize(theme.IconInlineSize() + 2*theme.InnerPadding())
}
