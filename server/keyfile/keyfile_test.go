package keyfile_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sessionguard/server/keyfile"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secrets.key")
	k1, created, err := keyfile.LoadOrCreate(path, 32)
	if err != nil || !created || len(k1) != 32 {
		t.Fatalf("first call: key %d bytes, created %v, err %v", len(k1), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %04o, want 0700", di.Mode().Perm())
	}
	k2, created, err := keyfile.LoadOrCreate(path, 32)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second call: created %v, err %v, same key %v", created, err, bytes.Equal(k1, k2))
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n" // 32 bytes
	cases := []struct {
		name, path, want string
	}{
		{"readable by others", write("open.key", good, 0o644), "chmod 600"},
		{"not base64", write("junk.key", "not a key\n", 0o600), "does not hold"},
		{"wrong size", write("short.key", "c2hvcnQ=\n", 0o600), "does not hold"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := keyfile.LoadOrCreate(tc.path, 32)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
	if _, err := keyfile.Load(filepath.Join(dir, "missing.key"), 32); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	if k, err := keyfile.Load(write("good.key", good, 0o600), 32); err != nil || string(k) != "0123456789abcdef0123456789abcdef" {
		t.Errorf("good file: %q, %v", k, err)
	}
}
