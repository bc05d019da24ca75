package server

import (
	"context"
	"sync"
	"time"

	"sessionguard/server/store"
)

// StartBackground starts what a serving sessiond does besides answering
// requests, until stop is called (stop waits for both to end):
//
//   - the retention sweeper: at once and then every SweepEvery, it deletes
//     sessions that ended, and tokens spent, more than Retention ago
//     (store.Purge), counted in sessiond_retention_deleted_total;
//   - the outbox watcher: every OutboxPoll it delivers to this server's
//     streams the events operator commands wrote to the database. Every
//     entry written after StartBackground returns is delivered (the
//     outbox head is read before it returns, when the database answers);
//   - the inactivity sweeper: at once and then every IdleSweepEvery it
//     ends the sessions unused past their rule (SweepInactive), and every
//     TouchInterval, and when stopped, it writes the uses of sessions
//     this replica noted without writing them (rules.go).
//
// All are safe with several replicas on one database.
func (s *Server) StartBackground() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	last := int64(-1)
	if head, err := s.store.OutboxHead(ctx); err == nil {
		last = head
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		s.sweepLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		s.watchOutbox(ctx, last)
	}()
	go func() {
		defer wg.Done()
		s.idleLoop(ctx)
	}()
	return func() {
		cancel()
		wg.Wait()
		// The uses noted since the last write, so that a restart loses
		// none of them.
		fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.flushUse(fctx); err != nil {
			s.log.Warn("could not write the last uses of sessions", "err", err)
		}
	}
}

// idleLoop runs the inactivity sweeper until ctx ends: a sweep at once and
// every IdleSweepEvery, and every TouchInterval a write of the uses noted
// meanwhile (flushUse), so that none waits longer than that.
func (s *Server) idleLoop(ctx context.Context) {
	sweep := time.NewTicker(s.cfg.IdleSweepEvery)
	defer sweep.Stop()
	flush := time.NewTicker(s.cfg.TouchInterval)
	defer flush.Stop()
	for due := true; ; {
		if due {
			if _, err := s.sweepIdle(ctx, ""); err != nil && ctx.Err() == nil {
				s.log.Warn("inactivity sweep failed; will try again", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			due = true
		case <-flush.C:
			due = false
			if err := s.flushUse(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("writing the uses of sessions failed; will try again", "err", err)
			}
		}
	}
}

func (s *Server) sweepLoop(ctx context.Context) {
	if s.cfg.Retention < 0 {
		return
	}
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("retention sweep failed; will try again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep deletes what the retention period no longer keeps (see
// StartBackground) and returns the counts. With a negative Retention it
// deletes only expired saved logins and half-done sign-ins.
func (s *Server) Sweep(ctx context.Context) (store.PurgeCounts, error) {
	now := s.now()
	before := time.Time{} // keep everything that ended
	if s.cfg.Retention > 0 {
		before = now.Add(-s.cfg.Retention)
	}
	n, err := s.store.Purge(ctx, now, before)
	for kind, c := range map[string]int{"sessions": n.Sessions, "refresh_tokens": n.RefreshTokens,
		"remembered_logins": n.Remembered, "mfa_tokens": n.MFATokens, "approvals": n.Approvals, "installs": n.Installs, "outbox": n.Outbox} {
		if c > 0 {
			s.metrics.purged.WithLabelValues(kind).Add(float64(c))
		}
	}
	if err != nil {
		return n, err
	}
	if n != (store.PurgeCounts{}) {
		s.log.Info("retention sweep", "sessions", n.Sessions, "refresh_tokens", n.RefreshTokens,
			"remembered_logins", n.Remembered, "mfa_tokens", n.MFATokens, "approvals", n.Approvals, "installs", n.Installs, "outbox", n.Outbox)
	}
	return n, nil
}

// outboxBatch is how many outbox entries one poll delivers at most.
const outboxBatch = 256

// watchOutbox delivers the outbox entries after last; with last < 0 (the
// head was unknown) it first reads the head and delivers nothing older.
func (s *Server) watchOutbox(ctx context.Context, last int64) {
	t := time.NewTicker(s.cfg.OutboxPoll)
	defer t.Stop()
	for {
		if last < 0 {
			if head, err := s.store.OutboxHead(ctx); err == nil {
				last = head
			}
		} else {
			last = s.deliverOutbox(ctx, last)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliverOutbox delivers the entries after last to this server's streams
// and returns the last one delivered.
func (s *Server) deliverOutbox(ctx context.Context, last int64) int64 {
	for {
		entries, err := s.store.ReadOutbox(ctx, last, outboxBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("reading the outbox failed; will try again", "err", err)
			}
			return last
		}
		for _, en := range entries {
			if e, ok := decodeOutbox(en.Data); ok {
				s.hub.deliver(s.withOutboxClosure(ctx, e))
			} else {
				s.log.Warn("ignoring a malformed outbox entry", "seq", en.Seq)
			}
			last = en.Seq
		}
		if len(entries) < outboxBatch {
			return last
		}
	}
}
