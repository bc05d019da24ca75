-- 0002: two-step verification (TOTP secrets, replay guard, recovery codes)
-- and the tokens of half-finished sign-ins waiting for their second factor.
--
-- The TOTP secret is kept as is: the server must compute codes from it. It
-- never leaves the server after setup and is never logged. Recovery codes
-- and MFA tokens are kept only as SHA-256 digests, like every other token.

-- Two-step verification is on when mfa_enabled = 1; totp_secret then holds
-- the secret. totp_pending_secret is a secret handed out by setup and not
-- yet confirmed with a code.
ALTER TABLE accounts ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN totp_pending_secret TEXT NOT NULL DEFAULT '';
-- The latest RFC 6238 time step a code was accepted for: a code of this
-- step or an earlier one is a replay.
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- Single-use recovery codes: SHA-256 of the account id and the code.
CREATE TABLE recovery_codes (
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	hash       BLOB NOT NULL,
	PRIMARY KEY (account_id, hash)
) STRICT, WITHOUT ROWID;

-- A sign-in whose password was right and whose second factor is due: bound
-- to the account and to the device and "remember me" of the request.
CREATE TABLE mfa_tokens (
	hash               BLOB    NOT NULL PRIMARY KEY,
	account_id         TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	device_id          TEXT    NOT NULL DEFAULT '',
	device_name        TEXT    NOT NULL DEFAULT '',
	device_platform    TEXT    NOT NULL DEFAULT '',
	device_os          TEXT    NOT NULL DEFAULT '',
	device_model       TEXT    NOT NULL DEFAULT '',
	device_app_version TEXT    NOT NULL DEFAULT '',
	remember           INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL,
	expires_at         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Expired tokens of an account are swept when it gets a new one; a password
-- change or turning two-step off deletes all of them.
CREATE INDEX mfa_tokens_account ON mfa_tokens (account_id, expires_at);
