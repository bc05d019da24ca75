package token

import (
	"bytes"
	"crypto/sha256"
	"regexp"
	"testing"
)

// formats are what New and NewID make, by example.
var formats = map[string]struct {
	make func() string
	want *regexp.Regexp
}{
	"access token":  {func() string { return New(PrefixAccess) }, regexp.MustCompile(`^sga_[A-Za-z0-9_-]{43}$`)},
	"refresh token": {func() string { return New(PrefixRefresh) }, regexp.MustCompile(`^sgr_[A-Za-z0-9_-]{43}$`)},
	"closure token": {func() string { return Derive(PrefixClosure, []byte(New("")), NewID("ses_")) }, regexp.MustCompile(`^sgc_[A-Za-z0-9_-]{43}$`)},
	"session id":    {func() string { return NewID("ses_") }, regexp.MustCompile(`^ses_[a-z2-7]{26}$`)},
}

func TestFormats(t *testing.T) {
	for name, f := range formats {
		a, b := f.make(), f.make()
		if !f.want.MatchString(a) {
			t.Errorf("%s %q does not match %s", name, a, f.want)
		}
		if a == b {
			t.Errorf("%s: two calls both gave %q", name, a)
		}
	}
}

func TestHash(t *testing.T) {
	sum := sha256.Sum256([]byte("sga_x"))
	if !bytes.Equal(Hash("sga_x"), sum[:]) {
		t.Error("Hash is not the token's SHA-256")
	}
}

func TestDerive(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a := Derive(PrefixClosure, key, "ses_a")
	if Derive(PrefixClosure, key, "ses_a") != a {
		t.Error("Derive is not deterministic")
	}
	if Derive(PrefixClosure, key, "ses_b") == a {
		t.Error("two ids gave one token")
	}
	if Derive(PrefixClosure, []byte("another key, another 32 bytes!!!"), "ses_a") == a {
		t.Error("two keys gave one token")
	}
}
