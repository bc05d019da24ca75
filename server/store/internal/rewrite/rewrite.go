// Package rewrite is the walk behind store.Store's RewriteTOTPSecrets,
// shared by the SQLite and PostgreSQL stores: they supply how to read a
// page of accounts and how to write one account's changes.
package rewrite

import (
	"context"
	"fmt"
)

// Secrets are one account's stored TOTP secrets.
type Secrets struct {
	AccountID string
	Secret    string // totp_secret, "" for none
	Pending   string // totp_pending_secret, "" for none
}

// Change replaces one stored value, only if it is still Old.
type Change struct {
	Pending  bool // the pending secret, else the secret
	Old, New string
}

// PageSize is how many accounts a page holds at most.
const PageSize = 100

// Store is what Walk needs of a store.
type Store interface {
	// SecretsPage returns up to limit accounts with a non-empty secret or
	// pending secret and an ID above after, in ID order.
	SecretsPage(ctx context.Context, after string, limit int) ([]Secrets, error)
	// WriteSecrets applies the account's changes in one transaction,
	// each as a compare-and-set on Old, and returns how many applied.
	WriteSecrets(ctx context.Context, accountID string, cs []Change) (int, error)
}

// Walk passes every non-empty secret and pending secret s holds to fn, a
// page of accounts at a time, and writes each account's changes before it
// reads on. fn runs outside any transaction. An error from fn stops the
// walk before the account it was called for is written. It returns how
// many values changed.
func Walk(ctx context.Context, s Store, fn func(secret string) (string, bool, error)) (int, error) {
	changed := 0
	for after := ""; ; {
		page, err := s.SecretsPage(ctx, after, PageSize)
		if err != nil {
			return changed, err
		}
		for _, a := range page {
			cs, err := changes(a, fn)
			if err != nil {
				return changed, err
			}
			if len(cs) == 0 {
				continue
			}
			n, err := s.WriteSecrets(ctx, a.AccountID, cs)
			changed += n
			if err != nil {
				return changed, err
			}
		}
		if len(page) < PageSize {
			return changed, nil
		}
		after = page[len(page)-1].AccountID
	}
}

// changes calls fn for a's non-empty values and lists those it changed.
func changes(a Secrets, fn func(string) (string, bool, error)) ([]Change, error) {
	var out []Change
	for _, v := range []struct {
		pending bool
		value   string
	}{{false, a.Secret}, {true, a.Pending}} {
		if v.value == "" {
			continue
		}
		nv, ok, err := fn(v.value)
		if err != nil {
			return nil, fmt.Errorf("rewrite TOTP secrets of account %s: %w", a.AccountID, err)
		}
		if ok && nv != v.value {
			out = append(out, Change{Pending: v.pending, Old: v.value, New: nv})
		}
	}
	return out, nil
}
