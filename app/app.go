package app

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/client"
	"sessionguard/platform"
)

// SecretStore keeps tokens where the OS protects them: the OS keyring, or
// the phone's private file store (platform's stores). Get returns an error
// that Config.IsNotFound recognises when a key is absent.
type SecretStore = platform.SecretStore

// Prefs is the app's small key/value preferences (fyne.Preferences fits).
type Prefs = platform.Prefs

// Config wires an App to the outside world.
type Config struct {
	// API talks to sessiond. Tests that watch or change what the app sends
	// do it in the client's HTTP transport (client.WithHTTPClient).
	API *client.Client
	// Secrets is the OS keyring (or the phone's private store). Nil when
	// none works: "remember" is then off, and Snapshot.KeyringProblem tells
	// the person so.
	Secrets SecretStore
	// KeyringProblem is why Secrets is nil. It is not shown: the person
	// reads the same sentence whatever the cause (noKeyringMessage).
	KeyringProblem error
	// IsNotFound tells a Secrets "no such key" error apart from a failure.
	IsNotFound func(error) bool
	// Prefs holds saved accounts and settings.
	Prefs Prefs
	// ClearPrefKeys are further preference keys "clear app data" removes
	// (device id and name, server address, …).
	ClearPrefKeys []string
	// Device describes this install for sign-in.
	Device func() api.Device
	// CacheDir holds cached files (the last known device list); "clear app
	// data" empties it. Empty: no cache.
	CacheDir string
	// DeleteLocalAccounts deletes this device's own server's data (its
	// database and keys), and with it every account kept on this device;
	// deleted says whether there was any. "Clear app data" calls it last.
	// Nil: there is no such server.
	DeleteLocalAccounts func() (deleted bool, err error)
	// NetworkUp reports whether this device has a network at all, to tell
	// "offline" from "the server does not answer" (default: always).
	NetworkUp func() bool
	// Now is the clock (default time.Now).
	Now func() time.Time

	// Server names the server this core talks to ("local" for this
	// device's own, else its address) when several cores share one
	// secret store and preferences (Accounts): it scopes the core's
	// keyring items, so one server's answers can never overwrite
	// another's tokens, and it marks the saved accounts it adds. Empty:
	// the only core, with unscoped items.
	Server string
	// Slot scopes the core's "Remember me" preference when several cores
	// share the preferences (Accounts): each signed-in account resumes
	// from its own. Empty: the only core.
	Slot string
	// Admit, when set, is asked before a sign-in is sent (password or
	// saved login): an error refuses it and is shown as the username's
	// problem (Accounts: the same account twice, too many accounts).
	Admit func(username string) error
	// OtherAccounts, when set, counts the other accounts signed in on this
	// install (Accounts): a remote erase wipes the whole install only when
	// there are none (and no saved logins of others).
	OtherAccounts func() int
}

// SavedAccount is an account with "remember login info" on this device:
// one tap signs it in again.
type SavedAccount struct {
	AccountID string `json:"account_id"`
	Username  string `json:"username"`
	// Server is where the account is (Config.Server); empty for an
	// account saved before several accounts were possible.
	Server    string    `json:"server,omitempty"`
	SavedAt   time.Time `json:"saved_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RemoteLogout is the notice shown after this device was logged out from
// elsewhere (or its session ended for another reason).
type RemoteLogout struct {
	Username     string
	ByDeviceName string // empty when unknown
	At           time.Time
	// Reason is an api.Reason* revoke reason, or api.ReasonDPoP: the
	// session is bound to this install's proof key, which the secret store
	// no longer has, so the server refuses its tokens here (the session
	// lives on at the server until it ends or is logged out elsewhere).
	Reason string
	// Erased says that whoever ended the session asked this device to
	// erase its Sessionguard data for the account, and it did.
	Erased bool
	// UnusedFor is, for reason inactive, the rule that ended it as far as
	// this device knew it (its own or the account's, the stricter; 0:
	// unknown).
	UnusedFor time.Duration
}

// LoginAlert is a new sign-in on the account from another device.
type LoginAlert struct {
	Session api.Session
}

// Pending is an action waiting for the person to confirm their password.
type Pending struct {
	Kind PendingKind
	// Action is what confirming the password will do, in words that finish
	// "enter your password to …": "turn off two-step verification".
	Action     string
	SessionID  string // KindRevokeOne
	DeviceName string // KindRevokeOne

	// resume runs the action again once the password is confirmed
	// (Reauthenticate).
	resume func(ctx context.Context) error
}

// PendingKind says which action waits for re-authentication.
type PendingKind int

// The actions that can wait for re-authentication.
const (
	KindRevokeOne PendingKind = iota + 1
	KindRevokeOthers
	KindDisableTwoStep
	// KindSetupTwoStep: starting to turn two-step verification on (the QR
	// code and key), which the server hands out only after a recent
	// password proof.
	KindSetupTwoStep
	// KindEnableTwoStep: confirming two-step verification with the code
	// already typed, when the password proof went stale during the setup.
	KindEnableTwoStep
	// KindRevokeSeveral: logging out the devices chosen in Login activity
	// (RevokeDevices), one password for all of them.
	KindRevokeSeveral
	// KindNewRecoveryCodes: making new recovery codes (NewRecoveryCodes).
	KindNewRecoveryCodes
	// KindSetAutoLogout: changing when inactive devices are logged out
	// (SetAutoLogout).
	KindSetAutoLogout
	// KindApproveLink: letting a device in by its link code (ApproveLink).
	KindApproveLink
	// KindSetApproveNewDevices: turning approval of new devices on or off
	// (SetApproveNewDevices).
	KindSetApproveNewDevices
)

// TwoStepStage is how far turning on two-step verification has got. The
// secret and the recovery codes it makes are not in the Snapshot: get them
// with App.TwoStepSetup and App.RecoveryCodes while the stage says so.
type TwoStepStage int

// The stages of turning two-step verification on.
const (
	// TwoStepIdle: nothing under way.
	TwoStepIdle TwoStepStage = iota
	// TwoStepScanning: the server made a secret; the QR code and key wait
	// to be added to an authenticator app and confirmed with a code.
	TwoStepScanning
	// TwoStepShowingCodes: two-step verification is on; the recovery codes
	// wait to be shown, once, until EndTwoStep.
	TwoStepShowingCodes
)

// Task is what a running action is for (Snapshot.Task), where a page
// shows progress of its own.
type Task int

// The tasks pages show their own progress for.
const (
	// TaskOther: any other action (or none).
	TaskOther Task = iota
	// TaskChangePassword: changing the password.
	TaskChangePassword
	// TaskTwoStep: turning two-step verification on or off.
	TaskTwoStep
)

// RevokeResult is the outcome of the last remote log out, so the UI can
// confirm it and offer a password change.
type RevokeResult struct {
	DeviceName string // one device; empty for "all others" and for several
	Count      int
	// IDs are the sessions ended (empty for "all others"), whose closure
	// shows in Snapshot.Ended; Erase says their devices were asked to
	// erase their data.
	IDs   []string
	Erase bool
	// Names are the devices logged out by RevokeDevices, and Failed those
	// it could not log out (both empty for one device and "all others").
	Names  []string
	Failed []RevokeFailure
}

// RevokeFailure is a device RevokeDevices could not log out, and why, in
// words for the person.
type RevokeFailure struct {
	DeviceName string
	Reason     string
}

// Snapshot is everything the screens draw. It is the app's state at one
// moment, and stays so: later changes make new snapshots.
//
// Read-only: shared with the app. Its lists (Devices, SelectedDevices,
// Activity, Ended) are not copied for each snapshot, so that a snapshot
// costs the same with 10,000 devices loaded as with one: they are shared
// with the app and with every other snapshot holding them. Never change
// their elements, sort them or delete from them in place; copy first
// (slices.Clone). Appending to one is safe (each snapshot's lists are
// clipped, so an append copies). The app keeps to the same rule: it never
// writes to a list once a snapshot may hold it, it makes a new one
// (appending past the end of the last is the one change it makes in
// place, which no snapshot sees). Its other fields are the snapshot's own.
type Snapshot struct {
	State State
	// Account and Session are the signed-in account and this device's session.
	Account *api.Account
	Session *api.Session
	// Remember says whether this sign-in survives a restart.
	Remember bool
	// SavedAccounts are the "Continue as …" accounts.
	SavedAccounts []SavedAccount
	// PrefillUsername is put in the sign-in username field.
	PrefillUsername string
	// Devices is the loaded part of the device list, this device first;
	// DevicesCursor is non-empty while more pages exist.
	Devices       []api.Session
	DevicesCursor string
	// DeviceCounts counts the account's devices matching DeviceQuery
	// (all of them when it is empty), from the last first page the server
	// gave, kept up to date here as devices sign in elsewhere or are logged
	// out from here. nil: unknown (no first page yet, or a server that
	// does not count).
	DeviceCounts *api.SessionCounts
	// DeviceQuery is the search Devices shows the matches of ("": every
	// device): SearchDevices.
	DeviceQuery string
	// DevicesStale is true when Devices is the last known list, shown
	// because the server cannot be reached.
	DevicesStale bool
	// SelectedDevices are the session IDs ticked in Login activity for
	// logging out together (SelectDevice, RevokeDevices); never this
	// device's own.
	SelectedDevices []string
	// Activity is the loaded part of the security log, newest first;
	// ActivityCursor is non-empty while older events exist.
	Activity       []api.AuditEvent
	ActivityCursor string
	// Offline is true while the server cannot be reached; Link says why
	// (no network, or the server does not answer), and LastUpdated when
	// it last answered (zero: unknown).
	Offline     bool
	Link        Link
	LastUpdated time.Time
	// Live is true while the event stream is connected: changes elsewhere
	// show up without a refresh.
	Live bool
	// Busy is true while an action runs; BusyLabel says which ("Signing
	// in…"), and Task what it is for, for pages that show their own
	// progress. An action carried on by another that is still running
	// (sign-up's sign-in, the action a confirmed password resumes) keeps
	// the first one's Task.
	Busy      bool
	BusyLabel string
	Task      Task
	// Err is the last error, person-readable; FieldErrors name bad fields
	// ("username", "password", "code").
	Err         string
	FieldErrors map[string]string
	// RetryAt is when a rate-limited sign-in may be tried again.
	RetryAt time.Time
	// KeyringProblem says why tokens cannot be kept across restarts
	// (empty when the keyring works). "Remember" options are then off.
	KeyringProblem string
	// Notice is set after this device was logged out remotely.
	Notice *RemoteLogout
	// Alert is a new sign-in elsewhere on the account.
	Alert *LoginAlert
	// Pending is the action waiting for the password.
	Pending *Pending
	// LastRevoke is the outcome of the last remote log out.
	LastRevoke *RevokeResult
	// Ended are the account's sessions ended in the last 30 days, newest
	// first, each with what became of it on its device (Closure), once
	// EndedLoaded (LoadEnded); EndedCursor is non-empty while more exist.
	Ended       []api.Session
	EndedCursor string
	EndedLoaded bool
	// Settings are the account's settings once loaded (LoadSettings),
	// nil before.
	Settings *api.Settings
	// Approval is this device's sign-in waiting for a signed-in device's
	// approval, LinkCode its link code waiting to be approved (both in
	// StateAwaitingApproval).
	Approval *ApprovalWait
	LinkCode *LinkWait
	// ApprovalRequests are sign-ins to the account waiting for this
	// device's approval, oldest first.
	ApprovalRequests []ApprovalRequest
	// LogCheck is what the last check of the security log against the
	// head this app saw before found (LoadActivity runs it).
	LogCheck LogCheck
	// TwoStep is how far turning on two-step verification has got.
	TwoStep TwoStepStage
	// RecoveryCodesLeft is how many unused recovery codes the account has,
	// once RecoveryCodesKnown (LoadRecoveryCodes).
	RecoveryCodesLeft  int
	RecoveryCodesKnown bool
}

// CanRemember reports whether "Remember me" and "Remember login info" can
// be offered.
func (s Snapshot) CanRemember() bool { return s.KeyringProblem == "" }

// App is the running app core. Actions are blocking methods meant to be
// called off the UI goroutine; every change is announced to subscribers.
type App struct {
	cfg Config
	api *client.Client

	mu        sync.Mutex
	snap      Snapshot
	listeners map[int]func(Snapshot)
	nextID    int

	wg     sync.WaitGroup // background goroutines, waited for by Close
	loadMu sync.Mutex     // one device-list load at a time, so pages never interleave

	// Guarded by mu as well.
	gen         int                // bumps on every sign-in/out; stale callbacks compare it
	leaving     bool               // this device is logging itself out: its own refused calls are no remote log out
	stopEvents  context.CancelFunc // ends the event loop of the current sign-in
	mfaToken    string
	mfaRemember bool
	refreshing  bool // a device-list refresh is running
	refreshMore bool // …and another was asked for meanwhile
	// The next page of the device list or of the security log is being
	// loaded: asking again meanwhile does nothing.
	moreDevices, moreActivity, moreEnded bool
	// The ended sessions (closure.go): wanted once the screens loaded
	// them; a background reload running, and asked for again meanwhile.
	endedWanted, endedRefreshing, endedAgain bool
	endedMu                                  sync.Mutex // one load at a time
	// devicesEpoch counts changes made here to the device list (a device
	// logged out, renamed): a list page asked for before one is stale.
	devicesEpoch int
	// devIDs is the set of IDs in the device list, for appending pages
	// (devicelist.go).
	devIDs deviceIndex
	// allDevices is true while LoadAllDevices runs.
	allDevices bool
	// devicesCached is true while the device list is the cache's, the
	// last known first devices, not the server's list (mergeFirstPage).
	// Not guarded by mu: the cache is read with and without it.
	devicesCached atomic.Bool
	// Turning two-step on (Snapshot.TwoStep): the secret while scanning,
	// the recovery codes until shown.
	totpSetup     api.TOTPSetupResponse
	recoveryCodes []string

	approvalWait waiting            // the approval or link this device waits for (approval.go)
	stopPoll     context.CancelFunc // ends the wait for its answer at the server

	offlineErr string // the error shown while offline (settle), guarded by mu

	cacheMu  sync.Mutex // guards writing the cached list, and cacheOff
	cacheOff bool       // the cache was wiped for good until the next sign-in
	// cacheWritten is what the cache file holds, as writeCache last
	// wrote it (nil: unknown), guarded by cacheMu.
	cacheWritten *deviceCache

	keyMu   sync.Mutex // guards instKey; held during secret-store calls, so not mu
	instKey string     // this install's key once read or made (installKey)

	proofMu  sync.Mutex // guards proof and proofErr; held during secret-store calls, so not mu
	proof    *dpop.Key  // this install's proof key once read or made (proofKey)
	proofErr error      // the secret store's failure to read it, when proof is in memory only
}

// New returns an App in StateStarting; call Start.
func New(cfg Config) *App {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IsNotFound == nil {
		cfg.IsNotFound = func(error) bool { return false }
	}
	if cfg.NetworkUp == nil {
		cfg.NetworkUp = func() bool { return true }
	}
	a := &App{cfg: cfg, api: cfg.API, listeners: map[int]func(Snapshot){}}
	if cfg.Secrets == nil {
		a.snap.KeyringProblem = noKeyringMessage
	}
	cfg.API.OnRotate(a.onRotate)
	return a
}

// noKeyringMessage is what the person reads when there is no keyring
// (Snapshot.KeyringProblem), whatever the cause.
const noKeyringMessage = "No secure storage (keyring) was found on this device, so you'll need to log in each time Sessionguard starts."

// keyringSaveProblem is what the person reads when their sign-in could not
// be kept in the keyring (Snapshot.Err): it lasts until the app quits.
func keyringSaveProblem(err error) string {
	return "Couldn't save your sign-in to the keyring (" + err.Error() + "); you will have to sign in again next time."
}

// Server is the server this core talks to (Config.Server): "local" for
// this device's own, else its address; empty for the only core.
func (a *App) Server() string { return a.cfg.Server }

// Subscribe calls fn with a new Snapshot after every change, on the
// goroutine that made the change. It returns a function that stops the calls.
func (a *App) Subscribe(fn func(Snapshot)) (unsubscribe func()) {
	a.mu.Lock()
	id := a.nextID
	a.nextID++
	a.listeners[id] = fn
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.listeners, id)
		a.mu.Unlock()
	}
}

// Snapshot returns the current state.
func (a *App) Snapshot() Snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.snap.clone()
}

// clone is s for a caller outside the lock: its own copy of every field
// but the long lists, which are shared (see Snapshot), clipped so that an
// append to one copies rather than writing where the app appends next.
func (s Snapshot) clone() Snapshot {
	c := s
	c.SavedAccounts = slices.Clone(s.SavedAccounts)
	c.Devices = slices.Clip(s.Devices)
	c.SelectedDevices = slices.Clip(s.SelectedDevices)
	c.Activity = slices.Clip(s.Activity)
	c.Ended = slices.Clip(s.Ended)
	if s.FieldErrors != nil {
		c.FieldErrors = make(map[string]string, len(s.FieldErrors))
		for k, v := range s.FieldErrors {
			c.FieldErrors[k] = v
		}
	}
	c.Account, c.Session = clonePtr(s.Account), clonePtr(s.Session)
	c.Notice, c.Alert = clonePtr(s.Notice), clonePtr(s.Alert)
	c.Pending, c.LastRevoke = clonePtr(s.Pending), clonePtr(s.LastRevoke)
	c.Settings = clonePtr(s.Settings)
	c.Approval, c.LinkCode = clonePtr(s.Approval), clonePtr(s.LinkCode)
	c.ApprovalRequests = slices.Clone(s.ApprovalRequests)
	c.LogCheck.Evidence = clonePtr(s.LogCheck.Evidence)
	c.DeviceCounts = clonePtr(s.DeviceCounts)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// update changes the snapshot under the lock and then notifies. fn must
// not change the elements of s's lists (Devices, SelectedDevices,
// Activity, Ended) in place, nor shorten them in place: snapshots already
// handed out share them. It replaces them instead, or appends.
func (a *App) update(fn func(s *Snapshot)) {
	a.mu.Lock()
	prev := a.snap
	fn(&a.snap)
	a.settle(prev, &a.snap)
	snap := a.snap.clone()
	ls := make([]func(Snapshot), 0, len(a.listeners))
	for _, l := range a.listeners {
		ls = append(ls, l)
	}
	a.mu.Unlock()
	for _, l := range ls {
		l(snap)
	}
}

// transition moves s.State through the state machine (Next): the one way
// the state changes.
func (a *App) transition(s *Snapshot, e Event) { s.State = Next(s.State, e) }

// begin marks an action as running (Busy, with label) and clears the last
// action's error. finish (or fail) ends it.
func (a *App) begin(label string) { a.beginTask(TaskOther, label) }

// beginTask is begin for an action a page shows its own progress for.
func (a *App) beginTask(t Task, label string) {
	a.update(func(s *Snapshot) {
		if !s.Busy { // carried on by a running action: that one's Task
			s.Task = t
		}
		s.Busy, s.BusyLabel, s.Err, s.FieldErrors, s.RetryAt = true, label, "", nil, time.Time{}
	})
}

// finish ends the running action, applying change (nil: none) in the same
// update: the one way an action ends.
func (a *App) finish(change func(s *Snapshot)) {
	a.update(func(s *Snapshot) {
		s.Busy, s.BusyLabel, s.Task = false, "", TaskOther
		if change != nil {
			change(s)
		}
	})
}

// fail ends the running action with err, put in words for the person, and
// returns err.
func (a *App) fail(err error) error {
	a.finish(func(s *Snapshot) { a.setError(s, err) })
	return err
}

// ErrReauthRequired is returned by actions that wait for the password
// (Snapshot.Pending says which); call Reauthenticate to finish them.
var ErrReauthRequired = errors.New("confirm your password to continue")

// ErrNoSecureStorage is returned when "remember" is asked for but the
// device has no working keyring.
var ErrNoSecureStorage = errors.New("this device has no secure storage for sign-in tokens")

// ErrNotSignedIn is returned by actions that need a signed-in account.
var ErrNotSignedIn = errors.New("sign in first")

// FieldError is a problem with one input field.
type FieldError struct {
	Field   string // "username", "password", "code"
	Message string
}

func (e *FieldError) Error() string { return e.Message }
