// Package keyfile keeps a server's secret keys in small files readable by
// their owner only: created on first use, refused when others can read them.
package keyfile

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// LoadOrCreate returns the size-byte key in the file at path, creating the
// file (mode 0600, its directory 0700) with a fresh random key if there is
// none; created says which. The file holds the key in base64 on one line,
// so it can be copied to the other replicas of a database as text.
//
// A key file that group or others may read is refused (chmod 600 fixes it),
// as is one holding anything but a key of the right size.
func LoadOrCreate(path string, size int) (key []byte, created bool, err error) {
	if path == "" {
		return nil, false, errors.New("keyfile: no path")
	}
	key, err = Load(path, size)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("keyfile: %w", err)
	}
	key = make([]byte, size)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("keyfile: %w", err)
	}
	// O_EXCL: of two processes starting at once, one writes and the other
	// reads what it wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		key, err = Load(path, size)
		return key, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("keyfile: %w", err)
	}
	line := base64.StdEncoding.EncodeToString(key) + "\n"
	_, werr := f.WriteString(line)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(path)
		return nil, false, fmt.Errorf("keyfile: writing %s: %w", path, err)
	}
	return key, true, nil
}

// Load reads the size-byte key in the file at path (see LoadOrCreate). A
// missing file gives an error matching fs.ErrNotExist.
func Load(path string, size int) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keyfile: %s can be read by other users (mode %04o); run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(key) != size {
		return nil, fmt.Errorf("keyfile: %s does not hold a %d-byte key in base64", path, size)
	}
	return key, nil
}
