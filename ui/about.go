package ui

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// aboutScreen shows the app's name, version and build, the server and
// where data is kept.
type aboutScreen struct {
	root    fyne.CanvasObject
	ui      *UI
	title   *widget.Label
	details *widget.Form
}

func newAboutScreen(u *UI) *aboutScreen {
	a := &aboutScreen{ui: u, details: widget.NewForm()}
	a.title = heading("Sessionguard")
	a.root = container.NewVScroll(column(container.NewPadded(container.NewVBox(
		header("About", u.back, nil), a.title,
		wrapped("See every place your account is logged in, and end any of them from wherever you are."),
		a.details))))
	return a
}

func (a *aboutScreen) update(app.Snapshot) fyne.CanvasObject {
	in := a.ui.serverInfo()
	if in.Name != "" {
		a.title.SetText(in.Name)
	}
	server := in.Server
	switch {
	case in.Embedded && server == "":
		server = "This device"
	case in.Embedded:
		server = "This device (" + server + ")"
	}
	build := ""
	if in.Build > 0 {
		build = strconv.Itoa(in.Build)
	}
	var rows [][2]string
	for _, kv := range [][2]string{{"Version", in.Version}, {"Build", build}, {"Server", server}, {"Data", in.DataDir}} {
		if kv[1] != "" {
			rows = append(rows, kv)
		}
	}
	setForm(a.details, rows, fyne.TextWrapBreak)
	return a.root
}
