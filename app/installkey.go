package app

import (
	"crypto/rand"
	"encoding/base64"

	"sessionguard/api"
)

// SecretInstallKey is the secret-store key under which this install keeps
// its install key: a random secret made once per install and sent with
// every sign-in request (install_key). The server remembers which installs
// signed in to an account before (they are not locked out by failed
// sign-ins from elsewhere) and binds saved logins to the install that
// saved them. It is never shown, and unlike the device id, which every
// session of the account can read, it never leaves this install except to
// sign in. "Clear app data" deletes it: the install starts over as a new one.
const SecretInstallKey = "install:key"

// installKeyBytes is the install key's randomness: 256 bits, 43 characters
// in base64url.
const installKeyBytes = 32

// newInstallKey makes a fresh install key.
func newInstallKey() string {
	b := make([]byte, installKeyBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics rather)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validInstallKey reports whether k is a key the server accepts: 32–128
// printable ASCII characters without spaces. A stored value that is not
// (damaged, or written by something else) is replaced.
func validInstallKey(k string) bool {
	if len(k) < api.InstallKeyMinLen || len(k) > api.InstallKeyMaxLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// installKey returns this install's key, making and storing it on first
// use. It lives in the secret store, so it survives restarts. Without a
// secret store, or when the store fails, the key lives in memory for this
// process only (the person has already been told that the keyring does not
// work); a store that fails to read is never overwritten, since it may
// still hold the real key.
func (a *App) installKey() string {
	a.keyMu.Lock()
	defer a.keyMu.Unlock()
	if a.instKey != "" {
		return a.instKey
	}
	s := a.cfg.Secrets
	if s == nil {
		a.instKey = newInstallKey()
		return a.instKey
	}
	v, err := s.Get(SecretInstallKey)
	switch {
	case err == nil && validInstallKey(v):
		a.instKey = v
	case err == nil || a.cfg.IsNotFound(err):
		a.instKey = newInstallKey()
		_ = s.Set(SecretInstallKey, a.instKey) // failing: in memory only, as above
	default:
		a.instKey = newInstallKey()
	}
	return a.instKey
}

// signInKey readies a sign-in request: the install's proof key goes to
// the client (useProofKey), so that the new session is bound to it, and
// the install key is returned for the request (installKey). Every
// sign-in path calls it just before sending.
func (a *App) signInKey() string {
	_ = a.useProofKey() // unreadable: a key in memory, as the install key
	return a.installKey()
}

// forgetInstallKey drops the key held in memory, after "clear app data"
// deleted the stored one: the next sign-in makes a new one.
func (a *App) forgetInstallKey() {
	a.keyMu.Lock()
	a.instKey = ""
	a.keyMu.Unlock()
}
