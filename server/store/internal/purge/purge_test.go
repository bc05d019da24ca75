package purge

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"sessionguard/server/store"
)

// fake has rows of each kind left to delete and logs the batches asked for.
type fake struct {
	sessions, sessionTokens int // ended sessions, and their refresh tokens
	left                    map[string]int
	log                     []string
	fail                    string // the kind whose first batch fails
}

func (f *fake) EndedSessions(_ context.Context, _ time.Time, limit int) (int, int, error) {
	f.log = append(f.log, "sessions")
	// Tokens go first, a batch at a time; a session once it has none.
	tokens := min(f.sessionTokens, limit)
	f.sessionTokens -= tokens
	sessions := 0
	if f.sessionTokens == 0 {
		sessions = min(f.sessions, limit)
		f.sessions -= sessions
	}
	return sessions, tokens, nil
}

func (f *fake) batch(kind string, limit int) (int, error) {
	f.log = append(f.log, kind)
	if kind == f.fail {
		return 1, errors.New("broken " + kind)
	}
	n := min(f.left[kind], limit)
	f.left[kind] -= n
	return n, nil
}

func (f *fake) RotatedTokens(_ context.Context, _ time.Time, l int) (int, error) {
	return f.batch("tokens", l)
}
func (f *fake) Remembered(_ context.Context, _ time.Time, l int) (int, error) {
	return f.batch("remembered", l)
}
func (f *fake) MFATokens(_ context.Context, _ time.Time, l int) (int, error) {
	return f.batch("mfa", l)
}
func (f *fake) Approvals(_ context.Context, _ time.Time, l int) (int, error) {
	return f.batch("approvals", l)
}
func (f *fake) Installs(_ context.Context, _ time.Time, l int) (int, error) {
	return f.batch("installs", l)
}
func (f *fake) Outbox(_ context.Context, _ time.Time, l int) (int, error) {
	return f.batch("outbox", l)
}

func TestRun(t *testing.T) {
	f := &fake{sessions: 5, sessionTokens: 7,
		left: map[string]int{"tokens": 4, "remembered": 3, "mfa": 0, "approvals": 1, "installs": 1, "outbox": 2}}
	got, err := Run(t.Context(), f, time.Now(), time.Now(), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := store.PurgeCounts{Sessions: 5, RefreshTokens: 4, Remembered: 3, MFATokens: 0, Approvals: 1, Installs: 1, Outbox: 2}
	if got != want {
		t.Errorf("Run = %+v, want %+v", got, want)
	}
	// Batches of 2 until one comes back short; ended sessions first.
	wantLog := []string{
		"sessions", "sessions", "sessions", "sessions", // tokens 2, 2, 2, 1 (then sessions 2)
		"sessions", "sessions", // sessions 2, 1
		"tokens", "tokens", "tokens",
		"remembered", "remembered",
		"mfa", "approvals", "installs", "outbox", "outbox",
	}
	if !slices.Equal(f.log, wantLog) {
		t.Errorf("batches %v, want %v", f.log, wantLog)
	}
}

func TestRunStopsOnError(t *testing.T) {
	f := &fake{left: map[string]int{"tokens": 3, "remembered": 3}, fail: "remembered"}
	got, err := Run(t.Context(), f, time.Now(), time.Now(), 2)
	if err == nil {
		t.Fatal("Run with a failing batch succeeded")
	}
	if want := (store.PurgeCounts{RefreshTokens: 3, Remembered: 1}); got != want {
		t.Errorf("Run = %+v, want what it had deleted: %+v", got, want)
	}
	if last := f.log[len(f.log)-1]; last != "remembered" {
		t.Errorf("Run went on after the failure: batches %v", f.log)
	}
}
