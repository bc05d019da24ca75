package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sessionguard/cmd/internal/cli"
	"sessionguard/server/store/postgres/pgtest"
)

var built struct {
	once sync.Once
	bin  string
	err  error
}

// sessiondBin builds sessiond once for the package's tests.
func sessiondBin(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "sgcrash-test-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.bin, built.err = cli.BuildSessiond(context.Background(), dir)
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}

// needStore skips a store that cannot run here (PostgreSQL not installed),
// unless $SESSIONGUARD_REQUIRE_POSTGRES is 1.
func needStore(t *testing.T, name string) {
	t.Helper()
	if name != "postgres" {
		return
	}
	if _, err := pgtest.BinDir(); err != nil {
		if os.Getenv(pgtest.EnvRequire) == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// The real tool, in process, on each store: two kill/restart rounds with
// the real sessiond, no violation.
func TestCrashRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills sessiond")
	}
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			needStore(t, kind.name)
			var out, errb strings.Builder
			code := run(context.Background(), []string{"--stores", kind.name, "--sessiond", sessiondBin(t),
				"--rounds", "2", "--kill-min", "15", "--kill-max", "30"}, &out, &errb)
			t.Log(out.String())
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, errb.String())
			}
			for _, want := range []string{"round 2/2", "2 kills", "OK:"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q", want)
				}
			}
		})
	}
}

// A planted crash-safety failure: a sessiond that loses its SQLite
// database at every start. The tool must notice the lost acknowledged
// sign-ins and fail.
func TestCrashCatchesLostData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills sessiond")
	}
	real := sessiondBin(t)
	// The tool keeps a failed run's work directory: keep it in the test's.
	t.Setenv("TMPDIR", t.TempDir())
	amnesiac := filepath.Join(t.TempDir(), "amnesiac-sessiond")
	script := `#!/bin/sh
# Forgets everything at each start: the --db file and its WAL are removed.
prev=
for a; do
	if [ "$prev" = --db ]; then rm -f "$a" "$a-wal" "$a-shm"; fi
	prev=$a
done
exec '` + real + `' "$@"
`
	if err := os.WriteFile(amnesiac, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	code := run(context.Background(), []string{"--stores", "sqlite", "--sessiond", amnesiac,
		"--rounds", "1", "--kill-min", "10", "--kill-max", "10"}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"VIOLATION", "unknown after restart (acknowledged sign-in or refresh lost)", "FAILED"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}
