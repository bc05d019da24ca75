package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// sessiond's token and identifier formats (server/tokens.go), repeated here
// because the server keeps them unexported. seed_test.go proves a token made
// here authenticates against the real server, so the two cannot drift apart
// unnoticed.
const (
	prefixAccess  = "sga_"
	prefixRefresh = "sgr_"
)

// newToken returns prefix + 256 random bits, base64url without padding.
func newToken(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// hashToken is the SHA-256 of the token, the only form the store keeps.
func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns prefix + 128 random bits in lower-case base32.
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + strings.ToLower(idEncoding.EncodeToString(b[:]))
}
