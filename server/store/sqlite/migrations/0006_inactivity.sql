-- 0006: device rules. A session ends when unused longer than its own rule
-- (idle_timeout_s) or its account's (auto_logout_inactive_after_s), the
-- stricter of the two; the sweeper (EndIdleSessions) finds the sessions due
-- through an index on their idle deadline.

-- The account's settings: its inactivity rule in seconds (0: never), and
-- approval of new devices (stored; nothing acts on it yet).
ALTER TABLE accounts ADD COLUMN auto_logout_inactive_after_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN approve_new_devices INTEGER NOT NULL DEFAULT 0;

-- The session's own rule in seconds (0: none), and its account's rule as
-- copied into the session when it was created and whenever the account's
-- settings change: so the deadline below reads this row alone.
ALTER TABLE sessions ADD COLUMN idle_timeout_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN account_idle_timeout_s INTEGER NOT NULL DEFAULT 0;

-- When the session ends for inactivity unless used again: last_seen_at plus
-- the stricter rule (a zero rule does not count), NULL with no rule or when
-- the session expires first (store.Session.IdleDeadline is the same
-- formula in Go). Computed by SQLite from the row, so no write can leave it
-- stale.
ALTER TABLE sessions ADD COLUMN idle_deadline INTEGER GENERATED ALWAYS AS (
	CASE WHEN idle_timeout_s > 0 AND (account_idle_timeout_s <= 0 OR idle_timeout_s <= account_idle_timeout_s)
		THEN CASE WHEN last_seen_at + idle_timeout_s * 1000000 <= expires_at THEN last_seen_at + idle_timeout_s * 1000000 END
	WHEN account_idle_timeout_s > 0
		THEN CASE WHEN last_seen_at + account_idle_timeout_s * 1000000 <= expires_at THEN last_seen_at + account_idle_timeout_s * 1000000 END
	END) VIRTUAL;

-- EndIdleSessions: the live sessions with a deadline, soonest first; a
-- sweep reads only those due.
CREATE INDEX sessions_idle_due ON sessions (idle_deadline)
	WHERE revoked_at IS NULL AND idle_deadline IS NOT NULL;
