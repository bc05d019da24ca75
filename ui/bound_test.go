package ui

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/app"
	"sessionguard/client"
)

// signInBound signs username in as s from a client holding its own proof
// key: a device whose session is bound to it (issue 21).
func (b *backend) signInBound(s spec, username string) {
	b.t.Helper()
	c, err := client.New(b.url, client.WithHTTPClient(&http.Client{
		Transport: &forwarded{ip: s.IP, rt: &http.Transport{}}}))
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(c.CloseIdleConnections)
	k, err := dpop.NewKey()
	if err != nil {
		b.t.Fatal(err)
	}
	c.SetProofKey(k)
	l, err := c.Login(ctx, api.LoginRequest{Username: username, Password: password, Device: s.Device, Remember: true})
	if err != nil {
		b.t.Fatal(err)
	}
	if l.Session == nil || !l.Session.Bound {
		b.t.Fatalf("a sign-in with a proof key made session %+v, not a bound one", l.Session)
	}
}

// TestBoundMark: Login activity marks the sessions bound to their device
// ("Bound to this device" on this one's own row, "Bound to its device"
// on another's), leaves unbound ones unmarked, and the device's page says
// what binding means for a copy of its tokens.
func TestBoundMark(t *testing.T) {
	b, e := withAna(t)
	b.signInBound(tablet, "ana")
	b.signInElsewhere(phone, "ana") // an older client: no proof key
	s := e.open(b.device(laptop), e.defaultInfo())
	s.logIn("ana")
	s.waitLive()
	s.openLoginActivity()
	// The tablet and the phone signed in at one moment: either may come
	// first.
	s.waitFor("the three devices' rows", func() bool {
		var got []string
		for _, r := range s.rows() {
			got = append(got, r.name)
		}
		slices.Sort(got)
		return slices.Equal(got, []string{"Ana's Laptop", "Galaxy Tab", "Pixel 8"})
	})
	for _, tc := range []struct {
		name, mark string
	}{
		{"Ana's Laptop", "Bound to this device"},
		{"Galaxy Tab", "Bound to its device"},
		{"Pixel 8", ""},
	} {
		s.do(func() {
			r := s.rowNamed(tc.name)
			line := r.system.Text
			if tc.mark == "" {
				if strings.Contains(line, "Bound") {
					t.Errorf("the unbound %s's row says %q", tc.name, line)
				}
				return
			}
			if !strings.HasSuffix(line, " · "+tc.mark) {
				t.Errorf("%s's row says %q, want it to end %q", tc.name, line, tc.mark)
			}
		})
	}
	for _, tc := range []struct{ name, says string }{
		{"Ana's Laptop", "Bound to this device: its login works only with a key that never leaves this device"},
		{"Galaxy Tab", "Bound to its device: its login works only with a key that never leaves Galaxy Tab"},
		{"Pixel 8", "Not bound to its device"},
	} {
		s.tap(tc.name)
		s.waitText(tc.says)
		s.press("Escape")
		s.waitText("Where you're logged in")
	}
}

// TestAccountNoticeKeyGone: an account whose session this device can no
// longer use for want of its key says so, not "change your password".
func TestAccountNoticeKeyGone(t *testing.T) {
	got := accountNotice(app.AccountNotice{Username: "ana", Server: "https://sessions.example.com",
		Logout: &app.RemoteLogout{Reason: api.ReasonDPoP, At: epoch}}, "vm", epoch)
	want := "ana (sessions.example.com) can't be used here any more: this device's login key is gone (its keyring was cleared or can't be read). Log in again."
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
