package passwd

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

var fast = Hasher{Params: Fast}

func mustHash(t testing.TB, h Hasher, pw string) string {
	t.Helper()
	s, err := h.Hash(pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return s
}

func TestOWASPParams(t *testing.T) {
	want := Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	if OWASP != want {
		t.Fatalf("OWASP = %+v, want %+v", OWASP, want)
	}
	if (Hasher{}).params() != OWASP {
		t.Fatalf("zero Hasher params = %+v, want OWASP", (Hasher{}).params())
	}
	if Fast.check() != "" || OWASP.check() != "" {
		t.Fatal("Fast or OWASP params out of bounds")
	}
}

// TestHashOWASP is one of the two tests that pay for OWASP params (slow under
// -race): the encoded form of a zero Hasher, and the round trip.
func TestHashOWASP(t *testing.T) {
	var h Hasher // OWASP
	s := mustHash(t, h, "correct horse battery staple")
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(s) {
		t.Fatalf("Hash = %q, want PHC argon2id with OWASP params", s)
	}
	if ok, err := fast.Verify("correct horse battery staple", s); !ok || err != nil {
		t.Fatalf("Verify with other params = %v, %v; want true, nil", ok, err)
	}
	if h.NeedsRehash(s) {
		t.Fatal("NeedsRehash of a fresh OWASP hash under OWASP")
	}
	if !fast.NeedsRehash(s) {
		t.Fatal("NeedsRehash of an OWASP hash under Fast = false")
	}
}

// Hashes made by the reference C implementation (libargon2 20171227,
// argon2id_hash_encoded) with fixed salts: proves the encoding and the
// parameter handling agree with other argon2id implementations.
var referenceVectors = []struct {
	password, encoded string
}{
	{"correct horse battery staple", "$argon2id$v=19$m=19456,t=2,p=1$c2Vzc2lvbmd1YXJkLWthdA$OrUE66z1RkwYiD+q2f5WXCkZiQC9Eq+P0XtkTIaJ6oI"},
	{"hunter2hunter2", "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AA+rOtt3KoXcD03SF6t0QEB3rjHAiRE4NSoAPRl5H5k"},
	{"pässwörd ✓", "$argon2id$v=19$m=256,t=3,p=2$c2FsdHNhbHQ$BxVkm+R95baJC6lvwA6Z2g"},
}

func TestVerifyReferenceVectors(t *testing.T) {
	for _, v := range referenceVectors {
		if ok, err := fast.Verify(v.password, v.encoded); !ok || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v; want true, nil", v.password, v.encoded, ok, err)
		}
		if ok, err := fast.Verify(v.password+"x", v.encoded); ok || err != nil {
			t.Errorf("Verify(wrong, %q) = %v, %v; want false, nil", v.encoded, ok, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, pw := range []string{"", "a", "correct horse battery staple", "pässwörd ✓ 密码", strings.Repeat("x", 1024), "with\x00nul"} {
		s := mustHash(t, fast, pw)
		if ok, err := fast.Verify(pw, s); !ok || err != nil {
			t.Errorf("Verify(%q, Hash(%q)) = %v, %v; want true, nil", pw, pw, ok, err)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	const pw = "Tr0ub4dor&3 horse"
	s := mustHash(t, fast, pw)
	for _, wrong := range []string{"", "tr0ub4dor&3 horse", "Tr0ub4dor&3 horse ", " Tr0ub4dor&3 horse", "Tr0ub4dor&3 hors", "Tr0ub4dor&3 horsf", pw + "\x00"} {
		if ok, err := fast.Verify(wrong, s); ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want false, nil", wrong, ok, err)
		}
	}
}

func TestSaltsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 8 {
		s := mustHash(t, fast, "same password")
		salt := strings.Split(s, "$")[4]
		if seen[salt] {
			t.Fatalf("salt %q repeated", salt)
		}
		seen[salt] = true
	}
}

// flip changes one base64 character of s at i to another valid one that keeps
// the string canonical (i is not the last character of a field).
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestTamperedHashFails(t *testing.T) {
	const pw = "the right password"
	s := mustHash(t, fast, pw)
	f := strings.Split(s, "$") // "", argon2id, v=19, params, salt, key
	saltAt := len(strings.Join(f[:4], "$")) + 1
	keyAt := len(strings.Join(f[:5], "$")) + 1
	cases := map[string]string{
		"key first char":  flip(s, keyAt),
		"key middle char": flip(s, keyAt+20),
		"salt first char": flip(s, saltAt),
		"memory":          strings.Replace(s, "m=64,", "m=72,", 1),
		"memory by one":   strings.Replace(s, "m=64,", "m=65,", 1),
		"iterations":      strings.Replace(s, "t=1,", "t=2,", 1),
		"parallelism":     strings.Replace(s, "p=1$", "p=2$", 1),
		"swapped salt":    strings.Join([]string{"", f[1], f[2], f[3], b64.EncodeToString(make([]byte, 16)), f[5]}, "$"),
	}
	for name, bad := range cases {
		if bad == s {
			t.Fatalf("%s: tampering did not change the hash", name)
		}
		if ok, err := fast.Verify(pw, bad); ok || err != nil {
			t.Errorf("%s: Verify = %v, %v; want false, nil", name, ok, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "AA+rOtt3KoXcD03SF6t0QEB3rjHAiRE4NSoAPRl5H5k"
	good := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	if _, _, _, err := decode(good); err != nil {
		t.Fatalf("control case: %v", err)
	}
	cases := map[string]string{
		"empty":              "",
		"plain text":         "hunter2",
		"bcrypt":             "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":            "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"argon2d":            "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":        "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":         "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"too few fields":     "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"too many fields":    good + "$extra",
		"no leading dollar":  strings.TrimPrefix(good, "$"),
		"params reordered":   "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"params missing":     "$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"keyid param":        "$argon2id$v=19$m=64,t=1,p=1,keyid=abc$" + salt + "$" + key,
		"non-numeric":        "$argon2id$v=19$m=abc,t=1,p=1$" + salt + "$" + key,
		"negative":           "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"plus sign":          "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key,
		"leading zero":       "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"uint32 overflow":    "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key,
		"memory too big":     "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"memory too small":   "$argon2id$v=19$m=7,t=1,p=1$" + salt + "$" + key,
		"zero iterations":    "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"many iterations":    "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key,
		"zero parallelism":   "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"parallelism > 255":  "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key,
		"salt not base64":    "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key,
		"salt padded":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"salt url alphabet":  "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.ReplaceAll(key, "+", "-"),
		"non-canonical tail": "$argon2id$v=19$m=64,t=1,p=1$" + salt[:len(salt)-1] + "B$" + key,
		"newline in key":     good[:len(good)-4] + "\n" + good[len(good)-4:],
		"empty salt":         "$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"short salt":         "$argon2id$v=19$m=64,t=1,p=1$YWJj$" + key,
		"empty key":          "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"short key":          "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAAAAA",
		"space":              "$argon2id$v=19$m=64, t=1,p=1$" + salt + "$" + key,
	}
	for name, s := range cases {
		ok, err := fast.Verify("password", s)
		var me *MalformedHashError
		if ok || !errors.As(err, &me) || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Verify(%q) = %v, %v; want false, *MalformedHashError", name, s, ok, err)
			continue
		}
		if me.Reason == "" || strings.Contains(err.Error(), salt) || strings.Contains(err.Error(), key) {
			t.Errorf("%s: error %q has no reason or leaks the hash", name, err)
		}
		if !fast.NeedsRehash(s) {
			t.Errorf("%s: NeedsRehash = false for a malformed hash", name)
		}
	}
}

func TestHashInvalidParams(t *testing.T) {
	cases := map[string]Params{
		"zero parallelism": {Memory: 64, Iterations: 1, Parallelism: 0, SaltLen: 16, KeyLen: 32},
		"memory per lane":  {Memory: 15, Iterations: 1, Parallelism: 2, SaltLen: 16, KeyLen: 32},
		"memory too big":   {Memory: 1<<20 + 1, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		"zero iterations":  {Memory: 64, Iterations: 0, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		"short salt":       {Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 7, KeyLen: 32},
		"short key":        {Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 15},
		"long key":         {Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 65},
	}
	for name, p := range cases {
		if s, err := (Hasher{Params: p}).Hash("password"); err == nil {
			t.Errorf("%s: Hash = %q, nil; want an error", name, s)
		}
	}
}

// TestVerifyAcrossParams: a hash keeps verifying after the hasher's params
// change, because Verify uses the params stored in the hash.
func TestVerifyAcrossParams(t *testing.T) {
	others := []Params{
		Fast,
		{Memory: 128, Iterations: 2, Parallelism: 2, SaltLen: 8, KeyLen: 16},
		{Memory: 256, Iterations: 3, Parallelism: 4, SaltLen: 32, KeyLen: 64},
	}
	for _, made := range others {
		s := mustHash(t, Hasher{Params: made}, "old password")
		p, _, _, err := decode(s)
		if err != nil || p != made {
			t.Fatalf("decode(Hash under %+v) = %+v, %v", made, p, err)
		}
		for _, now := range others {
			h := Hasher{Params: now}
			if ok, err := h.Verify("old password", s); !ok || err != nil {
				t.Errorf("made %+v, verified under %+v: %v, %v", made, now, ok, err)
			}
			if ok, _ := h.Verify("new password", s); ok {
				t.Errorf("made %+v, verified under %+v: wrong password accepted", made, now)
			}
			if got, want := h.NeedsRehash(s), made != now; got != want {
				t.Errorf("made %+v, NeedsRehash under %+v = %v, want %v", made, now, got, want)
			}
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	salt16, key32 := make([]byte, 16), make([]byte, 32)
	var h Hasher // OWASP; NeedsRehash does not compute argon2, so this is cheap
	cases := []struct {
		name    string
		encoded string
		want    bool
	}{
		{"same params", encode(OWASP, salt16, key32), false},
		{"less memory", encode(Params{Memory: 4096, Iterations: 2, Parallelism: 1}, salt16, key32), true},
		{"more iterations", encode(Params{Memory: 19456, Iterations: 3, Parallelism: 1}, salt16, key32), true},
		{"more lanes", encode(Params{Memory: 19456, Iterations: 2, Parallelism: 2}, salt16, key32), true},
		{"shorter salt", encode(OWASP, make([]byte, 8), key32), true},
		{"longer key", encode(OWASP, salt16, make([]byte, 64)), true},
		{"malformed", "$argon2id$v=19$m=19456,t=2,p=1$$", true},
	}
	for _, c := range cases {
		if got := h.NeedsRehash(c.encoded); got != c.want {
			t.Errorf("%s: NeedsRehash(%q) = %v, want %v", c.name, c.encoded, got, c.want)
		}
	}
}

// TestDummy checks that Dummy verifies against a well-formed hash under
// exactly the hasher's params, so it costs what a real Verify costs (timing is
// compared in BenchmarkDummyOWASP and BenchmarkVerifyOWASP, not asserted).
func TestDummy(t *testing.T) {
	for _, h := range []Hasher{{}, {Params: OWASP}, fast, {Params: Params{Memory: 256, Iterations: 3, Parallelism: 4, SaltLen: 32, KeyLen: 64}}} {
		d := h.dummyHash()
		got, _, _, err := decode(d)
		if err != nil || got != h.params() || h.NeedsRehash(d) {
			t.Errorf("%+v: dummyHash() = %q decodes to %+v, %v", h, d, got, err)
		}
	}
	fast.Dummy("anything") // must not panic
	if ok, err := fast.Verify("", fast.dummyHash()); ok || err != nil {
		t.Errorf("Verify(\"\", dummy) = %v, %v; want false, nil", ok, err)
	}
}

func FuzzVerify(f *testing.F) {
	for _, v := range referenceVectors {
		f.Add(v.password, v.encoded)
	}
	f.Add("pw", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("pw", "$argon2id$v=19$m=4294967295,t=4294967295,p=255$$")
	f.Add("", "")
	f.Add("pw", "$$$$$")
	f.Add("pw", "$argon2id$v=19$m=64,t=1,p=1$c2Fsd\nHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, password, encoded string) {
		p, _, _, err := decode(encoded)
		if err != nil {
			var me *MalformedHashError
			if !errors.As(err, &me) {
				t.Fatalf("decode error %T %v is not a *MalformedHashError", err, err)
			}
		} else if p.Memory*p.Iterations > 1<<12 {
			return // well-formed but too costly to run on every input
		}
		ok, verr := fast.Verify(password, encoded)
		if (verr == nil) != (err == nil) {
			t.Fatalf("Verify error %v disagrees with decode error %v", verr, err)
		}
		if ok && verr != nil {
			t.Fatal("Verify = true with an error")
		}
		if err == nil {
			// Accepted strings are canonical: re-encoding gives them back.
			_, salt, key, _ := decode(encoded)
			if re := encode(p, salt, key); re != encoded {
				t.Fatalf("accepted %q, which re-encodes as %q", encoded, re)
			}
		}
	})
}

func BenchmarkHashOWASP(b *testing.B) {
	var h Hasher
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyOWASP(b *testing.B) {
	var h Hasher
	s := mustHash(b, h, "correct horse battery staple")
	for b.Loop() {
		if ok, _ := h.Verify("wrong horse battery staple", s); ok {
			b.Fatal("wrong password accepted")
		}
	}
}

func BenchmarkDummyOWASP(b *testing.B) {
	var h Hasher
	for b.Loop() {
		h.Dummy("wrong horse battery staple")
	}
}
