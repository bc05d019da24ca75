package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sessionguard/api"
)

// Event is one message for an account's event streams.
type Event struct {
	// AccountID selects the account whose streams receive the event.
	AccountID string `json:"account_id"`
	// SessionID, when set, sends the event to that session's streams only.
	SessionID string `json:"session_id,omitempty"`
	// ExceptSessionID, when set, skips that session's streams.
	ExceptSessionID string `json:"except_session_id,omitempty"`
	// Name is an api.Event* name; Data its payload.
	Name string `json:"name"`
	Data any    `json:"data"`
}

// Bus carries events to every replica's streams. The default delivers to
// this server's own streams; a multi-replica bus publishes to all replicas,
// each of which calls Server.Deliver.
type Bus interface {
	Publish(e Event)
}

// ReadyBus is a Bus that can lose its way to the other replicas (a
// database connection, say). While Ready returns an error the server
// refuses new event streams with 503, because a stream opened then could
// miss a revocation; a bus that loses its connection calls
// Server.CloseStreams so the open ones reconnect once it is back.
type ReadyBus interface {
	Bus
	Ready() error
}

func (s *Server) publish(e Event) {
	s.wakeFor(e) // this replica's waiters at once; the bus brings it to the others
	s.bus.Publish(e)
}

// subscriber is one open event stream. Its queue is a slice that exists
// only while frames wait, not a channel per stream: an idle stream must
// cost little (docs/PERFORMANCE.md).
type subscriber struct {
	accountID, sessionID string
	// expires is when the session ends unless it is used meanwhile (its
	// ExpiresAt when the stream opened); the stream then looks again
	// (streamDue) and ends with the session. Only the stream's goroutine
	// touches it.
	expires time.Time

	mu      sync.Mutex
	queue   []*frame // frames not yet written, at most maxQueue; shared by every stream they go to
	stopped bool
	// conn is a detached stream's connection (serveStream): wake moves its
	// read deadline. notify (capacity 1) wakes a stream net/http serves.
	conn   net.Conn
	notify chan struct{}
}

// maxQueue is how many frames may wait for a stream; a stream whose
// client reads too slowly for that is closed rather than waited for.
const maxQueue = 32

// push queues f, or stops the stream if its queue is full.
func (sub *subscriber) push(f *frame) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.stopped {
		return
	}
	if len(sub.queue) >= maxQueue {
		sub.stopped = true
	} else {
		sub.queue = append(sub.queue, f)
	}
	sub.wakeLocked()
}

// stop ends the stream: it writes nothing more, queued frames included.
func (sub *subscriber) stop() {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sub.stopped = true
	sub.wakeLocked()
}

// take returns the queued frames (emptying the queue) and whether the
// stream was stopped.
func (sub *subscriber) take() ([]*frame, bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	q := sub.queue
	sub.queue = nil
	return q, sub.stopped
}

// wakeLocked makes the stream's goroutine look at the queue now: a
// detached stream's pending Read returns at once (its deadline passed);
// a stream net/http serves gets a notification.
func (sub *subscriber) wakeLocked() {
	if sub.conn != nil {
		_ = sub.conn.SetReadDeadline(aLongTimeAgo)
	}
	if sub.notify != nil {
		select {
		case sub.notify <- struct{}{}:
		default:
		}
	}
}

// serveDetached records that the stream runs on conn from now on.
func (sub *subscriber) serveDetached(conn net.Conn) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sub.conn = conn
}

// serveInHandler gives the stream a notification channel for the loop in
// handleEvents, already signalled if there is something to look at.
func (sub *subscriber) serveInHandler() <-chan struct{} {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sub.notify = make(chan struct{}, 1)
	if len(sub.queue) > 0 || sub.stopped {
		sub.notify <- struct{}{}
	}
	return sub.notify
}

// aLongTimeAgo is a read deadline that has passed.
var aLongTimeAgo = time.Unix(1, 0)

// frame is an encoded SSE event; last closes the stream after it.
type frame struct {
	name  string
	data  []byte // the SSE bytes
	chunk []byte // the same as one HTTP/1.1 chunk, for taken-over connections
	last  bool
	// sent counts the frame's writes (sessiond_events_sent_total for its
	// name), looked up once per event, not once per stream it goes to.
	sent prometheus.Counter
}

// written counts one write of the frame to a stream.
func (f *frame) written() {
	if f.sent != nil {
		f.sent.Inc()
	}
}

// hub fans events out to this process's streams.
type hub struct {
	mu     sync.Mutex
	subs   map[string]map[*subscriber]struct{} // by account
	open   map[string][]*subscriber            // by session, oldest first
	closed bool
	// detach serves HTTP/1.1 streams on connections taken over from
	// net/http (Server.DetachStreams).
	detach atomic.Bool
	// owned counts the streams running on connections taken over from
	// net/http (serveStream), which http.Server.Shutdown does not wait for.
	owned sync.WaitGroup
	// sent is sessiond_events_sent_total (nil: not counted).
	sent *prometheus.CounterVec
}

func newHub() *hub {
	return &hub{subs: map[string]map[*subscriber]struct{}{}, open: map[string][]*subscriber{}}
}

// Publish implements Bus for a single replica.
func (h *hub) Publish(e Event) { h.deliver(e) }

// streamLimits bound the streams one session and one account hold open.
type streamLimits struct{ perSession, perAccount int }

// subscribe opens a stream for the session. When the session already has
// perSession streams, the oldest is stopped to make room (a device that
// reconnects before its old connection is noticed gone must not be
// refused); otherwise, when the account already has perAccount streams,
// ok is false and nothing changes. Zero limits mean none.
func (h *hub) subscribe(accountID, sessionID string, lim streamLimits) (sub *subscriber, ok bool) {
	sub = &subscriber{accountID: accountID, sessionID: sessionID}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		sub.stop()
		return sub, true
	}
	m := h.subs[accountID]
	mine := h.open[sessionID]
	switch {
	case lim.perSession > 0 && len(mine) >= lim.perSession:
		oldest := mine[0]
		h.removeLocked(oldest)
		oldest.stop()
	case lim.perAccount > 0 && len(m) >= lim.perAccount:
		return nil, false
	}
	if m == nil {
		m = map[*subscriber]struct{}{}
		h.subs[accountID] = m
	}
	m[sub] = struct{}{}
	h.open[sessionID] = append(h.open[sessionID], sub)
	return sub, true
}

// hasStream reports whether the session has a stream open on this
// replica.
func (h *hub) hasStream(sessionID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.open[sessionID]) > 0
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(sub)
}

// removeLocked forgets sub; forgetting it twice is harmless.
func (h *hub) removeLocked(sub *subscriber) {
	if m := h.subs[sub.accountID]; m != nil {
		delete(m, sub)
		if len(m) == 0 {
			delete(h.subs, sub.accountID)
		}
	}
	mine := h.open[sub.sessionID]
	for i, o := range mine {
		if o == sub {
			mine = append(mine[:i:i], mine[i+1:]...)
			break
		}
	}
	if len(mine) == 0 {
		delete(h.open, sub.sessionID)
	} else {
		h.open[sub.sessionID] = mine
	}
}

// deliver queues e on every matching stream. A stream whose queue is full is
// closed rather than waited for: its client reconnects and re-reads state,
// and a revoked session's reconnect is refused.
func (h *hub) deliver(e Event) {
	data := encodeSSE(e.Name, e.Data)
	f := &frame{name: e.Name, data: data, chunk: chunked(data), last: e.Name == api.EventSessionRevoked}
	if h.sent != nil {
		f.sent = h.sent.WithLabelValues(e.Name)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs[e.AccountID] {
		if (e.SessionID != "" && sub.sessionID != e.SessionID) || (e.ExceptSessionID != "" && sub.sessionID == e.ExceptSessionID) {
			continue
		}
		sub.push(f)
	}
}

// close ends every stream and refuses new ones. It returns once the
// streams on taken-over connections have ended (or after closeWait), as
// http.Server.Shutdown does for the others.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	h.stopAllLocked()
	h.mu.Unlock()
	ended := make(chan struct{})
	go func() { h.owned.Wait(); close(ended) }()
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-ended:
	case <-t.C:
	}
}

// reserve counts a stream that is about to be detached, unless the hub is
// closed; Close then waits for it. Counting under mu orders it before
// close's Wait.
func (h *hub) reserve() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.owned.Add(1)
	return true
}

// closeWait bounds how long Close waits for streams to end (a stream
// blocked writing to a client that reads nothing may never end).
const closeWait = 5 * time.Second

// stopAll ends every open stream; new ones may still open.
func (h *hub) stopAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopAllLocked()
}

func (h *hub) stopAllLocked() {
	for _, m := range h.subs {
		for sub := range m {
			sub.stop()
		}
	}
}

// chunked returns b as one HTTP/1.1 chunk: hex length, CRLF, b, CRLF.
func chunked(b []byte) []byte {
	c := make([]byte, 0, len(b)+12)
	c = strconv.AppendInt(c, int64(len(b)), 16)
	c = append(c, "\r\n"...)
	c = append(c, b...)
	return append(c, "\r\n"...)
}

var (
	keepAlive      = []byte(": keep-alive\n\n")
	keepAliveChunk = chunked(keepAlive)
	lastChunk      = []byte("0\r\n\r\n") // ends a chunked body
)

func encodeSSE(name string, data any) []byte {
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteString("\ndata: ")
	j, _ := json.Marshal(data) // event payloads are plain structs
	b.Write(j)
	b.WriteString("\n\n")
	return b.Bytes()
}

// DetachStreams makes the server take each HTTP/1.1 event stream over
// from net/http once it is open (a hijacked connection) and serve it on one
// small goroutine that waits in the network poller. An idle stream then
// costs about 7 KiB instead of about 40 KiB (net/http's connection buffers,
// its background-read goroutine and the handler's stack; see
// docs/PERFORMANCE.md), which is what lets one sessiond hold tens of
// thousands of devices. The wire format is unchanged (the same chunked
// response), and so is every event, keep-alive and closing rule.
//
// The difference is for whoever runs the http.Server: it no longer sees
// those connections, so http.Server.Close, Shutdown and httptest's
// CloseClientConnections do not end them. Server.Close does (and waits for
// them), so call it before Shutdown, as sessiond does. HTTP/2 streams are
// always served by net/http. Call DetachStreams before serving.
func (s *Server) DetachStreams() { s.hub.detach.Store(true) }

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	self := callerFrom(r.Context()).session
	if s.conns.crowded(streamShare) {
		return errBusy("The server has too many open connections for live updates. Try again in a moment.", 5*time.Second)
	}
	rc := http.NewResponseController(w)
	sub, ok := s.hub.subscribe(self.AccountID, self.ID, streamLimits{s.cfg.StreamsPerSession, s.cfg.StreamsPerAccount})
	if !ok {
		return errTooManyStreams(s.cfg.StreamsPerAccount)
	}
	handedOver, reserved := false, false
	defer func() {
		if !handedOver {
			s.hub.unsubscribe(sub)
			if reserved {
				s.hub.owned.Done()
			}
		}
	}()
	// The session may have been revoked between authentication and
	// subscribing; look again now that no event can be missed.
	now, err := s.store.Session(r.Context(), self.ID)
	if err != nil {
		return storeErr(err)
	}
	if now.Revoked != nil {
		return s.errRevokedOwn(r.Context(), now, "")
	}
	if t := s.now(); s.idleDueHere(now, t) {
		if now, err = s.endIdleOwn(r.Context(), now, callerFrom(r.Context()).ip, t, true); err != nil {
			return err
		}
	}
	if err := s.checkLive(now, s.now()); err != nil {
		return err
	}
	sub.expires = now.ExpiresAt
	// Likewise a bus that cannot hear other replicas: checked after
	// subscribing, so a loss from now on ends this stream (CloseStreams).
	if rb, ok := s.bus.(ReadyBus); ok {
		if err := rb.Ready(); err != nil {
			return errStreamsUnavailable(err)
		}
	}
	// Detached, an HTTP/1.1 stream leaves net/http once its headers are
	// out (DetachStreams); otherwise, and over HTTP/2, the loop below
	// serves it.
	detach := s.hub.detach.Load() && r.ProtoMajor == 1 && r.ProtoMinor == 1
	if detach {
		reserved = s.hub.reserve()
	}
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	if reserved {
		// The connection ends with the stream (serveStream closes it):
		// tell the client not to put it back in its pool.
		h.Set("Connection", "close")
	}
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(": connected\n\n")); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	s.metrics.streams.Inc()
	if reserved {
		if conn, _, err := rc.Hijack(); err == nil {
			sub.serveDetached(bareConn(conn))
			handedOver = true
			go s.serveStream(conn, sub)
			return nil
		}
	}
	defer s.metrics.streams.Dec()
	notify := sub.serveInHandler()
	next := time.Now().Add(s.cfg.KeepAlive)
	timer := time.NewTimer(s.streamWait(sub, next))
	defer timer.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-timer.C:
			if s.streamExpired(sub) && !s.sessionGoesOn(sub) {
				return nil
			}
			if now := time.Now(); !now.Before(next) {
				if _, err := w.Write(keepAlive); err != nil {
					return nil
				}
				next = now.Add(s.cfg.KeepAlive)
			}
			timer.Reset(s.streamWait(sub, next))
		case <-notify:
			frames, stopped := sub.take()
			if stopped {
				return nil
			}
			for _, f := range frames {
				if _, err := w.Write(f.data); err != nil {
					return nil
				}
				f.written()
				if f.last {
					_ = rc.Flush()
					return nil
				}
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// serveStream runs an event stream on a connection taken over from
// net/http once the response headers and first chunk were sent: each event
// goes out as one chunk; the body ends (and the connection closes) when
// the stream does. Its one goroutine waits in a Read of the connection,
// which returns when the client leaves (as net/http's background read
// notices), when the read deadline, set to the next keep-alive, passes, or
// at once when the hub queues a frame or stops the stream (wake).
//
// An idle stream costs little more than its goroutine's stack, so the
// goroutine is kept shallow enough for Go's smallest stack (2 KiB) at its
// deepest (a deadline change or a read, down in the runtime): no defers
// (a panic here ends the process anyway), the loop in a function of its
// own with few locals, the rare work (a session's expiry) out of line. A
// few bytes more here double every stream's stack: docs/PERFORMANCE.md
// measures it, and TestStreamStack checks it.
func (s *Server) serveStream(counted net.Conn, sub *subscriber) {
	s.streamLoop(bareConn(counted), sub)
	_ = counted.Close()
	s.metrics.streams.Dec()
	s.hub.unsubscribe(sub)
	s.hub.owned.Done()
}

// streamLoop is serveStream's loop on the bare connection.
func (s *Server) streamLoop(conn net.Conn, sub *subscriber) {
	buf := make([]byte, 16)
	next := time.Now().Add(s.cfg.KeepAlive)
	for {
		// A frame queued or a stop before this deadline is set is seen by
		// take below; one after it moves the deadline to the past.
		_ = conn.SetReadDeadline(s.streamDeadline(sub, next))
		frames, stopped := sub.take()
		if stopped {
			endChunked(conn)
			return
		}
		for _, f := range frames {
			if _, err := conn.Write(f.chunk); err != nil {
				return
			}
			f.written()
			if f.last {
				_, _ = conn.Write(lastChunk)
				return
			}
		}
		_, err := conn.Read(buf) // a client sends nothing more; any bytes are ignored
		if err == nil {
			continue
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return // the client went away
		}
		if s.streamExpired(sub) && !s.sessionGoesOn(sub) {
			endChunked(conn)
			return
		}
		if time.Until(next) <= 0 {
			if _, err := conn.Write(keepAliveChunk); err != nil {
				return
			}
			next = time.Now().Add(s.cfg.KeepAlive)
		}
	}
}

// endChunked ends a taken-over stream's chunked body, waiting a second at
// most for a client that reads nothing.
//
//go:noinline
func endChunked(conn net.Conn) {
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write(lastChunk)
}

// streamDeadline is the read deadline of a stream's next wait (see
// streamWait).
//
//go:noinline
func (s *Server) streamDeadline(sub *subscriber, next time.Time) time.Time {
	return time.Now().Add(s.streamWait(sub, next))
}

// streamWait is how long a stream may sleep: until its next keep-alive
// (next) or until its session would expire, whichever comes first.
func (s *Server) streamWait(sub *subscriber, next time.Time) time.Duration {
	d := time.Until(next)
	if left := sub.expires.Sub(s.now()); left < d {
		d = left
	}
	return max(d, 10*time.Millisecond)
}

// streamExpired reports whether the stream's session may have ended by
// expiry (see sessionGoesOn). It is separate, and small, because it runs on
// every wake-up of an idle stream's goroutine: sessionGoesOn's frame (a
// whole store.Session) would double that goroutine's 2 KiB stack.
func (s *Server) streamExpired(sub *subscriber) bool { return !s.now().Before(sub.expires) }

// sessionGoesOn runs once a stream's session expiry has passed: it reads
// the session again and reports whether the stream may go on (the session
// was used meanwhile, which moved its expiry). A stream ends with its
// session: the client's reconnect then learns why (401 session_expired).
//
//go:noinline
func (s *Server) sessionGoesOn(sub *subscriber) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sess, err := s.store.Session(ctx, sub.sessionID)
	if err != nil {
		// Unknown now, or the database is unreachable: end the stream;
		// the client reconnects and gets the answer it needs.
		return false
	}
	if s.checkLive(sess, s.now()) != nil {
		return false
	}
	sub.expires = sess.ExpiresAt
	return true
}
