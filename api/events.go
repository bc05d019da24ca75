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
	// New recovery codes made (POST /v1/mfa/recovery-codes).
	AuditRecoveryCodesRegenerated = "mfa.recovery_codes_regenerated"
	AuditAdminResetMFA            = "admin.reset_mfa"
	AuditAdminLogoutAll           = "admin.logout_all"
	AuditAdminSetPassword         = "admin.set_password"
)

// AuditTypes lists every audit event type in the contract.
var AuditTypes = []string{
	AuditLoginSucceeded, AuditLoginFailed, AuditLoginMFAFailed, AuditLogout,
	AuditSessionRevoked, AuditSessionsRevokedOthers, AuditRefreshReuseDetected,
	AuditReauthSucceeded, AuditReauthFailed, AuditPasswordChanged,
	AuditMFAEnabled, AuditMFADisabled, AuditRecoveryCodeUsed,
	AuditRememberedLoginCreated, AuditRememberedLoginUsed, AuditRememberedLoginForgotten,
	AuditAdminResetMFA, AuditAdminLogoutAll, AuditAdminSetPassword,
	AuditSessionRenamed, AuditRecoveryCodesRegenerated,
}

// Event names on the GET /v1/events stream.
const (
	EventSessionRevoked  = "session.revoked"
	EventSessionCreated  = "session.created"
	EventSessionsChanged = "sessions.changed"
	EventPasswordChanged = "password.changed"
)

// SessionRevokedEvent is sent to a revoked session's stream before it closes.
type SessionRevokedEvent struct {
	SessionID    string    `json:"session_id"`
	Reason       string    `json:"reason"`
	At           time.Time `json:"at"`
	BySessionID  string    `json:"by_session_id"`
	ByDeviceName string    `json:"by_device_name"`
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
