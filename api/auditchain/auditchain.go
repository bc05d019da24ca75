// Package auditchain is the hash rule of the security log and the check of
// its signed head: what the server computes when it writes an event, and
// what the app and `sessiond audit verify` recompute to prove nothing was
// changed after it was written.
package auditchain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"sessionguard/api"
)

// Normalize is e as a store keeps it and the wire carries it: its time in
// UTC, to the microsecond. Hashes are computed over normalized events.
func Normalize(e api.AuditEvent) api.AuditEvent {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	return e
}

// Canonical appends the RFC 8785 canonical JSON of e without its hash to
// b: the members of api.AuditEvent's JSON in code-unit order, strings
// escaped as RFC 8785 says, e.At as encoding/json writes it (callers
// normalize it first). Empty target fields are left out, as the wire leaves
// them out.
func Canonical(b []byte, e api.AuditEvent) []byte {
	// The member names are ASCII, so byte order is RFC 8785's UTF-16
	// code-unit order.
	b = append(b, `{"at":`...)
	b = appendString(b, e.At.Format(time.RFC3339Nano))
	b = append(b, `,"detail":`...)
	b = appendString(b, e.Detail)
	b = append(b, `,"device_name":`...)
	b = appendString(b, e.DeviceName)
	b = append(b, `,"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"ip":`...)
	b = appendString(b, e.IP)
	b = append(b, `,"location":{"city":`...)
	b = appendString(b, e.Location.City)
	b = append(b, `,"country":`...)
	b = appendString(b, e.Location.Country)
	b = append(b, `,"country_code":`...)
	b = appendString(b, e.Location.CountryCode)
	b = append(b, `,"region":`...)
	b = appendString(b, e.Location.Region)
	b = append(b, `},"prev_hash":`...)
	b = appendString(b, e.PrevHash)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"session_id":`...)
	b = appendString(b, e.SessionID)
	if e.TargetDeviceName != "" {
		b = append(b, `,"target_device_name":`...)
		b = appendString(b, e.TargetDeviceName)
	}
	if e.TargetSessionID != "" {
		b = append(b, `,"target_session_id":`...)
		b = appendString(b, e.TargetSessionID)
	}
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	return append(b, '}')
}

// Hash is the hash of e by the rule: hex SHA-256 of e.PrevHash, "\n" and
// Canonical(e). e.Hash is ignored.
func Hash(e api.AuditEvent) string {
	var buf [512]byte
	b := append(buf[:0], e.PrevHash...)
	b = append(b, '\n')
	b = Canonical(b, e)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Link gives e, the event after prev in its account's log (nil: the
// first), its Seq, PrevHash and Hash, after normalizing it.
func Link(prev *api.AuditEvent, e api.AuditEvent) api.AuditEvent {
	e = Normalize(e)
	e.Seq, e.PrevHash = 1, api.GenesisHash
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = Hash(e)
	return e
}

// Chain links events after the head (seq, hash) of their account's log:
// the first gets seq+1 and prev_hash hash. It changes events in place.
func Chain(seq int64, hash string, events []api.AuditEvent) {
	prev := api.AuditEvent{Seq: seq, Hash: hash}
	for i := range events {
		events[i] = Link(&prev, events[i])
		prev = events[i]
	}
}

// CanonicalHead appends the RFC 8785 canonical JSON of h to b.
func CanonicalHead(b []byte, h api.AuditHead) []byte {
	b = append(b, `{"account_id":`...)
	b = appendString(b, h.AccountID)
	b = append(b, `,"at":`...)
	b = appendString(b, h.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano))
	b = append(b, `,"hash":`...)
	b = appendString(b, h.Hash)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, h.Seq, 10)
	return append(b, '}')
}

// HeadMessage is what a server signs for h: api.HeadSignContext, "\n"
// and CanonicalHead(h).
func HeadMessage(h api.AuditHead) []byte {
	b := append([]byte(api.HeadSignContext), '\n')
	return CanonicalHead(b, h)
}

// SignHead signs h with key. h.At is normalized first, so the signed head
// is the one the wire carries.
func SignHead(key ed25519.PrivateKey, h api.AuditHead) api.SignedAuditHead {
	h.At = h.At.UTC().Truncate(time.Microsecond)
	sig := ed25519.Sign(key, HeadMessage(h))
	return api.SignedAuditHead{Head: h, Signature: base64.StdEncoding.EncodeToString(sig)}
}

// ErrBadSignature is returned for a head whose signature is not the
// server key's.
var ErrBadSignature = errors.New("the head is not signed by this server's key")

// VerifyHead checks sh's signature against key.
func VerifyHead(key ed25519.PublicKey, sh api.SignedAuditHead) error {
	sig, err := base64.StdEncoding.DecodeString(sh.Signature)
	if err != nil || len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, HeadMessage(sh.Head), sig) {
		return ErrBadSignature
	}
	return nil
}

// ParseServerKey decodes the key of GET /v1/server-key.
func ParseServerKey(k api.ServerKey) (ed25519.PublicKey, error) {
	if k.Alg != api.ServerKeyAlg {
		return nil, fmt.Errorf("server key: algorithm %q, want %s", k.Alg, api.ServerKeyAlg)
	}
	b, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("server key: not a base64 Ed25519 public key")
	}
	return ed25519.PublicKey(b), nil
}

// EncodeServerKey is key as GET /v1/server-key states it.
func EncodeServerKey(key ed25519.PublicKey) api.ServerKey {
	return api.ServerKey{Alg: api.ServerKeyAlg, PublicKey: base64.StdEncoding.EncodeToString(key)}
}

// appendString appends s as an RFC 8785 JSON string: '"' and '\' escaped,
// control characters as \b \t \n \f \r or \u00xx, everything else as
// UTF-8. An invalid byte becomes U+FFFD, as encoding/json writes it.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}
