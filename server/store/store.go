// Package store defines sessiond's persistence contract: the records it keeps
// and the Store interface every database back end implements.
package store

import (
	"context"
	"errors"
	"time"

	"sessionguard/api"
)

// Errors every Store returns, tested with errors.Is.
var (
	// ErrNotFound: no such record (or it belongs to another account).
	ErrNotFound = errors.New("store: not found")
	// ErrUsernameTaken: CreateAccount with a username already in use.
	ErrUsernameTaken = errors.New("store: username taken")
	// ErrRevoked: the session is revoked, so the write was refused.
	ErrRevoked = errors.New("store: session revoked")
	// ErrUnavailable wraps failures to reach the database at all.
	ErrUnavailable = errors.New("store: database unavailable")
	// ErrConflict: the record is not in the state the write requires (for
	// example the password hash or the pending TOTP secret changed since
	// the caller read it, or two-step verification is already on), so
	// nothing was written.
	ErrConflict = errors.New("store: record changed")
)

// Account is an account record. PasswordHash is a PHC-format argon2id string.
type Account struct {
	ID           string
	Username     string // lower case, unique
	PasswordHash string
	CreatedAt    time.Time
	// MFAEnabled is true while two-step verification (TOTP) is on; then
	// TOTPSecret holds the secret.
	MFAEnabled bool
	// TOTPSecret is the RFC 6238 secret of the enabled second factor,
	// empty while two-step verification is off. The store keeps whatever
	// string it is given: the server seals secrets (encrypts them with its
	// secrets key) before storing them. It must never be logged.
	TOTPSecret string
	// TOTPPendingSecret is a secret handed out by setup and not yet
	// confirmed with a code; EnableTOTP moves it to TOTPSecret.
	TOTPPendingSecret string
	// Settings are the account's settings (SetSettings); CreateAccount
	// stores them as given.
	Settings Settings
}

// Settings are an account's settings (GET and PUT /v1/settings).
type Settings struct {
	// AutoLogoutInactiveAfter ends every session of the account unused
	// this long (reason inactive; 0: never). Kept in whole seconds.
	AutoLogoutInactiveAfter time.Duration
	// ApproveNewDevices makes a sign-in from an install that never signed
	// in to the account wait for a live device's approval (Approval).
	ApproveNewDevices bool
}

// PasswordChange is a password change for ChangePassword.
type PasswordChange struct {
	AccountID string
	// OldHash is the hash the caller verified the current password
	// against; the change is refused with ErrConflict if the account's
	// hash is no longer OldHash (another change won).
	OldHash string
	// NewHash replaces it.
	NewHash string
	// Revoke, when not nil, ends every live session of the account but
	// KeepSessionID (live: not revoked and ExpiresAt after Revoke.At).
	Revoke        *Revocation
	KeepSessionID string
	// Audit, when not nil, makes the event that records the change, from
	// the sessions it ended and the number of remembered logins it
	// deleted; it is appended to the account's log in the change's
	// transaction (see AuditFunc). A refused change writes no event.
	Audit AuditFunc
	// Closure, when not nil, gives each session the change ends its first
	// closure token, in the change's transaction (see ClosureFunc).
	Closure ClosureFunc
}

// ClosureFunc returns the SHA-256 of the closure token of the ended session
// sessionID, for a revocation to store as that session's first closure
// token (as IssueClosureToken does, issued at the revocation's time), in
// its transaction. The rules of AuditFunc apply: it may be called more
// than once for one session and must then return the same hash, must be
// quick, free of side effects and must not call the Store.
type ClosureFunc func(sessionID string) []byte

// MaxClosureTokens is how many closure tokens a session keeps at most:
// IssueClosureToken drops the oldest beyond it.
const MaxClosureTokens = 8

// AuditFunc makes the audit event that records a change, inside the
// transaction that makes the change, from what only that transaction
// knows: ended are the sessions it ended, in the order the call returns
// them (possibly none), and forgotten is how many remembered logins it
// deleted. The store stores the event as AppendAudit does, under the
// account the call is about, in the same transaction, after the change's
// other writes: the event commits with the change or not at all.
//
// A store may call it more than once for one call (it may run a
// transaction again after a transient failure; only the attempt that
// commits counts), and calls it while the transaction holds its locks (for
// SQLite, the only write connection): it must be quick, free of side
// effects, must not modify ended or keep it, and must not call the Store.
type AuditFunc func(ended []Session, forgotten int) api.AuditEvent

// SessionAuditFunc makes the audit event that records a change to one
// session (RenameSession), inside the transaction that makes the change,
// from before: the session as it was just before the change, read under
// the transaction's lock (its old device name, say). The store stores the
// event as AppendAudit does, under the account the call is about, after
// the change, in the same transaction. The rules of AuditFunc apply: it
// may be called more than once, must be quick and free of side effects,
// must not keep before and must not call the Store.
type SessionAuditFunc func(before Session) api.AuditEvent

// CodesAuditFunc makes the audit event that records new recovery codes
// (ReplaceRecoveryCodes), inside the transaction that stores them, from
// replaced: how many unused codes of the account it deleted. Stored like
// a SessionAuditFunc's event; the rules of AuditFunc apply.
type CodesAuditFunc func(replaced int) api.AuditEvent

// RevokeEffects are the writes that go with a revocation: RevokeSession
// and RevokeOtherSessions make them in the transaction that ends the
// sessions, so that they commit with the revocation or not at all. The
// zero value asks for none.
type RevokeEffects struct {
	// Forget deletes remembered logins of the account. RevokeSession
	// deletes those of the ended session's device (the DeviceID equal to
	// its Device.ID, as stored). RevokeOtherSessions deletes those of
	// every device but KeepDeviceID (of every device when KeepDeviceID is
	// empty), whether or not it ended a session of the device, and does
	// so even when it ends no session.
	Forget bool
	// KeepDeviceID is the device whose remembered logins
	// RevokeOtherSessions keeps when Forget is set; RevokeSession ignores
	// it.
	KeepDeviceID string
	// Audit, when not nil, makes the event that records the revocation
	// (see AuditFunc): RevokeSession passes it the one session it ended,
	// RevokeOtherSessions the sessions it ended (none possibly: it writes
	// the event anyway). A call refused with an error (ErrNotFound,
	// ErrRevoked, ...) writes no event and deletes nothing.
	Audit AuditFunc
	// Closure, when not nil, gives each ended session its first closure
	// token (see ClosureFunc). Ignored with Closed.
	Closure ClosureFunc
	// Closed records each ended session's closure as confirmed at the
	// revocation's time, with Receipt.Erased equal to the revocation's
	// Erase: the session ended itself (a log out), so that call was its
	// receipt and no closure token is issued.
	Closed bool
}

// MFAToken is a half-finished sign-in: the password was right and the
// second factor is still due. Only the SHA-256 of the token is kept.
type MFAToken struct {
	Hash      []byte
	AccountID string
	// Device and Remember are those of the sign-in request, so the session
	// the second step creates is the one the person asked for.
	Device   api.Device
	Remember bool
	// InstallHash is the SHA-256 of the sign-in request's install key, nil
	// when it had none.
	InstallHash []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Kinds of Approval.
const (
	ApprovalLogin = "login" // a sign-in waiting for a live device's approval
	ApprovalLink  = "link"  // a device waiting for its link code's approval
)

// States of an Approval.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
	ApprovalUsed     = "used" // approved, and its session made (ConsumeApproval)
)

// Approval is a sign-in (Kind ApprovalLogin) or a device link
// (ApprovalLink) waiting for a signed-in device's answer. Only the
// SHA-256 of the waiting device's token and of a link's user code are
// kept.
type Approval struct {
	ID        string
	Kind      string
	TokenHash []byte
	CodeHash  []byte // links only; nil for sign-ins
	// AccountID is the sign-in's account; for a link, the approver's,
	// empty until approved.
	AccountID string
	Number    int // sign-ins: the number the new device shows
	// Device, Remember, InstallHash, IP and Location are those of the
	// waiting device's request.
	Device      api.Device
	Remember    bool
	InstallHash []byte
	IP          string
	Location    api.Location
	CreatedAt   time.Time
	ExpiresAt   time.Time
	State       string // Approval*
	// DecidedAt, DecidedBySessionID and DecidedByDevice say who answered,
	// when (zero while pending).
	DecidedAt          time.Time
	DecidedBySessionID string
	DecidedByDevice    string
}

// ApprovalAnswer is a signed-in device's answer to an Approval
// (DecideApproval): the sign-in ID (of AccountID), or for a link the
// CodeHash.
type ApprovalAnswer struct {
	ID        string
	CodeHash  []byte
	AccountID string
	// Approve says, from the pending approval, whether the answer
	// approves it (nil: a denial).
	Approve func(a Approval) bool
	At      time.Time
	// BySessionID and ByDevice are the answering session and its name.
	BySessionID string
	ByDevice    string
	// Audit, when not nil, makes the events appended under AccountID with
	// the answer, from the approval as answered.
	Audit func(a Approval) []api.AuditEvent
}

// Revocation says when, why and by whom a session was ended, and whether
// the device was asked to erase the account's data from the install.
type Revocation struct {
	At           time.Time
	Reason       string // api.Reason*
	BySessionID  string // empty when not ended by a session (e.g. expiry, admin)
	ByDeviceName string
	Erase        bool
}

// Receipt is a revoked session's device confirming its closure: that it
// wiped the account's tokens, and with Erased that it erased the rest of
// the account's data on the install (ConfirmClosure), at At.
type Receipt struct {
	At     time.Time
	Erased bool
}

// Session is a session record. Only hashes of tokens are kept.
type Session struct {
	ID        string
	AccountID string
	Device    api.Device
	IP        string
	Location  api.Location
	CreatedAt time.Time
	// LastSeenAt is the session's last use, the time its inactivity is
	// counted from: TouchSession and RotateRefreshToken write it, and
	// RecordUse moves it forward to uses the server noted in between.
	LastSeenAt time.Time
	// AuthTime is the last password (or second factor) proof.
	AuthTime time.Time
	// ExpiresAt is the effective end of the session: the absolute lifetime,
	// or for remembered sessions the idle deadline if that comes first.
	ExpiresAt time.Time
	// AbsoluteExpiresAt is the hard end of the session.
	AbsoluteExpiresAt time.Time
	Remember          bool
	// AccessHash is the SHA-256 of the current access token.
	AccessHash      []byte
	AccessExpiresAt time.Time
	// JKT (issue 21) is the JWK SHA-256 thumbprint (base64url) of the
	// device key the session is bound to (DPoP), "" when it is not bound.
	// CreateSession stores it as given; nothing changes it afterwards, and
	// every call that returns a session returns it. Sessions created
	// before the stores knew of it read as "".
	JKT string
	// InstallHash is the SHA-256 of the install key the sign-in carried,
	// nil when it carried none. CreateSession records it as a known install
	// of the account (KnownInstall).
	InstallHash []byte
	// ReauthFailures counts wrong answers in a row at re-authentication
	// (FailReauth); SetAuthTime resets it. CreateSession stores 0.
	ReauthFailures int
	// Revoked is nil while the session is live.
	Revoked *Revocation
	// Receipt is nil until the revoked session's closure is confirmed
	// (ConfirmClosure, or a revocation with RevokeEffects.Closed). A live
	// session has none.
	Receipt *Receipt
	// IdleTimeout is the session's own inactivity rule (0: none), kept in
	// whole seconds: UpdateSession sets it; CreateSession stores it as
	// given.
	IdleTimeout time.Duration
	// AccountIdleTimeout is the account's rule
	// (Settings.AutoLogoutInactiveAfter) as the store copied it into the
	// session: CreateSession copies the account's, whatever the Session
	// given says, and SetSettings copies the new one into every live
	// session of the account, in its transaction. Together with
	// IdleTimeout, LastSeenAt and ExpiresAt it gives the session's idle
	// deadline (IdleDeadline).
	AccountIdleTimeout time.Duration
}

// IdleRule is the session's inactivity rule: the stricter (shorter) of its
// own and the account's, ignoring a zero one; 0 when neither is set. Own
// reports whether it is the session's own rule (on a tie, it is).
func (s Session) IdleRule() (rule time.Duration, own bool) {
	switch {
	case s.IdleTimeout > 0 && (s.AccountIdleTimeout <= 0 || s.IdleTimeout <= s.AccountIdleTimeout):
		return s.IdleTimeout, true
	case s.AccountIdleTimeout > 0:
		return s.AccountIdleTimeout, false
	}
	return 0, false
}

// IdleDeadline is when the session ends for inactivity unless it is used
// again: LastSeenAt plus its IdleRule. ok is false when it has no rule, or
// when the deadline comes after ExpiresAt (the session expires first). The
// stores compute the same instant in SQL to find the sessions
// EndIdleSessions ends.
func (s Session) IdleDeadline() (deadline time.Time, ok bool) {
	rule, _ := s.IdleRule()
	if rule <= 0 {
		return time.Time{}, false
	}
	d := s.LastSeenAt.Add(rule)
	if d.After(s.ExpiresAt) {
		return time.Time{}, false
	}
	return d, true
}

// RefreshToken is a refresh token record. A token is live while RotatedAt
// is nil; a rotated token presented again is either a retry (within the
// grace) or a reuse.
type RefreshToken struct {
	Hash      []byte
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
	RotatedAt *time.Time
}

// Rotation replaces a session's tokens after a successful refresh.
type Rotation struct {
	SessionID       string
	New             RefreshToken
	AccessHash      []byte
	AccessExpiresAt time.Time
	LastSeenAt      time.Time
	ExpiresAt       time.Time // new effective expiry
}

// Remembered is a remembered-login credential record ("remember login info").
type Remembered struct {
	Hash       []byte
	AccountID  string
	DeviceID   string
	DeviceName string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// AuthTime is the last password proof of the session that saved the
	// login; a sign-in with the credential inherits it, so step-up still
	// asks for the password.
	AuthTime time.Time
	// InstallHash binds the credential to the install key of the session
	// that saved it (nil: saved by an install without a key, bound to
	// DeviceID only).
	InstallHash []byte
}

// PurgeCounts says how many records Purge deleted, by kind.
type PurgeCounts struct {
	Sessions      int // ended sessions (their refresh tokens go with them, uncounted)
	RefreshTokens int // rotated refresh tokens of sessions that are kept
	Remembered    int // expired remembered logins
	MFATokens     int // expired MFA tokens
	Approvals     int // expired sign-in approvals and link codes
	Installs      int // known installs unused for the retention period
	Outbox        int // delivered outbox entries
}

// OutboxEntry is an event written by another process (an operator
// command) for the running servers' event streams.
type OutboxEntry struct {
	Seq  int64 // increasing, assigned by the store
	At   time.Time
	Data []byte // opaque to the store (the server's JSON-encoded event)
}

// Use is a request of a session that TouchSession did not record (it came
// within a minute of the last one): RecordUse moves the session's
// LastSeenAt to At and its ExpiresAt to ExpiresAt, later.
type Use struct {
	SessionID string
	At        time.Time
	ExpiresAt time.Time
}

// SessionUpdate is what UpdateSession changes: the fields that are not
// nil.
type SessionUpdate struct {
	// Name replaces Device.Name.
	Name *string
	// IdleTimeout replaces the session's own inactivity rule (0: none).
	IdleTimeout *time.Duration
}

// SessionEventsFunc makes the audit events that record a change to one
// session (UpdateSession), from the session as it was just before the
// change, read under the transaction's lock. The store appends them, in
// order, as AppendAudit does, under the account the call is about, after
// the change, in the same transaction. The rules of AuditFunc apply.
type SessionEventsFunc func(before Session) []api.AuditEvent

// SettingsAuditFunc makes the audit event that records a change of an
// account's settings (SetSettings), from the settings as they were just
// before, read under the transaction's lock. Stored like a
// SessionAuditFunc's event; the rules of AuditFunc apply.
type SettingsAuditFunc func(before Settings) api.AuditEvent

// IdleSweep asks EndIdleSessions to end sessions gone unused past their
// idle deadline.
type IdleSweep struct {
	// Revocation is the revocation each ended session gets; its At is
	// the instant the deadlines are compared with (ended: IdleDeadline at
	// or before At).
	Revocation Revocation
	// AccountID, when set, limits the sweep to that account's sessions;
	// SessionID to that one session.
	AccountID string
	SessionID string
	// Limit is how many sessions one call ends at most (at least 1).
	Limit int
	// Forget deletes the remembered logins of each ended session's device
	// (as RevokeEffects.Forget does for RevokeSession).
	Forget bool
	// Closure, when not nil, gives each ended session its first closure
	// token (see ClosureFunc).
	Closure ClosureFunc
	// Audit, when not nil, makes the event that records the end of one
	// session, from the session as ended and how many remembered logins
	// of its device went with it; the store appends one per ended session
	// under that session's account. The rules of AuditFunc apply.
	Audit func(ended Session, forgotten int) api.AuditEvent
}

// Touch records use of a session.
type Touch struct {
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	Location   api.Location
}

// SessionCursor is the keyset position after which a sessions page starts,
// in (LastSeenAt desc, ID desc) order.
type SessionCursor struct {
	LastSeenAt time.Time
	ID         string
}

// SessionCount is what CountSessions counts among an account's sessions
// that match a search (see SearchSessions).
type SessionCount struct {
	// Total is the number of the account's live sessions that match, the
	// current one (CountSessions' currentID) left out.
	Total int
	// Active is the number of those last seen (LastSeenAt) at or after
	// CountSessions' activeSince.
	Active int
	// Current reports whether the current session is a session of the
	// account, not revoked, that matches; live or not at now (its caller
	// knows better: the store may lag behind the uses the server holds
	// in memory).
	Current bool
}

// EndedCursor is the keyset position after which a page of ended
// sessions starts, in (Revoked.At desc, ID desc) order.
type EndedCursor struct {
	RevokedAt time.Time
	ID        string
}

// AuditRecord is an audit event with its account and sequence number.
type AuditRecord struct {
	Seq       int64 // Event.Seq: the account's sequence; pagination key
	AccountID string
	Event     api.AuditEvent
}

// Store is everything sessiond keeps. Implementations must be safe for
// concurrent use, and every method that changes more than one record does so
// atomically. A cancelled context gives context.Canceled; after Close every
// call gives ErrUnavailable. storetest.Run is the executable form of this
// contract. A Store that wraps another must pass CreateSession's audit
// events and the revocations' RevokeEffects on: they are part of the
// write.
type Store interface {
	// CreateAccount inserts a, or returns ErrUsernameTaken.
	CreateAccount(ctx context.Context, a Account) error
	// AccountByUsername finds an account by its lower-case username.
	AccountByUsername(ctx context.Context, username string) (Account, error)
	// Account finds an account by ID.
	Account(ctx context.Context, id string) (Account, error)
	// ChangePassword stores c.NewHash as the account's password hash if it
	// is still c.OldHash (else ErrConflict; ErrNotFound for an unknown
	// account) and, in the same transaction, deletes every remembered
	// login and every MFA token of the account and, when c.Revoke is set,
	// ends every live session but c.KeepSessionID and, when c.Audit is
	// set, appends the event it makes. It returns the sessions it ended,
	// ordered like ListSessions, and how many remembered logins it
	// deleted.
	ChangePassword(ctx context.Context, c PasswordChange) (ended []Session, forgotten int, err error)

	// SetTOTPPending stores secret as the account's pending TOTP secret,
	// replacing any earlier one. It returns ErrConflict (and changes
	// nothing) while two-step verification is on, ErrNotFound for an
	// unknown account.
	SetTOTPPending(ctx context.Context, accountID, secret string) error
	// EnableTOTP turns two-step verification on with the pending secret,
	// provided it is still secret: the secret becomes TOTPSecret, the
	// pending one is cleared, MFAEnabled is set, step is recorded as used
	// (as by UseTOTPStep, so the confirming code cannot sign in again),
	// the account's recovery codes are replaced by recoveryHashes and
	// every remembered login of the account is deleted (saved logins made
	// without the second factor must not outlive its arrival), all at
	// once. It returns how many remembered logins it deleted, ErrConflict
	// (and changes nothing) when the pending secret is not secret or
	// two-step verification is already on, ErrNotFound for an unknown
	// account.
	EnableTOTP(ctx context.Context, accountID, secret string, step int64, recoveryHashes [][]byte) (forgotten int, err error)
	// DisableTOTP turns two-step verification off: it clears both secrets
	// and MFAEnabled and deletes the account's recovery codes and MFA
	// tokens, at once. It reports whether verification was on (false, nil
	// for an account where it was off: only a pending secret is cleared);
	// ErrNotFound for an unknown account.
	DisableTOTP(ctx context.Context, accountID string) (wasOn bool, err error)
	// RewriteTOTPSecrets passes every non-empty TOTPSecret and
	// TOTPPendingSecret of every account to fn and, where fn reports a
	// change, stores the string it returns instead (each account in its
	// own transaction, re-reading the value so a concurrent change is not
	// overwritten). fn runs outside any transaction (it may call the
	// Store). An error from fn stops the walk and is returned. It returns
	// how many values it changed. The server uses it to seal secrets
	// stored before sealing existed.
	RewriteTOTPSecrets(ctx context.Context, fn func(secret string) (string, bool, error)) (int, error)
	// UseTOTPStep records TOTP time step step as used by the account if it
	// is later than every step recorded before, and reports whether it
	// was; false means the code is a replay. It is one atomic
	// compare-and-set: of concurrent callers with the same step exactly
	// one gets true. ErrNotFound for an unknown account.
	UseTOTPStep(ctx context.Context, accountID string, step int64) (bool, error)
	// UseRecoveryCode deletes the account's recovery code whose hash is h
	// and reports whether there was one (single use: of concurrent callers
	// exactly one gets true).
	UseRecoveryCode(ctx context.Context, accountID string, h []byte) (bool, error)
	// RecoveryCodesLeft counts the account's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, accountID string) (int, error)
	// ReplaceRecoveryCodes replaces every recovery code of the account,
	// used or not, by hashes while two-step verification is on and, in the
	// same transaction, appends the event audit makes (when audit is not
	// nil). It returns how many unused codes it deleted; ErrConflict (and
	// no change, no event) while two-step verification is off, ErrNotFound
	// for an unknown account. Concurrent calls run one after another: the
	// codes left are exactly those of the call that committed last, never
	// a mix, and each call counts only codes the one before it left.
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, audit CodesAuditFunc) (replaced int, err error)

	// CreateMFAToken inserts t, and deletes the account's tokens that
	// expired by t.CreatedAt so they do not pile up.
	CreateMFAToken(ctx context.Context, t MFAToken) error
	// MFAToken finds the token with hash h if it has not expired at now
	// (ExpiresAt after now); ErrNotFound otherwise.
	MFAToken(ctx context.Context, h []byte, now time.Time) (MFAToken, error)
	// ConsumeMFAToken deletes and returns the token with hash h if it has
	// not expired at now (single use: of concurrent callers exactly one
	// gets it); ErrNotFound otherwise.
	ConsumeMFAToken(ctx context.Context, h []byte, now time.Time) (MFAToken, error)

	// CreateApproval inserts a (State ApprovalPending) and appends the
	// audit events under a.AccountID (none for a link), in one
	// transaction.
	CreateApproval(ctx context.Context, a Approval, audit ...api.AuditEvent) error
	// ApprovalByToken finds the approval whose token hashes to h, in any
	// state; ErrNotFound otherwise.
	ApprovalByToken(ctx context.Context, h []byte) (Approval, error)
	// ApprovalByCode finds the link whose user code hashes to h, in any
	// state; ErrNotFound otherwise.
	ApprovalByCode(ctx context.Context, h []byte) (Approval, error)
	// DecideApproval answers a pending approval: the sign-in with ID
	// a.ID of account a.AccountID, or the link with code hash a.CodeHash
	// (which then becomes a.AccountID's). It sets State (approved or
	// denied), the decider fields (and a link's AccountID) and appends
	// a.Audit's events, in one transaction, and returns the approval as
	// answered. ErrNotFound when there is no such approval (or the
	// sign-in is another account's); ErrConflict with the approval as it
	// is (nothing written) when it is no longer pending or expired by
	// a.At. Of concurrent answers exactly one succeeds.
	DecideApproval(ctx context.Context, a ApprovalAnswer) (Approval, error)
	// ConsumeApproval marks the approved approval whose token hashes to h
	// used and returns it (single use: of concurrent callers exactly one
	// gets it). ErrNotFound for an unknown token; ErrConflict with the
	// approval as it is when it is not in State ApprovalApproved.
	ConsumeApproval(ctx context.Context, h []byte) (Approval, error)

	// CreateSession inserts s with its first refresh token (stored under
	// s.ID whatever rt.SessionID says) and appends the audit events, in
	// order, to the log of s.AccountID (as AppendAudit does), all in one
	// transaction: a duplicate token hash stores nothing, no event either.
	// When s.InstallHash is set it also records (or refreshes, with
	// s.CreatedAt as its last use) the account's known install.
	CreateSession(ctx context.Context, s Session, rt RefreshToken, audit ...api.AuditEvent) error
	// Session finds a session by ID (revoked ones too).
	Session(ctx context.Context, id string) (Session, error)
	// SessionByAccessHash finds the session whose current access token
	// hashes to h, revoked or not (the server answers session_revoked with
	// its details).
	SessionByAccessHash(ctx context.Context, h []byte) (Session, error)
	// MarkDPoPRefused notes that the bound session id was used without
	// its key (issue 21) and appends audit in the same write, the first
	// time only: first is false, and nothing is written, when it was noted
	// before. ErrNotFound when there is no such session. audit goes to the
	// log of the session's account (as AppendAudit stores it), in the
	// transaction that notes the refusal: both commit or neither. The note
	// is kept with the session (at audit.At, or the store's clock when
	// that is zero) and is not a revocation: nothing else of the session
	// changes. A revoked session is noted like a live one. Of concurrent
	// calls for one session, on one replica or several, exactly one
	// reports first and writes its event.
	MarkDPoPRefused(ctx context.Context, id string, audit api.AuditEvent) (first bool, err error)
	// TouchSession records use of a live session: ErrRevoked (and no
	// change) for a revoked one, ErrNotFound for an unknown one.
	TouchSession(ctx context.Context, id string, t Touch) error
	// SetAuthTime records a fresh password proof on a live session and
	// resets its ReauthFailures to 0. It returns ErrRevoked if the session
	// is revoked.
	SetAuthTime(ctx context.Context, id string, at time.Time) error
	// FailReauth adds one to a live session's ReauthFailures and returns
	// the new count (atomic: n concurrent calls return n distinct counts).
	// ErrRevoked (and no change) for a revoked session, ErrNotFound for
	// an unknown one.
	FailReauth(ctx context.Context, id string) (int, error)
	// KnownInstall reports whether a session of the account was ever
	// created (CreateSession) with InstallHash h and that record has not
	// been purged. A nil or empty h is never known.
	KnownInstall(ctx context.Context, accountID string, h []byte) (bool, error)
	// ListSessions returns up to limit live sessions of the account (not
	// revoked, ExpiresAt after now), excluding excludeID, ordered by
	// LastSeenAt then ID, both descending, starting after the cursor if any.
	ListSessions(ctx context.Context, accountID, excludeID string, now time.Time, after *SessionCursor, limit int) ([]Session, error)
	// SearchSessions is ListSessions restricted to the sessions that match
	// q: those whose Device.Name, Device.Model, Device.OS, Location.City,
	// Location.Region, Location.Country or IP contains q. q is literal
	// text (no wildcards: % and _ are characters like any other), its ASCII
	// letters compared case-insensitively; any other character matches
	// itself, and a store may also fold the case of non-ASCII letters as
	// its database does (PostgreSQL's lower() does under a UTF-8 LC_CTYPE;
	// SQLite does not). An empty q matches every session: SearchSessions
	// is then ListSessions. The cursor is a position in list order, the
	// same whatever q: a cursor from another search goes on from there.
	SearchSessions(ctx context.Context, accountID, excludeID string, now time.Time, q string, after *SessionCursor, limit int) ([]Session, error)
	// CountSessions counts, in one read, the live sessions of the account
	// (as ListSessions: not revoked, ExpiresAt after now, not past their
	// idle deadline) that match q (as SearchSessions) other than
	// currentID, those of them last seen at or after activeSince, and
	// reports whether currentID matches (SessionCount). An unknown
	// account has none.
	CountSessions(ctx context.Context, accountID, currentID string, now, activeSince time.Time, q string) (SessionCount, error)
	// RevokeSession ends one live session of the account and, in the same
	// transaction, makes the writes fx asks for (the zero RevokeEffects:
	// none). It returns the revoked session, ErrNotFound if the
	// account has no such session, or ErrRevoked (with the session as it
	// is) if it was already revoked; refused, it writes nothing at all. Of
	// concurrent calls for one session exactly one succeeds, so exactly
	// one writes its effects.
	RevokeSession(ctx context.Context, accountID, id string, r Revocation, fx RevokeEffects) (Session, error)
	// RevokeOtherSessions ends every live session of the account but keepID
	// (live: not revoked and ExpiresAt after r.At) and, in the same
	// transaction, makes the writes fx asks for (the zero RevokeEffects:
	// none). It returns the sessions it ended,
	// ordered like ListSessions. Concurrent calls never both end one
	// session; each writes its own effects.
	RevokeOtherSessions(ctx context.Context, accountID, keepID string, r Revocation, fx RevokeEffects) ([]Session, error)

	// ListEndedSessions returns up to limit revoked sessions of the
	// account whose revocation is at or after since, ordered by Revoked.At
	// then ID, both descending (the most recently ended first), starting
	// after the cursor if any. Sessions that expired without being
	// revoked are not listed. A limit of 0 or less returns nothing.
	ListEndedSessions(ctx context.Context, accountID string, since time.Time, after *EndedCursor, limit int) ([]Session, error)
	// IssueClosureToken stores h, the SHA-256 of a closure token, as a
	// token of the revoked session id issued at at, and drops the
	// session's oldest tokens beyond MaxClosureTokens (the one just
	// issued is kept), at once. ErrNotFound for an unknown session;
	// ErrConflict (nothing written) for a live session or one whose
	// closure is confirmed.
	IssueClosureToken(ctx context.Context, id string, h []byte, at time.Time) error
	// ConfirmClosure records the receipt of the revoked session that has a
	// closure token hashing to h (Receipt{At: at, Erased: erased}),
	// deletes every closure token of that session and, when audit is not
	// nil, appends the event audit makes from the session as it was
	// before, under its account, all in one transaction. It returns the
	// session as it now is. ErrNotFound (nothing written) when no closure
	// token hashes to h: unknown, spent by an earlier receipt, dropped or
	// purged with its session. A token works once, and one receipt spends
	// every token of its session: of concurrent calls with tokens of one
	// session exactly one succeeds.
	ConfirmClosure(ctx context.Context, h []byte, at time.Time, erased bool, audit SessionAuditFunc) (Session, error)

	// UpdateSession changes a session of the account that is not revoked
	// as u says (Name: its Device.Name; IdleTimeout: its own rule) and, in
	// the same transaction, appends the events events makes from the
	// session as it was before (when events is not nil). Nothing else of
	// the session changes, and no other session. It returns the session
	// as it now is; ErrNotFound if the account has no such session,
	// ErrRevoked if it is revoked; refused, it writes nothing at all.
	// Values are stored as given: callers check them. Concurrent updates
	// of one session run one after another, each seeing what the one
	// before it left.
	UpdateSession(ctx context.Context, accountID, id string, u SessionUpdate, events SessionEventsFunc) (Session, error)
	// SetSettings replaces the account's settings with st, copies
	// st.AutoLogoutInactiveAfter into every live session of the account
	// (Session.AccountIdleTimeout) and, when audit is not nil, appends
	// the event it makes from the settings as they were, all in one
	// transaction. It returns the settings as they were before;
	// ErrNotFound (nothing written) for an unknown account. A session
	// created concurrently gets either the old rule and then the new one,
	// or the new one: never the old one after the call returns.
	SetSettings(ctx context.Context, accountID string, st Settings, audit SettingsAuditFunc) (before Settings, err error)
	// EndIdleSessions ends up to sw.Limit live sessions whose
	// IdleDeadline is at or before sw.Revocation.At (of sw.AccountID, or
	// only sw.SessionID, when set) with sw.Revocation and, for each, the
	// writes sw asks for, in one short transaction, and returns them. It
	// never waits for a session another call is writing: such a session
	// is left for a later call. Of concurrent calls (replicas), each
	// session is ended by exactly one, which alone writes its effects. A
	// call that returns fewer than sw.Limit sessions found no other due
	// session it could take.
	EndIdleSessions(ctx context.Context, sw IdleSweep) ([]Session, error)
	// RecordUse moves the LastSeenAt of each live session in uses forward
	// to its Use.At, and its ExpiresAt to Use.ExpiresAt, where At is
	// later than the stored LastSeenAt (never back; a session used since
	// keeps its later time). Unknown and revoked sessions are skipped.
	// It may work in several transactions.
	RecordUse(ctx context.Context, uses []Use) error

	// RenameSession sets the device name (Device.Name) of a session of
	// the account that is not revoked to name and, in the same
	// transaction, appends the event audit makes from the session as it
	// was before (when audit is not nil). Nothing else of the session
	// changes, and no other session: a device's other sessions keep their
	// names. It returns the renamed session; ErrNotFound if the account has
	// no such session, ErrRevoked if it is revoked; refused, it writes
	// nothing at all. The name is stored as given: callers check it.
	// Concurrent renames of one session run one after another, each
	// seeing the name the one before it left.
	RenameSession(ctx context.Context, accountID, id, name string, audit SessionAuditFunc) (Session, error)

	// RefreshToken finds a refresh token record by hash.
	RefreshToken(ctx context.Context, h []byte) (RefreshToken, error)
	// RotateRefreshToken marks every live refresh token of the session
	// rotated at rot.New.IssuedAt, inserts rot.New and replaces the access
	// token, all at once. It returns ErrRevoked and changes nothing if the
	// session is revoked.
	RotateRefreshToken(ctx context.Context, rot Rotation) error

	// CreateRemembered inserts a remembered-login credential.
	CreateRemembered(ctx context.Context, r Remembered) error
	// ConsumeRemembered deletes and returns the credential with hash h if it
	// has not expired at now (ExpiresAt after now; single use); ErrNotFound
	// otherwise.
	ConsumeRemembered(ctx context.Context, h []byte, now time.Time) (Remembered, error)
	// DeleteRemembered deletes and returns the credential with hash h.
	DeleteRemembered(ctx context.Context, h []byte) (Remembered, error)
	// DeleteRememberedForDevice deletes the account's credentials for one device.
	DeleteRememberedForDevice(ctx context.Context, accountID, deviceID string) (int, error)
	// DeleteRememberedExcept deletes the account's credentials of every device
	// but exceptDeviceID (empty: all of them).
	DeleteRememberedExcept(ctx context.Context, accountID, exceptDeviceID string) (int, error)

	// AccountCount returns the number of accounts.
	AccountCount(ctx context.Context) (int, error)

	// Purge deletes what is no longer needed: sessions that ended before
	// before (revoked before it, or expired before it: ExpiresAt before
	// before), with their refresh tokens and their closure (its state and
	// its tokens); refresh tokens of other sessions
	// rotated before before; remembered logins, MFA tokens and approvals
	// that expired by now; known installs last used before before; outbox entries
	// written before before. Audit events are never purged. It may work in
	// several transactions; running it concurrently (replicas) is safe.
	Purge(ctx context.Context, now, before time.Time) (PurgeCounts, error)

	// AppendOutbox adds an entry for the servers' event streams and
	// returns its Seq.
	AppendOutbox(ctx context.Context, at time.Time, data []byte) (int64, error)
	// ReadOutbox returns up to limit entries with Seq above after, in Seq
	// order.
	ReadOutbox(ctx context.Context, after int64, limit int) ([]OutboxEntry, error)
	// OutboxHead returns the highest Seq handed out (0 for none), so a
	// server that starts reads only what comes after.
	OutboxHead(ctx context.Context) (int64, error)

	// AppendAudit adds events to the account's log, in order, in one
	// transaction, and returns the Seq of the last (0 for none). Every
	// event a store appends, here or with a change, is chained: it gets the
	// account's next Seq (from 1, no gaps), the Hash of the event before as
	// PrevHash (api.GenesisHash for the first) and its own Hash by the rule
	// (auditchain.Link, which also normalizes its time), and the account's
	// head moves to it, in the same transaction. Concurrent writers for one
	// account, on one replica or several, never fork the chain: they are
	// serialized per account.
	AppendAudit(ctx context.Context, accountID string, events ...api.AuditEvent) (int64, error)
	// ListAudit returns up to limit events of the account, newest first,
	// with Seq below beforeSeq (0: from the newest).
	ListAudit(ctx context.Context, accountID string, beforeSeq int64, limit int) ([]AuditRecord, error)
	// AuditSince returns up to limit events of the account with Seq above
	// afterSeq, oldest first. A limit of 0 or less returns nothing.
	AuditSince(ctx context.Context, accountID string, afterSeq int64, limit int) ([]api.AuditEvent, error)
	// AuditHead returns the account's recorded head: the Seq, Hash and At
	// of its newest event (0, api.GenesisHash and the zero time for an
	// empty log), with AccountID set.
	AuditHead(ctx context.Context, accountID string) (api.AuditHead, error)
	// WalkAudit calls fn with every event of every account, ordered by
	// account ID, then Seq, reading in constant memory; an error from fn
	// stops the walk and is returned.
	WalkAudit(ctx context.Context, fn func(accountID string, e api.AuditEvent) error) error
	// WalkAuditHeads calls fn with every account's recorded head, ordered
	// by account ID; an error from fn stops the walk and is returned.
	WalkAuditHeads(ctx context.Context, fn func(api.AuditHead) error) error

	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
