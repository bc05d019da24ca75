package client

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"time"

	"sessionguard/api"
)

// StreamState is the state of the live event stream reported by Events.
type StreamState int

// Stream states, in the order a connection goes through them.
const (
	// Connecting: a connection attempt is starting.
	Connecting StreamState = iota
	// Connected: the stream is open and events flow.
	Connected
	// Disconnected: the stream ended or could not be opened; the error
	// says why. Events reconnects after a delay unless it returns.
	Disconnected
)

// String returns "connecting", "connected" or "disconnected".
func (s StreamState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	}
	return "unknown"
}

// Events follows this session's live events (GET /v1/events) until ctx
// ends or the session is over, calling onEvent for each event and onState
// for each change of the connection (either may be nil). Both are called
// from Events' goroutine, one at a time; a slow onEvent holds up the
// stream.
//
// When the connection is lost or the server closes it, Events reconnects
// after a randomized delay that doubles per failed attempt, from 0.125–0.25 s
// up to 0.75–1.5 s (ReconnectMax), reporting Disconnected, Connecting and
// Connected: a stream comes back within 2 s of its server. A Retry-After
// the server sends (it is up, but busy) is honoured up to a minute.
// Reconnect skips the wait. A stream silent for 60 s (the server sends a
// comment every 15 s) counts as lost. A 401 token_expired is answered by a
// refresh and an immediate reconnect. With a proof key (SetProofKey) each
// connection carries a fresh proof; one refused (ErrInvalidProof) is
// retried as a lost connection is.
//
// Events returns:
//   - after delivering session.revoked (this session was logged out): an
//     *Error matching ErrSessionRevoked whose Revocation gives the reason,
//     time and device that closed it, and Closure the erase request and
//     the closure token for ConfirmClosure;
//   - an *Error matching ErrSessionRevoked, ErrSessionExpired or
//     ErrInvalidToken (ErrDPoP too, when the session is bound to a key
//     this Client does not hold), or ErrNotSignedIn, when (re)connecting
//     is refused that way: never retried;
//   - ctx.Err() when ctx ends.
//
// Its last onState report is always Disconnected with the returned error.
func (c *Client) Events(ctx context.Context, onEvent func(Event), onState func(StreamState, error)) error {
	if onEvent == nil {
		onEvent = func(Event) {}
	}
	report := func(s StreamState, err error) {
		if onState != nil {
			onState(s, err)
		}
	}
	attempt := 0
	for {
		report(Connecting, nil)
		up, err := c.streamOnce(ctx, onEvent, func() {
			c.drainWake() // a Reconnect asked for before this connection is answered by it
			report(Connected, nil)
		})
		if ctx.Err() != nil {
			report(Disconnected, ctx.Err())
			return ctx.Err()
		}
		if fatalStreamError(err) {
			report(Disconnected, err)
			return err
		}
		report(Disconnected, err)
		if up >= c.stableAfter {
			attempt = 0
		}
		wait := c.backoff(attempt)
		attempt++
		if e, ok := errors.AsType[*Error](err); ok && e.RetryAfter > wait {
			wait = min(e.RetryAfter, retryAfterMax)
		}
		if c.onWait != nil {
			c.onWait(wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			report(Disconnected, ctx.Err())
			return ctx.Err()
		case <-c.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// fatalStreamError reports whether Events must return err rather than
// reconnect.
func fatalStreamError(err error) bool {
	return errors.Is(err, ErrNotSignedIn) || deadSession(err)
}

// ReconnectMax is the longest Events waits between two attempts to reach
// its server (unless the server asks for longer with Retry-After): a
// stream is back within about that long of its server.
const ReconnectMax = 1500 * time.Millisecond

// reconnectBase is the longest wait before Events' first reconnect attempt.
const reconnectBase = 250 * time.Millisecond

// retryAfterMax caps the wait a server asks for with Retry-After.
const retryAfterMax = time.Minute

// backoff returns the delay before reconnect attempt n (0-based): with
// limit = min(backoffMax, backoffBase·2ⁿ), uniform in [limit/2, limit]
// ("equal jitter": spread, so a restarted server is not met by every
// device at once, yet never sooner than half the limit).
func (c *Client) backoff(n int) time.Duration {
	limit := c.backoffMax
	if n < 30 {
		limit = min(c.backoffMax, c.backoffBase<<n)
	}
	if limit <= 0 {
		return 0
	}
	half := limit / 2
	return half + rand.N(limit-half+1)
}

// Reconnect makes a waiting Events try its server now instead of at the
// end of its backoff (a person tapped Retry). It does nothing to an open
// stream.
func (c *Client) Reconnect() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Client) drainWake() {
	select {
	case <-c.wake:
	default:
	}
}

// streamOnce opens one stream and reads it to its end. It returns how long
// the stream was up (zero if it never opened) and why it ended.
func (c *Client) streamOnce(ctx context.Context, onEvent func(Event), onConnected func()) (time.Duration, error) {
	var body io.ReadCloser
	err := c.withToken(ctx, func(tok string) (err error) {
		body, err = c.openStream(ctx, tok)
		return err
	})
	if err != nil {
		return 0, err
	}
	defer body.Close()
	start := time.Now()
	onConnected()
	rd := newSSEReader(body)
	for {
		ev, err := rd.Next()
		if err != nil {
			if ctx.Err() == nil {
				err = &offlineError{msg: "The live connection to the server was lost.", err: err}
			}
			return time.Since(start), err
		}
		onEvent(ev)
		if ev.Name == api.EventSessionRevoked {
			return time.Since(start), revokedError(ev)
		}
	}
}

// stream is an open event stream body. Closing it ends the connection.
type stream struct {
	io.ReadCloser
	cancel context.CancelFunc
	timer  *time.Timer
	idle   time.Duration
	// contact notes that the server was heard from (Client.LastContact).
	contact func()
}

// Read resets the idle watchdog whenever bytes arrive.
func (s *stream) Read(p []byte) (int, error) {
	n, err := s.ReadCloser.Read(p)
	if n > 0 {
		s.timer.Reset(s.idle)
		s.contact()
	}
	return n, err
}

func (s *stream) Close() error {
	s.timer.Stop()
	err := s.ReadCloser.Close()
	s.cancel()
	return err
}

// openStream sends GET /v1/events. The response headers must come within
// the call timeout; afterwards a watchdog ends a stream silent for
// idleTimeout.
func (c *Client) openStream(ctx context.Context, token string) (io.ReadCloser, error) {
	sctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(c.timeout, cancel)
	fail := func(err error) (io.ReadCloser, error) {
		timer.Stop()
		cancel()
		return nil, err
	}
	req := c.rc.R().
		SetContext(sctx).
		SetDoNotParseResponse(true).
		SetHeader("Accept", "text/event-stream").
		SetHeader("Cache-Control", "no-cache")
	// A fresh proof for each connection: Events reconnects through here.
	if _, err := c.authorize(func(n, v string) { req.SetHeader(n, v) }, "GET", "/v1/events", token); err != nil {
		return fail(err)
	}
	resp, err := req.Get("/v1/events")
	if err != nil {
		return fail(transportError(ctx, err))
	}
	c.noteDate(resp.Header())
	raw := resp.RawBody()
	if resp.IsError() || resp.StatusCode() != http.StatusOK {
		b, rerr := io.ReadAll(io.LimitReader(raw, 64<<10))
		raw.Close()
		if rerr != nil {
			return fail(transportError(ctx, rerr))
		}
		if resp.IsError() {
			return fail(parseError(resp.StatusCode(), resp.Header(), b))
		}
		return fail(unexpected(resp.StatusCode()))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header().Get("Content-Type")); mt != "text/event-stream" {
		raw.Close()
		return fail(unexpected(resp.StatusCode()))
	}
	timer.Reset(c.idleTimeout)
	c.touch()
	return &stream{ReadCloser: raw, cancel: cancel, timer: timer, idle: c.idleTimeout, contact: c.touch}, nil
}

// revokedError is the error Events returns after session.revoked, shaped
// like the server's 401 session_revoked so that Revocation and Closure
// work on it.
func revokedError(ev Event) *Error {
	var d api.SessionRevokedEvent
	_ = ev.Decode(&d)
	msg := "This session was logged out."
	if d.ByDeviceName != "" && d.Reason != api.ReasonLogout {
		msg = "This session was logged out by " + d.ByDeviceName + "."
	}
	details := map[string]any{api.DetailReason: d.Reason, api.DetailByDeviceName: d.ByDeviceName, api.DetailErase: d.Erase}
	if d.ClosureToken != "" {
		details[api.DetailClosureToken] = d.ClosureToken
	}
	if !d.At.IsZero() {
		details[api.DetailRevokedAt] = d.At.UTC().Format(time.RFC3339Nano)
	}
	return &Error{Status: http.StatusUnauthorized, Code: api.CodeSessionRevoked, Message: msg, Details: details}
}
