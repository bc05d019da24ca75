package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// serverScreen is the first-run choice of where the account lives.
type serverScreen struct {
	ui       *UI
	root     fyne.CanvasObject
	choice   *widget.RadioGroup
	address  *widget.Entry
	err      *widget.Label
	cont     *widget.Button
	checking *widget.Label
}

const (
	choiceThisDevice = "This device (no server needed)"
	choiceRemote     = "A Sessionguard server"
)

func newServerScreen(u *UI) *serverScreen {
	s := &serverScreen{ui: u, address: widget.NewEntry(), err: errorText()}
	s.address.SetPlaceHolder("https://sessions.example.com")
	s.address.OnSubmitted = func(string) { s.onContinue() }
	s.choice = widget.NewRadioGroup([]string{choiceThisDevice, choiceRemote}, func(v string) {
		if v == choiceRemote {
			s.address.Enable()
			u.win.Canvas().Focus(s.address)
		} else {
			s.address.Disable()
		}
	})
	s.choice.SetSelected(choiceThisDevice)
	title := heading("Where is your account?")
	cont := widget.NewButton("Continue", s.onContinue)
	cont.Importance = widget.HighImportance
	s.cont = cont
	s.checking = widget.NewLabel("Checking the server…")
	s.checking.Importance = widget.LowImportance
	s.checking.Hide()
	s.root = column(container.NewPadded(container.NewVBox(title,
		wrapped("Sessionguard can keep your account on this device, or connect to your organisation's server."),
		s.choice, s.address, s.err, s.checking, cont)))
	return s
}

func (s *serverScreen) update(app.Snapshot) fyne.CanvasObject { return s.root }

func (s *serverScreen) onContinue() {
	url := ""
	if s.choice.Selected == choiceRemote {
		url = s.address.Text
		if url == "" {
			setErrorText(s.err, "Enter the server's address.")
			return
		}
	}
	// Checking a remote server can take seconds: not on the UI goroutine.
	use := s.ui.info.UseServer
	s.cont.Disable()
	s.checking.Show()
	go func() {
		core, info, err := use(url)
		s.ui.onUI(func() {
			s.cont.Enable()
			s.checking.Hide()
			if err != nil {
				setErrorText(s.err, app.Describe(err))
				return
			}
			setErrorText(s.err, "")
			s.ui.serverPick = false
			s.ui.replaceCore(core, info)
		})
	}()
}
