//go:build js

package app

// LeaveNow ends, without waiting, the sessions of the accounts signed in
// here without "Remember me" (in a browser, every one): the web page is
// going (its tab closes or reloads) and takes their tokens with it, so
// each would otherwise linger in Login activity until its inactivity rule
// ended it. It runs on the page's pagehide, where nothing may block.
func (m *Accounts) LeaveNow() {
	m.mu.Lock()
	cores := make([]*App, 0, len(m.slots))
	for _, s := range m.slots {
		cores = append(cores, s.core)
	}
	m.mu.Unlock()
	for _, c := range cores {
		c.LeaveNow()
	}
}

// LeaveNow ends this core's session without waiting, unless it is
// remembered (see Accounts.LeaveNow).
func (a *App) LeaveNow() {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Remember {
		return
	}
	a.detach() // no reconnect of the stream to the ended session
	a.api.LogoutOnExit()
}
