package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"sessionguard/api"
	"sessionguard/client"
	"sessionguard/platform"
)

// devicesPage is how many devices (or security log events) one load asks
// for: the most the server gives at once.
const devicesPage = 200

// LoadDevices (re)loads the first page of the device list (of the search
// shown, DeviceQuery) and merges it with what is loaded, keeping the
// devices loaded beyond it (mergeFirstPage). Offline, the last known list
// stays (or is read from the cache) and is marked stale.
func (a *App) LoadDevices(ctx context.Context) error {
	gen := a.generation()
	_, err := a.loadDevicePage(ctx, gen, firstPage, "")
	return err
}

// LoadMoreDevices appends the next page, if there is one. Asked again
// while that page loads, or while LoadAllDevices runs, it does nothing.
func (a *App) LoadMoreDevices(ctx context.Context) error {
	return a.loadMore(&a.moreDevices, func() error {
		a.mu.Lock()
		all := a.allDevices
		a.mu.Unlock()
		if all {
			return nil // LoadAllDevices loads it
		}
		_, err := a.loadDevicePage(ctx, a.generation(), nextPage, "")
		return err
	})
}

// loadMore runs load, the loading of a list's next page, unless the same
// list's next page is already loading (*loading, guarded by mu): a list
// asks for more each time its last row is drawn, and it is drawn again
// and again while the page loads.
func (a *App) loadMore(loading *bool, load func() error) error {
	a.mu.Lock()
	if *loading {
		a.mu.Unlock()
		return nil
	}
	*loading = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		*loading = false
		a.mu.Unlock()
	}()
	return load()
}

// pageWanted says whether a page fetched for the sign-in gen (err: how
// the fetch went) is to be shown: not when it failed, which is handled
// here (callFailed) and returned, nor when that sign-in is over.
func (a *App) pageWanted(gen int, err error) (bool, error) {
	if !a.current(gen) {
		return false, nil
	}
	if err != nil {
		return false, a.callFailed(gen, err)
	}
	return true, nil
}

// deviceLoad is the page of the device list loadDevicePage loads.
type deviceLoad int

const (
	// firstPage: the first page of the list shown (DeviceQuery's), merged
	// with what is loaded (mergeFirstPage).
	firstPage deviceLoad = iota
	// nextPage: the page after DevicesCursor, appended.
	nextPage
	// newSearch: the first page of the search q, in place of the list.
	newSearch
)

// loadDevices loads the next page of the device list (more) or its first
// page, for the sign-in gen (loadDevicePage).
func (a *App) loadDevices(ctx context.Context, gen int, more bool) error {
	kind := firstPage
	if more {
		kind = nextPage
	}
	_, err := a.loadDevicePage(ctx, gen, kind, "")
	return err
}

// loadDevicePage loads a page of the device list (q: the search, for
// newSearch) for the sign-in gen. stale says that it was dropped because
// the list changed here while it was on its way; firstPage and nextPage
// then ask for a refresh. The work done with the page is proportional to
// it, but for a firstPage merge (and the rebuilding of the index of loaded
// IDs that follows a change), which goes over the list once.
func (a *App) loadDevicePage(ctx context.Context, gen int, kind deviceLoad, q string) (stale bool, err error) {
	a.loadMu.Lock()
	defer a.loadMu.Unlock()
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Account == nil {
		return false, ErrNotSignedIn
	}
	cursor := ""
	switch kind {
	case nextPage:
		if snap.DevicesCursor == "" {
			return false, nil
		}
		cursor, q = snap.DevicesCursor, snap.DeviceQuery
	case firstPage:
		q = snap.DeviceQuery
	}
	a.mu.Lock()
	epoch := a.devicesEpoch
	a.mu.Unlock()
	page, err := a.api.SessionsQuery(ctx, q, devicesPage, cursor)
	if ok, werr := a.pageWanted(gen, err); !ok {
		if werr == nil && err != nil {
			// The sign-in ended while the page was on its way (the same
			// failure, met first by another call): say so, not nothing.
			werr = ErrNotSignedIn
		}
		return false, werr
	}
	a.update(func(s *Snapshot) {
		if gen != a.gen || (kind != newSearch && s.DeviceQuery != q) || (kind == nextPage && s.DevicesCursor != cursor) {
			return // another sign-in, search or list meanwhile: the page is not of it
		}
		if stale = a.devicesEpoch != epoch; stale {
			// A device was logged out (or renamed…) from here while this
			// page was on its way: it may still list it as it was.
			return
		}
		switch kind {
		case nextPage:
			s.Devices = a.appendDevices(s.Devices, page.Sessions)
			s.DevicesCursor = page.NextCursor
		case firstPage:
			s.Devices, s.DevicesCursor = mergeFirstPage(s.Devices, s.DevicesCursor, !a.devicesCached.Load(), page)
			s.DeviceCounts = page.Counts
		case newSearch:
			s.Devices, s.DevicesCursor = page.Sessions, page.NextCursor
			s.DeviceQuery, s.DeviceCounts = q, page.Counts
		}
		if kind != nextPage {
			a.devicesCached.Store(false) // the server's list now
		}
		s.DevicesStale, s.Offline = false, false
		a.pruneSelection(s)
		for _, d := range page.Sessions {
			if d.Current {
				s.Session = &d
			}
		}
	})
	if stale {
		if kind != newSearch {
			a.requestRefresh()
		}
		return true, nil
	}
	a.writeCache()
	return false, nil
}

// callFailed handles an error from a call made while signed in: a dead
// session signs out with the notice, offline keeps the last known state.
func (a *App) callFailed(gen int, err error) error {
	switch {
	case sessionGone(err):
		a.endedRemotely(gen, err)
	case errors.Is(err, client.ErrOffline):
		a.finish(func(s *Snapshot) {
			s.Offline = true
			if len(s.Devices) <= 1 && s.Account != nil {
				if c, ok := a.readCache(s.Account.ID); ok {
					s.Devices = c.Devices
				}
			}
			s.DevicesStale = len(s.Devices) > 0
			s.Err = Describe(err)
		})
	default:
		a.fail(err)
	}
	return err
}

func (a *App) deviceName(id string) string {
	snap := a.Snapshot()
	for _, d := range snap.Devices {
		if d.ID == id {
			return d.Device.Name
		}
	}
	return "that device"
}

// RevokeDevice logs another device out; this device logs out with LogOut.
// With erase the device is also asked to erase its Sessionguard data for
// the account; its receipt shows in Snapshot.Ended (loaded afterwards).
// If the server wants a fresh password proof it returns ErrReauthRequired
// and Snapshot.Pending holds the action until Reauthenticate.
func (a *App) RevokeDevice(ctx context.Context, sessionID string, erase bool) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Session == nil {
		return a.fail(ErrNotSignedIn)
	}
	if sessionID == snap.Session.ID {
		return a.fail(errThisDevice)
	}
	name := a.deviceName(sessionID)
	gen := a.generation()
	a.begin("Logging out " + name + "…")
	_, err := a.api.RevokeSessionErasing(ctx, sessionID, erase)
	switch {
	case errors.Is(err, client.ErrReauthRequired):
		a.waitForPassword(Pending{Kind: KindRevokeOne, Action: "log out " + name, SessionID: sessionID, DeviceName: name},
			func(ctx context.Context) error { return a.RevokeDevice(ctx, sessionID, erase) })
		return ErrReauthRequired
	case errors.Is(err, client.ErrNotFound):
		// Already gone (closed elsewhere meanwhile): the list was stale.
		a.removeDevice(sessionID)
		a.requestRefresh()
		a.finish(func(s *Snapshot) { s.Err = capitalize(name) + " was already logged out." })
		return nil
	case err != nil:
		return a.callFailed(gen, err)
	}
	a.removeDevice(sessionID)
	a.finish(func(s *Snapshot) {
		s.Pending = nil
		s.LastRevoke = &RevokeResult{DeviceName: name, Count: 1, IDs: []string{sessionID}, Erase: erase}
	})
	a.refreshEnded(gen, true)
	return nil
}

// errThisDevice is RevokeDevice's answer for this device's own session:
// the screens log it out with LogOut, which can remember login info.
var errThisDevice = errors.New("this device logs out with Log out, not from the device list")

// removeDevice takes the device of session id off the list (in a new
// list: snapshots share the old one) and out of its counts.
func (a *App) removeDevice(id string) {
	a.update(func(s *Snapshot) {
		a.devicesEpoch++
		if i := slices.IndexFunc(s.Devices, func(d api.Session) bool { return d.ID == id }); i >= 0 {
			gone := s.Devices[i]
			s.Devices = slices.Concat(s.Devices[:i], s.Devices[i+1:])
			if c := s.DeviceCounts; c != nil {
				n := *c
				n.Total = max(0, n.Total-1)
				if a.cfg.Now().Sub(gone.LastSeenAt) < api.ActiveTodayWindow {
					n.ActiveToday = max(0, n.ActiveToday-1)
				}
				s.DeviceCounts = &n
			}
		}
		a.pruneSelection(s)
	})
	a.writeCache()
}

// RevokeOthers logs out every other device of the account (and ends their
// saved logins); with erase each is asked to erase its data too. Like
// RevokeDevice it may wait for the password.
func (a *App) RevokeOthers(ctx context.Context, erase bool) (int, error) {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Session == nil {
		return 0, a.fail(ErrNotSignedIn)
	}
	gen := a.generation()
	a.begin("Logging out all other devices…")
	n, err := a.api.RevokeOthersErasing(ctx, erase)
	switch {
	case errors.Is(err, client.ErrReauthRequired):
		a.waitForPassword(Pending{Kind: KindRevokeOthers, Action: "log out all other devices"}, func(ctx context.Context) error {
			_, err := a.RevokeOthers(ctx, erase)
			return err
		})
		return 0, ErrReauthRequired
	case err != nil:
		return 0, a.callFailed(gen, err)
	}
	self := *snap.Session
	a.finish(func(s *Snapshot) {
		s.Devices, s.DevicesCursor, s.SelectedDevices = []api.Session{self}, "", nil
		// This device alone is left, whatever the search was.
		s.DeviceQuery, s.DeviceCounts = "", &api.SessionCounts{Total: 1, ActiveToday: 1}
		a.devicesEpoch++
		s.Pending = nil
		s.LastRevoke = &RevokeResult{Count: n, Erase: erase}
	})
	a.writeCache()
	a.refreshEnded(gen, true)
	return n, nil
}

// Reauthenticate confirms the password (and code, when two-step is on)
// and then resumes the pending action.
func (a *App) Reauthenticate(ctx context.Context, password, code string) error {
	snap := a.Snapshot()
	if snap.Pending == nil {
		return nil
	}
	if password == "" {
		return a.fail(&FieldError{"password", "Enter your password."})
	}
	gen := a.generation()
	a.begin("Checking your password…")
	_, err := a.api.Reauth(ctx, api.ReauthRequest{Password: password, Code: strings.TrimSpace(code)})
	switch {
	case errors.Is(err, client.ErrInvalidCredentials):
		// Counted on this session: the server ends it after a few in a
		// row (then session_revoked, reason reauth_failed, below).
		a.fail(&FieldError{"password", wrongAnswer(err, "That password is not right.")})
		return err
	case err != nil:
		// session_revoked (reauth_failed after the last wrong answer)
		// returns to sign-in with the notice.
		return a.callFailed(gen, err)
	}
	resume := snap.Pending.resume
	a.update(func(s *Snapshot) { s.Pending = nil })
	if resume == nil {
		a.finish(nil)
		return nil
	}
	return resume(ctx) // still busy: the resumed action keeps this one's Task
}

// wrongAnswer is what the person reads after a wrong password (or code)
// on a signed-in device: the server's words (else fallback) and, when the
// server counts them, how many more wrong answers log this device out.
func wrongAnswer(err error, fallback string) string {
	msg := fallback
	var ce *client.Error
	if !errors.As(err, &ce) {
		return msg
	}
	if first := firstSentence(ce.Message); first != "" {
		msg = first
	}
	n, ok := ce.AttemptsLeft()
	switch {
	case !ok:
		return msg
	case n <= 1:
		return msg + " Last attempt: one more wrong answer logs this device out."
	default:
		return fmt.Sprintf("%s %d attempts left before this device is logged out.", msg, n)
	}
}

// firstSentence is the first sentence of msg ("That password is not
// right."): the server may add its own count, which the app words itself.
func firstSentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.Index(msg, ". "); i >= 0 {
		return msg[:i+1]
	}
	return msg
}

// CancelReauth drops the action waiting for the password.
func (a *App) CancelReauth() {
	a.update(func(s *Snapshot) { s.Pending, s.FieldErrors = nil, nil })
}

// DismissLastRevoke hides the result of the last remote log out.
func (a *App) DismissLastRevoke() { a.update(func(s *Snapshot) { s.LastRevoke = nil }) }

// DismissError clears the error message.
func (a *App) DismissError() { a.update(func(s *Snapshot) { s.Err = ""; s.FieldErrors = nil }) }

// ThisDevice is how this install describes itself at sign-in: its name is
// the one kept in the preferences (RenameDevice changes it), else the
// default made from the OS, model and user.
func (a *App) ThisDevice() api.Device {
	if a.cfg.Device == nil {
		return api.Device{}
	}
	return a.cfg.Device()
}

// RenameDevice gives the device of session sessionID (this device's own
// or another of the account's) a new name, as every Login activity list
// shows it. Renaming this device also keeps the name for its next
// sign-ins. A name that is empty, too long or has hidden characters is a
// FieldError for "name".
func (a *App) RenameDevice(ctx context.Context, sessionID, name string) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Session == nil {
		return a.fail(ErrNotSignedIn)
	}
	clean, err := platform.CheckDeviceName(name)
	if err != nil {
		return a.fail(&FieldError{"name", deviceNameProblem(err)})
	}
	old := a.deviceName(sessionID)
	gen := a.generation()
	a.begin("Renaming " + old + "…")
	renamed, err := a.api.RenameSession(ctx, sessionID, clean)
	switch {
	case errors.Is(err, client.ErrNotFound):
		a.removeDevice(sessionID)
		a.requestRefresh()
		return a.fail(errors.New(capitalize(old) + " is no longer logged in, so it can't be renamed."))
	case errors.Is(err, client.ErrInvalidRequest):
		return a.fail(&FieldError{"name", Describe(err)})
	case err != nil:
		return a.callFailed(gen, err)
	}
	if renamed.ID == "" { // an answer without the session: the name is what was sent
		renamed = findSession(snap.Devices, sessionID)
		renamed.Device.Name = clean
	}
	self := sessionID == snap.Session.ID
	if self && a.cfg.Prefs != nil {
		// Kept for the next sign-in, which sends it; it passed the same check.
		_ = platform.SetDeviceName(a.cfg.Prefs, clean)
	}
	a.finish(func(s *Snapshot) {
		a.devicesEpoch++ // a page loaded before the rename would undo it
		s.Devices = changeDevice(s.Devices, sessionID, func(d *api.Session) { d.Device.Name = renamed.Device.Name })
		if self && s.Session != nil {
			s.Session.Device.Name = renamed.Device.Name
		}
	})
	a.writeCache()
	return nil
}

// deviceNameProblem words platform's device name check for the person.
func deviceNameProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "empty"):
		return "Enter a name for the device."
	case strings.Contains(msg, "longer"):
		return fmt.Sprintf("Use at most %d characters.", platform.MaxDeviceNameLen)
	}
	return "Use letters, digits, spaces and punctuation only (no hidden or control characters)."
}

// findSession is the session with id in list (zero if none).
func findSession(list []api.Session, id string) api.Session {
	for _, d := range list {
		if d.ID == id {
			return d
		}
	}
	return api.Session{}
}

// SelectDevice ticks (on) or unticks the device of session id in Login
// activity, for RevokeDevices. This device's own session cannot be
// ticked: it logs out with LogOut.
func (a *App) SelectDevice(id string, on bool) {
	a.update(func(s *Snapshot) {
		// A new list: snapshots share the old one.
		sel := slices.DeleteFunc(slices.Clone(s.SelectedDevices), func(x string) bool { return x == id })
		if on && (s.Session == nil || id != s.Session.ID) && a.listed(s, id) {
			sel = append(sel, id)
		}
		s.SelectedDevices = sel
	})
}

// ClearDeviceSelection unticks every device.
func (a *App) ClearDeviceSelection() { a.update(func(s *Snapshot) { s.SelectedDevices = nil }) }

// pruneSelection drops ticked devices that are no longer listed, in a
// new list when there are any (snapshots share the old one). Call with mu
// held (inside update).
func (a *App) pruneSelection(s *Snapshot) {
	if len(s.SelectedDevices) == 0 {
		return
	}
	ids := a.devIDs.of(s.Devices)
	listed := func(id string) bool { _, ok := ids[id]; return ok }
	if !slices.ContainsFunc(s.SelectedDevices, func(id string) bool { return !listed(id) }) {
		return
	}
	s.SelectedDevices = slices.DeleteFunc(slices.Clone(s.SelectedDevices), func(id string) bool { return !listed(id) })
}

// RevokeDevices logs out the other devices of sessions ids together (the
// ticked ones, Snapshot.SelectedDevices): one password confirmation for
// all of them when the server asks for it (ErrReauthRequired, Pending of
// KindRevokeSeveral), then one DELETE each, since the server has no call
// for several. The outcome is Snapshot.LastRevoke: the devices logged out
// and, when some could not be, which and why (also in Err). Devices that
// failed stay ticked, to try again.
func (a *App) RevokeDevices(ctx context.Context, ids []string, erase bool) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Session == nil {
		return a.fail(ErrNotSignedIn)
	}
	var todo []string
	for _, id := range ids {
		if id != snap.Session.ID && !slices.Contains(todo, id) {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	names := make(map[string]string, len(todo))
	for _, id := range todo {
		names[id] = a.deviceName(id)
	}
	a.begin(fmt.Sprintf("Logging out %d %s…", len(todo), plural(len(todo), "device", "devices")))
	return a.revokeEach(ctx, a.generation(), todo, names, nil, erase)
}

// revokeEach logs out todo one by one, after the devices already logged
// out (done, by name); names holds every device's name.
func (a *App) revokeEach(ctx context.Context, gen int, todo []string, names map[string]string, done []string, erase bool) error {
	var failed []RevokeFailure
	var ended []string
	var failedIDs []string
	var offline error // the server could not be reached: the rest were not tried
	for i, id := range todo {
		if !a.current(gen) {
			return ErrNotSignedIn
		}
		_, err := a.api.RevokeSessionErasing(ctx, id, erase)
		switch {
		case err == nil, errors.Is(err, client.ErrNotFound): // not found: already gone
			done = append(done, names[id])
			ended = append(ended, id)
			a.removeDevice(id)
			continue
		case errors.Is(err, client.ErrReauthRequired) && len(failed) == 0:
			rest := todo[i:]
			a.waitForPassword(Pending{Kind: KindRevokeSeveral,
				Action: fmt.Sprintf("log out %d %s", len(rest), plural(len(rest), "device", "devices"))},
				func(ctx context.Context) error { return a.revokeEach(ctx, gen, rest, names, done, erase) })
			return ErrReauthRequired
		case sessionGone(err):
			return a.callFailed(gen, err) // this device was logged out meanwhile
		case errors.Is(err, client.ErrOffline):
			// The rest would fail the same way: say so for each.
			offline = err
			for _, id := range todo[i:] {
				failed = append(failed, RevokeFailure{names[id], Describe(err)})
				failedIDs = append(failedIDs, id)
			}
		default:
			failed = append(failed, RevokeFailure{names[id], Describe(err)})
			failedIDs = append(failedIDs, id)
			continue
		}
		break
	}
	a.finish(func(s *Snapshot) {
		s.Pending = nil
		s.SelectedDevices = failedIDs
		a.pruneSelection(s)
		s.LastRevoke = &RevokeResult{Count: len(done), Names: done, Failed: failed, IDs: ended, Erase: erase}
		if offline != nil {
			a.setError(s, offline) // offline, and why
		}
	})
	a.writeCache()
	if len(ended) > 0 {
		a.refreshEnded(gen, true)
	}
	if len(failed) > 0 {
		return errors.New(partialRevokeText(len(done), failed))
	}
	return nil
}

// partialRevokeText is "Couldn't log out 2 of 5 devices: Pixel 8 (Can't
// reach the server.), iPad (…)".
func partialRevokeText(done int, failed []RevokeFailure) string {
	parts := make([]string, len(failed))
	for i, f := range failed {
		parts[i] = f.DeviceName + " (" + strings.TrimSpace(f.Reason) + ")"
	}
	total := done + len(failed)
	return fmt.Sprintf("Couldn't log out %d of %d %s: %s", len(failed), total, plural(total, "device", "devices"), strings.Join(parts, ", "))
}

// plural is one or many, as n says.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
