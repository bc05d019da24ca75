-- 0004: server/store/sqlite's migration 0005 in PostgreSQL types: closures
-- you can verify. A revocation may ask the device to erase the account's
-- data from the install (revoke_erase); the device confirms with a
-- single-use closure token that it wiped its tokens, and whether it erased
-- (closure_confirmed_at, closure_erased). Closure tokens are kept only as
-- SHA-256 digests, like every token.

-- Whether whoever ended the session asked its device to erase.
ALTER TABLE sessions ADD COLUMN revoke_erase boolean NOT NULL DEFAULT false;
-- NULL until the device's receipt arrives (or, for a session that logged
-- itself out, the revocation's time: that call was its receipt).
ALTER TABLE sessions ADD COLUMN closure_confirmed_at timestamptz;
ALTER TABLE sessions ADD COLUMN closure_erased boolean NOT NULL DEFAULT false;

-- A revoked session's closure tokens, while its closure waits for a
-- receipt: the one its session.revoked event carried, and one per 401
-- session_revoked answered to its own token (at most 8, the newest; seq
-- orders them). A receipt deletes them all; they go with the session
-- (the cascade walks closure_tokens_session).
CREATE TABLE closure_tokens (
	hash       bytea            NOT NULL PRIMARY KEY,
	seq        bigint GENERATED ALWAYS AS IDENTITY,
	session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	issued_at  timestamptz      NOT NULL
);

CREATE INDEX closure_tokens_session ON closure_tokens (session_id, seq);

-- GET /v1/sessions?state=ended: an account's revoked sessions, the most
-- recently ended first.
CREATE INDEX sessions_ended_by_account
	ON sessions (account_id, revoked_at DESC, id DESC)
	WHERE revoked_at IS NOT NULL;
