package app

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/client"
)

// API is what the app needs of the server; *client.Client implements it.
type API interface {
	CreateAccount(ctx context.Context, req api.CreateAccountRequest) (api.Account, error)
	Login(ctx context.Context, req api.LoginRequest) (api.Login, error)
	LoginMFA(ctx context.Context, req api.MFALoginRequest) (api.Login, error)
	LoginRemembered(ctx context.Context, req api.RememberedLoginRequest) (api.Login, error)
	ForgetRemembered(ctx context.Context, credential string) error
	SetTokens(t api.Tokens)
	ClearTokens()
	OnRotate(fn func(api.Tokens))
	Refresh(ctx context.Context) (api.Tokens, error)
	Me(ctx context.Context) (api.MeResponse, error)
	Sessions(ctx context.Context, limit int, cursor string) (api.SessionsPage, error)
	RevokeSession(ctx context.Context, id string) (api.Session, error)
	RevokeOthers(ctx context.Context) (int, error)
	Reauth(ctx context.Context, req api.ReauthRequest) (time.Time, error)
	Logout(ctx context.Context, remember bool) (api.LogoutResponse, error)
	Events(ctx context.Context, onEvent func(client.Event), onState func(client.StreamState, error)) error
	ChangePassword(ctx context.Context, req api.ChangePasswordRequest) (int, error)
	TOTPSetup(ctx context.Context) (api.TOTPSetupResponse, error)
	TOTPEnable(ctx context.Context, code string) ([]string, error)
	TOTPDisable(ctx context.Context) error
	Audit(ctx context.Context, limit int, cursor string) (api.AuditPage, error)
}

// SecretStore keeps tokens where the OS protects them; platform.SecretStore
// implements it. Get returns an error matching ErrSecretNotFound's test
// (see Config.IsNotFound) when a key is absent.
type SecretStore interface {
	Get(key string) (string, error)
	Set(key, value string) error
	Delete(key string) error
	DeleteAll() error
	Keys() ([]string, error)
}

// Prefs is the app's small key/value preferences (fyne.Preferences fits).
type Prefs interface {
	String(key string) string
	SetString(key, value string)
	RemoveValue(key string)
}

// Config wires an App to the outside world.
type Config struct {
	// API talks to sessiond.
	API API
	// Secrets is the OS keyring (or the phone's private store). Nil when
	// none works; KeyringProblem then says why, and "remember" is off.
	Secrets        SecretStore
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
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// SavedAccount is an account with "remember login info" on this device:
// one tap signs it in again.
type SavedAccount struct {
	AccountID string    `json:"account_id"`
	Username  string    `json:"username"`
	SavedAt   time.Time `json:"saved_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RemoteLogout is the notice shown after this device was logged out from
// elsewhere (or its session ended for another reason).
type RemoteLogout struct {
	Username     string
	ByDeviceName string // empty when unknown
	At           time.Time
	Reason       string // api.Reason*
}

// LoginAlert is a new sign-in on the account from another device.
type LoginAlert struct {
	Session api.Session
}

// Pending is an action waiting for the person to confirm their password.
type Pending struct {
	Kind       PendingKind
	SessionID  string // KindRevokeOne
	DeviceName string // KindRevokeOne
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

// RevokeResult is the outcome of the last remote log out, so the UI can
// confirm it and offer a password change.
type RevokeResult struct {
	DeviceName string // one device; empty for "all others"
	Count      int
}

// Snapshot is everything the screens draw. It is a copy: changing it
// changes nothing.
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
	// DevicesStale is true when Devices is the last known list, shown
	// because the server cannot be reached.
	DevicesStale bool
	// Activity is the loaded part of the security log, newest first;
	// ActivityCursor is non-empty while older events exist.
	Activity       []api.AuditEvent
	ActivityCursor string
	// Offline is true while the server cannot be reached.
	Offline bool
	// Live is true while the event stream is connected: changes elsewhere
	// show up without a refresh.
	Live bool
	// Busy is true while an action runs; BusyLabel says which ("Signing in…").
	Busy      bool
	BusyLabel string
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
	// TwoStep is how far turning on two-step verification has got.
	TwoStep TwoStepStage
}

// CanRemember reports whether "Remember me" and "Remember login info" can
// be offered.
func (s Snapshot) CanRemember() bool { return s.KeyringProblem == "" }

// App is the running app core. Actions are blocking methods meant to be
// called off the UI goroutine; every change is announced to subscribers.
type App struct {
	cfg Config
	api API

	mu        sync.Mutex
	snap      Snapshot
	listeners map[int]func(Snapshot)
	nextID    int

	wg     sync.WaitGroup // background goroutines, waited for by Close
	loadMu sync.Mutex     // one device-list load at a time, so pages never interleave

	// Guarded by mu as well.
	gen         int                // bumps on every sign-in/out; stale callbacks compare it
	stopEvents  context.CancelFunc // ends the event loop of the current sign-in
	mfaToken    string
	mfaRemember bool
	refreshing  bool // a device-list refresh is running
	refreshMore bool // …and another was asked for meanwhile
	// Turning two-step on (Snapshot.TwoStep): the secret while scanning,
	// the recovery codes until shown, and the code typed when the server
	// asked for the password before taking it (KindEnableTwoStep).
	totpSetup     api.TOTPSetupResponse
	recoveryCodes []string
	enableCode    string

	keyMu   sync.Mutex // guards instKey; held during secret-store calls, so not mu
	instKey string     // this install's key once read or made (installKey)
}

// New returns an App in StateStarting; call Start.
func New(cfg Config) *App {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IsNotFound == nil {
		cfg.IsNotFound = func(error) bool { return false }
	}
	a := &App{cfg: cfg, api: cfg.API, listeners: map[int]func(Snapshot){}}
	if cfg.Secrets == nil {
		a.snap.KeyringProblem = keyringMessage(cfg.KeyringProblem)
	}
	cfg.API.OnRotate(a.onRotate)
	return a
}

// keyringMessage is what the person reads; the technical cause goes to
// KeyringCause for About and bug reports.
func keyringMessage(error) string {
	return "No secure storage (keyring) was found on this device, so you'll need to log in each time Sessionguard starts."
}

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

func (s Snapshot) clone() Snapshot {
	c := s
	c.SavedAccounts = slices.Clone(s.SavedAccounts)
	c.Devices = slices.Clone(s.Devices)
	c.Activity = slices.Clone(s.Activity)
	if s.FieldErrors != nil {
		c.FieldErrors = make(map[string]string, len(s.FieldErrors))
		for k, v := range s.FieldErrors {
			c.FieldErrors[k] = v
		}
	}
	c.Account, c.Session = clonePtr(s.Account), clonePtr(s.Session)
	c.Notice, c.Alert = clonePtr(s.Notice), clonePtr(s.Alert)
	c.Pending, c.LastRevoke = clonePtr(s.Pending), clonePtr(s.LastRevoke)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// update changes the snapshot under the lock and then notifies.
func (a *App) update(fn func(s *Snapshot)) {
	a.mu.Lock()
	fn(&a.snap)
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

// transition applies the state machine.
func (a *App) transition(s *Snapshot, e Event) { s.State = Next(s.State, e) }

// begin marks an action as running; done clears it.
func (a *App) begin(label string) {
	a.update(func(s *Snapshot) {
		s.Busy, s.BusyLabel, s.Err, s.FieldErrors, s.RetryAt = true, label, "", nil, time.Time{}
	})
}

// fail records an action's error for the person and returns it.
func (a *App) fail(err error) error {
	a.update(func(s *Snapshot) {
		s.Busy, s.BusyLabel = false, ""
		setError(s, err)
	})
	return err
}

func (a *App) done() {
	a.update(func(s *Snapshot) { s.Busy, s.BusyLabel = false, "" })
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
