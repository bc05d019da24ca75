package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// t0 is the suite's reference instant; every time it writes is t0 plus
// whole microseconds.
var t0 = time.Date(2031, time.May, 17, 9, 30, 12, 345678000, time.UTC)

// zone is a non-UTC zone some inputs are given in, to check that stores
// keep the instant and hand it back in UTC.
var zone = time.FixedZone("UTC+05:30", 5*3600+30*60)

// fixture is one subtest's store and its record factory. Everything it
// creates carries tag, so subtests never see each other's records.
type fixture struct {
	t   *testing.T
	s   store.Store
	ctx context.Context
	tag string
	n   int
}

func newFixture(t *testing.T, s store.Store) *fixture {
	return &fixture{t: t, s: s, ctx: t.Context(), tag: strings.ToLower(rand.Text()[:10])}
}

// id returns a new ID with the given prefix. IDs made later sort after
// earlier ones, byte-wise.
func (f *fixture) id(prefix string) string {
	f.n++
	return fmt.Sprintf("%s_%s_%04d", prefix, f.tag, f.n)
}

// randHash returns 32 random bytes: a stand-in SHA-256 digest.
func randHash() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// account creates an account.
func (f *fixture) account() store.Account {
	f.t.Helper()
	id := f.id("acc")
	a := store.Account{
		ID:           id,
		Username:     "user_" + id,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$" + id,
		CreatedAt:    t0.Add(-24 * time.Hour).In(zone),
	}
	if err := f.s.CreateAccount(f.ctx, a); err != nil {
		f.t.Fatalf("CreateAccount(%s): %v", a.ID, err)
	}
	return a
}

// session creates a live session of acct, after mod has adjusted it, with
// a first refresh token.
func (f *fixture) session(acct store.Account, mod func(*store.Session)) (store.Session, store.RefreshToken) {
	f.t.Helper()
	s, rt := f.newSession(acct, mod)
	if err := f.s.CreateSession(f.ctx, s, rt); err != nil {
		f.t.Fatalf("CreateSession(%s): %v", s.ID, err)
	}
	return s, rt
}

// newSession is session without storing it.
func (f *fixture) newSession(acct store.Account, mod func(*store.Session)) (store.Session, store.RefreshToken) {
	id := f.id("ses")
	s := store.Session{
		ID:        id,
		AccountID: acct.ID,
		Device: api.Device{
			ID:         "dev_" + id,
			Name:       "Pixel of " + id,
			Platform:   api.PlatformAndroid,
			OS:         "Android 16",
			Model:      "Pixel 9",
			AppVersion: "1.4.2",
		},
		IP:                "203.0.113.7",
		Location:          api.Location{City: "Zürich", Region: "Zurich", Country: "Switzerland", CountryCode: "CH"},
		CreatedAt:         t0.In(zone),
		LastSeenAt:        t0.Add(time.Minute),
		AuthTime:          t0,
		ExpiresAt:         t0.Add(30 * 24 * time.Hour),
		AbsoluteExpiresAt: t0.Add(365 * 24 * time.Hour),
		Remember:          true,
		AccessHash:        randHash(),
		AccessExpiresAt:   t0.Add(15 * time.Minute),
		InstallHash:       randHash(),
	}
	if mod != nil {
		mod(&s)
	}
	rt := store.RefreshToken{
		Hash:      randHash(),
		SessionID: s.ID,
		IssuedAt:  s.CreatedAt,
		ExpiresAt: s.AbsoluteExpiresAt,
	}
	return s, rt
}

// revoked returns s as revoked by r.
func revoked(s store.Session, r store.Revocation) store.Session {
	s.Revoked = &r
	return s
}

// revocation returns a remote log out by the session by.
func revocation(at time.Time, by store.Session) store.Revocation {
	return store.Revocation{At: at, Reason: api.ReasonRemoteLogout, BySessionID: by.ID, ByDeviceName: by.Device.Name}
}

// remembered creates a remembered-login credential.
func (f *fixture) remembered(acct store.Account, deviceID string, expires time.Time) store.Remembered {
	f.t.Helper()
	r := store.Remembered{
		Hash:        randHash(),
		AccountID:   acct.ID,
		DeviceID:    deviceID,
		DeviceName:  "Laptop " + deviceID,
		CreatedAt:   t0.In(zone),
		ExpiresAt:   expires,
		AuthTime:    t0.Add(-time.Minute),
		InstallHash: randHash(),
	}
	if err := f.s.CreateRemembered(f.ctx, r); err != nil {
		f.t.Fatalf("CreateRemembered: %v", err)
	}
	return r
}

// mustSession reads a session, failing the test if it cannot.
func (f *fixture) mustSession(id string) store.Session {
	f.t.Helper()
	s, err := f.s.Session(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Session(%s): %v", id, err)
	}
	return s
}

// checkSession reads a session and compares it with want.
func (f *fixture) checkSession(what string, want store.Session) {
	f.t.Helper()
	check(f.t, what, f.mustSession(want.ID), want)
}

// mustToken reads a refresh token, failing the test if it cannot.
func (f *fixture) mustToken(h []byte) store.RefreshToken {
	f.t.Helper()
	rt, err := f.s.RefreshToken(f.ctx, h)
	if err != nil {
		f.t.Fatalf("RefreshToken(%x): %v", h[:4], err)
	}
	return rt
}

// ok fails the test now if err is not nil.
func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// is reports an error unless errors.Is(err, want).
func is(t *testing.T, what string, err, want error) bool {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
		return false
	}
	return true
}

// ids returns the IDs of ss in order.
func ids(ss []store.Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}
