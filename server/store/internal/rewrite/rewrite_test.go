package rewrite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// fake is a Store of accounts kept in ID order.
type fake struct {
	accounts []Secrets
	pages    int
	writes   [][]Change
}

func (f *fake) SecretsPage(_ context.Context, after string, limit int) ([]Secrets, error) {
	f.pages++
	var out []Secrets
	for _, a := range f.accounts {
		if a.AccountID > after && (a.Secret != "" || a.Pending != "") && len(out) < limit {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fake) WriteSecrets(_ context.Context, id string, cs []Change) (int, error) {
	f.writes = append(f.writes, cs)
	i := slices.IndexFunc(f.accounts, func(a Secrets) bool { return a.AccountID == id })
	n := 0
	for _, c := range cs {
		v := &f.accounts[i].Secret
		if c.Pending {
			v = &f.accounts[i].Pending
		}
		if *v == c.Old {
			*v, n = c.New, n+1
		}
	}
	return n, nil
}

// newFake holds n accounts: every third with no secrets, the others with
// a secret, a pending secret, or both.
func newFake(n int) *fake {
	f := &fake{}
	for i := range n {
		a := Secrets{AccountID: fmt.Sprintf("acc_%05d", i)}
		switch i % 3 {
		case 1:
			a.Secret = fmt.Sprint("s", i)
		case 2:
			a.Secret, a.Pending = fmt.Sprint("s", i), fmt.Sprint("p", i)
		}
		f.accounts = append(f.accounts, a)
	}
	return f
}

func TestWalk(t *testing.T) {
	seal := func(v string) (string, bool, error) {
		if strings.HasPrefix(v, "sealed:") {
			return v, false, nil
		}
		return "sealed:" + v, true, nil
	}
	cases := []struct {
		name     string
		accounts int
		pages    int // SecretsPage calls
	}{
		{"none", 0, 1},
		{"less than a page", 10, 1},
		{"exactly a page of accounts with secrets", PageSize * 3 / 2, 2},
		{"several pages", 5*PageSize + 7, 4}, // 338 accounts with secrets
	}
	for _, tc := range cases {
		f := newFake(tc.accounts)
		want := 0
		for _, a := range f.accounts {
			want += len(slices.DeleteFunc([]string{a.Secret, a.Pending}, func(s string) bool { return s == "" }))
		}
		n, err := Walk(t.Context(), f, seal)
		if err != nil || n != want {
			t.Errorf("%s: Walk = %d, %v; want %d", tc.name, n, err, want)
		}
		if f.pages != tc.pages {
			t.Errorf("%s: %d pages read, want %d", tc.name, f.pages, tc.pages)
		}
		for _, a := range f.accounts {
			for _, v := range []string{a.Secret, a.Pending} {
				if v != "" && !strings.HasPrefix(v, "sealed:") {
					t.Errorf("%s: %s kept %q", tc.name, a.AccountID, v)
				}
			}
		}
		// Again: nothing left to change, nothing written.
		f.writes = nil
		if n, err := Walk(t.Context(), f, seal); err != nil || n != 0 || len(f.writes) != 0 {
			t.Errorf("%s: Walk again = %d, %v, %d writes; want nothing", tc.name, n, err, len(f.writes))
		}
	}
}

func TestWalkStopsOnError(t *testing.T) {
	f := newFake(3 * PageSize)
	boom := errors.New("boom")
	calls := 0
	n, err := Walk(t.Context(), f, func(v string) (string, bool, error) {
		calls++
		if v == "p5" { // account 5's pending secret, after its secret
			return "", false, boom
		}
		return v + "!", true, nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Walk = %v, want %v", err, boom)
	}
	// Accounts 1, 2 and 4 (4 values) were written; account 5 (whose
	// secret fn already changed) was not, nor anything after it.
	if n != 4 || len(f.writes) != 3 {
		t.Errorf("Walk wrote %d values in %d writes before the error, want 4 in 3", n, len(f.writes))
	}
	if f.accounts[5].Secret != "s5" {
		t.Errorf("account 5's secret = %q: written although fn failed on its pending secret", f.accounts[5].Secret)
	}
	if calls != 6 { // s1, s2, p2, s4, s5, p5
		t.Errorf("fn called %d times, want 6 (stopping at the error)", calls)
	}
}
