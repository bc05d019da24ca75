package ui

import (
	"context"
	"errors"
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
// groups (this device, active now, earlier), in a virtualised list
// (lazyList) that loads the next page well before its end (prefetcher),
// with a search by device, place or IP and a jump to the end. Each other
// device can be ticked, to log several out at once. On a wide window the
// chosen device's details show beside the list (devicesLayout).
type devicesScreen struct {
	ui     *UI
	root   fyne.CanvasObject
	status *widget.Label
	search *dialogEntry // Search by device, place or IP
	jump   *keyButton   // Jump to the end
	// top is the header, the search and jump, body top, the list and the
	// buttons under it: laid out again when a line of top comes or goes
	// (the window's driver does not).
	top, body *fyne.Container
	// While Jump to the end loads: how far it got.
	loading       *fyne.Container
	loadingText   *widget.Label
	loadingBar    *widget.ProgressBar
	list          *lazyList
	more          *keyButton        // the next page (below the list; it loads ahead by itself)
	others        *keyButton        // log out of all other devices
	chosen        *keyButton        // log out the ticked devices
	clear         *keyButton        // untick them
	picked        fyne.CanvasObject // chosen and clear
	detail        *deviceDetail
	pane          fyne.CanvasObject // detail's column beside the list
	ended         *endedSection     // Recently logged out, below the list
	prefetch      prefetcher        // the list's next page
	endedPrefetch prefetcher        // Recently logged out's next page

	// Layout, not state: set by devicesLayout from the window's width.
	wide     bool    // the details show beside the list
	rowWidth float32 // the width rows are laid out at

	// What the list draws: the snapshot and time of the last update, and
	// its items (group titles and devices), made from them.
	snap  app.Snapshot
	now   time.Time
	items []devItem
	group []int8 // scratch: each device's group

	// Estimated heights of a title and of a row at estWidth.
	titleH, rowH, estWidth float32
	estWide                bool

	// The search: the core's query last drawn; the timer that runs the
	// search once typing pauses (nil: none pending) and its generation
	// (a timer that fired after it was replaced does nothing); the
	// search on its way (runSearch); why the last failed; and syncing,
	// while the field is set from the core's query (not typed).
	query     string
	timer     *time.Timer
	timerGen  int
	searching int
	again     bool // a search to run once the one on its way is over
	searchErr string
	syncing   bool
	// loadingAll is true while Jump to the end loads the list.
	loadingAll bool
}

// devItem is one item of Login activity's list: a group's title, or a
// device (the index of its session in the snapshot's Devices).
type devItem struct {
	title string
	dev   int
}

// Kinds of devItem, for lazyList.
const (
	kindTitle = iota
	kindDevice
)

// searchDelay is how long typing in the search field must pause before
// the search runs.
const searchDelay = 300 * time.Millisecond

// searchHint is the search field's placeholder.
const searchHint = "Search by device, place or IP"

func newDevicesScreen(u *UI) *devicesScreen {
	d := &devicesScreen{ui: u}
	var top fyne.CanvasObject
	top, d.status = listHeader("Where you're logged in", u.back, d.onRefresh)
	d.search = newDialogEntry(false, d.onSearchEscape)
	d.search.PlaceHolder = searchHint
	d.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	d.search.OnChanged = d.onSearchChanged
	d.search.OnSubmitted = func(string) { d.searchNow() }
	d.jump = u.button("Jump to the end", theme.MoveDownIcon(), d.onJump)
	d.jump.Importance = widget.LowImportance
	d.loadingText = wrapped("")
	d.loadingText.Importance = widget.LowImportance
	d.loadingBar = widget.NewProgressBar()
	d.loadingBar.TextFormatter = func() string { return "" }
	d.loading = container.NewVBox(d.loadingText, d.loadingBar)
	d.loading.Hide()
	d.top = container.NewVBox(top, d.search, container.NewHBox(d.jump), d.loading)

	d.more = u.button("Show more devices", theme.MoreVerticalIcon(), d.onMore)
	d.more.Importance = widget.LowImportance
	d.ended = newEndedSection(d)
	d.list = newLazyList()
	d.list.footer = container.NewVBox(d.more, d.ended.root)
	d.list.count = func() int { return len(d.items) }
	d.list.key = d.itemKey
	d.list.kind = func(i int) int {
		if d.items[i].title != "" {
			return kindTitle
		}
		return kindDevice
	}
	d.list.estimate = d.estimate
	d.list.create = d.newItem
	d.list.bind = d.bindItem
	d.list.keep = func(o fyne.CanvasObject) bool { r, ok := o.(*deviceRow); return ok && r.focused }
	d.list.drawn = d.onDrawn

	d.others = u.button("Log out of all other devices", theme.LogoutIcon(), d.onLogoutOthers)
	d.others.Importance = widget.DangerImportance
	d.chosen = u.button("", theme.LogoutIcon(), d.onLogoutChosen)
	d.chosen.Importance = widget.DangerImportance
	d.clear = u.button("Clear selection", theme.CancelIcon(), d.onClearChosen)
	d.clear.Importance = widget.LowImportance
	d.picked = container.NewBorder(nil, nil, nil, d.clear, d.chosen)
	bottom := container.NewVBox(d.others, d.picked)
	d.body = inReadingOrder(d.top, d.list.scroll, bottom)
	list := container.NewPadded(d.body)
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
	if changed {
		// Rows change shape (and height) with their width: the list
		// measures them again when it is laid out at its new width
		// (lazyLayout), and draws them again when only wide changed.
		l.d.list.reload()
		for _, r := range l.d.ended.cache {
			r.Refresh()
		}
		l.d.ended.rows.Refresh()
	}
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
	if changed && wide {
		l.d.ui.onUI(l.d.ui.redraw) // the details are drawn only when shown
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
	d.snap, d.now = s, now
	if d.wide {
		d.showDetail(s)
	}
	d.makeItems(s, now)
	setVisible(d.more, s.DevicesCursor != "")
	d.ended.update(s, now)
	d.list.reload()
	d.followQuery(s)
	setText(d.status, d.statusText(s, now))
	d.showJump(s)

	picked := len(s.SelectedDevices)
	online := !s.Offline && !s.Busy
	setVisible(d.others, picked == 0)
	setEnabled(online && (s.DeviceQuery != "" || deviceTotal(s) > 1), d.others)
	d.chosen.SetText(fmt.Sprintf("Log out %d selected %s", picked, plural(picked, "device", "devices")))
	setVisible(d.picked, picked > 0)
	setEnabled(online, d.chosen)
	return d.root
}

// makeItems makes the list's items from s: each group's title, then its
// devices in the order of s.
func (d *devicesScreen) makeItems(s app.Snapshot, now time.Time) {
	d.group = d.group[:0]
	var count [3]int
	for _, dev := range s.Devices {
		g := groupOf(dev, now)
		d.group = append(d.group, int8(g))
		count[g]++
	}
	d.items = d.items[:0]
	for g, title := range groups {
		if count[g] == 0 {
			continue
		}
		d.items = append(d.items, devItem{title: title})
		for i := range s.Devices {
			if int(d.group[i]) == g {
				d.items = append(d.items, devItem{dev: i})
			}
		}
	}
}

// itemKey is item i's identity in the list: its group's title, or its
// session's ID.
func (d *devicesScreen) itemKey(i int) string {
	if t := d.items[i].title; t != "" {
		return "\x00" + t // no session ID starts so
	}
	return d.snap.Devices[d.items[i].dev].ID
}

// newItem makes an object for items of kind: a title or a device's row.
func (d *devicesScreen) newItem(kind int) fyne.CanvasObject {
	if kind == kindTitle {
		return groupTitle("")
	}
	return newDeviceRow(d)
}

// groupTitle is the label over a group.
func groupTitle(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Importance = widget.LowImportance
	return l
}

// bindItem makes o draw item i, and says whether that changed it.
func (d *devicesScreen) bindItem(i int, o fyne.CanvasObject) bool {
	it := d.items[i]
	if it.title != "" {
		return setText(o.(*widget.Label), it.title)
	}
	dev := d.snap.Devices[it.dev]
	return o.(*deviceRow).set(dev, d.snap, d.now, d.wide && dev.ID == d.ui.deviceID)
}

// estimate is the height of item i before it is drawn: a title's, or
// that of a row with one line for each fact (a wide row: exactly).
func (d *devicesScreen) estimate(i int) float32 {
	if d.titleH == 0 {
		d.titleH = groupTitle("Earlier").MinSize().Height
	}
	if d.items[i].title != "" {
		return d.titleH
	}
	if d.rowH == 0 || d.estWidth != d.rowWidth || d.estWide != d.wide {
		d.estWidth, d.estWide = d.rowWidth, d.wide
		now := d.now
		sample := api.Session{ID: "sample", Device: api.Device{Name: "Device", Platform: api.PlatformLinux, OS: "System", Model: "Model"},
			IP: "192.0.2.1", CreatedAt: now.Add(-3 * time.Hour), LastSeenAt: now.Add(-2 * time.Hour)}
		r := newDeviceRow(d)
		r.set(sample, app.Snapshot{}, now, false)
		d.rowH = r.MinSize().Height
	}
	return d.rowH
}

// onDrawn loads what comes next as the end of the list nears: the next
// page of the list while item last (of all) is within prefetchAhead of
// its end, and once the list is all there, the next page of Recently
// logged out (below it) when the content ends less than half a view
// below the view (toEnd).
func (d *devicesScreen) onDrawn(last int, toEnd float32) {
	s, core := d.snap, d.ui.core
	if s.DevicesCursor != "" {
		if last >= 0 {
			d.prefetch.drawn(d.ui, last, len(d.items), s.DevicesCursor, core.LoadMoreDevices)
		}
		return
	}
	if s.EndedCursor != "" && toEnd < d.list.scroll.Size().Height/2 {
		d.endedPrefetch.drawn(d.ui, 0, 0, s.EndedCursor, core.LoadMoreEnded)
	}
}

// deviceTotal is how many devices the list has in all: its counts, else
// those loaded.
func deviceTotal(s app.Snapshot) int {
	if s.DeviceCounts != nil {
		return s.DeviceCounts.Total
	}
	return len(s.Devices)
}

// statusText is the line under the title: what the list shows, how many
// devices it has in each group ("12 devices active today, 9,988
// earlier"), or how many match the search.
func (d *devicesScreen) statusText(s app.Snapshot, now time.Time) string {
	switch {
	case s.Offline:
		return "Offline: this is the last known list. Logging devices out needs the server."
	case s.DevicesStale:
		return "This list may be out of date."
	case d.searchErr != "":
		return d.searchErr
	case s.DeviceQuery != "":
		return matchText(s)
	}
	c := s.DeviceCounts
	if c == nil {
		if s.DevicesCursor != "" {
			return fmt.Sprintf("Showing the %s most recently active devices; scroll for more.", app.Thousands(int64(len(s.Devices))))
		}
		c = loadedCounts(s.Devices, now) // all of them are loaded
	}
	how := " Tap one for details; tick several to log them out together."
	if d.wide {
		how = " Choose one to see it here; tick several to log them out together."
	}
	return countsText(*c) + how
}

// countsText says how many devices there are, by when they were last
// used: "12 devices active today, 9,988 earlier."
func countsText(c api.SessionCounts) string {
	total, today := c.Total, c.ActiveToday
	earlier := total - today
	switch {
	case total == 1:
		return "1 device."
	case earlier <= 0:
		return fmt.Sprintf("%s devices.", app.Thousands(int64(total)))
	case today <= 0:
		return fmt.Sprintf("%s devices, none active today.", app.Thousands(int64(total)))
	}
	return fmt.Sprintf("%s %s active today, %s earlier.", app.Thousands(int64(today)), plural(today, "device", "devices"),
		app.Thousands(int64(earlier)))
}

// loadedCounts counts devices as the server does (api.SessionCounts): all
// of them, and those used in the last api.ActiveTodayWindow.
func loadedCounts(devices []api.Session, now time.Time) *api.SessionCounts {
	c := &api.SessionCounts{Total: len(devices)}
	for _, d := range devices {
		if d.Current || now.Sub(d.LastSeenAt) < api.ActiveTodayWindow {
			c.ActiveToday++
		}
	}
	return c
}

// matchText says how many devices match the search: "3 devices match
// “pixel”", "No device matches “x”."
func matchText(s app.Snapshot) string {
	q := "“" + s.DeviceQuery + "”"
	n := -1 // unknown
	switch {
	case s.DeviceCounts != nil:
		n = s.DeviceCounts.Total
	case s.DevicesCursor == "":
		n = len(s.Devices)
	}
	switch {
	case n == 0:
		return "No device matches " + q + "."
	case n == 1:
		return "1 device matches " + q + "."
	case n < 0:
		return fmt.Sprintf("More than %s devices match %s.", app.Thousands(int64(len(s.Devices))), q)
	}
	return fmt.Sprintf("%s devices match %s.", app.Thousands(int64(n)), q)
}

// showJump shows Jump to the end while more of the list is to load, and
// instead, while it loads, how far it got.
func (d *devicesScreen) showJump(s app.Snapshot) {
	before := d.top.MinSize().Height
	setVisible(d.jump, s.DevicesCursor != "" && !d.loadingAll)
	setEnabled(!s.Offline, d.jump)
	setVisible(d.loading, d.loadingAll)
	if d.top.MinSize().Height != before {
		d.body.Refresh()
	}
	if !d.loadingAll {
		return
	}
	n := int64(len(s.Devices))
	if c := s.DeviceCounts; c != nil && c.Total > 0 {
		d.loadingText.SetText(fmt.Sprintf("Loading every device… %s of %s", app.Thousands(n), app.Thousands(int64(c.Total))))
		d.loadingBar.Max = float64(c.Total)
		d.loadingBar.SetValue(float64(min(n, int64(c.Total))))
		d.loadingBar.Show()
		return
	}
	d.loadingText.SetText(fmt.Sprintf("Loading every device… %s so far", app.Thousands(n)))
	d.loadingBar.Hide()
}

// onJump loads the whole list (LoadAllDevices), showing how far it got,
// then scrolls to its last device, which takes the focus on a desktop.
func (d *devicesScreen) onJump() {
	if d.loadingAll {
		return
	}
	d.loadingAll = true
	d.showJump(d.snap)
	u, core := d.ui, d.ui.core
	u.run(core.LoadAllDevices, func(err error) {
		d.loadingAll = false
		if u.core != core {
			return
		}
		u.redraw()
		if err == nil && u.page == pageDevices {
			d.toEnd()
		}
	})
}

// toEnd scrolls to the list's last device and, on a desktop, focuses it.
func (d *devicesScreen) toEnd() {
	last := len(d.items) - 1
	if last < 0 {
		return
	}
	d.list.scrollToItem(last)
	if r, ok := d.list.object(last).(*deviceRow); ok && !fyne.CurrentDevice().IsMobile() {
		d.ui.focus(r)
	}
}

// onSearchChanged runs the search once typing pauses for searchDelay.
func (d *devicesScreen) onSearchChanged(string) {
	if d.syncing {
		return
	}
	d.stopTimer()
	gen := d.timerGen
	d.timer = time.AfterFunc(searchDelay, func() {
		d.ui.onUI(func() {
			if gen == d.timerGen {
				d.timer = nil
				d.searchNow()
			}
		})
	})
}

// stopTimer stops the search's timer, if one is pending.
func (d *devicesScreen) stopTimer() {
	d.timerGen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// searchNow runs the search typed in the field, unless the page is gone.
func (d *devicesScreen) searchNow() {
	d.stopTimer()
	if u := d.ui; u.page == pageDevices || u.page == pageDevice {
		d.runSearch()
	}
}

// runSearch has the core show the search in the field (SearchDevices),
// unless it does already: one search at a time, so that an older one
// cannot end last; the one typed meanwhile runs when it is over.
func (d *devicesScreen) runSearch() {
	if d.searching > 0 {
		d.again = true
		return
	}
	u, core := d.ui, d.ui.core
	q := strings.TrimSpace(d.search.Text)
	if q == u.snap.DeviceQuery && d.searchErr == "" {
		return
	}
	d.searchErr = ""
	d.searching++
	u.run(func(ctx context.Context) error { return core.SearchDevices(ctx, q) }, func(err error) {
		d.searching--
		again := d.again
		d.again = false
		if u.core != core {
			return
		}
		if err != nil {
			d.searchErr = "Couldn't search: " + app.Describe(err)
			var fe *app.FieldError
			if errors.As(err, &fe) {
				d.searchErr = fe.Message
			}
		}
		if again {
			d.runSearch()
		}
		u.redraw()
	})
}

// onSearchEscape: Escape in the search field clears it (and shows every
// device again at once); in an empty field it goes back.
func (d *devicesScreen) onSearchEscape() {
	if d.search.Text == "" && d.snap.DeviceQuery == "" {
		d.ui.escape()
		return
	}
	d.clearSearch()
}

// clearSearch empties the search field and shows every device again.
func (d *devicesScreen) clearSearch() {
	d.stopTimer()
	d.syncing = true
	d.search.SetText("")
	d.syncing = false
	d.runSearch()
}

// leave ends the search, if any, when the person leaves Login activity
// (home): the search belongs to that page, and the counts elsewhere are
// those of every device.
func (d *devicesScreen) leave(s app.Snapshot) {
	if d.timer == nil && d.search.Text == "" && s.DeviceQuery == "" && d.searchErr == "" {
		return
	}
	d.searchErr = ""
	d.clearSearch()
}

// followQuery puts the core's query in the search field when the core
// changed it (signing out ends a search), not while typing or searching.
func (d *devicesScreen) followQuery(s app.Snapshot) {
	if s.DeviceQuery == d.query {
		return
	}
	d.query = s.DeviceQuery
	d.searchErr = ""
	if d.timer == nil && d.searching == 0 && strings.TrimSpace(d.search.Text) != s.DeviceQuery {
		d.syncing = true
		d.search.SetText(s.DeviceQuery)
		d.syncing = false
	}
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
	scroll := d.list.scroll
	off, view := scroll.Offset.Y, scroll.Size().Height
	switch {
	case y < off:
		scroll.ScrollToOffset(fyne.NewPos(0, y))
	case y+h > off+view:
		scroll.ScrollToOffset(fyne.NewPos(0, max(0, y+h-view)))
	default:
		return
	}
	d.list.layoutView()
}

// focusNext gives the focus to the device row before (step -1) or after
// (1) r's, scrolling it into view.
func (d *devicesScreen) focusNext(r *deviceRow, step int) {
	at := -1
	for i := d.list.first; i <= d.list.last; i++ {
		if d.list.object(i) == fyne.CanvasObject(r) {
			at = i
			break
		}
	}
	if at < 0 {
		return
	}
	for i := at + step; i >= 0 && i < len(d.items); i += step {
		if d.items[i].title != "" {
			continue
		}
		d.list.scrollToItem(i)
		if next, ok := d.list.object(i).(*deviceRow); ok {
			d.ui.focus(next)
		}
		return
	}
}

func (d *devicesScreen) onRefresh() {
	d.prefetch.retry()
	d.endedPrefetch.retry()
	d.ui.run(d.ui.core.LoadDevices, nil)
	d.ended.load()
}

func (d *devicesScreen) onMore() {
	d.prefetch.retry()
	d.ui.run(d.ui.core.LoadMoreDevices, nil)
}

func (d *devicesScreen) onLogoutOthers() {
	s := d.ui.snap
	which := "" // how many: those shown when they are all there, else the count
	switch {
	case s.DeviceQuery == "" && s.DevicesCursor == "":
		which = fmt.Sprintf(" (%s shown here)", app.Thousands(int64(len(s.Devices)-1)))
	case s.DeviceQuery == "" && s.DeviceCounts != nil:
		which = fmt.Sprintf(" (%s in all)", app.Thousands(int64(s.DeviceCounts.Total-1)))
	}
	msg := "Every other device logged in to your account" + which + " is logged out right away. Each will need the password to log in again, and saved login info on them stops working. This can't be undone."
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

// newDeviceRow makes a row, which set fills (with one device, then,
// as the list scrolls, another).
func newDeviceRow(d *devicesScreen) *deviceRow {
	r := &deviceRow{d: d, icon: widget.NewIcon(theme.ComputerIcon()), next: widget.NewIcon(theme.NavigateNextIcon())}
	r.tick = newTickBox(func() { d.tick(r.id) })
	r.bg = canvas.NewRectangle(color.Transparent)
	r.bg.CornerRadius = theme.SelectionRadiusSize()
	r.ring = canvas.NewRectangle(color.Transparent)
	r.ring.StrokeWidth = 2
	r.ring.CornerRadius = theme.SelectionRadiusSize()
	r.ExtendBaseWidget(r)
	return r
}

// set shows session s, chosen when its details show beside the list, and
// says whether that changed the row.
func (r *deviceRow) set(s api.Session, snap app.Snapshot, now time.Time, chosen bool) bool {
	// Only what changed is set again: the list sets every row it shows
	// on each change of the snapshot, and drawing a label's text anew
	// (shaping, cutting it with "…") is what a row costs.
	wide := r.d.rowWidth >= wideRowAt
	changed := false
	if r.name == nil || wide != r.wide {
		r.build(wide)
		changed = true
	}
	if s.ID != r.id {
		r.id, r.hovered = s.ID, false // another device: the pointer was on the one before
		changed = true
	}
	changed = changed || r.mine != s.Current || r.chosen != chosen
	r.mine, r.chosen = s.Current, chosen
	if icon := deviceIcon(s.Device); r.icon.Resource == nil || r.icon.Resource.Name() != icon.Name() {
		r.icon.SetResource(icon)
	}
	where := placeOf(s.Location, s.IP)
	if s.IP != "" {
		where += " · " + s.IP
	}
	system := osLine(s.Device)
	if m := boundMark(s); m != "" {
		system += " · " + m
	}
	var line1 bool // wide: the first line's texts changed
	if wide {
		line1 = setText(r.name, s.Device.Name)
		changed = setText(r.where, where+" · "+system) || changed
		line1 = setText(r.active, activeText(s, now)) || line1
	} else {
		changed = setText(r.name, s.Device.Name) || changed
		changed = setText(r.where, where) || changed
		changed = setText(r.system, system) || changed
		changed = setText(r.active, activeText(s, now)+" · Logged in "+stamp(s.CreatedAt, now)) || changed
	}
	rule := setText(r.rule, ruleLine(effectiveRule(s, snap)))
	if wide {
		if line1 || rule || changed {
			r.line1.Refresh() // ruleIfFits shows the rule, or not
		}
	} else if rule || changed {
		setVisible(r.rule, r.rule.Text != "")
	}
	changed = changed || line1 || rule
	if ticked := containsID(snap.SelectedDevices, s.ID); ticked != r.tick.checked {
		r.tick.setChecked(ticked)
	}
	if r.tick.Visible() == s.Current || r.next.Visible() == r.d.wide {
		setVisible(r.tick, !s.Current)
		setVisible(r.next, !r.d.wide)
		changed = true
	}
	if changed {
		r.Refresh()
	}
	return changed
}

// setText sets l's text, unless it is that already, and says whether it
// changed.
func setText(l *widget.Label, text string) bool {
	if l.Text == text {
		return false
	}
	l.SetText(text)
	return true
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

// TypedKey: Enter and Return show the device, Space ticks it, Up and Down
// go to the row before and after, Escape goes back (or closes the newest
// dialog).
func (r *deviceRow) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyUp:
		r.d.focusNext(r, -1)
	case fyne.KeyDown:
		r.d.focusNext(r, 1)
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
