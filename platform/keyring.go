//go:build !js

package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/zalando/go-keyring"
)

// KeyringService is the service name under which the app's items live in
// the OS keyring (the "service" attribute on the Secret Service).
const KeyringService = "io.sessionguard.app"

const (
	// probeTimeout bounds ProbeKeyring: a Secret Service that waits for an
	// unlock prompt nobody answers must not stall start-up.
	probeTimeout = 3 * time.Second
	// opTimeout bounds every other keyring call. It is long enough for a
	// person to answer an unlock prompt, short enough not to hang forever.
	opTimeout = 60 * time.Second
)

// backend is the go-keyring API; tests substitute fakes.
type backend interface {
	Set(service, user, password string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
	DeleteAll(service string) error
}

// osKeyring calls go-keyring's OS provider.
type osKeyring struct{}

func (osKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }
func (osKeyring) DeleteAll(service string) error           { return keyring.DeleteAll(service) }

// Keyring is a SecretStore in the OS keyring (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows) via go-keyring. Each key
// is one item of the service; the keys are also listed in a preference
// (PrefSecretIndex) so DeleteAll can remove every item even where go-keyring
// cannot enumerate a service.
type Keyring struct {
	service string
	index   Prefs
	be      backend
	timeout time.Duration

	mu sync.Mutex // serialises index read-modify-write
}

var _ SecretStore = (*Keyring)(nil)

// NewKeyring returns a Keyring for service that keeps its index in index.
// It does not touch the keyring; call ProbeKeyring first to learn whether
// one works.
func NewKeyring(service string, index Prefs) *Keyring {
	return newKeyring(service, index, osKeyring{}, opTimeout)
}

func newKeyring(service string, index Prefs, be backend, timeout time.Duration) *Keyring {
	return &Keyring{service: service, index: index, be: be, timeout: timeout}
}

// Get implements SecretStore.
func (k *Keyring) Get(key string) (string, error) {
	if err := validateKey(key); err != nil {
		return "", err
	}
	v, err := call(k.timeout, func() (string, error) { return k.be.Get(k.service, key) })
	if err != nil {
		return "", keyringErr("get", key, err)
	}
	return v, nil
}

// Set implements SecretStore. The key joins the index only after the keyring
// accepted the value.
func (k *Keyring) Set(key, value string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// Refuse before writing when the index cannot be updated afterwards:
	// an item the index does not know about is one a reset could miss.
	keys, err := k.readIndex()
	if err != nil {
		return err
	}
	if _, err := call(k.timeout, func() (struct{}, error) { return struct{}{}, k.be.Set(k.service, key, value) }); err != nil {
		return keyringErr("set", key, err)
	}
	if !slices.Contains(keys, key) {
		k.writeIndex(append(keys, key))
	}
	return nil
}

// Delete implements SecretStore. The key leaves the index only after the
// item is gone from the keyring (or was already absent).
func (k *Keyring) Delete(key string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.deleteItem(key); err != nil {
		return err
	}
	keys, err := k.readIndex()
	if err != nil {
		return err
	}
	if i := slices.Index(keys, key); i >= 0 {
		k.writeIndex(slices.Delete(keys, i, i+1))
	}
	return nil
}

func (k *Keyring) deleteItem(key string) error {
	_, err := call(k.timeout, func() (struct{}, error) { return struct{}{}, k.be.Delete(k.service, key) })
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return keyringErr("delete", key, err)
	}
	return nil
}

// DeleteAll implements SecretStore: it deletes every item named in the index
// (items someone else already removed count as deleted), then asks go-keyring
// to sweep the whole service for items the index missed (for example one
// written just before a crash). The sweep is best effort; the index is
// removed once every indexed item is gone. A corrupt index does not block a
// reset: then the sweep alone must succeed.
func (k *Keyring) DeleteAll() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	keys, indexErr := k.readIndex()
	var errs []error
	var left []string
	for _, key := range keys {
		if err := k.deleteItem(key); err != nil {
			errs = append(errs, err)
			left = append(left, key)
		}
	}
	_, sweepErr := call(k.timeout, func() (struct{}, error) { return struct{}{}, k.be.DeleteAll(k.service) })
	if sweepErr != nil && errors.Is(sweepErr, keyring.ErrNotFound) {
		sweepErr = nil
	}
	if indexErr != nil {
		if sweepErr != nil {
			return errors.Join(indexErr, keyringErr("delete all", k.service, sweepErr))
		}
		k.index.RemoveValue(PrefSecretIndex)
		return nil
	}
	if len(left) > 0 {
		k.writeIndex(left)
		return errors.Join(errs...)
	}
	k.index.RemoveValue(PrefSecretIndex)
	return nil
}

// Keys implements SecretStore: the keys in the index.
func (k *Keyring) Keys() ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.readIndex()
}

func (k *Keyring) readIndex() ([]string, error) {
	raw := k.index.String(PrefSecretIndex)
	if raw == "" {
		return nil, nil
	}
	var keys []string
	if err := json.Unmarshal([]byte(raw), &keys); err != nil {
		return nil, fmt.Errorf("%w: keyring index (preference %q): %v", ErrCorrupt, PrefSecretIndex, err)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

func (k *Keyring) writeIndex(keys []string) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) == 0 {
		k.index.RemoveValue(PrefSecretIndex)
		return
	}
	b, _ := json.Marshal(keys) // a []string always marshals
	k.index.SetString(PrefSecretIndex, string(b))
}

// keyringErr maps a go-keyring error: ErrNotFound stays ErrNotFound, an
// over-long value is the caller's problem, everything else means no
// working keyring (see STACK.md: its "unavailable" errors take many forms).
// Both the sentinel and the cause are wrapped, and the cause text is kept.
func keyringErr(op, key string, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("%w: keyring %s %q", ErrNotFound, op, key)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("platform: keyring %s %q: %w", op, key, err)
	default:
		return fmt.Errorf("%w: keyring %s %q: %w", ErrUnavailable, op, key, err)
	}
}

// errTimeout is the cause reported when a keyring call does not return in time.
var errTimeout = errors.New("no answer from the keyring (timed out)")

// call runs f in a goroutine and gives up after timeout. A keyring call
// blocked on D-Bus cannot be cancelled; the goroutine is left to finish on
// its own and its result is discarded.
func call[T any](timeout time.Duration, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-t.C:
		var zero T
		return zero, fmt.Errorf("%w after %v", errTimeout, timeout)
	}
}

// ProbeKeyring reports whether a working OS keyring is reachable for
// service: it writes, reads back and deletes a uniquely named probe item,
// giving up after a few seconds. It returns nil on success, else an error
// wrapping ErrUnavailable that keeps the cause's text.
func ProbeKeyring(service string) error {
	return probeKeyring(service, osKeyring{}, probeTimeout)
}

func probeKeyring(service string, be backend, timeout time.Duration) error {
	if service == "" {
		return fmt.Errorf("%w: empty keyring service name", ErrUnavailable)
	}
	_, err := call(timeout, func() (struct{}, error) {
		key := "sessionguard-probe-" + uuid.NewString()
		value := uuid.NewString()
		if err := be.Set(service, key, value); err != nil {
			return struct{}{}, fmt.Errorf("set: %w", err)
		}
		got, err := be.Get(service, key)
		// Always try to remove the probe, whatever Get said.
		delErr := be.Delete(service, key)
		switch {
		case err != nil:
			// Even ErrNotFound here means the store does not keep what it is given.
			return struct{}{}, fmt.Errorf("get: %w", err)
		case got != value:
			return struct{}{}, errors.New("get: the keyring returned a different value than was stored")
		case delErr != nil:
			return struct{}{}, fmt.Errorf("delete: %w", delErr)
		}
		return struct{}{}, nil
	})
	if err != nil {
		return fmt.Errorf("%w: keyring probe for %q: %w", ErrUnavailable, service, err)
	}
	return nil
}
