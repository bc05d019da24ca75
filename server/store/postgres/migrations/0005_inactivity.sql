-- 0005: server/store/sqlite's migration 0006 in PostgreSQL types: device
-- rules. A session ends when unused longer than its own rule
-- (idle_timeout_s) or its account's (auto_logout_inactive_after_s), the
-- stricter of the two; the sweeper (EndIdleSessions) finds the sessions due
-- through an index on their idle deadline.

-- The account's settings: its inactivity rule in seconds (0: never), and
-- approval of new devices (stored; nothing acts on it yet).
ALTER TABLE accounts ADD COLUMN auto_logout_inactive_after_s integer NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN approve_new_devices boolean NOT NULL DEFAULT false;

-- The session's own rule in seconds (0: none), and its account's rule as
-- copied into the session when it was created and whenever the account's
-- settings change: so the deadline below reads this row alone.
ALTER TABLE sessions ADD COLUMN idle_timeout_s integer NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN account_idle_timeout_s integer NOT NULL DEFAULT 0;

-- When a session ends for inactivity unless used again: its last use plus
-- the stricter rule (a zero rule does not count); NULL with no rule or when
-- the session expires first. store.Session.IdleDeadline is the same formula
-- in Go. IMMUTABLE holds although timestamptz + interval is only STABLE in
-- general: an interval of seconds alone does not depend on the time zone.
CREATE FUNCTION sessiond_idle_deadline(last_seen timestamptz, expires timestamptz, own integer, account integer)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE
		WHEN own > 0 AND (account <= 0 OR own <= account) THEN
			CASE WHEN last_seen + make_interval(secs => own) <= expires THEN last_seen + make_interval(secs => own) END
		WHEN account > 0 THEN
			CASE WHEN last_seen + make_interval(secs => account) <= expires THEN last_seen + make_interval(secs => account) END
	END
$$;

-- Computed by PostgreSQL from the row on every write, so no write can leave
-- it stale.
ALTER TABLE sessions ADD COLUMN idle_deadline timestamptz
	GENERATED ALWAYS AS (sessiond_idle_deadline(last_seen_at, expires_at, idle_timeout_s, account_idle_timeout_s)) STORED;

-- EndIdleSessions: the live sessions with a deadline, soonest first; a
-- sweep reads only those due.
CREATE INDEX sessions_idle_due ON sessions (idle_deadline)
	WHERE revoked_at IS NULL AND idle_deadline IS NOT NULL;
