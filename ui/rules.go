package ui

// Device rules (issue 16): the account's "Log out inactive devices"
// setting (its own page, opened from Settings), a device's own "Log out
// if unused for …" (in its details), and the words both use.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// ruleWords is a rule's length as a person says it: "1 day", "3 days",
// "1 week", "1 month" (30 days), "3 months", "1 year" (365 days), and
// hours or minutes for the short ones a server may allow.
func ruleWords(d time.Duration) string {
	units := []struct {
		size      time.Duration
		one, many string
	}{
		{365 * app.Day, "year", "years"},
		{30 * app.Day, "month", "months"},
		{7 * app.Day, "week", "weeks"},
		{app.Day, "day", "days"},
		{time.Hour, "hour", "hours"},
		{time.Minute, "minute", "minutes"},
	}
	for _, u := range units {
		if d >= u.size && d%u.size == 0 {
			n := int(d / u.size)
			return fmt.Sprintf("%d %s", n, plural(n, u.one, u.many))
		}
	}
	if d >= app.Day { // not a whole number of any unit: days, rounded
		n := int((d + app.Day/2) / app.Day)
		return fmt.Sprintf("%d %s", n, plural(n, "day", "days"))
	}
	n := max(int(d.Round(time.Minute)/time.Minute), 1)
	return fmt.Sprintf("%d %s", n, plural(n, "minute", "minutes"))
}

// inactivityLabel is the account's rule as Settings shows it: "Never",
// "After 1 month".
func inactivityLabel(d time.Duration) string {
	if d <= 0 {
		return "Never"
	}
	return "After " + ruleWords(d)
}

// deviceRuleLabel is a device's own rule as its choice shows it: "Never",
// "1 week".
func deviceRuleLabel(d time.Duration) string {
	if d <= 0 {
		return "Never"
	}
	return ruleWords(d)
}

// ruleLine is a device's rule as its row and details say it: "Logs out
// after 1 week unused" ("" without a rule).
func ruleLine(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return "Logs out after " + ruleWords(d) + " unused"
}

// effectiveRule is the rule that ends session s: the stricter of its own
// and the account's when the account's settings are known, else its own.
func effectiveRule(s api.Session, snap app.Snapshot) time.Duration {
	own := app.SessionRule(s)
	if snap.Settings == nil {
		return own
	}
	return app.Rule(own, app.AccountRule(*snap.Settings))
}

// deviceNames lists names for a sentence: "Hotel lobby PC, iPad", and
// past five "…, and 3 more".
func deviceNames(list []api.Session) string {
	const shown = 5
	names := make([]string, 0, min(len(list), shown))
	for i, s := range list {
		if i == shown {
			break
		}
		names = append(names, s.Device.Name)
	}
	out := strings.Join(names, ", ")
	if n := len(list) - shown; n > 0 {
		out += fmt.Sprintf(", and %d more", n)
	}
	return out
}

// unusedPreview says which devices rule would log out next, from the
// devices loaded (partial: more pages exist, the least recently active):
// "2 devices haven't been used for 3 months: Hotel lobby PC, iPad".
// changing says the rule is not yet the account's: saving it logs them
// out.
func unusedPreview(devices []api.Session, rule time.Duration, now time.Time, partial, changing bool) string {
	if rule <= 0 {
		return "Devices stay logged in however long they go unused, until their login ends or you log them out."
	}
	unused := app.UnusedFor(devices, rule, now)
	n := len(unused)
	if n == 0 {
		if partial {
			return "None of the devices shown in Login activity has been unused that long."
		}
		return "No device has been unused that long."
	}
	lead := ""
	if partial {
		lead = "At least "
	}
	msg := fmt.Sprintf("%s%d %s been used for %s: %s.", lead, n, plural(n, "device hasn't", "devices haven't"), ruleWords(rule), deviceNames(unused))
	if changing {
		msg += " " + plural(n, "It is", "They are") + " logged out within a minute of saving."
	}
	return msg
}

// ---------------------------------------------------------------- Settings

// inactivityScreen is Settings → Log out inactive devices: the choices
// (InactivityChoices) as a list of radio buttons, the devices the chosen
// one would log out next, and Save, which may ask for the password (the
// reauth dialog finishes it).
type inactivityScreen struct {
	ui      *UI
	root    fyne.CanvasObject
	status  *widget.Label // the current setting, or why it is unknown
	choices []*keyButton  // one per app.InactivityChoices
	preview *widget.Label
	problem *widget.Label
	save    *keyButton
	busy    *widget.ProgressBarInfinite

	chosen  time.Duration
	picked  bool   // the person picked chosen (else it follows the setting)
	loadErr string // why the setting could not be read ("" when it could)
	// saving says savingTo is being saved; waiting, that the save waits
	// for the password (then it ends when nothing is pending or running).
	saving   bool
	savingTo time.Duration
	waiting  bool
}

func newInactivityScreen(u *UI) *inactivityScreen {
	p := &inactivityScreen{ui: u}
	p.status = wrapped("")
	p.status.Importance = widget.LowImportance
	about := wrapped("Devices of your account that nobody uses for this long are logged out automatically, this one included. " +
		"A device can have a shorter rule of its own: choose it in its details in Login activity.")
	list := container.NewVBox()
	for _, d := range app.InactivityChoices {
		b := u.button(inactivityLabel(d), theme.RadioButtonIcon(), func() { p.pick(d) })
		b.Alignment = widget.ButtonAlignLeading
		b.Importance = widget.LowImportance
		p.choices = append(p.choices, b)
		list.Add(b)
	}
	p.preview = wrapped("")
	p.problem = errorText()
	p.save = u.button("Save", nil, p.onSave)
	p.save.Importance = widget.HighImportance
	var busy *fyne.Container
	p.busy, busy = u.anims.newBar()
	body := container.NewVBox(
		header("Log out inactive devices", u.back, nil),
		about, p.status, list, widget.NewSeparator(), p.preview, p.problem, p.save, busy,
	)
	p.root = container.NewVScroll(column(container.NewPadded(body)))
	return p
}

// open starts afresh from the account's setting, and reads it (and the
// devices, for the preview) from the server.
func (p *inactivityScreen) open() {
	p.picked, p.saving, p.waiting, p.loadErr = false, false, false, ""
	setErrorText(p.problem, "")
	p.ui.loadSettings(func(err error) {
		if err != nil {
			p.loadErr = app.Describe(err)
		}
		p.ui.redraw()
	})
	p.ui.run(p.ui.core.LoadDevices, nil)
}

// pick chooses d (not saved yet).
func (p *inactivityScreen) pick(d time.Duration) {
	p.chosen, p.picked = d, true
	setErrorText(p.problem, "")
	p.ui.core.DismissFieldError(settingsField)
	p.ui.redraw()
}

// settingsField is the field PUT /v1/settings names when it refuses the rule.
const settingsField = "auto_logout_inactive_after_s"

// firstChoice is the field focused when the page opens: the choice
// selected, else the first.
func (p *inactivityScreen) firstChoice() fyne.Focusable {
	for i, d := range app.InactivityChoices {
		if d == p.chosen {
			return p.choices[i]
		}
	}
	return p.choices[0]
}

func (p *inactivityScreen) update(s app.Snapshot) fyne.CanvasObject {
	p.follow(s)
	known := s.Settings != nil
	current := time.Duration(0)
	if known {
		current = app.AccountRule(*s.Settings)
		if !p.picked {
			p.chosen = current
		}
	}
	switch {
	case known && s.Offline:
		p.status.SetText("Last known: " + inactivityLabel(current) + ". Offline: changing it needs the server.")
	case known:
		p.status.SetText("Now: " + inactivityLabel(current) + ".")
	case s.Offline:
		p.status.SetText("Offline: the current setting is unknown. Changing it needs the server.")
	case p.loadErr != "":
		p.status.SetText("The current setting couldn't be read: " + p.loadErr)
	default:
		p.status.SetText("Reading the current setting…")
	}
	for i, d := range app.InactivityChoices {
		icon := theme.RadioButtonIcon()
		if (known || p.picked) && d == p.chosen {
			icon = theme.RadioButtonCheckedIcon()
		}
		if b := p.choices[i]; b.Icon == nil || b.Icon.Name() != icon.Name() {
			p.choices[i].SetIcon(icon)
		}
	}
	if known || p.picked {
		p.preview.SetText(unusedPreview(s.Devices, p.chosen, nowFunc(), s.DevicesCursor != "", !known || p.chosen != current))
	} else {
		p.preview.SetText("")
	}
	setVisible(p.preview, p.preview.Text != "")
	if msg := s.FieldErrors[settingsField]; msg != "" {
		setErrorText(p.problem, msg)
	}
	changed := p.picked && (!known || p.chosen != current)
	setEnabled(changed && !s.Offline && !s.Busy && !p.saving, p.save)
	p.ui.animatePage(p.root, "inactivity rule save", p.busy, p.saving && s.Busy)
	return p.root
}

// follow ends a save that waited for the password: once nothing waits
// and nothing runs, it was saved (the setting is the choice), cancelled,
// or refused (the error shows).
func (p *inactivityScreen) follow(s app.Snapshot) {
	if !p.saving || !p.waiting || s.Pending != nil || s.Busy {
		return
	}
	p.saving, p.waiting = false, false
	if s.Settings != nil && app.AccountRule(*s.Settings) == p.savingTo {
		p.saved()
		return
	}
	setErrorText(p.problem, firstNonEmpty(s.FieldErrors[settingsField], s.Err))
}

// saved goes back to Settings, whose row shows the new setting.
func (p *inactivityScreen) saved() {
	p.picked = false
	u := p.ui
	u.onUI(func() {
		if u.page == pageInactivity {
			u.back()
		}
	})
}

func (p *inactivityScreen) onSave() {
	d := p.chosen
	p.saving, p.savingTo, p.waiting = true, d, false
	setErrorText(p.problem, "")
	u := p.ui
	u.run(func(ctx context.Context) error { return u.core.SetAutoLogout(ctx, d) }, func(err error) {
		switch {
		case err == nil:
			p.saving = false
			p.saved()
		case errors.Is(err, app.ErrReauthRequired):
			p.waiting = true // the reauth dialog carries on; follow ends it
		default:
			p.saving = false
			snap := u.src.Snapshot()
			setErrorText(p.problem, firstNonEmpty(snap.FieldErrors[settingsField], snap.Err, app.Describe(err)))
		}
		u.redraw()
	})
	u.redraw()
}

// loadSettings reads the account's settings off the UI goroutine; done,
// if set, gets the error on it.
func (u *UI) loadSettings(done func(error)) {
	if !u.signedIn() {
		return
	}
	u.run(u.core.LoadSettings, done)
}

// openInactivity goes to Log out inactive devices.
func (u *UI) openInactivity() {
	if !u.signedIn() {
		return
	}
	u.inactivity.open()
	u.show(pageInactivity)
	u.focus(u.inactivity.firstChoice())
}

// settingValue is what the Settings row "Log out inactive devices" shows:
// the setting, or "Unknown" when it could not be read.
func settingValue(s app.Snapshot, loadFailed bool) string {
	switch {
	case s.Settings != nil:
		return inactivityLabel(app.AccountRule(*s.Settings))
	case s.Offline || loadFailed:
		return "Unknown"
	}
	return "…"
}

// ---------------------------------------------------------------- a device

// ruleChoices are the choices of a device's own rule: app.DeviceRuleChoices,
// and its present rule when it is none of them (set elsewhere).
func ruleChoices(own time.Duration) []time.Duration {
	out := append([]time.Duration(nil), app.DeviceRuleChoices...)
	if slices.Contains(out, own) {
		return out
	}
	i := slices.IndexFunc(out, func(d time.Duration) bool { return d > own })
	if i < 0 {
		return append(out, own)
	}
	return slices.Insert(out, i, own)
}

// deviceRule is the part of a device's details that sets its own rule:
// "Log out if unused for [1 week]", what ends it (its rule or the
// account's, the stricter), and the server's refusal under it.
type deviceRule struct {
	ui      *UI
	root    fyne.CanvasObject
	choose  *keySelect
	note    *widget.Label
	problem *widget.Label
	id      string          // the session shown
	values  []time.Duration // the choices, as choose.Options
	setting bool            // choose is being set to the device's rule: not a choice
	// changing is the session whose new rule is being saved: its choice
	// stays on screen until the server answers.
	changing string
	tried    time.Duration // the rule last chosen, which the server may refuse
}

func newDeviceRule(u *UI) *deviceRule {
	r := &deviceRule{ui: u}
	r.choose = newKeySelect(r.onChoose, u.escape)
	r.note = wrapped("")
	r.note.Importance = widget.LowImportance
	r.problem = errorText()
	label := widget.NewLabel("Log out if unused for")
	r.root = container.NewVBox(container.NewBorder(nil, nil, label, nil, r.choose), r.note, r.problem)
	return r
}

// update shows the rule of session s.
func (r *deviceRule) update(snap app.Snapshot, s api.Session) {
	if r.id != s.ID {
		setErrorText(r.problem, "")
	}
	r.id = s.ID
	own := app.SessionRule(s)
	r.values = ruleChoices(own)
	opts := make([]string, len(r.values))
	for i, d := range r.values {
		opts[i] = deviceRuleLabel(d)
	}
	if r.changing != s.ID {
		r.setting = true
		if !slices.Equal(r.choose.Options, opts) {
			r.choose.SetOptions(opts)
		}
		if r.choose.Selected != deviceRuleLabel(own) {
			r.choose.SetSelected(deviceRuleLabel(own))
		}
		r.setting = false
	}
	r.note.SetText(ruleNote(snap, s))
	setVisible(r.note, r.note.Text != "")
	if msg := snap.FieldErrors["idle_timeout"]; msg != "" && r.ui.ruleFor == s.ID {
		setErrorText(r.problem, ruleRefusal(msg, s.Device.Name, r.tried))
	} else {
		setErrorText(r.problem, "")
	}
	setEnabled(!snap.Offline && !snap.Busy, r.choose)
}

// ruleRefusal words the server's refusal of rule d for device ("idle_timeout_s
// must be at most 43200 (12 hours), this session's lifetime.") for a
// person; msg as it is when it says something else.
func ruleRefusal(msg, device string, d time.Duration) string {
	i := strings.Index(msg, "(")
	j := strings.Index(msg[max(i, 0):], ")")
	if i < 0 || j < 0 {
		return msg
	}
	limit, low := msg[i+1:i+j], strings.ToLower(msg)
	switch {
	case strings.Contains(low, "lifetime") && d > 0:
		return fmt.Sprintf("%s stays logged in for only %s, less than %s: it logs out before such a rule could apply.", device, limit, ruleWords(d))
	case strings.Contains(low, "at least"):
		return "The shortest rule this server allows is " + limit + "."
	case strings.Contains(low, "at most"):
		return "The longest rule this server allows is " + limit + "."
	}
	return msg
}

// ruleNote says what logs device s out: "Logs out after 1 week unused.",
// with why when the account's rule is the stricter one ("" when nothing
// does, as far as is known).
func ruleNote(snap app.Snapshot, s api.Session) string {
	own, rule := app.SessionRule(s), effectiveRule(s, snap)
	switch {
	case rule <= 0:
		return ""
	case own <= 0 || rule < own:
		return ruleLine(rule) + ": your account logs out every device unused that long (Settings → Log out inactive devices)."
	}
	return ruleLine(rule) + "."
}

// onChoose sets the device's rule to the choice made.
func (r *deviceRule) onChoose(string) {
	i := r.choose.SelectedIndex()
	if r.setting || i < 0 || i >= len(r.values) {
		return
	}
	d, id := r.values[i], r.id
	u := r.ui
	u.ruleFor, r.changing, r.tried = id, id, d
	setErrorText(r.problem, "")
	u.core.DismissFieldError("idle_timeout")
	u.run(func(ctx context.Context) error { return u.core.SetDeviceRule(ctx, id, d) }, func(error) {
		r.changing = ""
		u.redraw()
	})
}

// keySelect is a Select that passes Escape on and opens its choices on
// Enter, as Space does.
type keySelect struct {
	widget.Select
	onEscape func()
}

func newKeySelect(changed func(string), onEscape func()) *keySelect {
	s := &keySelect{onEscape: onEscape}
	s.OnChanged = changed
	s.ExtendBaseWidget(s)
	return s
}

// TypedKey opens the choices on Enter, passes Escape on, and leaves the
// rest to the Select.
func (s *keySelect) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		s.Select.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	case fyne.KeyEscape:
		if s.onEscape != nil {
			s.onEscape()
		}
	default:
		s.Select.TypedKey(ev)
	}
}
