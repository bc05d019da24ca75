package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"sessionguard/api"
)

// MarkDPoPRefused notes that the bound session id was used without its key
// (issue 21) and appends audit to its account's log, the first time only,
// in one IMMEDIATE transaction: one conditional UPDATE sets
// dpop_refused_at (audit.At, or now when that is zero) where it is still
// NULL, and the event is chained after it. With one writer at a time, of
// concurrent calls for one session exactly one finds it NULL and reports
// first; the others (and every later call) write nothing and report false.
// store.ErrNotFound when there is no such session. A revoked session is
// marked like a live one: the mark says only that its token was tried
// without the key.
func (s *Store) MarkDPoPRefused(ctx context.Context, id string, audit api.AuditEvent) (first bool, err error) {
	const op = "mark dpop refused"
	at := audit.At
	if at.IsZero() {
		at = time.Now()
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, s.wrap(op, err)
	}
	defer tx.Rollback()
	var accountID string
	err = tx.StmtContext(ctx, s.st.markDPoPRefused).QueryRowContext(ctx, micros(at), id).Scan(&accountID)
	if errors.Is(err, sql.ErrNoRows) {
		// Unknown, or marked before: read in this transaction, so no
		// other write comes between.
		var revoked bool
		if err := tx.StmtContext(ctx, s.st.txSessionRevoked).QueryRowContext(ctx, id).Scan(&revoked); err != nil {
			return false, s.notFound(op, err)
		}
		return false, nil
	}
	if err != nil {
		return false, s.wrap(op, err)
	}
	if err := s.appendAuditTx(ctx, tx, op, accountID, audit); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, s.wrap(op, err)
	}
	return true, nil
}
