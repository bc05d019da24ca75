package server

import "testing"

// A stream's queue holds maxQueue frames; one more stops the stream
// instead of waiting for its client, and a stopped stream takes no more.
func TestStreamQueueOverflowStops(t *testing.T) {
	h := newHub()
	sub := h.subscribe("acc", "ses")
	defer h.unsubscribe(sub)
	notify := sub.serveInHandler()
	for i := range maxQueue {
		h.deliver(Event{AccountID: "acc", Name: "sessions.changed", Data: i})
	}
	if q, stopped := sub.take(); len(q) != maxQueue || stopped {
		t.Fatalf("%d frames queued, stopped %v; want %d, not stopped", len(q), stopped, maxQueue)
	}
	for i := range maxQueue + 1 {
		h.deliver(Event{AccountID: "acc", Name: "sessions.changed", Data: i})
	}
	if _, stopped := sub.take(); !stopped {
		t.Fatal("a full queue did not stop the stream")
	}
	select {
	case <-notify:
	default:
		t.Fatal("the stream was not woken")
	}
	h.deliver(Event{AccountID: "acc", SessionID: "ses", Name: "session.revoked", Data: 0})
	if q, _ := sub.take(); len(q) != 0 {
		t.Fatalf("a stopped stream took %d more frames", len(q))
	}
}

// Events go only to the streams they name.
func TestDeliverTargets(t *testing.T) {
	h := newHub()
	a, b, other := h.subscribe("acc", "a"), h.subscribe("acc", "b"), h.subscribe("acc2", "c")
	h.deliver(Event{AccountID: "acc", SessionID: "a", Name: "session.revoked", Data: 1})
	h.deliver(Event{AccountID: "acc", ExceptSessionID: "a", Name: "session.created", Data: 2})
	qa, _ := a.take()
	qb, _ := b.take()
	qo, _ := other.take()
	if len(qa) != 1 || !qa[0].last || len(qb) != 1 || qb[0].name != "session.created" || len(qo) != 0 {
		t.Fatalf("a %v, b %v, other %v", qa, qb, qo)
	}
	if string(qa[0].chunk) != "20\r\nevent: session.revoked\ndata: 1\n\n\r\n" {
		t.Fatalf("chunk %q for %q", qa[0].chunk, qa[0].data)
	}
}
