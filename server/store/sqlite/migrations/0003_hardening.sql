-- 0003: install keys, re-auth failures, the outbox of operator commands,
-- and the indexes retention (Purge) walks.
--
-- Install keys are kept only as SHA-256 digests, like every token: NULL
-- where the sign-in carried none.

-- The install key of the sign-in that made the session, and how many wrong
-- answers in a row re-authentication has had on it (FailReauth; reset by
-- SetAuthTime).
ALTER TABLE sessions ADD COLUMN install_hash BLOB;
ALTER TABLE sessions ADD COLUMN reauth_failures INTEGER NOT NULL DEFAULT 0;

-- The install key of the sign-in waiting for its second factor, so the
-- session the second step creates carries it.
ALTER TABLE mfa_tokens ADD COLUMN install_hash BLOB;

-- The install key a remembered login is bound to.
ALTER TABLE remembered_logins ADD COLUMN install_hash BLOB;

-- Installs that have signed in to an account: CreateSession records one
-- whenever the session carries an install key, and moves last_used on.
CREATE TABLE known_installs (
	account_id   TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	install_hash BLOB    NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_used    INTEGER NOT NULL,
	PRIMARY KEY (account_id, install_hash)
) STRICT, WITHOUT ROWID;

-- Events written by another process (an operator command) for the running
-- servers' event streams, read in seq order. AUTOINCREMENT so a seq is
-- never handed out twice, even after the newest entries are purged.
CREATE TABLE outbox (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	at   INTEGER NOT NULL,
	data BLOB    NOT NULL
) STRICT;

-- Retention (Purge) finds what to delete by time, in batches, through
-- these; without them every batch would scan its whole table.
--
-- A session ended when it was revoked or when it expired, whichever came
-- first: Purge compares exactly this expression, so it walks the index.
CREATE INDEX sessions_ended
	ON sessions (min(coalesce(revoked_at, expires_at), expires_at));
-- Only rotated tokens are purged; live ones (NULL) are left out.
CREATE INDEX refresh_tokens_rotated ON refresh_tokens (rotated_at) WHERE rotated_at IS NOT NULL;
CREATE INDEX remembered_logins_expires ON remembered_logins (expires_at);
CREATE INDEX mfa_tokens_expires ON mfa_tokens (expires_at);
CREATE INDEX known_installs_last_used ON known_installs (last_used);
CREATE INDEX outbox_at ON outbox (at);
