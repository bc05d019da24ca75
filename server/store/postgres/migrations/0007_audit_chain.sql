-- 0007: server/store/sqlite's migration 0008 in PostgreSQL types: the
-- security log as a hash chain (issue 18). Every event gets its account's
-- sequence number (account_seq, from 1, no gaps), the hash of the event
-- before (prev_hash; 64 zeros for the first) and its own hash
-- (api/auditchain); audit_heads keeps each account's newest event, so an
-- event cut off the end is noticed too, and its row is the lock that
-- serializes an account's writers (see the package doc).
--
-- The columns are added nullable: existing events are chained by this
-- migration's Go step (chainExistingAudit), in the same transaction, which
-- then makes them NOT NULL and replaces the primary key (account_id, seq)
-- by (account_id, account_seq): the index ListAudit walks, and what makes a
-- second event with one sequence number (a fork) impossible. seq stays, the
-- store's own order of writing.
ALTER TABLE audit_events
	ADD COLUMN account_seq bigint,
	ADD COLUMN prev_hash   text,
	ADD COLUMN hash        text;

CREATE TABLE audit_heads (
	account_id text COLLATE "C" NOT NULL PRIMARY KEY,
	seq        bigint           NOT NULL,
	hash       text             NOT NULL,
	at         timestamptz      NOT NULL
);
