package ui

// Approve new sign-ins from a device you trust, link a device with a code
// (issue 17). The new device waits on approvalScreen, showing the number
// to pick or its link code; a signed-in device answers each request in a
// dialog (followApprovals) and lets a device in by its code on the Link a
// device page (linkScreen).

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// sizeNameBig is the size of the number and the code the new device shows,
// and of the number buttons the approver picks from.
const sizeNameBig fyne.ThemeSizeName = "sessionguardBig"

// bigTheme is the theme with large text for sizeNameBig (and, for the
// number buttons, as their text).
type bigTheme struct {
	fyne.Theme
	text bool // SizeNameText is big too (buttons)
}

func (t bigTheme) Size(n fyne.ThemeSizeName) float32 {
	switch {
	case n == sizeNameBig:
		return 44
	case t.text && n == theme.SizeNameText:
		return 30
	}
	return t.Theme.Size(n)
}

// bigLabel is a centred label in large bold type; selectable ones can be
// selected and copied.
func bigLabel(selectable bool) (*widget.Label, fyne.CanvasObject) {
	l := widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true, Monospace: selectable})
	l.SizeName = sizeNameBig
	l.Selectable = selectable
	return l, container.NewThemeOverride(l, bigTheme{Theme: Theme()})
}

// waitingUntil is "Waiting until 09:46." (no countdown: nothing ticks
// while the app waits).
func waitingUntil(s app.Snapshot) string {
	var at string
	switch {
	case s.Approval != nil && !s.Approval.ExpiresAt.IsZero():
		at = s.Approval.ExpiresAt.Local().Format("15:04")
	case s.LinkCode != nil && !s.LinkCode.ExpiresAt.IsZero():
		at = s.LinkCode.ExpiresAt.Local().Format("15:04")
	default:
		return "Waiting…"
	}
	return "Waiting until " + at + "."
}

// ---------------------------------------------------------------- new device

// approvalScreen is the new device waiting for a signed-in device: the
// number to pick there (Snapshot.Approval), or the code to type there
// (Snapshot.LinkCode).
type approvalScreen struct {
	ui       *UI
	root     fyne.CanvasObject
	title    *widget.Label
	big      *widget.Label // the number
	bigBox   fyne.CanvasObject
	code     *widget.Label // the link code, selectable
	codeBox  fyne.CanvasObject
	copy     *keyButton
	how      *widget.Label
	until    *widget.Label
	err      *widget.Label
	cancel   *keyButton
	skip     *keyButton // "No device at hand? Use a recovery code"
	recovery *fyne.Container
	entry    *dialogEntry
	codeErr  *widget.Label
	submit   *keyButton
}

func newApprovalScreen(u *UI) *approvalScreen {
	a := &approvalScreen{ui: u, err: errorText(), codeErr: errorText()}
	a.title = heading("")
	a.big, a.bigBox = bigLabel(false)
	a.code, a.codeBox = bigLabel(true)
	a.copy = u.button("Copy code", theme.ContentCopyIcon(), a.onCopy)
	a.copy.Importance = widget.LowImportance
	a.how = wrapped("")
	a.how.Alignment = fyne.TextAlignCenter
	a.until = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	a.until.Importance = widget.LowImportance
	a.cancel = u.button("Cancel", nil, func() { u.core.CancelApproval() })
	a.skip = u.button("No device at hand? Use a recovery code", nil, a.onSkip)
	a.skip.Importance = widget.LowImportance
	a.entry = textEntry("Recovery code", u.escape)
	a.entry.OnSubmitted = func(string) { a.onSubmit() }
	a.entry.OnChanged = func(t string) { dismissWhenTyped(u, "code", t) }
	a.submit = u.button("Log in with the recovery code", nil, a.onSubmit)
	a.submit.Importance = widget.HighImportance
	a.recovery = container.NewVBox(widget.NewSeparator(),
		wrapped("A recovery code logs you in without a device's approval. Each code works once."),
		a.entry, a.codeErr, a.submit)
	a.recovery.Hide()
	body := container.NewVBox(a.title, a.bigBox, a.codeBox, container.NewCenter(a.copy), a.how, a.until, a.err,
		a.cancel, a.skip, a.recovery)
	a.root = container.NewVScroll(column(container.NewPadded(body)))
	return a
}

func (a *approvalScreen) update(s app.Snapshot) fyne.CanvasObject {
	link := s.LinkCode != nil
	if link {
		a.title.SetText("Log in with a code")
		a.code.SetText(s.LinkCode.UserCode)
		a.how.SetText("On a device where you're logged in: Settings → Link a device, and type this code. No password is typed here.")
	} else {
		a.title.SetText("Approve this log in")
		if s.Approval != nil {
			a.big.SetText(fmt.Sprint(s.Approval.Number))
		}
		a.how.SetText("Open Sessionguard on a device where you're logged in and pick this number.")
	}
	setVisible(a.bigBox, !link)
	setVisible(a.codeBox, link)
	setVisible(a.copy, link)
	setVisible(a.skip, !link && !a.recovery.Visible())
	if link {
		a.recovery.Hide()
	}
	a.until.SetText(waitingUntil(s))
	setErrorText(a.err, s.Err)
	setErrorText(a.codeErr, s.FieldErrors["code"])
	setEnabled(!s.Busy, a.submit, a.entry)
	return a.root
}

// reset is the screen for a new wait: the recovery code put away.
func (a *approvalScreen) reset() {
	a.recovery.Hide()
	a.entry.SetText("")
}

func (a *approvalScreen) onSkip() {
	a.recovery.Show()
	a.skip.Hide()
	a.ui.win.Canvas().Focus(a.entry)
}

func (a *approvalScreen) onSubmit() {
	code := a.entry.Text
	core := a.ui.core
	a.ui.run(func(ctx context.Context) error { return core.SkipApproval(ctx, code) }, func(error) { a.entry.SetText("") })
}

func (a *approvalScreen) onCopy() {
	if c := a.ui.snap.LinkCode; c != nil {
		fyne.CurrentApp().Clipboard().SetContent(c.UserCode)
	}
}

// ---------------------------------------------------------------- approver

// approvalAsk is a sign-in request shown to this device: its dialog while
// open; dismissed once closed unanswered (the frame's banner reopens it).
type approvalAsk struct {
	req       app.ApprovalRequest
	core      *app.App
	dlg       *dialog.CustomDialog
	answered  bool
	dismissed bool
}

// followApprovals opens a dialog for each sign-in waiting for this
// device's approval, with an OS notification, and closes those answered
// or expired elsewhere.
func (u *UI) followApprovals(s app.Snapshot) {
	live := map[string]bool{}
	if s.State == app.StateSignedIn {
		for _, r := range s.ApprovalRequests {
			live[r.ID] = true
			if _, ok := u.asks[r.ID]; ok {
				continue
			}
			a := &approvalAsk{req: r, core: u.core}
			u.asks[r.ID] = a
			if key := "approval:" + r.ID; !u.alerted[key] {
				u.alerted[key] = true
				u.notify("Is it you trying to log in?", approvalNotice(r))
			}
			u.openAsk(a)
		}
	}
	for id, a := range u.asks {
		if live[id] {
			continue
		}
		delete(u.asks, id)
		if a.dlg != nil && u.isShowing(a.dlg) {
			a.answered = true // closed by the answer, not by the person
			a.dlg.Hide()
		}
	}
	u.frame.updateAsks(u.dismissedAsks())
}

// dismissedAsks are the requests whose dialog was closed unanswered,
// oldest first.
func (u *UI) dismissedAsks() []*approvalAsk {
	var out []*approvalAsk
	for _, r := range u.snap.ApprovalRequests {
		if a := u.asks[r.ID]; a != nil && a.dismissed && !a.answered {
			out = append(out, a)
		}
	}
	return out
}

// approvalNotice is the notification's text: "Pixel 8 near Lisbon,
// Portugal (203.0.113.10) wants to log in to your account. Open
// Sessionguard to answer."
func approvalNotice(r app.ApprovalRequest) string {
	return fmt.Sprintf("%s in %s (%s) wants to log in to your account. Open Sessionguard to answer.",
		requestDevice(r.Device), placeOf(r.Location, r.IP), r.IP)
}

// requestDevice names the device asking: its name, else its system.
func requestDevice(d api.Device) string {
	return firstNonEmpty(d.Name, d.Model, d.OS, "A device")
}

// deviceSystem is "Android 15 · Google Pixel 8" (what is known).
func deviceSystem(d api.Device) string {
	return joinGiven(" · ", d.OS, d.Model)
}

// openAsk shows a's dialog: who asks, from where, three numbers and "No".
func (u *UI) openAsk(a *approvalAsk) {
	r := a.req
	name := requestDevice(r.Device)
	dev := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	dev.Wrapping = fyne.TextWrapWord
	lines := []fyne.CanvasObject{dev}
	if sys := deviceSystem(r.Device); sys != "" {
		lines = append(lines, wrapped(sys))
	}
	lines = append(lines, wrapped(joinGiven(" · ", placeOf(r.Location, r.IP), r.IP)))
	if !r.ExpiresAt.IsZero() {
		until := wrapped("Asks until " + r.ExpiresAt.Local().Format("15:04") + ".")
		until.Importance = widget.LowImportance
		lines = append(lines, until)
	}
	numbers := container.NewGridWithColumns(max(len(r.Numbers), 1))
	for _, n := range r.Numbers {
		b := u.button(fmt.Sprint(n), nil, func() { u.answerAsk(a, true, n) })
		b.Importance = widget.HighImportance
		numbers.Add(container.NewThemeOverride(b, bigTheme{Theme: Theme(), text: true}))
	}
	pick := wrapped("If it's you, pick the number " + name + " shows:")
	no := u.button("No, it wasn't me", nil, func() { u.answerAsk(a, false, 0) })
	no.Importance = widget.DangerImportance
	body := container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(deviceIcon(r.Device)), nil, container.NewVBox(lines...)),
		widget.NewSeparator(), pick, numbers, no)
	d := dialog.NewCustomWithoutButtons("Is it you trying to log in?", body, u.win)
	d.Resize(fyne.NewSize(420, 0))
	a.dlg, a.dismissed = d, false
	u.showDialog(d)
	d.SetOnClosed(func() {
		u.forgetDialog(d)
		if !a.answered && a.dlg == d {
			a.dismissed = true // Escape: the banner offers it again
			u.onUI(u.redraw)
		}
	})
}

// reopenAsk shows a dismissed request again.
func (u *UI) reopenAsk(id string) {
	if a := u.asks[id]; a != nil && !a.answered {
		u.openAsk(a)
		u.redraw()
	}
}

// answerAsk approves with number n, or refuses, the request of a; a
// refusal then offers to secure the account.
func (u *UI) answerAsk(a *approvalAsk, approve bool, n int) {
	if a.answered {
		return
	}
	a.answered = true
	if a.dlg != nil {
		a.dlg.Hide()
	}
	core, id, name := a.core, a.req.ID, requestDevice(a.req.Device)
	u.run(func(ctx context.Context) error { return core.DecideApproval(ctx, id, approve, n) }, func(err error) {
		switch {
		case err != nil:
			// The error shows in the frame's banner.
		case approve:
			u.showNote(fmt.Sprintf("Answered: %s logs in if it showed %d.", name, n))
		default:
			u.offerSecure(name)
		}
	})
	u.redraw()
}

// offerSecure follows "No, it wasn't me": someone knows the password, so
// change it.
func (u *UI) offerSecure(name string) {
	if !u.signedIn() {
		return
	}
	u.showDialog(u.confirmDialog("Secure your account", "Change password", false,
		wrapped("The log in from "+name+" was refused. Whoever tried knows your password: change it now, so they can't try again."),
		func(ok bool) {
			if ok {
				u.openPassword()
			}
		}))
}

// updateAsks shows the banner for requests closed unanswered.
func (f *frame) updateAsks(asks []*approvalAsk) {
	f.asks.RemoveAll()
	for _, a := range asks {
		tx := wrapped(requestDevice(a.req.Device) + " is waiting for you to approve its log in.")
		tx.Importance = widget.WarningImportance
		id := a.req.ID
		answer := f.ui.button("Answer", nil, func() { f.ui.reopenAsk(id) })
		answer.Importance = widget.HighImportance
		f.asks.Add(container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), answer, tx))
	}
	if len(asks) > 0 {
		f.asks.Add(widget.NewSeparator())
	}
	setVisible(f.asks, len(asks) > 0)
}

// ---------------------------------------------------------------- link

// linkField is the field the app names for a bad link code.
const linkField = "link_code"

// linkScreen is Settings → Link a device: the code the new device shows,
// then what it would let in, then "Let it in" (which may ask for the
// password: the reauth dialog finishes it).
type linkScreen struct {
	ui      *UI
	root    fyne.CanvasObject
	entry   *dialogEntry
	err     *widget.Label
	check   *keyButton
	preview *fyne.Container
	form    *widget.Form
	letIn   *keyButton
	back    *keyButton
	done    *widget.Label

	code    string // the code checked (preview shown)
	name    string
	letting bool // Let it in runs, or waits for the password
	waiting bool // waits for the password
	cancels int  // u.reauthCancels when the wait began
}

func newLinkScreen(u *UI) *linkScreen {
	l := &linkScreen{ui: u, err: errorText()}
	l.entry = textEntry("Code, like ABCD-EFGH", u.escape)
	l.entry.upper = true
	l.entry.OnSubmitted = func(string) { l.onCheck() }
	l.entry.OnChanged = func(t string) {
		dismissWhenTyped(u, linkField, t)
		if l.code != "" && normalizedLinkCode(t) != l.code {
			l.clear()
		}
	}
	l.check = u.button("Continue", nil, l.onCheck)
	l.check.Importance = widget.HighImportance
	l.form = widget.NewForm()
	l.letIn = u.button("Let it in", nil, l.onLetIn)
	l.letIn.Importance = widget.HighImportance
	l.back = u.button("Not this one", nil, func() { l.clear(); l.entry.SetText(""); u.focus(l.entry) })
	warn := wrapped("It will be logged in to your account, as you, until you log it out. Only let in a device you are using now.")
	l.preview = container.NewVBox(widget.NewSeparator(), heading("Let this device in?"), l.form, warn, l.letIn, l.back)
	l.preview.Hide()
	l.done = wrapped("")
	l.done.Importance = widget.SuccessImportance
	l.done.Hide()
	body := container.NewVBox(
		header("Link a device", u.back, nil),
		wrapped("On the new device, choose “Sign in with a code” on the log-in screen, and type the code it shows here. Nobody types your password there."),
		l.entry, l.err, l.check, l.preview, l.done,
	)
	l.root = container.NewVScroll(column(container.NewPadded(body)))
	return l
}

// normalizedLinkCode is a typed code as the app sends it ("ABCD-EFGH").
func normalizedLinkCode(t string) string {
	t = strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(t, "-", " ")), ""))
	if len(t) == 8 {
		return t[:4] + "-" + t[4:]
	}
	return t
}

// open starts afresh.
func (l *linkScreen) open() {
	l.clear()
	l.letting, l.waiting = false, false
	l.entry.SetText("")
	setErrorText(l.err, "")
	l.done.Hide()
}

// clear forgets the preview.
func (l *linkScreen) clear() {
	l.code, l.name = "", ""
	l.preview.Hide()
}

func (l *linkScreen) update(s app.Snapshot) fyne.CanvasObject {
	l.follow(s)
	if msg := s.FieldErrors[linkField]; msg != "" {
		setErrorText(l.err, msg)
	} else if !l.letting {
		setErrorText(l.err, "")
	}
	setVisible(l.check, l.code == "")
	setEnabled(!s.Busy && !s.Offline, l.check)
	setEnabled(!s.Busy && !s.Offline && !l.letting, l.letIn)
	return l.root
}

// follow ends a "Let it in" that waited for the password: once nothing
// waits and nothing runs, it was done, cancelled (the reauth dialog says
// so), or refused (the error shows).
func (l *linkScreen) follow(s app.Snapshot) {
	if !l.letting || !l.waiting || s.Pending != nil || s.Busy {
		return
	}
	l.letting, l.waiting = false, false
	switch {
	case s.FieldErrors[linkField] != "" || s.Err != "":
		l.clear()
		setErrorText(l.err, firstNonEmpty(s.FieldErrors[linkField], s.Err))
	case l.ui.reauthCancels != l.cancels:
		// The password was not given: nothing was let in.
	default:
		l.linked()
	}
}

func (l *linkScreen) onCheck() {
	code := l.entry.Text
	u := l.ui
	core := u.core
	l.done.Hide()
	var p api.LinkPreview
	u.run(func(ctx context.Context) error {
		var err error
		p, err = core.CheckLink(ctx, code)
		return err
	}, func(err error) {
		if err != nil || u.core != core {
			return // the error shows under the field (or in the banner)
		}
		l.showPreview(normalizedLinkCode(code), p)
	})
}

func (l *linkScreen) showPreview(code string, p api.LinkPreview) {
	l.code, l.name = code, requestDevice(p.Device)
	rows := [][2]string{{"Device", l.name}}
	if sys := deviceSystem(p.Device); sys != "" {
		rows = append(rows, [2]string{"System", sys})
	}
	rows = append(rows, [2]string{"Place", placeOf(p.Location, p.IP)}, [2]string{"IP address", firstNonEmpty(p.IP, "—")})
	if !p.At.IsZero() {
		rows = append(rows, [2]string{"Asked", stamp(p.At, nowFunc())})
	}
	setForm(l.form, rows, fyne.TextWrapWord)
	l.preview.Show()
	l.ui.redraw()
	l.ui.focus(l.letIn)
}

func (l *linkScreen) onLetIn() {
	code := l.code
	if code == "" {
		return
	}
	u := l.ui
	core := u.core
	l.letting, l.waiting, l.cancels = true, false, u.reauthCancels
	u.run(func(ctx context.Context) error { return core.ApproveLink(ctx, code) }, func(err error) {
		switch {
		case err == nil:
			l.letting = false
			l.linked()
		case errors.Is(err, app.ErrReauthRequired):
			l.waiting = true // the reauth dialog carries on; follow ends it
		default:
			l.letting = false
			l.clear()
			snap := u.src.Snapshot()
			setErrorText(l.err, firstNonEmpty(snap.FieldErrors[linkField], snap.Err, app.Describe(err)))
		}
		u.redraw()
	})
	u.redraw()
}

// linked says the device was let in.
func (l *linkScreen) linked() {
	name := l.name
	l.clear()
	l.entry.SetText("")
	l.done.SetText(name + " is logged in to your account. You can see it, and log it out, in Login activity.")
	l.done.Show()
	l.ui.showNote(name + " was let in.")
}

// openLink goes to Settings → Link a device.
func (u *UI) openLink() {
	if !u.signedIn() {
		return
	}
	u.link.open()
	u.show(pageLink)
	u.focus(u.link.entry)
}

// ---------------------------------------------------------------- settings

// approveRow is Settings' "Approve new devices from a device you trust".
type approveRow struct {
	ui      *UI
	root    fyne.CanvasObject
	check   *keyCheck
	syncing bool // the check is being set from the settings
	saving  bool // a change runs, or waits for the password
	waiting bool // the change waits for the password
}

func newApproveRow(u *UI) *approveRow {
	r := &approveRow{ui: u}
	r.check = u.check("Approve new devices from a device you trust", nil)
	r.check.OnChanged = r.onChanged
	note := wrapped("A device that never logged in to your account waits until you approve it on a device where you're logged in. A recovery code skips the wait.")
	note.SizeName = theme.SizeNameCaptionText
	note.Importance = widget.LowImportance
	r.root = container.NewVBox(r.check, note)
	return r
}

func (r *approveRow) update(s app.Snapshot) {
	if r.saving && r.waiting && s.Pending == nil && !s.Busy {
		r.saving, r.waiting = false, false
	}
	if !r.saving {
		on := s.Settings != nil && s.Settings.ApproveNewDevices
		if r.check.Checked != on {
			r.syncing = true
			r.check.SetChecked(on)
			r.syncing = false
		}
	}
	setEnabled(s.Settings != nil && !s.Busy && !s.Offline && !r.saving, r.check)
}

func (r *approveRow) onChanged(on bool) {
	if r.syncing {
		return
	}
	u := r.ui
	core := u.core
	r.saving, r.waiting = true, false
	u.run(func(ctx context.Context) error { return core.SetApproveNewDevices(ctx, on) }, func(err error) {
		if errors.Is(err, app.ErrReauthRequired) {
			r.waiting = true // the reauth dialog carries on; update ends it
		} else {
			r.saving = false
		}
		u.redraw()
	})
}
