-- 0008: the security log as a hash chain (issue 18). Every event gets its
-- account's sequence number (from 1, no gaps), the hash of the event before
-- and its own hash (api/auditchain); audit_heads keeps each account's
-- newest event, so an event cut off the end is noticed too. Existing
-- events are chained by this migration, in Go (chainExistingAudit), in the
-- same transaction, after which the index makes a second event with one
-- sequence number impossible.
ALTER TABLE audit_events ADD COLUMN account_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';

CREATE TABLE audit_heads (
	account_id TEXT    NOT NULL PRIMARY KEY,
	seq        INTEGER NOT NULL,
	hash       TEXT    NOT NULL,
	at         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
