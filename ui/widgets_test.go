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
	now := epoch // 14 Mar 2030, 09:41
	for _, tc := range []struct {
		ago     time.Duration
		current bool
		want    string
	}{
		{0, true, "Active now"},
		{5 * time.Hour, true, "Active now"},
		{0, false, "Active now"},
		{4*time.Minute + 59*time.Second, false, "Active now"},
		{5 * time.Minute, false, "Active 5 min ago"},
		{59 * time.Minute, false, "Active 59 min ago"},
		{time.Hour, false, "Active 1 h ago"},
		{9 * time.Hour, false, "Active 9 h ago"},
		{12 * time.Hour, false, "Last active Yesterday 21:41"},
		{24 * time.Hour, false, "Last active Yesterday 09:41"},
		{48 * time.Hour, false, "Last active 12 Mar, 09:41"},
		{120 * 24 * time.Hour, false, "Last active 14 Nov 2029, 09:41"},
	} {
		s := api.Session{Current: tc.current, LastSeenAt: now.Add(-tc.ago)}
		if got := activeText(s, now); got != tc.want {
			t.Errorf("activeText(%v ago, current %v) = %q, want %q", tc.ago, tc.current, got, tc.want)
		}
	}
}

func TestPlaceAndOSLine(t *testing.T) {
	lisbon := api.Location{City: "Lisbon", Region: "Lisbon", Country: "Portugal"}
	for _, tc := range []struct {
		loc  api.Location
		ip   string
		want string
	}{
		{lisbon, "203.0.113.10", "Lisbon, Portugal"},
		{lisbon, "127.0.0.1", "Lisbon, Portugal"}, // the server's word wins
		{api.Location{Country: "Portugal"}, "", "Portugal"},
		{api.Location{Region: "Bavaria"}, "", "Bavaria"},
		// No location from the server: the address says what it can.
		{api.Location{}, "127.0.0.1", "This computer"},
		{api.Location{}, "::1", "This computer"},
		{api.Location{}, "::ffff:127.0.0.1", "This computer"},
		{api.Location{}, "192.168.1.20", "Local network"},
		{api.Location{}, "10.0.0.7", "Local network"},
		{api.Location{}, "172.16.5.4", "Local network"},
		{api.Location{}, "fd12:3456::1", "Local network"},
		{api.Location{}, "fe80::1", "Local network"},
		{api.Location{}, "100.64.1.1", "Local network"},
		{api.Location{}, "203.0.113.10", "Unknown location"},
		{api.Location{}, "2001:db8::1", "Unknown location"},
		{api.Location{}, "", "Unknown location"},
		{api.Location{}, "not an address", "Unknown location"},
	} {
		if got := placeOf(tc.loc, tc.ip); got != tc.want {
			t.Errorf("placeOf(%+v, %q) = %q, want %q", tc.loc, tc.ip, got, tc.want)
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
		{api.Device{Platform: api.PlatformWeb}, iconBrowser.Name()},
		{api.Device{Platform: "toaster"}, theme.QuestionIcon().Name()},
	} {
		if got := deviceIcon(tc.dev).Name(); got != tc.want {
			t.Errorf("deviceIcon(%+v) = %s, want %s", tc.dev, got, tc.want)
		}
	}
}

func TestRevokedNotice(t *testing.T) {
	now := epoch // 14 Mar 2030, 09:41
	for _, tc := range []struct {
		name string
		n    app.RemoteLogout
		self string
		want string
	}{
		{"by a device", app.RemoteLogout{ByDeviceName: "Ana's Laptop", At: now, Reason: api.ReasonRemoteLogout}, "Pixel 8",
			"You were logged out by Ana's Laptop at 09:41 today. If that wasn't you, log in and change your password."},
		{"by a device of the same name", app.RemoteLogout{ByDeviceName: "vm", At: now.Add(-4 * time.Hour), Reason: api.ReasonRemoteLogout}, "vm",
			"You were logged out by another device named vm, at 05:41 today. If that wasn't you, log in and change your password."},
		{"yesterday", app.RemoteLogout{ByDeviceName: "Pixel 8", At: now.Add(-24 * time.Hour), Reason: api.ReasonLogoutOthers}, "vm",
			"You were logged out by Pixel 8 at 09:41 yesterday. If that wasn't you, log in and change your password."},
		{"earlier this year", app.RemoteLogout{ByDeviceName: "Pixel 8", At: now.AddDate(0, 0, -5), Reason: api.ReasonRemoteLogout}, "vm",
			"You were logged out by Pixel 8 at 09:41 on 9 Mar. If that wasn't you, log in and change your password."},
		{"unknown device", app.RemoteLogout{At: now, Reason: api.ReasonRemoteLogout}, "vm",
			"This device was logged out at 09:41 today. If that wasn't you, log in and change your password."},
		{"server administrator", app.RemoteLogout{ByDeviceName: "Server administrator", At: now, Reason: api.ReasonAdmin}, "vm",
			"You were logged out by the server administrator at 09:41 today. Log in again to continue."},
		{"too many wrong passwords", app.RemoteLogout{At: now, Reason: api.ReasonReauthFailed}, "vm",
			"This device was logged out at 09:41 today after too many wrong passwords in a row when confirming it was you. " +
				"If that wasn't you, someone else may have had this device: log in and change your password."},
		{"expired", app.RemoteLogout{At: now, Reason: api.ReasonExpired}, "vm",
			"Your session ended. Log in again to continue."},
		{"its key gone", app.RemoteLogout{At: now, Reason: api.ReasonDPoP}, "vm",
			"This device's login key is gone (its keyring was cleared or can't be read), so its session can't be used here any more. Log in again."},
		{"password changed", app.RemoteLogout{At: now, Reason: api.ReasonPasswordChanged, ByDeviceName: "Pixel 8"}, "vm",
			"Your password was changed at 09:41 today, which logged this device out."},
		{"token reuse", app.RemoteLogout{At: now, Reason: api.ReasonRefreshTokenReuse}, "vm",
			"Your session was ended at 09:41 today because its sign-in token was used from somewhere else. If that wasn't you, change your password."},
	} {
		if got := revokedNotice(&tc.n, tc.self, now); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestAlertText(t *testing.T) {
	for _, tc := range []struct {
		s    api.Session
		want string
	}{
		{api.Session{Device: api.Device{Name: "Pixel 8"}, IP: "203.0.113.10"}, "New sign-in on Pixel 8 — was this you?"},
		{api.Session{Device: api.Device{Name: "Pixel 8"}, Location: api.Location{City: "Berlin", Country: "Germany"}},
			"New sign-in on Pixel 8 near Berlin, Germany — was this you?"},
		{api.Session{Device: api.Device{Name: "Pixel 8"}, IP: "127.0.0.1"}, "New sign-in on Pixel 8 on this computer — was this you?"},
		{api.Session{Device: api.Device{Name: "Pixel 8"}, IP: "192.168.1.5"}, "New sign-in on Pixel 8 on your local network — was this you?"},
	} {
		if got := alertText(tc.s); got != tc.want {
			t.Errorf("alertText = %q, want %q", got, tc.want)
		}
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

func TestStampAndClock(t *testing.T) {
	now := epoch // Thursday 14 Mar 2030, 09:41
	for _, tc := range []struct {
		t            time.Time
		stamp, clock string
	}{
		{time.Time{}, "—", ""},
		{now.Add(time.Hour), "Today 10:41", "10:41 today"},
		{time.Date(2030, 3, 14, 0, 5, 0, 0, time.UTC), "Today 00:05", "00:05 today"},
		{time.Date(2030, 3, 13, 23, 59, 0, 0, time.UTC), "Yesterday 23:59", "23:59 yesterday"},
		{time.Date(2030, 3, 15, 8, 0, 0, 0, time.UTC), "Tomorrow 08:00", "08:00 tomorrow"},
		{time.Date(2030, 3, 12, 9, 10, 0, 0, time.UTC), "12 Mar, 09:10", "09:10 on 12 Mar"},
		{time.Date(2030, 4, 13, 11, 41, 0, 0, time.UTC), "13 Apr, 11:41", "11:41 on 13 Apr"},
		{time.Date(2029, 11, 21, 9, 41, 0, 0, time.UTC), "21 Nov 2029, 09:41", "09:41 on 21 Nov 2029"},
		{time.Date(2029, 12, 31, 23, 0, 0, 0, time.UTC), "31 Dec 2029, 23:00", "23:00 on 31 Dec 2029"},
	} {
		if got := stamp(tc.t, now); got != tc.stamp {
			t.Errorf("stamp(%v) = %q, want %q", tc.t, got, tc.stamp)
		}
		if tc.t.IsZero() {
			continue
		}
		if got := clock(tc.t, now); got != tc.clock {
			t.Errorf("clock(%v) = %q, want %q", tc.t, got, tc.clock)
		}
	}
	// New Year's Day: yesterday is last year's, and shown as "Yesterday".
	ny := time.Date(2031, 1, 1, 8, 0, 0, 0, time.UTC)
	if got := stamp(time.Date(2030, 12, 31, 22, 0, 0, 0, time.UTC), ny); got != "Yesterday 22:00" {
		t.Errorf("across the year: %q", got)
	}
}
