package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
)

// outboxLockKey is the transaction-level advisory lock AppendOutbox holds
// from before it draws a seq until it commits ("sgoutbox" in ASCII), so
// entries commit in seq order across replicas: a reader that has read up
// to seq n never misses an entry below n committed later. OutboxHead takes
// it shared, so that it never reports a seq still on its way to a commit.
const outboxLockKey int64 = 0x73676f7574626f78

// AppendOutbox adds an entry for the servers' event streams and returns its
// Seq, under outboxLockKey.
func (s *Store) AppendOutbox(ctx context.Context, at time.Time, data []byte) (int64, error) {
	var seq int64
	err := s.tx(ctx, "append outbox", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, outboxLockKey); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO outbox (at, data) VALUES ($1, $2) RETURNING seq`, at, nonNil(data)).Scan(&seq)
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// ReadOutbox returns up to limit entries with Seq above after, in Seq
// order. A limit of 0 or less returns nothing.
func (s *Store) ReadOutbox(ctx context.Context, after int64, limit int) ([]store.OutboxEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.OutboxEntry
	err := s.run(ctx, "read outbox", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, `SELECT `+columns.Outbox+` FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (e store.OutboxEntry, err error) {
			err = row.Scan(&e.Seq, &e.At, &e.Data)
			return e, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OutboxHead returns the highest Seq handed out, 0 for none, purged
// entries included: the sequence's last value, read while no append holds
// outboxLockKey.
func (s *Store) OutboxHead(ctx context.Context) (int64, error) {
	var seq int64
	err := s.tx(ctx, "outbox head", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, outboxLockKey); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM outbox_seq`).Scan(&seq)
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}
