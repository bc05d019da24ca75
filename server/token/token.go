// Package token makes sessiond's opaque credentials and public
// identifiers, and the hash that is the only form a credential is stored
// in. The server uses it for every token it hands out; load tools that
// seed a database directly use it too, so that what they seed is what the
// server would have made.
package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// Prefixes make a leaked token recognisable to secret scanners.
const (
	PrefixAccess     = "sga_" // access token
	PrefixRefresh    = "sgr_" // refresh token
	PrefixRemembered = "sgm_" // remembered-login credential
	PrefixMFA        = "sgf_" // a sign-in waiting for its second factor
	PrefixClosure    = "sgc_" // an ended session's receipt (closure) token
	PrefixApproval   = "sgp_" // a sign-in waiting for a live device's approval
	PrefixLink       = "sgl_" // a device waiting for its link code's approval
)

// New returns prefix + 256 random bits, base64url without padding.
func New(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Derive returns prefix + the 256-bit HMAC-SHA256 of id under key,
// base64url without padding: a token as unguessable as New's for whoever
// does not hold key (at least 32 random bytes), which the holder of key
// can make again for id. The server mints one revocation's closure tokens
// this way, one per ended session, with a key made for that revocation
// and then dropped.
func Derive(prefix string, key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return prefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Hash is the SHA-256 of tok, the only form in which a token is stored.
func Hash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns a public identifier: prefix + 128 random bits in
// lower-case base32.
func NewID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + strings.ToLower(idEncoding.EncodeToString(b[:]))
}
