package app

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"sessionguard/client"
)

// Link is how the app reaches its server (Snapshot.Link): it says why
// Snapshot.Offline is set.
type Link int

// The links.
const (
	// LinkUp: the server answers, as far as the app knows.
	LinkUp Link = iota
	// LinkOffline: this device has no network.
	LinkOffline
	// LinkUnreachable: the network works (or the server is on this
	// device), but the server does not answer.
	LinkUnreachable
)

var linkNames = [...]string{"up", "offline", "unreachable"}

// String names the link for logs and tests.
func (l Link) String() string {
	if l < 0 || int(l) >= len(linkNames) {
		return "Link(?)"
	}
	return linkNames[l]
}

// ServerHost is the server's host name as a person reads it
// ("sessions.example.com", with the port if any), from the address the
// app talks to.
func (a *App) ServerHost() string {
	u, err := url.Parse(a.api.BaseURL())
	if err != nil || u.Host == "" {
		return a.api.BaseURL()
	}
	return u.Host
}

// serverOnThisDevice reports whether the server is on this machine (the
// embedded one): it needs no network, so it is never "offline".
func (a *App) serverOnThisDevice() bool {
	u, err := url.Parse(a.api.BaseURL())
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// linkFor is the Link that err, a failure to reach the server, means.
func (a *App) linkFor(err error) Link {
	switch {
	case errors.Is(err, client.ErrNoNetwork):
		return LinkOffline
	case a.serverOnThisDevice():
		return LinkUnreachable // it needs no network
	case !a.cfg.NetworkUp():
		return LinkOffline
	}
	return LinkUnreachable
}

// settle keeps the fields that follow from others in step, after every
// change (update): Link says why the app is offline, and LastUpdated when
// the server was last heard from; an error shown because the server could
// not be reached goes when it can be again.
func (a *App) settle(prev Snapshot, s *Snapshot) {
	if !s.Offline {
		s.Link = LinkUp
		if prev.Offline && s.Err != "" && s.Err == a.offlineErr {
			s.Err = ""
		}
		a.offlineErr = ""
		return
	}
	if s.Link == LinkUp {
		s.Link = a.linkFor(nil)
	}
	if s.Err != "" && s.Err != prev.Err {
		a.offlineErr = s.Err
	}
	if !prev.Offline || s.LastUpdated.IsZero() {
		if t := a.api.LastContact(); !t.IsZero() {
			// In the app's clock (Config.Now), which tests pin.
			s.LastUpdated = a.cfg.Now().Add(-time.Since(t))
		}
	}
}

// Retry tries the server again at once, after it could not be reached:
// the live stream reconnects now instead of after its wait, and the
// device list reloads. Offline ends when it answers.
func (a *App) Retry(ctx context.Context) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn {
		return ErrNotSignedIn
	}
	a.api.Reconnect()
	a.begin("Trying again…")
	gen := a.generation()
	err := a.loadDevices(ctx, gen, false)
	switch {
	case err == nil:
		a.finish(nil)
		a.refreshAccount(gen)
	case errors.Is(err, ErrNotSignedIn):
		a.finish(nil)
	}
	return err
}
