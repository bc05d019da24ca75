package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/server/store"
	"sessionguard/server/store/internal/purge"
)

// purgeBatch is how many rows one Purge transaction deletes at most (a
// variable so that tests can make batches small).
var purgeBatch = purge.Batch

// endedAt is when a session ended: when it was revoked or when it expired,
// whichever came first (LEAST skips a NULL). The index sessions_ended is on
// exactly this expression, so the purge statements spell it the same way.
const endedAt = `LEAST(revoked_at, expires_at)`

// The purge statements: $1 is the cutoff, $2 the batch size. Each selects
// its batch FOR UPDATE SKIP LOCKED: it never waits for a row another
// transaction holds (a request, or a replica purging at the same time),
// it leaves that row to a later run. So Purge never takes part in a lock
// cycle, and replicas purging at once share the work instead of queueing.
//
// Ended sessions go in two statements of one transaction: a batch of the
// refresh tokens of the first $2 ended sessions, then those of these
// sessions with no refresh token left, so that neither deletes more than
// a batch (a session may have thousands). Locking a session FOR UPDATE
// keeps a new refresh token of it (whose foreign key check takes a key
// share lock on the session) from slipping in between.
const (
	endedBatch = `SELECT id FROM sessions WHERE ` + endedAt + ` < $1
		ORDER BY ` + endedAt + ` LIMIT $2 FOR UPDATE SKIP LOCKED`
	purgeEndedTokensSQL = `WITH s AS (` + endedBatch + `),
		t AS (SELECT rt.hash FROM refresh_tokens AS rt JOIN s ON rt.session_id = s.id
			LIMIT $2 FOR UPDATE OF rt SKIP LOCKED)
		DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM t)`
	purgeEndedSessionsSQL = `DELETE FROM sessions WHERE id IN (` + endedBatch + `)
		AND NOT EXISTS (SELECT FROM refresh_tokens WHERE session_id = sessions.id)`
	purgeRotatedSQL = `DELETE FROM refresh_tokens WHERE hash IN (
		SELECT hash FROM refresh_tokens WHERE rotated_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`
	purgeRememberedSQL = `DELETE FROM remembered_logins WHERE hash IN (
		SELECT hash FROM remembered_logins WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`
	purgeMFATokensSQL = `DELETE FROM mfa_tokens WHERE hash IN (
		SELECT hash FROM mfa_tokens WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`
	purgeInstallsSQL = `DELETE FROM known_installs WHERE (account_id, install_hash) IN (
		SELECT account_id, install_hash FROM known_installs WHERE last_used < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`
	purgeOutboxSQL = `DELETE FROM outbox WHERE seq IN (
		SELECT seq FROM outbox WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`
)

// Purge deletes ended sessions with their refresh tokens, rotated refresh
// tokens, expired remembered logins and MFA tokens, unused known installs
// and old outbox entries (see store.Store), in transactions of at most a
// batch of rows each. Replicas may run it at the same time: each skips the
// rows another holds (see the statements). Every deletion finds its rows
// through an index on the time it compares (TestQueryPlans).
func (s *Store) Purge(ctx context.Context, now, before time.Time) (store.PurgeCounts, error) {
	return purge.Run(ctx, purgeBatches{s}, now, before, purgeBatch)
}

// purgeBatches is the Store as purge.Run uses it.
type purgeBatches struct{ s *Store }

// EndedSessions is purge.Batches's EndedSessions.
func (b purgeBatches) EndedSessions(ctx context.Context, before time.Time, limit int) (sessions, tokens int, err error) {
	err = b.s.tx(ctx, "purge ended sessions", func(ctx context.Context, tx pgx.Tx) (err error) {
		sessions = 0
		if tokens, err = countTx(ctx, tx, purgeEndedTokensSQL, before, limit); err != nil {
			return err
		}
		sessions, err = countTx(ctx, tx, purgeEndedSessionsSQL, before, limit)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return sessions, tokens, nil
}

// RotatedTokens is purge.Batches's RotatedTokens.
func (b purgeBatches) RotatedTokens(ctx context.Context, before time.Time, limit int) (int, error) {
	return b.s.affected(ctx, "purge rotated refresh tokens", purgeRotatedSQL, before, limit)
}

// Remembered is purge.Batches's Remembered.
func (b purgeBatches) Remembered(ctx context.Context, now time.Time, limit int) (int, error) {
	return b.s.affected(ctx, "purge remembered logins", purgeRememberedSQL, now, limit)
}

// MFATokens is purge.Batches's MFATokens.
func (b purgeBatches) MFATokens(ctx context.Context, now time.Time, limit int) (int, error) {
	return b.s.affected(ctx, "purge MFA tokens", purgeMFATokensSQL, now, limit)
}

// Installs is purge.Batches's Installs.
func (b purgeBatches) Installs(ctx context.Context, before time.Time, limit int) (int, error) {
	return b.s.affected(ctx, "purge known installs", purgeInstallsSQL, before, limit)
}

// Outbox is purge.Batches's Outbox.
func (b purgeBatches) Outbox(ctx context.Context, before time.Time, limit int) (int, error) {
	return b.s.affected(ctx, "purge outbox", purgeOutboxSQL, before, limit)
}
