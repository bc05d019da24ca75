package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"sessionguard/server/store"
)

// Two-step verification: RFC 6238 TOTP with SHA-1, 6 digits and 30-second
// steps (what every authenticator app does by default), one step of clock
// skew either way, and ten single-use recovery codes.
const (
	totpIssuer     = "Sessionguard"
	totpPeriod     = 30 // seconds
	totpDigits     = otp.DigitsSix
	totpSkew       = 1 // steps either side of now
	totpSecretSize = 20

	recoveryCodeCount = 10
	// Recovery codes are 24 symbols of a 32-symbol alphabet (120 random
	// bits, above the 112 that OWASP ASVS 5.0 asks of lookup secrets kept
	// under a plain hash), shown as six groups of four:
	// "7kq2-m9xd-4hfr-…". Codes issued before had 12 symbols (60 bits);
	// they keep working until used or replaced, so nobody who wrote them
	// down is locked out.
	recoveryCodeLen   = 24
	legacyCodeLen     = 12
	recoveryGroup     = 4
	recoveryAlphabet  = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford's base32: no i, l, o, u
	maxSecondFactorIn = 64                                 // bytes of a typed code worth looking at
)

// newTOTPKey makes a fresh secret for username.
func newTOTPKey(username string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{
		Issuer: totpIssuer, AccountName: username, Period: totpPeriod,
		SecretSize: totpSecretSize, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
}

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpMatches returns the time steps within the skew of now for which code
// is secret's code, earliest first (almost always none or one).
func totpMatches(secret, code string, now time.Time) []int64 {
	if len(code) != totpDigits.Length() || strings.Trim(code, "0123456789") != "" {
		return nil
	}
	var out []int64
	cur := totpStep(now)
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		if step < 0 {
			continue
		}
		ok, err := hotp.ValidateCustom(code, uint64(step), secret, hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok {
			out = append(out, step)
		}
	}
	return out
}

// Second-factor outcomes of checkSecondFactor.
const (
	factorNone     = ""
	factorTOTP     = "totp"
	factorRecovery = "recovery"
)

// checkSecondFactor checks code, a TOTP code or a recovery code, for the
// account (two-step verification on) and spends it: a TOTP code's time
// step is recorded so the code can never be accepted again, and a
// recovery code is deleted. It returns which kind of code was accepted,
// or factorNone for a wrong, replayed or used-up code.
func (s *Server) checkSecondFactor(ctx context.Context, acct store.Account, code string, now time.Time) (string, error) {
	code = compactCode(code)
	secret, err := s.sealer.open(acct.TOTPSecret)
	if err != nil {
		return factorNone, storeErr(err)
	}
	if steps := totpMatches(secret, code, now); len(steps) > 0 {
		for _, step := range steps {
			used, err := s.store.UseTOTPStep(ctx, acct.ID, step)
			if err != nil {
				return factorNone, storeErr(err)
			}
			if used {
				return factorTOTP, nil
			}
		}
		return factorNone, nil // a replay
	}
	canon, ok := canonicalRecoveryCode(code)
	if !ok {
		return factorNone, nil
	}
	used, err := s.store.UseRecoveryCode(ctx, acct.ID, recoveryHash(acct.ID, canon))
	if err != nil {
		return factorNone, storeErr(err)
	}
	if used {
		return factorRecovery, nil
	}
	return factorNone, nil
}

// recoveryCodeUsedDetail is the detail of the audit event of a recovery
// code's use for purpose ("to sign in"), saying how many codes are left.
func (s *Server) recoveryCodeUsedDetail(ctx context.Context, accountID, purpose string) (string, error) {
	left, err := s.store.RecoveryCodesLeft(ctx, accountID)
	if err != nil {
		return "", storeErr(err)
	}
	return fmt.Sprintf("Recovery code used %s; %s left", purpose, plural(left, "code")), nil
}

// compactCode drops the spaces and dashes people type or paste inside
// codes ("123 456", "7kq2-m9xd-4hfr") and lower-cases the rest.
func compactCode(code string) string {
	if len(code) > maxSecondFactorIn {
		return ""
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
}

// canonicalRecoveryCode maps a compacted code onto the alphabet, reading
// the letters people confuse with digits as those digits (Crockford's
// rule), and reports whether it has the shape of a recovery code.
func canonicalRecoveryCode(code string) (string, bool) {
	if len(code) != recoveryCodeLen && len(code) != legacyCodeLen {
		return "", false
	}
	b := []byte(code)
	for i, c := range b {
		switch c {
		case 'o':
			c = '0'
		case 'i', 'l':
			c = '1'
		}
		if strings.IndexByte(recoveryAlphabet, c) < 0 {
			return "", false
		}
		b[i] = c
	}
	return string(b), true
}

// newRecoveryCodes returns recoveryCodeCount fresh codes, formatted for
// people, and the hashes to store.
func newRecoveryCodes(accountID string) (codes []string, hashes [][]byte) {
	for range recoveryCodeCount {
		var raw [recoveryCodeLen]byte
		_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails on supported platforms
		var canon, shown strings.Builder
		for i, v := range raw {
			c := recoveryAlphabet[int(v)%len(recoveryAlphabet)] // 256 is a multiple of 32: no bias
			canon.WriteByte(c)
			if i > 0 && i%recoveryGroup == 0 {
				shown.WriteByte('-')
			}
			shown.WriteByte(c)
		}
		codes = append(codes, shown.String())
		hashes = append(hashes, recoveryHash(accountID, canon.String()))
	}
	return codes, hashes
}

// recoveryHash is the only form in which a recovery code is stored:
// SHA-256 of the account id and the canonical code. A fast hash is enough
// for 120 random bits (ASVS 5.0 allows it from 112); the account id keeps
// one precomputation from covering every account.
func recoveryHash(accountID, canon string) []byte {
	h := sha256.Sum256([]byte("sessionguard recovery code\x00" + accountID + "\x00" + canon))
	return h[:]
}
