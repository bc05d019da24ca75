package pgbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/pgbus"
	"sessionguard/server/store/postgres/pgtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(pgtest.M(m)) }

// recorder is a Receiver that keeps what it gets.
type recorder struct {
	mu     sync.Mutex
	events []server.Event
	closes int
	got    chan struct{}
}

func newRecorder() *recorder { return &recorder{got: make(chan struct{}, 100)} }

func (r *recorder) Deliver(e server.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *recorder) CloseStreams() {
	r.mu.Lock()
	r.closes++
	r.mu.Unlock()
}

func (r *recorder) wait(t *testing.T, n int) []server.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		if len(r.events) >= n {
			out := append([]server.Event(nil), r.events...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("got %d events, want %d", len(r.events), n)
		}
	}
}

func (r *recorder) closed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closes
}

func start(t *testing.T, url string, r *recorder) *pgbus.Bus {
	t.Helper()
	b, err := pgbus.New(url, r, pgbus.Config{MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEveryReplicaGetsEveryEventInOrder(t *testing.T) {
	url := pgtest.NewDatabase(t)
	r1, r2 := newRecorder(), newRecorder()
	b1, _ := start(t, url, r1), start(t, url, r2)

	revoked := api.SessionRevokedEvent{SessionID: "ses_2", Reason: api.ReasonRemoteLogout,
		At: time.Date(2026, 11, 21, 14, 2, 0, 0, time.UTC), BySessionID: "ses_1", ByDeviceName: "Ana's Laptop"}
	sent := []server.Event{
		{AccountID: "acc_1", ExceptSessionID: "ses_1", Name: api.EventPasswordChanged, Data: api.PasswordChangedEvent{}},
		{AccountID: "acc_1", SessionID: "ses_2", Name: api.EventSessionRevoked, Data: revoked},
		{AccountID: "acc_1", Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}},
	}
	for _, e := range sent {
		b1.Publish(e)
	}
	for name, r := range map[string]*recorder{"publishing replica": r1, "other replica": r2} {
		got := r.wait(t, len(sent))
		if len(got) != len(sent) {
			t.Fatalf("%s: %d events, want %d", name, len(got), len(sent))
		}
		for i, e := range got {
			want, _ := json.Marshal(sent[i].Data)
			data, _ := json.Marshal(e.Data)
			if e.AccountID != sent[i].AccountID || e.SessionID != sent[i].SessionID ||
				e.ExceptSessionID != sent[i].ExceptSessionID || e.Name != sent[i].Name || string(data) != string(want) {
				t.Errorf("%s: event %d = %+v %s, want %+v %s", name, i, e, data, sent[i], want)
			}
		}
	}
}

func TestOversizeEventBecomesSessionsChanged(t *testing.T) {
	url := pgtest.NewDatabase(t)
	r := newRecorder()
	b := start(t, url, r)
	b.Publish(server.Event{AccountID: "acc_1", Name: api.EventSessionCreated, Data: strings.Repeat("x", 9000)})
	got := r.wait(t, 1)
	if got[0].Name != api.EventSessionsChanged || got[0].AccountID != "acc_1" {
		t.Fatalf("got %+v, want sessions.changed for acc_1", got[0])
	}
}

func TestListenerSurvivesPostgresRestart(t *testing.T) {
	c := pgtest.NewCluster(t, pgtest.Options{})
	url, err := pgtest.CreateDatabase(context.Background(), c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	b := start(t, url, r)

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.Ready() == nil || r.closed() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still ready (%v) or streams not closed (%d) with PostgreSQL down", b.Ready(), r.closed())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.Ready(); !errors.Is(err, pgbus.ErrNotListening) {
		t.Fatalf("Ready() = %v, want ErrNotListening", err)
	}

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := b.WaitReady(ctx); err != nil {
		t.Fatalf("bus did not come back: %v", err)
	}
	b.Publish(server.Event{AccountID: "acc_1", Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}})
	if got := r.wait(t, 1); got[0].Name != api.EventSessionsChanged {
		t.Fatalf("after restart got %+v", got[0])
	}
}
