package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"time"

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

func (s *Server) publish(e Event) { s.bus.Publish(e) }

// subscriber is one open event stream.
type subscriber struct {
	accountID, sessionID string
	ch                   chan frame
	done                 chan struct{}
	once                 sync.Once
}

func (sub *subscriber) stop() { sub.once.Do(func() { close(sub.done) }) }

// frame is an encoded SSE event; last closes the stream after it.
type frame struct {
	data []byte
	last bool
}

// hub fans events out to this process's streams.
type hub struct {
	mu     sync.Mutex
	subs   map[string]map[*subscriber]struct{} // by account
	closed bool
}

func newHub() *hub { return &hub{subs: map[string]map[*subscriber]struct{}{}} }

// Publish implements Bus for a single replica.
func (h *hub) Publish(e Event) { h.deliver(e) }

func (h *hub) subscribe(accountID, sessionID string) *subscriber {
	sub := &subscriber{accountID: accountID, sessionID: sessionID, ch: make(chan frame, 32), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		sub.stop()
		return sub
	}
	m := h.subs[accountID]
	if m == nil {
		m = map[*subscriber]struct{}{}
		h.subs[accountID] = m
	}
	m[sub] = struct{}{}
	return sub
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.subs[sub.accountID]; m != nil {
		delete(m, sub)
		if len(m) == 0 {
			delete(h.subs, sub.accountID)
		}
	}
}

// deliver queues e on every matching stream. A stream whose queue is full is
// closed rather than waited for: its client reconnects and re-reads state,
// and a revoked session's reconnect is refused.
func (h *hub) deliver(e Event) {
	f := frame{data: encodeSSE(e.Name, e.Data), last: e.Name == api.EventSessionRevoked}
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs[e.AccountID] {
		if (e.SessionID != "" && sub.sessionID != e.SessionID) || (e.ExceptSessionID != "" && sub.sessionID == e.ExceptSessionID) {
			continue
		}
		select {
		case sub.ch <- f:
		default:
			sub.stop()
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.stopAllLocked()
}

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

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	self := callerFrom(r.Context()).session
	rc := http.NewResponseController(w)
	sub := s.hub.subscribe(self.AccountID, self.ID)
	defer s.hub.unsubscribe(sub)
	// The session may have been revoked between authentication and
	// subscribing; look again now that no event can be missed.
	now, err := s.store.Session(r.Context(), self.ID)
	if err != nil {
		return storeErr(err)
	}
	if now.Revoked != nil {
		return errSessionRevoked(now)
	}
	// Likewise a bus that cannot hear other replicas: checked after
	// subscribing, so a loss from now on ends this stream (CloseStreams).
	if rb, ok := s.bus.(ReadyBus); ok {
		if err := rb.Ready(); err != nil {
			return errStreamsUnavailable(err)
		}
	}
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(": connected\n\n")); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()
	tick := time.NewTicker(s.cfg.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-sub.done:
			return nil
		case <-tick.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return nil
			}
		case f := <-sub.ch:
			if _, err := w.Write(f.data); err != nil {
				return nil
			}
			s.metrics.events.WithLabelValues(eventName(f.data)).Inc()
			if f.last {
				_ = rc.Flush()
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

func eventName(frame []byte) string {
	line, _, _ := bytes.Cut(frame, []byte("\n"))
	return string(bytes.TrimPrefix(line, []byte("event: ")))
}
