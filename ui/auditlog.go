package ui

// A security log you can prove (issue 18), on Security activity: the line
// saying what the last check of the log against the head this app saw
// before found, and Export…, which saves the whole log as the server's
// NDJSON export, verified on the way, where the person chooses.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// exportTick is how often a running export's progress is drawn (its
// ticker runs only while the export does, see followExport).
const exportTick = 250 * time.Millisecond

// newProof makes the log check's line, the header's Export… button and
// what an export shows: its progress with Cancel, then how it went.
func (a *activityScreen) newProof() {
	u := a.ui
	a.checkIcon = widget.NewIcon(nil)
	a.checkText = wrapped("")
	a.check = container.NewBorder(nil, nil, a.checkIcon, nil, a.checkText)
	a.check.Hide()

	a.saveFile = a.saveWithDialog
	a.exportButton = u.button("Export…", theme.DocumentSaveIcon(), a.onExport)
	a.exportButton.Importance = widget.LowImportance

	a.progressText = wrapped("")
	var bar *fyne.Container
	a.progressBar, bar = u.anims.newBar()
	a.cancelButton = u.button("Cancel", nil, a.onCancelExport)
	a.progress = container.NewVBox(container.NewBorder(nil, nil, nil, a.cancelButton, a.progressText), bar)
	a.progress.Hide()

	a.resultIcon = widget.NewIcon(nil)
	a.resultText = wrapped("")
	a.resultWhere = wrapped("")
	a.resultWhere.Importance = widget.LowImportance
	a.result = container.NewBorder(nil, nil, a.resultIcon, nil, container.NewVBox(a.resultText, a.resultWhere))
	a.result.Hide()
}

// proofLine is one line of Security activity about the log's proof: its
// words, their importance (colour), weight, and icon.
type proofLine struct {
	text string
	imp  widget.Importance
	bold bool
	icon fyne.Resource
}

// logCheckLine is what the person reads about check c (now: for its
// times); no text for a log not checked.
//
//   - verified: "Log verified: 1,204 events, nothing changed since you
//     last looked." (the first time on this device: "…, signed by this
//     server. From now on Sessionguard notices if any of them is
//     changed.")
//   - rewritten, in the error colour: "This server's security log was
//     changed after it was written: <problem>. Sessionguard kept its copy
//     of what you saw at 09:41 today: event 1,204, signed by the server."
//   - unverifiable: "Couldn't check the security log against what you saw
//     before: <problem>.", or the problem alone when the core words it as
//     a sentence of its own (a new signing key).
func logCheckLine(c app.LogCheck, now time.Time) proofLine {
	switch c.State {
	case app.LogVerified:
		text := fmt.Sprintf("Log verified: %s %s, nothing changed since you last looked.", app.Thousands(c.Events), plural(int(min(c.Events, 2)), "event", "events"))
		if c.First {
			text = fmt.Sprintf("Log verified: %s %s, signed by this server. From now on Sessionguard notices if %s changed.",
				app.Thousands(c.Events), plural(int(min(c.Events, 2)), "event", "events"), plural(int(min(c.Events, 2)), "it is", "any of them is"))
		}
		return proofLine{text: text, imp: widget.LowImportance, icon: theme.ConfirmIcon()}
	case app.LogRewritten:
		msg := "This server's security log was changed after it was written" + colonProblem(c.Problem) + "."
		if e := c.Evidence; e != nil {
			msg += " Sessionguard kept its copy of what you saw"
			if !c.SeenAt.IsZero() {
				msg += " at " + clock(c.SeenAt, now)
			}
			msg += ": event " + app.Thousands(e.Head.Seq) + ", signed by the server."
		}
		return proofLine{text: msg, imp: widget.DangerImportance, bold: true, icon: theme.NewErrorThemedResource(theme.WarningIcon())}
	case app.LogUnverifiable:
		msg := "Couldn't check the security log against what you saw before" + colonProblem(c.Problem) + "."
		if isSentence(c.Problem) { // the core's own words say it all
			msg = sentence(c.Problem)
		}
		return proofLine{text: msg, imp: widget.MediumImportance, icon: theme.WarningIcon()}
	}
	return proofLine{}
}

// colonProblem is ": " and problem as the rest of a sentence (no capital,
// no full stop: ": event 12 is not the one you saw before"), or "" when
// there is none.
func colonProblem(problem string) string {
	p := strings.TrimRight(strings.TrimSpace(problem), ". ")
	if p == "" {
		return ""
	}
	if isSentence(p) { // "Event 12 …", not an acronym ("DNS …")
		r := []rune(p)
		r[0] = unicode.ToLower(r[0])
		p = string(r)
	}
	return ": " + p
}

// isSentence reports whether problem is a sentence of its own, as the
// core words some ("This server now signs its log with a different key
// …"): it starts with a capital (not an acronym's).
func isSentence(problem string) bool {
	r := []rune(strings.TrimSpace(problem))
	return len(r) > 1 && unicode.IsUpper(r[0]) && !unicode.IsUpper(r[1])
}

// showLogCheck shows the line about check c, or hides it when c says
// nothing (not checked).
func (a *activityScreen) showLogCheck(c app.LogCheck) {
	a.relayout(func() {
		l := logCheckLine(c, nowFunc())
		if l.text != "" {
			setLine(a.checkIcon, a.checkText, l)
		}
		setVisible(a.check, l.text != "")
	})
}

// setLine shows l in icon and label (redrawn only when l changes).
func setLine(icon *widget.Icon, label *widget.Label, l proofLine) {
	if label.Text == l.text && label.Importance == l.imp && label.TextStyle.Bold == l.bold &&
		icon.Resource != nil && l.icon != nil && icon.Resource.Name() == l.icon.Name() {
		return
	}
	icon.SetResource(l.icon)
	label.Importance = l.imp
	label.TextStyle.Bold = l.bold
	label.Text = l.text
	label.Refresh()
}

// exportFileName is the name Export… offers:
// "sessionguard-security-log-ana-2026-12-07.ndjson", the username kept to
// what any file system takes.
func exportFileName(username string, now time.Time) string {
	name := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, strings.TrimSpace(username))
	if name = strings.Trim(name, ".-"); name == "" {
		name = "account"
	}
	return "sessionguard-security-log-" + name + "-" + now.Local().Format("2006-01-02") + ".ndjson"
}

// saveWithDialog is saveFile on a real device: the platform's save dialog
// (the system's file picker on a phone), which hands then the writer, or
// nil when the person cancels, on the UI goroutine.
func (a *activityScreen) saveWithDialog(name string, then func(fyne.URIWriteCloser, error)) {
	d := dialog.NewFileSave(then, a.ui.win)
	d.SetTitleText("Export security log")
	d.SetConfirmText("Save")
	d.SetFileName(name)
	d.Show()
}

// onExport asks where to save the account's security log; onSaveChosen
// goes on.
func (a *activityScreen) onExport() {
	s := a.ui.snap
	if a.exporting || s.Account == nil {
		return
	}
	a.saveFile(exportFileName(s.Account.Username, nowFunc()), a.onSaveChosen)
}

// onSaveChosen starts the export into w, the file chosen (nil: the person
// cancelled, and nothing changes), in the background; onExportDone says
// how it went.
func (a *activityScreen) onSaveChosen(w fyne.URIWriteCloser, err error) {
	acc := a.ui.snap.Account
	switch {
	case a.exporting: // a second dialog's answer: the file may be the running export's
		if w != nil {
			go w.Close() // nothing was written to it; not deleted, in case it is that export's
		}
		return
	case w != nil && (err != nil || acc == nil):
		go discardFile(w) // the file was made, but nothing goes in it
	}
	switch {
	case acc == nil: // signed out meanwhile
		return
	case err != nil:
		a.exportAccount = acc.ID
		a.onExportDone(exportOutcome{openErr: err})
		return
	case w == nil: // cancelled
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.exporting, a.cancelExport, a.exportAccount = true, cancel, acc.ID
	a.resultAccount = "" // the last export's outcome goes
	a.progressText.SetText("Exporting…")
	a.cancelButton.Enable()
	run := a.exportLog
	if run == nil {
		run = a.ui.core.ExportActivity
	}
	focused := a.ui.win.Canvas().Focused() == a.exportButton
	a.showExport()
	if focused {
		a.ui.focus(a.cancelButton) // Export… is off while it runs
	}
	go a.exportInBackground(ctx, cancel, run, w)
}

// exportOutcome is how an export ended, worked out off the UI goroutine.
type exportOutcome struct {
	openErr   error // the save dialog failed: nothing was exported
	res       app.ExportResult
	err       error // nothing usable was saved
	cancelled bool  // the person cancelled
	writeErr  error // writing the file failed
	name      string
	where     string // where the file is: its path, or its name
	removeErr error  // deleting the unfinished file failed
}

// exportInBackground runs the export into w, reporting its progress
// (followExport), closes w, deletes it when the export failed, and hands
// the outcome to onExportDone. It runs on its own goroutine.
func (a *activityScreen) exportInBackground(ctx context.Context, cancel context.CancelFunc, run func(context.Context, io.Writer) (app.ExportResult, error), w fyne.URIWriteCloser) {
	defer cancel()
	cw := &countingWriter{w: w}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go a.followExport(cw, stop, stopped)
	res, err := run(ctx, cw)
	closeErr := w.Close()
	close(stop)
	<-stopped // no progress is drawn after the outcome
	out := exportOutcome{res: res, err: err, writeErr: cw.failed(), name: w.URI().Name(), where: savedWhere(w.URI())}
	switch {
	case out.err == nil && out.writeErr != nil:
		out.err = out.writeErr
	case out.err == nil && closeErr != nil:
		out.err, out.writeErr = closeErr, closeErr
	}
	if out.err != nil {
		out.cancelled = ctx.Err() != nil && out.writeErr == nil
		out.removeErr = storage.Delete(w.URI())
	}
	a.ui.onUI(func() { a.onExportDone(out) })
}

// followExport draws the progress of the export writing to cw every
// exportTick while it grows, until stop closes (the export ended); then
// it closes stopped. Its ticker lives only as long as the export, and
// wakes the UI only when there is more to say.
func (a *activityScreen) followExport(cw *countingWriter, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	t := time.NewTicker(exportTick)
	defer t.Stop()
	drawn := int64(0)
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if n := cw.lines.Load(); n != drawn {
				drawn = n
				a.ui.onUI(func() { a.onExportProgress(n) })
			}
		}
	}
}

// onExportProgress draws a running export's progress: lines written so
// far (an event each, the signed head last). Its progress bar is the
// registry's (anim.go): it stops when the page is left (nav.go's leave
// hook) and runs again when the page shows (update, showExport).
func (a *activityScreen) onExportProgress(lines int64) {
	if !a.exporting {
		return
	}
	if lines > 0 && !a.cancelButton.Disabled() { // not while cancelling
		a.progressText.SetText(fmt.Sprintf("Exporting… %s %s so far", app.Thousands(lines), plural(int(min(lines, 2)), "event", "events")))
	}
}

// onCancelExport stops the running export; onExportDone follows.
func (a *activityScreen) onCancelExport() {
	if !a.exporting || a.cancelExport == nil {
		return
	}
	a.cancelExport()
	a.progressText.SetText("Cancelling…")
	a.cancelButton.Disable()
}

// onExportDone shows how the export went (exportMessage), under the
// header, and stops its progress.
func (a *activityScreen) onExportDone(out exportOutcome) {
	a.exporting, a.cancelExport = false, nil
	setLine(a.resultIcon, a.resultText, exportMessage(out))
	a.resultWhere.SetText("")
	if out.openErr == nil && out.err == nil {
		a.resultWhere.SetText("Saved as " + out.where)
	}
	setVisible(a.resultWhere, a.resultWhere.Text != "")
	a.resultAccount = a.exportAccount
	focused := a.ui.win.Canvas().Focused() == a.cancelButton
	a.showExport()
	if focused {
		a.ui.focus(a.exportButton)
	}
}

// exportMessage is what the person reads about an export that ended:
//
//   - verified: "Verified: 1,204 events, nothing changed since they were
//     written, signed by this server."
//   - saved, not verified (error colour): "Saved, but this export does
//     not verify: <problem>."
//   - failed (error colour): what failed, and what became of the
//     unfinished file; cancelled, the same without the colour.
func exportMessage(out exportOutcome) proofLine {
	failed := func(msg string) proofLine {
		return proofLine{text: msg, imp: widget.DangerImportance, icon: theme.NewErrorThemedResource(theme.WarningIcon())}
	}
	switch {
	case out.openErr != nil:
		return failed("Couldn't open the file to save the security log in. " + sentence(out.openErr.Error()))
	case out.cancelled: // the person's choice: no alarm
		return proofLine{text: "Export cancelled. " + unfinished(out), imp: widget.MediumImportance, icon: theme.InfoIcon()}
	case out.writeErr != nil:
		return failed("Couldn't write the security log to " + out.name + ". " + sentence(out.writeErr.Error()) + " " + unfinished(out))
	case out.err != nil:
		return failed("Couldn't export the security log. " + sentence(app.Describe(out.err)) + " " + unfinished(out))
	case out.res.Problem != "":
		return failed("Saved, but this export does not verify" + colonProblem(out.res.Problem) + ".")
	}
	n := out.res.Events
	they := "they were"
	if n == 1 {
		they = "it was"
	}
	return proofLine{
		text: fmt.Sprintf("Verified: %s %s, nothing changed since %s written, signed by this server.", app.Thousands(n), plural(int(min(n, 2)), "event", "events"), they),
		imp:  widget.SuccessImportance, icon: theme.NewSuccessThemedResource(theme.ConfirmIcon()),
	}
}

// unfinished says what became of a failed export's file.
func unfinished(out exportOutcome) string {
	if out.removeErr == nil {
		return "The unfinished file was deleted."
	}
	return "The unfinished file " + out.name + " could not be deleted: delete it yourself, it is not the whole log."
}

// showExport shows the running export of the account on screen, or how
// its last one went, and enables Export… when one can start. The progress
// bar runs while the export does and the page shows: the registry stops it
// when the page is left, and this, called by update, starts it again on
// return.
func (a *activityScreen) showExport() {
	s := a.ui.snap
	id := ""
	if s.Account != nil {
		id = s.Account.ID
	}
	mine := id != "" && a.exportAccount == id
	a.relayout(func() {
		setVisible(a.progress, a.exporting && mine)
		a.ui.animatePage(a.root, "export progress", a.progressBar, a.exporting && mine)
		setVisible(a.result, !a.exporting && id != "" && a.resultAccount == id)
	})
	setEnabled(!a.exporting && id != "" && !s.Offline, a.exportButton)
}

// savedWhere is where a saved file is, for the person: its path on a
// computer, its name where the platform gives no path (a phone's picker).
func savedWhere(u fyne.URI) string {
	if u.Scheme() == "file" && u.Path() != "" {
		return u.Path()
	}
	return u.Name()
}

// discardFile closes and deletes w, a file made for an export that does
// not run.
func discardFile(w fyne.URIWriteCloser) {
	_ = w.Close()
	_ = storage.Delete(w.URI())
}

// countingWriter is the export's file, counting the lines written (one an
// event) and keeping the first write error.
type countingWriter struct {
	w     io.Writer
	lines atomic.Int64
	mu    sync.Mutex
	err   error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.lines.Add(int64(bytes.Count(p[:n], []byte{'\n'})))
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
	return n, err
}

// failed is the first write error, if any.
func (c *countingWriter) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
