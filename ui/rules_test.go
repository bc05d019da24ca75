package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/theme"

	"sessionguard/api"
	"sessionguard/app"
)

func TestRuleWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		app.Day:          "1 day",
		3 * app.Day:      "3 days",
		7 * app.Day:      "1 week",
		14 * app.Day:     "2 weeks",
		30 * app.Day:     "1 month",
		90 * app.Day:     "3 months",
		180 * app.Day:    "6 months",
		365 * app.Day:    "1 year",
		730 * app.Day:    "2 years",
		time.Hour:        "1 hour",
		2 * time.Hour:    "2 hours",
		90 * time.Minute: "90 minutes",
		36 * time.Hour:   "36 hours",
		45 * time.Second: "1 minute",
	} {
		if got := ruleWords(d); got != want {
			t.Errorf("ruleWords(%v) = %q, want %q", d, got, want)
		}
	}
	var labels []string
	for _, d := range app.InactivityChoices {
		labels = append(labels, inactivityLabel(d))
	}
	if want := []string{"Never", "After 1 week", "After 1 month", "After 3 months", "After 6 months", "After 1 year"}; !slices.Equal(labels, want) {
		t.Errorf("account choices %q, want %q", labels, want)
	}
	labels = nil
	for _, d := range app.DeviceRuleChoices {
		labels = append(labels, deviceRuleLabel(d))
	}
	if want := []string{"Never", "1 day", "3 days", "1 week", "1 month", "3 months"}; !slices.Equal(labels, want) {
		t.Errorf("device choices %q, want %q", labels, want)
	}
	if got := ruleChoices(2 * time.Hour); got[1] != 2*time.Hour || len(got) != len(app.DeviceRuleChoices)+1 {
		t.Errorf("a rule set elsewhere is not among the choices: %v", got)
	}
	if got := ruleChoices(365 * app.Day); got[len(got)-1] != 365*app.Day {
		t.Errorf("a long rule set elsewhere is not last: %v", got)
	}
	if got := ruleChoices(7 * app.Day); !slices.Equal(got, app.DeviceRuleChoices) {
		t.Errorf("choices %v", got)
	}
}

func TestUnusedPreview(t *testing.T) {
	now := epoch
	dev := func(name string, unused time.Duration, current bool) api.Session {
		return api.Session{ID: name, Current: current, Device: api.Device{Name: name}, LastSeenAt: now.Add(-unused)}
	}
	list := []api.Session{
		dev("Ana's Laptop", 200*app.Day, true), // this device never goes in the preview
		dev("Hotel lobby PC", 95*app.Day, false),
		dev("iPad", 120*app.Day, false),
		dev("Pixel 8", time.Hour, false),
	}
	for _, tc := range []struct {
		rule              time.Duration
		partial, changing bool
		want              string
	}{
		{90 * app.Day, false, false, "2 devices haven't been used for 3 months: Hotel lobby PC, iPad."},
		{90 * app.Day, false, true, "2 devices haven't been used for 3 months: Hotel lobby PC, iPad. They are logged out within a minute of saving."},
		{90 * app.Day, true, false, "At least 2 devices haven't been used for 3 months: Hotel lobby PC, iPad."},
		{100 * app.Day, false, true, "1 device hasn't been used for 100 days: iPad. It is logged out within a minute of saving."},
		{180 * app.Day, false, false, "No device has been unused that long."},
		{180 * app.Day, true, false, "None of the devices shown in Login activity has been unused that long."},
		{0, false, true, "Devices stay logged in however long they go unused, until their login ends or you log them out."},
	} {
		if got := unusedPreview(list, tc.rule, now, tc.partial, tc.changing); got != tc.want {
			t.Errorf("%v partial=%v changing=%v:\n got %q\nwant %q", tc.rule, tc.partial, tc.changing, got, tc.want)
		}
	}
	var many []api.Session
	for _, n := range []string{"A", "B", "C", "D", "E", "F", "G"} {
		many = append(many, dev(n, 400*app.Day, false))
	}
	if got, want := unusedPreview(many, 365*app.Day, now, false, false), "7 devices haven't been used for 1 year: A, B, C, D, E, and 2 more."; got != want {
		t.Errorf("many:\n got %q\nwant %q", got, want)
	}
}

func TestEffectiveRule(t *testing.T) {
	s := api.Session{IdleTimeoutS: int(7 * app.Day / time.Second)}
	if got := ruleLine(effectiveRule(s, app.Snapshot{})); got != "Logs out after 1 week unused" {
		t.Errorf("own rule, account unknown: %q", got)
	}
	month := &api.Settings{AutoLogoutInactiveAfterS: int(30 * app.Day / time.Second)}
	if got := ruleLine(effectiveRule(s, app.Snapshot{Settings: month})); got != "Logs out after 1 week unused" {
		t.Errorf("own rule stricter: %q", got)
	}
	if got := ruleLine(effectiveRule(api.Session{}, app.Snapshot{Settings: month})); got != "Logs out after 1 month unused" {
		t.Errorf("account's rule: %q", got)
	}
	if got := ruleLine(effectiveRule(api.Session{}, app.Snapshot{})); got != "" {
		t.Errorf("no rule: %q", got)
	}
	if got, want := ruleNote(app.Snapshot{Settings: month}, api.Session{}),
		"Logs out after 1 month unused: your account logs out every device unused that long (Settings → Log out inactive devices)."; got != want {
		t.Errorf("note:\n got %q\nwant %q", got, want)
	}
	if got, want := ruleNote(app.Snapshot{Settings: month}, s), "Logs out after 1 week unused."; got != want {
		t.Errorf("note:\n got %q\nwant %q", got, want)
	}
	for _, tc := range []struct {
		s    app.Snapshot
		fail bool
		want string
	}{
		{app.Snapshot{Settings: month}, false, "After 1 month"},
		{app.Snapshot{Settings: &api.Settings{}}, false, "Never"},
		{app.Snapshot{Offline: true}, false, "Unknown"},
		{app.Snapshot{}, true, "Unknown"},
		{app.Snapshot{}, false, "…"},
	} {
		if got := settingValue(tc.s, tc.fail); got != tc.want {
			t.Errorf("settingValue(%+v, %v) = %q, want %q", tc.s, tc.fail, got, tc.want)
		}
	}
}

func TestInactiveNotice(t *testing.T) {
	now := epoch.Add(8 * time.Hour) // 17:41
	at := epoch.Add(7*time.Hour + 40*time.Minute)
	n := app.RemoteLogout{Username: "ana", At: at, Reason: api.ReasonInactive, UnusedFor: 30 * app.Day}
	if got, want := revokedNotice(&n, "vm", now), "This device was logged out at 17:21 today because it wasn't used for 1 month."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	n.UnusedFor = 0
	if got, want := revokedNotice(&n, "vm", now), "This device was logged out at 17:21 today because it went unused longer than your account allows."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	an := app.AccountNotice{Username: "ana", Server: "https://sessions.example.com",
		Logout: &app.RemoteLogout{At: at, Reason: api.ReasonInactive, UnusedFor: 7 * app.Day}}
	if got, want := accountNotice(an, "vm", now), "ana (sessions.example.com) was logged out here at 17:21 today because it wasn't used for 1 week."; got != want {
		t.Errorf("accounts:\n got %q\nwant %q", got, want)
	}
	an.Logout.UnusedFor = 0
	if got, want := accountNotice(an, "vm", now), "ana (sessions.example.com) was logged out here at 17:21 today because it went unused longer than the account allows."; got != want {
		t.Errorf("accounts:\n got %q\nwant %q", got, want)
	}
	ended := api.Session{RevokeReason: api.ReasonInactive, RevokedAt: &at}
	if got, want := endedHow(ended, "", now), "Logged out after going unused · Today 17:21"; got != want {
		t.Errorf("ended: %q, want %q", got, want)
	}
}

func TestRuleInDetail(t *testing.T) {
	for detail, want := range map[string]time.Duration{
		// The server's words (server/rules.go).
		"Unused for 1 month: logged out by the account's rule (inactive)":                             30 * app.Day,
		"Unused for 1 day: logged out by this device's own rule (inactive); saved login info removed": app.Day,
		"Log out if unused for 1 week":                        7 * app.Day,
		"Log out if unused for 3 days (was 1 week)":           3 * app.Day,
		"Rule removed (was 1 day)":                            0,
		"Log out devices unused for 3 months (was never)":     90 * app.Day,
		"Never log out inactive devices (was 1 month)":        0,
		"Log out devices unused for 90 minutes (was 2 hours)": 90 * time.Minute,
		// Terser ones.
		"720h0m0s":                             30 * app.Day,
		"idle_timeout_s=86400":                 app.Day,
		"auto_logout_inactive_after_s 7776000": 90 * app.Day,
		"auto_logout_inactive_after_s=0":       0,
	} {
		got, ok := ruleInDetail(detail)
		if !ok || got != want {
			t.Errorf("ruleInDetail(%q) = %v, %v; want %v", detail, got, ok, want)
		}
	}
	if _, ok := ruleInDetail("Renamed to “Work phone”"); ok {
		t.Error("a detail without a rule reads as one")
	}
}

func TestRuleSentences(t *testing.T) {
	now := epoch
	lobby := api.AuditEvent{Type: api.AuditSessionRevoked, At: now, SessionID: "ses_lobby", DeviceName: "Hotel lobby PC",
		TargetSessionID: "ses_lobby", TargetDeviceName: "Hotel lobby PC", Detail: "Unused for 1 month: logged out by the account's rule (inactive)"}
	if got, want := activityWhat(lobby, "ses_laptop"), "Hotel lobby PC was logged out after 1 month unused"; got != want {
		t.Errorf("inactive: %q, want %q", got, want)
	}
	if got, want := activityWhere(lobby, now), "On the server · Today 09:41"; got != want {
		t.Errorf("the sweep's place: %q, want %q", got, want)
	}
	lobby.IP = "192.0.2.30" // refused at its next request: from where it called
	lobby.Location = api.Location{City: "Porto", Country: "Portugal"}
	if got, want := activityWhere(lobby, now), "Porto, Portugal · Today 09:41"; got != want {
		t.Errorf("the next request's place: %q, want %q", got, want)
	}
	if eventIcon(lobby).Name() != theme.LogoutIcon().Name() {
		t.Error("an inactive log out does not get the log out icon")
	}
	lobby.Detail = "Logged out (inactive)"
	if got, want := activityWhat(lobby, "ses_laptop"), "Hotel lobby PC was logged out after a while unused"; got != want {
		t.Errorf("inactive, no rule: %q, want %q", got, want)
	}

	rules := func(by, bySession, target, targetSession, detail string) api.AuditEvent {
		return api.AuditEvent{Type: api.AuditSessionRulesChanged, At: now, SessionID: bySession, DeviceName: by,
			TargetSessionID: targetSession, TargetDeviceName: target, Detail: detail}
	}
	const self = "ses_laptop"
	for _, tc := range []struct {
		e    api.AuditEvent
		want string
	}{
		{rules("Ana's Laptop", self, "Hotel lobby PC", "ses_lobby", "Log out if unused for 1 week"), "You set Hotel lobby PC to log out after 1 week unused from here"},
		{rules("Ana's Laptop", self, "Hotel lobby PC", "ses_lobby", "Rule removed (was 1 week)"), "You removed Hotel lobby PC's rule to log out when unused from here"},
		{rules("Pixel 8", "ses_phone", "Hotel lobby PC", "ses_lobby", "Log out if unused for 1 day (was 3 days)"), "Pixel 8 set Hotel lobby PC to log out after 1 day unused"},
		{rules("Pixel 8", "ses_phone", "Ana's Laptop", self, "Log out if unused for 1 day"), "Pixel 8 set this device to log out after 1 day unused"},
		{rules("Ana's Laptop", self, "Ana's Laptop", self, "Log out if unused for 3 days"), "You set this device to log out after 3 days unused"},
		{rules("Pixel 8", "ses_phone", "Pixel 8", "ses_phone", "Rule removed (was 1 day)"), "Pixel 8 removed its own rule to log out when unused"},
		{rules("Pixel 8", "ses_phone", "Hotel lobby PC", "ses_lobby", ""), "Pixel 8 changed Hotel lobby PC's rule to log out when unused"},
	} {
		if got := activityWhat(tc.e, self); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.e.Detail, got, tc.want)
		}
	}

	settings := api.AuditEvent{Type: api.AuditSettingsChanged, At: now, SessionID: self, DeviceName: "Ana's Laptop",
		Detail: "Log out devices unused for 1 month (was never)"}
	if got, want := activityWhat(settings, self), "You changed when inactive devices are logged out: after 1 month"; got != want {
		t.Errorf("settings: %q, want %q", got, want)
	}
	settings.Detail = "Never log out inactive devices (was 1 month); Approval of new devices turned on"
	if got, want := activityWhat(settings, "ses_phone"), "Ana's Laptop changed when inactive devices are logged out: never"; got != want {
		t.Errorf("settings: %q, want %q", got, want)
	}
	settings.Detail = "Approval of new devices turned on"
	if got, want := activityWhat(settings, self), "You changed the account's settings"; got != want {
		t.Errorf("other settings: %q, want %q", got, want)
	}
}

func TestRuleRefusal(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"idle_timeout_s must be at most 43200 (12 hours), this session's lifetime.",
			"Library PC stays logged in for only 12 hours, less than 1 day: it logs out before such a rule could apply."},
		{"idle_timeout_s must be at least 172800 (2 days), or 0 to remove the rule.", "The shortest rule this server allows is 2 days."},
		{"idle_timeout_s must be at most 31536000 (1 year).", "The longest rule this server allows is 1 year."},
		{"Something else.", "Something else."},
		{"odd ) (", "odd ) ("},
	} {
		if got := ruleRefusal(tc.msg, "Library PC", app.Day); got != tc.want {
			t.Errorf("ruleRefusal(%q):\n got %q\nwant %q", tc.msg, got, tc.want)
		}
	}
}
