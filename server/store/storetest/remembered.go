package storetest

import (
	"errors"
	"fmt"
	"time"

	"sessionguard/server/store"
)

// present reports whether the credentials exist, by consuming them.
func (f *fixture) present(what string, want bool, rs ...store.Remembered) {
	f.t.Helper()
	for _, r := range rs {
		got, err := f.s.ConsumeRemembered(f.ctx, r.Hash, t0)
		switch {
		case want && err != nil:
			f.t.Errorf("%s: credential of %s/%s gone: %v", what, r.AccountID, r.DeviceID, err)
		case want:
			check(f.t, what, got, r)
		case !errors.Is(err, store.ErrNotFound):
			f.t.Errorf("%s: credential of %s/%s still there (err %v)", what, r.AccountID, r.DeviceID, err)
		}
	}
}

func testRememberedConsume(f *fixture) {
	acct := f.account()
	expires := t0.Add(time.Hour)

	r := f.remembered(acct, "dev1", t0.Add(90*24*time.Hour).In(zone))
	got, err := f.s.ConsumeRemembered(f.ctx, r.Hash, t0.In(zone))
	ok(f.t, "ConsumeRemembered", err)
	check(f.t, "ConsumeRemembered", got, r)
	_, err = f.s.ConsumeRemembered(f.ctx, r.Hash, t0)
	is(f.t, "ConsumeRemembered a second time", err, store.ErrNotFound)

	// Saved by an install without a key: bound to the device only.
	unbound := store.Remembered{Hash: randHash(), AccountID: acct.ID, DeviceID: "dev2", DeviceName: "Old app",
		CreatedAt: t0, ExpiresAt: expires, AuthTime: t0}
	ok(f.t, "CreateRemembered without an install key", f.s.CreateRemembered(f.ctx, unbound))
	got, err = f.s.ConsumeRemembered(f.ctx, unbound.Hash, t0)
	ok(f.t, "ConsumeRemembered without an install key", err)
	check(f.t, "ConsumeRemembered without an install key", got, unbound)
	if got.InstallHash != nil {
		f.t.Errorf("ConsumeRemembered without an install key: InstallHash %x, want nil", got.InstallHash)
	}

	cases := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"a microsecond before expiry", expires.Add(-time.Microsecond), true},
		{"at expiry", expires, false},
		{"after expiry", expires.Add(time.Second), false},
		{"long after expiry", expires.Add(365 * 24 * time.Hour), false},
	}
	for _, tc := range cases {
		r := f.remembered(acct, "dev_"+tc.name, expires)
		got, err := f.s.ConsumeRemembered(f.ctx, r.Hash, tc.now)
		if tc.ok {
			ok(f.t, "ConsumeRemembered "+tc.name, err)
			check(f.t, "ConsumeRemembered "+tc.name, got, r)
		} else {
			is(f.t, "ConsumeRemembered "+tc.name, err, store.ErrNotFound)
		}
	}
	_, err = f.s.ConsumeRemembered(f.ctx, randHash(), t0)
	is(f.t, "ConsumeRemembered(unknown)", err, store.ErrNotFound)
}

func testRememberedDelete(f *fixture) {
	acct := f.account()
	r := f.remembered(acct, "dev1", t0.Add(time.Hour))
	keep := f.remembered(acct, "dev1", t0.Add(time.Hour))

	got, err := f.s.DeleteRemembered(f.ctx, r.Hash)
	ok(f.t, "DeleteRemembered", err)
	check(f.t, "DeleteRemembered", got, r)
	_, err = f.s.DeleteRemembered(f.ctx, r.Hash)
	is(f.t, "DeleteRemembered a second time", err, store.ErrNotFound)
	_, err = f.s.DeleteRemembered(f.ctx, randHash())
	is(f.t, "DeleteRemembered(unknown)", err, store.ErrNotFound)
	f.present("deleted credential", false, r)
	f.present("the device's other credential", true, keep)
}

func testRememberedDeleteForDevice(f *fixture) {
	acct, other := f.account(), f.account()
	exp := t0.Add(time.Hour)
	gone := []store.Remembered{f.remembered(acct, "dev1", exp), f.remembered(acct, "dev1", exp)}
	kept := []store.Remembered{f.remembered(acct, "dev2", exp), f.remembered(other, "dev1", exp)}

	n, err := f.s.DeleteRememberedForDevice(f.ctx, acct.ID, "dev1")
	ok(f.t, "DeleteRememberedForDevice", err)
	if n != len(gone) {
		f.t.Errorf("DeleteRememberedForDevice deleted %d, want %d", n, len(gone))
	}
	n, err = f.s.DeleteRememberedForDevice(f.ctx, acct.ID, "dev1")
	ok(f.t, "DeleteRememberedForDevice again", err)
	if n != 0 {
		f.t.Errorf("DeleteRememberedForDevice again deleted %d, want 0", n)
	}
	n, err = f.s.DeleteRememberedForDevice(f.ctx, f.id("acc"), "dev2")
	ok(f.t, "DeleteRememberedForDevice(unknown account)", err)
	if n != 0 {
		f.t.Errorf("DeleteRememberedForDevice(unknown account) deleted %d, want 0", n)
	}
	f.present("deleted for the device", false, gone...)
	f.present("other device, other account", true, kept...)
}

func testRememberedDeleteExcept(f *fixture) {
	exp := t0.Add(time.Hour)
	cases := []struct {
		name   string
		except string
		gone   []string // devices
		kept   []string
	}{
		{"all but one device", "dev2", []string{"dev1", "dev3", "dev3"}, []string{"dev2", "dev2"}},
		{"empty means all", "", []string{"dev1", "dev2", "dev3"}, nil},
		{"unknown device means all", "dev9", []string{"dev1", "dev2"}, nil},
		{"only the excepted device", "dev1", nil, []string{"dev1"}},
	}
	for _, tc := range cases {
		acct, other := f.account(), f.account()
		var gone, kept []store.Remembered
		for _, d := range tc.gone {
			gone = append(gone, f.remembered(acct, d, exp))
		}
		for _, d := range tc.kept {
			kept = append(kept, f.remembered(acct, d, exp))
		}
		kept = append(kept, f.remembered(other, "dev1", exp), f.remembered(other, "dev3", exp))

		n, err := f.s.DeleteRememberedExcept(f.ctx, acct.ID, tc.except)
		ok(f.t, tc.name, err)
		if n != len(gone) {
			f.t.Errorf("%s: DeleteRememberedExcept deleted %d, want %d", tc.name, n, len(gone))
		}
		f.present(fmt.Sprintf("%s: deleted", tc.name), false, gone...)
		f.present(fmt.Sprintf("%s: kept", tc.name), true, kept...)
	}
}
