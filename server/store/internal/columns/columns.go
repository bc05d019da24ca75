// Package columns holds the column lists of the tables both stores share,
// in the order their scan functions read them and their inserts write
// them: one list per table, so that the SQLite and PostgreSQL schemas'
// common shape is written once. Each store keeps its own SQL around them.
package columns

// Session lists the sessions table's columns (not dpop_refused_at, which
// only MarkDPoPRefused reads and writes).
const Session = `id, account_id,
	device_id, device_name, device_platform, device_os, device_model, device_app_version,
	ip, loc_city, loc_region, loc_country, loc_country_code,
	created_at, last_seen_at, auth_time, expires_at, absolute_expires_at,
	remember, access_hash, access_expires_at, install_hash, reauth_failures,
	revoked_at, revoke_reason, revoked_by_session, revoked_by_device_name,
	revoke_erase, closure_confirmed_at, closure_erased,
	idle_timeout_s, account_idle_timeout_s, jkt`

// Account lists the accounts table's columns.
const Account = `id, username, password_hash, created_at, mfa_enabled, totp_secret, totp_pending_secret,
	auto_logout_inactive_after_s, approve_new_devices`

// Refresh lists the refresh_tokens table's columns.
const Refresh = `hash, session_id, issued_at, expires_at, rotated_at`

// Remembered lists the remembered_logins table's columns.
const Remembered = `hash, account_id, device_id, device_name, created_at, expires_at, auth_time, install_hash`

// MFAToken lists the mfa_tokens table's columns.
const MFAToken = `hash, account_id,
	device_id, device_name, device_platform, device_os, device_model, device_app_version,
	remember, install_hash, created_at, expires_at`

// Approval lists the approvals table's columns.
const Approval = `id, kind, token_hash, code_hash, account_id, number,
	device_id, device_name, device_platform, device_os, device_model, device_app_version,
	remember, install_hash, ip, loc_city, loc_region, loc_country, loc_country_code,
	created_at, expires_at, state, decided_at, decided_by_session, decided_by_device`

// Outbox lists the outbox table's columns.
const Outbox = `seq, at, data`

// Audit lists the audit_events table's columns, the account's sequence
// first (the store-wide seq is for the store alone).
const Audit = `account_seq, account_id, id, at, type, ip, loc_city, loc_region, loc_country, loc_country_code,
	session_id, device_name, target_session_id, target_device_name, detail, prev_hash, hash`
