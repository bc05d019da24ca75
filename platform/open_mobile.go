//go:build android || ios

package platform

// OpenSecretStore returns the platform's secure store. On phones go-keyring
// cannot work (its back ends are picked by GOOS: D-Bus for android, the
// macOS `security` tool for ios), so it is a FileStore in
// dataDir/secrets, inside the app's sandboxed storage (pass Fyne's storage
// root). index is not used: the file is its own index. The work is done by
// OpenAppStorageSecretStore, which has no build tag so host tests cover it.
func OpenSecretStore(dataDir string, index Prefs) (SecretStore, error) {
	_ = index
	return OpenAppStorageSecretStore(dataDir)
}
