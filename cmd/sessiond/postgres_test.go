package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/client"
	"sessionguard/server"
	"sessionguard/server/store/postgres/pgtest"
)

// device signs in to the demo account on base as a named device.
func device(t *testing.T, base, name string) *client.Client {
	t.Helper()
	c, err := client.New(base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := c.Login(ctx, api.LoginRequest{Username: server.DemoUsername, Password: server.DemoPassword,
		Device: api.Device{ID: "dev-" + strings.ToLower(strings.ReplaceAll(name, " ", "-")), Name: name, Platform: "linux"}})
	if err != nil {
		t.Fatalf("%s signs in: %v", name, err)
	}
	if l.Session == nil {
		t.Fatalf("%s: login without a session", name)
	}
	c.SetTokens(l.Tokens())
	return c
}

// follow runs c's live event stream until the test ends, recording what
// happens on it.
type follow struct {
	mu     sync.Mutex
	events []client.Event
	states []client.StreamState
	errs   []error
	done   chan error
	change chan struct{}
}

func followEvents(t *testing.T, c *client.Client) *follow {
	f := &follow{done: make(chan error, 1), change: make(chan struct{}, 1000)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		f.done <- c.Events(ctx, func(e client.Event) {
			f.mu.Lock()
			f.events = append(f.events, e)
			f.mu.Unlock()
			f.change <- struct{}{}
		}, func(s client.StreamState, err error) {
			f.mu.Lock()
			f.states = append(f.states, s)
			if err != nil {
				f.errs = append(f.errs, err)
			}
			f.mu.Unlock()
			f.change <- struct{}{}
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-f.done
	})
	return f
}

// waitFor waits until cond holds over the recorded events and states.
func (f *follow) waitFor(t *testing.T, what string, cond func(events []client.Event, states []client.StreamState) bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		f.mu.Lock()
		ok := cond(f.events, f.states)
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-f.change:
		case <-deadline:
			f.mu.Lock()
			defer f.mu.Unlock()
			var names []string
			for _, e := range f.events {
				names = append(names, e.Name)
			}
			t.Fatalf("timed out waiting for %s; states %v, errors %v, events %v", what, f.states, f.errs, names)
		}
	}
}

func connectedCount(states []client.StreamState) int {
	n := 0
	for _, s := range states {
		if s == client.Connected {
			n++
		}
	}
	return n
}

func hasEvent(name string) func([]client.Event, []client.StreamState) bool {
	return func(events []client.Event, _ []client.StreamState) bool {
		for _, e := range events {
			if e.Name == name {
				return true
			}
		}
		return false
	}
}

// TestCommandsOnPostgres: migrate, the user commands and demo work on a
// PostgreSQL database as on a SQLite file, and never print the URL's
// password, wherever the URL puts it.
func TestCommandsOnPostgres(t *testing.T) {
	db := pgtest.NewDatabase(t)
	withPassword := strings.Replace(db, "postgres@", "postgres:hunter2-not-printed@", 1)
	for _, tc := range []struct {
		stdin string
		args  []string
		out   string
	}{
		{"", []string{"migrate", "--db", withPassword}, "is at schema version"},
		{"", []string{"migrate", "--db", withPassword}, "postgres:xxxxx@"},
		{"", []string{"migrate", "--db", db + "&password=hunter2-not-printed"}, "password=xxxxx"},
		{"", []string{"demo", "--db", db}, "created the demo account"},
		{"", []string{"demo", "--db", db}, "already exists"},
		{"violet-harbor-lantern\n", []string{"user", "add", "--db", db, "--username", "Ana"}, "created account ana"},
		{"amber-falcon-meadow-42\n", []string{"user", "set-password", "--db", db, "--username", "ana"}, "set a new password for ana"},
		{"", []string{"user", "reset-mfa", "--db", db, "--username", "ana"}, "already off"},
		{"", []string{"user", "logout-all", "--db", db, "--username", "ana"}, "logged out 0 sessions of ana"},
		{"", []string{"demo", "--db", db, "--force"}, "already exists"},
		{"", []string{"audit", "verify", "--db", db}, "accounts verified: every chain and head intact"},
	} {
		code, out, errOut := runCmd(t, tc.stdin, tc.args...)
		if code != 0 || !strings.Contains(out, tc.out) || strings.Contains(out+errOut, "hunter2") {
			t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", tc.args, code, out, errOut)
		}
	}
}

// TestTwoReplicas: two sessiond replicas on one PostgreSQL database behind
// no balancer at all: a device follows its stream on replica 2, and a
// log-out sent to replica 1 closes it there, at once.
func TestTwoReplicas(t *testing.T) {
	db := pgtest.NewDatabase(t)
	if code, _, errOut := runCmd(t, "", "demo", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	replica1 := serveInBackground(t, "--db", db)
	replica2 := serveInBackground(t, "--db", db)

	phone := device(t, replica2, "Ana's Phone")
	stream := followEvents(t, phone)
	stream.waitFor(t, "the phone's stream on replica 2", func(_ []client.Event, s []client.StreamState) bool { return connectedCount(s) == 1 })

	// A sign-in on replica 1 shows up on replica 2's stream.
	laptop := device(t, replica1, "Ana's Laptop")
	stream.waitFor(t, "session.created from replica 1", hasEvent(api.EventSessionCreated))

	ctx := context.Background()
	me, err := phone.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.RevokeSession(ctx, me.Session.ID); err != nil {
		t.Fatalf("laptop logs the phone out through replica 1: %v", err)
	}
	select {
	case err := <-stream.done:
		var ce *client.Error
		if !errors.As(err, &ce) || !errors.Is(err, client.ErrSessionRevoked) {
			t.Fatalf("phone's stream ended with %v, want session_revoked", err)
		}
		if _, _, by := ce.Revocation(); by != "Ana's Laptop" {
			t.Fatalf("revoked by %q, want Ana's Laptop", by)
		}
		stream.done <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("the revoke on replica 1 did not close the stream on replica 2")
	}
	// And the phone is refused everywhere.
	for _, base := range []string{replica1, replica2} {
		c, _ := client.New(base)
		c.SetTokens(phone.Tokens())
		if _, err := c.Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
			t.Fatalf("revoked phone on %s: %v, want session_revoked", base, err)
		}
	}
}

// TestPostgresRestart: PostgreSQL restarted under a running sessiond.
// Requests fail with 503 and a clear message while it is down, then work
// again by themselves; the live stream reconnects and still delivers.
func TestPostgresRestart(t *testing.T) {
	cluster := pgtest.NewCluster(t, pgtest.Options{})
	db, err := pgtest.CreateDatabase(context.Background(), cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "", "demo", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	base := serveInBackground(t, "--db", db)
	laptop := device(t, base, "Ana's Laptop")
	phone := device(t, base, "Ana's Phone")
	stream := followEvents(t, phone)
	stream.waitFor(t, "the phone's stream", func(_ []client.Event, s []client.StreamState) bool { return connectedCount(s) == 1 })

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = laptop.Me(ctx)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusServiceUnavailable || ce.Code != api.CodeUnavailable ||
		!strings.Contains(ce.Message, "unavailable") {
		t.Fatalf("with PostgreSQL down: %v, want 503 unavailable with a message", err)
	}
	stream.waitFor(t, "the stream to drop", func(_ []client.Event, s []client.StreamState) bool {
		return len(s) > 0 && s[len(s)-1] != client.Connected
	})

	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err = laptop.Me(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessiond did not recover after PostgreSQL came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stream.waitFor(t, "the stream to reconnect", func(_ []client.Event, s []client.StreamState) bool { return connectedCount(s) >= 2 })

	// The reconnected stream is live: a new sign-in reaches it.
	device(t, base, "Ana's Tablet")
	stream.waitFor(t, "session.created after the restart", hasEvent(api.EventSessionCreated))
}
