package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"sessionguard/api"
	"sessionguard/app"
)

// hintSetupCode is the placeholder of the code field when turning two-step on.
const hintSetupCode = "6-digit code"

// qrPNG renders an otpauth:// URI as a QR code PNG for authenticator apps.
func qrPNG(uri string) ([]byte, error) {
	return qrcode.Encode(uri, qrcode.Medium, 512)
}

// recoveryCodesText is the recovery codes as saved to a file or copied.
func recoveryCodesText(username string, codes []string) string {
	var b strings.Builder
	b.WriteString("Sessionguard recovery codes")
	if username != "" {
		b.WriteString(" for " + username)
	}
	b.WriteString("\n\nEach code works once, in place of the code from your authenticator app.\nKeep them somewhere safe.\n\n")
	for _, c := range codes {
		b.WriteString(c + "\n")
	}
	return b.String()
}

// writeRecoveryCodes is the save dialog's callback: it writes text to the
// chosen file. A nil writer (cancelled) is not an error.
func writeRecoveryCodes(w fyne.URIWriteCloser, err error, text string) (saved bool, _ error) {
	if err != nil {
		return false, err
	}
	if w == nil {
		return false, nil
	}
	_, werr := io.WriteString(w, text)
	cerr := w.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return false, err
	}
	return true, nil
}

// twoStepMode is which part of the two-step page shows.
type twoStepMode int

const (
	twoStepStatus twoStepMode = iota // On/Off with Turn on / Turn off
	twoStepSetup                     // QR code, secret, code to confirm
	twoStepCodes                     // the recovery codes, once
)

// twoStepScreen is Two-step verification. The secret and the recovery
// codes are not in the snapshot: the page asks the core for them when the
// stage of turning two-step on (Snapshot.TwoStep) moves on, and holds them
// only in the widgets that show them.
type twoStepScreen struct {
	ui      *UI
	root    fyne.CanvasObject
	status  *widget.Label
	about   *widget.Label
	turnOn  *keyButton
	turnOff *keyButton
	busy    *widget.ProgressBarInfinite
	// recovery codes left, and making new ones (while on)
	codesLeft *widget.Label
	newCodes  *keyButton

	// setup
	setupBox *fyne.Container
	qr       *canvas.Image
	secret   *widget.Label
	code     *dialogEntry
	codeErr  *widget.Label
	confirm  *keyButton

	// recovery codes
	codesBox  *fyne.Container
	codesText *widget.Label
	copyCodes *keyButton

	// focusNext gets the focus once the part of the page it is in shows.
	focusNext fyne.Focusable
}

func newTwoStepScreen(u *UI) *twoStepScreen {
	t := &twoStepScreen{ui: u}
	t.status = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.about = wrapped("")
	t.turnOn = u.button("Turn on", nil, t.onTurnOn)
	t.turnOn.Importance = widget.HighImportance
	t.turnOff = u.button("Turn off", nil, t.onTurnOff)
	t.turnOff.Importance = widget.DangerImportance
	t.codesLeft = wrapped("")
	t.newCodes = u.button("Make new recovery codes", theme.ViewRefreshIcon(), t.onNewCodes)
	var busy *fyne.Container
	t.busy, busy = u.anims.newBar()

	t.qr = canvas.NewImageFromResource(nil)
	t.qr.FillMode = canvas.ImageFillContain
	t.qr.SetMinSize(fyne.NewSize(200, 200))
	t.secret = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	t.secret.Selectable = true
	t.secret.Wrapping = fyne.TextWrapBreak
	copySecret := u.button("Copy", theme.ContentCopyIcon(), func() {
		t.copyText(t.ui.core.TwoStepSetup().Secret, "Key copied.")
	})
	t.code = newDialogEntry(false, u.escape)
	t.code.SetPlaceHolder(hintSetupCode)
	t.code.OnSubmitted = func(string) { t.onConfirm() }
	t.code.OnChanged = func(text string) { dismissWhenTyped(u, "code", text) }
	t.codeErr = errorText()
	t.confirm = u.button("Confirm", nil, t.onConfirm)
	t.confirm.Importance = widget.HighImportance
	cancel := u.button("Cancel", nil, t.end)
	t.setupBox = container.NewVBox(
		wrapped("1. Scan this QR code with an authenticator app (Google Authenticator, Authy, 1Password, …)."),
		container.NewCenter(t.qr),
		wrapped("Or enter this key in the app:"),
		container.NewBorder(nil, nil, nil, copySecret, t.secret),
		wrapped("2. Enter the 6-digit code the app shows."),
		t.code, t.codeErr,
		container.NewHBox(cancel, t.confirm),
	)

	t.codesText = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	t.codesText.Selectable = true
	t.copyCodes = u.button("Copy", theme.ContentCopyIcon(), func() {
		t.copyText(strings.Join(t.ui.core.RecoveryCodes(), "\n"), "Recovery codes copied.")
	})
	save := u.button("Save to file…", theme.DocumentSaveIcon(), t.onSave)
	done := u.button("Done", nil, t.end)
	done.Importance = widget.HighImportance
	keep := wrapped("Keep these recovery codes somewhere safe, away from this device. If you lose your phone, each code lets you log in once instead of a code from the app. They won't be shown again.")
	keep.Importance = widget.WarningImportance
	t.codesBox = container.NewVBox(
		widget.NewLabelWithStyle("Your recovery codes", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		keep, t.codesText, container.NewHBox(t.copyCodes, save), done,
	)

	body := container.NewVBox(
		header("Two-step verification", u.back, nil),
		t.status, t.about, t.turnOn, t.codesLeft, t.newCodes, t.turnOff, busy, t.setupBox, t.codesBox,
	)
	t.root = container.NewVScroll(column(container.NewPadded(body)))
	return t
}

// showing is the part of the page drawn: the setup while its key shows,
// the recovery codes while they show, else the status.
func (t *twoStepScreen) showing() twoStepMode {
	switch {
	case t.secret.Text != "":
		return twoStepSetup
	case t.codesText.Text != "":
		return twoStepCodes
	}
	return twoStepStatus
}

// end finishes the setup (Cancel) or the recovery codes (Done).
func (t *twoStepScreen) end() {
	t.ui.core.EndTwoStep()
	t.ui.redraw()
}

// follow draws the part of the page for the core's stage of turning
// two-step on, fetching the secret or the recovery codes from the core when
// the stage moves on.
func (t *twoStepScreen) follow(stage app.TwoStepStage) {
	switch stage {
	case app.TwoStepScanning:
		if t.showing() == twoStepSetup {
			return
		}
		setup := t.ui.core.TwoStepSetup()
		if setup.Secret == "" { // the core moved on meanwhile
			return
		}
		if err := t.showSetup(setup); err != nil {
			t.ui.showDialog(dialog.NewError(err, t.ui.win))
			t.ui.core.EndTwoStep() // once: back to Turn on
		}
	case app.TwoStepShowingCodes:
		if t.showing() == twoStepCodes {
			return
		}
		if codes := t.ui.core.RecoveryCodes(); len(codes) > 0 {
			t.showCodes(codes)
		}
	default:
		if t.showing() != twoStepStatus {
			t.forget()
		}
	}
}

func (t *twoStepScreen) update(s app.Snapshot) fyne.CanvasObject {
	t.follow(s.TwoStep)
	on := s.Account != nil && s.Account.MFAEnabled
	if on {
		t.status.SetText("Two-step verification: On")
		t.about.SetText("Logging in on a new device needs your password and a code from your authenticator app (or a recovery code).")
	} else {
		t.status.SetText("Two-step verification: Off")
		t.about.SetText("Add a second step to logging in: a code from an authenticator app on your phone. Someone who learns your password still can't log in.")
	}
	mode := t.showing()
	setVisible(t.turnOn, mode == twoStepStatus && !on)
	setVisible(t.turnOff, mode == twoStepStatus && on)
	setVisible(t.newCodes, mode == twoStepStatus && on)
	t.codesLeft.SetText(codesLeftText(s.RecoveryCodesLeft))
	t.codesLeft.Importance = widget.MediumImportance
	if s.RecoveryCodesLeft <= 3 {
		t.codesLeft.Importance = widget.WarningImportance
	}
	t.codesLeft.Refresh()
	setVisible(t.codesLeft, mode == twoStepStatus && on && s.RecoveryCodesKnown)
	setVisible(t.setupBox, mode == twoStepSetup)
	setVisible(t.codesBox, mode == twoStepCodes)
	t.ui.animatePage(t.root, "two-step", t.busy, s.Busy && s.Task == app.TaskTwoStep)
	setErrorText(t.codeErr, s.FieldErrors["code"])
	setEnabled(!s.Busy && !s.Offline, t.turnOn, t.turnOff, t.confirm, t.newCodes)
	if t.focusNext != nil {
		t.ui.focus(t.focusNext)
		t.focusNext = nil
	}
	return t.root
}

// onTurnOn starts the setup. The page follows the core's stage (see
// follow), also when the server first asks for the password and the core
// carries on afterwards.
func (t *twoStepScreen) onTurnOn() {
	t.turnOn.Disable() // until the core's snapshot says it runs
	t.ui.run(func(ctx context.Context) error {
		_, err := t.ui.core.StartTwoStep(ctx)
		return err
	}, nil)
}

// showSetup draws the QR code and key of setup.
func (t *twoStepScreen) showSetup(setup api.TOTPSetupResponse) error {
	png, err := qrPNG(setup.OTPAuthURI)
	if err != nil {
		return fmt.Errorf("couldn't draw the QR code: %w", err)
	}
	t.qr.Resource = fyne.NewStaticResource("qr.png", png)
	t.qr.Refresh()
	t.secret.SetText(setup.Secret)
	t.code.SetText("")
	t.focusNext = t.code // scan, then type the code
	return nil
}

// onConfirm confirms the setup with the code typed (Confirm, or Enter in
// the code field).
func (t *twoStepScreen) onConfirm() {
	if t.confirm.Disabled() || t.showing() != twoStepSetup {
		return
	}
	code := t.code.Text
	t.confirm.Disable() // until the core's snapshot says it runs
	t.ui.run(func(ctx context.Context) error {
		_, err := t.ui.core.ConfirmTwoStep(ctx, code)
		return err
	}, func(err error) {
		if err != nil && !errors.Is(err, app.ErrReauthRequired) {
			t.code.SetText("") // a wrong code; asked for the password, the code is used after it
		}
	})
}

// showCodes draws the recovery codes, shown once.
func (t *twoStepScreen) showCodes(codes []string) {
	t.codesText.SetText(strings.Join(codes, "\n"))
	t.qr.Resource = nil
	t.qr.Refresh()
	t.secret.SetText("")
	t.code.SetText("")
	t.focusNext = t.copyCodes // the page changed under the focus: Copy, then Save, then Done
}

func (t *twoStepScreen) onTurnOff() {
	msg := "Logging in will need only your password again. Your recovery codes stop working. You'll be asked for your password to confirm."
	t.ui.confirmAction("Turn off two-step verification?", "Turn off", msg, func(ctx context.Context) error {
		return t.ui.core.TurnOffTwoStep(ctx)
	}, nil)
}

// copyText puts s on the clipboard and says so (done) in a transient note.
func (t *twoStepScreen) copyText(s, done string) {
	fyne.CurrentApp().Clipboard().SetContent(s)
	t.ui.showNote(done)
}

// codesLeftText is "8 recovery codes left", in words for any count.
func codesLeftText(n int) string {
	switch {
	case n <= 0:
		return "No recovery codes left. Make new ones, so that you can still log in without your phone."
	case n == 1:
		return "Only 1 recovery code left. Make new ones before you run out."
	case n <= 3:
		return fmt.Sprintf("Only %d recovery codes left. Make new ones before you run out.", n)
	}
	return fmt.Sprintf("%d recovery codes left, each for one log-in without your phone.", n)
}

// onNewCodes makes new recovery codes, after asking: the old ones stop
// working. The server may ask for the password first (the password
// dialog), and the page then shows the new codes as at setup.
func (t *twoStepScreen) onNewCodes() {
	msg := "You'll get 10 new recovery codes, and every code you have now stops working. You may be asked for your password."
	t.ui.showDialog(t.ui.confirmDialog("Make new recovery codes?", "Make new codes", false, wrapped(msg), func(ok bool) {
		if ok {
			t.ui.run(func(ctx context.Context) error {
				_, err := t.ui.core.NewRecoveryCodes(ctx)
				return err
			}, nil)
		}
	}))
}

func (t *twoStepScreen) onSave() {
	username := ""
	if a := t.ui.snap.Account; a != nil {
		username = a.Username
	}
	text := recoveryCodesText(username, t.ui.core.RecoveryCodes())
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		saved, err := writeRecoveryCodes(w, err, text)
		switch {
		case err != nil:
			t.ui.showDialog(dialog.NewError(fmt.Errorf("the recovery codes were not saved: %w", err), t.ui.win))
		case saved:
			t.ui.showNote("Recovery codes saved to " + w.URI().Name() + ".")
		}
	}, t.ui.win)
	d.SetFileName("sessionguard-recovery-codes.txt")
	d.Show()
}

// forget drops the secret, the recovery codes and any typed code.
func (t *twoStepScreen) forget() {
	t.qr.Resource = nil
	t.qr.Refresh()
	t.secret.SetText("")
	t.codesText.SetText("")
	t.code.SetText("")
}
