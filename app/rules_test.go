package app_test

import (
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/app"
)

func TestRuleStricterWins(t *testing.T) {
	for _, tc := range []struct {
		own, account, want time.Duration
	}{
		{0, 0, 0},
		{0, 30 * app.Day, 30 * app.Day},
		{7 * app.Day, 0, 7 * app.Day},
		{7 * app.Day, 30 * app.Day, 7 * app.Day},
		{90 * app.Day, 30 * app.Day, 30 * app.Day},
		{-time.Second, 30 * app.Day, 30 * app.Day},
	} {
		if got := app.Rule(tc.own, tc.account); got != tc.want {
			t.Errorf("Rule(%v, %v) = %v, want %v", tc.own, tc.account, got, tc.want)
		}
	}
}

func TestUnusedFor(t *testing.T) {
	now := time.Date(2030, 3, 14, 12, 0, 0, 0, time.UTC)
	list := []api.Session{
		{ID: "self", Current: true, LastSeenAt: now.Add(-400 * app.Day)}, // this device is never listed
		{ID: "lobby", LastSeenAt: now.Add(-95 * app.Day)},
		{ID: "tablet", LastSeenAt: now.Add(-31 * app.Day)},
		{ID: "phone", LastSeenAt: now.Add(-time.Hour)},
	}
	for _, tc := range []struct {
		rule time.Duration
		want []string
	}{
		{0, nil},
		{90 * app.Day, []string{"lobby"}},
		{30 * app.Day, []string{"lobby", "tablet"}},
		{365 * app.Day, nil},
	} {
		var got []string
		for _, s := range app.UnusedFor(list, tc.rule, now) {
			got = append(got, s.ID)
		}
		if len(got) != len(tc.want) || (len(got) > 0 && got[len(got)-1] != tc.want[len(tc.want)-1]) {
			t.Errorf("UnusedFor(%v) = %v, want %v", tc.rule, got, tc.want)
		}
	}
}
