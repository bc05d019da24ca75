package platform

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
)

// SecretStore keeps small secrets (refresh tokens, remembered-login
// credentials) under string keys. Implementations are safe for concurrent use.
type SecretStore interface {
	// Get returns the value stored under key, or an error wrapping
	// ErrNotFound when there is none.
	Get(key string) (string, error)
	// Set stores value under key, replacing any previous value.
	Set(key, value string) error
	// Delete removes key. A key that is absent is not an error.
	Delete(key string) error
	// DeleteAll removes every item this store wrote, and its index.
	DeleteAll() error
	// Keys lists the keys currently stored, sorted.
	Keys() ([]string, error)
}

var (
	// ErrNotFound is returned by SecretStore.Get when the key holds no value.
	ErrNotFound = errors.New("platform: secret not found")
	// ErrUnavailable is wrapped by every error that comes from failing to
	// reach a secure store (no Secret Service, locked keychain, timeout…).
	ErrUnavailable = errors.New("platform: secure store unavailable")
	// ErrInvalidKey is returned for keys that are empty, longer than
	// MaxKeyLen bytes, not UTF-8 or contain control characters.
	ErrInvalidKey = errors.New("platform: invalid secret key")
	// ErrCorrupt is wrapped when stored data (the secrets file or the keyring
	// index) cannot be decoded. DeleteAll still works and resets it.
	ErrCorrupt = errors.New("platform: stored data is corrupt")
)

// MaxKeyLen is the longest secret key, in bytes, that a SecretStore accepts.
const MaxKeyLen = 256

// validateKey enforces the key rules shared by every SecretStore, so a key
// that works with one store works with all of them.
func validateKey(key string) error {
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidKey, key)
		}
	}
	return nil
}

// PrefSecretIndex is the preference key under which a Keyring keeps the JSON
// array of the keys it has written, so that DeleteAll can find every item.
const PrefSecretIndex = "secrets.keyring_index"

// Prefs is the small part of fyne.Preferences the package needs; a
// fyne.Preferences value satisfies it.
type Prefs interface {
	String(key string) string
	SetString(key, value string)
	RemoveValue(key string)
}

// MemoryPrefs is an in-memory Prefs for tests and tools. It is safe for
// concurrent use.
type MemoryPrefs struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryPrefs returns an empty MemoryPrefs.
func NewMemoryPrefs() *MemoryPrefs { return &MemoryPrefs{m: map[string]string{}} }

// String returns the value of key, or "" when it is unset.
func (p *MemoryPrefs) String(key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[key]
}

// SetString sets key to value.
func (p *MemoryPrefs) SetString(key, value string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[key] = value
}

// RemoveValue unsets key.
func (p *MemoryPrefs) RemoveValue(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, key)
}

// Keys lists the keys that are set, sorted.
func (p *MemoryPrefs) Keys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.m))
}

// Memory is a SecretStore that lives only as long as the process: for
// tokens when "remember me" is off and when no secure store is available.
type Memory struct {
	mu sync.Mutex
	m  map[string]string
}

var _ SecretStore = (*Memory)(nil)

// NewMemory returns an empty in-memory SecretStore.
func NewMemory() *Memory { return &Memory{m: map[string]string{}} }

// Get implements SecretStore.
func (s *Memory) Get(key string) (string, error) {
	if err := validateKey(key); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return v, nil
}

// Set implements SecretStore.
func (s *Memory) Set(key, value string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

// Delete implements SecretStore.
func (s *Memory) Delete(key string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// DeleteAll implements SecretStore.
func (s *Memory) DeleteAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.m)
	return nil
}

// Keys implements SecretStore.
func (s *Memory) Keys() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.m)), nil
}
