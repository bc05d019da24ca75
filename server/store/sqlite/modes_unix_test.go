//go:build unix

package sqlite

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFileModes: the database file, its -wal and its -shm are 0600, for a
// new database and for one whose files were looser, whatever the umask.
func TestFileModes(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0)) // the loosest: files get exactly the mode asked for
	files := func(path string) []string { return []string{path, path + "-wal", path + "-shm"} }
	// write makes sure the WAL is in use, so that -wal and -shm exist.
	write := func(t *testing.T, s *Store) {
		t.Helper()
		if _, err := s.AppendOutbox(t.Context(), time.Now(), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	open := func(t *testing.T, path string) *Store {
		t.Helper()
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		write(t, s)
		return s
	}
	cases := []struct {
		name string
		// prepare readies path before the Open under test; what it
		// returns runs after the check.
		prepare func(t *testing.T, path string) (done func())
	}{
		{"new file", func(*testing.T, string) func() { return func() {} }},
		{"existing file, 0644", func(t *testing.T, path string) func() {
			open(t, path).Close()
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			return func() {}
		}},
		{"existing file, -wal and -shm 0666", func(t *testing.T, path string) func() {
			// A Store left open keeps -wal and -shm in place, as a
			// crash would, while all three are loosened.
			holder := open(t, path)
			for _, p := range files(path) {
				if err := os.Chmod(p, 0o666); err != nil {
					t.Fatal(err)
				}
			}
			return func() { holder.Close() }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "modes.db")
			done := tc.prepare(t, path)
			defer done()
			s := open(t, path)
			defer s.Close()
			for _, p := range files(path) {
				fi, err := os.Stat(p)
				if err != nil {
					t.Error(err)
					continue
				}
				if got := fi.Mode().Perm(); got != 0o600 {
					t.Errorf("%s has mode %#o, want 0600", filepath.Base(p), got)
				}
			}
		})
	}
}
