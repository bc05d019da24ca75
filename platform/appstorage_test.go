package platform

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// The phones' secret store (what OpenSecretStore returns on Android and
// iOS), exercised on the host. TestSecretStoreContract runs the shared
// contract against it as "AppStorage(phones)".

func TestAppStorageSecretStoreLayout(t *testing.T) {
	dataDir := t.TempDir() // Fyne's storage root on a phone
	s, err := OpenAppStorageSecretStore(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	fs, ok := s.(*FileStore)
	if !ok {
		t.Fatalf("got %T, want *FileStore", s)
	}
	if want := filepath.Join(dataDir, "secrets", "secrets.json"); fs.Path() != want {
		t.Fatalf("secrets at %s, want %s", fs.Path(), want)
	}
	mustSet(t, s, "refresh:acc_1", "rt_1")
	if runtime.GOOS != "windows" {
		for path, want := range map[string]os.FileMode{filepath.Join(dataDir, "secrets"): 0o700, fs.Path(): 0o600} {
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != want {
				t.Errorf("%s mode = %v, want %v", path, got, want)
			}
		}
	}
}

// A phone app is stopped and started again: the tokens are still there;
// "Clear app data" (DeleteAll) leaves nothing behind for the next start.
func TestAppStorageSecretStoreSurvivesRestart(t *testing.T) {
	dataDir := t.TempDir()
	s1, err := OpenAppStorageSecretStore(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, s1, "refresh:acc_1", "rt_1")
	mustSet(t, s1, "remembered:acc_1", "rl_1")

	s2, err := OpenAppStorageSecretStore(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s2.Get("refresh:acc_1"); err != nil || v != "rt_1" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
	if keys, err := s2.Keys(); err != nil || len(keys) != 2 {
		t.Fatalf("after restart keys = %v, %v", keys, err)
	}
	if err := s2.DeleteAll(); err != nil {
		t.Fatal(err)
	}
	s3, err := OpenAppStorageSecretStore(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3.Get("refresh:acc_1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after DeleteAll and restart: %v, want ErrNotFound", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dataDir, "secrets")); len(left) != 0 {
		t.Errorf("DeleteAll left %v", left)
	}
}

// Without usable storage the store is unavailable (the app then keeps
// tokens in memory and says so), never a panic or a store in a wrong place.
func TestAppStorageSecretStoreUnavailable(t *testing.T) {
	if _, err := OpenAppStorageSecretStore(""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("no storage dir: %v, want ErrUnavailable", err)
	}
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := OpenAppStorageSecretStore(file); !errors.Is(err, ErrUnavailable) {
		t.Errorf("storage root is a file: %v, %v; want ErrUnavailable", s, err)
	}
	// secrets is a file where the store's directory should be.
	dataDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dataDir, "secrets"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := OpenAppStorageSecretStore(dataDir); !errors.Is(err, ErrUnavailable) {
		t.Errorf("secrets is a file: %v, %v; want ErrUnavailable", s, err)
	}
}

// A corrupt secrets file is reported as corrupt (not as missing), and
// "Clear app data" still resets it.
func TestAppStorageSecretStoreCorrupt(t *testing.T) {
	dataDir := t.TempDir()
	s, err := OpenAppStorageSecretStore(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "secrets", "secrets.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("refresh:acc_1"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt file: %v, want ErrCorrupt", err)
	}
	if err := s.DeleteAll(); err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, "refresh:acc_1", "rt_2")
}
