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
)

// Account is an account record. PasswordHash is a PHC-format argon2id string.
type Account struct {
	ID           string
	Username     string // lower case, unique
	PasswordHash string
	CreatedAt    time.Time
	MFAEnabled   bool
}

// Revocation says when, why and by whom a session was ended.
type Revocation struct {
	At           time.Time
	Reason       string // api.Reason*
	BySessionID  string // empty when not ended by a session (e.g. expiry, admin)
	ByDeviceName string
}

// Session is a session record. Only hashes of tokens are kept.
type Session struct {
	ID        string
	AccountID string
	Device    api.Device
	IP        string
	Location  api.Location
	CreatedAt time.Time
	// LastSeenAt moves with use, written at most once a minute.
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
	// Revoked is nil while the session is live.
	Revoked *Revocation
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

// AuditRecord is an audit event with its account and store sequence.
type AuditRecord struct {
	Seq       int64 // assigned by the store, increasing; pagination key
	AccountID string
	Event     api.AuditEvent
}

// Store is everything sessiond keeps. Implementations must be safe for
// concurrent use, and every method that changes more than one record does so
// atomically. A cancelled context gives context.Canceled; after Close every
// call gives ErrUnavailable. storetest.Run is the executable form of this
// contract.
type Store interface {
	// CreateAccount inserts a, or returns ErrUsernameTaken.
	CreateAccount(ctx context.Context, a Account) error
	// AccountByUsername finds an account by its lower-case username.
	AccountByUsername(ctx context.Context, username string) (Account, error)
	// Account finds an account by ID.
	Account(ctx context.Context, id string) (Account, error)

	// CreateSession inserts s with its first refresh token (stored under
	// s.ID whatever rt.SessionID says); a duplicate token hash stores nothing.
	CreateSession(ctx context.Context, s Session, rt RefreshToken) error
	// Session finds a session by ID (revoked ones too).
	Session(ctx context.Context, id string) (Session, error)
	// SessionByAccessHash finds the session whose current access token
	// hashes to h, revoked or not (the server answers session_revoked with
	// its details).
	SessionByAccessHash(ctx context.Context, h []byte) (Session, error)
	// TouchSession records use of a live session: ErrRevoked (and no
	// change) for a revoked one, ErrNotFound for an unknown one.
	TouchSession(ctx context.Context, id string, t Touch) error
	// SetAuthTime records a fresh password proof on a live session.
	// It returns ErrRevoked if the session is revoked.
	SetAuthTime(ctx context.Context, id string, at time.Time) error
	// ListSessions returns up to limit live sessions of the account (not
	// revoked, ExpiresAt after now), excluding excludeID, ordered by
	// LastSeenAt then ID, both descending, starting after the cursor if any.
	ListSessions(ctx context.Context, accountID, excludeID string, now time.Time, after *SessionCursor, limit int) ([]Session, error)
	// RevokeSession ends one live session of the account. It returns the
	// revoked session, ErrNotFound if the account has no such session, or
	// ErrRevoked (with the session as it is) if it was already revoked.
	RevokeSession(ctx context.Context, accountID, id string, r Revocation) (Session, error)
	// RevokeOtherSessions ends every live session of the account but keepID
	// (live: not revoked and ExpiresAt after r.At), returning the sessions
	// it ended.
	RevokeOtherSessions(ctx context.Context, accountID, keepID string, r Revocation) ([]Session, error)

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

	// AppendAudit adds an event to the account's log and returns its Seq.
	AppendAudit(ctx context.Context, accountID string, e api.AuditEvent) (int64, error)
	// ListAudit returns up to limit events of the account, newest first,
	// with Seq below beforeSeq (0: from the newest).
	ListAudit(ctx context.Context, accountID string, beforeSeq int64, limit int) ([]AuditRecord, error)

	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
