//go:build !android && !ios && !js

package platform

import "fmt"

// OpenSecretStore returns the platform's secure store. On desktops that is
// the OS keyring for KeyringService, after ProbeKeyring found it working;
// otherwise it returns an error wrapping ErrUnavailable and no store. It never
// falls back to a plain file: the caller keeps tokens in memory (NewMemory)
// and disables "Remember me". dataDir is not used on desktops.
func OpenSecretStore(dataDir string, index Prefs) (SecretStore, error) {
	_ = dataDir
	if err := ProbeKeyring(KeyringService); err != nil {
		return nil, fmt.Errorf("no OS keyring: %w", err)
	}
	return NewKeyring(KeyringService, index), nil
}
