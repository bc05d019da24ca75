package app

import (
	"sync"

	"sessionguard/api/dpop"
)

// SecretProofKey is the secret-store key under which this install keeps
// its proof key: the private half of a key pair made once per install
// (Ed25519, dpop.Key), which signs a DPoP proof on every request. A
// sign-in so made binds the new session to the key (api.Session.Bound):
// its tokens, copied elsewhere, are refused without it. It never leaves
// the secret store except into this process. One key serves every account
// and server of the install, as the install key does; "Clear app data"
// and a remote erase delete it, and the next sign-in makes a new one.
const SecretProofKey = "install:dpop"

// proofKeyMu serialises making the proof key across the cores of the
// process (Accounts), which share one secret store: two cores starting
// at once must not each make a key and store theirs over the other's.
var proofKeyMu sync.Mutex

// proofKey returns this install's proof key, making and storing it on
// first use. It lives in the secret store, so it survives restarts.
// Without a secret store, or when the store fails, the key lives in
// memory for this process only (the person has already been told that
// the keyring does not work, or is told by Start); a store that fails to
// read is never overwritten, since it may still hold the real key. A
// stored value that is not a key (damaged) is replaced. readErr is the
// store's failure to read, when the key had to be made in memory for it.
// The key is nil only if none could be made at all (no randomness).
func (a *App) proofKey() (k *dpop.Key, readErr error) {
	a.proofMu.Lock()
	defer a.proofMu.Unlock()
	if a.proof != nil {
		return a.proof, a.proofErr
	}
	s := a.cfg.Secrets
	if s == nil {
		a.proof, _ = dpop.NewKey()
		return a.proof, nil
	}
	proofKeyMu.Lock()
	defer proofKeyMu.Unlock()
	v, err := s.Get(SecretProofKey)
	if err == nil {
		if k, perr := dpop.ParseKey(v); perr == nil {
			a.proof, a.proofErr = k, nil
			return k, nil
		}
	}
	k, kerr := dpop.NewKey()
	if kerr != nil {
		return nil, nil
	}
	a.proof = k
	if err == nil || a.cfg.IsNotFound(err) {
		if v, merr := k.Marshal(); merr == nil {
			_ = s.Set(SecretProofKey, v) // failing: in memory only, as above
		}
		return k, nil
	}
	a.proofErr = err
	return k, err
}

// useProofKey hands this install's proof key to the client, so that the
// sign-in about to be sent (or the stored session about to be resumed)
// is bound to it. It returns the store's failure to read the key, if any
// (proofKey).
func (a *App) useProofKey() error {
	k, err := a.proofKey()
	a.api.SetProofKey(k)
	return err
}

// forgetProofKey drops the key held in memory and by the client, after
// the stored one was deleted ("Clear app data", a remote erase): the next
// sign-in makes a new one.
func (a *App) forgetProofKey() {
	a.proofMu.Lock()
	a.proof, a.proofErr = nil, nil
	a.proofMu.Unlock()
	a.api.SetProofKey(nil)
}

// ProofKeyThumbprint is the thumbprint (RFC 7638) of the key this
// install's sessions are bound to, as the server keeps it; empty before
// the key is made (the first sign-in makes it).
func (a *App) ProofKeyThumbprint() string {
	a.proofMu.Lock()
	defer a.proofMu.Unlock()
	if a.proof == nil {
		return ""
	}
	return a.proof.Thumbprint()
}
