package sqlite

import (
	"context"
	"database/sql"
	"time"

	"sessionguard/server/store"
	"sessionguard/server/store/internal/purge"
)

// purgeBatch is how many rows one Purge transaction deletes at most (a
// variable so that tests can make batches small).
var purgeBatch = purge.Batch

// endedAt is when a session ended: when it was revoked or when it expired,
// whichever came first. The index sessions_ended is on exactly this
// expression, so the purge statements spell it the same way.
const endedAt = `min(coalesce(revoked_at, expires_at), expires_at)`

// The purge statements: ?1 is the cutoff, ?2 the batch size.
//
// Ended sessions go in two statements of one transaction: a batch of the
// refresh tokens of the first ?2 ended sessions, then those of these
// sessions with no refresh token left, so that neither deletes more than
// a batch (a session may have thousands).
const (
	endedBatch          = `SELECT id FROM sessions WHERE ` + endedAt + ` < ?1 ORDER BY ` + endedAt + ` LIMIT ?2`
	purgeEndedTokensSQL = `DELETE FROM refresh_tokens WHERE hash IN (
		SELECT rt.hash FROM (` + endedBatch + `) AS s
		JOIN refresh_tokens AS rt ON rt.session_id = s.id
		LIMIT ?2)`
	purgeEndedSessionsSQL = `DELETE FROM sessions WHERE id IN (` + endedBatch + `)
		AND NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE session_id = sessions.id)`
	purgeRotatedSQL = `DELETE FROM refresh_tokens WHERE hash IN (
		SELECT hash FROM refresh_tokens WHERE rotated_at < ?1 LIMIT ?2)`
	purgeRememberedSQL = `DELETE FROM remembered_logins WHERE hash IN (
		SELECT hash FROM remembered_logins WHERE expires_at <= ?1 LIMIT ?2)`
	purgeMFATokensSQL = `DELETE FROM mfa_tokens WHERE hash IN (
		SELECT hash FROM mfa_tokens WHERE expires_at <= ?1 LIMIT ?2)`
	purgeInstallsSQL = `DELETE FROM known_installs WHERE (account_id, install_hash) IN (
		SELECT account_id, install_hash FROM known_installs WHERE last_used < ?1 LIMIT ?2)`
	purgeOutboxSQL = `DELETE FROM outbox WHERE seq IN (
		SELECT seq FROM outbox WHERE at < ?1 LIMIT ?2)`
)

// Purge deletes ended sessions with their refresh tokens, rotated refresh
// tokens, expired remembered logins and MFA tokens, unused known installs
// and old outbox entries (see store.Store), in transactions of at most a
// batch of rows each: between two of them other writers get the only
// write connection, so a large purge delays them by one batch at most.
// Every deletion finds its rows through an index on the time it compares
// (TestQueryPlans).
func (s *Store) Purge(ctx context.Context, now, before time.Time) (store.PurgeCounts, error) {
	return purge.Run(ctx, purgeBatches{s}, now, before, purgeBatch)
}

// purgeBatches is the Store as purge.Run uses it.
type purgeBatches struct{ s *Store }

// EndedSessions is purge.Batches's EndedSessions.
func (b purgeBatches) EndedSessions(ctx context.Context, before time.Time, limit int) (sessions, tokens int, err error) {
	const op = "purge ended sessions"
	s := b.s
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, s.wrap(op, err)
	}
	defer tx.Rollback()
	if tokens, err = s.affectedTx(ctx, tx, op, s.st.purgeEndedTokens, micros(before), limit); err != nil {
		return 0, 0, err
	}
	if sessions, err = s.affectedTx(ctx, tx, op, s.st.purgeEndedSessions, micros(before), limit); err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, s.wrap(op, err)
	}
	return sessions, tokens, nil
}

// RotatedTokens is purge.Batches's RotatedTokens.
func (b purgeBatches) RotatedTokens(ctx context.Context, before time.Time, limit int) (int, error) {
	return b.s.purgeBatch(ctx, "purge rotated refresh tokens", b.s.st.purgeRotated, before, limit)
}

// Remembered is purge.Batches's Remembered.
func (b purgeBatches) Remembered(ctx context.Context, now time.Time, limit int) (int, error) {
	return b.s.purgeBatch(ctx, "purge remembered logins", b.s.st.purgeRemembered, now, limit)
}

// MFATokens is purge.Batches's MFATokens.
func (b purgeBatches) MFATokens(ctx context.Context, now time.Time, limit int) (int, error) {
	return b.s.purgeBatch(ctx, "purge MFA tokens", b.s.st.purgeMFATokens, now, limit)
}

// Installs is purge.Batches's Installs.
func (b purgeBatches) Installs(ctx context.Context, before time.Time, limit int) (int, error) {
	return b.s.purgeBatch(ctx, "purge known installs", b.s.st.purgeInstalls, before, limit)
}

// Outbox is purge.Batches's Outbox.
func (b purgeBatches) Outbox(ctx context.Context, before time.Time, limit int) (int, error) {
	return b.s.purgeBatch(ctx, "purge outbox", b.s.st.purgeOutbox, before, limit)
}

// purgeBatch runs one purge statement (a DELETE of up to ?2 rows older
// than ?1), a transaction of its own.
func (s *Store) purgeBatch(ctx context.Context, op string, st *sql.Stmt, at time.Time, limit int) (int, error) {
	return s.affected(ctx, op, st, micros(at), limit)
}
