package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
)

// Token prefixes make a leaked token recognisable to secret scanners.
const (
	prefixAccess     = "sga_"
	prefixRefresh    = "sgr_"
	prefixRemembered = "sgm_"
)

// newToken returns prefix + 256 random bits, URL-safe.
func newToken(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// hashToken is the only form in which a token is stored.
func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns a public identifier: prefix + 128 random bits.
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + lower(idEncoding.EncodeToString(b[:]))
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
