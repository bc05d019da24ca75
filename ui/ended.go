package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// endedTitle heads Login activity's section of ended sessions.
const endedTitle = "Recently logged out"

// endedEmpty is the section's text when nothing ended.
var endedEmpty = fmt.Sprintf("No devices were logged out in the last %d days.", api.EndedSessionsDays)

// endedSection is Login activity's "Recently logged out", below the live
// list: every session of the account ended in the last 30 days (loaded
// with the list, paged like it), each with who ended it, why, and its
// device's receipt (closureStatus), which changes as receipts arrive. Its
// rows are read, not acted on: they take no focus, and every line wraps,
// so nothing that identifies a device is cut off on a phone.
type endedSection struct {
	d     *devicesScreen
	root  *fyne.Container
	note  *widget.Label // loading, or nothing ended
	rows  *fyne.Container
	more  *keyButton
	cache map[string]*endedRow
	// failed says the last load failed (the error bar says why), so the
	// section does not go on saying it is loading.
	failed bool
}

func newEndedSection(d *devicesScreen) *endedSection {
	e := &endedSection{d: d, cache: map[string]*endedRow{}, rows: container.NewVBox()}
	title := widget.NewLabelWithStyle(endedTitle, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Importance = widget.LowImportance
	e.note = wrapped("")
	e.note.Importance = widget.LowImportance
	e.more = d.ui.button("Show more logged-out devices", theme.MoreVerticalIcon(), e.onMore)
	e.more.Importance = widget.LowImportance
	e.root = container.NewVBox(widget.NewSeparator(), title, e.note, e.rows, e.more)
	return e
}

// load loads the first page, off the UI goroutine.
func (e *endedSection) load() {
	u, core := e.d.ui, e.d.ui.core
	u.run(core.LoadEnded, func(err error) {
		if u.core == core {
			e.failed = err != nil
			u.redraw()
		}
	})
}

// update draws the ended sessions of s, once the live list is all there
// (it pages as the end of the list comes near, which this section would
// otherwise push away).
func (e *endedSection) update(s app.Snapshot, now time.Time) {
	setVisible(e.root, s.DevicesCursor == "")
	self := ""
	if s.Session != nil {
		self = s.Session.ID
	}
	objs := make([]fyne.CanvasObject, 0, len(s.Ended))
	seen := make(map[string]bool, len(s.Ended))
	for _, x := range s.Ended {
		if seen[x.ID] {
			continue // a page boundary moved under a reload
		}
		seen[x.ID] = true
		r := e.cache[x.ID]
		if r == nil {
			r = newEndedRow(e.d)
			e.cache[x.ID] = r
		}
		r.set(x, self, now)
		objs = append(objs, r)
	}
	for id := range e.cache {
		if !seen[id] {
			delete(e.cache, id)
		}
	}
	if !sameObjects(e.rows.Objects, objs) {
		e.rows.Objects = objs
		e.rows.Refresh()
	}
	switch {
	case len(objs) > 0:
		e.note.SetText("")
	case s.EndedLoaded:
		e.note.SetText(endedEmpty)
	case s.Offline:
		e.note.SetText("Shown when the server can be reached.")
	case e.failed:
		e.note.SetText("Couldn't load the devices logged out recently. Refresh to try again.")
	default:
		e.note.SetText("Loading…")
	}
	setVisible(e.note, e.note.Text != "")
	setVisible(e.more, s.EndedCursor != "")
}

func (e *endedSection) onMore() { e.d.ui.run(e.d.ui.core.LoadMoreEnded, nil) }

// endedRow is one ended session: its icon; its name; its place and
// address; its system; who ended it, why and when; and its receipt.
type endedRow struct {
	widget.BaseWidget
	d      *devicesScreen
	icon   *widget.Icon
	name   *widget.Label
	where  *widget.Label
	system *widget.Label
	how    *widget.Label
	status *widget.Label
	text   fyne.CanvasObject
}

func newEndedRow(d *devicesScreen) *endedRow {
	r := &endedRow{d: d, icon: widget.NewIcon(theme.ComputerIcon())}
	r.name = rowLabel(fyne.TextStyle{Bold: true}, widget.MediumImportance, true)
	r.where = rowLabel(fyne.TextStyle{}, widget.MediumImportance, true)
	r.system = rowLabel(fyne.TextStyle{}, widget.MediumImportance, true)
	r.how = rowLabel(fyne.TextStyle{}, widget.MediumImportance, true)
	r.status = rowLabel(fyne.TextStyle{}, widget.LowImportance, true)
	r.text = compact(container.NewVBox(r.name, r.where, r.system, r.how, r.status))
	r.ExtendBaseWidget(r)
	return r
}

// set shows ended session s; self is this device's session.
func (r *endedRow) set(s api.Session, self string, now time.Time) {
	r.icon.SetResource(deviceIcon(s.Device))
	r.name.SetText(s.Device.Name)
	where := placeOf(s.Location, s.IP)
	if s.IP != "" {
		where += " · " + s.IP
	}
	r.where.SetText(where)
	r.system.SetText(osLine(s.Device))
	r.how.SetText(endedHow(s, self, now))
	status, imp := closureStatus(s, now)
	r.status.Importance = imp
	r.status.SetText(status)
	setVisible(r.status, status != "")
	r.Refresh()
}

// CreateRenderer draws the row.
func (r *endedRow) CreateRenderer() fyne.WidgetRenderer { return &endedRowRenderer{r: r} }

// endedRowRenderer lays a row out as a device row is, without its tick
// box and chevron: icon, then the wrapped lines measured at the list's
// width.
type endedRowRenderer struct{ r *endedRow }

func (rr *endedRowRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{rr.r.icon, rr.r.text}
}

func (rr *endedRowRenderer) Destroy() {}

// tickWidth is a device row's tick box's width (tickBox.MinSize), which
// an ended row leaves empty so that the icons line up.
func tickWidth() float32 { return theme.IconInlineSize() + 2*theme.InnerPadding() }

// lead is the width before the text: the icon, where a device row has it.
func (rr *endedRowRenderer) lead() float32 {
	return tickWidth() + theme.IconInlineSize() + theme.Padding()
}

// textHeight is the height of the text laid out width wide.
func (rr *endedRowRenderer) textHeight(width float32) float32 {
	r := rr.r
	for _, l := range []*widget.Label{r.name, r.where, r.system, r.how, r.status} {
		l.Resize(fyne.NewSize(width, l.Size().Height))
	}
	return r.text.MinSize().Height
}

func (rr *endedRowRenderer) MinSize() fyne.Size {
	textW := max(rr.r.d.rowWidth-rr.lead()-2*rowPad, 80)
	return fyne.NewSize(rr.lead()+80+2*rowPad, rr.textHeight(textW)+2*rowPad)
}

func (rr *endedRowRenderer) Layout(size fyne.Size) {
	r := rr.r
	icon := theme.IconInlineSize()
	r.icon.Resize(fyne.NewSquareSize(icon))
	r.icon.Move(fyne.NewPos(rowPad+tickWidth(), rowPad))
	x := rr.lead() + rowPad
	textW := size.Width - x - rowPad
	h := rr.textHeight(textW)
	r.text.Resize(fyne.NewSize(textW, h))
	r.text.Move(fyne.NewPos(x, rowPad))
}

func (rr *endedRowRenderer) Refresh() {
	rr.Layout(rr.r.Size())
	canvas.Refresh(rr.r)
}
