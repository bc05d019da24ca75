package platform

import (
	"fmt"
	"path/filepath"
)

// OpenAppStorageSecretStore is the phones' secret store: a FileStore in
// dataDir/secrets, where dataDir is the app's sandboxed storage. On Android
// and iOS, OpenSecretStore returns exactly this. It is compiled on every
// platform so that the phone code path is tested on the host; a desktop
// must not use it (its storage is not private to the app).
func OpenAppStorageSecretStore(dataDir string) (SecretStore, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("%w: no app storage directory", ErrUnavailable)
	}
	s, err := NewFileStore(filepath.Join(dataDir, "secrets"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return s, nil
}
