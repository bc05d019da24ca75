package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"sessionguard/api"
)

// MaxAccounts is how many accounts can be signed in side by side.
const MaxAccounts = 10

// Preference keys Accounts owns.
const (
	// PrefAccounts lists the signed-in accounts' slots (JSON list of
	// accountSlot), in switcher order; each slot's core keeps its own
	// "Remember me" under PrefResumeAccount + "." + slot.
	PrefAccounts = "accounts.signed_in"
	// PrefActiveSlot is the slot shown when the app starts.
	PrefActiveSlot = "accounts.active"
)

// ServerLocal names this device's own server in Config.Server.
const ServerLocal = "local"

// ErrTooManyAccounts refuses an eleventh account.
var ErrTooManyAccounts = fmt.Errorf("you can add up to %d accounts on this device; log out of one first", MaxAccounts)

// AccountsConfig wires Accounts to the outside world.
type AccountsConfig struct {
	// Open makes a core for server ("local" or an address the person
	// chose, already checked) whose per-account state is kept under slot
	// (Config.Server, Config.Slot and Config.CacheDir set accordingly).
	// Accounts sets the core's Admit itself.
	Open func(server, slot string) (*App, error)
	// Prefs holds the list of signed-in accounts.
	Prefs Prefs
	// Secrets is the shared secret store (nil: none), where accounts
	// saved before several accounts were possible are moved to their
	// server's items.
	Secrets SecretStore
	// Server is where the first account is added when none is signed in
	// (the saved server choice).
	Server string
	// CacheDir holds every core's cache; Clear app data empties it.
	CacheDir string
}

// AccountEntry is one signed-in account in the switcher.
type AccountEntry struct {
	// Slot identifies the entry (Switch).
	Slot string
	// Server is where the account is: "local" or an address.
	Server  string
	Account api.Account
	// Active says this account is the one shown.
	Active bool
	// Starting says it is still signing in silently (at start).
	Starting bool
	// Alerts counts new sign-ins to the account seen while it was not
	// shown; LastAlert is the newest. Switching to it clears them.
	Alerts    int
	LastAlert *LoginAlert
	// Offline and Live are the account's link to its server.
	Offline, Live bool
}

// AccountNotice says that an account left the switcher without the person
// logging it out here: logged out from another device, its saved sign-in
// refused at start, or the same account added twice.
type AccountNotice struct {
	Username string
	Server   string
	// Logout is set when the account's session ended on its server.
	Logout *RemoteLogout
	// Message says why in a sentence when Logout does not.
	Message string
}

// AccountsSnapshot is what the switcher draws. It is a copy.
type AccountsSnapshot struct {
	// Accounts are the signed-in accounts, in switcher order.
	Accounts []AccountEntry
	// Adding says the sign-in screen shown is for one more account: it
	// can be cancelled back to the accounts.
	Adding bool
	// Notices are accounts that left, oldest first, until dismissed.
	Notices []AccountNotice
	// LastLogoutAll is how "Log out of all accounts" went, per account.
	LastLogoutAll []LogoutOutcome
}

// CanAdd reports whether one more account may be added.
func (s AccountsSnapshot) CanAdd() bool { return len(s.Accounts) < MaxAccounts }

// Active is the entry shown, if any.
func (s AccountsSnapshot) Active() (AccountEntry, bool) {
	for _, e := range s.Accounts {
		if e.Active {
			return e, true
		}
	}
	return AccountEntry{}, false
}

// accountSlot is one signed-in account as PrefAccounts keeps it.
type accountSlot struct {
	Slot   string `json:"slot"`
	Server string `json:"server"`
	// Username names the account in a notice when it drops out at start,
	// before its server has said who it is.
	Username string `json:"username,omitempty"`
}

// slot is a signed-in account's core and what the switcher shows of it.
type slot struct {
	accountSlot
	core      *App
	unsub     func()
	snap      Snapshot // the core's latest, as seen by watch
	alerts    int
	lastAlert *LoginAlert
}

// Accounts keeps several accounts signed in side by side, each with its
// own core (server, tokens, event stream, cached lists), and says which
// one the screens show (Current). Its methods may be called from any
// goroutine.
type Accounts struct {
	cfg AccountsConfig

	mu        sync.Mutex
	slots     []*slot
	active    *slot // nil: the sign-in core is shown
	signIn    *App  // the core for a sign-in that is not an account yet
	signInOff func()
	adding    bool
	notices   []AccountNotice
	lastAll   []LogoutOutcome
	listeners map[int]func(AccountsSnapshot)
	nextID    int
	closed    bool
}

// NewAccounts returns the accounts of this device; call Start.
func NewAccounts(cfg AccountsConfig) *Accounts {
	if cfg.Server == "" {
		cfg.Server = ServerLocal
	}
	return &Accounts{cfg: cfg, listeners: map[int]func(AccountsSnapshot){}}
}

// Load opens a core for every account signed in when the app last ran,
// without waiting for any server, so that Current is the account shown
// last time (or the sign-in screen's core when there is none). Start
// then signs them in.
func (m *Accounts) Load() error {
	m.migrate()
	want := m.cfg.Prefs.String(PrefActiveSlot)
	for _, as := range m.readSlots() {
		core, err := m.open(as.Server, as.Slot)
		if err != nil {
			m.addNotice(AccountNotice{Server: as.Server, Message: "Couldn't open this account (" + err.Error() + ")."})
			continue
		}
		s := &slot{accountSlot: as, core: core, snap: core.Snapshot()}
		m.mu.Lock()
		m.slots = append(m.slots, s)
		if as.Slot == want || m.active == nil {
			m.active = s
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	none := len(m.slots) == 0
	m.mu.Unlock()
	if none {
		return m.openSignIn(m.cfg.Server)
	}
	return nil
}

// Start signs every loaded account in silently ("Remember me"), in
// parallel; accounts that no longer sign in drop out, with a notice
// saying why. Without any, it readies the sign-in screen's core.
func (m *Accounts) Start(ctx context.Context) error {
	m.mu.Lock()
	slots, signIn := slices.Clone(m.slots), m.signIn
	m.mu.Unlock()
	for _, s := range slots {
		s.unsub = s.core.Subscribe(func(snap Snapshot) { m.slotChanged(s, snap) })
	}
	defer m.sendOtherReceipts(ctx)
	if signIn != nil {
		return signIn.Start(ctx)
	}
	var wg sync.WaitGroup
	for _, s := range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.core.Start(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// open makes a core with Open; a sign-in on it is refused for an account
// already here, or one too many (admit).
func (m *Accounts) open(server, slotID string) (*App, error) {
	core, err := m.cfg.Open(server, slotID)
	if err != nil {
		return nil, err
	}
	core.cfg.Admit = func(username string) error { return m.admit(core, username) }
	core.cfg.OtherAccounts = func() int {
		m.mu.Lock()
		defer m.mu.Unlock()
		n := 0
		for _, s := range m.slots {
			if s.core != core {
				n++
			}
		}
		return n
	}
	return core, nil
}

// sendOtherReceipts sends the receipts waiting for servers no core talks
// to (an account that left, then the app was restarted): each core sends
// its own server's when it starts.
func (m *Accounts) sendOtherReceipts(ctx context.Context) {
	m.mu.Lock()
	have := map[string]bool{}
	for _, s := range m.slots {
		have[s.Server] = true
	}
	if m.signIn != nil {
		have[m.signIn.Server()] = true
	}
	m.mu.Unlock()
	for _, r := range readReceipts(m.cfg.Prefs) {
		if have[r.Server] {
			continue
		}
		have[r.Server] = true
		if core, err := m.open(r.Server, ""); err == nil {
			core.SendReceipts(ctx)
			core.Close(ctx)
		}
	}
}

// Current is the core the screens show: the active account's, or the
// sign-in screen's when adding an account or when none is signed in.
func (m *Accounts) Current() *App {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.currentLocked()
}

func (m *Accounts) currentLocked() *App {
	if m.adding || m.active == nil {
		return m.signIn
	}
	return m.active.core
}

// Snapshot returns the switcher's state.
func (m *Accounts) Snapshot() AccountsSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshotLocked()
}

func (m *Accounts) snapshotLocked() AccountsSnapshot {
	out := AccountsSnapshot{Adding: m.adding && len(m.slots) > 0,
		Notices: slices.Clone(m.notices), LastLogoutAll: slices.Clone(m.lastAll)}
	for _, s := range m.slots {
		e := AccountEntry{Slot: s.Slot, Server: s.Server, Active: s == m.active && !m.adding,
			Starting: s.snap.State == StateStarting, Alerts: s.alerts, LastAlert: clonePtr(s.lastAlert),
			Offline: s.snap.Offline, Live: s.snap.Live}
		if s.snap.Account != nil {
			e.Account = *s.snap.Account
		}
		if e.Account.Username == "" {
			e.Account.Username = s.Username // still signing in at start
		}
		out.Accounts = append(out.Accounts, e)
	}
	return out
}

// Subscribe calls fn with a new snapshot after every change to the
// switcher (accounts added, gone, switched, alerts), on the goroutine that
// made it. The shown core's own changes go to its subscribers.
func (m *Accounts) Subscribe(fn func(AccountsSnapshot)) (unsubscribe func()) {
	m.mu.Lock()
	id := m.nextID
	m.nextID++
	m.listeners[id] = fn
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		delete(m.listeners, id)
		m.mu.Unlock()
	}
}

func (m *Accounts) notify() {
	m.mu.Lock()
	snap := m.snapshotLocked()
	ls := make([]func(AccountsSnapshot), 0, len(m.listeners))
	for _, l := range m.listeners {
		ls = append(ls, l)
	}
	m.mu.Unlock()
	for _, l := range ls {
		l(snap)
	}
}

// Switch shows the account in slot at once: its core is already signed
// in, with its lists; nothing waits for the network.
func (m *Accounts) Switch(slotID string) error {
	m.mu.Lock()
	i := slices.IndexFunc(m.slots, func(s *slot) bool { return s.Slot == slotID })
	if i < 0 {
		m.mu.Unlock()
		return errors.New("that account is no longer signed in here")
	}
	s := m.slots[i]
	m.active, m.adding = s, false
	s.alerts, s.lastAlert = 0, nil
	m.mu.Unlock()
	m.cfg.Prefs.SetString(PrefActiveSlot, slotID)
	m.dropSignIn()
	m.notify()
	return nil
}

// Add shows the sign-in screen for one more account, on the server of the
// account shown (UseServer changes it), leaving every account signed in.
func (m *Accounts) Add() error {
	m.mu.Lock()
	n, server := len(m.slots), m.cfg.Server
	if m.active != nil {
		server = m.active.Server
	}
	m.mu.Unlock()
	if n >= MaxAccounts {
		return ErrTooManyAccounts
	}
	if err := m.openSignIn(server); err != nil {
		return err
	}
	m.mu.Lock()
	m.adding = true
	core := m.signIn
	m.mu.Unlock()
	m.notify()
	return core.Start(context.Background()) // no slot: nothing to resume, it only reads the saved accounts
}

// CancelAdd goes back from adding an account to the account shown before.
func (m *Accounts) CancelAdd() {
	m.mu.Lock()
	if !m.adding || len(m.slots) == 0 {
		m.mu.Unlock()
		return
	}
	m.adding = false
	m.mu.Unlock()
	m.dropSignIn()
	m.notify()
}

// UseServer puts the sign-in screen on another server (server as
// AccountsConfig.Open takes it, already checked), keeping every signed-in
// account; it returns the new sign-in core, now Current.
func (m *Accounts) UseServer(ctx context.Context, server string) (*App, error) {
	if err := m.openSignIn(server); err != nil {
		return nil, err
	}
	m.mu.Lock()
	core := m.signIn
	m.adding = len(m.slots) > 0
	m.mu.Unlock()
	m.notify()
	_ = core.Start(ctx)
	return core, nil
}

// ContinueAs signs in with a saved login, on its own server: the sign-in
// core moves there first when it is on another one.
func (m *Accounts) ContinueAs(ctx context.Context, sa SavedAccount, remember bool) error {
	m.mu.Lock()
	core := m.signIn
	m.mu.Unlock()
	if core == nil {
		return ErrNotSignedIn
	}
	if sa.Server != "" && sa.Server != core.Server() {
		var err error
		if core, err = m.UseServer(ctx, sa.Server); err != nil {
			return err
		}
	}
	return core.ContinueAs(ctx, sa.AccountID, remember)
}

// RemoveSaved removes a saved login ("Continue as") from this device and
// tells its own server to forget it, whichever server the sign-in screen
// is on (App.RemoveSavedAccount).
func (m *Accounts) RemoveSaved(ctx context.Context, sa SavedAccount) error {
	m.mu.Lock()
	shown := m.signIn
	m.mu.Unlock()
	if shown == nil {
		return ErrNotSignedIn
	}
	if sa.Server == "" || sa.Server == shown.Server() {
		return shown.RemoveSavedAccount(ctx, sa.AccountID)
	}
	other, err := m.open(sa.Server, "")
	if err != nil {
		return err
	}
	defer other.Close(ctx)
	err = other.RemoveSavedAccount(ctx, sa.AccountID)
	shown.reloadSaved()
	if err != nil {
		shown.update(func(s *Snapshot) { s.Err = other.Snapshot().Err })
	}
	return err
}

// openSignIn replaces the sign-in core with a new one on server.
func (m *Accounts) openSignIn(server string) error {
	core, err := m.open(server, newSlotID())
	if err != nil {
		return err
	}
	m.dropSignIn()
	m.adoptSignIn(core)
	return nil
}

// dropSignIn closes the sign-in core, if any.
func (m *Accounts) dropSignIn() {
	m.mu.Lock()
	core, off := m.signIn, m.signInOff
	m.signIn, m.signInOff = nil, nil
	m.mu.Unlock()
	if core == nil {
		return
	}
	off()
	core.Close(context.Background())
}

// admit refuses a sign-in to an account already here, or one too many.
func (m *Accounts) admit(core *App, username string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.slots {
		if s.Server == core.Server() && s.snap.Account != nil && strings.EqualFold(s.snap.Account.Username, username) {
			return fmt.Errorf("you're already logged in as %s on this server; switch to it from the account menu", s.snap.Account.Username)
		}
	}
	if len(m.slots) >= MaxAccounts {
		return ErrTooManyAccounts
	}
	return nil
}

// signInChanged turns the sign-in core into an account once it is signed in.
func (m *Accounts) signInChanged(core *App, id string, snap Snapshot) {
	if snap.State != StateSignedIn || snap.Account == nil {
		return
	}
	m.mu.Lock()
	if m.signIn != core {
		m.mu.Unlock()
		return
	}
	if dup := m.findAccountLocked(snap.Account.ID); dup != nil {
		// The same account by another address of its server: keep the
		// one signed in already and end this second session.
		off := m.signInOff
		m.signIn, m.signInOff, m.active, m.adding = nil, nil, dup, false
		m.notices = append(m.notices, AccountNotice{Username: snap.Account.Username, Server: core.Server(),
			Message: "You're already logged in to this account here, so Sessionguard switched to it."})
		m.mu.Unlock()
		off()
		go func() {
			_ = core.LogOut(context.Background(), false)
			core.Close(context.Background())
		}()
		m.notify()
		return
	}
	off := m.signInOff
	s := &slot{accountSlot: accountSlot{Slot: id, Server: core.Server()}, core: core, snap: snap}
	m.slots = append(m.slots, s)
	m.active, m.adding = s, false
	m.signIn, m.signInOff = nil, nil
	m.mu.Unlock()
	off()
	m.saveSlots()
	m.cfg.Prefs.SetString(PrefActiveSlot, id)
	m.watch(s)
	m.notify()
}

func (m *Accounts) findAccountLocked(accountID string) *slot {
	for _, s := range m.slots {
		if s.snap.Account != nil && s.snap.Account.ID == accountID {
			return s
		}
	}
	return nil
}

// watch follows a signed-in account's core: alerts while it is not
// shown, and its end.
func (m *Accounts) watch(s *slot) {
	s.unsub = s.core.Subscribe(func(snap Snapshot) { m.slotChanged(s, snap) })
}

// slotChanged notes what the switcher shows of an account, and removes it
// when its session is over.
func (m *Accounts) slotChanged(s *slot, snap Snapshot) {
	m.mu.Lock()
	if m.closed || !slices.Contains(m.slots, s) {
		m.mu.Unlock()
		return
	}
	prev := s.snap
	s.snap = snap
	changed := prev.Live != snap.Live || prev.Offline != snap.Offline || prev.State != snap.State ||
		(snap.Account != nil && (prev.Account == nil || prev.Account.Username != snap.Account.Username))
	if snap.Alert != nil && (prev.Alert == nil || prev.Alert.Session.ID != snap.Alert.Session.ID) &&
		(s != m.active || m.adding) {
		s.alerts++
		s.lastAlert = clonePtr(snap.Alert)
		changed = true
	}
	switch snap.State {
	case StateSignedIn, StateStarting, StateResetting:
		m.mu.Unlock()
		if changed {
			m.notify()
		}
		return
	}
	// Over: logged out here, ended elsewhere, or its saved sign-in no
	// longer works (at start).
	wasActive := s == m.active && !m.adding
	m.removeLocked(s)
	username := prev.Username()
	if username == "" {
		username = s.Username
	}
	if snap.Notice != nil || snap.Err != "" || prev.State == StateStarting {
		n := AccountNotice{Username: username, Server: s.Server, Logout: clonePtr(snap.Notice), Message: snap.Err}
		if n.Logout == nil && n.Message == "" {
			n.Message = "Its saved sign-in is no longer on this device."
		}
		// Told here unless this core's own sign-in screen tells it.
		if len(m.slots) > 0 || !wasActive || m.signIn != nil {
			m.notices = append(m.notices, n)
		}
	}
	if s == m.active {
		m.active = nil
		if len(m.slots) > 0 {
			m.active = m.slots[0]
		}
	}
	adopt := len(m.slots) == 0 && m.signIn == nil
	m.mu.Unlock()
	if adopt {
		// The screens stay on this core, now signed out: its sign-in
		// screen (with the notice, if any) is the one shown.
		m.adoptSignIn(s.core)
	} else {
		go s.core.Close(context.Background())
	}
	m.saveSlots()
	m.notify()
}

// Username is the signed-in account's name ("" when none).
func (s Snapshot) Username() string {
	if s.Account == nil {
		return ""
	}
	return s.Account.Username
}

// removeLocked takes s out of the switcher and stops following it.
func (m *Accounts) removeLocked(s *slot) {
	m.slots = slices.DeleteFunc(m.slots, func(x *slot) bool { return x == s })
	if s.unsub != nil {
		go s.unsub() // not under m.mu: the core may be notifying
	}
}

// DismissNotices hides the notices about accounts that left.
func (m *Accounts) DismissNotices() {
	m.mu.Lock()
	m.notices = nil
	m.mu.Unlock()
	m.notify()
}

// LogOutAll ends every signed-in account's session on its server, in
// parallel. remember says, per account id, whether to keep its login info
// for "Continue as" (an absent id: not). Each outcome says how it went; an
// unreachable server leaves its session there, but the account's tokens
// are wiped here all the same. Afterwards the sign-in screen shows, on the
// server of the account shown before.
func (m *Accounts) LogOutAll(ctx context.Context, remember map[string]bool) []LogoutOutcome {
	m.mu.Lock()
	slots := slices.Clone(m.slots)
	server := m.cfg.Server
	if m.active != nil {
		server = m.active.Server
	}
	for _, s := range slots {
		if s.unsub != nil {
			s.unsub()
			s.unsub = nil
		}
	}
	m.slots, m.active, m.adding = nil, nil, false
	m.mu.Unlock()
	out := make([]LogoutOutcome, len(slots))
	var wg sync.WaitGroup
	for i, s := range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			snap := s.core.Snapshot()
			r, err := s.core.logOut(ctx, snap.Account != nil && remember[snap.Account.ID] && s.core.cfg.Secrets != nil)
			if err != nil {
				r = LogoutOutcome{Username: snap.Username(), Server: s.Server, Problem: Describe(err)}
			}
			out[i] = r
			s.core.Close(ctx)
		}()
	}
	wg.Wait()
	m.saveSlots()
	m.cfg.Prefs.RemoveValue(PrefActiveSlot)
	openErr := m.openSignIn(server)
	m.mu.Lock()
	m.lastAll = out
	core := m.signIn
	m.mu.Unlock()
	if openErr == nil {
		_ = core.Start(ctx)
	}
	m.notify()
	return out
}

// DismissLogoutAll forgets how "Log out of all accounts" went.
func (m *Accounts) DismissLogoutAll() {
	m.mu.Lock()
	m.lastAll = nil
	m.mu.Unlock()
	m.notify()
}

// ClearAppData ends every account's session (and the saved logins and
// stored sessions of every server this install used) and then wipes this
// install as App.ClearAppData does, on the core shown. The report covers
// all servers.
func (m *Accounts) ClearAppData(ctx context.Context) (ResetReport, error) {
	m.mu.Lock()
	shown := m.currentLocked()
	others := make([]*App, 0, len(m.slots))
	servers := map[string]bool{}
	if shown != nil {
		servers[shown.Server()] = true
	}
	for _, s := range m.slots {
		if s.unsub != nil {
			s.unsub()
			s.unsub = nil
		}
		if s.core != shown {
			others = append(others, s.core)
			servers[s.Server] = true
		}
	}
	m.mu.Unlock()
	// Servers with saved logins or stored sessions but no account signed in.
	for _, srv := range m.storedServers() {
		if !servers[srv] {
			if core, err := m.open(srv, ""); err == nil {
				others = append(others, core)
				servers[srv] = true
			}
		}
	}
	var rep ResetReport
	for _, c := range others {
		r := c.endOnServer(ctx, false)
		rep.SessionsEnded += r.SessionsEnded
		rep.SavedLoginsForgotten += r.SavedLoginsForgotten
		rep.NotEnded = append(rep.NotEnded, r.NotEnded...)
	}
	if shown == nil {
		return rep, ErrNotSignedIn
	}
	r, err := shown.ClearAppData(ctx)
	rep.SessionsEnded += r.SessionsEnded
	rep.SavedLoginsForgotten += r.SavedLoginsForgotten
	rep.NotEnded = append(rep.NotEnded, r.NotEnded...)
	rep.SecretsRemoved, rep.LocalAccountsDeleted = r.SecretsRemoved, r.LocalAccountsDeleted
	for _, c := range others {
		c.Close(ctx)
	}
	for _, as := range m.readSlots() {
		m.cfg.Prefs.RemoveValue(PrefResumeAccount + "." + as.Slot)
	}
	m.cfg.Prefs.RemoveValue(PrefAccounts)
	m.cfg.Prefs.RemoveValue(PrefActiveSlot)
	if m.cfg.CacheDir != "" {
		if rmErr := os.RemoveAll(m.cfg.CacheDir); rmErr != nil {
			err = errors.Join(err, rmErr)
		}
	}
	m.mu.Lock()
	m.slots, m.active, m.adding, m.notices, m.lastAll = nil, nil, false, nil, nil
	m.mu.Unlock()
	if m.Current() != shown {
		// shown becomes the sign-in core: it is back at first run.
		m.dropSignIn()
		m.adoptSignIn(shown)
	}
	m.notify()
	return rep, err
}

// adoptSignIn makes core, signed out, the sign-in core: once signed in,
// it becomes an account in its own slot (signInChanged).
func (m *Accounts) adoptSignIn(core *App) {
	id := core.cfg.Slot
	off := core.Subscribe(func(s Snapshot) { m.signInChanged(core, id, s) })
	m.mu.Lock()
	m.signIn, m.signInOff = core, off
	m.mu.Unlock()
}

// storedServers are the servers named by the secret store's account
// items.
func (m *Accounts) storedServers() []string {
	if m.cfg.Secrets == nil {
		return nil
	}
	keys, err := m.cfg.Secrets.Keys()
	if err != nil {
		return nil
	}
	var out []string
	for _, k := range keys {
		if _, scoped, ok := cutSecretKey(k); ok {
			if _, srv := splitScoped(scoped); srv != "" && !slices.Contains(out, srv) {
				out = append(out, srv)
			}
		}
	}
	return out
}

// Close stops every core: a session without "Remember me" is logged out
// on its server, as promised at its sign-in, and leaves the list.
func (m *Accounts) Close(ctx context.Context) {
	m.mu.Lock()
	m.closed = true
	slots := slices.Clone(m.slots)
	for _, s := range slots {
		if s.unsub != nil {
			s.unsub()
			s.unsub = nil
		}
	}
	m.mu.Unlock()
	m.dropSignIn()
	var wg sync.WaitGroup
	var keep []accountSlot
	for _, s := range slots {
		if s.core.Snapshot().Remember {
			keep = append(keep, s.accountSlot)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.core.Close(ctx)
		}()
	}
	wg.Wait()
	m.writeSlots(keep)
}

// readSlots reads PrefAccounts; a damaged value reads as none.
func (m *Accounts) readSlots() []accountSlot {
	var out []accountSlot
	if v := m.cfg.Prefs.String(PrefAccounts); v != "" {
		if err := json.Unmarshal([]byte(v), &out); err != nil {
			return nil
		}
	}
	return slices.DeleteFunc(out, func(s accountSlot) bool { return s.Slot == "" || s.Server == "" })
}

// saveSlots writes the signed-in accounts to PrefAccounts.
func (m *Accounts) saveSlots() {
	m.mu.Lock()
	list := make([]accountSlot, 0, len(m.slots))
	for _, s := range m.slots {
		if u := s.snap.Username(); u != "" {
			s.Username = u
		}
		list = append(list, s.accountSlot)
	}
	m.mu.Unlock()
	m.writeSlots(list)
}

func (m *Accounts) writeSlots(list []accountSlot) {
	if len(list) == 0 {
		m.cfg.Prefs.RemoveValue(PrefAccounts)
		return
	}
	b, _ := json.Marshal(list) // plain struct: cannot fail
	m.cfg.Prefs.SetString(PrefAccounts, string(b))
}

func (m *Accounts) addNotice(n AccountNotice) {
	m.mu.Lock()
	m.notices = append(m.notices, n)
	m.mu.Unlock()
}

// newSlotID names a new slot: 64 random bits in hex.
func newSlotID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics rather)
	return hex.EncodeToString(b)
}

// migrate moves the one account of an install from before several
// accounts (PrefResumeAccount, unscoped secret-store items, saved
// accounts without a server) to a slot on the saved server, once.
func (m *Accounts) migrate() {
	prefs := m.cfg.Prefs
	server := m.cfg.Server
	if acct := prefs.String(PrefResumeAccount); acct != "" && prefs.String(PrefAccounts) == "" {
		id := newSlotID()
		if m.moveSecret(secretRefreshPrefix+acct, secretRefreshPrefix+scopedID(acct, server)) {
			prefs.SetString(PrefResumeAccount+"."+id, acct)
			m.writeSlots([]accountSlot{{Slot: id, Server: server}})
			prefs.SetString(PrefActiveSlot, id)
		}
	}
	prefs.RemoveValue(PrefResumeAccount)
	var saved []SavedAccount
	if v := prefs.String(PrefSavedAccounts); v != "" && json.Unmarshal([]byte(v), &saved) == nil {
		moved := false
		for i, sa := range saved {
			if sa.Server == "" {
				m.moveSecret(secretRememberedPrefix+sa.AccountID, secretRememberedPrefix+scopedID(sa.AccountID, server))
				saved[i].Server, moved = server, true
			}
		}
		if moved {
			b, _ := json.Marshal(saved)
			prefs.SetString(PrefSavedAccounts, string(b))
		}
	}
}

// moveSecret renames a secret-store item; it reports whether the item is
// now under to.
func (m *Accounts) moveSecret(from, to string) bool {
	if m.cfg.Secrets == nil {
		return false
	}
	v, err := m.cfg.Secrets.Get(from)
	if err != nil {
		return false
	}
	if err := m.cfg.Secrets.Set(to, v); err != nil {
		return false
	}
	_ = m.cfg.Secrets.Delete(from)
	return true
}
