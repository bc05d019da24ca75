-- 0005: closures you can verify. A revocation may ask the device to erase
-- the account's data from the install (revoke_erase); the device confirms
-- with a single-use closure token that it wiped its tokens, and whether it
-- erased (closure_confirmed_at, closure_erased). Closure tokens are kept
-- only as SHA-256 digests, like every token.

-- Whether whoever ended the session asked its device to erase.
ALTER TABLE sessions ADD COLUMN revoke_erase INTEGER NOT NULL DEFAULT 0;
-- NULL until the device's receipt arrives (or, for a session that logged
-- itself out, the revocation's time: that call was its receipt).
ALTER TABLE sessions ADD COLUMN closure_confirmed_at INTEGER;
ALTER TABLE sessions ADD COLUMN closure_erased INTEGER NOT NULL DEFAULT 0;

-- A revoked session's closure tokens, while its closure waits for a
-- receipt: the one its session.revoked event carried, and one per 401
-- session_revoked answered to its own token (at most 8, the newest; seq
-- orders them). A receipt deletes them all; they go with the session.
CREATE TABLE closure_tokens (
	seq        INTEGER PRIMARY KEY,
	hash       BLOB    NOT NULL UNIQUE,
	session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	issued_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX closure_tokens_session ON closure_tokens (session_id, seq);

-- GET /v1/sessions?state=ended: an account's revoked sessions, the most
-- recently ended first.
CREATE INDEX sessions_ended_by_account
	ON sessions (account_id, revoked_at DESC, id DESC)
	WHERE revoked_at IS NOT NULL;
