package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"sessionguard/api"
	"sessionguard/client"
	"sessionguard/server"
)

// demo signs the laptop in to the demo account (five simulated devices at
// pinned times and places) in a window of the given size, and returns it
// on the home screen with the full list loaded.
func demo(t *testing.T, size fyne.Size) *screen {
	t.Helper()
	s, _ := demoOn(t, size)
	return s
}

// demoOn is demo, also returning the server.
func demoOn(t *testing.T, size fyne.Size) (*screen, *backend) {
	t.Helper()
	b := newBackend(t)
	e := newEnv(t, b)
	info := e.defaultInfo()
	info.TryDemo = b.tryDemo
	d := b.device(laptop)
	s := e.openWindow(d, info, size)
	if err := d.core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.waitText("Log in to Sessionguard")
	return s, b
}

// TestGoldens pins the main screens as markup: sign-in, home, settings,
// Login activity and a device's detail.
func TestGoldens(t *testing.T) {
	s := demo(t, fyne.NewSize(440, 760))
	s.golden("signin.xml")

	s.tap("Try the demo")
	s.waitLive()
	s.waitText("6 devices are logged in to your account.")
	s.golden("home.xml")

	s.tap("Settings")
	s.waitText("Security activity")
	s.waitFor("the account's settings read", func() bool { return s.ui.settings.inactive.Text == "Never" })
	s.golden("settings.xml")

	s.tap("Login activity")
	s.waitFor("six devices", func() bool { return len(s.rows()) == 6 })
	s.waitText(endedEmpty) // Recently logged out, loaded
	s.golden("login_activity.xml")

	s.tap("Work laptop")
	s.waitText("Log out this device")
	s.golden("device_detail.xml")
}

// TestPhoneSizeUsesFullWidth checks a 360×740 phone: the sign-in form and
// the device list fill the width and nothing overflows it.
func TestPhoneSizeUsesFullWidth(t *testing.T) {
	phoneSize := fyne.NewSize(360, 740)
	s, b := demoOn(t, phoneSize)
	check := func(what string) {
		t.Helper()
		s.do(func() {
			// A phone's window cannot grow (the test canvas would, to fit
			// its content), so measure against the phone.
			width := phoneSize.Width
			if got := s.win.Canvas().Size(); got != phoneSize {
				t.Errorf("%s: the window grew to %v to fit its content", what, got)
			}
			if min := s.win.Content().MinSize().Width + 2*theme.Padding(); min > width {
				t.Errorf("%s: content needs %v wide, the phone has %v", what, min, width)
			}
			for _, it := range s.items() {
				if it.overlay {
					continue
				}
				if right := it.pos.X + it.o.Size().Width; right > width+0.5 {
					t.Errorf("%s: %T %q reaches x=%v, past the edge at %v", what, it.o, text(it.o), right, width)
				}
			}
		})
	}
	wide := func(what string, w, min float32) {
		t.Helper()
		if w < min {
			t.Errorf("%s is %v wide, want at least %v on a 360-wide phone", what, w, min)
		}
	}

	check("sign-in")
	s.do(func() {
		_, size, _ := s.fieldPlace("Username")
		wide("the username field", size.Width, 300)
		wide("Log in", s.button("Log in").Size().Width, 300)
	})

	s.tap("Try the demo")
	s.waitText("6 devices are logged in to your account.")
	s.waitFor("live events", func() bool { return s.d.core.Snapshot().Live })
	s.waitText("• Live")
	check("home, live")
	s.openLoginActivity()
	s.waitFor("six devices", func() bool { return len(s.rows()) == 6 })
	check("Login activity")
	s.do(func() {
		for _, r := range s.rows() {
			wide("the row of "+r.name, r.r.Size().Width, 300)
		}
		wide("Log out of all other devices", s.button("Log out of all other devices").Size().Width, 300)
	})

	// A login alert's banner and buttons must fit the phone too.
	s.waitFor("live events", func() bool { return s.d.core.Snapshot().Live })
	c, err := client.New(b.url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.Login(ctx, api.LoginRequest{Username: server.DemoUsername, Password: server.DemoPassword, Device: phone.Device}); err != nil {
		t.Fatal(err)
	}
	s.waitText("New sign-in on Pixel 8")
	check("Login activity with a login alert")
}
