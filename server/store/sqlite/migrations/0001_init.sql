-- 0001: accounts, sessions, refresh tokens, remembered logins, audit events.
--
-- Conventions: times are INTEGER unix microseconds (UTC); token hashes are
-- BLOB SHA-256 digests; text fields that may be unknown are NOT NULL DEFAULT ''
-- so rows scan into plain Go strings. Later migrations add password-change
-- bookkeeping, TOTP secrets, recovery codes and MFA tokens as new tables or
-- columns keyed by accounts.id.

CREATE TABLE accounts (
	id            TEXT    NOT NULL PRIMARY KEY,
	username      TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	mfa_enabled   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE sessions (
	id                     TEXT    NOT NULL PRIMARY KEY,
	account_id             TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	device_id              TEXT    NOT NULL DEFAULT '',
	device_name            TEXT    NOT NULL DEFAULT '',
	device_platform        TEXT    NOT NULL DEFAULT '',
	device_os              TEXT    NOT NULL DEFAULT '',
	device_model           TEXT    NOT NULL DEFAULT '',
	device_app_version     TEXT    NOT NULL DEFAULT '',
	ip                     TEXT    NOT NULL DEFAULT '',
	loc_city               TEXT    NOT NULL DEFAULT '',
	loc_region             TEXT    NOT NULL DEFAULT '',
	loc_country            TEXT    NOT NULL DEFAULT '',
	loc_country_code       TEXT    NOT NULL DEFAULT '',
	created_at             INTEGER NOT NULL,
	last_seen_at           INTEGER NOT NULL,
	auth_time              INTEGER NOT NULL,
	expires_at             INTEGER NOT NULL,
	absolute_expires_at    INTEGER NOT NULL,
	remember               INTEGER NOT NULL DEFAULT 0,
	access_hash            BLOB    NOT NULL,
	access_expires_at      INTEGER NOT NULL,
	-- NULL while the session is live.
	revoked_at             INTEGER,
	revoke_reason          TEXT    NOT NULL DEFAULT '',
	revoked_by_session     TEXT    NOT NULL DEFAULT '',
	revoked_by_device_name TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Every authenticated request: SessionByAccessHash.
CREATE UNIQUE INDEX sessions_access_hash ON sessions (access_hash);

-- ListSessions pages and RevokeOtherSessions walk only live sessions, so
-- revoked ones piling up over the years do not slow them down. (Nothing
-- deletes accounts yet; the migration that does should add a plain index on
-- sessions (account_id) for the cascade, and check RevokeOtherSessions still
-- picks this one: TestQueryPlans.)
CREATE INDEX sessions_live_by_account
	ON sessions (account_id, last_seen_at DESC, id DESC)
	WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
	hash       BLOB    NOT NULL PRIMARY KEY,
	session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	-- NULL while the token is live.
	rotated_at INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE remembered_logins (
	hash        BLOB    NOT NULL PRIMARY KEY,
	account_id  TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	device_id   TEXT    NOT NULL,
	device_name TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	-- last password proof of the session that saved the login
	auth_time   INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

CREATE INDEX remembered_logins_account_device ON remembered_logins (account_id, device_id);

-- Append-only. No foreign key to accounts: the trail outlives what it
-- describes. AUTOINCREMENT so a sequence number is never handed out twice.
CREATE TABLE audit_events (
	seq                INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id         TEXT    NOT NULL,
	id                 TEXT    NOT NULL,
	at                 INTEGER NOT NULL,
	type               TEXT    NOT NULL,
	ip                 TEXT    NOT NULL DEFAULT '',
	loc_city           TEXT    NOT NULL DEFAULT '',
	loc_region         TEXT    NOT NULL DEFAULT '',
	loc_country        TEXT    NOT NULL DEFAULT '',
	loc_country_code   TEXT    NOT NULL DEFAULT '',
	session_id         TEXT    NOT NULL DEFAULT '',
	device_name        TEXT    NOT NULL DEFAULT '',
	target_session_id  TEXT    NOT NULL DEFAULT '',
	target_device_name TEXT    NOT NULL DEFAULT '',
	detail             TEXT    NOT NULL DEFAULT ''
) STRICT;

-- (account_id, seq): the rowid rides along in every index entry.
CREATE INDEX audit_events_account ON audit_events (account_id);
