package passwd

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"sessionguard/api"
)

// MinLength is the fewest characters (Unicode code points) a password may
// have: the wire contract's, which the app checks before sending.
const MinLength = api.PasswordMinLen

// MaxLength is the most characters (Unicode code points) a password may have.
const MaxLength = api.PasswordMaxLen

// PolicyError is the error Check returns for a password the policy refuses.
type PolicyError struct {
	// Reason is one sentence for a person, e.g. "Password must be at least
	// 8 characters.", fit to show as the weak_password error message.
	Reason string
}

// Error returns the Reason unchanged.
func (e *PolicyError) Error() string { return e.Reason }

// common.txt lists well-known leaked passwords of at least MinLength
// characters, lower-case, one per line. It was written for this package from
// general knowledge of such lists, not copied from one.
//
//go:embed common.txt
var commonTxt string

var commonSet = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 600)
	for line := range strings.Lines(commonTxt) {
		if line = strings.TrimSpace(line); line != "" {
			set[line] = struct{}{}
		}
	}
	return set
})

// sequences are keyboard rows and other runs people type; a password that is
// a stretch of one of these (forwards or backwards) is refused. Runs of
// consecutive code points (abcdefgh, 23456789, 98765432) are caught by rule.
var sequences = []string{
	"01234567890",
	"qwertyuiopasdfghjklzxcvbnm",
	"qwertzuiopasdfghjklyxcvbnm",
	"azertyuiopqsdfghjklmwxcvbn",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
	"qazwsxedcrfvtgbyhnujmikolp",
	"1q2w3e4r5t6y7u8i9o0p",
	"q1w2e3r4t5y6u7i8o9p0",
	"!@#$%^&*()",
}

// Check reports whether password may be set for the account username. It
// returns nil, or a *PolicyError when the password has fewer than MinLength
// or more than MaxLength characters, is one character repeated or a short
// pattern repeated, contains the username (ignoring case, for usernames of 3
// or more characters), is on the common-password list (ignoring case, and
// also after dropping trailing digits, punctuation and symbols, so
// "Password123!" is refused), or is a simple sequence such as "12345678" or
// "qwertyui".
func Check(password, username string) error {
	n := utf8.RuneCountInString(password)
	if n < MinLength {
		return &PolicyError{"Password must be at least 8 characters."}
	}
	if n > MaxLength {
		return &PolicyError{"Password must be at most 256 characters."}
	}
	lower := strings.ToLower(password)
	if period(lower) == 1 {
		return &PolicyError{"Password must not be one character repeated."}
	}
	if u := strings.ToLower(strings.TrimSpace(username)); utf8.RuneCountInString(u) >= 3 && strings.Contains(lower, u) {
		return &PolicyError{"Password must not contain your username."}
	}
	// Judge the password as typed and also its stem, without the digits and
	// punctuation people add at the end to satisfy composition rules.
	forms := []string{lower}
	if s := strings.TrimRightFunc(lower, isDecoration); s != lower && utf8.RuneCountInString(s) >= MinLength {
		forms = append(forms, s)
	}
	if s := strings.TrimRightFunc(lower, isMark); s != lower && utf8.RuneCountInString(s) >= MinLength {
		forms = append(forms, s)
	}
	for _, f := range forms {
		if _, ok := commonSet()[f]; ok {
			return &PolicyError{"Password is too common and easy to guess."}
		}
	}
	for _, f := range forms {
		if isSequence(f) {
			return &PolicyError{"Password must not be a simple sequence such as 12345678 or qwertyui."}
		}
	}
	for _, f := range forms {
		if p := period(f); p <= 4 {
			return &PolicyError{"Password must not be a short pattern repeated."}
		}
	}
	return nil
}

// isDecoration reports whether r is a digit, punctuation, symbol or space.
func isDecoration(r rune) bool { return unicode.IsDigit(r) || isMark(r) }

// isMark reports whether r is punctuation, a symbol or a space.
func isMark(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) }

// period returns the length of the shortest unit u such that s is u repeated,
// the last repeat possibly cut short ("abcabcab" has period 3).
func period(s string) int {
	r := []rune(s)
	for p := 1; p < len(r); p++ {
		ok := true
		for i := p; i < len(r); i++ {
			if r[i] != r[i-p] {
				ok = false
				break
			}
		}
		if ok {
			return p
		}
	}
	return len(r)
}

// isSequence reports whether s is a run of consecutive code points, up or
// down, or a stretch of one of the sequences, forwards or backwards.
func isSequence(s string) bool {
	r := []rune(s)
	if len(r) >= 2 && (r[1]-r[0] == 1 || r[1]-r[0] == -1) {
		step, run := r[1]-r[0], true
		for i := 2; i < len(r); i++ {
			if r[i]-r[i-1] != step {
				run = false
				break
			}
		}
		if run {
			return true
		}
	}
	for _, seq := range sequences {
		if strings.Contains(seq, s) || strings.Contains(reverse(seq), s) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
