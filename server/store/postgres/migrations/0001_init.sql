-- 0001: the whole schema of server/store/sqlite's migrations 0001 and 0002,
-- in PostgreSQL types: accounts (with two-step verification), sessions,
-- refresh tokens, remembered logins, recovery codes, MFA tokens and the
-- audit log.
--
-- Conventions: times are timestamptz (microsecond precision, an instant);
-- token hashes are bytea SHA-256 digests; text fields that may be unknown
-- are NOT NULL DEFAULT '' so rows scan into plain Go strings. Identifiers
-- are COLLATE "C": they compare byte-wise, as in Go and SQLite, so the
-- (last_seen_at, id) keyset order of ListSessions is the same whatever the
-- database's default collation, and their indexes compare fastest.

CREATE TABLE accounts (
	id                  text COLLATE "C" NOT NULL PRIMARY KEY,
	username            text COLLATE "C" NOT NULL,
	password_hash       text             NOT NULL,
	created_at          timestamptz      NOT NULL,
	-- Two-step verification is on when mfa_enabled; totp_secret then holds
	-- the secret. totp_pending_secret is a secret handed out by setup and
	-- not yet confirmed with a code.
	mfa_enabled         boolean          NOT NULL DEFAULT false,
	totp_secret         text             NOT NULL DEFAULT '',
	totp_pending_secret text             NOT NULL DEFAULT '',
	-- The latest RFC 6238 time step a code was accepted for: a code of
	-- this step or an earlier one is a replay.
	totp_last_step      bigint           NOT NULL DEFAULT 0,
	-- CreateAccount maps a violation of this constraint, by name, to
	-- store.ErrUsernameTaken.
	CONSTRAINT accounts_username_key UNIQUE (username)
);

CREATE TABLE sessions (
	id                     text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id             text COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	device_id              text        NOT NULL DEFAULT '',
	device_name            text        NOT NULL DEFAULT '',
	device_platform        text        NOT NULL DEFAULT '',
	device_os              text        NOT NULL DEFAULT '',
	device_model           text        NOT NULL DEFAULT '',
	device_app_version     text        NOT NULL DEFAULT '',
	ip                     text        NOT NULL DEFAULT '',
	loc_city               text        NOT NULL DEFAULT '',
	loc_region             text        NOT NULL DEFAULT '',
	loc_country            text        NOT NULL DEFAULT '',
	loc_country_code       text        NOT NULL DEFAULT '',
	created_at             timestamptz NOT NULL,
	last_seen_at           timestamptz NOT NULL,
	auth_time              timestamptz NOT NULL,
	expires_at             timestamptz NOT NULL,
	absolute_expires_at    timestamptz NOT NULL,
	remember               boolean     NOT NULL DEFAULT false,
	access_hash            bytea       NOT NULL,
	access_expires_at      timestamptz NOT NULL,
	-- NULL while the session is live.
	revoked_at             timestamptz,
	revoke_reason          text        NOT NULL DEFAULT '',
	revoked_by_session     text        NOT NULL DEFAULT '',
	revoked_by_device_name text        NOT NULL DEFAULT ''
);

-- Every authenticated request: SessionByAccessHash.
CREATE UNIQUE INDEX sessions_access_hash ON sessions (access_hash);

-- ListSessions pages (an index range scan in list order, the keyset
-- cursor as its start) and RevokeOtherSessions walk only live sessions,
-- so revoked ones piling up over the years do not slow them down. (Nothing
-- deletes accounts yet; the migration that does should add a plain index
-- on sessions (account_id) for the cascade.)
CREATE INDEX sessions_live_by_account
	ON sessions (account_id, last_seen_at DESC, id DESC)
	WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
	hash       bytea            NOT NULL PRIMARY KEY,
	session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	issued_at  timestamptz      NOT NULL,
	expires_at timestamptz      NOT NULL,
	-- NULL while the token is live.
	rotated_at timestamptz
);

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE remembered_logins (
	hash        bytea            NOT NULL PRIMARY KEY,
	account_id  text COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	device_id   text             NOT NULL,
	device_name text             NOT NULL DEFAULT '',
	created_at  timestamptz      NOT NULL,
	expires_at  timestamptz      NOT NULL,
	-- last password proof of the session that saved the login
	auth_time   timestamptz      NOT NULL
);

CREATE INDEX remembered_logins_account_device ON remembered_logins (account_id, device_id);

-- Single-use recovery codes: SHA-256 of the account id and the code.
CREATE TABLE recovery_codes (
	account_id text COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	hash       bytea            NOT NULL,
	PRIMARY KEY (account_id, hash)
);

-- A sign-in whose password was right and whose second factor is due: bound
-- to the account and to the device and "remember me" of the request.
CREATE TABLE mfa_tokens (
	hash               bytea            NOT NULL PRIMARY KEY,
	account_id         text COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	device_id          text             NOT NULL DEFAULT '',
	device_name        text             NOT NULL DEFAULT '',
	device_platform    text             NOT NULL DEFAULT '',
	device_os          text             NOT NULL DEFAULT '',
	device_model       text             NOT NULL DEFAULT '',
	device_app_version text             NOT NULL DEFAULT '',
	remember           boolean          NOT NULL DEFAULT false,
	created_at         timestamptz      NOT NULL,
	expires_at         timestamptz      NOT NULL
);

-- Expired tokens of an account are swept when it gets a new one; a password
-- change or turning two-step off deletes all of them.
CREATE INDEX mfa_tokens_account ON mfa_tokens (account_id, expires_at);

-- Append-only. No foreign key to accounts: the trail outlives what it
-- describes. seq comes from an identity sequence, so a sequence number is
-- never handed out twice, even across replicas; it grows in the order
-- rows are inserted (not necessarily committed).
--
-- The primary key (account_id, seq) is the index ListAudit walks: one
-- account's events newest first, a backward range scan from the beforeSeq
-- cursor. There is deliberately no index on seq alone: the planner would
-- walk it backward from the newest event of all, filtering by account,
-- which for an account whose events are old reads the whole log.
CREATE TABLE audit_events (
	seq                bigint GENERATED ALWAYS AS IDENTITY,
	account_id         text COLLATE "C" NOT NULL,
	id                 text             NOT NULL,
	at                 timestamptz      NOT NULL,
	type               text             NOT NULL,
	ip                 text             NOT NULL DEFAULT '',
	loc_city           text             NOT NULL DEFAULT '',
	loc_region         text             NOT NULL DEFAULT '',
	loc_country        text             NOT NULL DEFAULT '',
	loc_country_code   text             NOT NULL DEFAULT '',
	session_id         text             NOT NULL DEFAULT '',
	device_name        text             NOT NULL DEFAULT '',
	target_session_id  text             NOT NULL DEFAULT '',
	target_device_name text             NOT NULL DEFAULT '',
	detail             text             NOT NULL DEFAULT '',
	CONSTRAINT audit_events_account PRIMARY KEY (account_id, seq)
);
