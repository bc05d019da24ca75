package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
)

const purgeApprovalsSQL = `DELETE FROM approvals WHERE id IN (
	SELECT id FROM approvals WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`

// Approvals is purge.Batches's Approvals.
func (b purgeBatches) Approvals(ctx context.Context, now time.Time, limit int) (int, error) {
	return b.s.affected(ctx, "purge approvals", purgeApprovalsSQL, now, limit)
}

// CreateApproval inserts a and appends the audit events under its
// account, in one transaction.
func (s *Store) CreateApproval(ctx context.Context, a store.Approval, audit ...api.AuditEvent) error {
	d, l := a.Device, a.Location
	return s.tx(ctx, "create approval", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO approvals (`+columns.Approval+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, NULL, '', '')`,
			a.ID, a.Kind, nonNil(a.TokenHash), nullBytes(a.CodeHash), a.AccountID, a.Number,
			d.ID, d.Name, d.Platform, d.OS, d.Model, d.AppVersion,
			a.Remember, nullBytes(a.InstallHash), a.IP, l.City, l.Region, l.Country, l.CountryCode,
			a.CreatedAt, a.ExpiresAt, store.ApprovalPending); err != nil {
			return err
		}
		if a.AccountID == "" {
			return nil
		}
		return appendAuditTx(ctx, tx, a.AccountID, audit...)
	})
}

// ApprovalByToken finds the approval whose token hashes to h.
func (s *Store) ApprovalByToken(ctx context.Context, h []byte) (store.Approval, error) {
	return s.oneApproval(ctx, "approval by token", `SELECT `+columns.Approval+` FROM approvals WHERE token_hash = $1`, nonNil(h))
}

// ApprovalByCode finds the link whose user code hashes to h.
func (s *Store) ApprovalByCode(ctx context.Context, h []byte) (store.Approval, error) {
	return s.oneApproval(ctx, "approval by code", `SELECT `+columns.Approval+` FROM approvals WHERE code_hash = $1 AND kind = $2`,
		nonNil(h), store.ApprovalLink)
}

func (s *Store) oneApproval(ctx context.Context, op, query string, args ...any) (store.Approval, error) {
	var a store.Approval
	err := s.run(ctx, op, func(ctx context.Context) error {
		var err error
		a, err = scanApproval(s.pool.QueryRow(ctx, query, args...))
		return notFound(err)
	})
	if err != nil {
		return store.Approval{}, err
	}
	return a, nil
}

// DecideApproval answers a pending approval (see store.Store). The row is
// read FOR UPDATE, so concurrent answers run one after another and only
// the first finds it pending.
func (s *Store) DecideApproval(ctx context.Context, ans store.ApprovalAnswer) (store.Approval, error) {
	var out store.Approval
	err := s.tx(ctx, "decide approval", func(ctx context.Context, tx pgx.Tx) error {
		var row pgx.Row
		if ans.CodeHash != nil {
			row = tx.QueryRow(ctx, `SELECT `+columns.Approval+` FROM approvals WHERE code_hash = $1 AND kind = $2 FOR UPDATE`,
				ans.CodeHash, store.ApprovalLink)
		} else {
			row = tx.QueryRow(ctx, `SELECT `+columns.Approval+` FROM approvals WHERE id = $1 AND kind = $2 AND account_id = $3 FOR UPDATE`,
				ans.ID, store.ApprovalLogin, ans.AccountID)
		}
		a, err := scanApproval(row)
		if err != nil {
			return notFound(err)
		}
		if a.State != store.ApprovalPending || !a.ExpiresAt.After(ans.At) {
			out = a
			return store.ErrConflict
		}
		a.State = store.ApprovalDenied
		if ans.Approve != nil && ans.Approve(a) {
			a.State = store.ApprovalApproved
		}
		a.AccountID, a.DecidedAt, a.DecidedBySessionID, a.DecidedByDevice = ans.AccountID, ans.At.UTC().Truncate(time.Microsecond), ans.BySessionID, ans.ByDevice
		if _, err := tx.Exec(ctx, `UPDATE approvals SET state = $2, account_id = $3, decided_at = $4, decided_by_session = $5, decided_by_device = $6
			WHERE id = $1`, a.ID, a.State, a.AccountID, a.DecidedAt, a.DecidedBySessionID, a.DecidedByDevice); err != nil {
			return err
		}
		if ans.Audit != nil {
			if err := appendAuditTx(ctx, tx, a.AccountID, ans.Audit(a)...); err != nil {
				return err
			}
		}
		out = a
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return out, store.ErrConflict
	}
	if err != nil {
		return store.Approval{}, err
	}
	return out, nil
}

// ConsumeApproval marks the approved approval whose token hashes to h used
// (one UPDATE … RETURNING: of concurrent callers exactly one gets it).
func (s *Store) ConsumeApproval(ctx context.Context, h []byte) (store.Approval, error) {
	var a store.Approval
	err := s.run(ctx, "consume approval", func(ctx context.Context) error {
		var err error
		a, err = scanApproval(s.pool.QueryRow(ctx, `UPDATE approvals SET state = $1 WHERE token_hash = $2 AND state = $3
			RETURNING `+columns.Approval, store.ApprovalUsed, nonNil(h), store.ApprovalApproved))
		return notFound(err)
	})
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Approval{}, err
	}
	a, err = s.ApprovalByToken(ctx, h)
	if err != nil {
		return store.Approval{}, err
	}
	return a, store.ErrConflict
}

func scanApproval(row pgx.Row) (store.Approval, error) {
	var (
		a       store.Approval
		decided *time.Time
		d, l    = &a.Device, &a.Location
	)
	if err := row.Scan(&a.ID, &a.Kind, &a.TokenHash, &a.CodeHash, &a.AccountID, &a.Number,
		&d.ID, &d.Name, &d.Platform, &d.OS, &d.Model, &d.AppVersion,
		&a.Remember, &a.InstallHash, &a.IP, &l.City, &l.Region, &l.Country, &l.CountryCode,
		&a.CreatedAt, &a.ExpiresAt, &a.State, &decided, &a.DecidedBySessionID, &a.DecidedByDevice); err != nil {
		return store.Approval{}, err
	}
	a.CreatedAt, a.ExpiresAt = a.CreatedAt.UTC(), a.ExpiresAt.UTC()
	if decided != nil {
		a.DecidedAt = decided.UTC()
	}
	return a, nil
}
