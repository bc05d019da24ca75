package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
)

const purgeApprovalsSQL = `DELETE FROM approvals WHERE id IN (
	SELECT id FROM approvals WHERE expires_at <= ?1 LIMIT ?2)`

// Approvals is purge.Batches's Approvals.
func (b purgeBatches) Approvals(ctx context.Context, now time.Time, limit int) (int, error) {
	const op = "purge approvals"
	res, err := b.s.write.ExecContext(ctx, purgeApprovalsSQL, micros(now), limit)
	return b.s.rowsAffected(op, res, err)
}

// CreateApproval inserts a and appends the audit events under its
// account, in one transaction.
func (s *Store) CreateApproval(ctx context.Context, a store.Approval, audit ...api.AuditEvent) error {
	const op = "create approval"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	defer tx.Rollback()
	d, l := a.Device, a.Location
	if _, err := tx.ExecContext(ctx, `INSERT INTO approvals (`+columns.Approval+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Kind, nonNil(a.TokenHash), nullBytes(a.CodeHash), a.AccountID, a.Number,
		d.ID, d.Name, d.Platform, d.OS, d.Model, d.AppVersion,
		boolInt(a.Remember), nullBytes(a.InstallHash), a.IP, l.City, l.Region, l.Country, l.CountryCode,
		micros(a.CreatedAt), micros(a.ExpiresAt), store.ApprovalPending, 0, "", ""); err != nil {
		return s.wrap(op, err)
	}
	if a.AccountID != "" {
		if err := s.appendAuditTx(ctx, tx, op, a.AccountID, audit...); err != nil {
			return err
		}
	}
	return s.wrap(op, tx.Commit())
}

// ApprovalByToken finds the approval whose token hashes to h.
func (s *Store) ApprovalByToken(ctx context.Context, h []byte) (store.Approval, error) {
	a, err := scanApproval(s.read.QueryRowContext(ctx, `SELECT `+columns.Approval+` FROM approvals WHERE token_hash = ?`, nonNil(h)))
	if err != nil {
		return store.Approval{}, s.notFound("approval by token", err)
	}
	return a, nil
}

// ApprovalByCode finds the link whose user code hashes to h.
func (s *Store) ApprovalByCode(ctx context.Context, h []byte) (store.Approval, error) {
	a, err := scanApproval(s.read.QueryRowContext(ctx, `SELECT `+columns.Approval+` FROM approvals WHERE code_hash = ? AND kind = ?`,
		nonNil(h), store.ApprovalLink))
	if err != nil {
		return store.Approval{}, s.notFound("approval by code", err)
	}
	return a, nil
}

// DecideApproval answers a pending approval (see store.Store), in one
// IMMEDIATE transaction: answers run one after another.
func (s *Store) DecideApproval(ctx context.Context, ans store.ApprovalAnswer) (store.Approval, error) {
	const op = "decide approval"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return store.Approval{}, s.wrap(op, err)
	}
	defer tx.Rollback()
	var row *sql.Row
	if ans.CodeHash != nil {
		row = tx.QueryRowContext(ctx, `SELECT `+columns.Approval+` FROM approvals WHERE code_hash = ? AND kind = ?`, ans.CodeHash, store.ApprovalLink)
	} else {
		row = tx.QueryRowContext(ctx, `SELECT `+columns.Approval+` FROM approvals WHERE id = ? AND kind = ? AND account_id = ?`,
			ans.ID, store.ApprovalLogin, ans.AccountID)
	}
	a, err := scanApproval(row)
	if err != nil {
		return store.Approval{}, s.notFound(op, err)
	}
	if a.State != store.ApprovalPending || !a.ExpiresAt.After(ans.At) {
		return a, store.ErrConflict
	}
	a.State = store.ApprovalDenied
	if ans.Approve != nil && ans.Approve(a) {
		a.State = store.ApprovalApproved
	}
	a.AccountID, a.DecidedAt, a.DecidedBySessionID, a.DecidedByDevice = ans.AccountID, fromMicros(micros(ans.At)), ans.BySessionID, ans.ByDevice
	if _, err := tx.ExecContext(ctx, `UPDATE approvals SET state = ?, account_id = ?, decided_at = ?, decided_by_session = ?, decided_by_device = ?
		WHERE id = ?`, a.State, a.AccountID, micros(ans.At), a.DecidedBySessionID, a.DecidedByDevice, a.ID); err != nil {
		return store.Approval{}, s.wrap(op, err)
	}
	if ans.Audit != nil {
		if err := s.appendAuditTx(ctx, tx, op, a.AccountID, ans.Audit(a)...); err != nil {
			return store.Approval{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Approval{}, s.wrap(op, err)
	}
	return a, nil
}

// ConsumeApproval marks the approved approval whose token hashes to h used.
func (s *Store) ConsumeApproval(ctx context.Context, h []byte) (store.Approval, error) {
	const op = "consume approval"
	a, err := scanApproval(s.write.QueryRowContext(ctx, `UPDATE approvals SET state = ? WHERE token_hash = ? AND state = ?
		RETURNING `+columns.Approval, store.ApprovalUsed, nonNil(h), store.ApprovalApproved))
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Approval{}, s.wrap(op, err)
	}
	a, err = s.ApprovalByToken(ctx, h)
	if err != nil {
		return store.Approval{}, err
	}
	return a, store.ErrConflict
}

func scanApproval(sc scanner) (store.Approval, error) {
	var (
		a                                  store.Approval
		remember, created, expire, decided int64
		d, l                               = &a.Device, &a.Location
	)
	if err := sc.Scan(&a.ID, &a.Kind, &a.TokenHash, &a.CodeHash, &a.AccountID, &a.Number,
		&d.ID, &d.Name, &d.Platform, &d.OS, &d.Model, &d.AppVersion,
		&remember, &a.InstallHash, &a.IP, &l.City, &l.Region, &l.Country, &l.CountryCode,
		&created, &expire, &a.State, &decided, &a.DecidedBySessionID, &a.DecidedByDevice); err != nil {
		return store.Approval{}, err
	}
	a.Remember = remember != 0
	a.CreatedAt, a.ExpiresAt = fromMicros(created), fromMicros(expire)
	if decided != 0 {
		a.DecidedAt = fromMicros(decided)
	}
	return a, nil
}
