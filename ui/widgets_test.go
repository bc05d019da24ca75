package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/theme"

	"sessionguard/api"
	"sessionguard/app"
)

func TestActiveText(t *testing.T) {
	now := epoch
	for _, tc := range []struct {
		ago     time.Duration
		current bool
		want    string
	}{
		{0, true, "This device · Active now"},
		{5 * time.Hour, true, "This device · Active now"},
		{0, false, "Active now"},
		{119 * time.Second, false, "Active now"},
		{2 * time.Minute, false, "Active 2 min ago"},
		{59 * time.Minute, false, "Active 59 min ago"},
		{time.Hour, false, "Active 1 h ago"},
		{23 * time.Hour, false, "Active 23 h ago"},
		{24 * time.Hour, false, "Active yesterday"},
		{47 * time.Hour, false, "Active yesterday"},
		{48 * time.Hour, false, "Active 2 days ago"},
		{29 * 24 * time.Hour, false, "Active 29 days ago"},
		{40 * 24 * time.Hour, false, "Active 2 Feb 2030"},
	} {
		s := api.Session{Current: tc.current, LastSeenAt: now.Add(-tc.ago)}
		if got := activeText(s, now); got != tc.want {
			t.Errorf("activeText(%v ago, current %v) = %q, want %q", tc.ago, tc.current, got, tc.want)
		}
	}
}

func TestPlaceAndOSLine(t *testing.T) {
	for _, tc := range []struct {
		loc  api.Location
		want string
	}{
		{api.Location{City: "Lisbon", Region: "Lisbon", Country: "Portugal"}, "Lisbon, Portugal"},
		{api.Location{Country: "Portugal"}, "Portugal"},
		{api.Location{Region: "Bavaria"}, "Bavaria"},
		{api.Location{}, "Unknown location"},
	} {
		if got := place(tc.loc); got != tc.want {
			t.Errorf("place(%+v) = %q, want %q", tc.loc, got, tc.want)
		}
	}
	for _, tc := range []struct {
		dev  api.Device
		want string
	}{
		{api.Device{OS: "Android 15", Model: "Pixel 8"}, "Android 15 · Pixel 8"},
		{api.Device{OS: "Windows 11"}, "Windows 11"},
		{api.Device{Model: "iPad Air"}, "iPad Air"},
		{api.Device{}, "Unknown system"},
	} {
		if got := osLine(tc.dev); got != tc.want {
			t.Errorf("osLine(%+v) = %q, want %q", tc.dev, got, tc.want)
		}
	}
}

func TestDeviceIcon(t *testing.T) {
	for _, tc := range []struct {
		dev  api.Device
		want string
	}{
		{api.Device{Platform: api.PlatformAndroid, Model: "Pixel 8"}, iconPhone.Name()},
		{api.Device{Platform: api.PlatformAndroid, Model: "Galaxy Tab S9"}, iconTablet.Name()},
		{api.Device{Platform: api.PlatformIOS, Model: "iPad Air"}, iconTablet.Name()},
		{api.Device{Platform: api.PlatformIOS, Model: "iPhone 16"}, iconPhone.Name()},
		{api.Device{Platform: api.PlatformMacOS, Model: "MacBookAir10,1"}, iconLaptop.Name()},
		{api.Device{Platform: api.PlatformLinux, Model: "ThinkPad X1"}, iconLaptop.Name()},
		{api.Device{Platform: api.PlatformLinux, Name: "Ana's laptop"}, iconLaptop.Name()},
		{api.Device{Platform: api.PlatformWindows, Model: "OptiPlex 7010"}, theme.ComputerIcon().Name()},
		{api.Device{Platform: api.PlatformWeb}, theme.SearchIcon().Name()},
		{api.Device{Platform: "toaster"}, theme.QuestionIcon().Name()},
	} {
		if got := deviceIcon(tc.dev).Name(); got != tc.want {
			t.Errorf("deviceIcon(%+v) = %s, want %s", tc.dev, got, tc.want)
		}
	}
}

func TestNoticeText(t *testing.T) {
	now := epoch
	for _, tc := range []struct {
		name string
		n    app.RemoteLogout
		want string
	}{
		{"by a device", app.RemoteLogout{ByDeviceName: "Ana's Laptop", At: now, Reason: api.ReasonRemoteLogout},
			"You were logged out by Ana's Laptop at 09:41. If that wasn't you, log in and change your password."},
		{"yesterday", app.RemoteLogout{ByDeviceName: "Pixel 8", At: now.Add(-24 * time.Hour), Reason: api.ReasonLogoutOthers},
			"You were logged out by Pixel 8 at 13 Mar 09:41. If that wasn't you, log in and change your password."},
		{"unknown device", app.RemoteLogout{At: now, Reason: api.ReasonRemoteLogout},
			"This device was logged out at 09:41. If that wasn't you, log in and change your password."},
		{"server administrator", app.RemoteLogout{ByDeviceName: "Server administrator", At: now, Reason: api.ReasonAdmin},
			"You were logged out by the server administrator at 09:41. Log in again to continue."},
		{"too many wrong passwords", app.RemoteLogout{At: now, Reason: api.ReasonReauthFailed},
			"This device was logged out at 09:41 after too many wrong passwords in a row when confirming it was you. " +
				"If that wasn't you, someone else may have had this device: log in and change your password."},
		{"expired", app.RemoteLogout{At: now, Reason: api.ReasonExpired},
			"Your session ended. Log in again to continue."},
		{"password changed", app.RemoteLogout{At: now, Reason: api.ReasonPasswordChanged, ByDeviceName: "Pixel 8"},
			"Your password was changed at 09:41, which logged this device out."},
		{"token reuse", app.RemoteLogout{At: now, Reason: api.ReasonRefreshTokenReuse},
			"Your session was ended at 09:41 because its sign-in token was used from somewhere else. If that wasn't you, change your password."},
	} {
		if got := noticeText(&tc.n, now); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestAlertText(t *testing.T) {
	s := api.Session{Device: api.Device{Name: "Pixel 8"}}
	if got, want := alertText(s), "New sign-in on Pixel 8 — was this you?"; got != want {
		t.Errorf("without a place: %q, want %q", got, want)
	}
	s.Location = api.Location{City: "Berlin", Country: "Germany"}
	if got, want := alertText(s), "New sign-in on Pixel 8 near Berlin, Germany — was this you?"; got != want {
		t.Errorf("with a place: %q, want %q", got, want)
	}
}

func TestResetSummary(t *testing.T) {
	got := resetSummary(app.ResetReport{SessionsEnded: 1, SavedLoginsForgotten: 2, SecretsRemoved: 3,
		NotEnded: []string{"The saved login for ben (Can't reach the server.)"}}, errors.New("cache: permission denied"))
	for _, want := range []string{
		"• Sessions ended on the server: 1\n", "• Saved logins forgotten: 2\n", "• Keyring items deleted: 3\n",
		"Couldn't be ended on the server", "• The saved login for ben (Can't reach the server.)\n",
		"Some data could not be removed: cache: permission denied",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	clean := resetSummary(app.ResetReport{}, nil)
	if strings.Contains(clean, "Couldn't") || strings.Contains(clean, "could not") {
		t.Errorf("a clean reset reports problems:\n%s", clean)
	}
}

func TestWhenAndClock(t *testing.T) {
	if got := when(time.Time{}); got != "—" {
		t.Errorf("when(zero) = %q", got)
	}
	if got := when(epoch); got != "14 Mar 2030, 09:41" {
		t.Errorf("when = %q", got)
	}
	if got := clock(epoch.Add(time.Hour), epoch); got != "10:41" {
		t.Errorf("clock today = %q", got)
	}
	if got := clock(epoch.AddDate(-1, 0, 0), epoch); got != "14 Mar 09:41" {
		t.Errorf("clock a year ago = %q", got)
	}
}
