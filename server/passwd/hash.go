// Package passwd hashes passwords with argon2id into PHC strings and checks
// new passwords against sessiond's password policy.
package passwd

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters and output sizes.
//
// Hash refuses, and Verify treats as malformed, values outside these bounds:
// Memory 8*Parallelism KiB to 1 GiB, Iterations 1 to 64, Parallelism at least
// 1, SaltLen 8 to 64 bytes, KeyLen 16 to 64 bytes. The upper bounds keep a
// corrupt or hostile stored hash from costing unbounded memory or time.
type Params struct {
	Memory      uint32 // memory cost in KiB
	Iterations  uint32 // time cost (passes over memory)
	Parallelism uint8  // lanes
	SaltLen     uint32 // salt length in bytes
	KeyLen      uint32 // derived key length in bytes
}

// OWASP is the OWASP Password Storage Cheat Sheet recommendation for
// argon2id: 19 MiB of memory, 2 iterations, 1 lane.
var OWASP = Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Fast is deliberately cheap (64 KiB, 1 iteration). It is for tests only:
// never use it to store real passwords.
var Fast = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

const (
	maxMemory     = 1 << 20 // KiB, 1 GiB
	maxIterations = 64
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 64
)

// ErrMalformedHash matches, with errors.Is, every *MalformedHashError.
var ErrMalformedHash = errors.New("passwd: malformed hash")

// MalformedHashError reports a stored hash that is not an argon2id PHC string
// this package can verify. It never contains the hash itself.
type MalformedHashError struct {
	Reason string // what is wrong, e.g. "unsupported algorithm"
}

// Error returns "passwd: malformed hash: " and the Reason.
func (e *MalformedHashError) Error() string { return "passwd: malformed hash: " + e.Reason }

// Is reports whether target is ErrMalformedHash.
func (e *MalformedHashError) Is(target error) bool { return target == ErrMalformedHash }

func malformed(reason string) error { return &MalformedHashError{Reason: reason} }

// Hasher hashes and verifies passwords. The zero Hasher uses OWASP.
type Hasher struct {
	Params Params
}

func (h Hasher) params() Params {
	if h.Params == (Params{}) {
		return OWASP
	}
	return h.Params
}

// Hash returns the PHC string of password under h's params with a fresh
// random salt, e.g. "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>" (raw
// standard base64). It fails only for out-of-range params or when the system
// random source fails.
func (h Hasher) Hash(password string) (string, error) {
	p := h.params()
	if reason := p.check(); reason != "" {
		return "", fmt.Errorf("passwd: invalid params: %s", reason)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passwd: reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	return encode(p, salt, key), nil
}

// Verify reports whether password matches encoded, a PHC string made by Hash
// under any params within bounds: the params come from encoded, not from h.
// A wrong password gives (false, nil); a hash that cannot be parsed gives
// (false, *MalformedHashError). The comparison is constant-time.
func (h Hasher) Verify(password, encoded string) (ok bool, err error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made under params other than h's
// (or cannot be parsed), so that after a successful Verify the caller should
// store a fresh Hash of the password.
func (h Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != h.params()
}

// Dummy runs a Verify of password against a fixed hash made under h's params
// and discards the result. Call it when the account does not exist, so that
// answering an unknown username costs the same time as a wrong password.
func (h Hasher) Dummy(password string) {
	_, _ = h.Verify(password, h.dummyHash())
}

// dummyHash is a well-formed PHC string under h's params that no password
// matches in practice: a fixed salt and an all-zero key.
func (h Hasher) dummyHash() string {
	p := h.params()
	salt := make([]byte, p.SaltLen)
	for i := range salt {
		salt[i] = byte(i*37 + 11)
	}
	return encode(p, salt, make([]byte, p.KeyLen))
}

// check returns why p is out of bounds, or "".
func (p Params) check() string {
	switch {
	case p.Parallelism < 1:
		return "parallelism must be at least 1"
	case p.Memory < 8*uint32(p.Parallelism):
		return "memory must be at least 8 KiB per lane"
	case p.Memory > maxMemory:
		return "memory over 1 GiB"
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return "iterations must be 1 to 64"
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return "salt length must be 8 to 64 bytes"
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return "key length must be 16 to 64 bytes"
	}
	return ""
}

var b64 = base64.RawStdEncoding.Strict()

const prefix = "$argon2id$v=19$"

func encodeParams(p Params) string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Iterations, p.Parallelism)
}

func encode(p Params, salt, key []byte) string {
	return prefix + encodeParams(p) + "$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
}

// decode parses a PHC argon2id string strictly: version 19, params exactly
// "m=..,t=..,p=.." in canonical decimal, unpadded canonical base64, and
// every value within bounds. Anything else is a *MalformedHashError.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	fields := strings.Split(encoded, "$")
	// The base64 decoder skips CR and LF even in strict mode; refuse them
	// here so that every accepted string is in canonical form.
	if len(fields) != 6 || fields[0] != "" || strings.ContainsAny(encoded, "\r\n") {
		return p, nil, nil, malformed("not a PHC string")
	}
	if fields[1] != "argon2id" {
		return p, nil, nil, malformed("unsupported algorithm")
	}
	if fields[2] != "v=19" {
		return p, nil, nil, malformed("unsupported version")
	}
	m, t, par, ok := parseParams(fields[3])
	if !ok {
		return p, nil, nil, malformed("bad parameters")
	}
	if par > 255 {
		return p, nil, nil, malformed("parameters out of range")
	}
	p = Params{Memory: m, Iterations: t, Parallelism: uint8(par)}
	if salt, err = b64.DecodeString(fields[4]); err != nil {
		return Params{}, nil, nil, malformed("bad salt encoding")
	}
	if key, err = b64.DecodeString(fields[5]); err != nil {
		return Params{}, nil, nil, malformed("bad key encoding")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if p.check() != "" {
		return Params{}, nil, nil, malformed("parameters out of range")
	}
	return p, salt, key, nil
}

// parseParams parses "m=<u32>,t=<u32>,p=<u32>" in that order, in canonical
// decimal (no sign, no leading zeros).
func parseParams(s string) (m, t, p uint32, ok bool) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var vals [3]uint32
	for i, name := range []string{"m=", "t=", "p="} {
		num, found := strings.CutPrefix(parts[i], name)
		if !found {
			return 0, 0, 0, false
		}
		v, err := strconv.ParseUint(num, 10, 32)
		if err != nil || strconv.FormatUint(v, 10) != num {
			return 0, 0, 0, false
		}
		vals[i] = uint32(v)
	}
	return vals[0], vals[1], vals[2], true
}
