package server

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/token"
)

// Demo account credentials created by SeedDemo.
const (
	DemoUsername = "demo"
	DemoPassword = "correct-horse-battery"
)

// demoDevice is one simulated sign-in of the demo account.
type demoDevice struct {
	dev      api.Device
	ip       string
	loc      api.Location
	signedIn time.Duration // before now
	seen     time.Duration // before now
	remember bool
}

// demoOldApp is the demo's older app version: its device is not bound to
// a key (the app before issue 21), the others are.
const demoOldApp = "0.9.2"

var demoDevices = []demoDevice{
	{api.Device{Name: "Ana's Pixel 8", Platform: api.PlatformAndroid, OS: "Android 15", Model: "Pixel 8", AppVersion: "1.0.0"},
		"203.0.113.24", api.Location{City: "Lisbon", Region: "Lisbon", Country: "Portugal", CountryCode: "PT"}, 20 * 24 * time.Hour, 2 * time.Minute, true},
	{api.Device{Name: "Work laptop", Platform: api.PlatformWindows, OS: "Windows 11", Model: "ThinkPad X1 Carbon", AppVersion: "1.0.0"},
		"198.51.100.7", api.Location{City: "Berlin", Region: "Berlin", Country: "Germany", CountryCode: "DE"}, 9 * 24 * time.Hour, 3 * time.Hour, true},
	{api.Device{Name: "iPad", Platform: api.PlatformIOS, OS: "iPadOS 18.1", Model: "iPad Air", AppVersion: "1.0.0"},
		"192.0.2.133", api.Location{City: "Porto", Region: "Porto", Country: "Portugal", CountryCode: "PT"}, 40 * 24 * time.Hour, 2 * 24 * time.Hour, true},
	{api.Device{Name: "MacBook Air", Platform: api.PlatformMacOS, OS: "macOS 15.1", Model: "MacBookAir10,1", AppVersion: demoOldApp},
		"203.0.113.90", api.Location{City: "London", Region: "England", Country: "United Kingdom", CountryCode: "GB"}, 5 * time.Hour, 40 * time.Minute, false},
	{api.Device{Name: "Hotel lobby PC", Platform: api.PlatformLinux, OS: "Ubuntu 24.04", AppVersion: "1.0.0"},
		"198.51.100.201", api.Location{City: "New York", Region: "New York", Country: "United States", CountryCode: "US"}, 8 * time.Hour, 7 * time.Hour, false},
}

// SeedDemo creates the demo account (DemoUsername / DemoPassword) with
// several simulated devices in different places, so the device list has
// something real to show and close. It is idempotent: an existing demo
// account is left as it is and ok is false.
func (s *Server) SeedDemo(ctx context.Context) (ok bool, err error) {
	return s.SeedDemoDevices(ctx, len(demoDevices))
}

// MaxDemoDevices is the most devices SeedDemoDevices makes.
const MaxDemoDevices = 100_000

// SeedDemoDevices is SeedDemo with n simulated devices (at least the five
// of the demo, at most MaxDemoDevices): past the five, copies of them
// numbered ("Work laptop 1234"), each from its own address, last used at
// times spread over the past 25 days (remembered, so all still live),
// with one sign-in event each. It is
// for trying the app on a large account.
func (s *Server) SeedDemoDevices(ctx context.Context, n int) (ok bool, err error) {
	if n < len(demoDevices) || n > MaxDemoDevices {
		return false, fmt.Errorf("the demo account has %d to %d devices, not %d", len(demoDevices), MaxDemoDevices, n)
	}
	if _, err := s.CreateAccount(ctx, DemoUsername, DemoPassword); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.code == api.CodeUsernameTaken {
			return false, nil
		}
		return false, err
	}
	acct, err := s.store.AccountByUsername(ctx, DemoUsername)
	if err != nil {
		return false, err
	}
	now := s.now()
	devices := slices.Clone(demoDevices)
	for i := len(demoDevices); i < n; i++ {
		d := demoDevices[i%len(demoDevices)]
		d.dev.Name = fmt.Sprintf("%s %d", d.dev.Name, i)
		d.ip = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		d.seen = 25 * 24 * time.Hour / time.Duration(n) * time.Duration(i) // divided first: no overflow
		d.signedIn, d.remember = d.seen+24*time.Hour, true                 // all live for the next few days
		devices = append(devices, d)
	}
	slices.SortFunc(devices, func(a, b demoDevice) int { return cmp.Compare(b.signedIn, a.signedIn) }) // oldest first, so the log reads in order
	events := make([]api.AuditEvent, 0, len(devices))
	for _, d := range devices {
		d.dev.ID = token.NewID("dev_")
		created, seen := now.Add(-d.signedIn), now.Add(-d.seen)
		sess := store.Session{
			ID: token.NewID("ses_"), AccountID: acct.ID, Device: d.dev, IP: d.ip, Location: d.loc,
			CreatedAt: created, LastSeenAt: seen, AuthTime: created, Remember: d.remember,
			AbsoluteExpiresAt: s.absoluteExpiry(d.remember, created),
			AccessHash:        token.Hash(token.New(token.PrefixAccess)), AccessExpiresAt: seen.Add(s.cfg.AccessTTL),
		}
		if d.dev.AppVersion != demoOldApp {
			// Today's app binds its sessions to a key on the device (issue
			// 21): a stand-in thumbprint, whose key no one holds.
			sess.JKT = base64.RawURLEncoding.EncodeToString(token.Hash(sess.ID))
		}
		sess.ExpiresAt = s.expiry(sess, seen)
		rt := store.RefreshToken{Hash: token.Hash(token.New(token.PrefixRefresh)), SessionID: sess.ID, IssuedAt: seen, ExpiresAt: sess.ExpiresAt}
		if err := s.store.CreateSession(ctx, sess, rt); err != nil {
			return false, err
		}
		events = append(events, s.stamp(api.AuditEvent{Type: api.AuditLoginSucceeded, IP: d.ip, Location: d.loc,
			At: created, SessionID: sess.ID, DeviceName: d.dev.Name, Detail: rememberDetail(d.remember)}))
	}
	// The sign-ins' events, a thousand to a transaction.
	for chunk := range slices.Chunk(events, 1000) {
		if _, err := s.store.AppendAudit(ctx, acct.ID, chunk...); err != nil {
			return false, err
		}
	}
	return true, nil
}
