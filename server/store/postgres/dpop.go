package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/server/store"
)

const (
	// markDPoPRefusedSQL sets the session's ($1) dpop_refused_at to $2 if
	// it is still NULL and returns its account. A concurrent call for the
	// session waits for this one's row lock, then re-checks the WHERE
	// against the row this one left, and matches nothing.
	markDPoPRefusedSQL = `UPDATE sessions SET dpop_refused_at = $2
		WHERE id = $1 AND dpop_refused_at IS NULL RETURNING account_id`
	// sessionExistsSQL tells an unknown session from one marked before.
	sessionExistsSQL = `SELECT EXISTS (SELECT FROM sessions WHERE id = $1)`
)

// MarkDPoPRefused notes that the bound session id was used without its key
// (issue 21) and appends audit to its account's log, the first time only,
// in one transaction: its conditional UPDATE (markDPoPRefusedSQL) sets
// dpop_refused_at to audit.At (now when that is zero) where it is still
// NULL, holding the session's row lock, and the event is appended last,
// after it (see the package doc on lock order). Of concurrent calls for
// one session, on any replica, exactly one updates the row and reports
// first; the others (and every later call) write nothing and report false.
// store.ErrNotFound when there is no such session. A revoked session is
// marked like a live one: the mark says only that its token was tried
// without the key.
func (s *Store) MarkDPoPRefused(ctx context.Context, id string, audit api.AuditEvent) (first bool, err error) {
	at := audit.At
	if at.IsZero() {
		at = time.Now()
	}
	err = s.tx(ctx, "mark dpop refused", func(ctx context.Context, tx pgx.Tx) error {
		first = false
		var accountID string
		err := tx.QueryRow(ctx, markDPoPRefusedSQL, id, at).Scan(&accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, sessionExistsSQL, id).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return store.ErrNotFound
			}
			return nil
		}
		if err != nil {
			return err
		}
		if err := appendAuditTx(ctx, tx, accountID, audit); err != nil {
			return err
		}
		first = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return first, nil
}
