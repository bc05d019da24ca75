// Package ui is Sessionguard's Fyne front end: one struct per screen, all
// drawing the app core's Snapshot and calling its actions.
package ui

import (
	"context"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

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
	// UseServer switches to the server at address ("" = this device's
	// own), once a Sessionguard server answers there, and returns the new
	// core; nil hides the choice. Its errors are put in words by
	// app.DescribeServerCheck.
	UseServer func(address string) (*app.App, Info, error)
	// LocalAccounts says this device's own server has accounts, which
	// "Clear app data" deletes.
	LocalAccounts bool
	// TryDemo creates the demo account on this device's server and returns
	// its credentials; nil hides "Try the demo".
	TryDemo func() (username, password string, err error)
}

// snapshots is where the UI reads the app's state: the core itself, except
// in TestRendersTheLatestSnapshot, which delivers notifications by hand.
type snapshots interface {
	Snapshot() app.Snapshot
	Subscribe(fn func(app.Snapshot)) (unsubscribe func())
}

// UI is the whole window's content.
type UI struct {
	win   fyne.Window
	core  *app.App  // the actions
	src   snapshots // the state (core)
	info  Info
	unsub func()
	snap  app.Snapshot // the snapshot on screen, the core's newest

	// Navigation (nav.go).
	page       page
	history    []page // pages to go back to
	deviceID   string // pageDevice
	serverPick bool   // the first-run server choice is showing

	// anims are the animations running (anim.go); pageRoot is the
	// signed-in page drawn last (pageContent), rendering counts the
	// renders under way.
	anims     *animations
	pageRoot  fyne.CanvasObject
	rendering int

	busy     *busyScreen
	signIn   *signInScreen
	code     *codeScreen
	approval *approvalScreen // waiting for a device's approval (approval.go)
	link     *linkScreen     // Settings → Link a device
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
	// inactivity is Settings → Log out inactive devices (rules.go).
	inactivity *inactivityScreen
	// ruleFor is the session whose own rule was last set (deviceRule):
	// the details of that device show the server's refusal.
	ruleFor string

	// Dialogs that follow the snapshot.
	reauth     *reauthDialog
	revokeDone dialog.Dialog // after a remote log out (revoked.go)
	// What revokeDone is about, and its live status lines (nil once
	// closed), which follow the snapshots of revokeCore.
	revokeCore   *app.App
	revokeResult app.RevokeResult
	revokeStatus *fyne.Container
	dialogs      []dialog.Dialog // open dialogs, newest last, for Escape
	// asks are the sign-ins waiting for this device's approval, by ID
	// (approval.go); reauthCancels counts the password prompts given up.
	asks          map[string]*approvalAsk
	reauthCancels int

	// Several accounts (accounts.go); accounts is nil in single-core mode.
	accounts      *app.Accounts
	unsubAccounts func()
	acc           app.AccountsSnapshot // the accounts on screen, the newest
	alertsSeen    map[string]int       // background alerts notified, by slot
	alerted       map[string]bool      // login alerts notified, by session ID
	switcher      *switcherDialog      // open, or nil
	noticesDlg    dialog.Dialog        // accounts that left (followNotices)
	noticesTx     *widget.Label
	allDone       dialog.Dialog // how "Log out of all accounts" went
	loggingOutAll bool          // "Log out of all accounts" runs

	// screenChanged is told the screen may read differently
	// (OnScreenChange).
	screenChanged func()
}

// New builds the UI in win for core. Call Start to show it.
func New(win fyne.Window, core *app.App, info Info) *UI { return newUI(win, core, core, info) }

// newUI is New reading the state from src.
func newUI(win fyne.Window, core *app.App, src snapshots, info Info) *UI {
	u := &UI{win: win, core: core, src: src, info: info, alertsSeen: map[string]int{}, alerted: map[string]bool{},
		asks: map[string]*approvalAsk{}, anims: newAnimations()}
	u.busy = newBusyScreen(u)
	u.signIn = newSignInScreen(u)
	u.code = newCodeScreen(u)
	u.approval = newApprovalScreen(u)
	u.link = newLinkScreen(u)
	u.server = newServerScreen(u)
	if info.FirstRun && info.UseServer != nil {
		u.server.open(true)
		u.serverPick = true
	}
	u.frame = newFrame(u)
	u.home = newHomeScreen(u)
	u.settings = newSettingsScreen(u)
	u.devices = newDevicesScreen(u)
	u.detail = newDeviceScreen(u)
	u.about = newAboutScreen(u)
	u.password = newPasswordScreen(u)
	u.twoStep = newTwoStepScreen(u)
	u.activity = newActivityScreen(u)
	u.inactivity = newInactivityScreen(u)
	u.reauth = newReauthDialog(u)
	win.Canvas().SetOnTypedKey(u.onTypedKey)
	win.Canvas().AddShortcut(&shortcutLoginActivity, func(fyne.Shortcut) { u.openDevices() })
	return u
}

// Start subscribes to the core (and the accounts, with NewAccounts) and
// draws the first screen.
func (u *UI) Start() {
	u.unsub = u.src.Subscribe(u.onChange)
	if u.accounts != nil && u.unsubAccounts == nil {
		u.unsubAccounts = u.accounts.Subscribe(u.onAccounts)
	}
	u.redraw()
}

// Stop unsubscribes from the core and the accounts, and stops every
// animation.
func (u *UI) Stop() {
	u.frame.note.hide()
	u.anims.stopAll()
	if u.unsub != nil {
		u.unsub()
		u.unsub = nil
	}
	if u.unsubAccounts != nil {
		u.unsubAccounts()
		u.unsubAccounts = nil
	}
}

// replaceCore switches to another core (another server), keeping the window.
func (u *UI) replaceCore(core *app.App, info Info) {
	u.Stop()
	u.core, u.src, u.info = core, core, info
	u.Start()
}

// onChange is told of every change, on whichever goroutine made it. It
// draws the core's newest snapshot rather than the one it was given: the
// core notifies after releasing its lock, so notifications from two
// goroutines can arrive newest first, and drawing them in arrival order
// would leave an older state on screen.
func (u *UI) onChange(app.Snapshot) { u.onUI(u.redraw) }

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

// redraw draws the core's newest snapshot: after a change, and after the
// UI changed what it shows (another page, a dialog closed). With several
// accounts it first swaps to the core shown now, if another.
func (u *UI) redraw() {
	if u.current() {
		return // swapped: replaceCore drew the new core
	}
	u.render(u.src.Snapshot())
}

// render draws snapshot s: each screen updates its own widgets in place,
// and the window's content is swapped only when the screen changes, so
// focus and typing survive updates.
func (u *UI) render(s app.Snapshot) {
	u.rendering++
	defer func() { u.rendering-- }()
	prev := u.snap
	u.snap = s
	if prev.State == app.StateSignedIn && s.State != app.StateSignedIn {
		// The session is over: nothing secret may wait in a widget for
		// whoever signs in next on this window.
		u.password.forget()
		u.twoStep.forget()
	}
	if (prev.State == app.StateSignedIn || prev.State == app.StateResetting) &&
		s.State != app.StateSignedIn && s.State != app.StateResetting && !u.adding() {
		u.signIn.fresh(s)
	}
	if prev.State == app.StateResetting && s.State != app.StateResetting && u.info.UseServer != nil {
		// Back to the first day: where is the account now? (This
		// device's own server may be gone with its accounts.)
		u.server.open(true)
		u.serverPick = true
	}
	var target fyne.CanvasObject
	if u.loggingOutAll && s.State != app.StateResetting {
		target = u.busy.show("Logging out of all accounts…")
	} else {
		target = u.stateContent(prev, s)
	}
	if u.win.Content() != target {
		if len(u.dialogs) == 0 {
			// The focused field belongs to the screen going: Fyne would
			// keep it focused, its cursor blinking off screen.
			u.win.Canvas().Unfocus()
		}
		u.win.SetContent(target)
		if f := u.focusFirst(target); f != nil {
			u.win.Canvas().Focus(f)
		}
	}
	u.reauth.follow(s)
	u.followLastRevoke(s)
	u.followAlert(prev, s)
	u.followApprovals(s)
	u.followAccounts()
	// The sweep: the animations of screens no longer shown stop.
	u.sweepAnimations()
	u.screenChange()
}

// stateContent is the screen for state s.State.
func (u *UI) stateContent(prev, s app.Snapshot) fyne.CanvasObject {
	var target fyne.CanvasObject
	switch {
	case s.State == app.StateStarting && u.adding():
		// Nothing to resume for an account not added yet: the form.
		target = u.signIn.update(s, prev)
	case s.State == app.StateStarting:
		target = u.busy.show("Signing in…")
	case s.State == app.StateResetting:
		target = u.busy.show("Clearing app data…")
	case s.State == app.StateNeedsSecondFactor:
		target = u.code.update(s)
	case s.State == app.StateAwaitingApproval:
		if prev.State != app.StateAwaitingApproval {
			u.approval.reset()
		}
		target = u.approval.update(s)
	case s.State == app.StateSignedIn:
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
	return target
}

// focusFirst is the field that gets focus when a screen appears.
func (u *UI) focusFirst(target fyne.CanvasObject) fyne.Focusable {
	switch target {
	case u.signIn.root:
		return u.signIn.firstField()
	case u.code.root:
		return u.code.entry
	case u.server.root:
		return u.server.firstField()
	}
	return nil
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
	switch {
	case u.snap.State == app.StateSignedIn:
		u.back()
	case u.snap.State == app.StateAwaitingApproval:
		u.core.CancelApproval()
	case u.serverPick:
		u.closeServerChoice()
	case u.adding() && u.snap.State == app.StateSignedOut:
		u.onCancelAdd()
	}
}

// escape is onTypedKey's Escape, for fields that take the key themselves
// (dialogEntry).
func (u *UI) escape() { u.onTypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) }

// showDialog shows d and tracks it for Escape (and isShowing).
func (u *UI) showDialog(d dialog.Dialog) {
	u.dialogs = append(u.dialogs, d)
	d.SetOnClosed(func() { u.forgetDialog(d) })
	d.Show()
	u.screenChange()
}

func (u *UI) forgetDialog(d dialog.Dialog) {
	for i, x := range u.dialogs {
		if x == d {
			u.dialogs = append(u.dialogs[:i], u.dialogs[i+1:]...)
			u.screenChange()
			return
		}
	}
}

// isShowing reports whether d, shown with showDialog, is still open.
func (u *UI) isShowing(d dialog.Dialog) bool { return slices.Contains(u.dialogs, d) }
