package app_test

import (
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sessionguard/app"
	"sessionguard/client"
)

// network is a device's network, switched by the test: up, the server
// not answering (connection refused), or no network at all.
type network struct{ state atomic.Int32 }

const (
	netUp int32 = iota
	netRefused
	netNone
)

func (n *network) hook(o *opening) {
	o.intercept(func(r *http.Request, _ []byte) (*http.Response, error) {
		switch n.state.Load() {
		case netRefused:
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		case netNone:
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}
		}
		return nil, nil
	})
}

// TestOfflineOrUnreachable: "you're offline" and "the server does not
// answer" are told apart in the snapshot and in words; Retry brings the
// app back, and the error about reaching the server goes with it.
func TestOfflineOrUnreachable(t *testing.T) {
	b := newBackend(t)
	var n network
	d := b.device("Laptop", n.hook)
	for _, tc := range []struct {
		state int32
		link  app.Link
		err   string
	}{
		{netNone, app.LinkOffline, "You're offline. Check your connection and try again."},
		{netRefused, app.LinkUnreachable, "Can't reach " + strings.TrimPrefix(b.url, "http://") + ". Check your connection, or try again in a moment."},
	} {
		n.state.Store(tc.state)
		err := d.app.SignIn(ctx, "ana", password, false)
		s := d.snap()
		if !errors.Is(err, client.ErrOffline) || !s.Offline || s.Link != tc.link || s.Err != tc.err {
			t.Fatalf("sign-in, network %d: %v; offline %v, link %v, err %q", tc.state, err, s.Offline, s.Link, s.Err)
		}
	}

	n.state.Store(netUp)
	start := time.Now()
	d.signUp("ana", false)
	n.state.Store(netRefused)
	if err := d.app.LoadDevices(ctx); !errors.Is(err, client.ErrOffline) {
		t.Fatalf("load with the server down: %v", err)
	}
	s := d.snap()
	if !s.Offline || s.Link != app.LinkUnreachable || s.LastUpdated.IsZero() || s.Err == "" {
		t.Fatalf("server down: offline %v link %v last updated %v err %q", s.Offline, s.Link, s.LastUpdated, s.Err)
	}
	// LastUpdated is the server's last answer, since the sign-up.
	if ago := time.Since(s.LastUpdated); ago < 0 || ago > time.Since(start) {
		t.Fatalf("last updated %v, %v before now", s.LastUpdated, ago)
	}
	if err := d.app.Retry(ctx); !errors.Is(err, client.ErrOffline) {
		t.Fatalf("retry with the server still down: %v", err)
	}
	if s := d.snap(); !s.Offline || s.Busy {
		t.Fatalf("after a failed retry: offline %v busy %v", s.Offline, s.Busy)
	}
	n.state.Store(netUp)
	if err := d.app.Retry(ctx); err != nil {
		t.Fatal(err)
	}
	if s := d.snap(); s.Offline || s.Link != app.LinkUp || s.Err != "" || s.Busy {
		t.Fatalf("back: offline %v link %v err %q busy %v", s.Offline, s.Link, s.Err, s.Busy)
	}
}

// TestFixedFieldLosesItsError: changing a field hides its error, and
// only its own.
func TestFixedFieldLosesItsError(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	if err := d.app.SignUp(ctx, "", "short", "other", false); err == nil {
		t.Fatal("empty username accepted")
	}
	if err := d.app.SignUp(ctx, "ana", "short", "other", false); err == nil {
		t.Fatal("short password accepted")
	}
	s := d.snap()
	if s.FieldErrors["password"] == "" {
		t.Fatalf("field errors %v", s.FieldErrors)
	}
	d.app.DismissFieldError("username") // not shown: nothing changes
	d.app.DismissFieldError("password")
	if s := d.snap(); len(s.FieldErrors) != 0 {
		t.Fatalf("after fixing the password: %v", s.FieldErrors)
	}
}

// TestNewRecoveryCodes: the count of recovery codes left, and new codes
// after the password, replacing the old ones.
func TestNewRecoveryCodes(t *testing.T) {
	b := newBackend(t)
	d := b.device("Laptop")
	d.signUp("ana", false)
	if err := d.app.LoadRecoveryCodes(ctx); err != nil {
		t.Fatal(err)
	}
	if s := d.snap(); !s.RecoveryCodesKnown || s.RecoveryCodesLeft != 0 {
		t.Fatalf("two-step off: %d known %v", s.RecoveryCodesLeft, s.RecoveryCodesKnown)
	}
	secret := d.turnOnTwoStep(b)
	first := d.app.RecoveryCodes()
	d.app.EndTwoStep()
	if err := d.app.LoadRecoveryCodes(ctx); err != nil {
		t.Fatal(err)
	}
	if s := d.snap(); s.RecoveryCodesLeft != len(first) || len(first) != 10 {
		t.Fatalf("after setup: %d left of %d", s.RecoveryCodesLeft, len(first))
	}
	b.clock.Advance(11 * time.Minute) // the password proof is stale
	if _, err := d.app.NewRecoveryCodes(ctx); !errors.Is(err, app.ErrReauthRequired) {
		t.Fatalf("new codes without a fresh proof: %v", err)
	}
	if s := d.snap(); s.Pending == nil || s.Pending.Kind != app.KindNewRecoveryCodes || !strings.Contains(s.Pending.Action, "recovery codes") {
		t.Fatalf("pending %+v", s.Pending)
	}
	if err := d.app.Reauthenticate(ctx, password, b.code(secret)); err != nil {
		t.Fatal(err)
	}
	s := d.snap()
	codes := d.app.RecoveryCodes()
	if s.TwoStep != app.TwoStepShowingCodes || len(codes) != 10 || codes[0] == first[0] || s.RecoveryCodesLeft != 10 {
		t.Fatalf("new codes: stage %v, %d codes (first %q, was %q), %d left", s.TwoStep, len(codes), codes[0], first[0], s.RecoveryCodesLeft)
	}
}
