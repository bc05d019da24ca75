package passwd

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	const (
		tooShort = "Password must be at least 8 characters."
		tooLong  = "Password must be at most 256 characters."
		oneChar  = "Password must not be one character repeated."
		hasUser  = "Password must not contain your username."
		common   = "Password is too common and easy to guess."
		sequence = "Password must not be a simple sequence such as 12345678 or qwertyui."
		pattern  = "Password must not be a short pattern repeated."
	)
	cases := []struct {
		password, username string
		want               string // "" for accepted
	}{
		// length, in characters not bytes
		{"", "alice", tooShort},
		{"Xk9#mQ2", "alice", tooShort},
		{"Xk9#mQ2v", "alice", ""},
		{"ÿéàüöçñß", "alice", ""},                      // 8 runes, 16 bytes
		{"密码密码安全", "alice", tooShort},                  // 6 runes, 18 bytes
		{"密码很安全的吧", "alice", tooShort},                 // 7 runes
		{"密码是很安全的吧", "alice", ""},                      // 8 runes
		{"🔐🗝️🔑🚪🏠🛡️", "alice", ""},                      // 8 code points incl. variation selectors
		{strings.Repeat("Ab1!", 64), "alice", pattern}, // 256, accepted by length
		{strings.Repeat("xQ7#", 64) + "z", "alice", tooLong},
		{"Xk9#" + strings.Repeat("mQ2v", 63), "alice", ""}, // 256 characters, not periodic
		{"Xk9#" + strings.Repeat("mQ2v", 63) + "!", "alice", tooLong},
		// one repeated character
		{"aaaaaaaa", "alice", oneChar},
		{"AaAaAaAa", "alice", oneChar},
		{"        ", "alice", oneChar},
		{"11111111111", "alice", oneChar},
		{"ééééééééé", "alice", oneChar},
		// username, case-insensitive, only from 3 characters
		{"alice2024!x", "alice", hasUser},
		{"my-ALICE-pass", "Alice", hasUser},
		{"Alice", "alice", tooShort},
		{"bobbobbob", "bobbobbob", hasUser},
		{"xXbobXx99", "bob", hasUser},
		{"xXboXx99z", "bo", ""}, // username too short to matter
		{"k7#alIce!9", " alice ", hasUser},
		{"k7#alice!9", "", ""},
		// common passwords, any case, with or without trailing decoration
		{"password", "alice", common},
		{"Password", "alice", common},
		{"PASSWORD1", "alice", common},
		{"Password123!", "alice", common},
		{"password2026", "alice", common},
		{"P@ssw0rd", "alice", common},
		{"iloveyou", "alice", common},
		{"Sunshine!!", "alice", common},
		{"trustno1", "alice", common},
		{"football 7", "alice", common},
		{"Summer2025", "alice", common},
		{"sessionguard", "alice", common},
		// sequences
		{"12345678", "alice", common}, // on the list, which is checked first
		{"23456789", "alice", sequence},
		{"98765432", "alice", sequence},
		{"34567890", "alice", sequence},
		{"abcdefgh", "alice", common},
		{"bcdefghij", "alice", sequence},
		{"ZYXWVUTSR", "alice", sequence},
		{"qwertyuiop", "alice", common},
		{"wertyuio", "alice", sequence},
		{"poiuytrewq", "alice", sequence},
		{"lkjhgfdsa", "alice", sequence},
		{"uiopasdf", "alice", sequence},
		{"2wsx3edc4rfv", "alice", sequence},
		{"azertyuiop", "alice", common},
		{"zertyuiop", "alice", sequence},
		{"3e4r5t6y7u", "alice", sequence},
		{"23456789!!", "alice", sequence},
		{"αβγδεζηθ", "alice", sequence},
		// short patterns repeated
		{"abababab", "alice", pattern},
		{"xyzxyzxyz", "alice", pattern},
		{"abcabcab", "alice", pattern},
		{"Ab1!Ab1!", "alice", pattern},
		{"q7q7q7q7q7", "alice", pattern},
		{"hahahaha123", "alice", pattern},
		{"ab1!cab1!c", "alice", ""}, // unit of 5: allowed
		// fine passwords
		{"correct horse battery staple", "alice", ""},
		{"Tr0ub4dor&3", "alice", ""},
		{"xkcd-936-was-right", "alice", ""},
		{"password manager generated: 7f#Qz!", "alice", ""},
		{"12345679", "alice", ""},
		{"qwertyuiox", "alice", ""},
		{"abcdefgz", "alice", ""},
	}
	for _, c := range cases {
		err := Check(c.password, c.username)
		if c.want == "" {
			if err != nil {
				t.Errorf("Check(%q, %q) = %v; want nil", c.password, c.username, err)
			}
			continue
		}
		var pe *PolicyError
		if !errors.As(err, &pe) {
			t.Errorf("Check(%q, %q) = %v; want *PolicyError %q", c.password, c.username, err, c.want)
			continue
		}
		if pe.Reason != c.want || err.Error() != c.want {
			t.Errorf("Check(%q, %q) reason %q; want %q", c.password, c.username, pe.Reason, c.want)
		}
	}
}

func TestCommonList(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(commonTxt, "\n"), "\n")
	if len(lines) < 300 {
		t.Fatalf("common.txt has %d entries, want at least 300", len(lines))
	}
	if len(commonSet()) != len(lines) {
		t.Errorf("common set has %d entries, file has %d lines (blank or duplicate lines?)", len(commonSet()), len(lines))
	}
	seen := map[string]int{}
	for i, l := range lines {
		if j, dup := seen[l]; dup {
			t.Errorf("line %d: %q repeats line %d", i+1, l, j+1)
		}
		seen[l] = i
		if l != strings.ToLower(l) || strings.TrimFunc(l, unicode.IsSpace) != l || l == "" {
			t.Errorf("line %d: %q is not a trimmed lower-case entry", i+1, l)
		}
		if n := utf8.RuneCountInString(l); n < MinLength || n > MaxLength {
			t.Errorf("line %d: %q has %d characters; the length rule already decides it", i+1, l, n)
		}
		// Every entry is refused, whatever the case it is typed in.
		for _, pw := range []string{l, strings.ToUpper(l)} {
			var pe *PolicyError
			if err := Check(pw, "someone"); !errors.As(err, &pe) {
				t.Errorf("Check(%q) = %v; want refused", pw, err)
			}
		}
	}
}

func TestPeriod(t *testing.T) {
	for s, want := range map[string]int{"": 0, "a": 1, "aaaa": 1, "abab": 2, "abcab": 3, "abcd": 4, "abcda": 4, "abcde": 5} {
		if got := period(s); got != want {
			t.Errorf("period(%q) = %d, want %d", s, got, want)
		}
	}
}
