// Package pgbus carries sessiond's live events between replicas through
// PostgreSQL LISTEN/NOTIFY, so a revoke handled by one replica closes the
// device's stream wherever it is connected. No broker beyond the database.
package pgbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"sessionguard/api"
	"sessionguard/server"
)

// Channel is the NOTIFY channel every replica listens on.
const Channel = "sessiond_events"

// maxPayload is PostgreSQL's NOTIFY payload limit (8000 bytes) less a margin.
const maxPayload = 7900

// Receiver is what the bus hands events to: a sessiond replica.
type Receiver interface {
	// Deliver hands an event to this replica's streams.
	Deliver(e server.Event)
	// CloseStreams ends this replica's streams after the bus may have
	// missed events, so their clients reconnect.
	CloseStreams()
}

// ErrNotListening is Ready's answer while the bus has no LISTEN connection.
var ErrNotListening = errors.New("pgbus: not listening for other replicas' events")

// Config tunes a Bus; the zero value of each field picks a default.
type Config struct {
	// Logger gets connection losses and recoveries (never payloads).
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between reconnects.
	MinBackoff, MaxBackoff time.Duration
	// PublishTimeout bounds one NOTIFY.
	PublishTimeout time.Duration
}

// Bus is a server.ReadyBus over PostgreSQL. Publish sends NOTIFY through a
// small pool; one dedicated connection LISTENs and delivers every event
// (this replica's own included, so all replicas see one order) to the
// Receiver.
type Bus struct {
	url  string
	cfg  Config
	pool *pgxpool.Pool
	recv Receiver

	mu        sync.Mutex
	listening bool
	lastErr   error
	readyCh   chan struct{} // closed and replaced each time listening starts

	cancel context.CancelFunc
	done   chan struct{}
}

// New starts a bus on the database at url delivering to recv. It returns at
// once; Ready reports when the LISTEN connection is up (WaitReady waits for
// it). Close stops it.
func New(url string, recv Receiver, cfg Config) (*Bus, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 2 * time.Second
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = 5 * time.Second
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgbus: %w", err)
	}
	pc.MaxConns = 4
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("pgbus: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bus{url: url, cfg: cfg, pool: pool, recv: recv, cancel: cancel,
		done: make(chan struct{}), readyCh: make(chan struct{}), lastErr: ErrNotListening}
	go b.listen(ctx)
	return b, nil
}

// Publish sends e to every replica (this one included). A failure is
// logged: the write the event reports went to the same database, so it has
// most likely failed too, and clients re-read state when they reconnect.
func (b *Bus) Publish(e server.Event) {
	payload, err := json.Marshal(e)
	if err != nil {
		b.cfg.Logger.Error("pgbus: encode event", "event", e.Name, "err", err)
		return
	}
	if len(payload) > maxPayload {
		// Too big for NOTIFY: tell the streams to re-read instead.
		b.cfg.Logger.Warn("pgbus: event too large for NOTIFY, sending sessions.changed", "event", e.Name, "bytes", len(payload))
		payload, _ = json.Marshal(server.Event{AccountID: e.AccountID, Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.PublishTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		_, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, string(payload))
		if err == nil {
			return
		}
		// A pooled connection PostgreSQL dropped (a restart, say) fails
		// without running the statement: try another one.
		if attempt < 3 && notRun(err) && ctx.Err() == nil {
			continue
		}
		b.cfg.Logger.Warn("pgbus: publish failed", "event", e.Name, "err", err)
		return
	}
}

// Ready returns nil while the bus is listening, ErrNotListening (wrapping
// the last connection error) otherwise.
func (b *Bus) Ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.listening {
		return nil
	}
	if b.lastErr != nil && !errors.Is(b.lastErr, ErrNotListening) {
		return fmt.Errorf("%w: %v", ErrNotListening, b.lastErr)
	}
	return ErrNotListening
}

// WaitReady waits until the bus is listening or ctx ends.
func (b *Bus) WaitReady(ctx context.Context) error {
	for {
		b.mu.Lock()
		ok, ch := b.listening, b.readyCh
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", b.Ready(), ctx.Err())
		}
	}
}

// Close stops listening and publishing.
func (b *Bus) Close() error {
	b.cancel()
	<-b.done
	b.pool.Close()
	return nil
}

func (b *Bus) setListening(ok bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.listening, b.lastErr = ok, err
	if ok {
		close(b.readyCh)
		b.readyCh = make(chan struct{})
	}
}

// listen keeps one LISTEN connection up, reconnecting with backoff, and
// delivers what arrives.
func (b *Bus) listen(ctx context.Context) {
	defer close(b.done)
	backoff := b.cfg.MinBackoff
	for ctx.Err() == nil {
		err := b.listenOnce(ctx, func() { backoff = b.cfg.MinBackoff })
		if ctx.Err() != nil {
			break
		}
		b.setListening(false, err)
		// The publishing connections were most likely cut too.
		b.pool.Reset()
		// Events may have been missed: make the streams reconnect, and
		// refuse new ones until LISTEN is back (Ready).
		b.recv.CloseStreams()
		b.cfg.Logger.Warn("pgbus: listener lost, reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, b.cfg.MaxBackoff)
	}
	b.setListening(false, ErrNotListening)
}

func (b *Bus) listenOnce(ctx context.Context, connected func()) error {
	cfg, err := pgx.ParseConfig(b.url)
	if err != nil {
		return err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		return err
	}
	connected()
	b.setListening(true, nil)
	b.cfg.Logger.Info("pgbus: listening", "channel", Channel)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var e server.Event
		var raw struct {
			server.Event
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(n.Payload), &raw); err != nil || raw.AccountID == "" || raw.Name == "" {
			b.cfg.Logger.Warn("pgbus: ignoring a malformed notification", "bytes", len(n.Payload))
			continue
		}
		e = raw.Event
		e.Data = raw.Data
		b.recv.Deliver(e)
	}
}

// notRun reports whether err says the statement never ran: it was not sent,
// or the server had ended the session (shut down, crashed, starting up).
func notRun(err error) bool {
	if pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
	}
	return false
}
