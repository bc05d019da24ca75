package platform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// DataDir returns the per-user data directory for appID on a desktop,
// creating it with mode 0700: $XDG_DATA_HOME/appID (or
// ~/.local/share/appID) on Linux and other Unix systems,
// os.UserConfigDir()/appID on Windows and macOS. Phones use Fyne's storage
// root instead.
func DataDir(appID string) (string, error) {
	dir, err := dataDir(runtime.GOOS, appID, os.Getenv, os.UserHomeDir, os.UserConfigDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("platform: data dir: %w", err)
	}
	return dir, nil
}

func dataDir(goos, appID string, getenv func(string) string, home, config func() (string, error)) (string, error) {
	if appID == "" || appID == "." || appID == ".." || strings.ContainsAny(appID, `/\`) {
		return "", fmt.Errorf("platform: data dir: invalid app id %q", appID)
	}
	switch goos {
	case "windows", "darwin", "ios", "android", "plan9":
		base, err := config()
		if err != nil {
			return "", fmt.Errorf("platform: data dir: %w", err)
		}
		return filepath.Join(base, appID), nil
	}
	// XDG Base Directory: a relative XDG_DATA_HOME is invalid and ignored.
	if x := getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, appID), nil
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("platform: data dir: %w", err)
	}
	if h == "" {
		return "", errors.New("platform: data dir: no home directory")
	}
	return filepath.Join(h, ".local", "share", appID), nil
}
