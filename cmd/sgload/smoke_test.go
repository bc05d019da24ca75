//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sessionguard/server/store/postgres/pgtest"
)

// TestSmoke runs the whole tool, small, against a real sessiond it builds,
// on SQLite and (where PostgreSQL is installed, as make test ensures) on
// PostgreSQL, so sgload cannot rot. It checks that every phase ran and
// counted what it should; the figures themselves belong in
// docs/PERFORMANCE.md, not in assertions.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs sessiond")
	}
	stores := "sqlite"
	if _, err := pgtest.BinDir(); err == nil || os.Getenv(pgtest.EnvURL) != "" {
		stores += ",postgres"
	} else if os.Getenv(pgtest.EnvRequire) == "1" {
		t.Fatalf("PostgreSQL is required ($%s=1): %v", pgtest.EnvRequire, err)
	} else {
		t.Logf("PostgreSQL not installed: SQLite only (%v)", err)
	}
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "results.json")
	args := []string{"--db", stores, "--streams", "30,60", "--revokes", "20", "--receipt-burst", "1", "--me-requests", "200",
		"--me-warmup", "20", "--me-concurrency", "4", "--list-sessions", "300", "--audit-events", "500",
		"--page-repeats", "3", "--logins", "2", "--login-concurrency", "2", "--settle", "50ms",
		"--phase-timeout", "2m", "--steady", "100ms", "--flood-workers", "6", "--flood-duration", "300ms",
		"--flood-accounts", "10", "--flood-me-workers", "2", "--flood-me-rate", "100", "--writes", "24",
		"--write-concurrency", "3", "--write-rounds", "1", "--sweep-sessions", "300", "--sweep-due", "10,40",
		"--sweep-every", "200ms", "--bound-requests", "100", "--bound-rounds", "2", "--json", jsonPath}
	if u := os.Getenv(pgtest.EnvURL); u != "" {
		args = append(args, "--postgres-url", u)
	}
	var out, errs bytes.Buffer
	if code := run(context.Background(), args, &out, &errs); code != 0 {
		t.Fatalf("sgload exited %d:\n%s", code, errs.String())
	}
	for _, want := range []string{"### Authenticated requests", "### Revoke", "### Revoke → receipt", "### sessiond memory",
		"`GET /v1/audit?limit=200`", "### Sign-in", "| SQLite | 60 | 20 |", "### Sign-in flood",
		"| SQLite | 6 × accounts |", "### Acknowledged writes", "| SQLite | synchronous=normal | 1 | 3 |",
		"### Inactivity sweeper", "| SQLite | 300 |", "### GET /v1/me: Bearer against DPoP-bound tokens",
		"| SQLite | 2 | DPoP | 100 | 4 |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if want := len(strings.Split(stores, ",")); len(res.Backends) != want {
		t.Fatalf("%d stores measured, want %d", len(res.Backends), want)
	}
	for _, be := range res.Backends {
		if be.Me.Latency.N != 200 || be.Login.Latency.N != 2 || len(be.Levels) != 2 || len(be.Pages) != 4 {
			t.Errorf("%s: %d requests, %d sign-ins, %d levels, %d page rows", be.Store, be.Me.Latency.N,
				be.Login.Latency.N, len(be.Levels), len(be.Pages))
		}
		for _, l := range be.Levels {
			if l.Revoke.N != 20 || l.ClosedAfter != 20 || l.Receipt.N != 20 || l.Mem.Streams != float64(l.Streams) {
				t.Errorf("%s at %d streams: %d revokes, %d closed, %d receipts, sessiond counted %v streams", be.Store,
					l.Streams, l.Revoke.N, l.ClosedAfter, l.Receipt.N, l.Mem.Streams)
			}
		}
		for _, l := range be.Levels {
			if l.Burst == nil || l.Burst.Devices != 5 || l.Burst.Latency.N != 5 {
				t.Errorf("%s at %d streams: receipt burst %+v", be.Store, l.Streams, l.Burst)
			}
		}
		if last := be.Levels[len(be.Levels)-1]; last.Steady == nil || last.Steady.Streams != 60 {
			t.Errorf("%s: no second memory reading at the last level", be.Store)
		}
		if be.Pages[1].WalkItems != 300 || be.Pages[3].WalkItems != 500 {
			t.Errorf("%s: walked %d sessions and %d audit events", be.Store, be.Pages[1].WalkItems, be.Pages[3].WalkItems)
		}
		if f := be.Flood; f == nil || f.Baseline.Latency.N == 0 || len(f.Kinds) != 2 {
			t.Errorf("%s: flood %+v", be.Store, f)
		} else {
			for _, k := range f.Kinds {
				// Every attempt is a wrong password from an address of its own:
				// nothing is rate-limited, and 6 in flight fit sessiond's queue.
				if k.Attempts == 0 || k.Unauthorized != k.Attempts || k.Me.Latency.N == 0 {
					t.Errorf("%s: flood %s: %d attempts, %d × 401, %d × 429, %d × 503, %d GET /v1/me", be.Store, k.Kind,
						k.Attempts, k.Unauthorized, k.RateLimited, k.Busy, k.Me.Latency.N)
				}
			}
		}
		wantRuns := 2 // SQLite: full and normal
		if be.Store != "SQLite" {
			wantRuns = 1
		}
		if w := be.Writes; w == nil || len(w.Runs) != wantRuns {
			t.Errorf("%s: writes %+v", be.Store, w)
		} else {
			for _, run := range w.Runs {
				if run.Rotations.Latency.N != 24 || run.Logouts.Latency.N != 24 {
					t.Errorf("%s, %s: %d rotations, %d log outs", be.Store, modeName(run.Mode), run.Rotations.Latency.N, run.Logouts.Latency.N)
				}
			}
		}
		if sw := be.Sweep; sw == nil || sw.Sessions != 300 || sw.EmptySweeps < 4 || len(sw.Steps) != 2 {
			t.Errorf("%s: sweep %+v", be.Store, sw)
		} else {
			for i, st := range sw.Steps {
				ended := 0
				for _, s := range st.Sweeps {
					ended += s.Ended
				}
				if want := []int{10, 40}[i]; st.Due != want || ended != want {
					t.Errorf("%s: sweep step %d: %d due, %d ended", be.Store, i, st.Due, ended)
				}
			}
			if sw.ReadsOutside.N == 0 || sw.WritesOutside.N == 0 {
				t.Errorf("%s: no requests measured during the sweep phase", be.Store)
			}
		}
		if b := be.Bound; b == nil || len(b.Rounds) != 4 || b.BoundCPUUs <= 0 || b.UnboundCPUUs <= 0 {
			t.Errorf("%s: bound phase %+v", be.Store, b)
		} else {
			for i, rd := range b.Rounds {
				if rd.Bound != (i%2 == 1) || rd.Latency.N != 100 || (rd.Bound && rd.ProofsTook <= 0) {
					t.Errorf("%s: bound round %d: %+v", be.Store, i, rd)
				}
			}
		}
		if be.Idle.RSS <= 0 || be.Me.CPU.Server <= 0 {
			t.Errorf("%s: no /proc readings of sessiond (RSS %d, CPU %v)", be.Store, be.Idle.RSS, be.Me.CPU.Server)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--db", "mysql"}, {"--streams", "100,50"}, {"--streams", "10", "--revokes", "20"},
		{"--me-requests", "0"}, {"stray"}, {"--phases", "me,nope"}, {"--flood-kinds", "unknown,unknown"},
		{"--sqlite-synchronous", "off"}, {"--flood-me-workers", "20"}, {"--writes", "2", "--write-concurrency", "4"},
		{"--sweep-due", "0"}, {"--sweep-sessions", "10", "--sweep-due", "6,6"}, {"--sweep-every", "0s"},
		{"--bound-requests", "0"}, {"--bound-rounds", "-1"},
	} {
		var out, errs bytes.Buffer
		if code := run(context.Background(), args, &out, &errs); code != 2 || !strings.Contains(errs.String(), "sgload") && !strings.Contains(errs.String(), "flag") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errs.String())
		}
	}
}
