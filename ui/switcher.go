package ui

import (
	"context"
	"fmt"
	"image/color"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// switcherDialog is the account menu: every account signed in here, with
// its server and which one is shown, to switch to at once; and "Add
// account". It follows the accounts while open (followAccounts).
type switcherDialog struct {
	ui    *UI
	dlg   *dialog.CustomDialog
	rows  *fyne.Container
	cache map[string]*accountRow // by slot
	add   *keyButton
	why   *widget.Label // why Add account is off (the cap)
}

// openSwitcher opens the account menu (home's account button).
func (u *UI) openSwitcher() {
	if u.accounts == nil {
		return
	}
	w := &switcherDialog{ui: u, rows: container.NewVBox(), cache: map[string]*accountRow{}}
	w.add = u.button("Add account", theme.ContentAddIcon(), w.onAddAccount)
	w.why = wrapped("")
	w.why.Importance = widget.LowImportance
	w.why.SizeName = theme.SizeNameCaptionText
	body := container.NewVBox(w.rows, widget.NewSeparator(), w.add, w.why)
	w.dlg = dialog.NewCustomWithoutButtons("Accounts", body, u.win)
	closeBtn := u.button("Close", nil, w.dlg.Hide)
	w.dlg.SetButtons([]fyne.CanvasObject{closeBtn})
	w.update(u.acc)
	w.dlg.Resize(fyne.NewSize(420, 0))
	u.switcher = w
	u.showDialog(w.dlg)
	w.dlg.SetOnClosed(func() {
		u.forgetDialog(w.dlg)
		if u.switcher == w {
			u.switcher = nil
		}
	})
	// The keyboard starts on the account shown (Tab goes on to the others).
	for _, o := range w.rows.Objects {
		if r := o.(*accountRow); r.entry.Active {
			u.win.Canvas().Focus(r)
		}
	}
}

// update draws the accounts of acc; with none left it closes.
func (w *switcherDialog) update(acc app.AccountsSnapshot) {
	if len(acc.Accounts) == 0 {
		w.dlg.Hide()
		return
	}
	objs := make([]fyne.CanvasObject, 0, len(acc.Accounts))
	seen := map[string]bool{}
	for _, e := range acc.Accounts {
		r := w.cache[e.Slot]
		if r == nil {
			r = newAccountRow(w.ui, e.Slot, w.onSwitch)
			w.cache[e.Slot] = r
		}
		r.set(e)
		seen[e.Slot] = true
		objs = append(objs, r)
	}
	for slot := range w.cache {
		if !seen[slot] {
			delete(w.cache, slot)
		}
	}
	if !sameObjects(w.rows.Objects, objs) {
		w.rows.Objects = objs
		w.rows.Refresh()
	}
	can := acc.CanAdd() && !acc.Adding
	setEnabled(can, w.add)
	if !acc.CanAdd() {
		w.why.SetText(sentence(app.ErrTooManyAccounts.Error()))
	}
	setVisible(w.why, !acc.CanAdd())
}

// onSwitch shows the account in slot: at once, it is signed in already.
func (w *switcherDialog) onSwitch(slot string) {
	w.dlg.Hide()
	if e, ok := w.ui.acc.Active(); ok && e.Slot == slot {
		return // shown already
	}
	m := w.ui.accounts
	w.ui.run(func(context.Context) error { return m.Switch(slot) }, func(err error) {
		if err != nil {
			w.ui.infoDialog("Couldn't switch", sentence(err.Error()))
		}
	})
}

// onAddAccount shows the sign-in screen for one more account, leaving
// every account signed in.
func (w *switcherDialog) onAddAccount() {
	w.dlg.Hide()
	m := w.ui.accounts
	w.ui.run(func(context.Context) error { return m.Add() }, func(err error) {
		if err != nil {
			w.ui.infoDialog("Couldn't add an account", sentence(err.Error()))
		}
	})
}

// onCancelAdd goes back from adding an account to the one shown before.
func (u *UI) onCancelAdd() {
	if !u.adding() {
		return
	}
	m := u.accounts
	u.run(func(context.Context) error { m.CancelAdd(); return nil }, nil)
}

// accountRow is one account in the switcher: its letter, name, server,
// and whether it is the one shown, has new sign-ins, or is offline.
// Tapping it, or Enter or Space while it has the focus, switches to it;
// Escape closes the switcher.
type accountRow struct {
	widget.BaseWidget
	ui       *UI
	slot     string
	onTap    func(slot string)
	entry    app.AccountEntry
	avatar   *letterAvatar
	name     *widget.Label
	server   *widget.Label
	status   *widget.Label
	shown    *widget.Icon
	bg, ring *canvas.Rectangle
	content  fyne.CanvasObject
	focused  bool
	hovered  bool
}

func newAccountRow(u *UI, slot string, onTap func(string)) *accountRow {
	r := &accountRow{ui: u, slot: slot, onTap: onTap, avatar: newLetterAvatar(36, theme.ColorNamePrimary, theme.ColorNameForegroundOnPrimary)}
	// Names are never cut off (at most 32 characters, which fit a phone).
	r.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.server = rowLabel(fyne.TextStyle{}, widget.MediumImportance, false)
	r.status = rowLabel(fyne.TextStyle{}, widget.LowImportance, false)
	r.shown = widget.NewIcon(theme.NewColoredResource(theme.ConfirmIcon(), theme.ColorNamePrimary))
	r.bg = canvas.NewRectangle(color.Transparent)
	r.bg.CornerRadius = theme.SelectionRadiusSize()
	r.ring = canvas.NewRectangle(color.Transparent)
	r.ring.StrokeWidth = 2
	r.ring.CornerRadius = theme.SelectionRadiusSize()
	text := compact(container.NewVBox(r.name, r.server, r.status))
	r.content = container.NewPadded(container.NewBorder(nil, nil, container.NewCenter(r.avatar), container.NewCenter(r.shown), text))
	r.ExtendBaseWidget(r)
	return r
}

// set shows entry e.
func (r *accountRow) set(e app.AccountEntry) {
	r.entry = e
	name := e.Account.Username
	if name == "" {
		name = "Signing in…"
	}
	r.name.SetText(name)
	r.avatar.set(e.Account.Username)
	r.server.SetText(serverLabel(e.Server))
	r.status.SetText(accountStatus(e))
	r.status.Importance = widget.LowImportance
	if e.Alerts > 0 {
		r.status.Importance = widget.WarningImportance
	}
	r.status.Refresh()
	setVisible(r.shown, e.Active)
	r.Refresh()
}

// accountStatus is the row's last line: "Shown now", "2 new sign-ins",
// "Offline", "Signing in…", or a mix, joined with " · ".
func accountStatus(e app.AccountEntry) string {
	var parts []string
	if e.Active {
		parts = append(parts, "Shown now")
	}
	if e.Alerts > 0 {
		parts = append(parts, fmt.Sprintf("%d new %s", e.Alerts, plural(e.Alerts, "sign-in", "sign-ins")))
	}
	switch {
	case e.Starting:
		parts = append(parts, "Signing in…")
	case e.Offline:
		parts = append(parts, "Offline")
	}
	if len(parts) == 0 {
		return "Tap to switch"
	}
	return strings.Join(parts, " · ")
}

// Tapped switches to the account.
func (r *accountRow) Tapped(*fyne.PointEvent) { r.onTap(r.slot) }

// FocusGained shows the ring.
func (r *accountRow) FocusGained() { r.focused = true; r.Refresh() }

// FocusLost hides the ring.
func (r *accountRow) FocusLost() { r.focused = false; r.Refresh() }

// TypedRune ignores typing.
func (r *accountRow) TypedRune(rune) {}

// TypedKey: Enter, Return and Space switch; Escape closes the switcher.
func (r *accountRow) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter, fyne.KeySpace:
		r.onTap(r.slot)
	case fyne.KeyEscape:
		r.ui.escape()
	}
}

// MouseIn shows the row hovered.
func (r *accountRow) MouseIn(*desktop.MouseEvent) { r.hovered = true; r.Refresh() }

// MouseMoved does nothing.
func (r *accountRow) MouseMoved(*desktop.MouseEvent) {}

// MouseOut ends the hover.
func (r *accountRow) MouseOut() { r.hovered = false; r.Refresh() }

// CreateRenderer draws the row: a background when hovered, the content,
// and the focus ring.
func (r *accountRow) CreateRenderer() fyne.WidgetRenderer {
	return &accountRowRenderer{r: r, objs: []fyne.CanvasObject{r.bg, r.content, r.ring}}
}

type accountRowRenderer struct {
	r    *accountRow
	objs []fyne.CanvasObject
}

func (rr *accountRowRenderer) Objects() []fyne.CanvasObject { return rr.objs }
func (rr *accountRowRenderer) Destroy()                     {}
func (rr *accountRowRenderer) MinSize() fyne.Size           { return rr.r.content.MinSize() }

func (rr *accountRowRenderer) Layout(size fyne.Size) {
	for _, o := range rr.objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (rr *accountRowRenderer) Refresh() {
	r := rr.r
	r.bg.FillColor = color.Transparent
	if r.hovered {
		r.bg.FillColor = theme.Color(theme.ColorNameHover)
	}
	r.ring.StrokeColor = color.Transparent
	if r.focused {
		r.ring.StrokeColor = theme.Color(theme.ColorNameFocus)
	}
	r.avatar.Refresh()
	r.bg.Refresh()
	r.ring.Refresh()
	rr.Layout(r.Size())
	canvas.Refresh(r)
}

// letterAvatar is an account's first letter on a disc: the switcher's
// rows, and the badge of new sign-ins on the account menu (with a count).
type letterAvatar struct {
	widget.BaseWidget
	size     float32
	fill, fg fyne.ThemeColorName
	disc     *canvas.Rectangle // a disc, or a pill for a longer text
	text     *canvas.Text
}

func newLetterAvatar(size float32, fill, fg fyne.ThemeColorName) *letterAvatar {
	a := &letterAvatar{size: size, fill: fill, fg: fg, disc: canvas.NewRectangle(color.Transparent),
		text: canvas.NewText("", color.Transparent)}
	a.disc.CornerRadius = size / 2
	a.text.TextSize = size * 0.45
	a.text.Alignment = fyne.TextAlignCenter
	a.text.TextStyle = fyne.TextStyle{Bold: true}
	a.ExtendBaseWidget(a)
	return a
}

// set shows name's first letter, upper-cased (or text as it is when it
// is not a name: a count).
func (a *letterAvatar) set(name string) {
	r, _ := utf8.DecodeRuneInString(name)
	letter := ""
	if r != utf8.RuneError {
		letter = string(unicode.ToUpper(r))
	}
	a.setText(letter)
}

func (a *letterAvatar) setText(t string) {
	a.text.Text = t
	a.Refresh()
}

// MinSize is the disc, wide enough for its text.
func (a *letterAvatar) MinSize() fyne.Size {
	w := max(a.size, fyne.MeasureText(a.text.Text, a.text.TextSize, a.text.TextStyle).Width+a.size/2)
	return fyne.NewSize(w, a.size)
}

// CreateRenderer draws the disc and the text over it.
func (a *letterAvatar) CreateRenderer() fyne.WidgetRenderer {
	return &avatarRenderer{a: a}
}

type avatarRenderer struct{ a *letterAvatar }

func (ar *avatarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{ar.a.disc, ar.a.text}
}
func (ar *avatarRenderer) Destroy()           {}
func (ar *avatarRenderer) MinSize() fyne.Size { return ar.a.MinSize() }

func (ar *avatarRenderer) Layout(size fyne.Size) {
	a := ar.a
	a.disc.Move(fyne.NewPos(0, 0))
	a.disc.Resize(size)
	th := fyne.MeasureText(a.text.Text, a.text.TextSize, a.text.TextStyle).Height
	a.text.Move(fyne.NewPos(0, (size.Height-th)/2))
	a.text.Resize(fyne.NewSize(size.Width, th))
}

func (ar *avatarRenderer) Refresh() {
	a := ar.a
	a.disc.FillColor = theme.Color(a.fill)
	a.text.Color = theme.Color(a.fg)
	ar.Layout(a.Size())
	a.disc.Refresh()
	a.text.Refresh()
}
