package ui

import (
	"context"
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// Widths that decide the layout of Login activity.
const (
	// splitAt is the narrowest page that shows the list and the chosen
	// device's details side by side; narrower, a device opens on a page
	// of its own.
	splitAt = 860
	// detailWidth is the widest the details beside the list grow.
	detailWidth = 520
	// wideRowAt is the narrowest row that puts a device on two lines
	// (name and activity; place, address and system), cutting off what
	// does not fit; narrower, every fact gets its own wrapped lines, so
	// nothing that identifies a device is cut off on a phone.
	wideRowAt = 560
)

// devicesScreen is Login activity: every session of the account, in
// groups (this device, active now, earlier). Each other device can be
// ticked, to log several out at once. On a wide window the chosen
// device's details show beside the list (devicesLayout).
type devicesScreen struct {
	ui     *UI
	root   fyne.CanvasObject
	status *widget.Label
	rows   *fyne.Container // group titles and deviceRows
	scroll *container.Scroll
	more   *keyButton        // the next page
	others *keyButton        // log out of all other devices
	chosen *keyButton        // log out the ticked devices
	clear  *keyButton        // untick them
	picked fyne.CanvasObject // chosen and clear
	detail *deviceDetail
	pane   fyne.CanvasObject // detail's column beside the list
	ended  *endedSection     // Recently logged out, below the list

	// Layout, not state: set by devicesLayout from the window's width.
	wide     bool    // the details show beside the list
	rowWidth float32 // the width rows are laid out at

	cache  map[string]*deviceRow // rows by session ID, kept so focus stays with its device
	titles map[string]*widget.Label
}

func newDevicesScreen(u *UI) *devicesScreen {
	d := &devicesScreen{ui: u, cache: map[string]*deviceRow{}, titles: map[string]*widget.Label{}}
	var top fyne.CanvasObject
	top, d.status = listHeader("Where you're logged in", u.back, d.onRefresh)
	d.rows = container.NewVBox()
	d.more = u.button("Show more devices", theme.MoreVerticalIcon(), d.onMore)
	d.more.Importance = widget.LowImportance
	d.ended = newEndedSection(d)
	d.scroll = container.NewVScroll(container.NewVBox(d.rows, d.more, d.ended.root))
	d.scroll.OnScrolled = d.onScrolled
	d.others = u.button("Log out of all other devices", theme.LogoutIcon(), d.onLogoutOthers)
	d.others.Importance = widget.DangerImportance
	d.chosen = u.button("", theme.LogoutIcon(), d.onLogoutChosen)
	d.chosen.Importance = widget.DangerImportance
	d.clear = u.button("Clear selection", theme.CancelIcon(), d.onClearChosen)
	d.clear.Importance = widget.LowImportance
	d.picked = container.NewBorder(nil, nil, nil, d.clear, d.chosen)
	bottom := container.NewVBox(d.others, d.picked)
	list := container.NewPadded(inReadingOrder(top, d.scroll, bottom))
	d.detail = newDeviceDetail(u)
	d.pane = container.NewPadded(container.NewVScroll(container.NewPadded(d.detail.root)))
	d.root = container.New(&devicesLayout{d}, list, widget.NewSeparator(), d.pane)
	return d
}

// devicesLayout lays out Login activity for the window's width: the list
// alone, or the list with the details beside it (objs: list, separator,
// details). It tells the screen which, and the rows their width.
type devicesLayout struct{ d *devicesScreen }

func (l *devicesLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	list, sep, pane := objs[0], objs[1], objs[2]
	wide := size.Width >= splitAt
	listW := size.Width
	if wide {
		listW = size.Width - min(detailWidth, size.Width*0.42)
	}
	// Rows are as wide as the list's scroll: the list's padding and the
	// rows' own come off.
	rowW := listW - 2*theme.Padding()
	changed := wide != l.d.wide || rowW != l.d.rowWidth
	l.d.wide, l.d.rowWidth = wide, rowW
	list.Move(fyne.NewPos(0, 0))
	list.Resize(fyne.NewSize(listW, size.Height))
	setVisible(sep, wide)
	setVisible(pane, wide)
	if wide {
		sep.Move(fyne.NewPos(listW, theme.Padding()))
		sep.Resize(fyne.NewSize(theme.SeparatorThicknessSize(), size.Height-2*theme.Padding()))
		pane.Move(fyne.NewPos(listW+theme.SeparatorThicknessSize(), 0))
		pane.Resize(fyne.NewSize(size.Width-listW-theme.SeparatorThicknessSize(), size.Height))
	}
	if changed {
		// Rows change shape (and height) with their width: lay them out again.
		for _, r := range l.d.cache {
			r.Refresh()
		}
		for _, r := range l.d.ended.cache {
			r.Refresh()
		}
		l.d.rows.Refresh()
		l.d.ended.rows.Refresh()
		if wide {
			l.d.ui.onUI(l.d.ui.redraw) // the details are drawn only when shown
		}
	}
}

func (l *devicesLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return objs[0].MinSize()
}

// groups are Login activity's groups, in order, with their titles.
var groups = []string{"This device", "Active now", "Earlier"}

// groupOf is the group of session s.
func groupOf(s api.Session, now time.Time) int {
	switch {
	case s.Current:
		return 0
	case activeNow(s, now):
		return 1
	}
	return 2
}

func (d *devicesScreen) update(s app.Snapshot) fyne.CanvasObject {
	now := nowFunc()
	if d.wide {
		d.showDetail(s)
	}
	var objs []fyne.CanvasObject
	seen := make(map[string]bool, len(s.Devices))
	for g, title := range groups {
		first := true
		for _, dev := range s.Devices {
			if groupOf(dev, now) != g {
				continue
			}
			if first {
				objs = append(objs, d.title(title))
				first = false
			}
			r := d.cache[dev.ID]
			if r == nil {
				r = newDeviceRow(d, dev.ID)
				d.cache[dev.ID] = r
			}
			seen[dev.ID] = true
			r.set(dev, s, now, d.wide && dev.ID == d.ui.deviceID)
			objs = append(objs, r)
		}
	}
	for id := range d.cache {
		if !seen[id] {
			delete(d.cache, id)
		}
	}
	if !sameObjects(d.rows.Objects, objs) {
		d.rows.Objects = objs
		d.rows.Refresh()
	}
	setVisible(d.more, s.DevicesCursor != "")
	d.ended.update(s, now)

	n, picked := len(s.Devices), len(s.SelectedDevices)
	switch {
	case s.Offline:
		d.status.SetText("Offline: this is the last known list. Logging devices out needs the server.")
	case s.DevicesStale:
		d.status.SetText("This list may be out of date.")
	case s.DevicesCursor != "":
		d.status.SetText(fmt.Sprintf("Showing the %d most recently active devices; scroll for more.", n))
	case d.wide:
		d.status.SetText(fmt.Sprintf("%d %s. Choose one to see it here; tick several to log them out together.", n, plural(n, "device", "devices")))
	default:
		d.status.SetText(fmt.Sprintf("%d %s. Tap one for details; tick several to log them out together.", n, plural(n, "device", "devices")))
	}
	online := !s.Offline && !s.Busy
	setVisible(d.others, picked == 0)
	setEnabled(online && n > 1, d.others)
	d.chosen.SetText(fmt.Sprintf("Log out %d selected %s", picked, plural(picked, "device", "devices")))
	setVisible(d.picked, picked > 0)
	setEnabled(online, d.chosen)
	return d.root
}

// title is the label over a group.
func (d *devicesScreen) title(text string) *widget.Label {
	l := d.titles[text]
	if l == nil {
		l = widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Importance = widget.LowImportance
		d.titles[text] = l
	}
	return l
}

// showDetail draws, beside the list, the device UI.deviceID names, or
// this device when it names none that is listed.
func (d *devicesScreen) showDetail(s app.Snapshot) {
	dev, ok := findDevice(s, d.ui.deviceID)
	if !ok && s.Session != nil {
		dev, ok = findDevice(s, s.Session.ID)
	}
	if !ok && len(s.Devices) > 0 {
		dev, ok = s.Devices[0], true
	}
	setVisible(d.detail.root, ok)
	if ok {
		d.ui.deviceID = dev.ID
		d.detail.update(s, dev)
	}
}

// open shows a device: beside the list on a wide window, else on its page.
func (d *devicesScreen) open(id string) {
	if d.wide {
		d.ui.deviceID = id
		d.ui.redraw()
		return
	}
	d.ui.openDevice(id)
}

// tick ticks or unticks a device for logging out together.
func (d *devicesScreen) tick(id string) {
	d.ui.core.SelectDevice(id, !containsID(d.ui.snap.SelectedDevices, id))
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// sameObjects reports whether a and b hold the same objects in order.
func sameObjects(a, b []fyne.CanvasObject) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// reveal scrolls the list so that r shows (a row the keyboard reached).
func (d *devicesScreen) reveal(r *deviceRow) {
	y, h := r.Position().Y, r.Size().Height
	off, view := d.scroll.Offset.Y, d.scroll.Size().Height
	switch {
	case y < off:
		d.scroll.ScrollToOffset(fyne.NewPos(0, y))
	case y+h > off+view:
		d.scroll.ScrollToOffset(fyne.NewPos(0, y+h-view))
	}
}

func (d *devicesScreen) onRefresh() {
	d.ui.run(d.ui.core.LoadDevices, nil)
	d.ended.load()
}

func (d *devicesScreen) onMore() { d.ui.run(d.ui.core.LoadMoreDevices, nil) }

// onScrolled loads the next page when the end of the list comes near:
// of the live list, and once it is all there, of Recently logged out
// below it.
func (d *devicesScreen) onScrolled(off fyne.Position) {
	snap := d.ui.snap
	if snap.DevicesCursor == "" && snap.EndedCursor == "" {
		return
	}
	if off.Y+d.scroll.Size().Height < d.scroll.Content.MinSize().Height-2*d.more.MinSize().Height {
		return
	}
	if snap.DevicesCursor != "" {
		d.onMore() // Recently logged out shows once the list is all there
		return
	}
	d.ended.onMore()
}

func (d *devicesScreen) onLogoutOthers() {
	n := len(d.ui.snap.Devices) - 1
	msg := fmt.Sprintf("Every other device logged in to your account (%d shown here) is logged out right away. Each will need the password to log in again, and saved login info on them stops working. This can't be undone.", n)
	core := d.ui.core
	d.ui.confirmRevoke("Log out of all other devices?", "Log out all", msg, true, false, func(ctx context.Context, erase bool) error {
		_, err := core.RevokeOthers(ctx, erase)
		return err
	})
}

// onLogoutChosen confirms, then logs out the ticked devices together.
func (d *devicesScreen) onLogoutChosen() {
	ids := append([]string(nil), d.ui.snap.SelectedDevices...)
	if len(ids) == 0 {
		return
	}
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if s, ok := findDevice(d.ui.snap, id); ok {
			names = append(names, "• "+s.Device.Name+" — "+placeOf(s.Location, s.IP))
		}
	}
	n := len(ids)
	msg := fmt.Sprintf("These %d devices will be logged out right away:\n\n%s\n\nEach will need the password to log in again, and saved login info on them stops working. This can't be undone.",
		n, strings.Join(names, "\n"))
	if n == 1 {
		msg = fmt.Sprintf("This device will be logged out right away:\n\n%s\n\nIt will need the password to log in again, and saved login info on it stops working. This can't be undone.", names[0])
	}
	core := d.ui.core
	d.ui.confirmRevoke(fmt.Sprintf("Log out %d %s?", n, plural(n, "device", "devices")), fmt.Sprintf("Log out %d", n), msg, n > 1, false,
		func(ctx context.Context, erase bool) error { return core.RevokeDevices(ctx, ids, erase) })
}

func (d *devicesScreen) onClearChosen() { d.ui.core.ClearDeviceSelection() }

// deviceRow is one device in Login activity: a tick box (not on this
// device's own row), its icon, name, place, address, system and last
// activity. Tapping it, or Enter while it has the focus, shows the
// device; Space ticks it; Escape goes back. It takes the keyboard focus
// itself, once per row, and shows it with a ring in the theme's focus
// colour.
type deviceRow struct {
	widget.BaseWidget
	d       *devicesScreen
	id      string
	mine    bool // this device's own row: no tick box
	tick    *tickBox
	icon    *widget.Icon
	next    *widget.Icon
	name    *widget.Label
	active  *widget.Label
	where   *widget.Label   // narrow: place and address; wide: everything but the name
	system  *widget.Label   // narrow only: OS and model
	rule    *widget.Label   // its rule, if any: a line of its own when narrow, beside the name when it fits when wide
	line1   *fyne.Container // wide only: name, rule and activity (ruleIfFits)
	text    fyne.CanvasObject
	bg      *canvas.Rectangle // shown (chosen) or hovered
	ring    *canvas.Rectangle
	focused bool
	hovered bool
	chosen  bool
	wide    bool
}

func newDeviceRow(d *devicesScreen, id string) *deviceRow {
	r := &deviceRow{d: d, id: id, icon: widget.NewIcon(theme.ComputerIcon()), next: widget.NewIcon(theme.NavigateNextIcon())}
	r.tick = newTickBox(func() { d.tick(id) })
	r.bg = canvas.NewRectangle(color.Transparent)
	r.bg.CornerRadius = theme.SelectionRadiusSize()
	r.ring = canvas.NewRectangle(color.Transparent)
	r.ring.StrokeWidth = 2
	r.ring.CornerRadius = theme.SelectionRadiusSize()
	r.ExtendBaseWidget(r)
	return r
}

// set shows session s, chosen when its details show beside the list.
func (r *deviceRow) set(s api.Session, snap app.Snapshot, now time.Time, chosen bool) {
	wide := r.d.rowWidth >= wideRowAt
	if r.name == nil || wide != r.wide {
		r.build(wide)
	}
	r.mine, r.chosen = s.Current, chosen
	r.icon.SetResource(deviceIcon(s.Device))
	r.name.SetText(s.Device.Name)
	where := placeOf(s.Location, s.IP)
	if s.IP != "" {
		where += " · " + s.IP
	}
	if wide {
		r.where.SetText(where + " · " + osLine(s.Device))
		r.active.SetText(activeText(s, now))
	} else {
		r.where.SetText(where)
		r.system.SetText(osLine(s.Device))
		r.active.SetText(activeText(s, now) + " · Logged in " + stamp(s.CreatedAt, now))
	}
	r.rule.SetText(ruleLine(effectiveRule(s, snap)))
	if wide {
		r.line1.Refresh() // ruleIfFits shows the rule, or not
	} else {
		setVisible(r.rule, r.rule.Text != "")
	}
	r.tick.setChecked(containsID(snap.SelectedDevices, s.ID))
	setVisible(r.tick, !s.Current)
	setVisible(r.next, !r.d.wide)
	r.Refresh()
}

// build makes the text lines for a wide or a narrow row.
func (r *deviceRow) build(wide bool) {
	r.wide = wide
	r.name = rowLabel(fyne.TextStyle{Bold: true}, widget.MediumImportance, !wide)
	r.active = rowLabel(fyne.TextStyle{}, widget.LowImportance, !wide)
	r.where = rowLabel(fyne.TextStyle{}, widget.MediumImportance, !wide)
	r.rule = rowLabel(fyne.TextStyle{}, widget.LowImportance, !wide)
	if wide {
		r.system = nil
		r.active.Truncation = fyne.TextTruncateOff
		r.rule.Truncation = fyne.TextTruncateOff
		r.line1 = container.New(ruleIfFits{}, r.name, r.rule, r.active)
		r.text = compact(container.NewVBox(r.line1, r.where))
	} else {
		r.system, r.line1 = rowLabel(fyne.TextStyle{}, widget.MediumImportance, true), nil
		r.text = compact(container.NewVBox(r.name, r.where, r.system, r.active, r.rule))
	}
}

// Tapped shows the device.
func (r *deviceRow) Tapped(*fyne.PointEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(r); c != nil && !fyne.CurrentDevice().IsMobile() {
		c.Focus(r)
	}
	r.d.open(r.id)
}

// FocusGained shows the ring and scrolls the row into view.
func (r *deviceRow) FocusGained() {
	r.focused = true
	r.d.reveal(r)
	r.Refresh()
}

// FocusLost hides the ring.
func (r *deviceRow) FocusLost() {
	r.focused = false
	r.Refresh()
}

// TypedRune ignores typing.
func (r *deviceRow) TypedRune(rune) {}

// TypedKey: Enter and Return show the device, Space ticks it, Escape goes
// back (or closes the newest dialog).
func (r *deviceRow) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		r.d.open(r.id)
	case fyne.KeySpace:
		if !r.mine {
			r.d.tick(r.id)
		}
	case fyne.KeyEscape:
		r.d.ui.escape()
	}
}

// MouseIn shows the row hovered.
func (r *deviceRow) MouseIn(*desktop.MouseEvent) { r.hovered = true; r.Refresh() }

// MouseMoved does nothing.
func (r *deviceRow) MouseMoved(*desktop.MouseEvent) {}

// MouseOut ends the hover.
func (r *deviceRow) MouseOut() { r.hovered = false; r.Refresh() }

// CreateRenderer draws the row.
func (r *deviceRow) CreateRenderer() fyne.WidgetRenderer { return &deviceRowRenderer{r: r} }

// deviceRowRenderer lays a row out: [tick] icon text [›].
type deviceRowRenderer struct{ r *deviceRow }

// rowPad is the space around a row's content.
const rowPad = 6

func (rr *deviceRowRenderer) Objects() []fyne.CanvasObject {
	r := rr.r
	return []fyne.CanvasObject{r.bg, r.tick, r.icon, r.text, r.next, r.ring}
}

func (rr *deviceRowRenderer) Destroy() {}

// lead is the width before the text: tick box and icon.
func (rr *deviceRowRenderer) lead() float32 {
	return rr.r.tick.MinSize().Width + theme.IconInlineSize() + theme.Padding()
}

// trail is the width after the text: the chevron, when shown.
func (rr *deviceRowRenderer) trail() float32 {
	if rr.r.next.Visible() {
		return theme.IconInlineSize() + theme.Padding()
	}
	return 0
}

// textHeight is the height of the text laid out width wide: wrapped
// lines measured at that width.
func (rr *deviceRowRenderer) textHeight(width float32) float32 {
	r := rr.r
	if !r.wide {
		for _, l := range []*widget.Label{r.name, r.where, r.system, r.active, r.rule} {
			l.Resize(fyne.NewSize(width, l.Size().Height))
		}
	}
	return r.text.MinSize().Height
}

func (rr *deviceRowRenderer) MinSize() fyne.Size {
	w := rr.r.d.rowWidth
	textW := max(w-rr.lead()-rr.trail()-2*rowPad, 80)
	h := max(rr.textHeight(textW), rr.r.tick.MinSize().Height)
	return fyne.NewSize(rr.lead()+rr.trail()+80+2*rowPad, h+2*rowPad)
}

func (rr *deviceRowRenderer) Layout(size fyne.Size) {
	r := rr.r
	r.bg.Resize(size)
	r.ring.Resize(size)
	tick := r.tick.MinSize()
	r.tick.Resize(tick)
	r.tick.Move(fyne.NewPos(rowPad-theme.InnerPadding()/2, (size.Height-tick.Height)/2))
	icon := theme.IconInlineSize()
	r.icon.Resize(fyne.NewSquareSize(icon))
	r.icon.Move(fyne.NewPos(rowPad+tick.Width, (size.Height-icon)/2))
	x := rr.lead() + rowPad
	textW := size.Width - x - rr.trail() - rowPad
	h := rr.textHeight(textW)
	r.text.Resize(fyne.NewSize(textW, h))
	r.text.Move(fyne.NewPos(x, (size.Height-h)/2))
	r.next.Resize(fyne.NewSquareSize(icon))
	r.next.Move(fyne.NewPos(size.Width-rowPad-icon, (size.Height-icon)/2))
}

func (rr *deviceRowRenderer) Refresh() {
	r := rr.r
	switch {
	case r.chosen:
		r.bg.FillColor = theme.Color(theme.ColorNameSelection)
	case r.hovered:
		r.bg.FillColor = theme.Color(theme.ColorNameHover)
	default:
		r.bg.FillColor = color.Transparent
	}
	r.ring.StrokeColor = color.Transparent
	if r.focused {
		r.ring.StrokeColor = theme.Color(theme.ColorNameFocus)
	}
	r.bg.Refresh()
	r.ring.Refresh()
	rr.Layout(r.Size())
	canvas.Refresh(r)
}

// ruleIfFits lays out a wide row's first line (objs: the device's name, a
// truncating label; its rule; its activity): the activity at the right,
// the name at the left, and the rule before the activity when it fits
// beside the name drawn whole, else hidden, so that it never cuts the
// name. The name alone is cut with "…" when it must be, as before.
type ruleIfFits struct{}

func (ruleIfFits) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	name, rule, active := objs[0].(*widget.Label), objs[1].(*widget.Label), objs[2]
	gap := theme.Padding()
	activeW := active.MinSize().Width
	active.Move(fyne.NewPos(size.Width-activeW, 0))
	active.Resize(fyne.NewSize(activeW, size.Height))
	avail := max(size.Width-activeW-gap, 0) // for the name and the rule
	name.Move(fyne.NewPos(0, 0))
	ruleW := rule.MinSize().Width
	if rule.Text == "" || fullWidth(name)+gap+ruleW > avail {
		rule.Hide()
		name.Resize(fyne.NewSize(avail, size.Height))
		return
	}
	rule.Show()
	rule.Move(fyne.NewPos(avail-ruleW, 0))
	rule.Resize(fyne.NewSize(ruleW, size.Height))
	name.Resize(fyne.NewSize(avail-ruleW-gap, size.Height))
}

func (ruleIfFits) MinSize(objs []fyne.CanvasObject) fyne.Size {
	name, active := objs[0].MinSize(), objs[2].MinSize()
	return fyne.NewSize(name.Width+theme.Padding()+active.Width, max(name.Height, active.Height))
}

// fullWidth is the width label l needs to draw its text whole on one line
// (a truncating label's MinSize is that of "…"), with compact rows' padding
// and a pixel to spare.
func fullWidth(l *widget.Label) float32 {
	size := theme.TextSize()
	if l.SizeName != "" {
		size = theme.Size(l.SizeName)
	}
	return fyne.MeasureText(l.Text, size, l.TextStyle).Width + 2*compactTheme{Theme()}.Size(theme.SizeNameInnerPadding) + 1
}
