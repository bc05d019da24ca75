//go:build js

package platform

// OpenSecretStore returns the platform's secure store. In a browser that
// is memory: Sessionguard keeps no token in the browser's storage (local
// storage is readable by anything that runs in the page's origin and
// outlives the tab), so closing the tab forgets the sign-in.
func OpenSecretStore(dataDir string, index Prefs) (SecretStore, error) {
	_, _ = dataDir, index
	return NewMemory(), nil
}
