package ui

import (
	"context"
	"fmt"
	"image/color"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// Placeholders of the Change password fields (tests find the fields by them).
const (
	hintCurrentPassword = "Current password"
	hintNewPassword     = "New password"
	hintConfirmPassword = "Confirm new password"
	hintTwoStepCode     = "Code from your authenticator app"
)

// strength is how hard a password looks to guess.
type strength int

const (
	strengthNone strength = iota // nothing typed
	strengthWeak
	strengthFair
	strengthStrong
)

func (s strength) String() string {
	return [...]string{"", "Weak", "Fair", "Strong"}[s]
}

// passwordStrength is a simple, advisory guess (the server's policy
// decides): shorter than the policy's minimum (api.PasswordMinLen, 8) is
// weak; otherwise one point per kind of
// character used (lower case, upper case, digits, others) and one more at
// 12 and at 16 characters; 2 points or fewer is weak, 3 fair, 4 or more
// strong. So a long passphrase is strong without symbols, and "Password1"
// is only fair.
func passwordStrength(pw string) strength {
	n := utf8.RuneCountInString(pw)
	switch {
	case n == 0:
		return strengthNone
	case n < api.PasswordMinLen:
		return strengthWeak
	}
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	score := 0
	for _, b := range []bool{lower, upper, digit, other, n >= 12, n >= 16} {
		if b {
			score++
		}
	}
	switch {
	case score <= 2:
		return strengthWeak
	case score == 3:
		return strengthFair
	}
	return strengthStrong
}

// passwordResult is what the person reads after a change.
func passwordResult(loggedOut int) string {
	if loggedOut <= 0 {
		return "Password changed."
	}
	return fmt.Sprintf("Password changed. %d %s logged out.", loggedOut, plural(loggedOut, "device was", "devices were"))
}

// passwordScreen is Change password.
type passwordScreen struct {
	ui                           *UI
	root                         fyne.CanvasObject
	current, next, confirm, code *dialogEntry
	errs                         map[string]*widget.Label // by field error key
	codeBox                      *fyne.Container
	meter                        *strengthBar
	meterText                    *widget.Label
	meterBox                     *fyne.Container
	logOut                       *keyCheck
	submit                       *keyButton
	progress                     *widget.ProgressBarInfinite
	result                       *widget.Label
}

func newPasswordScreen(u *UI) *passwordScreen {
	p := &passwordScreen{ui: u, errs: map[string]*widget.Label{}}
	// Escape in a field goes back, as it does elsewhere on the page.
	// Passwords with Fyne's own eye, which takes no focus: Tab goes from
	// one field to the next.
	field := func(hint, key string, secret bool) *dialogEntry {
		e := textEntry(hint, u.escape)
		if secret {
			e = secretEntry(hint, u.escape)
		}
		e.OnSubmitted = func(string) { p.onSubmit() }
		// A field put right loses its old error ("too common").
		e.OnChanged = func(t string) { dismissWhenTyped(u, key, t) }
		return e
	}
	p.current = field(hintCurrentPassword, "current", true)
	p.next = field(hintNewPassword, "new", true)
	p.confirm = field(hintConfirmPassword, "confirm", true)
	p.code = field(hintTwoStepCode, "code", false)
	for _, k := range []string{"current", "new", "confirm", "code"} {
		p.errs[k] = errorText()
	}
	p.meter = newStrengthBar()
	p.meterText = widget.NewLabel("")
	p.meterText.SizeName = theme.SizeNameCaptionText
	p.meterBox = container.NewBorder(nil, nil, nil, p.meterText, p.meter)
	p.meterBox.Hide()
	p.next.OnChanged = func(t string) {
		dismissWhenTyped(u, "new", t)
		p.showStrength()
	}
	p.codeBox = container.NewVBox(p.code, p.errs["code"])
	p.logOut = u.check("Log out of other devices", p.onSubmit)
	p.logOut.SetChecked(true)
	p.submit = u.button("Change password", nil, p.onSubmit)
	p.submit.Importance = widget.HighImportance
	var progress *fyne.Container
	p.progress, progress = u.anims.newBar()
	p.result = wrapped("")
	p.result.Importance = widget.SuccessImportance
	p.result.Hide()
	body := container.NewVBox(
		header("Change password", u.back, nil),
		wrapped(fmt.Sprintf("Choose a password you don't use anywhere else: at least %d characters; longer is better.", api.PasswordMinLen)),
		p.current, p.errs["current"],
		p.next, p.meterBox, p.errs["new"],
		p.confirm, p.errs["confirm"],
		p.codeBox,
		p.logOut,
		wrapped("Every other device will need the new password to log in again, and saved login info on them stops working."),
		p.submit, progress, p.result,
	)
	p.root = container.NewVScroll(column(container.NewPadded(body)))
	return p
}

// showStrength follows what is typed in the new password.
func (p *passwordScreen) showStrength() {
	st := passwordStrength(p.next.Text)
	if st == strengthNone {
		p.meterBox.Hide()
		return
	}
	p.meter.set(st)
	p.meterText.SetText("Strength: " + st.String())
	p.meterText.Importance = map[strength]widget.Importance{
		strengthWeak: widget.DangerImportance, strengthFair: widget.WarningImportance, strengthStrong: widget.SuccessImportance}[st]
	p.meterText.Refresh()
	p.meterBox.Show()
}

// open shows a fresh form.
func (p *passwordScreen) open() {
	for _, e := range []*dialogEntry{p.current, p.next, p.confirm, p.code} {
		e.SetText("")
	}
	p.logOut.SetChecked(true)
	p.result.Hide()
}

func (p *passwordScreen) update(s app.Snapshot) fyne.CanvasObject {
	for k, l := range p.errs {
		setErrorText(l, s.FieldErrors[k])
	}
	setVisible(p.codeBox, s.Account != nil && s.Account.MFAEnabled)
	p.ui.animatePage(p.root, "password change", p.progress, s.Busy && s.Task == app.TaskChangePassword)
	setEnabled(!s.Offline && !s.Busy, p.submit)
	return p.root
}

func (p *passwordScreen) onSubmit() {
	if p.submit.Disabled() {
		return
	}
	cur, next, confirm, code, logOut := p.current.Text, p.next.Text, p.confirm.Text, p.code.Text, p.logOut.Checked
	p.submit.Disable() // until the core's snapshot says how it went
	p.result.Hide()
	var n int
	p.ui.run(func(ctx context.Context) error {
		var err error
		n, err = p.ui.core.ChangePassword(ctx, cur, next, confirm, code, logOut)
		return err
	}, func(err error) {
		if err == nil {
			p.open()
			p.result.SetText(passwordResult(n))
			p.result.Show()
		}
	})
}

// forget clears every typed password and the last result.
func (p *passwordScreen) forget() {
	for _, e := range []*dialogEntry{p.current, p.next, p.confirm, p.code} {
		e.SetText("")
	}
	p.result.SetText("")
}

// strengthBar is a thin gauge under the new password, filled as far as
// its strength goes, in its colour (red, orange, green): it reads as a
// measure, not as a button or a progress bar.
type strengthBar struct {
	widget.BaseWidget
	level strength
}

// strengthBarHeight is the gauge's thickness.
const strengthBarHeight = 6

func newStrengthBar() *strengthBar {
	b := &strengthBar{}
	b.ExtendBaseWidget(b)
	return b
}

// set shows strength st.
func (b *strengthBar) set(st strength) {
	b.level = st
	b.Refresh()
}

// CreateRenderer draws a track and its filled part.
func (b *strengthBar) CreateRenderer() fyne.WidgetRenderer {
	r := &strengthBarRenderer{bar: b, track: canvas.NewRectangle(color.Transparent), fill: canvas.NewRectangle(color.Transparent)}
	r.Refresh()
	return r
}

type strengthBarRenderer struct {
	bar         *strengthBar
	track, fill *canvas.Rectangle
}

func (r *strengthBarRenderer) Layout(size fyne.Size) {
	y := (size.Height - strengthBarHeight) / 2
	r.track.Move(fyne.NewPos(0, y))
	r.track.Resize(fyne.NewSize(size.Width, strengthBarHeight))
	r.fill.Move(fyne.NewPos(0, y))
	r.fill.Resize(fyne.NewSize(size.Width*float32(r.bar.level)/float32(strengthStrong), strengthBarHeight))
}

func (r *strengthBarRenderer) MinSize() fyne.Size { return fyne.NewSize(48, strengthBarHeight) }

func (r *strengthBarRenderer) Refresh() {
	r.track.FillColor = theme.Color(theme.ColorNameInputBorder)
	r.fill.FillColor = theme.Color(map[strength]fyne.ThemeColorName{
		strengthWeak: theme.ColorNameError, strengthFair: theme.ColorNameWarning, strengthStrong: theme.ColorNameSuccess}[r.bar.level])
	r.track.CornerRadius, r.fill.CornerRadius = strengthBarHeight/2, strengthBarHeight/2
	r.Layout(r.bar.Size())
	r.track.Refresh()
	r.fill.Refresh()
}

func (r *strengthBarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.track, r.fill}
}
func (r *strengthBarRenderer) Destroy() {}
