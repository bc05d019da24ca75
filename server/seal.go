package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SecretsKeySize is the size of Config.SecretsKey: an AES-256 key.
const SecretsKeySize = 32

// Sealed two-step secrets look like "sg1:<key id>:<base64url(nonce|ciphertext)>":
// AES-256-GCM under the secrets key, whose id (the first 8 hex digits of
// its SHA-256) tells a value sealed with another key apart from a damaged
// one. Anything without the prefix is a secret stored before sealing
// existed (SealStoredSecrets seals those).
const sealPrefix = "sg1:"

// ErrWrongSecretsKey means a stored secret was sealed with another key than
// the server's: replicas must share one key file, and a restored database
// needs the key it was written with.
var ErrWrongSecretsKey = errors.New("two-step secrets in the database were sealed with a different secrets key")

// sealer seals and opens two-step secrets.
type sealer struct {
	aead  cipher.AEAD
	keyID string
}

func newSealer(key []byte) *sealer {
	if key == nil {
		key = make([]byte, SecretsKeySize)
		_, _ = rand.Read(key)
	}
	if len(key) != SecretsKeySize {
		panic(fmt.Sprintf("server: SecretsKey must be %d bytes, not %d", SecretsKeySize, len(key)))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key is always accepted
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(key)
	return &sealer{aead: aead, keyID: hex.EncodeToString(sum[:4])}
}

// seal encrypts a secret for storage.
func (s *sealer) seal(secret string) string {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, []byte(secret), []byte(sealPrefix+s.keyID))
	return sealPrefix + s.keyID + ":" + base64.RawURLEncoding.EncodeToString(out)
}

// open decrypts a stored secret; a value stored before sealing existed is
// returned as it is. An empty value stays empty.
func (s *sealer) open(stored string) (string, error) {
	if stored == "" || !strings.HasPrefix(stored, sealPrefix) {
		return stored, nil
	}
	id, body, ok := strings.Cut(stored[len(sealPrefix):], ":")
	if !ok {
		return "", errors.New("a sealed two-step secret is malformed")
	}
	if id != s.keyID {
		return "", fmt.Errorf("%w (key id %s, ours %s)", ErrWrongSecretsKey, id, s.keyID)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", errors.New("a sealed two-step secret is malformed")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(sealPrefix+id))
	if err != nil {
		return "", errors.New("a sealed two-step secret does not open with the secrets key (damaged)")
	}
	return string(plain), nil
}

// sealed reports whether v was sealed (by any key).
func sealed(v string) bool { return strings.HasPrefix(v, sealPrefix) }

// SealStoredSecrets seals the two-step secrets stored in the clear before
// sealing existed, and checks that those already sealed open with this
// server's key: it returns an error wrapping ErrWrongSecretsKey otherwise,
// so a replica started with the wrong key file stops at once instead of
// failing every two-step sign-in. sessiond runs it at start; it returns how
// many secrets it sealed.
func (s *Server) SealStoredSecrets(ctx context.Context) (int, error) {
	return s.store.RewriteTOTPSecrets(ctx, func(v string) (string, bool, error) {
		if sealed(v) {
			_, err := s.sealer.open(v)
			return v, false, err
		}
		return s.sealer.seal(v), true, nil
	})
}
