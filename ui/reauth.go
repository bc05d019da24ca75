package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// reauthDialog asks for the password when the server wants a fresh proof,
// then lets the core finish the action.
type reauthDialog struct {
	ui       *UI
	dlg      *dialog.CustomDialog // the last one shown
	password *dialogEntry
	code     *dialogEntry
	err      *widget.Label
}

func newReauthDialog(u *UI) *reauthDialog { return &reauthDialog{ui: u} }

// follow shows the dialog while an action waits for the password
// (Snapshot.Pending) and nothing runs. While a password is being checked
// (busy) it stays closed; a wrong one opens it again with the error. It
// closes when nothing waits any more.
func (r *reauthDialog) follow(s app.Snapshot) {
	open := r.ui.isShowing(r.dlg)
	switch {
	case s.Pending != nil && !open:
		if !s.Busy {
			r.show(s)
		}
	case s.Pending == nil && open:
		r.dlg.Hide()
	case open:
		setErrorText(r.err, firstNonEmpty(s.FieldErrors["password"], s.Err))
		if r.ui.win.Canvas().Focused() == nil {
			// A page opened behind the dialog (No, secure my account opens
			// Change password) must not leave it without a focused field.
			r.ui.win.Canvas().Focus(r.password)
		}
	}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func (r *reauthDialog) show(s app.Snapshot) {
	r.password = secretEntry("Password", r.ui.escape)
	r.code = textEntry("Code from your authenticator app", r.ui.escape)
	r.err = errorText()
	setErrorText(r.err, firstNonEmpty(s.FieldErrors["password"], s.Err))
	items := []fyne.CanvasObject{wrapped("For your security, enter your password to " + s.Pending.Action + "."), r.password}
	if s.Account != nil && s.Account.MFAEnabled {
		items = append(items, r.code)
	} else {
		r.code.Hide()
	}
	items = append(items, r.err)
	answered := false
	answer := func(ok bool) {
		answered = true
		r.onConfirm(ok)
	}
	// Enter is the Continue button: the dialog closes the same way.
	submit := func(string) {
		r.dlg.Hide()
		answer(true)
	}
	r.password.OnSubmitted, r.code.OnSubmitted = submit, submit
	core := r.ui.core // the account asking, even if another shows by then
	dlg := r.ui.confirmDialog("Confirm it's you", "Continue", false, container.NewVBox(items...), answer)
	r.dlg = dlg
	r.ui.showDialog(dlg)
	dlg.SetOnClosed(func() {
		r.ui.forgetDialog(dlg)
		// Closed another way than its buttons (Escape): the action waits
		// no more. Checked once the button that closed it has answered.
		r.ui.onUI(func() {
			if !answered && r.dlg == dlg {
				r.ui.reauthCancels++
				core.CancelReauth()
			}
		})
	})
	r.ui.win.Canvas().Focus(r.password)
}

// onConfirm is the dialog's answer. Either button closes it: Continue
// checks the password, and follow opens it again while the core still
// waits for one (a wrong password keeps the action pending).
func (r *reauthDialog) onConfirm(ok bool) {
	if !ok {
		r.ui.reauthCancels++
		r.ui.core.CancelReauth()
		return
	}
	password, code := r.password.Text, r.code.Text
	r.ui.run(func(ctx context.Context) error { return r.ui.core.Reauthenticate(ctx, password, code) }, nil)
}
