package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
)

// FileStore is a SecretStore kept in one JSON file (secrets.json, mode 0600)
// in a private directory (mode 0700). It is for the app's sandboxed storage
// on phones, where the OS keeps other apps out; on a desktop it is not a
// secure store. Every change rewrites the file atomically (temporary file,
// fsync, rename), so a failed write leaves the previous contents intact.
type FileStore struct {
	dir  string
	path string

	mu sync.Mutex
	// hook, when set by tests, is called before each step of a write
	// ("create", "write", "sync", "rename") and can make it fail.
	hook func(step string) error
}

var _ SecretStore = (*FileStore)(nil)

const (
	fileStoreName    = "secrets.json"
	fileStoreVersion = 1
	fileStoreTemp    = ".secrets-*.tmp"
)

type fileStoreData struct {
	Version int               `json:"version"`
	Secrets map[string]string `json:"secrets"`
}

// NewFileStore opens (creating if needed) a FileStore in dir. It does not
// read the file yet; a corrupt file is reported by the first operation.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("platform: file store: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("platform: file store: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("platform: file store: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("platform: file store: %s is not a directory", dir)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("platform: file store: %w", err)
		}
	}
	return &FileStore{dir: dir, path: filepath.Join(dir, fileStoreName)}, nil
}

// Path is the file holding the secrets.
func (s *FileStore) Path() string { return s.path }

// Get implements SecretStore.
func (s *FileStore) Get(key string) (v string, err error) {
	err = s.with(key, func(m map[string]string) error {
		var ok bool
		if v, ok = m[key]; !ok {
			return fmt.Errorf("%w: %q", ErrNotFound, key)
		}
		return nil
	})
	return v, err
}

// Set implements SecretStore.
func (s *FileStore) Set(key, value string) error {
	return s.with(key, func(m map[string]string) error {
		m[key] = value
		return s.save(m)
	})
}

// Delete implements SecretStore.
func (s *FileStore) Delete(key string) error {
	return s.with(key, func(m map[string]string) error {
		if _, ok := m[key]; !ok {
			return nil
		}
		delete(m, key)
		return s.save(m)
	})
}

// with checks key, then runs fn on the stored secrets, holding the store's
// lock; fn saves what it changes.
func (s *FileStore) with(key string, fn func(m map[string]string) error) error {
	if err := validateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load()
	if err != nil {
		return err
	}
	return fn(m)
}

// DeleteAll implements SecretStore: it removes the file (even a corrupt one)
// and any temporary file a crashed write left behind.
func (s *FileStore) DeleteAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("platform: file store: %w", err))
	}
	temps, _ := filepath.Glob(filepath.Join(s.dir, fileStoreTemp))
	for _, t := range temps {
		if err := os.Remove(t); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("platform: file store: %w", err))
		}
	}
	syncDir(s.dir)
	return errors.Join(errs...)
}

// Keys implements SecretStore.
func (s *FileStore) Keys() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(m)), nil
}

// load reads the file; a missing file is an empty store.
func (s *FileStore) load() (map[string]string, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("platform: file store: %w", err)
	}
	var d fileStoreData
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: %s: trailing data after the JSON object", ErrCorrupt, s.path)
	}
	if d.Version != fileStoreVersion {
		return nil, fmt.Errorf("%w: %s: unsupported version %d", ErrCorrupt, s.path, d.Version)
	}
	if d.Secrets == nil {
		d.Secrets = map[string]string{}
	}
	return d.Secrets, nil
}

// save replaces the file atomically: write a temporary file in the same
// directory, fsync it, rename it over the old one, fsync the directory.
func (s *FileStore) save(m map[string]string) (err error) {
	b, err := json.Marshal(fileStoreData{Version: fileStoreVersion, Secrets: m})
	if err != nil {
		return fmt.Errorf("platform: file store: %w", err)
	}
	fail := func(step string, err error) error {
		return fmt.Errorf("platform: file store: %s: %w", step, err)
	}
	if err := s.step("create"); err != nil {
		return fail("create", err)
	}
	f, err := os.CreateTemp(s.dir, fileStoreTemp) // mode 0600
	if err != nil {
		return fail("create", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := s.step("write"); err != nil {
		return fail("write", err)
	}
	if _, err := f.Write(b); err != nil {
		return fail("write", err)
	}
	if err := s.step("sync"); err != nil {
		return fail("sync", err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync", err)
	}
	if err := f.Close(); err != nil {
		return fail("close", err)
	}
	if err := s.step("rename"); err != nil {
		return fail("rename", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fail("rename", err)
	}
	syncDir(s.dir)
	return nil
}

func (s *FileStore) step(name string) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(name)
}

// syncDir makes a rename or removal in dir durable where the OS allows it
// (not on Windows, where directories cannot be opened for fsync).
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
