package api

import "time"

// Audit event types (AuditEvent.Type).
const (
	AuditLoginSucceeded           = "login.succeeded"
	AuditLoginFailed              = "login.failed"
	AuditLoginMFAFailed           = "login.mfa_failed"
	AuditLogout                   = "logout"
	AuditSessionRevoked           = "session.revoked"
	AuditSessionsRevokedOthers    = "sessions.revoked_others"
	AuditRefreshReuseDetected     = "refresh.reuse_detected"
	AuditReauthSucceeded          = "reauth.succeeded"
	AuditReauthFailed             = "reauth.failed"
	AuditPasswordChanged          = "password.changed"
	AuditMFAEnabled               = "mfa.enabled"
	AuditMFADisabled              = "mfa.disabled"
	AuditRecoveryCodeUsed         = "recovery_code.used"
	AuditRememberedLoginCreated   = "remembered_login.created"
	AuditRememberedLoginUsed      = "remembered_login.used"
	AuditRememberedLoginForgotten = "remembered_login.forgotten"
	// Operator commands (sessiond user reset-mfa, logout-all,
	// set-password); their DeviceName is "Server administrator".
	// A device renamed (PATCH /v1/sessions/{id}); TargetDeviceName is the
	// old name, Detail says the new one.
	AuditSessionRenamed = "session.renamed"
	// AuditSessionRulesChanged: a session's own inactivity rule was set or
	// removed (PATCH idle_timeout_s); the detail says which.
	AuditSessionRulesChanged = "session.rules_changed"
	// AuditSettingsChanged: the account's settings were changed (PUT
	// /v1/settings); the detail says what.
	AuditSettingsChanged = "account.settings_changed"
	// Approval of new sign-ins and device links (issue 17): requested,
	// approved, denied (a wrong number, "No, it wasn't me", or expired
	// unanswered is not audited as denied), and a device let in by code.
	AuditApprovalRequested = "login.approval_requested"
	AuditApprovalApproved  = "login.approval_approved"
	AuditApprovalDenied    = "login.approval_denied"
	AuditDeviceLinked      = "device.linked"
	// New recovery codes made (POST /v1/mfa/recovery-codes).
	AuditRecoveryCodesRegenerated = "mfa.recovery_codes_regenerated"
	AuditAdminResetMFA            = "admin.reset_mfa"
	AuditAdminLogoutAll           = "admin.logout_all"
	AuditAdminSetPassword         = "admin.set_password"
	// An ended session's device confirmed its closure (POST /v1/closures):
	// SessionID and TargetSessionID are the ended session, DeviceName and
	// TargetDeviceName its device, IP and Location where it sent the
	// receipt from; Detail says whether it erased this account's data.
	AuditSessionClosureConfirmed = "session.closure_confirmed"
	// AuditDPoPRefused (issue 21): a session bound to its device's key
	// (Session.Bound) was used without a proof, or with another key's: its
	// token was copied off the device. Once per session; SessionID and
	// TargetSessionID are the session, IP and Location where the copy was
	// used from, Detail what was tried.
	AuditDPoPRefused = "session.dpop_refused"
)

// AuditTypes lists every audit event type in the contract.
var AuditTypes = []string{
	AuditLoginSucceeded, AuditLoginFailed, AuditLoginMFAFailed, AuditLogout,
	AuditSessionRevoked, AuditSessionsRevokedOthers, AuditRefreshReuseDetected,
	AuditReauthSucceeded, AuditReauthFailed, AuditPasswordChanged,
	AuditMFAEnabled, AuditMFADisabled, AuditRecoveryCodeUsed,
	AuditRememberedLoginCreated, AuditRememberedLoginUsed, AuditRememberedLoginForgotten,
	AuditAdminResetMFA, AuditAdminLogoutAll, AuditAdminSetPassword, AuditDPoPRefused,
	AuditSessionRenamed, AuditRecoveryCodesRegenerated, AuditSessionClosureConfirmed,
	AuditSessionRulesChanged, AuditSettingsChanged,
	AuditApprovalRequested, AuditApprovalApproved, AuditApprovalDenied, AuditDeviceLinked,
}

// Event names on the GET /v1/events stream.
const (
	EventSessionRevoked  = "session.revoked"
	EventSessionCreated  = "session.created"
	EventSessionsChanged = "sessions.changed"
	EventPasswordChanged = "password.changed"
	// EventApprovalRequested asks the account's live devices to approve a
	// new sign-in (LoginApprovalRequestedEvent).
	EventApprovalRequested = "login.approval_requested"
	// EventApprovalResolved tells them it was answered or expired
	// (LoginApprovalResolvedEvent), so other devices stop asking.
	EventApprovalResolved = "login.approval_resolved"
)

// LoginApprovalRequestedEvent is a sign-in waiting for approval: the new
// device, where from, and three numbers of which one is the new device's.
type LoginApprovalRequestedEvent struct {
	ID        string    `json:"id"`
	Device    Device    `json:"device"`
	IP        string    `json:"ip"`
	Location  Location  `json:"location"`
	At        time.Time `json:"at"`
	ExpiresAt time.Time `json:"expires_at"`
	Numbers   []int     `json:"numbers"`
}

// LoginApprovalResolvedEvent: approval ID was approved, denied or expired
// (Outcome "approved", "denied", "expired").
type LoginApprovalResolvedEvent struct {
	ID      string `json:"id"`
	Outcome string `json:"outcome"`
}

// SessionRevokedEvent is sent to a revoked session's stream before it closes.
//
// Erase says whether whoever ended the session asked the device to erase
// this account's data from the install (always sent). ClosureToken is a
// single-use token the device sends to POST /v1/closures once it has wiped
// the account's tokens (and erased, when asked): its receipt. It is sent
// to this session's own streams only, and left out when there is nothing
// to confirm (the session logged itself out: that call was its receipt).
type SessionRevokedEvent struct {
	SessionID    string    `json:"session_id"`
	Reason       string    `json:"reason"`
	At           time.Time `json:"at"`
	BySessionID  string    `json:"by_session_id"`
	ByDeviceName string    `json:"by_device_name"`
	Erase        bool      `json:"erase"`
	ClosureToken string    `json:"closure_token,omitempty"`
}

// SessionCreatedEvent is sent to an account's other streams on a new sign-in.
type SessionCreatedEvent struct {
	Session Session `json:"session"`
}

// SessionsChangedEvent tells a stream that the session list changed.
type SessionsChangedEvent struct{}

// PasswordChangedEvent tells the other devices the password was changed.
type PasswordChangedEvent struct {
	At           time.Time `json:"at"`
	ByDeviceName string    `json:"by_device_name"`
}
