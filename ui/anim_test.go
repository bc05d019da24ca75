package ui

// Issue 19: nothing animates unless something is in progress. Each test
// runs an operation that animates, ends it or leaves it, and checks that
// nothing is left running: in the registry (runningAnimations) and in the
// widgets themselves (ProgressBarInfinite.Running, widget.Activity's own
// state, an Entry's focus, which blinks its cursor).

import (
	"reflect"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// fieldBool reads the unexported bool field name of Fyne widget w (for
// state Fyne does not export); it fails the test when Fyne has renamed
// it, rather than let a check pass by not looking. Call on the loop.
func (s *screen) fieldBool(w any, name string) bool {
	f := reflect.ValueOf(w).Elem().FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Bool {
		s.fail("%T has no bool field %q any more: update fieldBool's callers", w, name)
	}
	return f.Bool()
}

// animating names what animates in the UI: the registry's animations,
// every progress bar made through it that runs, any running progress bar
// on the window, and the busy screen's spinner if it runs. Call on the
// loop.
func (s *screen) animating() []string {
	var out []string
	for _, n := range s.ui.runningAnimations() {
		out = append(out, "registry: "+n)
	}
	for bar, slot := range s.ui.anims.slots {
		if bar.Running() {
			out = append(out, "a progress bar runs")
		}
		if bar.Running() != (len(slot.Objects) == 1) {
			out = append(out, "a progress bar's place holds it while stopped, or not while running")
		}
	}
	for _, it := range s.find(func(it item) bool { b, ok := it.o.(*widget.ProgressBarInfinite); return ok && b.Running() }) {
		if _, made := s.ui.anims.slots[it.o.(*widget.ProgressBarInfinite)]; !made {
			out = append(out, "a progress bar not made by the registry runs")
		}
	}
	if s.fieldBool(s.ui.busy.activity, "started") {
		out = append(out, "the busy screen's spinner runs")
	}
	return out
}

// noAnimation fails the test if anything animates, after what.
func (s *screen) noAnimation(after string) {
	s.t.Helper()
	var got []string
	s.do(func() { got = s.animating() })
	if len(got) > 0 {
		s.t.Errorf("after %s, still animating: %q", after, got)
	}
}

// waitAnimation waits until the registry runs the animation name.
func (s *screen) waitAnimation(name string) {
	s.t.Helper()
	s.waitFor("the animation "+name, func() bool { return slices.Contains(s.ui.runningAnimations(), name) })
}

// TestAnimationsRegistry: the registry's own rules, on bare widgets. A
// bar is in its place only while it runs, and a theme change (which makes
// and refreshes the renderer of every widget in the window) does not set
// a stopped one going.
func TestAnimationsRegistry(t *testing.T) {
	test.NewTempApp(t)
	a := newAnimations()
	bar, slot := a.newBar()
	never, neverSlot := a.newBar() // made, never started
	plain := widget.NewProgressBarInfinite()
	plain.Hide() // as the screens hid their bars before the registry
	w := test.NewWindow(container.NewVBox(widget.NewLabel("page"), slot, neverSlot, plain))
	defer w.Close()
	spin := widget.NewActivity()
	pageA, pageB := widget.NewLabel("a"), widget.NewLabel("b")

	a.start(animation{w: bar, owner: pageA, page: true, name: "bar"})
	a.start(animation{w: spin, owner: pageB, name: "spin"})
	if got := a.names(); !slices.Equal(got, []string{"bar", "spin"}) {
		t.Fatalf("running %q", got)
	}
	if !bar.Running() || !bar.Visible() || len(slot.Objects) != 1 || !slot.Visible() {
		t.Fatal("a started bar is not running in its place")
	}
	a.start(animation{w: bar, owner: pageA, page: true, name: "bar"}) // again: once
	if got := a.names(); len(got) != 2 {
		t.Fatalf("started twice, listed %q", got)
	}

	a.keepIf(func(x animation) bool { return x.owner != pageA }) // pageA left
	if got := a.names(); !slices.Equal(got, []string{"spin"}) {
		t.Fatalf("after leaving page a, running %q", got)
	}
	if bar.Running() || bar.Visible() || len(slot.Objects) != 0 || slot.Visible() {
		t.Fatal("a stopped bar is still running, or still in the widget tree")
	}
	test.ApplyTheme(t, Theme()) // makes and refreshes every renderer in the window
	if bar.Running() || never.Running() {
		t.Fatal("a theme change set a stopped bar running")
	}
	if !plain.Running() {
		t.Log("a hidden ProgressBarInfinite no longer starts on a theme change: newBar's slot may be unneeded")
	}

	a.stop(spin)
	if a.stop(spin); len(a.names()) != 0 { // twice is fine
		t.Fatalf("running %q after stop", a.names())
	}
	a.start(animation{w: bar, owner: pageA, name: "bar"})
	a.stopAll()
	if len(a.names()) != 0 || bar.Running() {
		t.Fatal("stopAll left something running")
	}
}

// TestNoAnimationAfterSignIn: the sign-in screen's progress bar runs
// while signing in, and stops once home shows (render's sweep: the
// sign-in screen is never drawn again after it).
func TestNoAnimationAfterSignIn(t *testing.T) {
	b, e := withAna(t)
	s := e.open(b.device(laptop), e.defaultInfo())
	s.noAnimation("opening")
	release := b.hold("POST /v1/login")
	s.setField("Username", "ana")
	s.setField("Password", password)
	s.tap("Log in")
	s.waitAnimation("sign-in progress")
	s.do(func() {
		if !s.ui.signIn.progress.Running() {
			t.Error("the registry runs the sign-in progress, but its bar does not run")
		}
	})
	release()
	s.waitText("Logged in on Ana's Laptop")
	s.settle()
	s.noAnimation("signing in")
}

// TestNoAnimationAfterFailedSignIn: the progress bar stops when the
// sign-in fails, and the form is back.
func TestNoAnimationAfterFailedSignIn(t *testing.T) {
	b, e := withAna(t)
	s := e.open(b.device(laptop), e.defaultInfo())
	release := b.hold("POST /v1/login")
	s.setField("Username", "ana")
	s.setField("Password", "not-the-password")
	s.tap("Log in")
	s.waitAnimation("sign-in progress")
	release()
	s.waitUnder("Password", "Wrong username or password.")
	s.settle()
	s.noAnimation("a failed sign-in")
}

// TestNoAnimationAfterLeavingPasswordChange: leaving Change password
// while the change runs stops its progress bar at once (the page switch's
// leave hook); back on the page it runs again, and stops when the change
// is done.
func TestNoAnimationAfterLeavingPasswordChange(t *testing.T) {
	b, _, _, s := signedIn(t)
	s.openSettingsPage("Change password", "Choose a password you don't use anywhere else")
	release := b.hold("POST /v1/password")
	s.fillPassword(password, newPassword, newPassword)
	s.tap("Change password")
	s.waitAnimation("password change")
	s.do(func() {
		if !s.ui.password.progress.Running() {
			t.Error("the registry runs the password change, but its bar does not run")
		}
	})
	s.press(fyne.KeyEscape) // back to Settings, while it runs
	s.do(func() {
		if s.ui.page != pageSettings {
			s.fail("Escape went to page %d, not Settings", s.ui.page)
		}
	})
	s.noAnimation("leaving Change password while it runs")

	s.do(func() { s.ui.show(pagePassword) }) // back, still running
	s.waitAnimation("password change")
	release()
	s.waitFor("the change done", func() bool { return !s.ui.snap.Busy })
	s.settle()
	s.noAnimation("the password change")
}

// TestNoAnimationAfterLeavingExport: leaving Security activity while an
// export runs stops its progress bar at once (no ticker needed to notice);
// coming back runs it again; the export ending stops it. (Ending off the
// page: TestExportProgressCancelAndLeave.)
func TestNoAnimationAfterLeavingExport(t *testing.T) {
	s, _ := activityOf(t, fyne.NewSize(440, 760), anaSnap())
	s.saveInto(t.TempDir())
	h := newHeld(10)
	s.do(func() { s.ui.activity.exportLog = h.export })
	s.tap("Export…")
	<-h.started
	s.waitAnimation("export progress")
	s.press(fyne.KeyEscape) // home, while it runs
	s.noAnimation("leaving Security activity while an export runs")

	s.do(func() { s.ui.show(pageActivity) })
	s.waitAnimation("export progress")
	s.do(func() {
		if !s.ui.activity.progressBar.Running() {
			t.Error("back on the page, the export's bar does not run")
		}
	})
	close(h.release) // it ends on the page
	s.waitFor("the export done", func() bool { return !s.ui.activity.exporting })
	s.waitText("Verified: 10 events")
	s.noAnimation("an export that ended")
}

// TestNoAnimationAfterStartUp: the busy screen's spinner runs while the
// app starts (a new core, before Start signs in with the saved login),
// and stops once home shows.
func TestNoAnimationAfterStartUp(t *testing.T) {
	b, e := withAna(t)
	d := b.device(laptop)
	s := e.open(d, e.defaultInfo())
	s.logIn("ana") // Remember me is on
	s.close()
	d.build()
	s = e.openWindow(d, e.defaultInfo(), fyne.NewSize(440, 760)) // not started yet
	s.waitText("Signing in…")
	s.waitAnimation("busy: Signing in…")
	s.do(func() {
		if !s.fieldBool(s.ui.busy.activity, "started") {
			t.Error("the registry runs the busy spinner, but it does not run")
		}
	})
	if err := d.core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.waitText("Logged in on Ana's Laptop")
	s.settle()
	s.noAnimation("starting signed in")
}

// TestNoAnimationAfterClearingAppData: the busy screen's spinner runs
// while app data is cleared, and stops when the sign-in screen is back.
func TestNoAnimationAfterClearingAppData(t *testing.T) {
	b, _, _, s := signedIn(t)
	s.tap("Settings")
	s.tap("Clear app data…")
	s.waitDialog("Delete your account and clear app data?")
	release := b.hold("POST /v1/logout")
	s.tap("Delete and clear")
	s.waitText("Clearing app data…")
	s.waitAnimation("busy: Clearing app data…")
	release()
	s.waitDialog("App data cleared")
	s.settle()
	s.noAnimation("clearing app data")
	s.tap("OK")
	s.waitNoDialog()
	s.noAnimation("closing the summary")
}

// TestNoCursorLeftBlinking: a field focused on a screen that goes (here
// Change password, when the session is ended elsewhere) loses the focus;
// Fyne would keep it focused, its cursor blinking off screen.
func TestNoCursorLeftBlinking(t *testing.T) {
	b, _, _, s := signedIn(t)
	s.openSettingsPage("Change password", "Choose a password you don't use anywhere else")
	s.do(func() {
		if !s.fieldBool(&s.ui.password.current.Entry, "focused") {
			s.fail("the current password is not focused on opening")
		}
	})
	other, _ := b.signInElsewhere(phone, "ana")
	if _, err := other.RevokeOthers(ctx); err != nil {
		t.Fatal(err)
	}
	s.waitText("Log in to Sessionguard")
	s.do(func() {
		if s.fieldBool(&s.ui.password.current.Entry, "focused") {
			t.Error("the password page's field is still focused after its screen went")
		}
	})
	s.noAnimation("the session ended elsewhere")
}

// TestNoAnimationAfterSigningOutFromABusyPage: a page's animation stops
// when the signed-in frame goes (render's sweep), here the session ending
// while Change password runs.
func TestNoAnimationAfterSigningOutFromABusyPage(t *testing.T) {
	b, _, d, s := signedIn(t)
	s.openSettingsPage("Change password", "Choose a password you don't use anywhere else")
	release := b.hold("POST /v1/password")
	s.fillPassword(password, newPassword, newPassword)
	s.tap("Change password")
	s.waitAnimation("password change")
	other, _ := b.signInElsewhere(phone, "ana")
	if _, err := other.RevokeOthers(ctx); err != nil {
		t.Fatal(err)
	}
	d.waitCore("signed out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	s.waitText("Log in to Sessionguard")
	s.noAnimation("the session ended while a page was busy")
	release()
	s.settle()
	s.noAnimation("the held change returned")
}
