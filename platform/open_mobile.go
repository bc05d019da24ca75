//go:build android || ios

package platform

import (
	"fmt"
	"path/filepath"
)

// OpenSecretStore returns the platform's secure store. On phones go-keyring
// cannot work (its back ends are picked by GOOS: D-Bus for android, the
// macOS `security` tool for ios), so it is a FileStore in
// dataDir/secrets, inside the app's sandboxed storage (pass Fyne's storage
// root). index is not used: the file is its own index.
func OpenSecretStore(dataDir string, index Prefs) (SecretStore, error) {
	_ = index
	if dataDir == "" {
		return nil, fmt.Errorf("%w: no app storage directory", ErrUnavailable)
	}
	s, err := NewFileStore(filepath.Join(dataDir, "secrets"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return s, nil
}
