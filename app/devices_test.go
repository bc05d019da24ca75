package app_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"sessionguard/app"
	"sessionguard/platform"
)

// idOf is the session of the device called name in s's list.
func idOf(t *testing.T, s app.Snapshot, name string) string {
	t.Helper()
	for _, d := range s.Devices {
		if d.Device.Name == name {
			return d.ID
		}
	}
	t.Fatalf("no device %q in %v", name, deviceNames(s.Devices))
	return ""
}

// countRenames counts the rename requests a device sends.
func countRenames(n *atomic.Int32) deviceOpt {
	return func(o *opening) {
		o.intercept(func(r *http.Request, _ []byte) (*http.Response, error) {
			if r.Method == http.MethodPatch {
				n.Add(1)
			}
			return nil, nil
		})
	}
}

func TestRenameDevice(t *testing.T) {
	b := newBackend(t)
	var patches atomic.Int32
	a := b.device("Ana's Laptop", countRenames(&patches))
	a.signUp("ana", true)
	phone := b.device("Pixel 8")
	phone.signIn("ana", true)
	s := a.waitFor("the phone listed", func(s app.Snapshot) bool { return len(s.Devices) == 2 })

	// Another device: every list shows the new name, the phone's own too.
	if err := a.app.RenameDevice(ctx, idOf(t, s, "Pixel 8"), "  Work phone "); err != nil {
		t.Fatal(err)
	}
	if names := deviceNames(a.snap().Devices); !slices.Equal(names, []string{"Ana's Laptop", "Work phone"}) {
		t.Fatalf("after the rename: %v", names)
	}
	phone.waitFor("its new name", func(s app.Snapshot) bool { return s.Session != nil && s.Session.Device.Name == "Work phone" })
	if got := phone.prefs.String(platform.PrefDeviceName); got != "Pixel 8" {
		t.Errorf("renaming the phone from the laptop changed the laptop's idea of the phone's saved name: %q", got)
	}

	// Names the server would refuse are refused here, without asking it.
	before := patches.Load()
	for _, bad := range []string{"", "   ", strings.Repeat("x", 65), "evil\u202egnp", "two\nlines"} {
		err := a.app.RenameDevice(ctx, s.Session.ID, bad)
		var fe *app.FieldError
		if !errors.As(err, &fe) || fe.Field != "name" || a.snap().FieldErrors["name"] == "" {
			t.Errorf("RenameDevice(%q) = %v, field errors %v", bad, err, a.snap().FieldErrors)
		}
	}
	if n := patches.Load() - before; n != 0 {
		t.Errorf("%d bad names were sent to the server", n)
	}

	// This device: kept in the preferences, and sent at the next sign-in.
	if err := a.app.RenameDevice(ctx, s.Session.ID, "Ana's desk"); err != nil {
		t.Fatal(err)
	}
	if got := a.prefs.String(platform.PrefDeviceName); got != "Ana's desk" {
		t.Errorf("the saved device name is %q", got)
	}
	if got := a.snap().Session.Device.Name; got != "Ana's desk" {
		t.Errorf("this session's device is called %q", got)
	}
	if got := a.app.ThisDevice().Name; got != "Ana's desk" {
		t.Errorf("ThisDevice().Name = %q", got)
	}
	a.logOut(false)
	a.signIn("ana", true)
	if got := a.snap().Session.Device.Name; got != "Ana's desk" {
		t.Errorf("signed in again as %q", got)
	}

	// A device that has gone can't be renamed, and goes from the list.
	id := idOf(t, a.waitFor("both listed", func(s app.Snapshot) bool { return len(s.Devices) == 2 }), "Work phone")
	phone.logOut(false)
	err := a.app.RenameDevice(ctx, id, "Gone")
	if err == nil || !strings.Contains(a.snap().Err, "no longer logged in") {
		t.Errorf("renaming a gone device: %v, %q", err, a.snap().Err)
	}
}

func TestSelectDevices(t *testing.T) {
	b := newBackend(t)
	a := b.device("Ana's Laptop")
	a.signUp("ana", true)
	phone := b.device("Pixel 8")
	phone.signIn("ana", true)
	s := a.waitFor("the phone listed", func(s app.Snapshot) bool { return len(s.Devices) == 2 })
	pid := idOf(t, s, "Pixel 8")

	a.app.SelectDevice(s.Session.ID, true) // this device: logs out with Log out
	a.app.SelectDevice("ses_nonesuch", true)
	a.app.SelectDevice(pid, true)
	a.app.SelectDevice(pid, true)
	if got := a.snap().SelectedDevices; !slices.Equal(got, []string{pid}) {
		t.Fatalf("selected %v, want the phone once", got)
	}
	a.app.SelectDevice(pid, false)
	if got := a.snap().SelectedDevices; len(got) != 0 {
		t.Fatalf("selected %v after unticking", got)
	}
	// A ticked device that goes away is unticked.
	a.app.SelectDevice(pid, true)
	phone.logOut(false)
	a.waitFor("the phone gone and unticked", func(s app.Snapshot) bool { return len(s.Devices) == 1 && len(s.SelectedDevices) == 0 })
	a.app.SelectDevice(s.Session.ID, true)
	a.app.ClearDeviceSelection()
	if got := a.snap().SelectedDevices; len(got) != 0 {
		t.Fatalf("selected %v after clearing", got)
	}
}

// TestRevokeDevices logs several devices out together: one password for
// all, one result, and a clear account of the ones that failed.
func TestRevokeDevices(t *testing.T) {
	b := newBackend(t)
	var failFor atomic.Value // a session ID whose DELETE fails
	failFor.Store("")
	a := b.device("Ana's Laptop", func(o *opening) {
		o.intercept(func(r *http.Request, _ []byte) (*http.Response, error) {
			if id := failFor.Load().(string); id != "" && r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/"+id) {
				return answer(r, 500, `{"error":{"code":"internal","message":"The server had a problem."}}`), nil
			}
			return nil, nil
		})
	})
	a.signUp("ana", true)
	others := map[string]*device{}
	for _, name := range []string{"Pixel 8", "Galaxy Tab", "iPad"} {
		others[name] = b.device(name)
		others[name].signIn("ana", true)
	}
	s := a.waitFor("four devices", func(s app.Snapshot) bool { return len(s.Devices) == 4 })
	phone, tab, ipad := idOf(t, s, "Pixel 8"), idOf(t, s, "Galaxy Tab"), idOf(t, s, "iPad")
	a.app.SelectDevice(phone, true)
	a.app.SelectDevice(tab, true)

	b.staleProof()
	err := a.app.RevokeDevices(ctx, append(a.snap().SelectedDevices, s.Session.ID), false) // this device is left out
	if !errors.Is(err, app.ErrReauthRequired) {
		t.Fatalf("RevokeDevices with a stale proof = %v", err)
	}
	p := a.snap().Pending
	if p == nil || p.Kind != app.KindRevokeSeveral || p.Action != "log out 2 devices" {
		t.Fatalf("pending %+v", p)
	}
	if err := a.app.Reauthenticate(ctx, password, ""); err != nil {
		t.Fatal(err)
	}
	got := a.snap()
	if r := got.LastRevoke; r == nil || r.Count != 2 || !slices.Equal(r.Names, []string{"Pixel 8", "Galaxy Tab"}) || len(r.Failed) != 0 {
		t.Fatalf("last revoke %+v", got.LastRevoke)
	}
	if names := deviceNames(got.Devices); !slices.Equal(names, []string{"Ana's Laptop", "iPad"}) || len(got.SelectedDevices) != 0 {
		t.Fatalf("after: %v, selected %v", names, got.SelectedDevices)
	}
	for _, name := range []string{"Pixel 8", "Galaxy Tab"} {
		others[name].waitFor("logged out", func(s app.Snapshot) bool { return s.State == app.StateSignedOut })
	}
	if st := others["iPad"].snap().State; st != app.StateSignedIn {
		t.Fatalf("the iPad, not chosen: %v", st)
	}

	// Partly: one fails, the result says which and why, it stays ticked.
	c := others["iPad"]
	c.close()
	more := b.device("Work laptop")
	more.signIn("ana", true)
	s = a.waitFor("the work laptop listed", func(s app.Snapshot) bool { return len(s.Devices) == 3 })
	work := idOf(t, s, "Work laptop")
	failFor.Store(ipad)
	a.app.SelectDevice(ipad, true)
	a.app.SelectDevice(work, true)
	err = a.app.RevokeDevices(ctx, a.snap().SelectedDevices, false)
	if err == nil || !strings.Contains(err.Error(), "Couldn't log out 1 of 2 devices: iPad") {
		t.Fatalf("partial failure = %v", err)
	}
	got = a.snap()
	r := got.LastRevoke
	if r == nil || !slices.Equal(r.Names, []string{"Work laptop"}) || len(r.Failed) != 1 || r.Failed[0].DeviceName != "iPad" || r.Failed[0].Reason == "" {
		t.Fatalf("last revoke %+v", r)
	}
	if !slices.Equal(got.SelectedDevices, []string{ipad}) {
		t.Fatalf("still ticked: %v, want the iPad", got.SelectedDevices)
	}
}

// TestListLoadsAfterQuickLogOutAndIn: a device list still loading for the
// last sign-in when the person logs out and in again must not keep the
// new sign-in's list from loading.
func TestListLoadsAfterQuickLogOutAndIn(t *testing.T) {
	b := newBackend(t)
	laptop := b.device("Ana's Laptop")
	laptop.signUp("ana", false)
	release := make(chan struct{})
	var held atomic.Bool
	phone := b.device("Pixel 8", func(o *opening) {
		o.intercept(func(r *http.Request, _ []byte) (*http.Response, error) {
			if r.Method == http.MethodGet && r.URL.Path == "/v1/sessions" && held.CompareAndSwap(false, true) {
				<-release // the first list load hangs until the second sign-in
			}
			return nil, nil
		})
	})
	if err := phone.app.SignIn(ctx, "ana", password, false); err != nil {
		t.Fatal(err)
	}
	phone.waitFor("the first load under way", func(app.Snapshot) bool { return held.Load() })
	phone.logOut(false)
	if err := phone.app.SignIn(ctx, "ana", password, false); err != nil {
		t.Fatal(err)
	}
	// Every refresh the new sign-in asks for (at sign-in, and when its
	// event stream connects) is asked while the old load still runs.
	phone.waitFor("live events", func(s app.Snapshot) bool { return s.Live })
	close(release)
	phone.waitFor("both devices listed", func(s app.Snapshot) bool { return len(s.Devices) == 2 })
}
