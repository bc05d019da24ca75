package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// signInScreen signs in or up, and offers the saved accounts.
type signInScreen struct {
	ui   *UI
	root fyne.CanvasObject

	signUp   bool            // sign-up mode
	cancel   *fyne.Container // adding an account: back to the accounts
	title    *widget.Label
	notice   *widget.Card
	noticeTx *widget.Label
	saved    *fyne.Container
	username *dialogEntry
	password *dialogEntry
	confirm  *dialogEntry
	remember *keyCheck
	userErr  *widget.Label
	passErr  *widget.Label
	confErr  *widget.Label
	formErr  *widget.Label
	keyring  *widget.Label
	submit   *keyButton
	toggle   *keyButton
	withCode *keyButton // Sign in with a code (approval.go)
	demo     *keyButton
	progress *widget.ProgressBarInfinite
	server   *widget.Label
	change   *keyButton // the server: change it
	prefill  bool
}

func newSignInScreen(u *UI) *signInScreen {
	s := &signInScreen{ui: u}
	s.title = heading("Log in to Sessionguard")
	back := u.button("Cancel", theme.NavigateBackIcon(), u.onCancelAdd)
	back.Importance = widget.LowImportance
	s.cancel = container.NewHBox(back)
	s.cancel.Hide()
	s.noticeTx = wrapped("")
	dismiss := u.button("Dismiss", nil, func() { u.core.DismissNotice() })
	s.notice = widget.NewCard("", "", container.NewVBox(s.noticeTx, container.NewHBox(dismiss)))
	s.saved = container.NewVBox()
	s.username = textEntry("Username", u.escape)
	s.password = secretEntry("Password", u.escape)
	s.confirm = secretEntry("Confirm password", u.escape)
	// A field put right loses its old error ("too common").
	s.username.OnChanged = func(t string) { dismissWhenTyped(u, "username", t) }
	s.password.OnChanged = func(t string) { dismissWhenTyped(u, "password", t) }
	s.confirm.OnChanged = func(t string) { dismissWhenTyped(u, "confirm", t) }
	s.username.OnSubmitted = func(string) {
		if s.password.Text == "" {
			u.win.Canvas().Focus(s.password)
			return
		}
		s.password.OnSubmitted(s.password.Text)
	}
	s.password.OnSubmitted = func(string) {
		if s.signUp {
			u.win.Canvas().Focus(s.confirm)
			return
		}
		s.onSubmit()
	}
	s.confirm.OnSubmitted = func(string) { s.onSubmit() }
	s.remember = u.check("Remember me", s.onSubmit)
	s.remember.SetChecked(true)
	s.userErr, s.passErr, s.confErr, s.formErr = errorText(), errorText(), errorText(), errorText()
	s.keyring = wrapped("")
	s.keyring.Importance = widget.WarningImportance
	s.keyring.Hide()
	s.submit = u.button("Log in", nil, s.onSubmit)
	s.submit.Importance = widget.HighImportance
	s.withCode = u.button("Sign in with a code", nil, s.onWithCode)
	s.withCode.Importance = widget.LowImportance
	s.toggle = u.button("Don't have an account? Sign up", nil, s.onToggle)
	s.toggle.Importance = widget.LowImportance
	s.demo = u.button("Try the demo", theme.MediaPlayIcon(), s.onDemo)
	s.demo.Importance = widget.LowImportance
	var progress *fyne.Container
	s.progress, progress = u.anims.newBar()
	s.server = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	s.server.Wrapping = fyne.TextWrapBreak // a long address on a phone
	s.change = u.button("Change server", theme.StorageIcon(), u.openServerChoice)
	s.change.Importance = widget.LowImportance
	s.prefill = true

	form := container.NewVBox(
		s.cancel, s.title, s.notice, s.saved,
		s.username, s.userErr,
		s.password, s.passErr,
		s.confirm, s.confErr,
		s.remember, s.keyring,
		s.formErr, progress, s.submit, s.withCode, s.toggle, s.demo,
		widget.NewSeparator(), s.server, container.NewCenter(s.change),
	)
	s.root = container.NewVScroll(column(container.NewPadded(form)))
	return s
}

// browserForgets is what the sign-in screen says in a browser, where
// "Remember me" is not offered.
const browserForgets = "This browser keeps nothing: your login lives in this tab only, and closing the tab forgets it. Nothing is saved on this computer."

// firstField is what has the focus when the form shows: the first empty
// field, or Log in when both are filled (after changing the server).
func (s *signInScreen) firstField() fyne.Focusable {
	switch {
	case s.username.Text == "":
		return s.username
	case s.password.Text == "":
		return s.password
	case !s.submit.Disabled():
		return s.submit
	}
	return s.username
}

// update draws snapshot snap.
func (s *signInScreen) update(snap, prev app.Snapshot) fyne.CanvasObject {
	if s.prefill {
		s.prefill = false
		s.username.SetText(snap.PrefillUsername)
		if s.ui.info.PrefillUsername != "" {
			s.username.SetText(s.ui.info.PrefillUsername)
			s.password.SetText(s.ui.info.PrefillPassword)
		}
	}
	adding := s.ui.adding()
	setVisible(s.cancel, adding)
	if s.signUp {
		s.title.SetText("Create your account")
		s.submit.SetText("Sign up")
		s.toggle.SetText("Have an account? Log in")
		s.confirm.Show()
	} else {
		s.title.SetText("Log in to Sessionguard")
		if adding {
			s.title.SetText("Add an account")
		}
		s.submit.SetText("Log in")
		s.toggle.SetText("Don't have an account? Sign up")
		s.confirm.Hide()
		s.confErr.Hide()
	}

	// The "you were logged out" notice.
	if n := snap.Notice; n != nil {
		s.notice.SetTitle("You were logged out")
		s.noticeTx.SetText(revokedNotice(n, s.ui.core.ThisDevice().Name, nowFunc()))
	}
	setVisible(s.notice, snap.Notice != nil)

	s.renderSaved(snap)

	// The core's refusals (the same account twice, too many accounts)
	// are the username's problem too.
	setErrorText(s.userErr, sentence(snap.FieldErrors["username"]))
	setErrorText(s.passErr, snap.FieldErrors["password"])
	setErrorText(s.confErr, snap.FieldErrors["confirm"])
	msg := snap.Err
	if snap.Offline && msg != "" {
		msg += " If the address is wrong, change the server below."
	}
	if !snap.RetryAt.IsZero() {
		if wait := time.Until(snap.RetryAt).Round(time.Second); wait > 0 {
			msg += fmt.Sprintf(" (you can try again at %s)", snap.RetryAt.Local().Format("15:04:05"))
		}
	}
	setErrorText(s.formErr, msg)

	switch {
	case inBrowser: // nothing outlives the tab, and the page says so
		s.remember.SetChecked(false)
		s.remember.Hide()
		s.keyring.Importance = widget.MediumImportance
		s.keyring.SetText(browserForgets)
		s.keyring.Show()
	default:
		if !snap.CanRemember() {
			s.remember.SetChecked(false)
			s.keyring.SetText(snap.KeyringProblem)
		}
		setEnabled(snap.CanRemember(), s.remember)
		setVisible(s.keyring, !snap.CanRemember())
	}

	busy := snap.Busy || snap.State == app.StateSigningIn
	setEnabled(!busy, s.username, s.password, s.confirm, s.submit, s.toggle, s.withCode)
	setVisible(s.withCode, !s.signUp)
	s.ui.animate(s.root, "sign-in progress", s.progress, busy)
	in := s.ui.serverInfo()
	setVisible(s.demo, s.ui.info.TryDemo != nil && in.Embedded && !s.signUp)
	if in.Embedded {
		s.server.SetText("Server: this device")
	} else {
		s.server.SetText("Server: " + in.Server)
	}
	setVisible(s.change, s.ui.info.UseServer != nil)
	setEnabled(!busy, s.change)
	return s.root
}

// fresh is the form after a session (log out, "clear app data"): log in,
// not sign up, with the saved accounts, the username known and nothing
// secret left in the fields.
func (s *signInScreen) fresh(snap app.Snapshot) {
	s.signUp = false
	s.username.SetText(snap.PrefillUsername)
	s.password.SetText("")
	s.confirm.SetText("")
}

// renderSaved lists the "Continue as …" accounts.
func (s *signInScreen) renderSaved(snap app.Snapshot) {
	s.saved.RemoveAll()
	if len(snap.SavedAccounts) == 0 || s.signUp {
		s.saved.Hide()
		return
	}
	here := s.ui.core.Server()
	for _, sa := range snap.SavedAccounts {
		cont := s.ui.button("Continue as "+sa.Username, theme.AccountIcon(), func() { s.onContinue(sa) })
		cont.Importance = widget.HighImportance
		setEnabled(!snap.Busy, cont)
		remove := s.ui.button("", theme.DeleteIcon(), func() { s.onRemoveSaved(sa) })
		remove.Importance = widget.LowImportance
		setEnabled(!snap.Busy, remove)
		if sa.Server == "" || sa.Server == here {
			s.saved.Add(container.NewBorder(nil, nil, nil, remove, cont))
			continue
		}
		// On another server than the form's: say where.
		where := widget.NewLabelWithStyle("On "+serverPhrase(sa.Server), fyne.TextAlignCenter, fyne.TextStyle{})
		where.Importance = widget.LowImportance
		where.SizeName = theme.SizeNameCaptionText
		where.Wrapping = fyne.TextWrapBreak
		s.saved.Add(container.NewBorder(nil, nil, nil, remove, container.NewVBox(cont, where)))
	}
	s.saved.Add(widget.NewLabelWithStyle("or log in with your password", fyne.TextAlignCenter, fyne.TextStyle{Italic: true}))
	s.saved.Show()
}

func (s *signInScreen) onSubmit() {
	user, pass, conf, remember := s.username.Text, s.password.Text, s.confirm.Text, s.remember.Checked
	if s.signUp {
		s.ui.run(func(ctx context.Context) error { return s.ui.core.SignUp(ctx, user, pass, conf, remember) }, nil)
		return
	}
	s.ui.run(func(ctx context.Context) error { return s.ui.core.SignIn(ctx, user, pass, remember) }, nil)
}

// onWithCode signs in without typing the password here: the app shows a
// code to type on a device where the account is logged in.
func (s *signInScreen) onWithCode() {
	remember, core := s.remember.Checked, s.ui.core
	s.ui.run(func(ctx context.Context) error { return core.StartLink(ctx, remember) }, nil)
}

// onDemo creates the demo account and signs in to it.
func (s *signInScreen) onDemo() {
	try := s.ui.info.TryDemo
	s.demo.Disable()
	go func() {
		user, pass, err := try()
		s.ui.onUI(func() {
			s.demo.Enable()
			if err != nil {
				setErrorText(s.formErr, "The demo could not be set up: "+err.Error())
				return
			}
			s.signUp = false
			s.username.SetText(user)
			s.password.SetText(pass)
			s.onSubmit()
		})
	}()
}

func (s *signInScreen) onToggle() {
	s.signUp = !s.signUp
	s.ui.core.DismissError()
}

func (s *signInScreen) onContinue(sa app.SavedAccount) {
	remember := s.remember.Checked
	if m := s.ui.accounts; m != nil {
		// On the saved account's own server, wherever the form is.
		s.ui.run(func(ctx context.Context) error { return m.ContinueAs(ctx, sa, remember) }, nil)
		return
	}
	s.ui.run(func(ctx context.Context) error { return s.ui.core.ContinueAs(ctx, sa.AccountID, remember) }, nil)
}

func (s *signInScreen) onRemoveSaved(sa app.SavedAccount) {
	s.ui.showDialog(s.ui.confirmDialog("Remove "+sa.Username+"?", "Remove", true,
		wrapped("You will need the password to log in to "+sa.Username+" on this device again."),
		func(ok bool) {
			if !ok {
				return
			}
			if m := s.ui.accounts; m != nil {
				// Forgotten by its own server, wherever the form is.
				s.ui.run(func(ctx context.Context) error { return m.RemoveSaved(ctx, sa) }, nil)
				return
			}
			s.ui.run(func(ctx context.Context) error { return s.ui.core.RemoveSavedAccount(ctx, sa.AccountID) }, nil)
		}))
}
