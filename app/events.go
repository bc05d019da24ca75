package app

import (
	"context"
	"time"

	"sessionguard/api"
	"sessionguard/client"
)

// startEvents runs the live event stream for the sign-in numbered gen.
func (a *App) startEvents(gen int) {
	// The app's own work, as every background call: not use of the session.
	ctx, cancel := context.WithCancel(client.Background(context.Background()))
	a.mu.Lock()
	if gen != a.gen {
		a.mu.Unlock()
		cancel()
		return
	}
	if a.stopEvents != nil {
		a.stopEvents()
	}
	a.stopEvents = cancel
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		defer cancel()
		err := a.api.Events(ctx,
			func(ev client.Event) { a.onEvent(gen, ev) },
			func(st client.StreamState, err error) { a.onStreamState(gen, st, err) })
		if ctx.Err() == nil && sessionGone(err) {
			// When the stream is down, the next call finds the same
			// thing; here the server told us directly.
			a.endedRemotely(gen, err)
		}
	}()
}

// generation numbers the current sign-in; callbacks of an older one are
// stale and ignored.
func (a *App) generation() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gen
}

func (a *App) current(gen int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return gen == a.gen
}

func (a *App) onEvent(gen int, ev client.Event) {
	if !a.current(gen) {
		return
	}
	switch ev.Name {
	case api.EventSessionCreated:
		// The new sign-in goes in the list at once, which keeps every
		// device loaded: the server follows it with sessions.changed,
		// whose refresh merges the first page.
		var p api.SessionCreatedEvent
		if ev.Decode(&p) != nil {
			a.requestRefresh()
			return
		}
		a.update(func(s *Snapshot) {
			if gen != a.gen {
				return
			}
			s.Alert = &LoginAlert{Session: p.Session}
			a.addDevice(s, p.Session)
		})
		a.writeCache()
	case api.EventApprovalRequested, api.EventApprovalResolved:
		a.onApprovalEvent(ev)
	case api.EventSessionsChanged, api.EventPasswordChanged:
		a.requestRefresh()
		a.refreshEnded(gen, false)    // a receipt may have arrived
		a.refreshSettings(gen, false) // the rules may have changed elsewhere
		a.refreshAccount(gen)         // two-step may have been turned on or off elsewhere (the server administrator)
	}
}

// refreshAccount reloads the signed-in account (GET /v1/me) in the
// background, so that changes made elsewhere, such as two-step
// verification reset by the server administrator, show.
func (a *App) refreshAccount(gen int) {
	a.mu.Lock()
	if gen != a.gen {
		a.mu.Unlock()
		return
	}
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(client.Background(context.Background()), 30*time.Second)
		defer cancel()
		me, err := a.api.Me(ctx)
		if err != nil {
			if sessionGone(err) {
				a.endedRemotely(gen, err)
			}
			return // offline: the stream's own state says so
		}
		a.update(func(s *Snapshot) {
			if gen == a.gen && s.Account != nil && s.Account.ID == me.Account.ID {
				acct := me.Account
				s.Account = &acct
			}
		})
	}()
}

func (a *App) onStreamState(gen int, st client.StreamState, err error) {
	if !a.current(gen) {
		return
	}
	switch st {
	case client.Connected:
		a.update(func(s *Snapshot) { s.Offline, s.Live = false, true })
		a.requestRefresh()         // catch up on anything missed while not connected
		a.refreshEnded(gen, false) // receipts too
	case client.Disconnected:
		link := a.linkFor(err)
		a.update(func(s *Snapshot) {
			s.Offline, s.Link, s.Live, s.DevicesStale = true, link, false, len(s.Devices) > 0
		})
	}
}

// requestRefresh reloads the device list in the background. Requests that
// arrive while one runs are folded into one more run.
func (a *App) requestRefresh() {
	a.mu.Lock()
	if a.refreshing {
		a.refreshMore = true
		a.mu.Unlock()
		return
	}
	a.refreshing = true
	gen := a.gen
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		for {
			if a.current(gen) {
				ctx, cancel := context.WithTimeout(client.Background(context.Background()), 30*time.Second)
				_ = a.loadDevices(ctx, gen, false)
				cancel()
			}
			a.mu.Lock()
			if !a.refreshMore {
				a.refreshing = false
				a.mu.Unlock()
				return
			}
			// Asked for again meanwhile, perhaps by a new sign-in (log out
			// and in while this load ran): load for the sign-in now.
			a.refreshMore, gen = false, a.gen
			a.mu.Unlock()
		}
	}()
}

// DismissAlert hides the login alert ("Yes, it was me").
func (a *App) DismissAlert() { a.update(func(s *Snapshot) { s.Alert = nil }) }
