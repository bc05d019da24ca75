package ui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
	"sessionguard/client"
)

// serverScreen is the choice of where the account lives: at first run,
// after "clear app data", and from the sign-in screen ("Change server").
// An address is taken only once a Sessionguard server answers there.
type serverScreen struct {
	ui       *UI
	root     fyne.CanvasObject
	choice   *widget.RadioGroup
	address  *dialogEntry
	err      *widget.Label
	suggest  *keyButton // "Use https://…", the address meant
	cont     *keyButton
	back     *keyButton
	checking *widget.ProgressBarInfinite
	// busy says a server is being checked (the bar runs).
	busy bool
	// first is true at first run (and after clearing app data): there is
	// no server to go back to.
	first bool
}

const (
	choiceThisDevice = "This device (no server needed)"
	choiceRemote     = "A Sessionguard server"
	hintServer       = "https://sessions.example.com"
)

func newServerScreen(u *UI) *serverScreen {
	s := &serverScreen{ui: u, err: errorText()}
	s.address = textEntry(hintServer, u.escape)
	s.address.OnSubmitted = func(string) { s.onContinue() }
	s.address.OnChanged = func(string) { s.showProblem("", "") }
	s.suggest = u.button("", nil, s.onSuggestion)
	s.suggest.Hide()
	choices := []string{choiceThisDevice, choiceRemote}
	if inBrowser { // a browser has no server of its own
		choices = []string{choiceRemote}
	}
	s.choice = widget.NewRadioGroup(choices, s.onChoice)
	s.choice.Required = true
	s.choice.SetSelected(choices[0])
	s.cont = u.button("Continue", nil, s.onContinue)
	s.cont.Importance = widget.HighImportance
	s.back = u.button("Back to log in", theme.NavigateBackIcon(), u.closeServerChoice)
	s.back.Importance = widget.LowImportance
	var checking *fyne.Container
	s.checking, checking = u.anims.newBar()
	s.root = container.NewVScroll(column(container.NewPadded(container.NewVBox(heading("Where is your account?"),
		wrapped("Sessionguard can keep your account on this device, or connect to your organisation's server."),
		s.choice, s.address, s.err, s.suggest, checking, s.cont, s.back))))
	return s
}

// open shows the choice afresh: first (first run) without a way back,
// else with the server in use chosen.
func (s *serverScreen) open(first bool) {
	s.first = first
	in := s.ui.serverInfo()
	if !first && !in.Embedded && in.Server != "" {
		s.choice.SetSelected(choiceRemote)
		s.address.SetText(in.Server)
	} else {
		s.choice.SetSelected(s.choice.Options[0])
		s.address.SetText("")
	}
	s.showProblem("", "")
	setVisible(s.back, !first)
	s.cont.Enable()
	s.setBusy(false)
}

// firstField is what has the focus when the screen shows: the address
// when a server is chosen, else Continue (Enter takes this device).
func (s *serverScreen) firstField() fyne.Focusable {
	if s.choice.Selected == choiceRemote {
		return s.address
	}
	return s.cont
}

func (s *serverScreen) update(app.Snapshot) fyne.CanvasObject {
	s.setBusy(s.busy) // shown again while a check runs: the bar runs again
	return s.root
}

// setBusy runs the progress bar while a server is checked (on).
func (s *serverScreen) setBusy(on bool) {
	s.busy = on
	s.ui.animate(s.root, "server check", s.checking, on)
}

func (s *serverScreen) onChoice(v string) {
	if v == choiceRemote {
		s.address.Enable()
		s.ui.win.Canvas().Focus(s.address)
	} else {
		s.address.Disable()
	}
	s.showProblem("", "")
}

// showProblem shows what is wrong with the address (msg, empty: nothing)
// and, when there is one, the address probably meant.
func (s *serverScreen) showProblem(msg, suggestion string) {
	setErrorText(s.err, msg)
	if suggestion != "" {
		s.suggest.SetText("Use " + suggestion)
	}
	setVisible(s.suggest, suggestion != "")
}

// onSuggestion takes the address suggested, and checks it.
func (s *serverScreen) onSuggestion() {
	addr := strings.TrimPrefix(s.suggest.Text, "Use ")
	s.address.SetText(addr)
	s.onContinue()
}

func (s *serverScreen) onContinue() {
	if s.cont.Disabled() {
		return
	}
	address := ""
	if s.choice.Selected == choiceRemote {
		address = strings.TrimSpace(s.address.Text)
		if address == "" {
			s.showProblem("Enter the server's address.", "")
			s.ui.win.Canvas().Focus(s.address)
			return
		}
	}
	// Checking a remote server can take seconds: not on the UI goroutine.
	use := s.ui.info.UseServer
	s.cont.Disable()
	s.showProblem("", "")
	s.setBusy(true)
	go s.check(use, address)
}

// check asks use for the server at address; it runs on its own goroutine,
// and onChecked goes on with the answer.
func (s *serverScreen) check(use func(string) (*app.App, Info, error), address string) {
	core, info, err := use(address)
	s.ui.onUI(func() { s.onChecked(address, core, info, err) })
}

// onChecked switches to the server checked at address, or says why it
// can't.
func (s *serverScreen) onChecked(address string, core *app.App, info Info, err error) {
	s.cont.Enable()
	s.setBusy(false)
	if err != nil {
		suggestion := ""
		if ae, ok := errors.AsType[*client.AddressError](err); ok {
			suggestion = ae.Suggestion
		}
		s.showProblem(app.DescribeServerCheck(address, err), suggestion)
		s.ui.win.Canvas().Focus(s.address)
		return
	}
	s.ui.serverPick = false
	s.ui.replaceCore(core, info)
}
