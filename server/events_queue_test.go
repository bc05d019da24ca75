package server

import "testing"

func mustSubscribe(t *testing.T, h *hub, account, session string, lim streamLimits) *subscriber {
	t.Helper()
	sub, ok := h.subscribe(account, session, lim)
	if !ok {
		t.Fatalf("subscribe(%s, %s) refused", account, session)
	}
	return sub
}

// One session holds at most perSession streams (one more stops the
// oldest); one account at most perAccount (one more is refused) — unless
// the new stream replaces one of its own session's.
func TestStreamLimits(t *testing.T) {
	lim := streamLimits{perSession: 2, perAccount: 4}
	type step struct {
		session   string
		ok        bool
		stoppedAt []int // indexes of earlier steps' streams stopped after this one
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"third of a session replaces the oldest", []step{
			{"s1", true, nil}, {"s1", true, nil}, {"s1", true, []int{0}}, {"s1", true, []int{0, 1}},
		}},
		{"account full refuses a new session's stream", []step{
			{"s1", true, nil}, {"s1", true, nil}, {"s2", true, nil}, {"s2", true, nil}, {"s3", false, nil},
		}},
		{"account full still lets a session replace its own", []step{
			{"s1", true, nil}, {"s1", true, nil}, {"s2", true, nil}, {"s2", true, nil}, {"s2", true, []int{2}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub()
			var subs []*subscriber
			for i, st := range tc.steps {
				sub, ok := h.subscribe("acc", st.session, lim)
				if ok != st.ok {
					t.Fatalf("step %d (%s): ok = %v, want %v", i, st.session, ok, st.ok)
				}
				subs = append(subs, sub)
				want := map[int]bool{}
				for _, j := range st.stoppedAt {
					want[j] = true
				}
				for j, o := range subs[:i] {
					if o == nil {
						continue
					}
					if _, stopped := o.take(); stopped != want[j] {
						t.Errorf("after step %d: stream %d stopped = %v, want %v", i, j, stopped, want[j])
					}
				}
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if n := len(h.subs["acc"]); n > lim.perAccount {
				t.Errorf("%d streams registered for the account, cap %d", n, lim.perAccount)
			}
			for sid, open := range h.open {
				if len(open) > lim.perSession {
					t.Errorf("%s: %d streams registered, cap %d", sid, len(open), lim.perSession)
				}
			}
		})
	}
}

// A stream's queue holds maxQueue frames; one more stops the stream
// instead of waiting for its client, and a stopped stream takes no more.
func TestStreamQueueOverflowStops(t *testing.T) {
	h := newHub()
	sub := mustSubscribe(t, h, "acc", "ses", streamLimits{})
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
	var none streamLimits
	a, b, other := mustSubscribe(t, h, "acc", "a", none), mustSubscribe(t, h, "acc", "b", none), mustSubscribe(t, h, "acc2", "c", none)
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
