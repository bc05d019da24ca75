package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// signInScreen signs in or up, and offers the saved accounts.
type signInScreen struct {
	ui   *UI
	root fyne.CanvasObject

	signUp   bool // sign-up mode
	title    *widget.Label
	notice   *widget.Card
	noticeTx *widget.Label
	saved    *fyne.Container
	username *widget.Entry
	password *widget.Entry
	confirm  *widget.Entry
	remember *widget.Check
	userErr  *widget.Label
	passErr  *widget.Label
	confErr  *widget.Label
	formErr  *widget.Label
	keyring  *widget.Label
	submit   *widget.Button
	toggle   *widget.Button
	demo     *widget.Button
	progress *widget.ProgressBarInfinite
	server   *widget.Label
	prefill  bool
}

func newSignInScreen(u *UI) *signInScreen {
	s := &signInScreen{ui: u}
	s.title = heading("Log in to Sessionguard")
	s.noticeTx = wrapped("")
	dismiss := widget.NewButton("Dismiss", func() { u.core.DismissNotice() })
	s.notice = widget.NewCard("", "", container.NewVBox(s.noticeTx, container.NewHBox(dismiss)))
	s.saved = container.NewVBox()
	s.username = widget.NewEntry()
	s.username.SetPlaceHolder("Username")
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder("Password")
	s.confirm = widget.NewPasswordEntry()
	s.confirm.SetPlaceHolder("Confirm password")
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
	s.remember = widget.NewCheck("Remember me", nil)
	s.remember.SetChecked(true)
	s.userErr, s.passErr, s.confErr, s.formErr = errorText(), errorText(), errorText(), errorText()
	s.keyring = wrapped("")
	s.keyring.Importance = widget.WarningImportance
	s.keyring.Hide()
	s.submit = widget.NewButton("Log in", s.onSubmit)
	s.submit.Importance = widget.HighImportance
	s.toggle = widget.NewButton("Don't have an account? Sign up", s.onToggle)
	s.toggle.Importance = widget.LowImportance
	s.demo = widget.NewButtonWithIcon("Try the demo", theme.MediaPlayIcon(), s.onDemo)
	s.demo.Importance = widget.LowImportance
	s.progress = widget.NewProgressBarInfinite()
	s.progress.Hide()
	s.server = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	s.server.Importance = widget.LowImportance
	s.prefill = true

	form := container.NewVBox(
		s.title, s.notice, s.saved,
		s.username, s.userErr,
		s.password, s.passErr,
		s.confirm, s.confErr,
		s.remember, s.keyring,
		s.formErr, s.progress, s.submit, s.toggle, s.demo,
		widget.NewSeparator(), s.server,
	)
	s.root = container.NewVScroll(column(container.NewPadded(form)))
	return s
}

func (s *signInScreen) firstField() fyne.Focusable {
	if s.username.Text != "" && s.password.Text == "" {
		return s.password
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
	} else if prev.State == app.StateSignedIn || prev.State == app.StateResetting {
		// Back from a session: fresh form.
		s.username.SetText(snap.PrefillUsername)
		s.password.SetText("")
		s.confirm.SetText("")
	}
	if s.signUp {
		s.title.SetText("Create your account")
		s.submit.SetText("Sign up")
		s.toggle.SetText("Have an account? Log in")
		s.confirm.Show()
	} else {
		s.title.SetText("Log in to Sessionguard")
		s.submit.SetText("Log in")
		s.toggle.SetText("Don't have an account? Sign up")
		s.confirm.Hide()
		s.confErr.Hide()
	}

	// The "you were logged out" notice.
	if n := snap.Notice; n != nil {
		s.notice.SetTitle("You were logged out")
		s.noticeTx.SetText(noticeText(n, nowFunc()))
	}
	setVisible(s.notice, snap.Notice != nil)

	s.renderSaved(snap)

	setErrorText(s.userErr, snap.FieldErrors["username"])
	setErrorText(s.passErr, snap.FieldErrors["password"])
	setErrorText(s.confErr, snap.FieldErrors["confirm"])
	msg := snap.Err
	if !snap.RetryAt.IsZero() {
		if wait := time.Until(snap.RetryAt).Round(time.Second); wait > 0 {
			msg += fmt.Sprintf(" (you can try again at %s)", snap.RetryAt.Local().Format("15:04:05"))
		}
	}
	setErrorText(s.formErr, msg)

	if !snap.CanRemember() {
		s.remember.SetChecked(false)
		s.keyring.SetText(snap.KeyringProblem)
	}
	setEnabled(snap.CanRemember(), s.remember)
	setVisible(s.keyring, !snap.CanRemember())

	busy := snap.Busy || snap.State == app.StateSigningIn
	setEnabled(!busy, s.username, s.password, s.confirm, s.submit, s.toggle)
	showProgress(s.progress, busy)
	setVisible(s.demo, s.ui.info.TryDemo != nil && s.ui.info.Embedded && !s.signUp)
	if s.ui.info.Embedded {
		s.server.SetText("Server: this device")
	} else {
		s.server.SetText("Server: " + s.ui.info.Server)
	}
	return s.root
}

func noticeText(n *app.RemoteLogout, now time.Time) string {
	switch {
	case n.Reason == api.ReasonExpired:
		return "Your session ended. Log in again to continue."
	case n.Reason == api.ReasonRefreshTokenReuse:
		return fmt.Sprintf("Your session was ended at %s because its sign-in token was used from somewhere else. If that wasn't you, change your password.", clock(n.At, now))
	case n.Reason == api.ReasonPasswordChanged:
		return fmt.Sprintf("Your password was changed at %s, which logged this device out.", clock(n.At, now))
	case n.Reason == api.ReasonReauthFailed:
		return fmt.Sprintf("This device was logged out at %s after too many wrong passwords in a row when confirming it was you. "+
			"If that wasn't you, someone else may have had this device: log in and change your password.", clock(n.At, now))
	case n.Reason == api.ReasonAdmin:
		return fmt.Sprintf("You were logged out by the server administrator at %s. Log in again to continue.", clock(n.At, now))
	case n.ByDeviceName != "":
		return fmt.Sprintf("You were logged out by %s at %s. If that wasn't you, log in and change your password.", n.ByDeviceName, clock(n.At, now))
	default:
		return fmt.Sprintf("This device was logged out at %s. If that wasn't you, log in and change your password.", clock(n.At, now))
	}
}

// renderSaved lists the "Continue as …" accounts.
func (s *signInScreen) renderSaved(snap app.Snapshot) {
	s.saved.RemoveAll()
	if len(snap.SavedAccounts) == 0 || s.signUp {
		s.saved.Hide()
		return
	}
	for _, sa := range snap.SavedAccounts {
		sa := sa
		cont := widget.NewButtonWithIcon("Continue as "+sa.Username, theme.AccountIcon(), func() { s.onContinue(sa) })
		cont.Importance = widget.HighImportance
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { s.onRemoveSaved(sa) })
		remove.Importance = widget.LowImportance
		setEnabled(!snap.Busy, cont, remove)
		s.saved.Add(container.NewBorder(nil, nil, nil, remove, cont))
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
	s.ui.run(func(ctx context.Context) error { return s.ui.core.ContinueAs(ctx, sa.AccountID, remember) }, nil)
}

func (s *signInScreen) onRemoveSaved(sa app.SavedAccount) {
	d := dialog.NewConfirm("Remove "+sa.Username+"?",
		"You will need the password to log in to "+sa.Username+" on this device again.",
		func(ok bool) {
			if ok {
				s.ui.run(func(ctx context.Context) error { return s.ui.core.RemoveSavedAccount(ctx, sa.AccountID) }, nil)
			}
		}, s.ui.win)
	d.SetConfirmText("Remove")
	s.ui.showDialog(d)
}
