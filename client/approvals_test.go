package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"sessionguard/api"
)

const testInstallKey = "install-key-client-test-0123456789abcdef"

// TestApprovalJourney: a sign-in from a new install waits; PollApproval
// says pending, the phone approves with the number, PollApproval installs
// the tokens; denial and expiry map to their sentinels.
func TestApprovalJourney(t *testing.T) {
	ctx := context.Background()
	ts, phone, _ := signedIn(t, "ana", "Pixel 8", false)
	ts.cfg.ApprovalPollWait = 200 * time.Millisecond
	ts.restart(0)
	phone.CloseIdleConnections() // its kept-alive connection was to the server before the restart
	if _, err := phone.PutSettings(ctx, api.Settings{ApproveNewDevices: true}); err != nil {
		t.Fatal(err)
	}
	laptop := newClient(t, ts.URL(), WithPollTimeout(5*time.Second))
	l, err := laptop.Login(ctx, api.LoginRequest{Username: "ana", Password: testPassword, Device: device("Laptop"), InstallKey: testInstallKey})
	if err != nil || !l.ApprovalRequired || l.Approval == nil {
		t.Fatalf("Login = %+v, %v", l, err)
	}
	if _, err := laptop.PollApproval(ctx, l.ApprovalToken, testInstallKey); !errors.Is(err, ErrApprovalPending) || errors.Is(err, ErrServer) {
		t.Fatalf("PollApproval = %v, want ErrApprovalPending", err)
	}
	if err := phone.DecideApproval(ctx, l.Approval.ID, true, l.Approval.Number); err != nil {
		t.Fatal(err)
	}
	got, err := laptop.PollApproval(ctx, l.ApprovalToken, testInstallKey)
	if err != nil || got.Session == nil || got.AccessToken == "" {
		t.Fatalf("PollApproval = %+v, %v", got, err)
	}
	laptop.SetTokens(got.Tokens()) // as after Login: the caller installs them
	if _, err := laptop.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.PollApproval(ctx, l.ApprovalToken, testInstallKey); !errors.Is(err, ErrExpired) {
		t.Fatalf("second PollApproval = %v, want ErrExpired", err)
	}
	if err := phone.DecideApproval(ctx, l.Approval.ID, true, l.Approval.Number); !errors.Is(err, ErrExpired) {
		t.Fatalf("second DecideApproval = %v", err)
	}

	stranger := newClient(t, ts.URL())
	l2, err := stranger.Login(ctx, api.LoginRequest{Username: "ana", Password: testPassword, Device: device("Stranger")})
	if err != nil || !l2.ApprovalRequired {
		t.Fatalf("Login = %+v, %v", l2, err)
	}
	if err := phone.DecideApproval(ctx, l2.Approval.ID, false, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := stranger.PollApproval(ctx, l2.ApprovalToken, ""); !errors.Is(err, ErrLoginDenied) {
		t.Fatalf("PollApproval = %v, want ErrLoginDenied", err)
	}
	if _, err := stranger.PollApproval(ctx, "", ""); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("PollApproval(\"\") = %v", err)
	}
}

// TestLinkJourney: StartLink, CheckLink, ApproveLink (step-up), PollLink.
func TestLinkJourney(t *testing.T) {
	ctx := context.Background()
	ts, phone, _ := signedIn(t, "ana", "Pixel 8", false)
	ts.cfg.ApprovalPollWait = 200 * time.Millisecond
	ts.restart(0)
	phone.CloseIdleConnections() // its kept-alive connection was to the server before the restart
	pc := newClient(t, ts.URL())
	ls, err := pc.StartLink(ctx, api.LinkStartRequest{Device: device("Library PC")})
	if err != nil || len(ls.UserCode) != 9 {
		t.Fatalf("StartLink = %+v, %v", ls, err)
	}
	if _, err := pc.PollLink(ctx, ls.LinkToken); !errors.Is(err, ErrApprovalPending) {
		t.Fatalf("PollLink = %v", err)
	}
	p, err := phone.CheckLink(ctx, ls.UserCode)
	if err != nil || p.Device.Name != "Library PC" {
		t.Fatalf("CheckLink = %+v, %v", p, err)
	}
	if _, err := phone.CheckLink(ctx, "ZZZZ-ZZZZ"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CheckLink(wrong) = %v", err)
	}
	ts.clock.Advance(11 * time.Minute)
	if err := phone.ApproveLink(ctx, ls.UserCode); !errors.Is(err, ErrReauthRequired) {
		t.Fatalf("ApproveLink = %v, want ErrReauthRequired", err)
	}
	ts.clock.Advance(-11 * time.Minute)
	if _, err := phone.Reauth(ctx, api.ReauthRequest{Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	if err := phone.ApproveLink(ctx, ls.UserCode); err != nil {
		t.Fatal(err)
	}
	got, err := pc.PollLink(ctx, ls.LinkToken)
	if err != nil || got.Account == nil || got.Account.Username != "ana" || got.RefreshToken == "" {
		t.Fatalf("PollLink = %+v, %v", got, err)
	}
	if _, err := pc.PollLink(ctx, ls.LinkToken); !errors.Is(err, ErrExpired) {
		t.Fatalf("second PollLink = %v", err)
	}
}
