package storetest

import (
	"strings"
	"time"

	"sessionguard/server/store"
)

func testPing(f *fixture) {
	ok(f.t, "Ping", f.s.Ping(f.ctx))
}

func testAccountRoundTrip(f *fixture) {
	cases := []struct {
		name string
		mod  func(*store.Account)
	}{
		{"plain", nil},
		{"mfa enabled, non-UTC created_at", func(a *store.Account) {
			a.MFAEnabled = true
			a.CreatedAt = t0.Add(-time.Hour).In(zone)
		}},
		{"two-step verification on, with a pending secret", func(a *store.Account) {
			a.MFAEnabled = true
			a.TOTPSecret = secretA
			a.TOTPPendingSecret = secretB
		}},
		{"unicode and long hash", func(a *store.Account) {
			a.Username = "ünïcødé_" + a.ID
			a.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo$" + strings.Repeat(a.ID, 8)
		}},
	}
	for _, tc := range cases {
		id := f.id("acc")
		a := store.Account{
			ID:           id,
			Username:     "name_" + id,
			PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + id,
			CreatedAt:    t0,
		}
		if tc.mod != nil {
			tc.mod(&a)
		}
		ok(f.t, tc.name+": CreateAccount", f.s.CreateAccount(f.ctx, a))

		got, err := f.s.Account(f.ctx, a.ID)
		ok(f.t, tc.name+": Account", err)
		check(f.t, tc.name+": Account", got, a)

		got, err = f.s.AccountByUsername(f.ctx, a.Username)
		ok(f.t, tc.name+": AccountByUsername", err)
		check(f.t, tc.name+": AccountByUsername", got, a)
	}
}

func testAccountUsernameTaken(f *fixture) {
	a := f.account()
	b := store.Account{
		ID:           f.id("acc"),
		Username:     a.Username,
		PasswordHash: "$argon2id$other",
		CreatedAt:    t0,
		MFAEnabled:   true,
	}
	is(f.t, "CreateAccount with a taken username", f.s.CreateAccount(f.ctx, b), store.ErrUsernameTaken)

	got, err := f.s.AccountByUsername(f.ctx, a.Username)
	ok(f.t, "AccountByUsername", err)
	check(f.t, "account after the refused duplicate", got, a)
	_, err = f.s.Account(f.ctx, b.ID)
	is(f.t, "Account(refused duplicate)", err, store.ErrNotFound)
}

func testAccountNotFound(f *fixture) {
	f.account()
	_, err := f.s.Account(f.ctx, f.id("acc"))
	is(f.t, "Account(unknown)", err, store.ErrNotFound)
	_, err = f.s.AccountByUsername(f.ctx, "nobody_"+f.tag)
	is(f.t, "AccountByUsername(unknown)", err, store.ErrNotFound)
}
