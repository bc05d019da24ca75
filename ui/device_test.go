package ui

import (
	"testing"

	"fyne.io/fyne/v2"
)

// TestDeviceKindMatchesBuild guards make mobile-ui-test: with the mobile
// tag the whole suite runs against a phone (fyne.CurrentDevice().IsMobile),
// so the phone layout and widget behaviour are what the other tests see.
func TestDeviceKindMatchesBuild(t *testing.T) {
	b, e := withAna(t)
	if got := fyne.CurrentDevice().IsMobile(); got != phoneBuild {
		t.Fatalf("IsMobile() = %v in a build with the mobile tag = %v", got, phoneBuild)
	}
	// A phone-sized window still gets the whole app: sign in, Settings, About.
	d := b.device(phone)
	s := e.openWindow(d, e.defaultInfo(), fyne.NewSize(360, 740))
	if err := d.core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.logIn("ana")
	s.tap("Settings")
	s.tap("About")
	s.waitText(e.defaultInfo().Version)
}
