package platform

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// storeUnderTest makes a fresh, empty store for one contract case.
type storeUnderTest struct {
	name string
	// open returns a new empty store; it may t.Skip.
	open func(t *testing.T) SecretStore
	// maxValue is the longest value the back end can hold (0: no limit
	// worth testing below 4 KiB).
	maxValue int
}

func contractStores() []storeUnderTest {
	return []storeUnderTest{
		{name: "Memory", open: func(*testing.T) SecretStore { return NewMemory() }},
		{name: "FileStore", open: func(t *testing.T) SecretStore {
			s, err := NewFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{name: "AppStorage(phones)", open: func(t *testing.T) SecretStore {
			s, err := OpenAppStorageSecretStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{name: "Keyring/fake", open: func(*testing.T) SecretStore {
			return newKeyring("io.sessionguard.test", NewMemoryPrefs(), newFakeBackend(), time.Second)
		}},
		{name: "Keyring/real", open: func(t *testing.T) SecretStore {
			return NewKeyring(realKeyringService(t), NewMemoryPrefs())
		}, maxValue: realKeyringMaxValue()},
	}
}

// realKeyringMaxValue is go-keyring's per-platform value limit.
func realKeyringMaxValue() int {
	switch runtime.GOOS {
	case "windows":
		return 2560
	case "darwin":
		return 2000
	}
	return 0
}

var oddKeys = []string{
	"refresh:acc_0123456789",
	"remembered:ana@example.com",
	"install:key", // app.SecretInstallKey
	"with space",
	"ünïcødé/キー/🔑",
	`back\slash/and/slash`,
	`quotes "double" 'single'`,
	"shell $(echo x) `y` ; | & * ?",
	"percent %s %d %%",
	"a",
	"a:b",
	strings.Repeat("k", MaxKeyLen),
}

// TestSecretStoreContract is the one behaviour every SecretStore shares.
func TestSecretStoreContract(t *testing.T) {
	for _, st := range contractStores() {
		t.Run(st.name, func(t *testing.T) {
			big := 4096
			if st.maxValue > 0 && st.maxValue < big {
				big = st.maxValue
			}
			values := []struct{ name, v string }{
				{"ascii", "rt_3kq9Zx-abc.DEF_123"},
				{"unicode", "sécret ✓ 秘密 🔐 \u00a0tab\tnewline\n"},
				{"4KiB", strings.Repeat("0123456789abcdeF", big/16)},
				{"4KiB unicode", strings.Repeat("é", big/2)},
				{"json-ish", `{"a":[1,2],"b":"\u0000"}`},
			}

			t.Run("absent", func(t *testing.T) {
				s := st.open(t)
				if _, err := s.Get("nothing-here"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get(absent) error = %v, want ErrNotFound", err)
				}
				if err := s.Delete("nothing-here"); err != nil {
					t.Fatalf("Delete(absent) = %v, want nil", err)
				}
				mustKeys(t, s)
				if err := s.DeleteAll(); err != nil {
					t.Fatalf("DeleteAll(empty) = %v", err)
				}
			})

			t.Run("values round-trip", func(t *testing.T) {
				s := st.open(t)
				for _, v := range values {
					if err := s.Set("v/"+v.name, v.v); err != nil {
						t.Fatalf("Set(%s) = %v", v.name, err)
					}
				}
				for _, v := range values {
					got, err := s.Get("v/" + v.name)
					if err != nil || got != v.v {
						t.Errorf("Get(%s) = %q (%d bytes), %v; want %d bytes", v.name, short(got), len(got), err, len(v.v))
					}
				}
			})

			t.Run("odd keys", func(t *testing.T) {
				s := st.open(t)
				for i, k := range oddKeys {
					if err := s.Set(k, "value "+k); err != nil {
						t.Fatalf("Set(%q) [%d] = %v", k, i, err)
					}
				}
				for _, k := range oddKeys {
					if got, err := s.Get(k); err != nil || got != "value "+k {
						t.Errorf("Get(%q) = %q, %v", k, got, err)
					}
				}
				mustKeys(t, s, oddKeys...)
			})

			t.Run("overwrite", func(t *testing.T) {
				s := st.open(t)
				for _, v := range []string{"first", "second", values[2].v, "third"} {
					if err := s.Set("k", v); err != nil {
						t.Fatal(err)
					}
					if got, err := s.Get("k"); err != nil || got != v {
						t.Fatalf("after Set(%q): Get = %q, %v", short(v), short(got), err)
					}
				}
				mustKeys(t, s, "k")
			})

			t.Run("delete", func(t *testing.T) {
				s := st.open(t)
				mustSet(t, s, "keep", "1")
				mustSet(t, s, "drop", "2")
				if err := s.Delete("drop"); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Get("drop"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get(deleted) error = %v, want ErrNotFound", err)
				}
				if err := s.Delete("drop"); err != nil {
					t.Fatalf("second Delete = %v, want nil", err)
				}
				if got, err := s.Get("keep"); err != nil || got != "1" {
					t.Fatalf("Get(keep) = %q, %v", got, err)
				}
				mustKeys(t, s, "keep")
			})

			t.Run("DeleteAll", func(t *testing.T) {
				s := st.open(t)
				for _, k := range oddKeys[:5] {
					mustSet(t, s, k, "x")
				}
				if err := s.DeleteAll(); err != nil {
					t.Fatalf("DeleteAll = %v", err)
				}
				for _, k := range oddKeys[:5] {
					if _, err := s.Get(k); !errors.Is(err, ErrNotFound) {
						t.Errorf("after DeleteAll Get(%q) error = %v, want ErrNotFound", k, err)
					}
				}
				mustKeys(t, s)
				// Still usable afterwards.
				mustSet(t, s, "again", "y")
				mustKeys(t, s, "again")
			})

			t.Run("invalid keys", func(t *testing.T) {
				s := st.open(t)
				for _, k := range []string{"", "line\nbreak", "nul\x00", "bad utf8 \xff", strings.Repeat("k", MaxKeyLen+1)} {
					if err := s.Set(k, "v"); !errors.Is(err, ErrInvalidKey) {
						t.Errorf("Set(%q) = %v, want ErrInvalidKey", k, err)
					}
					if _, err := s.Get(k); !errors.Is(err, ErrInvalidKey) {
						t.Errorf("Get(%q) = %v, want ErrInvalidKey", k, err)
					}
					if err := s.Delete(k); !errors.Is(err, ErrInvalidKey) {
						t.Errorf("Delete(%q) = %v, want ErrInvalidKey", k, err)
					}
				}
				mustKeys(t, s)
			})
		})
	}
}

func mustSet(t *testing.T, s SecretStore, k, v string) {
	t.Helper()
	if err := s.Set(k, v); err != nil {
		t.Fatalf("Set(%q) = %v", k, err)
	}
}

func mustKeys(t *testing.T, s SecretStore, want ...string) {
	t.Helper()
	got, err := s.Keys()
	if err != nil {
		t.Fatalf("Keys() = %v", err)
	}
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("Keys() = %q, want %q", got, want)
	}
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// keyringTestEnabled reports whether the real-keyring tests must run.
func keyringTestEnabled() bool { return os.Getenv("SESSIONGUARD_KEYRING_TEST") == "1" }

// requireRealKeyring skips unless SESSIONGUARD_KEYRING_TEST=1; when set, a
// keyring that does not work fails the test instead.
func requireRealKeyring(t *testing.T) {
	t.Helper()
	if !keyringTestEnabled() {
		t.Skip("real keyring tests are off: run `scripts/with-keyring.sh go test ./platform` (sets SESSIONGUARD_KEYRING_TEST=1 with an unlocked gnome-keyring on a private D-Bus)")
	}
	if err := realKeyringProbe(); err != nil {
		t.Fatalf("SESSIONGUARD_KEYRING_TEST=1 but the keyring does not work: %v", err)
	}
}

// realKeyringProbe checks the keyring once per test binary, with a timeout
// generous enough for a loaded CI machine (the app's own probe gives up
// after probeTimeout; TestRealKeyringProbeAndOpen covers that one).
var realKeyringProbe = sync.OnceValue(func() error {
	return probeKeyring(KeyringService+".test.probe", osKeyring{}, 30*time.Second)
})

// realKeyringService returns a service name unique to this test, so tests
// never touch the real app's items, and removes its items afterwards.
func realKeyringService(t *testing.T) string {
	t.Helper()
	requireRealKeyring(t)
	svc := KeyringService + ".test." + strings.NewReplacer("/", ".", " ", "_").Replace(t.Name()) + "." + time.Now().Format("150405.000000000")
	t.Cleanup(func() { _ = osKeyring{}.DeleteAll(svc) })
	return svc
}
