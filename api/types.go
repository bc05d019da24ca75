package api

import "time"

// Device describes the install a session was signed in from. ID is a random
// UUID the app keeps for the install.
type Device struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Platform   string `json:"platform"`
	OS         string `json:"os"`
	Model      string `json:"model"`
	AppVersion string `json:"app_version"`
}

// Platforms the app reports in Device.Platform. Other values are accepted and
// shown as a generic device.
const (
	PlatformAndroid = "android"
	PlatformIOS     = "ios"
	PlatformLinux   = "linux"
	PlatformWindows = "windows"
	PlatformMacOS   = "macos"
	PlatformWeb     = "web"
)

// Account is a person's account.
type Account struct {
	ID         string    `json:"id"`
	Username   string    `json:"username"`
	CreatedAt  time.Time `json:"created_at"`
	MFAEnabled bool      `json:"mfa_enabled"`
}

// Location is an approximate place derived from an IP address. All fields
// are empty when the server has no GeoIP database or the address is unknown.
type Location struct {
	City        string `json:"city"`
	Region      string `json:"region"`
	Country     string `json:"country"`
	CountryCode string `json:"country_code"`
}

// IsZero reports whether nothing is known about the place.
func (l Location) IsZero() bool { return l == Location{} }

// Session is one sign-in on one device.
type Session struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	Device     Device    `json:"device"`
	IP         string    `json:"ip"`
	Location   Location  `json:"location"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	AuthTime   time.Time `json:"auth_time"`
	ExpiresAt  time.Time `json:"expires_at"`
	Remember   bool      `json:"remember"`
	// Bound (issue 21) says the session is bound to a key on its device
	// (DPoP, RFC 9449): its tokens work only with a fresh proof signed by
	// that key, so a copy of them is useless anywhere else.
	Bound        bool       `json:"bound"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
	// RevokedBySessionID and RevokedByDeviceName say who ended the
	// session: the session (and its device's name) that did, or no
	// session and "Server administrator" for an operator command; both
	// empty when no one did (reauth_failed, refresh_token_reuse).
	RevokedBySessionID  string `json:"revoked_by_session_id,omitempty"`
	RevokedByDeviceName string `json:"revoked_by_device_name,omitempty"`
	// IdleTimeoutS is the session's own inactivity rule in seconds (0:
	// none): it is ended when unused that long (reason inactive).
	IdleTimeoutS int `json:"idle_timeout_s"`
	// Closure is what became of an ended session on its device; nil while
	// the session is live.
	Closure *Closure `json:"closure,omitempty"`
}

// Closure states (Closure.State).
const (
	// ClosurePending: the device has not confirmed yet. Its tokens fail
	// all the same, from the moment the session was ended.
	ClosurePending = "pending"
	// ClosureConfirmed: the device confirmed with its closure token that it
	// wiped the account's tokens (POST /v1/closures), or the session ended
	// itself (a log out, which is its own receipt).
	ClosureConfirmed = "confirmed"
)

// Closure is the closure of an ended session, as far as its device has
// confirmed it. EraseRequested says whether whoever ended it asked the
// device to erase this account's data from the install; Erased whether
// the device says it did. ConfirmedAt is when the receipt arrived (only
// when State is ClosureConfirmed).
type Closure struct {
	State          string     `json:"state"`
	EraseRequested bool       `json:"erase_requested"`
	Erased         bool       `json:"erased"`
	ConfirmedAt    *time.Time `json:"confirmed_at,omitempty"`
}

// ClosureRequest is the body of POST /v1/closures (no bearer token): an
// ended session's device confirms that it wiped the account's tokens
// (and, with Erased, the rest of the account's data on the install).
// ClosureToken is the token of the session.revoked event or of the 401
// session_revoked details; it works once.
type ClosureRequest struct {
	ClosureToken string `json:"closure_token"`
	Erased       bool   `json:"erased"`
}

// Session list states, the state parameter of GET /v1/sessions.
const (
	// SessionsLive (the default): the live sessions, this one first.
	SessionsLive = "live"
	// SessionsEnded: the sessions ended (logged out) in the last 30 days,
	// the most recently ended first, each with its Closure.
	SessionsEnded = "ended"
)

// EndedSessionsDays is how far back, in days, GET
// /v1/sessions?state=ended looks.
const EndedSessionsDays = 30

// Tokens is a fresh access/refresh token pair.
type Tokens struct {
	AccessToken      string    `json:"access_token"`
	RefreshToken     string    `json:"refresh_token"`
	AccessExpiresAt  time.Time `json:"access_expires_at"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
}

// Login is the answer to a sign-in: either a signed-in session with tokens,
// or MFARequired with an MFAToken for POST /v1/login/mfa.
type Login struct {
	Account          *Account  `json:"account,omitempty"`
	Session          *Session  `json:"session,omitempty"`
	AccessToken      string    `json:"access_token,omitempty"`
	RefreshToken     string    `json:"refresh_token,omitempty"`
	AccessExpiresAt  time.Time `json:"access_expires_at,omitzero"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at,omitzero"`
	MFARequired      bool      `json:"mfa_required,omitempty"`
	MFAToken         string    `json:"mfa_token,omitempty"`
	// ApprovalRequired: the account approves new devices
	// (Settings.ApproveNewDevices) and this install never signed in to it:
	// a live device must approve (or a recovery code skip it, POST
	// /v1/login/mfa with ApprovalToken as mfa_token). Approval says what
	// to show; POST /v1/login/approval with ApprovalToken learns the answer.
	ApprovalRequired bool      `json:"approval_required,omitempty"`
	ApprovalToken    string    `json:"approval_token,omitempty"`
	Approval         *Approval `json:"approval,omitempty"`
}

// Approval is a sign-in waiting for a live device's approval: the new
// device shows Number; the approver must pick it among three.
type Approval struct {
	ID        string    `json:"id"`
	Number    int       `json:"number"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ApprovalLifetime is how long a sign-in waits for approval.
const ApprovalLifetime = 5 * time.Minute

// ApprovalPollRequest is the body of POST /v1/login/approval: the new
// device asks for the answer. 200 Login once approved; 202
// ApprovalPending while waiting (the server holds the request up to
// ApprovalPollWait first, so the answer arrives at once); 403
// login_denied; 410 expired.
type ApprovalPollRequest struct {
	ApprovalToken string `json:"approval_token"`
	InstallKey    string `json:"install_key,omitempty"`
}

// ApprovalPollWait is how long POST /v1/login/approval and POST
// /v1/link/poll wait for an answer before 202.
const ApprovalPollWait = 25 * time.Second

// ApprovalPending is the 202 answer while waiting.
type ApprovalPending struct {
	Pending bool `json:"pending"`
}

// ApprovalDecision is the body of POST /v1/login/approvals/{id} (bearer,
// any live session of the account): Approve with the number picked; a
// wrong Number counts as a denial.
type ApprovalDecision struct {
	Approve bool `json:"approve"`
	Number  int  `json:"number"`
}

// LinkStartRequest is the body of POST /v1/link/start (no bearer): a new
// device asks for a code to be approved from a signed-in device.
type LinkStartRequest struct {
	Device     Device `json:"device"`
	InstallKey string `json:"install_key,omitempty"`
	Remember   bool   `json:"remember,omitempty"`
}

// LinkStart is the answer of POST /v1/link/start: the device shows
// UserCode ("ABCD-EFGH", single use, LinkLifetime) and polls with
// LinkToken.
type LinkStart struct {
	LinkToken string    `json:"link_token"`
	UserCode  string    `json:"user_code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// LinkLifetime is how long a link code lives.
const LinkLifetime = 10 * time.Minute

// LinkApproveRequest is the body of POST /v1/link/approve (bearer,
// step-up): a signed-in device lets the code's device in; with Check
// set it only answers LinkPreview (what it would let in), changing
// nothing.
type LinkApproveRequest struct {
	UserCode string `json:"user_code"`
	Check    bool   `json:"check,omitempty"`
}

// LinkPreview is what a link code would let in: the waiting device, and
// where it asked from.
type LinkPreview struct {
	Device   Device    `json:"device"`
	IP       string    `json:"ip"`
	Location Location  `json:"location"`
	At       time.Time `json:"at"`
}

// LinkPollRequest is the body of POST /v1/link/poll: 200 Login once
// approved, 202 ApprovalPending, 403 login_denied, 410 expired.
type LinkPollRequest struct {
	LinkToken string `json:"link_token"`
}

// Tokens returns the token pair carried by a completed Login.
func (l Login) Tokens() Tokens {
	return Tokens{
		AccessToken:      l.AccessToken,
		RefreshToken:     l.RefreshToken,
		AccessExpiresAt:  l.AccessExpiresAt,
		RefreshExpiresAt: l.RefreshExpiresAt,
	}
}

// AuditEvent is one entry of an account's append-only security log.
type AuditEvent struct {
	ID               string    `json:"id"`
	At               time.Time `json:"at"`
	Type             string    `json:"type"`
	IP               string    `json:"ip"`
	Location         Location  `json:"location"`
	SessionID        string    `json:"session_id"`
	DeviceName       string    `json:"device_name"`
	TargetSessionID  string    `json:"target_session_id,omitempty"`
	TargetDeviceName string    `json:"target_device_name,omitempty"`
	Detail           string    `json:"detail"`
	// Seq numbers the account's events from 1, without gaps.
	Seq int64 `json:"seq"`
	// PrevHash is the Hash of event Seq-1 (GenesisHash for the first).
	PrevHash string `json:"prev_hash"`
	// Hash is hex SHA-256 of PrevHash, "\n" and the RFC 8785 canonical JSON
	// of the event without hash (package api/auditchain computes it).
	Hash string `json:"hash"`
}

// GenesisHash is the PrevHash of an account's first audit event, and the
// Hash of the head of an empty log: 64 zeros.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// AuditHead is the newest event of an account's log as the server states
// it: its Seq and Hash (0 and GenesisHash for an empty log), and At, when
// the server made the statement. AccountID extends the design's head: a
// head signed for one account can't be shown as another's.
type AuditHead struct {
	AccountID string    `json:"account_id"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
}

// SignedAuditHead is the last line of GET /v1/audit/export: the head and
// the server's Ed25519 signature, standard base64, over HeadSignContext,
// "\n" and the head's RFC 8785 canonical JSON.
type SignedAuditHead struct {
	Head      AuditHead `json:"head"`
	Signature string    `json:"signature"`
}

// HeadSignContext starts every message a server signs for a head, so a
// signature over a head can't be taken for one over anything else.
const HeadSignContext = "sessiond-audit-head"

// ServerKey is the answer of GET /v1/server-key: the key audit heads are
// signed with. PublicKey is standard base64.
type ServerKey struct {
	Alg       string `json:"alg"`
	PublicKey string `json:"public_key"`
}

// ServerKeyAlg is the only ServerKey.Alg.
const ServerKeyAlg = "Ed25519"

// NDJSONType is the content type of GET /v1/audit/export: one JSON
// value per line, the account's events oldest first, then a
// SignedAuditHead.
const NDJSONType = "application/x-ndjson"

// CreateAccountRequest is the body of POST /v1/accounts.
type CreateAccountRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// CreateAccountResponse is the 201 answer of POST /v1/accounts.
type CreateAccountResponse struct {
	Account Account `json:"account"`
}

// LoginRequest is the body of POST /v1/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Remember bool   `json:"remember"`
	Device   Device `json:"device"`
	// InstallKey is the install's secret, InstallKeyMinLen to
	// InstallKeyMaxLen printable ASCII characters (no spaces) the app makes
	// once and keeps in its secret store: an install that signed in to the
	// account before with the same key is not locked out by failed
	// sign-ins from elsewhere, and remembered logins are bound to it.
	// Optional; the server keeps only its hash.
	InstallKey string `json:"install_key,omitempty"`
}

// Password lengths the server's policy allows, in characters (Unicode
// code points): a new password (sign-up, change) has at least
// PasswordMinLen; the app checks it before sending. The server also refuses
// common and simple passwords, which only it knows.
const (
	PasswordMinLen = 8
	PasswordMaxLen = 256
)

// Lengths of an install key (LoginRequest.InstallKey).
const (
	InstallKeyMinLen = 32
	InstallKeyMaxLen = 128
)

// MFALoginRequest is the body of POST /v1/login/mfa. Code is a TOTP code or
// a recovery code.
type MFALoginRequest struct {
	MFAToken string `json:"mfa_token"`
	Code     string `json:"code"`
	// InstallKey, when sent, must be the key of the POST /v1/login that
	// returned MFAToken.
	InstallKey string `json:"install_key,omitempty"`
}

// RememberedLoginRequest is the body of POST /v1/login/remembered.
// Remember (an extension of the contract) asks for a session that stays
// signed in, as with LoginRequest.Remember.
type RememberedLoginRequest struct {
	Credential string `json:"credential"`
	Device     Device `json:"device"`
	Remember   bool   `json:"remember,omitempty"`
	// InstallKey must be the key of the session that saved the login, when
	// that session had one: the credential is bound to it.
	InstallKey string `json:"install_key,omitempty"`
}

// ForgetRememberedRequest is the body of POST /v1/remembered/forget.
type ForgetRememberedRequest struct {
	Credential string `json:"credential"`
}

// RefreshRequest is the body of POST /v1/token/refresh.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// LogoutRequest is the body of POST /v1/logout. Remember asks for a
// remembered-login credential for one-tap sign-in later on this device; it
// needs RefreshToken, the session's current refresh token, so that a stolen
// access token alone cannot mint a long-lived credential.
type LogoutRequest struct {
	Remember     bool   `json:"remember"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// LogoutResponse is the answer of POST /v1/logout.
type LogoutResponse struct {
	RememberedCredential string     `json:"remembered_credential,omitempty"`
	RememberedExpiresAt  *time.Time `json:"remembered_expires_at,omitempty"`
}

// MeResponse is the answer of GET /v1/me.
type MeResponse struct {
	Account Account `json:"account"`
	Session Session `json:"session"`
}

// SessionsPage is the answer of GET /v1/sessions.
type SessionsPage struct {
	Sessions   []Session `json:"sessions"`
	NextCursor string    `json:"next_cursor"`
	// Counts is on the first page of live sessions (no cursor): how many
	// live sessions of the account match the request (its q, if any),
	// this device included.
	Counts *SessionCounts `json:"counts,omitempty"`
}

// SessionCounts counts an account's live sessions: all of them, and those
// used in the last ActiveTodayWindow (last_seen_at; this device is
// always active).
type SessionCounts struct {
	Total       int `json:"total"`
	ActiveToday int `json:"active_today"`
}

// ActiveTodayWindow is how recent a session's last use must be for
// SessionCounts.ActiveToday.
const ActiveTodayWindow = 24 * time.Hour

// SessionQueryMaxLen is the longest q GET /v1/sessions takes, in
// characters: a search of the live sessions by device name, model, OS,
// place (city, region, country) or IP address, case-insensitive.
const SessionQueryMaxLen = 100

// RevokeSessionResponse is the answer of DELETE /v1/sessions/{id}.
type RevokeSessionResponse struct {
	Session Session `json:"session"`
}

// RevokedCount is the answer of DELETE /v1/sessions?scope=others and
// POST /v1/password: how many sessions were ended.
type RevokedCount struct {
	Revoked int `json:"revoked"`
}

// ReauthRequest is the body of POST /v1/reauth. Code is needed when two-step
// verification is on.
type ReauthRequest struct {
	Password string `json:"password"`
	Code     string `json:"code,omitempty"`
}

// ReauthResponse is the answer of POST /v1/reauth.
type ReauthResponse struct {
	AuthTime time.Time `json:"auth_time"`
}

// ChangePasswordRequest is the body of POST /v1/password.
type ChangePasswordRequest struct {
	CurrentPassword    string `json:"current_password"`
	NewPassword        string `json:"new_password"`
	LogOutOtherDevices bool   `json:"log_out_other_devices"`
}

// TOTPSetupResponse is the answer of POST /v1/mfa/totp/setup.
type TOTPSetupResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
}

// TOTPEnableRequest is the body of POST /v1/mfa/totp/enable.
type TOTPEnableRequest struct {
	Code string `json:"code"`
}

// TOTPEnableResponse is the answer of POST /v1/mfa/totp/enable.
type TOTPEnableResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// AuditPage is the answer of GET /v1/audit.
type AuditPage struct {
	Events     []AuditEvent `json:"events"`
	NextCursor string       `json:"next_cursor"`
}

// HealthResponse is the answer of GET /healthz. Service is always
// HealthService, so a client can tell sessiond from another server that
// answers at the address; Version is sessiond's.
type HealthResponse struct {
	Status  string `json:"status"`
	Service string `json:"service"`
	Version string `json:"version,omitempty"`
}

// HealthService is HealthResponse.Service.
const HealthService = "sessiond"

// UpdateSessionRequest is the body of PATCH /v1/sessions/{id}: the fields
// to change, any session of the caller's account. Name replaces the
// device's name (1–64 characters, checked like device names).
// IdleTimeoutS is the device's own inactivity rule in seconds: ended when
// unused that long (0 removes the rule); at least the server's minimum
// (sessiond --min-idle-timeout, default 3600), at most a year (31536000)
// and at most the session's lifetime.
type UpdateSessionRequest struct {
	Name         *string `json:"name,omitempty"`
	IdleTimeoutS *int    `json:"idle_timeout_s,omitempty"`
}

// HeaderBackground, set to "1" on a request, says the app made it by
// itself, not the person: a list reloaded after an event, the token
// refreshed for it. Such a request is served as any other but is not use
// of the session: it neither holds off the inactivity rules nor extends a
// remembered session's idle expiry.
const HeaderBackground = "Sessionguard-Background"

// Settings is the account's settings (GET /v1/settings; PUT, with a
// recent password proof, sets them all and answers the new ones).
// AutoLogoutInactiveAfterS ends every session unused that long, in
// seconds (0: never); a session's own IdleTimeoutS applies too, the
// stricter wins. ApproveNewDevices belongs to the approval contract
// addition.
type Settings struct {
	AutoLogoutInactiveAfterS int  `json:"auto_logout_inactive_after_s"`
	ApproveNewDevices        bool `json:"approve_new_devices"`
}

// UpdateSessionResponse is the answer of PATCH /v1/sessions/{id}.
type UpdateSessionResponse struct {
	Session Session `json:"session"`
}

// RecoveryCodesStatus is the answer of GET /v1/mfa/recovery-codes: how
// many unused recovery codes the account has (0 with two-step off).
type RecoveryCodesStatus struct {
	Remaining int `json:"remaining"`
}

// RecoveryCodesResponse is the answer of POST /v1/mfa/recovery-codes (step-up):
// a fresh set of codes, shown once, replacing every earlier one.
type RecoveryCodesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}
