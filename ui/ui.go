// Package ui is Sessionguard's Fyne front end: one struct per screen, all
// drawing the app core's Snapshot and calling its actions.
package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// Core is what the screens need of the app core; *app.App implements it.
type Core interface {
	Snapshot() app.Snapshot
	Subscribe(fn func(app.Snapshot)) (unsubscribe func())
	SignIn(ctx context.Context, username, password string, remember bool) error
	SignUp(ctx context.Context, username, password, confirm string, remember bool) error
	SubmitSecondFactor(ctx context.Context, code string) error
	CancelSecondFactor()
	ContinueAs(ctx context.Context, accountID string, remember bool) error
	RemoveSavedAccount(ctx context.Context, accountID string) error
	LogOut(ctx context.Context, rememberLoginInfo bool) error
	LoadDevices(ctx context.Context) error
	LoadMoreDevices(ctx context.Context) error
	RevokeDevice(ctx context.Context, sessionID string) error
	RevokeOthers(ctx context.Context) (int, error)
	Reauthenticate(ctx context.Context, password, code string) error
	CancelReauth()
	ClearAppData(ctx context.Context) (app.ResetReport, error)
	DismissNotice()
	DismissAlert()
	DismissLastRevoke()
	DismissError()
	ChangePassword(ctx context.Context, current, next, confirm, code string, logOutOthers bool) (int, error)
	LoadActivity(ctx context.Context) error
	LoadMoreActivity(ctx context.Context) error
	StartTwoStep(ctx context.Context) (api.TOTPSetupResponse, error)
	ConfirmTwoStep(ctx context.Context, code string) ([]string, error)
	TwoStepSetup() api.TOTPSetupResponse
	RecoveryCodes() []string
	EndTwoStep()
	TurnOffTwoStep(ctx context.Context) error
}

// Info is what the About and Server screens show, and the hooks main
// provides for choosing a server.
type Info struct {
	// Name, Version and Build are the app's metadata (FyneApp.toml).
	Name    string
	Version string
	Build   int
	// Server is the address in use; Embedded says it is this device's own.
	Server   string
	Embedded bool
	// DataDir is where the app keeps its files.
	DataDir string
	// Prefill fills the sign-in form (the demo account with --demo).
	PrefillUsername, PrefillPassword string
	// FirstRun shows the server choice before sign-in.
	FirstRun bool
	// UseServer switches to the server at url ("" = this device's own) and
	// returns the new core; nil hides the choice.
	UseServer func(url string) (Core, Info, error)
	// TryDemo creates the demo account on this device's server and returns
	// its credentials; nil hides "Try the demo".
	TryDemo func() (username, password string, err error)
}

// page is where a signed-in person is.
type page int

const (
	pageHome page = iota
	pageSettings
	pageDevices
	pageDevice
	pageAbout
	pagePassword
	pageTwoStep
	pageActivity
)

// UI is the whole window's content.
type UI struct {
	win   fyne.Window
	core  Core
	info  Info
	unsub func()
	snap  app.Snapshot

	page       page
	history    []page // pages to go back to
	deviceID   string // pageDevice
	serverPick bool   // the first-run server choice is showing

	busy     *busyScreen
	signIn   *signInScreen
	code     *codeScreen
	server   *serverScreen
	frame    *frame // signed-in chrome: banners around the page
	home     *homeScreen
	settings *settingsScreen
	devices  *devicesScreen
	detail   *deviceScreen
	about    *aboutScreen
	password *passwordScreen
	twoStep  *twoStepScreen
	activity *activityScreen

	// dialogs that follow the snapshot
	reauth     *reauthDialog
	revokeDone dialog.Dialog
	dialogs    []dialog.Dialog // open dialogs, newest last, for Escape
}

// New builds the UI in win for core. Call Start to show it.
func New(win fyne.Window, core Core, info Info) *UI {
	u := &UI{win: win, core: core, info: info, serverPick: info.FirstRun && info.UseServer != nil}
	u.busy = newBusyScreen()
	u.signIn = newSignInScreen(u)
	u.code = newCodeScreen(u)
	u.server = newServerScreen(u)
	u.frame = newFrame(u)
	u.home = newHomeScreen(u)
	u.settings = newSettingsScreen(u)
	u.devices = newDevicesScreen(u)
	u.detail = newDeviceScreen(u)
	u.about = newAboutScreen(u)
	u.password = newPasswordScreen(u)
	u.twoStep = newTwoStepScreen(u)
	u.activity = newActivityScreen(u)
	u.reauth = newReauthDialog(u)
	win.Canvas().SetOnTypedKey(u.onTypedKey)
	win.Canvas().AddShortcut(&shortcutLoginActivity, func(fyne.Shortcut) { u.openDevices() })
	return u
}

// Start subscribes to the core and draws the first screen.
func (u *UI) Start() {
	u.unsub = u.core.Subscribe(u.onChange)
	u.render(u.core.Snapshot())
}

// Stop unsubscribes from the core.
func (u *UI) Stop() {
	if u.unsub != nil {
		u.unsub()
		u.unsub = nil
	}
}

// onChange is told of every change, on whichever goroutine made it. It
// draws the core's newest snapshot rather than the one it was given: the
// core notifies after releasing its lock, so notifications from two
// goroutines can arrive newest first, and drawing them in arrival order
// would leave an older state on screen.
func (u *UI) onChange(app.Snapshot) { u.onUI(func() { u.render(u.core.Snapshot()) }) }

// onUI is the one way work from other goroutines reaches the widgets: the
// values it uses must already be copies.
func (u *UI) onUI(fn func()) { fyne.Do(fn) }

// run performs a core action off the UI goroutine. Errors reach the screen
// through the snapshot; done, if set, gets the error on the UI goroutine.
func (u *UI) run(action func(ctx context.Context) error, done func(error)) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := action(ctx)
		cancel()
		if done != nil {
			u.onUI(func() { done(err) })
		}
	}()
}

// render draws snapshot s: each screen updates its own widgets in place,
// and the window's content is swapped only when the screen changes, so
// focus and typing survive updates.
func (u *UI) render(s app.Snapshot) {
	prev := u.snap
	u.snap = s
	if prev.State == app.StateSignedIn && s.State != app.StateSignedIn {
		// The session is over: nothing secret may wait in a widget for
		// whoever signs in next on this window.
		u.password.forget()
		u.twoStep.forget()
	}
	var target fyne.CanvasObject
	switch s.State {
	case app.StateStarting:
		target = u.busy.show("Signing in…")
	case app.StateResetting:
		target = u.busy.show("Clearing app data…")
	case app.StateNeedsSecondFactor:
		target = u.code.update(s)
	case app.StateSignedIn:
		if prev.State != app.StateSignedIn {
			u.page, u.history = pageHome, nil
		}
		target = u.frame.update(s, u.pageContent(s))
	default:
		if u.serverPick {
			target = u.server.update(s)
		} else {
			target = u.signIn.update(s, prev)
		}
	}
	if u.win.Content() != target {
		u.win.SetContent(target)
		if f := u.focusFirst(target); f != nil {
			u.win.Canvas().Focus(f)
		}
	}
	u.reauth.follow(s)
	u.followLastRevoke(s)
	u.followAlert(prev, s)
}

// focusFirst is the field that gets focus when a screen appears.
func (u *UI) focusFirst(target fyne.CanvasObject) fyne.Focusable {
	switch target {
	case u.signIn.root:
		return u.signIn.firstField()
	case u.code.root:
		return u.code.entry
	case u.server.root:
		return u.server.address
	}
	return nil
}

// pageContent is the signed-in page's content for s.
func (u *UI) pageContent(s app.Snapshot) fyne.CanvasObject {
	switch u.page {
	case pageSettings:
		return u.settings.update(s)
	case pageDevices:
		return u.devices.update(s)
	case pageDevice:
		if d, ok := findDevice(s, u.deviceID); ok {
			return u.detail.update(s, d)
		}
		u.page = pageDevices // it went away (closed elsewhere)
		if n := len(u.history); n > 0 && u.history[n-1] == pageDevices {
			u.history = u.history[:n-1]
		}
		return u.devices.update(s)
	case pageAbout:
		return u.about.update(s)
	case pagePassword:
		return u.password.update(s)
	case pageTwoStep:
		return u.twoStep.update(s)
	case pageActivity:
		return u.activity.update(s)
	default:
		return u.home.update(s)
	}
}

// show switches page and redraws. The focus goes: it belongs to the old
// page (tapping a device row focuses the list), and a focused widget would
// get Escape instead of the window.
// show goes to page p, remembering where the person came from.
func (u *UI) show(p page) {
	if p != u.page {
		u.history = append(u.history, u.page)
	}
	u.goTo(p)
}

func (u *UI) goTo(p page) {
	u.page = p
	u.win.Canvas().Unfocus()
	u.render(u.snap)
}

func (u *UI) openDevices() {
	if u.snap.State != app.StateSignedIn {
		return
	}
	u.show(pageDevices)
	u.run(u.core.LoadDevices, nil)
}

// back returns to the page the person came from (home at the bottom).
func (u *UI) back() {
	n := len(u.history)
	if n == 0 {
		if u.page != pageHome {
			u.goTo(pageHome)
		}
		return
	}
	p := u.history[n-1]
	u.history = u.history[:n-1]
	u.goTo(p)
}

// onTypedKey: Escape closes the newest dialog, else goes back.
func (u *UI) onTypedKey(ev *fyne.KeyEvent) {
	if ev.Name != fyne.KeyEscape {
		return
	}
	if n := len(u.dialogs); n > 0 {
		d := u.dialogs[n-1]
		d.Hide() // its OnClosed removes it from u.dialogs
		return
	}
	if u.snap.State == app.StateSignedIn {
		u.back()
	}
}

// showDialog shows d and tracks it for Escape.
func (u *UI) showDialog(d dialog.Dialog) {
	u.dialogs = append(u.dialogs, d)
	d.SetOnClosed(func() { u.forgetDialog(d) })
	d.Show()
}

func (u *UI) forgetDialog(d dialog.Dialog) {
	for i, x := range u.dialogs {
		if x == d {
			u.dialogs = append(u.dialogs[:i], u.dialogs[i+1:]...)
			return
		}
	}
}

// busyScreen is a centred spinner with a caption.
type busyScreen struct {
	root     fyne.CanvasObject
	activity *widget.Activity
	caption  *widget.Label
}

func newBusyScreen() *busyScreen {
	b := &busyScreen{activity: widget.NewActivity(), caption: widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})}
	b.root = container.NewCenter(container.NewVBox(b.activity, b.caption))
	return b
}

func (b *busyScreen) show(caption string) fyne.CanvasObject {
	b.caption.SetText(caption)
	b.activity.Start()
	return b.root
}

// replaceCore switches to another core (another server), keeping the window.
func (u *UI) replaceCore(core Core, info Info) {
	u.Stop()
	u.core, u.info = core, info
	u.Start()
}
